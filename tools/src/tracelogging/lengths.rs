//! [`validate`](super::validate) reduced to byte arithmetic for the common schemas: fields
//! of a fixed size, and fields that are a `u16` count and that many elements of a fixed
//! size (counted strings and binaries, variable arrays of numbers, custom fields), in
//! structs or not. A payload decodes by such a schema exactly when every count it reads
//! fits the bytes left: the value budget cannot stop it (see [`LengthCheck::fits`]).

use super::error::{MAX_VALUES, VALUES_BASE};
use super::schema::{FieldSchema, Schema, Shape};
use super::types::{InType, OutType, PointerSize};

/// One step of the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// This many bytes.
    Fixed(usize),
    /// A `u16` count, then that many elements of this many bytes.
    Counted(usize),
}

/// A schema's [`validate`](super::validate) for one pointer size, as steps over the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LengthCheck {
    steps: Vec<Step>,
}

impl LengthCheck {
    /// The check of `schema` for events of `ptr`, when its fields allow one (else `None`:
    /// [`validate`](super::validate) walks each payload).
    pub fn of(schema: &Schema, ptr: PointerSize) -> Option<LengthCheck> {
        let mut check = LengthCheck { steps: Vec::new() };
        let mut values = 0usize;
        check.add_fields(&schema.fields, ptr, &mut values)?;
        // The values known before reading counts stay under the budget of any payload.
        (values <= VALUES_BASE).then_some(check)
    }

    /// Whether `payload` decodes by the schema, as [`validate`](super::validate) would say;
    /// `None` for a payload too long for the budget argument (then ask `validate`).
    ///
    /// Values decoded: at most the [`VALUES_BASE`] known from the schema, plus one per counted
    /// element, each at least a byte of the payload; the budget is at least `VALUES_BASE` and
    /// one per byte up to [`MAX_VALUES`].
    #[inline]
    pub fn fits(&self, payload: &[u8]) -> Option<bool> {
        if payload.len() > MAX_VALUES - VALUES_BASE {
            return None;
        }
        let mut left = payload;
        for step in &self.steps {
            let n = match *step {
                Step::Fixed(n) => n,
                Step::Counted(size) => {
                    let Some((count, rest)) = left.split_first_chunk::<2>() else {
                        return Some(false);
                    };
                    left = rest;
                    usize::from(u16::from_le_bytes(*count)) * size
                }
            };
            match left.get(n..) {
                Some(rest) => left = rest,
                None => return Some(false),
            }
        }
        Some(true)
    }

    fn push(&mut self, step: Step) {
        match (self.steps.last_mut(), step) {
            (Some(Step::Fixed(a)), Step::Fixed(b)) => *a += b,
            _ => self.steps.push(step),
        }
    }

    fn add_fields(
        &mut self,
        fields: &[FieldSchema],
        ptr: PointerSize,
        values: &mut usize,
    ) -> Option<()> {
        *values += fields.len();
        for f in fields {
            self.add_field(f, ptr, values)?;
        }
        Some(())
    }

    fn add_field(&mut self, f: &FieldSchema, ptr: PointerSize, values: &mut usize) -> Option<()> {
        let fixed = f.in_type.fixed_size(ptr);
        match (&f.shape, fixed) {
            (Shape::Scalar, _) if f.in_type == InType::Struct => {
                self.add_fields(&f.members, ptr, values)?
            }
            (Shape::Scalar, Some(n)) => self.push(Step::Fixed(n)),
            (Shape::Scalar, None) if counted(f.in_type) => self.push(Step::Counted(1)),
            (Shape::ConstArray(count), Some(n)) => {
                let count = usize::from(*count);
                // Character arrays are one string value; other arrays a value per element.
                if !(f.out_type == OutType::String && chars(f.in_type)) {
                    *values += count;
                }
                self.push(Step::Fixed(count * n));
            }
            (Shape::VarArray, Some(n)) => self.push(Step::Counted(n)),
            (Shape::Custom(_), _) => self.push(Step::Counted(1)),
            _ => return None,
        }
        Some(())
    }
}

/// In-types stored as a `u16` byte count and the bytes.
fn counted(t: InType) -> bool {
    matches!(
        t,
        InType::Str8 | InType::Str16 | InType::Binary | InType::BinaryC
    )
}

/// In-types whose arrays with out-type String are strings.
fn chars(t: InType) -> bool {
    matches!(t, InType::I8 | InType::U8 | InType::U16)
}
