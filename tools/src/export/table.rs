//! The exported tables, each defined once: the [`table!`] invocations below give a table's
//! row type (what the analyses' results are turned into), its Arrow schema (what the Parquet
//! and CSV writers write and the readers expect) and its column documentation (what
//! `docs/export.md` lists; a test keeps the two equal).
//!
//! Types are chosen so that DuckDB and Spark read every column without options: durations,
//! times since trace start or boot and counts are `Int64` (nanoseconds where the name ends in
//! `_ns`; a value above 2^63 − 1, 292 years, can only come from a corrupt field and is
//! stored as 2^63 − 1), ids and NTSTATUS codes `UInt32`, UTC instants
//! `Timestamp(Microsecond, "+00:00")` (Spark reads no nanosecond timestamps; the exact instant
//! is the `_ns` column beside it).

use std::sync::Arc;

use arrow_array::types::{
    ArrowPrimitiveType, Int64Type, TimestampMicrosecondType, UInt16Type, UInt32Type, UInt8Type,
};
use arrow_array::{ArrayRef, BooleanArray, PrimitiveArray, RecordBatch, StringArray};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// How a column is typed: its Arrow type, the Rust value a row holds, how it is appended.
pub trait Kind {
    /// The value a row holds.
    type Value<'a>;
    /// Where the column's values are appended.
    type Builder: Send;
    /// Whether the column may hold nulls.
    const NULLABLE: bool = false;
    /// Arrow type.
    fn data_type() -> DataType;
    /// An empty builder, sized for a small trace ([`START_ROWS`]; it grows as needed).
    fn builder() -> Self::Builder;
    /// Appends the value of row `row` (rows come in order, each once).
    fn append(b: &mut Self::Builder, row: usize, v: &Self::Value<'_>);
    /// The column's first `rows` rows as an array (the builder is left empty).
    fn finish(b: &mut Self::Builder, rows: usize) -> ArrayRef;
    /// The values appended so far, as a builder of their own; `b` is left empty, with as
    /// much room.
    fn take(b: &mut Self::Builder) -> Self::Builder;
}

/// A kind without nulls, whose values can also be given for some rows only, the others null
/// ([`Opt`]).
pub trait Base: Kind {
    /// Appends the value of row `row`, the rows since the last value being null.
    fn append_at(b: &mut Self::Builder, row: usize, v: &Self::Value<'_>);
}

/// Rows the builders of a table start with room for: most traces of a fleet are small, and
/// room for many rows in every column costs more to allocate than a small trace's rows.
pub const START_ROWS: usize = 64;

/// The rows of a nullable column that hold a value, in order. A row without one costs
/// nothing until the batch is finished: most `events` columns are null in most rows, and
/// appending a null to each of them made a row cost its 36 columns instead of its values.
#[derive(Debug, Default)]
struct Present(Vec<u32>);

/// `v`'s contents, `v` left empty with room for a quarter more (the next batch's column may
/// hold a few more values; growing it then copies them all).
pub(super) fn take_vec<T>(v: &mut Vec<T>) -> Vec<T> {
    let room = Vec::with_capacity((v.len() + v.len() / 4).max(START_ROWS));
    std::mem::replace(v, room)
}

impl Present {
    fn take(&mut self) -> Present {
        Present(take_vec(&mut self.0))
    }

    #[inline]
    fn push(&mut self, row: usize) {
        self.0
            .push(u32::try_from(row).expect("a batch holds fewer than 2^32 rows"));
    }

    /// `values` (one per present row, or one per row) spread over `rows` rows, the others
    /// holding the type's default, and which rows are valid (`None`: all); clears both. The
    /// spread values go to a zeroed allocation, so the pages of a column without a value in
    /// the batch are never touched; `values` keeps its room for the next batch.
    fn spread<V: Copy + Default>(
        &mut self,
        values: &mut Vec<V>,
        rows: usize,
    ) -> (Vec<V>, Option<NullBuffer>) {
        if values.len() == rows {
            let room = Vec::with_capacity(rows.max(START_ROWS));
            self.0.clear();
            return (std::mem::replace(values, room), None);
        }
        let mut out = vec![V::default(); rows];
        for (&row, &v) in self.0.iter().zip(values.iter()) {
            out[row as usize] = v;
        }
        values.clear();
        (out, Some(self.validity(rows)))
    }

    /// Which of `rows` rows hold a value; clears.
    fn validity(&mut self, rows: usize) -> NullBuffer {
        if self.0.is_empty() {
            return NullBuffer::new_null(rows);
        }
        let mut bits = vec![0u8; rows.div_ceil(8)];
        for &row in &self.0 {
            bits[row as usize / 8] |= 1 << (row % 8);
        }
        self.0.clear();
        NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(bits), 0, rows))
    }
}

/// The values of a fixed-width column (nulls hold the type's default, as Arrow's builders
/// leave them). Arrow's builders append through calls that are not inlined; the buffers
/// here are handed to the array without a copy.
#[derive(Debug)]
pub struct Values<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    present: Present,
}

impl<T: ArrowPrimitiveType> Values<T> {
    fn new() -> Self {
        Values {
            values: Vec::with_capacity(START_ROWS),
            present: Present::default(),
        }
    }

    fn take(&mut self) -> Self {
        Values {
            values: take_vec(&mut self.values),
            present: self.present.take(),
        }
    }

    #[inline]
    fn push(&mut self, v: T::Native) {
        self.values.push(v);
    }

    #[inline]
    fn push_at(&mut self, row: usize, v: T::Native) {
        self.present.push(row);
        self.values.push(v);
    }

    fn finish(&mut self, rows: usize) -> PrimitiveArray<T> {
        let (values, nulls) = self.present.spread(&mut self.values, rows);
        PrimitiveArray::new(ScalarBuffer::from(values), nulls)
    }
}

macro_rules! primitive_kind {
    ($(#[doc = $doc:literal])* $Kind:ident, $rust:ty, $Type:ty, $dt:expr, |$v:ident| $conv:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug)]
        pub struct $Kind;
        impl Kind for $Kind {
            type Value<'a> = $rust;
            type Builder = Values<$Type>;
            fn data_type() -> DataType {
                $dt
            }
            fn builder() -> Self::Builder {
                Values::new()
            }
            #[inline]
            fn append(b: &mut Self::Builder, _row: usize, $v: &Self::Value<'_>) {
                b.push($conv);
            }
            fn finish(b: &mut Self::Builder, rows: usize) -> ArrayRef {
                Arc::new(b.finish(rows))
            }
            fn take(b: &mut Self::Builder) -> Self::Builder {
                b.take()
            }
        }
        impl Base for $Kind {
            #[inline]
            fn append_at(b: &mut Self::Builder, row: usize, $v: &Self::Value<'_>) {
                b.push_at(row, $conv);
            }
        }
    };
}

primitive_kind!(
    /// `UInt8`.
    U8, u8, UInt8Type, DataType::UInt8, |v| *v
);
primitive_kind!(
    /// `UInt16` (NPI versions: `major << 8 | minor`).
    U16, u16, UInt16Type, DataType::UInt16, |v| *v
);
primitive_kind!(
    /// `UInt32` (ids, thread ids, NTSTATUS codes, small counts).
    U32, u32, UInt32Type, DataType::UInt32, |v| *v
);
primitive_kind!(
    /// `Int64` from a `u64` (nanoseconds, counts), saturating at `i64::MAX`.
    I64, u64, Int64Type, DataType::Int64, |v| i64::try_from(*v).unwrap_or(i64::MAX)
);

/// The values of a `Boolean` column.
#[derive(Debug, Default)]
pub struct Flags {
    values: Vec<bool>,
    present: Present,
}

/// `Boolean`.
#[derive(Debug)]
pub struct Bool;
impl Kind for Bool {
    type Value<'a> = bool;
    type Builder = Flags;
    fn data_type() -> DataType {
        DataType::Boolean
    }
    fn builder() -> Self::Builder {
        Flags::default()
    }
    #[inline]
    fn append(b: &mut Self::Builder, _row: usize, v: &Self::Value<'_>) {
        b.values.push(*v);
    }
    fn finish(b: &mut Self::Builder, rows: usize) -> ArrayRef {
        let (values, nulls) = b.present.spread(&mut b.values, rows);
        Arc::new(BooleanArray::new(
            BooleanBuffer::from(values.as_slice()),
            nulls,
        ))
    }
    fn take(b: &mut Self::Builder) -> Self::Builder {
        Flags {
            values: take_vec(&mut b.values),
            present: b.present.take(),
        }
    }
}
impl Base for Bool {
    #[inline]
    fn append_at(b: &mut Self::Builder, row: usize, v: &Self::Value<'_>) {
        b.present.push(row);
        b.values.push(*v);
    }
}

/// The values of a `Utf8` column: their bytes end to end, and where each starts and the last
/// ends (Arrow's offsets, when every row has a value).
#[derive(Debug)]
pub struct Texts {
    bytes: Vec<u8>,
    offsets: Vec<i32>,
    present: Present,
}

impl Texts {
    fn new() -> Self {
        Texts {
            bytes: Vec::with_capacity(START_ROWS * 16),
            offsets: Self::no_offsets(START_ROWS),
            present: Present::default(),
        }
    }

    fn take(&mut self) -> Self {
        let values = self.offsets.len() - 1;
        let room = Self::no_offsets((values + values / 4).max(START_ROWS));
        Texts {
            bytes: take_vec(&mut self.bytes),
            offsets: std::mem::replace(&mut self.offsets, room),
            present: self.present.take(),
        }
    }

    /// Offsets of no value, with room for `rows`.
    fn no_offsets(rows: usize) -> Vec<i32> {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        offsets
    }

    #[inline]
    fn push(&mut self, v: &str) {
        self.bytes.extend_from_slice(v.as_bytes());
        // A batch is at most a few MB of text (`BATCH_ROWS` rows), far below 2 GiB.
        self.offsets
            .push(i32::try_from(self.bytes.len()).unwrap_or(i32::MAX));
    }

    fn finish(&mut self, rows: usize) -> StringArray {
        let room = Vec::with_capacity(self.bytes.len().max(START_ROWS * 16));
        let bytes = std::mem::replace(&mut self.bytes, room);
        let values = self.offsets.len() - 1;
        let (offsets, nulls) = if values == rows {
            self.present.0.clear();
            let room = Self::no_offsets(rows.max(START_ROWS));
            (std::mem::replace(&mut self.offsets, room), None)
        } else {
            // A row without a value ends where the one before it does.
            let mut offsets = Vec::with_capacity(rows + 1);
            offsets.push(0);
            for (&row, &end) in self.present.0.iter().zip(&self.offsets[1..]) {
                let last = *offsets.last().unwrap_or(&0);
                offsets.resize(row as usize + 1, last);
                offsets.push(end);
            }
            let last = *offsets.last().unwrap_or(&0);
            offsets.resize(rows + 1, last);
            self.offsets.truncate(1);
            (offsets, Some(self.present.validity(rows)))
        };
        StringArray::new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(bytes),
            nulls,
        )
    }
}

/// `Utf8`, borrowed from the analysis result the row is made of.
#[derive(Debug)]
pub struct Text;
impl Kind for Text {
    type Value<'a> = &'a str;
    type Builder = Texts;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn builder() -> Self::Builder {
        Texts::new()
    }
    #[inline]
    fn append(b: &mut Self::Builder, _row: usize, v: &Self::Value<'_>) {
        b.push(v);
    }
    fn finish(b: &mut Self::Builder, rows: usize) -> ArrayRef {
        Arc::new(b.finish(rows))
    }
    fn take(b: &mut Self::Builder) -> Self::Builder {
        b.take()
    }
}
impl Base for Text {
    #[inline]
    fn append_at(b: &mut Self::Builder, row: usize, v: &Self::Value<'_>) {
        b.present.push(row);
        b.push(v);
    }
}

/// `Timestamp(Microsecond, "+00:00")`; the value is microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug)]
pub struct Utc;
impl Kind for Utc {
    type Value<'a> = i64;
    type Builder = Values<TimestampMicrosecondType>;
    fn data_type() -> DataType {
        DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
    }
    fn builder() -> Self::Builder {
        Values::new()
    }
    #[inline]
    fn append(b: &mut Self::Builder, _row: usize, v: &Self::Value<'_>) {
        b.push(*v);
    }
    fn finish(b: &mut Self::Builder, rows: usize) -> ArrayRef {
        Arc::new(b.finish(rows).with_timezone(UTC))
    }
    fn take(b: &mut Self::Builder) -> Self::Builder {
        b.take()
    }
}
impl Base for Utc {
    #[inline]
    fn append_at(b: &mut Self::Builder, row: usize, v: &Self::Value<'_>) {
        b.push_at(row, *v);
    }
}

/// The time zone of the UTC columns, as an offset: Arrow's CSV writer formats named zones
/// only with the (large) time-zone database compiled in.
const UTC: &str = "+00:00";

/// The nullable form of `K`: `None` is a null.
#[derive(Debug)]
pub struct Opt<K>(std::marker::PhantomData<K>);
impl<K: Base> Kind for Opt<K> {
    type Value<'a> = Option<K::Value<'a>>;
    type Builder = K::Builder;
    const NULLABLE: bool = true;
    fn data_type() -> DataType {
        K::data_type()
    }
    fn builder() -> Self::Builder {
        K::builder()
    }
    #[inline]
    fn append(b: &mut Self::Builder, row: usize, v: &Self::Value<'_>) {
        if let Some(v) = v {
            K::append_at(b, row, v);
        }
    }
    fn finish(b: &mut Self::Builder, rows: usize) -> ArrayRef {
        K::finish(b, rows)
    }
    fn take(b: &mut Self::Builder) -> Self::Builder {
        K::take(b)
    }
}

/// One column, as documented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnDoc {
    /// Column name.
    pub name: &'static str,
    /// Arrow type.
    pub data_type: DataType,
    /// May hold nulls.
    pub nullable: bool,
    /// What it holds.
    pub doc: String,
}

/// Column builders of one table: rows in, record batches out.
pub trait RowBuilder: Default + Send {
    /// The table.
    const TABLE: TableId;
    /// The row type.
    type Row<'a>;
    /// Appends one row.
    fn push(&mut self, row: &Self::Row<'_>);
    /// Rows appended since the last [`RowBuilder::finish`].
    fn len(&self) -> usize;
    /// True when no row is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The pending rows as one batch (the builders are left empty).
    fn finish(&mut self) -> RecordBatch;
    /// The pending rows, in builders of their own (to be finished elsewhere); these are
    /// left empty, with as much room.
    fn take(&mut self) -> Self;
}

fn doc_text(lines: &[&str]) -> String {
    lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
}

/// Defines a table: row struct, builder struct, schema and column docs from one list.
macro_rules! table {
    (
        $(#[doc = $tdoc:literal])*
        $Row:ident, $Builder:ident, $id:ident => $name:literal {
            $( $(#[doc = $doc:literal])+ $field:ident: $kind:ty, )+
        }
    ) => {
        $(#[doc = $tdoc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $Row<'a> {
            $( $(#[doc = $doc])+ pub $field: <$kind as Kind>::Value<'a>, )+
        }

        #[doc = concat!("Column builders of the `", $name, "` table.")]
        pub struct $Builder {
            rows: usize,
            $( pub(super) $field: <$kind as Kind>::Builder, )+
        }

        impl Default for $Builder {
            fn default() -> Self {
                $Builder {
                    rows: 0,
                    $( $field: <$kind as Kind>::builder(), )+
                }
            }
        }

        impl std::fmt::Debug for $Builder {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($Builder), "({} rows)"), self.rows)
            }
        }

        impl RowBuilder for $Builder {
            const TABLE: TableId = TableId::$id;
            type Row<'a> = $Row<'a>;
            #[inline]
            fn push(&mut self, row: &$Row<'_>) {
                $( <$kind as Kind>::append(&mut self.$field, self.rows, &row.$field); )+
                self.rows += 1;
            }
            fn len(&self) -> usize {
                self.rows
            }
            fn finish(&mut self) -> RecordBatch {
                let rows = std::mem::take(&mut self.rows);
                let columns: Vec<ArrayRef> = vec![ $( <$kind as Kind>::finish(&mut self.$field, rows), )+ ];
                RecordBatch::try_new(TableId::$id.schema(), columns)
                    .expect("builders match the schema they were made from")
            }
            fn take(&mut self) -> Self {
                $Builder {
                    rows: std::mem::take(&mut self.rows),
                    $( $field: <$kind as Kind>::take(&mut self.$field), )+
                }
            }
        }

        impl $Builder {
            /// Appends one row column by column, without a row value between: `fill` gets
            /// the builders and the row's index, and appends the value of every column
            /// without nulls and of each nullable one that holds a value (the others are
            /// null).
            #[inline]
            #[allow(dead_code)]
            pub(super) fn push_columns(&mut self, fill: impl FnOnce(&mut Self, usize)) {
                fill(self, self.rows);
                self.rows += 1;
            }

            fn columns() -> Vec<ColumnDoc> {
                vec![ $( ColumnDoc {
                    name: stringify!($field),
                    data_type: <$kind as Kind>::data_type(),
                    nullable: <$kind as Kind>::NULLABLE,
                    doc: doc_text(&[$($doc),+]),
                }, )+ ]
            }
            fn table_doc() -> String {
                doc_text(&[$($tdoc),*])
            }
        }
    };
}

/// The six tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableId {
    /// One row per input file.
    Files,
    /// One row per event of ours.
    Events,
    /// One row per registration.
    Registrations,
    /// One row per capture.
    Captures,
    /// One row per finding.
    Findings,
    /// One row per trace and client.
    Boot,
}

impl TableId {
    /// Every table, in documentation order.
    pub const ALL: [TableId; 6] = [
        TableId::Files,
        TableId::Events,
        TableId::Registrations,
        TableId::Captures,
        TableId::Findings,
        TableId::Boot,
    ];

    /// Table name (and file stem: `captures.parquet`).
    pub fn name(self) -> &'static str {
        match self {
            TableId::Files => "files",
            TableId::Events => "events",
            TableId::Registrations => "registrations",
            TableId::Captures => "captures",
            TableId::Findings => "findings",
            TableId::Boot => "boot",
        }
    }

    /// Its columns, documented.
    pub fn columns(self) -> Vec<ColumnDoc> {
        match self {
            TableId::Files => FilesBuilder::columns(),
            TableId::Events => EventsBuilder::columns(),
            TableId::Registrations => RegistrationsBuilder::columns(),
            TableId::Captures => CapturesBuilder::columns(),
            TableId::Findings => FindingsBuilder::columns(),
            TableId::Boot => BootBuilder::columns(),
        }
    }

    /// What one row is.
    pub fn doc(self) -> String {
        match self {
            TableId::Files => FilesBuilder::table_doc(),
            TableId::Events => EventsBuilder::table_doc(),
            TableId::Registrations => RegistrationsBuilder::table_doc(),
            TableId::Captures => CapturesBuilder::table_doc(),
            TableId::Findings => FindingsBuilder::table_doc(),
            TableId::Boot => BootBuilder::table_doc(),
        }
    }

    /// Its Arrow schema (built once per table).
    pub fn schema(self) -> SchemaRef {
        static SCHEMAS: std::sync::OnceLock<Vec<SchemaRef>> = std::sync::OnceLock::new();
        let all = SCHEMAS.get_or_init(|| {
            TableId::ALL
                .iter()
                .map(|t| {
                    let fields: Vec<Field> = t
                        .columns()
                        .into_iter()
                        .map(|c| Field::new(c.name, c.data_type, c.nullable))
                        .collect();
                    Arc::new(Schema::new(fields))
                })
                .collect()
        });
        all[self as usize].clone()
    }
}

table! {
    /// One row per input file, readable or not.
    FileRow, FilesBuilder, Files => "files" {
        /// The file's number in this run (0, 1, …: arguments in order, directories walked in
        /// sorted order); every other table names its file by this id.
        file_id: U32,
        /// The path as given or as found in a walked directory.
        path: Text,
        /// `ok`, `violation`, `inconclusive`, `no-events` (no event of ours) or `error`
        /// (could not be read), as `wsktrace check` says.
        status: Text,
        /// Why the file could not be read, or the errors met while reading it (the rest was
        /// read), joined by `; `.
        error: Opt<Text>,
        /// Stable id of the first error (`not-etl`, `truncated`, …; see docs/pipeline.md).
        error_id: Opt<Text>,
        /// Byte offset in the file of the first error, when it has one.
        error_offset: Opt<I64>,
        /// Errors met (0 for a clean read; 1 for a file that could not be read at all).
        read_errors: U32,
        /// Windows version that wrote the trace (`10.0`).
        os_version: Opt<Text>,
        /// Windows build number.
        os_build: Opt<U32>,
        /// Timestamp clock of the session (`QPC`, `system time`, `CPU cycle counter`).
        clock: Opt<Text>,
        /// Processors of the machine.
        processors: Opt<U32>,
        /// Pointer size of the writer, bytes (4 or 8).
        pointer_size_bytes: Opt<U32>,
        /// ETW buffer size, bytes.
        buffer_size_bytes: Opt<U32>,
        /// Logger (session) name.
        logger_name: Opt<Text>,
        /// System boot, UTC (when the header tells it).
        boot_utc: Opt<Utc>,
        /// Trace start, UTC.
        start_utc: Opt<Utc>,
        /// Trace end, UTC: the header's end time, or the last event's.
        end_utc: Opt<Utc>,
        /// Trace start since boot, nanoseconds.
        start_since_boot_ns: Opt<I64>,
        /// Trace end minus start, nanoseconds.
        duration_ns: Opt<I64>,
        /// Records in the file, all providers.
        records: Opt<I64>,
        /// Events of ours (rows of `events`).
        events: Opt<I64>,
        /// Events of ours that could not be decoded (each counts as lost for the verdicts).
        undecodable_events: Opt<I64>,
        /// Kernel-PnP DriverInit events (226/227) of other drivers.
        pnp_events: Opt<I64>,
        /// Events handed on after later ones (their verdicts become inconclusive).
        out_of_order_events: Opt<I64>,
        /// Events the logger reported lost (logfile header).
        events_lost: Opt<I64>,
        /// Buffers the logger reported lost (logfile header).
        buffers_lost: Opt<I64>,
        /// Registrations (rows of `registrations`).
        registrations: Opt<I64>,
        /// Registrations with verdict `violation`.
        violations: Opt<I64>,
        /// Registrations with verdict `inconclusive`.
        inconclusive: Opt<I64>,
        /// Warnings.
        warnings: Opt<I64>,
    }
}

table! {
    /// One row per event of ours (`Wsktrace.WskClient`), in timestamp order within a file.
    /// Columns after `opcode` are the events' fields (null where an event has no such
    /// field).
    EventRow, EventsBuilder, Events => "events" {
        /// File (`files.file_id`).
        file_id: U32,
        /// Position of the event within its file (0, 1, … in timestamp order).
        seq: I64,
        /// Time since trace start, nanoseconds.
        ts_ns: I64,
        /// Time since boot, nanoseconds (when the header tells the boot time).
        since_boot_ns: Opt<I64>,
        /// The instant, UTC.
        ts_utc: Opt<Utc>,
        /// Thread id.
        tid: U32,
        /// Activity id shared by a Start/Stop pair (null when zero).
        activity_id: Opt<Text>,
        /// ETW event name (`CaptureProviderNpi`).
        event: Text,
        /// `Start`, `Stop` or `Info`.
        opcode: Text,
        /// `ClientName`: the client (service) name.
        client_name: Opt<Text>,
        /// `RegistrationId`.
        registration_id: Opt<U32>,
        /// `CaptureId`.
        capture_id: Opt<U32>,
        /// `NpiVersion`: the requested WSK version (`major << 8 | minor`; 256 = 1.0).
        npi_version: Opt<U16>,
        /// `Status`: the NTSTATUS code.
        status: Opt<U32>,
        /// The NTSTATUS name (`STATUS_SUCCESS`), null for a code without one.
        status_name: Opt<Text>,
        /// `DurationNs`: time spent in the call, nanoseconds.
        duration_ns: Opt<I64>,
        /// `WaitTimeoutMs`: 0 = `WSK_NO_WAIT`, 4294967295 = `WSK_INFINITE_WAIT`, else
        /// milliseconds.
        wait_timeout_ms: Opt<U32>,
        /// `CallingContext`: 0 = DriverEntry thread, 1 = worker thread, 2 = other.
        calling_context: Opt<U8>,
        /// `WaitNs`: time blocked in the call, nanoseconds.
        wait_ns: Opt<I64>,
        /// `LowestVersion`: lowest supported WSK version.
        lowest_version: Opt<U16>,
        /// `HighestVersion`: highest supported WSK version.
        highest_version: Opt<U16>,
        /// `Function`: the provider dispatch function (`WskSocket`).
        function: Opt<Text>,
        /// `HeldNs`: time from the capture's return to the release, nanoseconds.
        held_ns: Opt<I64>,
        /// `DispatchCalls`: provider dispatch calls made through the released NPI.
        dispatch_calls: Opt<U32>,
        /// `Implicit`: the release happened when the guard was dropped.
        implicit: Opt<Bool>,
        /// `CapturesOutstanding`: captured NPIs not yet released when `WskDeregister` began.
        captures_outstanding: Opt<U32>,
        /// `SocketId`: the socket, numbered from 1 per driver load (accepted connections too).
        socket_id: Opt<U32>,
        /// `SocketKind`: 0 = listening, 1 = an accepted connection.
        socket_kind: Opt<U8>,
        /// `AddressFamily`: 2 = `AF_INET`, 23 = `AF_INET6`.
        address_family: Opt<U32>,
        /// `Address`: the local address bound (`127.0.0.1`).
        address: Opt<Text>,
        /// `Port`: the local port bound.
        port: Opt<U32>,
        /// `AcceptedSocketId`: the connection an accept returned (0: none).
        accepted_socket_id: Opt<U32>,
        /// `RemoteAddress`: the connection's remote address (empty: none).
        remote_address: Opt<Text>,
        /// `RemotePort`: the connection's remote port.
        remote_port: Opt<U32>,
    }
}

table! {
    /// One row per registration (a successful `WskRegister`, or the first event of one whose
    /// `WskRegister` is not in the trace), with its verdict.
    RegistrationRow, RegistrationsBuilder, Registrations => "registrations" {
        /// File (`files.file_id`).
        file_id: U32,
        /// Registration id, as the driver numbers them.
        registration_id: U32,
        /// 1, 2, … in order of appearance in the file (ids can be reused).
        instance: U32,
        /// The client (DriverEntry's `ClientName`), when known.
        client: Opt<Text>,
        /// `ok`, `inconclusive` or `violation`.
        verdict: Text,
        /// Why inconclusive, joined by `; `.
        reasons: Opt<Text>,
        /// First event of the registration, nanoseconds since trace start.
        first_ns: I64,
        /// Last event of the registration, nanoseconds since trace start.
        last_ns: I64,
        /// First event, UTC.
        first_utc: Opt<Utc>,
        /// Last event, UTC.
        last_utc: Opt<Utc>,
        /// Requested WSK version (`major << 8 | minor`), when `WskRegister` is in the trace.
        npi_version: Opt<U16>,
        /// Time spent in `WskRegister`, nanoseconds.
        register_duration_ns: Opt<I64>,
        /// Lowest supported version `WskQueryProviderCharacteristics` returned.
        lowest_version: Opt<U16>,
        /// Highest supported version `WskQueryProviderCharacteristics` returned.
        highest_version: Opt<U16>,
        /// Captures attempted.
        captures: U32,
        /// Findings of severity `violation`.
        violations: U32,
        /// Findings of severity `inconclusive`.
        inconclusive: U32,
        /// Findings of severity `warning`.
        warnings: U32,
        /// `WskDeregister` call, nanoseconds since trace start.
        deregister_start_ns: Opt<I64>,
        /// Time blocked in `WskDeregister`, nanoseconds.
        deregister_wait_ns: Opt<I64>,
    }
}

table! {
    /// One row per capture (`WskCaptureProviderNPI` call): its wait, outcome and first
    /// release. The `wait_ns` of a file's rows give exactly the wait distributions of
    /// `wsktrace latency`. A release of a capture already released (a `double-release`
    /// finding) is a row of its own with only the release columns.
    CaptureRow, CapturesBuilder, Captures => "captures" {
        /// File (`files.file_id`).
        file_id: U32,
        /// Registration id.
        registration_id: U32,
        /// Capture id.
        capture_id: U32,
        /// The client of its registration, when known.
        client: Opt<Text>,
        /// Thread that called capture (or returned from it, without the call in the trace).
        tid: U32,
        /// `no-wait`, `infinite`, `timeout <n> ms`, or `unknown` (the call is not in the
        /// trace).
        wait_mode: Text,
        /// The timeout argument: 0 = `WSK_NO_WAIT`, 4294967295 = `WSK_INFINITE_WAIT`, else
        /// milliseconds.
        wait_timeout_ms: Opt<U32>,
        /// `driver-entry-thread`, `worker-thread`, `other-thread` or `unknown`.
        calling_context: Text,
        /// The call, nanoseconds since trace start.
        start_ns: Opt<I64>,
        /// The call, UTC.
        start_utc: Opt<Utc>,
        /// The return, nanoseconds since trace start (null: not returned in the trace).
        stop_ns: Opt<I64>,
        /// The NTSTATUS code it returned.
        status: Opt<U32>,
        /// The status name (`STATUS_SUCCESS`), or its code in hex.
        outcome: Opt<Text>,
        /// Time blocked in the call as the driver measured it (`WaitNs`), nanoseconds.
        wait_ns: Opt<I64>,
        /// Return minus call timestamps, nanoseconds.
        wait_from_timestamps_ns: Opt<I64>,
        /// First `WskReleaseProviderNPI` of it, nanoseconds since trace start.
        release_ns: Opt<I64>,
        /// Time held, capture return to release (`HeldNs` of the first release),
        /// nanoseconds.
        held_ns: Opt<I64>,
        /// Provider dispatch calls made through it (`DispatchCalls` of the first release).
        dispatch_calls: Opt<U32>,
        /// `DispatchCall` events through it in the trace before its release.
        dispatch_calls_seen: U32,
    }
}

table! {
    /// One row per finding of the balance check: violations, inconclusive findings and
    /// warnings, as `wsktrace check` reports them.
    FindingRow, FindingsBuilder, Findings => "findings" {
        /// File (`files.file_id`).
        file_id: U32,
        /// Registration id.
        registration_id: Opt<U32>,
        /// The registration's `registrations.instance`.
        instance: U32,
        /// Capture id, when the finding is about one capture.
        capture_id: Opt<U32>,
        /// The client, when known.
        client: Opt<Text>,
        /// Rule id (`double-release`; see `wsktrace check`).
        rule: Text,
        /// `violation`, `inconclusive` or `warning`.
        severity: Text,
        /// The event that completed the finding, nanoseconds since trace start.
        ts_ns: I64,
        /// The same instant, UTC.
        ts_utc: Opt<Utc>,
        /// Its thread.
        tid: U32,
        /// What happened, in one sentence.
        message: Text,
        /// Why an inconclusive finding is not a violation.
        reason: Opt<Text>,
        /// The events that show it, one per line (`<ts> tid <tid> <event>/<opcode> <fields>`).
        evidence: Text,
    }
}

table! {
    /// One row per trace and client whose DriverEntry is in the trace: what its wait for WSK
    /// cost the boot, as `wsktrace boot` reports it.
    BootRow, BootBuilder, Boot => "boot" {
        /// File (`files.file_id`).
        file_id: U32,
        /// Client (DriverEntry's `ClientName`).
        client: Text,
        /// 0 for the first DriverEntry in the trace, 1, … for later ones (the fleet summary
        /// of `wsktrace boot` counts the first).
        client_index: U32,
        /// DriverEntry start since boot, nanoseconds (null without a boot time in the header).
        driver_entry_since_boot_ns: Opt<I64>,
        /// DriverEntry start, nanoseconds since trace start.
        driver_entry_start_ns: I64,
        /// DriverEntry start, UTC.
        driver_entry_start_utc: Opt<Utc>,
        /// Thread DriverEntry ran on.
        driver_entry_tid: U32,
        /// DriverEntry duration, nanoseconds (null: did not return in the trace).
        driver_entry_duration_ns: Opt<I64>,
        /// Time blocked in capture on the DriverEntry thread during DriverEntry, nanoseconds.
        blocked_in_capture_ns: I64,
        /// WSK ready (first successful capture return) since boot, nanoseconds.
        wsk_ready_since_boot_ns: Opt<I64>,
        /// WSK ready, nanoseconds since trace start.
        wsk_ready_ns: Opt<I64>,
        /// Other drivers whose initialization waited behind ours (Kernel-PnP 226/227 on the
        /// DriverEntry thread).
        drivers_delayed: U32,
        /// The largest of their delays: how long the boot waited behind our DriverEntry,
        /// nanoseconds (0 when no driver was delayed).
        max_delay_ns: I64,
        /// The driver delayed most (`\Driver\tcpip`; the first of equals).
        max_delay_driver: Opt<Text>,
        /// The sum of their delays, nanoseconds: the blocked time counted once per driver
        /// that waited behind it, so not a time the boot lost (see `max_delay_ns`).
        total_delay_ns: I64,
    }
}

/// How DuckDB and Spark type a column (for the docs).
fn engine_types(dt: &DataType) -> (&'static str, &'static str, &'static str) {
    match dt {
        DataType::UInt8 => ("UInt8", "UTINYINT", "smallint"),
        DataType::UInt16 => ("UInt16", "USMALLINT", "int"),
        DataType::UInt32 => ("UInt32", "UINTEGER", "bigint"),
        DataType::Int64 => ("Int64", "BIGINT", "bigint"),
        DataType::Boolean => ("Boolean", "BOOLEAN", "boolean"),
        DataType::Utf8 => ("Utf8", "VARCHAR", "string"),
        DataType::Timestamp(..) => ("Timestamp(µs, +00:00)", "TIMESTAMPTZ", "timestamp"),
        _ => ("?", "?", "?"),
    }
}

/// The column list of `table` as the Markdown table `docs/export.md` shows.
pub fn columns_markdown(table: TableId) -> String {
    let mut out = String::from(
        "| column | Arrow / Parquet | DuckDB | Spark | null | what |\n|---|---|---|---|---|---|\n",
    );
    for c in table.columns() {
        let (arrow, duck, spark) = engine_types(&c.data_type);
        out.push_str(&format!(
            "| `{}` | {arrow} | {duck} | {spark} | {} | {} |\n",
            c.name,
            if c.nullable { "yes" } else { "" },
            c.doc.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Int64Array, UInt32Array};

    /// The column builders give the arrays Arrow's own constructors give for the same
    /// values, whatever the pattern of nulls (none, all, runs, single rows), batch after
    /// batch on the same builder.
    #[test]
    fn columns_equal_arrows_own_arrays() {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut ints = <Opt<U32> as Kind>::builder();
        let mut longs = <Opt<I64> as Kind>::builder();
        let mut texts = <Opt<Text> as Kind>::builder();
        let mut flags = <Opt<Bool> as Kind>::builder();
        let mut dense = <Text as Kind>::builder();
        let words = ["", "a", "WskSocket", "STATUS_SUCCESS"];
        for round in 0..40 {
            let rows = (next() % 300) as usize;
            let density = match round % 4 {
                0 => 0,
                1 => 100,
                _ => next() % 100,
            };
            let present: Vec<bool> = (0..rows).map(|_| next() % 100 < density).collect();
            let values: Vec<u64> = (0..rows).map(|_| next() >> (next() % 64)).collect();
            let opt = |i: usize| present[i].then_some(values[i]);
            let word = |i: usize| words[(values[i] % 4) as usize];
            for i in 0..rows {
                let v = opt(i);
                <Opt<U32> as Kind>::append(&mut ints, i, &v.map(|v| v as u32));
                <Opt<I64> as Kind>::append(&mut longs, i, &v);
                <Opt<Text> as Kind>::append(&mut texts, i, &v.map(|_| word(i)));
                <Opt<Bool> as Kind>::append(&mut flags, i, &v.map(|v| v % 2 == 1));
                <Text as Kind>::append(&mut dense, i, &word(i));
            }
            let want_ints = UInt32Array::from_iter((0..rows).map(|i| opt(i).map(|v| v as u32)));
            let want_longs = Int64Array::from_iter(
                (0..rows).map(|i| opt(i).map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
            );
            let want_texts = StringArray::from_iter((0..rows).map(|i| opt(i).map(|_| word(i))));
            let want_flags = BooleanArray::from_iter((0..rows).map(|i| opt(i).map(|v| v % 2 == 1)));
            let want_dense = StringArray::from_iter_values((0..rows).map(word));
            let r = format!("round {round}");
            assert_eq!(
                &want_ints as &dyn Array,
                &*<Opt<U32> as Kind>::finish(&mut ints, rows),
                "{r}"
            );
            assert_eq!(
                &want_longs as &dyn Array,
                &*<Opt<I64> as Kind>::finish(&mut longs, rows),
                "{r}"
            );
            assert_eq!(
                &want_texts as &dyn Array,
                &*<Opt<Text> as Kind>::finish(&mut texts, rows),
                "{r}"
            );
            assert_eq!(
                &want_flags as &dyn Array,
                &*<Opt<Bool> as Kind>::finish(&mut flags, rows),
                "{r}"
            );
            assert_eq!(
                &want_dense as &dyn Array,
                &*<Text as Kind>::finish(&mut dense, rows),
                "{r}"
            );
        }
    }

    #[test]
    fn builders_make_batches_of_the_schema() {
        let mut b = CapturesBuilder::default();
        b.push(&CaptureRow {
            file_id: 3,
            wait_mode: "infinite",
            calling_context: "worker-thread",
            wait_ns: Some(u64::MAX),
            ..Default::default()
        });
        b.push(&CaptureRow::default());
        assert_eq!(b.len(), 2);
        let batch = b.finish();
        assert!(b.is_empty());
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), TableId::Captures.schema());
        let wait = batch
            .column_by_name("wait_ns")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .unwrap();
        assert_eq!(wait.value(0), i64::MAX);
        assert!(wait.is_null(1));
    }

    /// Rows taken out of the builders make the batch they would have made in place, and
    /// the builders go on empty.
    #[test]
    fn taken_rows_make_the_same_batch() {
        let rows: Vec<CaptureRow> = (0..300u32)
            .map(|i| CaptureRow {
                file_id: i,
                client: (i % 3 == 0).then_some("c"),
                wait_mode: ["no-wait", "infinite"][i as usize % 2],
                wait_ns: (i % 5 != 0).then_some(u64::from(i) * 7),
                ..Default::default()
            })
            .collect();
        let (first, second) = rows.split_at(170);
        let mut in_place = CapturesBuilder::default();
        let mut taken = CapturesBuilder::default();
        for part in [first, second] {
            for r in part {
                in_place.push(r);
                taken.push(r);
            }
            let want = in_place.finish();
            let mut out = taken.take();
            assert!(taken.is_empty());
            assert_eq!(out.len(), part.len());
            assert_eq!(out.finish(), want);
        }
    }

    #[test]
    fn every_column_is_documented_and_names_carry_units() {
        for t in TableId::ALL {
            assert!(!t.doc().is_empty());
            for c in t.columns() {
                assert!(!c.doc.is_empty(), "{}.{}", t.name(), c.name);
                if c.name.ends_with("_utc") {
                    assert!(matches!(c.data_type, DataType::Timestamp(..)), "{}", c.name);
                }
                if matches!(c.data_type, DataType::Timestamp(..)) {
                    assert!(c.name.ends_with("_utc"), "{}", c.name);
                }
            }
        }
    }

    /// `docs/export.md` lists every column as the schema defines it (run with
    /// `WSKTRACE_UPDATE_DOCS=1` to rewrite the lists after a schema change).
    #[test]
    fn docs_list_the_columns() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/export.md");
        let doc = std::fs::read_to_string(&path).expect("docs/export.md");
        let mut updated = doc.clone();
        for t in TableId::ALL {
            let open = format!("<!-- columns: {} -->\n", t.name());
            let close = "<!-- /columns -->";
            let start = updated.find(&open).expect("column list marker") + open.len();
            let end = start + updated[start..].find(close).expect("end marker");
            updated.replace_range(start..end, &columns_markdown(t));
        }
        if std::env::var("WSKTRACE_UPDATE_DOCS").as_deref() == Ok("1") {
            std::fs::write(&path, &updated).unwrap();
        } else {
            assert!(
                doc == updated,
                "docs/export.md lists other columns than the schema: rerun with WSKTRACE_UPDATE_DOCS=1"
            );
        }
    }
}
