//! The Linux stand-in (`src/wdk_standin/`) against the wdk-sys bindings the glue compiled
//! against in the Windows build (`target/windows/bindings/`: wdk-sys 0.5.2's generated files
//! from mingw-w64's DDK headers, and the two hand-written sources of its crate root).
//!
//! Every `wdk::` item the glue (`src/glue/`, `src/wsk_abi.rs`, and the example driver's
//! `examples/subcomponent/src/driver.rs`) names must exist in both at the
//! same path (`wdk_sys::X` or `wdk_sys::ntddk::X`) and be the same item: a function with the
//! same ABI, parameter and return types and `#[must_use]`; a constant with the same type and
//! value; an enum module (bindgen's `ModuleConsts`) with the same representation and values;
//! a type that resolves to the same type. Types are compared after resolving aliases on each
//! side; structures and unions by layout: the same size and alignment, and every field the
//! stand-in declares at the same offset with the same type (found through bindgen's
//! `__bindgen_anon_N` members where C names it directly). A stand-in structure whose one field
//! is `_opaque` stands for storage only and is compared by size and alignment. Pointers
//! compare their mutability and what they point to by name.
//!
//! Sizes and offsets of the bindings come from bindgen's own layout assertions (what clang
//! computed from the headers); the stand-in's are computed here with C layout rules, and that
//! computation is itself checked against `size_of`/`offset_of!` of the compiled stand-in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use quote::ToTokens;
use syn::visit::Visit;

use crate::support::{build_output, repo};

// ---------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------

/// A C structure or union.
#[derive(Debug, Clone)]
struct Record {
    union: bool,
    fields: Vec<(String, syn::Type)>,
}

/// A function declaration.
#[derive(Debug, Clone, PartialEq)]
struct Function {
    abi: String,
    params: Vec<syn::Type>,
    ret: Option<syn::Type>,
    must_use: bool,
}

#[derive(Debug, Clone)]
enum Item {
    Function(Function),
    Alias(syn::Type),
    Record(Record),
    Const(syn::Type, syn::Expr),
    /// bindgen's `ModuleConsts` enum: `pub mod E { pub type Type = ..; pub const V: Type = ..; }`.
    EnumModule(BTreeMap<String, Item>),
}

/// The items of one module, by name.
type Scope = BTreeMap<String, Item>;

/// Layouts by type name: size, alignment, and field offsets.
#[derive(Debug, Clone, Default)]
struct Layout {
    size: u64,
    align: u64,
    offsets: BTreeMap<String, u64>,
}

/// One side of the comparison: its crate root, its `ntddk` module and its record layouts.
struct Side {
    name: &'static str,
    root: Scope,
    ntddk: Scope,
    layouts: BTreeMap<String, Layout>,
}

fn parse_file(path: &Path) -> syn::File {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|attr| attr.path().is_ident(name))
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn function(sig: &syn::Signature, abi: Option<&syn::Abi>, attrs: &[syn::Attribute]) -> Function {
    let abi = abi
        .and_then(|abi| abi.name.as_ref())
        .map_or_else(|| String::from("C"), |name| name.value());
    let params = sig
        .inputs
        .iter()
        .map(|input| match input {
            syn::FnArg::Typed(pat) => (*pat.ty).clone(),
            syn::FnArg::Receiver(_) => panic!("method in a binding: {}", sig.ident),
        })
        .collect();
    let ret = match &sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    Function {
        abi,
        params,
        ret,
        must_use: has_attr(attrs, "must_use"),
    }
}

fn record(fields: impl IntoIterator<Item = syn::Field>, union: bool) -> Record {
    Record {
        union,
        fields: fields
            .into_iter()
            .map(|field| (field.ident.expect("named field").to_string(), field.ty))
            .collect(),
    }
}

/// Adds the public items of `items` to `scope`: functions (free or in `extern` blocks), type
/// aliases, structures, unions, constants and enum modules. `into_modules` names the inline
/// modules whose items belong to the same scope (wdk-sys's `pub use kernel_mode::*`).
fn collect(items: &[syn::Item], scope: &mut Scope, into_modules: &[&str]) {
    for item in items {
        match item {
            syn::Item::Fn(f) if is_pub(&f.vis) => {
                let func = function(&f.sig, f.sig.abi.as_ref(), &f.attrs);
                scope.insert(f.sig.ident.to_string(), Item::Function(func));
            }
            syn::Item::ForeignMod(block) => {
                for foreign in &block.items {
                    if let syn::ForeignItem::Fn(f) = foreign {
                        let func = function(&f.sig, Some(&block.abi), &f.attrs);
                        scope.insert(f.sig.ident.to_string(), Item::Function(func));
                    }
                }
            }
            syn::Item::Type(t) if is_pub(&t.vis) => {
                scope.insert(t.ident.to_string(), Item::Alias((*t.ty).clone()));
            }
            syn::Item::Struct(s) if is_pub(&s.vis) => {
                let syn::Fields::Named(fields) = &s.fields else {
                    continue;
                };
                let rec = record(fields.named.iter().cloned(), false);
                scope.insert(s.ident.to_string(), Item::Record(rec));
            }
            syn::Item::Union(u) if is_pub(&u.vis) => {
                let rec = record(u.fields.named.iter().cloned(), true);
                scope.insert(u.ident.to_string(), Item::Record(rec));
            }
            syn::Item::Const(c) if is_pub(&c.vis) => {
                let value = Item::Const((*c.ty).clone(), (*c.expr).clone());
                scope.insert(c.ident.to_string(), value);
            }
            // The stand-in's `opaque! { NAME; .. }` and `storage! { NAME = WORDS; .. }`.
            syn::Item::Macro(m)
                if m.mac.path.is_ident("opaque") || m.mac.path.is_ident("storage") =>
            {
                let declared = m
                    .mac
                    .parse_body_with(opaque_declarations)
                    .expect("opaque!/storage!");
                for (name, words) in declared {
                    let ty = match words {
                        Some(words) => syn::parse_quote!([u64; #words]),
                        None => syn::parse_quote!([u8; 0]),
                    };
                    let record = Record {
                        union: false,
                        fields: vec![(String::from("_opaque"), ty)],
                    };
                    scope.insert(name, Item::Record(record));
                }
            }
            // bindgen's `pub use self::_E::Type as E;` for an enum's typedef.
            syn::Item::Use(u) if is_pub(&u.vis) => {
                let (mut tree, mut path) = (&u.tree, Vec::new());
                while let syn::UseTree::Path(p) = tree {
                    if p.ident != "self" {
                        path.push(p.ident.to_string());
                    }
                    tree = &p.tree;
                }
                if let syn::UseTree::Rename(rename) = tree {
                    path.push(rename.ident.to_string());
                    let ty = syn::parse_str(&path.join("::")).expect("a type path");
                    scope.insert(rename.rename.to_string(), Item::Alias(ty));
                }
            }
            syn::Item::Mod(m) => {
                let Some((_, content)) = &m.content else {
                    continue;
                };
                let name = m.ident.to_string();
                if into_modules.contains(&name.as_str()) {
                    collect(content, scope, into_modules);
                } else if is_pub(&m.vis) {
                    let mut members = Scope::new();
                    collect(content, &mut members, &[]);
                    if members.contains_key("Type") {
                        scope.insert(name, Item::EnumModule(members));
                    }
                }
            }
            _ => {}
        }
    }
}

/// The body of the stand-in's `opaque!`/`storage!`: `#[doc] NAME;` or `#[doc] NAME = WORDS;`.
fn opaque_declarations(
    input: syn::parse::ParseStream<'_>,
) -> syn::Result<Vec<(String, Option<syn::LitInt>)>> {
    let mut declared = Vec::new();
    while !input.is_empty() {
        input.call(syn::Attribute::parse_outer)?;
        let name: syn::Ident = input.parse()?;
        let words = if input.peek(syn::Token![=]) {
            input.parse::<syn::Token![=]>()?;
            Some(input.parse::<syn::LitInt>()?)
        } else {
            None
        };
        input.parse::<syn::Token![;]>()?;
        declared.push((name.to_string(), words));
    }
    Ok(declared)
}

fn scope_of(files: &[&Path], into_modules: &[&str]) -> Scope {
    let mut scope = Scope::new();
    for file in files {
        collect(&parse_file(file).items, &mut scope, into_modules);
    }
    scope
}

/// bindgen's layout assertions: `["Size of X"][size_of::<X>() - Nusize]`, the same for
/// `Alignment of X` and `Offset of field: X::f` (the label may sit on a line of its own).
fn bindgen_layouts(text: &str) -> BTreeMap<String, Layout> {
    let mut layouts: BTreeMap<String, Layout> = BTreeMap::new();
    let mut rest = text;
    while let Some(start) = rest.find("\"") {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('"') else { break };
        let label = &rest[..end];
        rest = &rest[end + 1..];
        let kind = ["Size of ", "Alignment of ", "Offset of field: "]
            .into_iter()
            .find(|prefix| label.starts_with(prefix));
        let Some(kind) = kind else { continue };
        let value = rest
            .find(" - ")
            .map(|at| &rest[at + 3..])
            .and_then(|tail| tail.split("usize").next())
            .and_then(|digits| digits.trim().parse::<u64>().ok());
        let (Some(value), name) = (value, &label[kind.len()..]) else {
            continue;
        };
        match kind {
            "Size of " => layouts.entry(name.to_string()).or_default().size = value,
            "Alignment of " => layouts.entry(name.to_string()).or_default().align = value,
            _ => {
                if let Some((name, field)) = name.split_once("::") {
                    let layout = layouts.entry(name.to_string()).or_default();
                    layout.offsets.insert(field.to_string(), value);
                }
            }
        }
    }
    layouts
}

/// wdk-sys as the glue sees it on Windows. Its crate root is `pub use crate::{constants::*,
/// types::*}` plus the items of `lib.rs`; `constants` holds the generated constants, the
/// hand-written `STATUS_*` values and the `kernel_mode` pool flags; `ntddk` the generated
/// functions. The test checks `lib.rs` still says so.
fn bindings(dir: &Path) -> Side {
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("wdk-sys lib.rs");
    for declaration in ["pub use crate::{constants::*, types::*};", "pub mod ntddk;"] {
        assert!(
            lib.contains(declaration),
            "wdk-sys's lib.rs no longer declares `{declaration}`: update this test"
        );
    }
    let root = scope_of(
        &[
            &dir.join("src/lib.rs"),
            &dir.join("src/constants.rs"),
            &dir.join("out/constants.rs"),
            &dir.join("out/types.rs"),
        ],
        &["kernel_mode"],
    );
    let ntddk = scope_of(&[&dir.join("out/ntddk.rs")], &[]);
    let types = std::fs::read_to_string(dir.join("out/types.rs")).expect("types.rs");
    Side {
        name: "wdk-sys",
        root,
        ntddk,
        layouts: bindgen_layouts(&types),
    }
}

fn standin() -> Side {
    let dir = repo().join("src/wdk_standin");
    let mut side = Side {
        name: "stand-in",
        root: scope_of(&[&dir.join("mod.rs")], &[]),
        ntddk: scope_of(&[&dir.join("ntddk.rs")], &[]),
        layouts: BTreeMap::new(),
    };
    let names: Vec<String> = side
        .root
        .iter()
        .filter(|(_, item)| matches!(item, Item::Record(_)))
        .map(|(name, _)| name.clone())
        .collect();
    for name in names {
        let layout = c_layout(&side, &name);
        side.layouts.insert(name, layout);
    }
    side
}

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/// A type with its aliases resolved.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    /// An integer (signedness, bytes) or `c_void` (`Int(false, 0)`).
    Int(bool, u64),
    Ptr(bool, Box<Ty>),
    Array(Box<Ty>, u64),
    /// `Option<unsafe extern fn>`.
    Fn(Box<Function>),
    /// A structure or union, by name.
    Record(String),
    /// The unit return type.
    Unit,
}

/// Windows (LLP64) widths of the C types bindgen and the stand-in name.
fn primitive(name: &str) -> Option<Ty> {
    Some(match name {
        "u8" | "c_uchar" => Ty::Int(false, 1),
        "i8" | "c_char" | "c_schar" => Ty::Int(true, 1),
        "u16" | "c_ushort" => Ty::Int(false, 2),
        "i16" | "c_short" => Ty::Int(true, 2),
        "u32" | "c_uint" | "c_ulong" => Ty::Int(false, 4),
        // The stand-in's dispatcher headers are waited on by host threads: an atomic `LONG`.
        "i32" | "c_int" | "c_long" | "AtomicI32" => Ty::Int(true, 4),
        "u64" | "c_ulonglong" | "usize" => Ty::Int(false, 8),
        "i64" | "c_longlong" | "isize" => Ty::Int(true, 8),
        "c_void" => Ty::Int(false, 0),
        _ => return None,
    })
}

fn int_value(expr: &syn::Expr) -> Option<i128> {
    match expr {
        syn::Expr::Lit(lit) => match &lit.lit {
            syn::Lit::Int(int) => int.base10_parse::<i128>().ok(),
            _ => None,
        },
        syn::Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            int_value(&unary.expr).map(|v| -v)
        }
        syn::Expr::Paren(paren) => int_value(&paren.expr),
        syn::Expr::Cast(cast) => {
            let value = int_value(&cast.expr)?;
            let syn::Type::Path(path) = &*cast.ty else {
                return None;
            };
            let last = path.path.segments.last()?.ident.to_string();
            let Some(Ty::Int(signed, bytes)) = primitive(&last) else {
                return Some(value);
            };
            let bits = bytes * 8;
            let wrapped = value.rem_euclid(1i128 << bits);
            Some(if signed && wrapped >= 1i128 << (bits - 1) {
                wrapped - (1i128 << bits)
            } else {
                wrapped
            })
        }
        _ => None,
    }
}

impl Side {
    fn lookup(&self, name: &str) -> Option<&Item> {
        self.root.get(name)
    }

    /// `ty` with its aliases resolved.
    fn resolve(&self, ty: &syn::Type) -> Ty {
        match ty {
            syn::Type::Ptr(ptr) => {
                Ty::Ptr(ptr.mutability.is_some(), Box::new(self.resolve(&ptr.elem)))
            }
            syn::Type::Array(array) => {
                let len = int_value(&array.len).expect("array length") as u64;
                Ty::Array(Box::new(self.resolve(&array.elem)), len)
            }
            syn::Type::Tuple(tuple) if tuple.elems.is_empty() => Ty::Unit,
            syn::Type::Paren(paren) => self.resolve(&paren.elem),
            syn::Type::Path(path) => self.resolve_path(&path.path),
            other => panic!("{}: unexpected type {}", self.name, other.to_token_stream()),
        }
    }

    fn resolve_path(&self, path: &syn::Path) -> Ty {
        let segments: Vec<&syn::PathSegment> = path.segments.iter().collect();
        let last = segments.last().expect("a path");
        let name = last.ident.to_string();
        if name == "Option" {
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                panic!("{}: Option without argument", self.name);
            };
            let Some(syn::GenericArgument::Type(syn::Type::BareFn(f))) = args.args.first() else {
                panic!("{}: Option of something else than a function", self.name);
            };
            return Ty::Fn(Box::new(self.bare_fn(f)));
        }
        if let Some(prim) = primitive(&name) {
            return prim;
        }
        // `E::Type` of an enum module.
        if segments.len() >= 2 && name == "Type" {
            let module = segments[segments.len() - 2].ident.to_string();
            if let Some(Item::EnumModule(members)) = self.lookup(&module) {
                if let Some(Item::Alias(ty)) = members.get("Type") {
                    return self.resolve(ty);
                }
            }
        }
        match self.lookup(&name) {
            Some(Item::Alias(ty)) => self.resolve(ty),
            Some(Item::Record(_)) => Ty::Record(name),
            other => panic!("{}: type `{name}` is {other:?}", self.name),
        }
    }

    fn bare_fn(&self, f: &syn::TypeBareFn) -> Function {
        Function {
            abi: f
                .abi
                .as_ref()
                .and_then(|abi| abi.name.as_ref())
                .map_or_else(|| String::from("C"), |name| name.value()),
            params: f.inputs.iter().map(|arg| arg.ty.clone()).collect(),
            ret: match &f.output {
                syn::ReturnType::Default => None,
                syn::ReturnType::Type(_, ty) => Some((**ty).clone()),
            },
            must_use: false,
        }
    }

    /// A record the stand-in declares as storage only (one `_opaque` field).
    fn is_opaque(&self, name: &str) -> bool {
        let fields = &self.record(name).fields;
        fields.len() == 1 && fields[0].0 == "_opaque"
    }

    fn record(&self, name: &str) -> &Record {
        match self.lookup(name) {
            Some(Item::Record(record)) => record,
            other => panic!("{}: `{name}` is not a record: {other:?}", self.name),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The stand-in's layouts (C rules), checked against the compiled stand-in
// ---------------------------------------------------------------------------------------------

fn size_align(side: &Side, ty: &Ty) -> (u64, u64) {
    match ty {
        Ty::Int(_, bytes) => (*bytes, (*bytes).max(1)),
        Ty::Ptr(..) | Ty::Fn(_) => (8, 8),
        Ty::Array(elem, len) => {
            let (size, align) = size_align(side, elem);
            (size * len, align)
        }
        Ty::Record(name) => match side.layouts.get(name) {
            Some(layout) => (layout.size, layout.align),
            None => {
                let layout = c_layout(side, name);
                (layout.size, layout.align)
            }
        },
        Ty::Unit => (0, 1),
    }
}

/// `#[repr(C)]` layout of the stand-in's record `name`.
fn c_layout(side: &Side, name: &str) -> Layout {
    let record = side.record(name).clone();
    let mut layout = Layout {
        size: 0,
        align: 1,
        offsets: BTreeMap::new(),
    };
    for (field, ty) in &record.fields {
        let (size, align) = size_align(side, &side.resolve(ty));
        let offset = if record.union {
            0
        } else {
            layout.size.div_ceil(align) * align
        };
        layout.offsets.insert(field.clone(), offset);
        layout.size = if record.union {
            layout.size.max(size)
        } else {
            offset + size
        };
        layout.align = layout.align.max(align);
    }
    layout.size = layout.size.div_ceil(layout.align) * layout.align;
    layout
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

struct Compare<'a> {
    standin: &'a Side,
    bindings: &'a Side,
    differences: Vec<String>,
    /// Records already compared (by both names), so recursion ends.
    seen: BTreeSet<(String, String)>,
}

impl Compare<'_> {
    fn differ(&mut self, what: String) {
        self.differences.push(what);
    }

    fn item(&mut self, path: &str, ours: &Item, theirs: &Item) {
        match (ours, theirs) {
            (Item::Function(a), Item::Function(b)) => self.function(path, a, b),
            (Item::Const(ta, va), Item::Const(tb, vb)) => {
                self.ty(path, &self.standin.resolve(ta), &self.bindings.resolve(tb));
                let (a, b) = (int_value(va), int_value(vb));
                if a.is_none() || a != b {
                    self.differ(format!("{path}: value {a:?}, wdk-sys {b:?}"));
                }
            }
            (Item::EnumModule(a), Item::EnumModule(b)) => {
                for (member, ours) in a {
                    let at = format!("{path}::{member}");
                    match (ours, b.get(member)) {
                        // Members are typed `Type`, the module's own alias.
                        (Item::Const(_, va), Some(Item::Const(_, vb))) => {
                            let (a, b) = (int_value(va), int_value(vb));
                            if a.is_none() || a != b {
                                self.differ(format!("{at}: value {a:?}, wdk-sys {b:?}"));
                            }
                        }
                        (Item::Alias(ta), Some(Item::Alias(tb))) => {
                            let (ra, rb) = (self.standin.resolve(ta), self.bindings.resolve(tb));
                            self.ty(&at, &ra, &rb);
                        }
                        (_, None) => self.differ(format!("{at}: not in wdk-sys")),
                        _ => self.differ(format!("{at}: a different kind of item")),
                    }
                }
            }
            (Item::Alias(_) | Item::Record(_), Item::Alias(_) | Item::Record(_)) => {
                let name = path.rsplit("::").next().unwrap_or(path);
                let a = self
                    .standin
                    .resolve_path(&syn::parse_str(name).expect("a name"));
                let b = self
                    .bindings
                    .resolve_path(&syn::parse_str(name).expect("a name"));
                self.ty(path, &a, &b);
            }
            _ => self.differ(format!("{path}: a different kind of item")),
        }
    }

    fn function(&mut self, path: &str, a: &Function, b: &Function) {
        if a.abi != b.abi {
            self.differ(format!("{path}: ABI {:?}, wdk-sys {:?}", a.abi, b.abi));
        }
        if a.must_use != b.must_use {
            self.differ(format!(
                "{path}: #[must_use] {}, wdk-sys {}",
                a.must_use, b.must_use
            ));
        }
        if a.params.len() != b.params.len() {
            self.differ(format!(
                "{path}: {} parameters, wdk-sys {}",
                a.params.len(),
                b.params.len()
            ));
            return;
        }
        for (index, (pa, pb)) in a.params.iter().zip(&b.params).enumerate() {
            let (ra, rb) = (self.standin.resolve(pa), self.bindings.resolve(pb));
            self.ty(&format!("{path} parameter {index}"), &ra, &rb);
        }
        let resolve =
            |side: &Side, ty: &Option<syn::Type>| ty.as_ref().map_or(Ty::Unit, |t| side.resolve(t));
        let (ra, rb) = (
            resolve(self.standin, &a.ret),
            resolve(self.bindings, &b.ret),
        );
        self.ty(&format!("{path} return"), &ra, &rb);
    }

    fn ty(&mut self, path: &str, a: &Ty, b: &Ty) {
        match (a, b) {
            (Ty::Ptr(ma, ea), Ty::Ptr(mb, eb)) => {
                if ma != mb {
                    self.differ(format!(
                        "{path}: *{} pointer, wdk-sys *{}",
                        mutability(*ma),
                        mutability(*mb)
                    ));
                }
                match (&**ea, &**eb) {
                    // A structure the stand-in models behind a pointer must be laid out as in
                    // wdk-sys; one it declares opaque is compared by name only.
                    (Ty::Record(na), Ty::Record(nb)) if na == nb => {
                        if !self.standin.is_opaque(na) {
                            self.records(&format!("*{path}"), na, nb);
                        }
                    }
                    _ if ea == eb => {}
                    _ => self.differ(format!("{path}: points to {ea:?}, wdk-sys to {eb:?}")),
                }
            }
            (Ty::Array(ea, la), Ty::Array(eb, lb)) => {
                if la != lb {
                    self.differ(format!("{path}: array of {la}, wdk-sys {lb}"));
                }
                self.ty(&format!("{path}[]"), ea, eb);
            }
            (Ty::Fn(fa), Ty::Fn(fb)) => self.function(path, fa, fb),
            (Ty::Record(na), Ty::Record(nb)) => self.records(path, na, nb),
            _ if a == b => {}
            _ => self.differ(format!("{path}: {a:?}, wdk-sys {b:?}")),
        }
    }

    fn records(&mut self, path: &str, ours: &str, theirs: &str) {
        let anonymous = |name: &str| name.contains("__bindgen_ty_");
        if !anonymous(ours) && !anonymous(theirs) && ours != theirs {
            self.differ(format!("{path}: {ours}, wdk-sys {theirs}"));
            return;
        }
        if !self.seen.insert((ours.to_string(), theirs.to_string())) {
            return;
        }
        let (Some(la), Some(lb)) = (
            self.standin.layouts.get(ours).cloned(),
            self.bindings.layouts.get(theirs).cloned(),
        ) else {
            self.differ(format!("{path}: no layout for {ours} / {theirs}"));
            return;
        };
        if (la.size, la.align) != (lb.size, lb.align) {
            self.differ(format!(
                "{path}: {ours} is {} bytes (align {}), wdk-sys {theirs} {} (align {})",
                la.size, la.align, lb.size, lb.align
            ));
        }
        let record = self.standin.record(ours).clone();
        if self.standin.is_opaque(ours) {
            return;
        }
        for (field, ty) in &record.fields {
            let at = format!("{path}.{field}");
            let Some((offset, their_ty)) = self.find_field(theirs, field, 0) else {
                self.differ(format!("{at}: no field `{field}` in wdk-sys {theirs}"));
                continue;
            };
            if la.offsets[field] != offset {
                self.differ(format!(
                    "{at}: offset {}, wdk-sys {offset}",
                    la.offsets[field]
                ));
            }
            let ours = self.standin.resolve(ty);
            self.ty(&at, &ours, &their_ty);
        }
    }

    /// The field offsets of wdk-sys record `name`: bindgen asserts those of named fields; an
    /// anonymous member's follows from C layout rules after the field before it.
    fn bindings_offsets(&self, name: &str) -> Option<BTreeMap<String, u64>> {
        let record = self.bindings.record(name);
        let asserted = &self.bindings.layouts.get(name)?.offsets;
        let mut offsets = BTreeMap::new();
        let mut end = 0u64;
        for (member, ty) in &record.fields {
            let (size, align) = size_align(self.bindings, &self.bindings.resolve(ty));
            let offset = match (record.union, asserted.get(member)) {
                (true, _) => 0,
                (false, Some(offset)) => *offset,
                (false, None) => end.div_ceil(align.max(1)) * align.max(1),
            };
            end = offset + size;
            offsets.insert(member.clone(), offset);
        }
        Some(offsets)
    }

    /// Field `field` of wdk-sys record `name`: its offset (from `base`) and type, looking
    /// through anonymous members as C does.
    fn find_field(&self, name: &str, field: &str, base: u64) -> Option<(u64, Ty)> {
        let record = self.bindings.record(name);
        let offsets = self.bindings_offsets(name)?;
        let offset_of = |member: &str| base + offsets[member];
        if let Some((member, ty)) = record.fields.iter().find(|(member, _)| member == field) {
            return Some((offset_of(member), self.bindings.resolve(ty)));
        }
        for (member, ty) in &record.fields {
            let offset = offset_of(member);
            if member.starts_with("__bindgen_anon_") {
                if let Ty::Record(inner) = self.bindings.resolve(ty) {
                    if let Some(found) = self.find_field(&inner, field, offset) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }
}

fn mutability(mutable: bool) -> &'static str {
    if mutable {
        "mut"
    } else {
        "const"
    }
}

// ---------------------------------------------------------------------------------------------
// What the glue uses
// ---------------------------------------------------------------------------------------------

/// The `wdk::` items the glue names: `(in ntddk, name)`, and the enum-module members it uses.
#[derive(Default)]
struct Uses {
    items: BTreeSet<(bool, String)>,
    members: BTreeSet<(String, String)>,
}

impl<'ast> Visit<'ast> for Uses {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        fn walk(tree: &syn::UseTree, prefix: &mut Vec<String>, uses: &mut Uses) {
            match tree {
                syn::UseTree::Path(path) => {
                    prefix.push(path.ident.to_string());
                    walk(&path.tree, prefix, uses);
                    prefix.pop();
                }
                syn::UseTree::Group(group) => {
                    for tree in &group.items {
                        walk(tree, prefix, uses);
                    }
                }
                syn::UseTree::Name(name) => uses.record(prefix, &name.ident.to_string()),
                syn::UseTree::Rename(rename) => uses.record(prefix, &rename.ident.to_string()),
                syn::UseTree::Glob(_) => {
                    if prefix.first().map(String::as_str) == Some("wdk") {
                        panic!("glob import from wdk: name the items");
                    }
                }
            }
        }
        walk(&item.tree, &mut Vec::new(), self);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() >= 2 && segments[0] == "wdk" {
            self.record(
                &segments[..segments.len() - 1],
                &segments[segments.len() - 1],
            );
        } else if segments.len() == 2 {
            self.members
                .insert((segments[0].clone(), segments[1].clone()));
        }
        syn::visit::visit_path(self, path);
    }
}

impl Uses {
    fn record(&mut self, prefix: &[String], name: &str) {
        match prefix {
            [wdk] if wdk == "wdk" => {
                self.items.insert((false, name.to_string()));
            }
            [wdk, ntddk] if wdk == "wdk" && ntddk == "ntddk" => {
                self.items.insert((true, name.to_string()));
            }
            // `use super::wdk;` and the platform alias itself.
            [] | [_] => {}
            _ if prefix.first().map(String::as_str) == Some("wdk") => {
                panic!("unexpected wdk path {prefix:?}::{name}")
            }
            _ => {}
        }
    }
}

fn glue_uses() -> Uses {
    let mut uses = Uses::default();
    let glue = repo().join("src/glue");
    let mut files: Vec<_> = std::fs::read_dir(&glue)
        .expect("src/glue")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter(|path| path.file_name().is_some_and(|name| name != "tests.rs"))
        .collect();
    files.push(repo().join("src/wsk_abi.rs"));
    // The example driver that embeds the crate has glue of its own.
    files.push(repo().join("examples/subcomponent/src/driver.rs"));
    for file in files {
        uses.visit_file(&parse_file(&file));
    }
    uses
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn standin_matches_the_bindings_for_every_item_the_glue_uses() {
    let Some(dir) = build_output("bindings") else {
        return;
    };
    let (theirs, ours) = (bindings(&dir), standin());
    let uses = glue_uses();
    assert!(uses.items.len() > 30, "found only {:?}", uses.items);
    let mut compare = Compare {
        standin: &ours,
        bindings: &theirs,
        differences: Vec::new(),
        seen: BTreeSet::new(),
    };
    for (in_ntddk, name) in &uses.items {
        let (path, a, b) = if *in_ntddk {
            (
                format!("ntddk::{name}"),
                ours.ntddk.get(name),
                theirs.ntddk.get(name),
            )
        } else {
            (name.clone(), ours.root.get(name), theirs.root.get(name))
        };
        match (a, b) {
            (Some(a), Some(b)) => {
                let a = match a {
                    // The glue uses only some members of an enum module: compare those.
                    Item::EnumModule(members) => Item::EnumModule(
                        members
                            .iter()
                            .filter(|(m, _)| {
                                *m == "Type" || uses.members.contains(&(name.clone(), (*m).clone()))
                            })
                            .map(|(m, i)| (m.clone(), i.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                };
                compare.item(&path, &a, b);
            }
            (None, _) => compare.differ(format!("{path}: not in the stand-in")),
            (_, None) => compare.differ(format!("{path}: not in wdk-sys (at this path)")),
        }
    }
    assert!(
        compare.differences.is_empty(),
        "the stand-in differs from wdk-sys:\n  {}",
        compare.differences.join("\n  ")
    );
}

#[test]
fn layout_rules_agree_with_the_compiled_standin() {
    use core::mem::{align_of, offset_of, size_of};
    use wsktrace_driver::wdk_standin as s;
    let side = standin();
    let check = |name: &str, size: usize, align: usize, offsets: &[(&str, usize)]| {
        let layout = &side.layouts[name];
        assert_eq!(
            (layout.size, layout.align),
            (size as u64, align as u64),
            "{name}"
        );
        for (field, offset) in offsets {
            assert_eq!(layout.offsets[*field], *offset as u64, "{name}.{field}");
        }
    };
    check(
        "_IRP",
        size_of::<s::_IRP>(),
        align_of::<s::_IRP>(),
        &[
            ("IoStatus", offset_of!(s::_IRP, IoStatus)),
            ("Tail", offset_of!(s::_IRP, Tail)),
        ],
    );
    check(
        "_IO_STACK_LOCATION",
        size_of::<s::_IO_STACK_LOCATION>(),
        align_of::<s::_IO_STACK_LOCATION>(),
        &[(
            "CompletionRoutine",
            offset_of!(s::_IO_STACK_LOCATION, CompletionRoutine),
        )],
    );
    check(
        "_OBJECT_ATTRIBUTES",
        size_of::<s::_OBJECT_ATTRIBUTES>(),
        align_of::<s::_OBJECT_ATTRIBUTES>(),
        &[("ObjectName", offset_of!(s::_OBJECT_ATTRIBUTES, ObjectName))],
    );
    check(
        "_KEVENT",
        size_of::<s::_KEVENT>(),
        align_of::<s::_KEVENT>(),
        &[("Header", offset_of!(s::_KEVENT, Header))],
    );
    check(
        "_DRIVER_OBJECT",
        size_of::<s::_DRIVER_OBJECT>(),
        align_of::<s::_DRIVER_OBJECT>(),
        &[("DriverUnload", offset_of!(s::_DRIVER_OBJECT, DriverUnload))],
    );
}

#[test]
fn bindgen_layout_assertions_are_read() {
    let text = r#"const _: () = {
        ["Size of _X"][::core::mem::size_of::<_X>() - 16usize];
        ["Alignment of _X"][::core::mem::align_of::<_X>() - 8usize];
        [
            "Offset of field: _X::b",
        ][::core::mem::offset_of!(_X, b) - 8usize];
    };"#;
    let layouts = bindgen_layouts(text);
    let x = &layouts["_X"];
    assert_eq!((x.size, x.align, x.offsets["b"]), (16, 8, 8));
}
