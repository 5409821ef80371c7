//! The event contract of the `Wsktrace.WskClient` TraceLogging provider, defined once.
//!
//! The single `wsk_schema!` invocation at the bottom of this file lists every event: its
//! Rust variant, ETW event name, opcode, keywords and fields (Rust name, field kind, ETW field
//! name). From that one list the macro generates:
//!
//! - [`DESCRIPTORS`]: plain `const` data (name, opcode, level, keywords, field names with their
//!   TraceLogging in/out types) that the tools use to build TraceLogging metadata and to decode;
//! - [`WskEvent`]: the typed view (owned values, `no_std` + `alloc`) that the host recorder
//!   stores and the tools decode the provider's events into ([`WskEvent::decode`]);
//! - [`WskEvent::write_etw`]: one `tracelogging::write_event!` call per event, compiled on
//!   every target (the `tracelogging` crate's non-Windows arm is a no-op, and on Windows the
//!   driver enables its `kernel_mode` feature, so the calls go to `EtwWriteTransfer`);
//! - [`TLG_EVENT_TEXT`]: the text of the exact options each `write_event!` call is given,
//!   which the drift test parses and compares with [`DESCRIPTORS`].
//!
//! Every event is level 4 (informational); failures show in their `Status` field.
#![forbid(unsafe_code)]

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::ntstatus::NtStatus;

pub use tracelogging::Guid;

/// The provider's name. Its GUID is the ETW name hash of this name ([`PROVIDER_GUID`]).
pub const PROVIDER_NAME: &str = "Wsktrace.WskClient";

/// `{d5fe2198-3720-5858-7a56-9f07493700bb}`: the ETW (EventSource/TraceLogging) name hash of
/// [`PROVIDER_NAME`]; a test checks it against an independent SHA-1 computation and against the
/// id `tracelogging::define_provider!` derives from the name.
pub const PROVIDER_GUID: Guid = Guid::from_fields(
    0xd5fe_2198,
    0x3720,
    0x5858,
    [0x7a, 0x56, 0x9f, 0x07, 0x49, 0x37, 0x00, 0xbb],
);

/// [`PROVIDER_GUID`] as text, the way `.wprp` profiles and `tracelog -guid` spell it.
pub const PROVIDER_GUID_STR: &str = "d5fe2198-3720-5858-7a56-9f07493700bb";

/// The event level of every event of this provider (`TRACE_LEVEL_INFORMATION`).
pub const LEVEL: u8 = 4;

/// Keyword bits.
pub mod keywords {
    /// Lifecycle transitions: DriverEntry, register, capture, query, release, deregister,
    /// unload. Everything the balance check needs.
    pub const LIFECYCLE: u64 = 0x1;
    /// Capture waits (the `CaptureProviderNpi` start/stop pair also carries this bit).
    pub const LATENCY: u64 = 0x2;
    /// Provider dispatch calls (`WskSocket`, `WskControlClient`, ...).
    pub const DISPATCH: u64 = 0x4;
    /// Socket transitions: created, bound, each accept, each close. Everything the socket
    /// rules of the balance check need (with [`LIFECYCLE`]).
    pub const SOCKET: u64 = 0x8;
}

/// `SocketKind` values: what a socket is for.
pub mod socket_kind {
    /// A listening socket (`WSK_FLAG_LISTEN_SOCKET`), created with `WskSocket`.
    pub const LISTEN: u8 = 0;
    /// A connection socket a `WskAccept` on a listening socket returned.
    pub const ACCEPTED: u8 = 1;
}

/// The borrowed form the driver writes (its text fields are `&str`).
pub type WskEventRef<'a> = WskEvent<&'a str>;

/// ETW opcodes used by this provider (same values as `tracelogging::Opcode`).
pub mod opcode {
    /// `WINEVENT_OPCODE_INFO`.
    pub const INFO: u8 = 0;
    /// `WINEVENT_OPCODE_START`: begins an activity; its Stop shares the activity id.
    pub const START: u8 = 1;
    /// `WINEVENT_OPCODE_STOP`.
    pub const STOP: u8 = 2;
}

/// The kinds of field values the schema uses. Each maps to one TraceLogging in/out type pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// UTF-8 counted string (`str8`: `TlgInCOUNTEDANSISTRING` + `TlgOutUTF8`). Rust: `String`.
    Str,
    /// `u8`, decimal.
    U8,
    /// `u16` shown in hex (`MAKE_WSK_VERSION` values).
    U16Hex,
    /// `u32`, decimal.
    U32,
    /// `u64`, decimal (nanoseconds).
    U64,
    /// `NTSTATUS` (`TlgInUINT32` + `TlgOutNTSTATUS`). Rust: [`NtStatus`].
    Status,
    /// Boolean in one byte (`bool8`: `TlgInUINT8` + `TlgOutBOOLEAN`). Rust: `bool`.
    Bool,
}

impl FieldKind {
    /// The TraceLogging in-type byte (`tracelogging::InType`).
    pub const fn in_type(self) -> u8 {
        match self {
            FieldKind::Str => tracelogging::InType::Str8.as_int(),
            FieldKind::U8 | FieldKind::Bool => tracelogging::InType::U8.as_int(),
            FieldKind::U16Hex => tracelogging::InType::U16.as_int(),
            FieldKind::U32 | FieldKind::Status => tracelogging::InType::U32.as_int(),
            FieldKind::U64 => tracelogging::InType::U64.as_int(),
        }
    }

    /// The TraceLogging out-type byte (`tracelogging::OutType`); 0 = default for the in-type.
    pub const fn out_type(self) -> u8 {
        match self {
            FieldKind::Str => tracelogging::OutType::Utf8.as_int(),
            FieldKind::U8 | FieldKind::U32 | FieldKind::U64 => {
                tracelogging::OutType::Default.as_int()
            }
            FieldKind::U16Hex => tracelogging::OutType::Hex.as_int(),
            FieldKind::Status => tracelogging::OutType::NtStatus.as_int(),
            FieldKind::Bool => tracelogging::OutType::Boolean.as_int(),
        }
    }
}

/// One field of an event, as plain data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDescriptor {
    /// The ETW field name (`RegistrationId`, ...).
    pub name: &'static str,
    /// Its kind (and so its TraceLogging in/out types).
    pub kind: FieldKind,
}

impl FieldDescriptor {
    /// TraceLogging in-type byte.
    pub const fn in_type(&self) -> u8 {
        self.kind.in_type()
    }
    /// TraceLogging out-type byte.
    pub const fn out_type(&self) -> u8 {
        self.kind.out_type()
    }
}

/// One event of the provider, as plain data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventDescriptor {
    /// Which event: the [`WskEvent`] variant, without its fields.
    pub kind: EventKind,
    /// The [`WskEvent`] variant name (`CaptureProviderNpiStart`).
    pub variant: &'static str,
    /// The ETW event name (`CaptureProviderNpi`); Start/Stop pairs share it.
    pub name: &'static str,
    /// ETW opcode ([`opcode`]).
    pub opcode: u8,
    /// ETW level ([`LEVEL`]).
    pub level: u8,
    /// Keyword bits ([`keywords`]).
    pub keywords: u64,
    /// Fields in payload order.
    pub fields: &'static [FieldDescriptor],
}

/// A decoded (or to-be-encoded) field value, by TraceLogging in-type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// A string (`Str8`, or any string in-type once decoded).
    Str(&'a str),
    /// `U8` (also `bool8`).
    U8(u8),
    /// `U16`.
    U16(u16),
    /// `U32` (also `NTSTATUS`).
    U32(u32),
    /// `U64`.
    U64(u64),
}

/// Why a decoded event could not be turned into a [`WskEvent`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// No event of this provider has that name and opcode.
    UnknownEvent {
        /// Event name.
        name: String,
        /// Opcode.
        opcode: u8,
    },
    /// A field of the schema is absent.
    MissingField {
        /// The event's variant name.
        event: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A field is present with a value of another type.
    WrongType {
        /// The event's variant name.
        event: &'static str,
        /// The field.
        field: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnknownEvent { name, opcode } => {
                write!(f, "unknown event {name:?} with opcode {opcode}")
            }
            DecodeError::MissingField { event, field } => {
                write!(f, "event {event}: missing field {field}")
            }
            DecodeError::WrongType { event, field } => {
                write!(f, "event {event}: field {field} has an unexpected type")
            }
        }
    }
}

/// Conversion between a field's Rust type and [`FieldValue`], one impl per [`FieldKind`].
trait FieldType: Sized {
    fn to_value(&self) -> FieldValue<'_>;
    fn from_value(value: &FieldValue<'_>) -> Option<Self>;
}

impl FieldType for String {
    fn to_value(&self) -> FieldValue<'_> {
        FieldValue::Str(self.as_str())
    }
    fn from_value(value: &FieldValue<'_>) -> Option<Self> {
        match value {
            FieldValue::Str(s) => Some(String::from(*s)),
            _ => None,
        }
    }
}

impl FieldType for u8 {
    fn to_value(&self) -> FieldValue<'_> {
        FieldValue::U8(*self)
    }
    fn from_value(value: &FieldValue<'_>) -> Option<Self> {
        match value {
            FieldValue::U8(v) => Some(*v),
            _ => None,
        }
    }
}

impl FieldType for u16 {
    fn to_value(&self) -> FieldValue<'_> {
        FieldValue::U16(*self)
    }
    fn from_value(value: &FieldValue<'_>) -> Option<Self> {
        match value {
            FieldValue::U16(v) => Some(*v),
            _ => None,
        }
    }
}

impl FieldType for u32 {
    fn to_value(&self) -> FieldValue<'_> {
        FieldValue::U32(*self)
    }
    fn from_value(value: &FieldValue<'_>) -> Option<Self> {
        match value {
            FieldValue::U32(v) => Some(*v),
            _ => None,
        }
    }
}

impl FieldType for u64 {
    fn to_value(&self) -> FieldValue<'_> {
        FieldValue::U64(*self)
    }
    fn from_value(value: &FieldValue<'_>) -> Option<Self> {
        match value {
            FieldValue::U64(v) => Some(*v),
            _ => None,
        }
    }
}

impl FieldType for NtStatus {
    fn to_value(&self) -> FieldValue<'_> {
        FieldValue::U32(self.to_u32())
    }
    fn from_value(value: &FieldValue<'_>) -> Option<Self> {
        match value {
            FieldValue::U32(v) => Some(NtStatus::from_u32(*v)),
            _ => None,
        }
    }
}

impl FieldType for bool {
    fn to_value(&self) -> FieldValue<'_> {
        FieldValue::U8(u8::from(*self))
    }
    fn from_value(value: &FieldValue<'_>) -> Option<Self> {
        match value {
            FieldValue::U8(v) => Some(*v != 0),
            FieldValue::U32(v) => Some(*v != 0),
            _ => None,
        }
    }
}

tracelogging::define_provider!(PROVIDER, "Wsktrace.WskClient");

/// The `tracelogging` provider the [`WskEvent::write_etw`] calls write to. The kernel glue
/// registers it first in DriverEntry and unregisters it last in unload; until then (and on
/// non-Windows hosts, always) it is disabled and every write is a no-op.
pub fn etw_provider() -> &'static tracelogging::Provider {
    &PROVIDER
}

/// The kinds as types, so an event's field type can be named as `<kind::K as FieldOf<S>>::Rust`
/// (`S` being the event's text type): `derive` cannot see through a type macro.
pub mod kind {
    /// [`super::FieldKind::Str`].
    pub struct Str;
    /// [`super::FieldKind::U8`].
    pub struct U8;
    /// [`super::FieldKind::U16Hex`].
    pub struct U16Hex;
    /// [`super::FieldKind::U32`].
    pub struct U32;
    /// [`super::FieldKind::U64`].
    pub struct U64;
    /// [`super::FieldKind::Status`].
    pub struct Status;
    /// [`super::FieldKind::Bool`].
    pub struct Bool;
}

/// The Rust type of a field of a kind, in an event whose text type is `S`.
pub trait FieldOf<S> {
    /// The field's type.
    type Rust;
}

impl<S> FieldOf<S> for kind::Str {
    type Rust = S;
}
impl<S> FieldOf<S> for kind::U8 {
    type Rust = u8;
}
impl<S> FieldOf<S> for kind::U16Hex {
    type Rust = u16;
}
impl<S> FieldOf<S> for kind::U32 {
    type Rust = u32;
}
impl<S> FieldOf<S> for kind::U64 {
    type Rust = u64;
}
impl<S> FieldOf<S> for kind::Status {
    type Rust = NtStatus;
}
impl<S> FieldOf<S> for kind::Bool {
    type Rust = bool;
}

/// Builds the option list of one `tracelogging::write_event!` call, field by field (a
/// tt-muncher: `write_event!` is a procedural macro and does not expand macros in its
/// arguments, so its whole argument list must be assembled here first). The finished list is
/// either handed to `write_event!` (`@write`) or turned into text (`@text`) for the drift test;
/// both come from the same arms, so the text is exactly what `write_event!` is given.
macro_rules! tlg_event {
    // Done.
    (@write [$($acc:tt)*]) => {
        ::tracelogging::write_event!(PROVIDER, $($acc)*)
    };
    (@text [$($acc:tt)*]) => {
        stringify!($($acc)*)
    };
    // One field per kind.
    (@$mode:ident [$($acc:tt)*] $f:ident : Str = $n:tt, $($rest:tt)*) => {
        tlg_event!(@$mode [$($acc)* str8($n, AsRef::<str>::as_ref($f)),] $($rest)*)
    };
    (@$mode:ident [$($acc:tt)*] $f:ident : U8 = $n:tt, $($rest:tt)*) => {
        tlg_event!(@$mode [$($acc)* u8($n, $f),] $($rest)*)
    };
    (@$mode:ident [$($acc:tt)*] $f:ident : U16Hex = $n:tt, $($rest:tt)*) => {
        tlg_event!(@$mode [$($acc)* u16($n, $f, format(Hex)),] $($rest)*)
    };
    (@$mode:ident [$($acc:tt)*] $f:ident : U32 = $n:tt, $($rest:tt)*) => {
        tlg_event!(@$mode [$($acc)* u32($n, $f),] $($rest)*)
    };
    (@$mode:ident [$($acc:tt)*] $f:ident : U64 = $n:tt, $($rest:tt)*) => {
        tlg_event!(@$mode [$($acc)* u64($n, $f),] $($rest)*)
    };
    (@$mode:ident [$($acc:tt)*] $f:ident : Status = $n:tt, $($rest:tt)*) => {
        tlg_event!(@$mode [$($acc)* u32($n, &$f.to_u32(), format(NtStatus)),] $($rest)*)
    };
    (@$mode:ident [$($acc:tt)*] $f:ident : Bool = $n:tt, $($rest:tt)*) => {
        tlg_event!(@$mode [$($acc)* bool8($n, $f),] $($rest)*)
    };
}

/// Generates everything in this module from the one event list below.
macro_rules! wsk_schema {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $name:tt, $op:ident, [$($kw:ident)|+] {
            $( $(#[doc = $fdoc:literal])* $field:ident : $kind:ident = $fname:tt, )*
        }
    )*) => {
        /// The typed view of one event of the provider. `S` is the type of its text fields:
        /// the driver writes events that borrow them ([`WskEventRef`], no allocation on the
        /// event path); the host recorder stores and the tools decode owned ones (`String`,
        /// the default).
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum WskEvent<S = String> {
            $(
                $(#[doc = $doc])*
                $variant {
                    $( $(#[doc = $fdoc])* $field: <kind::$kind as FieldOf<S>>::Rust, )*
                },
            )*
        }

        /// Which event of the provider: one per [`WskEvent`] variant, without its fields.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $(
                $(#[doc = $doc])*
                $variant,
            )*
        }

        /// Descriptor constants, one per event, named like the variants.
        #[allow(non_upper_case_globals)]
        pub mod desc {
            use super::{EventDescriptor, EventKind, FieldDescriptor, FieldKind, LEVEL};
            $(
                #[doc = concat!("Descriptor of [`super::WskEvent::", stringify!($variant), "`].")]
                pub const $variant: EventDescriptor = EventDescriptor {
                    kind: EventKind::$variant,
                    variant: stringify!($variant),
                    name: $name,
                    opcode: wsk_schema!(@opcode $op),
                    level: LEVEL,
                    keywords: 0 $(| super::keywords::$kw)+,
                    fields: &[ $( FieldDescriptor { name: $fname, kind: FieldKind::$kind }, )* ],
                };
            )*
        }

        /// Every event of the provider, in schema order.
        pub const DESCRIPTORS: &[EventDescriptor] = &[ $( desc::$variant, )* ];

        /// For each event of [`DESCRIPTORS`] (same order): the text of the options given to
        /// its `tracelogging::write_event!` call, after the provider symbol.
        pub const TLG_EVENT_TEXT: &[&str] = &[ $(
            tlg_event!(@text [
                $name, level(Informational), opcode($op), $(keyword(keywords::$kw),)+
                activity_id(activity_id),
            ] $( $field : $kind = $fname, )*),
        )* ];

        impl<S> WskEvent<S> {
            /// This event's descriptor.
            pub const fn descriptor(&self) -> &'static EventDescriptor {
                match self {
                    $( WskEvent::$variant { .. } => &desc::$variant, )*
                }
            }
        }

        impl<S: AsRef<str>> WskEvent<S> {
            /// The field values in payload order, named as in the descriptor.
            pub fn fields(&self) -> Vec<(&'static str, FieldValue<'_>)> {
                match self {
                    $( WskEvent::$variant { $($field,)* } => {
                        alloc::vec![ $( ($fname, wsk_schema!(@value $kind $field)), )* ]
                    } )*
                }
            }

            /// The same event with owned text (what the host recorder keeps).
            pub fn to_owned_event(&self) -> WskEvent {
                match self {
                    $( WskEvent::$variant { $($field,)* } => WskEvent::$variant {
                        $( $field: wsk_schema!(@own $kind $field), )*
                    }, )*
                }
            }

            /// Writes this event to ETW through the `tracelogging` provider ([`etw_provider`]),
            /// with the given activity id. Returns the Win32 error of the write (0 when the
            /// provider is disabled, and always 0 on non-Windows hosts).
            pub fn write_etw(&self, activity_id: &[u8; 16]) -> u32 {
                match self {
                    $( WskEvent::$variant { $($field,)* } => tlg_event!(@write [
                        $name, level(Informational), opcode($op), $(keyword(keywords::$kw),)+
                        activity_id(activity_id),
                    ] $( $field : $kind = $fname, )*), )*
                }
            }
        }

        impl WskEvent {
            /// The same event borrowing its text.
            pub fn as_borrowed(&self) -> WskEventRef<'_> {
                match self {
                    $( WskEvent::$variant { $($field,)* } => WskEvent::$variant {
                        $( $field: wsk_schema!(@borrow $kind $field), )*
                    }, )*
                }
            }

            /// Builds the event of `kind` from its field values in schema order (the order of
            /// its descriptor's fields and of its payload); `None` unless there is exactly one
            /// value per field, each of the field's type. For decoders that matched the
            /// payload's layout already (the tools' fast path).
            #[inline]
            pub fn from_values(kind: EventKind, values: &[FieldValue<'_>]) -> Option<WskEvent> {
                let mut values = values.iter();
                let event = WskEvent::from_fields(kind, |_| values.next().copied())?;
                values.next().is_none().then_some(event)
            }

            /// Builds the event of `kind` from the values `next` gives for its fields, asked
            /// for in schema order with each field's kind; `None` as soon as `next` gives none,
            /// or a value not of the field's type. A payload reader takes the fields straight
            /// off the payload this way, with no list of values in between.
            #[inline]
            pub fn from_fields<'v>(
                kind: EventKind,
                mut next: impl FnMut(FieldKind) -> Option<FieldValue<'v>>,
            ) -> Option<WskEvent> {
                Some(match kind {
                    $( EventKind::$variant => WskEvent::$variant { $(
                        $field: <<kind::$kind as FieldOf<String>>::Rust as FieldType>::from_value(
                            &next(FieldKind::$kind)?,
                        )?,
                    )* }, )*
                })
            }

            /// Builds the typed event from a decoded TraceLogging event of this provider:
            /// its name, opcode and named fields (in any order; fields not in the schema are
            /// ignored, so later schema additions stay readable).
            pub fn decode(
                name: &str,
                opcode: u8,
                fields: &[(&str, FieldValue<'_>)],
            ) -> Result<WskEvent, DecodeError> {
                $(
                    if name == $name && opcode == desc::$variant.opcode {
                        return Ok(WskEvent::$variant { $(
                            $field: {
                                let value = fields
                                    .iter()
                                    .find(|(n, _)| *n == $fname)
                                    .ok_or(DecodeError::MissingField {
                                        event: stringify!($variant),
                                        field: $fname,
                                    })?;
                                <<kind::$kind as FieldOf<String>>::Rust as FieldType>::from_value(&value.1)
                                    .ok_or(DecodeError::WrongType {
                                        event: stringify!($variant),
                                        field: $fname,
                                    })?
                            },
                        )* });
                    }
                )*
                Err(DecodeError::UnknownEvent { name: String::from(name), opcode })
            }
        }
    };
    (@value Str $f:ident) => { FieldValue::Str(AsRef::<str>::as_ref($f)) };
    (@value $kind:ident $f:ident) => { FieldType::to_value($f) };
    (@own Str $f:ident) => { String::from(AsRef::<str>::as_ref($f)) };
    (@own $kind:ident $f:ident) => { *$f };
    (@borrow Str $f:ident) => { $f.as_str() };
    (@borrow $kind:ident $f:ident) => { *$f };
    (@opcode Info) => { super::opcode::INFO };
    (@opcode Start) => { super::opcode::START };
    (@opcode Stop) => { super::opcode::STOP };
}

wsk_schema! {
    /// DriverEntry began.
    DriverEntryStart = "DriverEntry", Start, [LIFECYCLE] {
        /// The client (service) name.
        client_name: Str = "ClientName",
    }
    /// DriverEntry returned.
    DriverEntryStop = "DriverEntry", Stop, [LIFECYCLE] {
        /// The client (service) name.
        client_name: Str = "ClientName",
        /// What DriverEntry returned.
        status: Status = "Status",
        /// Time spent in DriverEntry.
        duration_ns: U64 = "DurationNs",
    }
    /// `WskRegister` returned.
    WskRegister = "WskRegister", Info, [LIFECYCLE] {
        /// Registration id (1, 2, ... per driver load).
        registration_id: U32 = "RegistrationId",
        /// Requested NPI version (`MAKE_WSK_VERSION(major, minor)` = major << 8 | minor).
        npi_version: U16Hex = "NpiVersion",
        /// What `WskRegister` returned.
        status: Status = "Status",
        /// Time spent in `WskRegister`.
        duration_ns: U64 = "DurationNs",
    }
    /// `WskCaptureProviderNPI` called.
    CaptureProviderNpiStart = "CaptureProviderNpi", Start, [LIFECYCLE | LATENCY] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Capture id (1, 2, ... per driver load, also for failed captures).
        capture_id: U32 = "CaptureId",
        /// 0 = `WSK_NO_WAIT`, 0xFFFFFFFF = `WSK_INFINITE_WAIT`, else milliseconds.
        wait_timeout_ms: U32 = "WaitTimeoutMs",
        /// 0 = DriverEntry thread, 1 = worker thread, 2 = other.
        calling_context: U8 = "CallingContext",
    }
    /// `WskCaptureProviderNPI` returned.
    CaptureProviderNpiStop = "CaptureProviderNpi", Stop, [LIFECYCLE | LATENCY] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Capture id.
        capture_id: U32 = "CaptureId",
        /// What the capture returned.
        status: Status = "Status",
        /// Time blocked in the call.
        wait_ns: U64 = "WaitNs",
    }
    /// `WskQueryProviderCharacteristics` returned.
    QueryProviderCharacteristics = "QueryProviderCharacteristics", Info, [LIFECYCLE] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// What the query returned.
        status: Status = "Status",
        /// Lowest supported NPI version (0 when the query failed).
        lowest_version: U16Hex = "LowestVersion",
        /// Highest supported NPI version (0 when the query failed).
        highest_version: U16Hex = "HighestVersion",
    }
    /// A `WSK_PROVIDER_DISPATCH` function returned.
    DispatchCall = "DispatchCall", Info, [DISPATCH] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Capture id of the NPI the call went through.
        capture_id: U32 = "CaptureId",
        /// `WskSocket`, `WskSocketConnect`, `WskControlClient`, ...
        function: Str = "Function",
        /// What the call returned (its IRP's final status).
        status: Status = "Status",
        /// Time from call to completion.
        duration_ns: U64 = "DurationNs",
    }
    /// `WskReleaseProviderNPI` called.
    ReleaseProviderNpi = "ReleaseProviderNpi", Info, [LIFECYCLE] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Capture id of the released NPI.
        capture_id: U32 = "CaptureId",
        /// Time from the capture's return to the release (0 if the capture was not timed).
        held_ns: U64 = "HeldNs",
        /// Provider dispatch calls made through this NPI.
        dispatch_calls: U32 = "DispatchCalls",
        /// True when the guard was dropped without an explicit release.
        implicit: Bool = "Implicit",
    }
    /// `WskDeregister` called.
    WskDeregisterStart = "WskDeregister", Start, [LIFECYCLE] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Captured NPIs not yet released at the call.
        captures_outstanding: U32 = "CapturesOutstanding",
    }
    /// `WskDeregister` returned (every capture released, every socket closed).
    WskDeregisterStop = "WskDeregister", Stop, [LIFECYCLE] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Time blocked in `WskDeregister`.
        wait_ns: U64 = "WaitNs",
    }
    /// `WskCaptureProviderNPI` not called: the registration's `WskDeregister` had begun, so
    /// the capture was refused (the documentation forbids capturing then).
    CaptureRefused = "CaptureRefused", Info, [LIFECYCLE] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// The `WaitTimeout` the capture would have used.
        wait_timeout_ms: U32 = "WaitTimeoutMs",
        /// 0 = DriverEntry thread, 1 = worker thread, 2 = other.
        calling_context: U8 = "CallingContext",
        /// What the refused capture returned (`STATUS_INVALID_DEVICE_STATE`).
        status: Status = "Status",
    }
    /// A socket was created: `WskSocket` completed with success (its `DispatchCall` comes
    /// first), and the socket got an id.
    SocketCreated = "SocketCreated", Info, [SOCKET] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Capture id of the NPI `WskSocket` went through.
        capture_id: U32 = "CaptureId",
        /// Socket id (1, 2, ... per driver load, accepted sockets included).
        socket_id: U32 = "SocketId",
        /// 0 = listening socket, 1 = accepted connection ([`socket_kind`]).
        socket_kind: U8 = "SocketKind",
        /// `AF_INET` (2) or `AF_INET6` (23).
        address_family: U32 = "AddressFamily",
    }
    /// `WskBind` of a socket completed.
    SocketBind = "SocketBind", Info, [SOCKET] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Socket id.
        socket_id: U32 = "SocketId",
        /// The local address bound (`127.0.0.1`, `::1`, ...).
        address: Str = "Address",
        /// The local port bound.
        port: U32 = "Port",
        /// What `WskBind` completed with.
        status: Status = "Status",
        /// Time from call to completion.
        duration_ns: U64 = "DurationNs",
    }
    /// `WskAccept` called on a listening socket (its IRP armed).
    AcceptStart = "Accept", Start, [SOCKET] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// The listening socket's id.
        socket_id: U32 = "SocketId",
    }
    /// The `WskAccept` IRP completed: a connection (success), cancelled (`STATUS_CANCELLED`,
    /// the listening socket was closed) or failed.
    AcceptStop = "Accept", Stop, [SOCKET] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// The listening socket's id.
        socket_id: U32 = "SocketId",
        /// What the IRP completed with.
        status: Status = "Status",
        /// The accepted connection's socket id (0 when nothing was accepted).
        accepted_socket_id: U32 = "AcceptedSocketId",
        /// The connection's remote address (empty when nothing was accepted).
        remote_address: Str = "RemoteAddress",
        /// The connection's remote port (0 when nothing was accepted).
        remote_port: U32 = "RemotePort",
        /// Time the IRP was pending.
        wait_ns: U64 = "WaitNs",
    }
    /// `WskCloseSocket` called.
    CloseSocketStart = "CloseSocket", Start, [SOCKET] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Socket id.
        socket_id: U32 = "SocketId",
    }
    /// The `WskCloseSocket` IRP completed (the socket is gone, whatever the status).
    CloseSocketStop = "CloseSocket", Stop, [SOCKET] {
        /// Registration id.
        registration_id: U32 = "RegistrationId",
        /// Socket id.
        socket_id: U32 = "SocketId",
        /// What the close completed with.
        status: Status = "Status",
        /// Time from call to completion.
        duration_ns: U64 = "DurationNs",
    }
    /// DriverUnload began.
    DriverUnloadStart = "DriverUnload", Start, [LIFECYCLE] {
    }
    /// DriverUnload finished.
    DriverUnloadStop = "DriverUnload", Stop, [LIFECYCLE] {
        /// Time spent in DriverUnload.
        duration_ns: U64 = "DurationNs",
    }
}

impl<S> WskEvent<S> {
    /// The event's `RegistrationId`, if it has one.
    pub fn registration_id(&self) -> Option<u32> {
        match self {
            WskEvent::WskRegister {
                registration_id, ..
            }
            | WskEvent::CaptureProviderNpiStart {
                registration_id, ..
            }
            | WskEvent::CaptureProviderNpiStop {
                registration_id, ..
            }
            | WskEvent::QueryProviderCharacteristics {
                registration_id, ..
            }
            | WskEvent::DispatchCall {
                registration_id, ..
            }
            | WskEvent::ReleaseProviderNpi {
                registration_id, ..
            }
            | WskEvent::WskDeregisterStart {
                registration_id, ..
            }
            | WskEvent::WskDeregisterStop {
                registration_id, ..
            }
            | WskEvent::CaptureRefused {
                registration_id, ..
            }
            | WskEvent::SocketCreated {
                registration_id, ..
            }
            | WskEvent::SocketBind {
                registration_id, ..
            }
            | WskEvent::AcceptStart {
                registration_id, ..
            }
            | WskEvent::AcceptStop {
                registration_id, ..
            }
            | WskEvent::CloseSocketStart {
                registration_id, ..
            }
            | WskEvent::CloseSocketStop {
                registration_id, ..
            } => Some(*registration_id),
            WskEvent::DriverEntryStart { .. }
            | WskEvent::DriverEntryStop { .. }
            | WskEvent::DriverUnloadStart {}
            | WskEvent::DriverUnloadStop { .. } => None,
        }
    }

    /// The event's `CaptureId`, if it has one.
    pub fn capture_id(&self) -> Option<u32> {
        match self {
            WskEvent::CaptureProviderNpiStart { capture_id, .. }
            | WskEvent::CaptureProviderNpiStop { capture_id, .. }
            | WskEvent::DispatchCall { capture_id, .. }
            | WskEvent::ReleaseProviderNpi { capture_id, .. }
            | WskEvent::SocketCreated { capture_id, .. } => Some(*capture_id),
            _ => None,
        }
    }

    /// The socket the event is about (`SocketId`), if it is a socket event.
    pub fn socket_id(&self) -> Option<u32> {
        match self {
            WskEvent::SocketCreated { socket_id, .. }
            | WskEvent::SocketBind { socket_id, .. }
            | WskEvent::AcceptStart { socket_id, .. }
            | WskEvent::AcceptStop { socket_id, .. }
            | WskEvent::CloseSocketStart { socket_id, .. }
            | WskEvent::CloseSocketStop { socket_id, .. } => Some(*socket_id),
            _ => None,
        }
    }

    /// The event's `Status`, if it has one.
    pub fn status(&self) -> Option<NtStatus> {
        match self {
            WskEvent::DriverEntryStop { status, .. }
            | WskEvent::WskRegister { status, .. }
            | WskEvent::CaptureProviderNpiStop { status, .. }
            | WskEvent::QueryProviderCharacteristics { status, .. }
            | WskEvent::DispatchCall { status, .. }
            | WskEvent::CaptureRefused { status, .. }
            | WskEvent::SocketBind { status, .. }
            | WskEvent::AcceptStop { status, .. }
            | WskEvent::CloseSocketStop { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The most fields an event of the provider has.
pub const MAX_FIELDS: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < DESCRIPTORS.len() {
        if DESCRIPTORS[i].fields.len() > max {
            max = DESCRIPTORS[i].fields.len();
        }
        i += 1;
    }
    max
};

/// The descriptor of the event with this name and opcode.
pub fn find_descriptor(name: &str, opcode: u8) -> Option<&'static EventDescriptor> {
    DESCRIPTORS
        .iter()
        .find(|d| d.name == name && d.opcode == opcode)
}

/// `CallingContext` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CallingContext {
    /// The thread DriverEntry runs on.
    DriverEntry = 0,
    /// The driver's worker thread.
    Worker = 1,
    /// Any other thread.
    Other = 2,
}

impl CallingContext {
    /// The context recorded as `v`; unknown values read as [`CallingContext::Other`].
    pub const fn from_u8(v: u8) -> CallingContext {
        match v {
            0 => CallingContext::DriverEntry,
            1 => CallingContext::Worker,
            _ => CallingContext::Other,
        }
    }
}

#[cfg(test)]
mod tests;
