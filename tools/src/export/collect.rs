//! One trace's rows. [`TraceRows`] is an [`EventSink`]: `events` and `captures` rows are made
//! as the events come, while the balance check and the boot analysis run beside; each
//! registration's verdict becomes its `registrations` and `findings` rows when the check
//! gives it, and after the last event the rest of their results — the same [`FileAnalysis`]
//! the renderers print — become the `boot` and `files` rows ([`TraceRows::finish`]). The rows
//! go into the [`RowBatches`] of the reading thread, shared by the traces it reads, and on in
//! batches of [`BATCH_ROWS`]. Memory: the pending batches, the open captures and the facts of
//! the open and recently closed registrations of one trace; nothing grows with the length of
//! a trace or the number of traces.

use std::cell::RefCell;
use std::sync::Arc;

use arrow_array::RecordBatch;
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;

use super::table::{
    BootBuilder, BootRow, CaptureRow, CapturesBuilder, EventsBuilder, FileRow, FilesBuilder,
    FindingRow, FindingsBuilder, RegistrationRow, RegistrationsBuilder, RowBuilder, TableId,
};
use crate::analysis::balance::ids::IdKeyed;
use crate::analysis::balance::{BalanceChecker, BalanceConfig, RegistrationVerdict, Severity};
use crate::analysis::boot::BootAnalyzer;
use crate::analysis::latency::{context_name, outcome_name, wait_mode};
use crate::analysis::stats::fmt_ts;
use crate::analysis::{
    opcode_name, EventSink, LostEvents, PnpDriverInit, TraceContext, TraceEvent,
};
use crate::etl::header::LogfileInfo;
use crate::pipeline::{ReadOutcome, TraceError};
use crate::report::{FileAnalysis, FileResult};

/// Rows per batch handed on (and so the most rows a table holds before they are written).
pub const BATCH_ROWS: usize = 16 * 1024;

/// Where finished batches go (the table writers, or `compare`'s metrics).
pub trait BatchSink {
    /// One batch of `table`'s rows.
    fn batch(&mut self, table: TableId, batch: RecordBatch);

    /// One batch of rows still in their column builders. A sink that hands batches to other
    /// threads makes the batch there, off the reading thread (which orders and analyses the
    /// events, the longest path of an export); by default it is made here.
    fn rows(&mut self, rows: Box<dyn PendingRows>) {
        let table = rows.table();
        self.batch(table, rows.into_batch());
    }
}

/// A batch of one table's rows, made or still to be made from its column builders.
pub trait PendingRows: Send {
    /// The table.
    fn table(&self) -> TableId;
    /// The rows as a record batch.
    fn into_batch(self: Box<Self>) -> RecordBatch;
}

impl<B: RowBuilder + 'static> PendingRows for B {
    fn table(&self) -> TableId {
        B::TABLE
    }
    fn into_batch(mut self: Box<Self>) -> RecordBatch {
        self.finish()
    }
}

/// A batch already made.
pub struct MadeRows(pub TableId, pub RecordBatch);

impl PendingRows for MadeRows {
    fn table(&self) -> TableId {
        self.0
    }
    fn into_batch(self: Box<Self>) -> RecordBatch {
        self.1
    }
}

/// Which tables to make (`compare` needs no `events`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tables {
    /// Make the `events` rows.
    pub events: bool,
}

impl Tables {
    /// Every table.
    pub const ALL: Tables = Tables { events: true };
    /// Every table but `events`.
    pub const SUMMARIES: Tables = Tables { events: false };
}

/// The logfile-header facts of the `files` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderFacts {
    /// `10.0`.
    pub os_version: String,
    /// Build number.
    pub os_build: u32,
    /// Clock type name.
    pub clock: String,
    /// Processors.
    pub processors: u32,
    /// Pointer size, bytes.
    pub pointer_size: u32,
    /// Buffer size, bytes.
    pub buffer_size: u32,
    /// Logger name.
    pub logger_name: String,
    /// Boot, µs since the Unix epoch.
    pub boot_utc_us: Option<i64>,
    /// Start, ns since the Unix epoch (the events' `ts_ns` count from here).
    pub start_unix_ns: Option<i64>,
}

/// FILETIME (100 ns since 1601) of 1970-01-01T00:00:00Z.
const UNIX_EPOCH_FILETIME: i64 = 116_444_736_000_000_000;

fn filetime_unix_ns(ft: i64) -> Option<i64> {
    (ft > 0).then(|| (ft - UNIX_EPOCH_FILETIME).saturating_mul(100))
}

impl HeaderFacts {
    /// From a parsed logfile header.
    pub fn of(info: &LogfileInfo) -> HeaderFacts {
        HeaderFacts {
            os_version: info.os_version(),
            os_build: info.os_build,
            clock: info.clock_type.name(),
            processors: info.number_of_processors,
            pointer_size: info.pointer_size,
            buffer_size: info.buffer_size,
            logger_name: info.logger_name.clone(),
            boot_utc_us: filetime_unix_ns(info.boot_time).map(|ns| ns.div_euclid(1000)),
            start_unix_ns: filetime_unix_ns(info.start_time),
        }
    }

    /// The UTC instant (µs) `ts_ns` after trace start.
    fn utc(&self, ts_ns: u64) -> Option<i64> {
        let start = self.start_unix_ns?;
        Some(
            start
                .saturating_add(i64::try_from(ts_ns).unwrap_or(i64::MAX))
                .div_euclid(1000),
        )
    }
}

/// Rows of one table not handed on yet: in their column builders, or (`events`) as the
/// events they are to be made of.
trait Batching: PendingRows + Default + 'static {
    /// Rows pending.
    fn len(&self) -> usize;
    /// True when no row is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The pending rows; `self` is left empty, with as much room.
    fn take(&mut self) -> Self;
}

impl<B: RowBuilder + 'static> Batching for B {
    fn len(&self) -> usize {
        RowBuilder::len(self)
    }
    fn take(&mut self) -> Self {
        RowBuilder::take(self)
    }
}

/// Rows of one table, handed on when [`BATCH_ROWS`] are pending.
struct Pending<B: Batching> {
    rows: B,
    on: bool,
    batch_rows: usize,
}

impl<B: Batching> Pending<B> {
    fn new(on: bool, batch_rows: usize) -> Self {
        Pending {
            rows: B::default(),
            on,
            batch_rows,
        }
    }

    /// Appends one row through `push` (not called when the table is not made).
    #[inline]
    fn push_with(&mut self, push: impl FnOnce(&mut B), out: &mut dyn BatchSink) {
        if self.on {
            push(&mut self.rows);
            if self.rows.len() >= self.batch_rows {
                out.rows(Box::new(self.rows.take()));
            }
        }
    }

    fn flush(&mut self, out: &mut dyn BatchSink) {
        if self.on && !self.rows.is_empty() {
            out.rows(Box::new(self.rows.take()));
        }
    }
}

impl<B: RowBuilder + 'static> Pending<B> {
    #[inline]
    fn push(&mut self, row: &B::Row<'_>, out: &mut dyn BatchSink) {
        self.push_with(|rows| rows.push(row), out);
    }
}

/// An event of ours and the columns of its `events` row that the trace gives beside it.
/// Events wait in their batch as they are ([`EventRecords`]), and their rows are made
/// where the batch is written: appending some twenty columns per event was the largest
/// part of the reading thread's work, which orders and analyses the events, the longest
/// path of an export.
#[derive(Debug)]
struct EventRecord {
    file_id: u32,
    tid: u32,
    seq: u64,
    ts_ns: u64,
    since_boot_ns: Option<u64>,
    ts_utc: Option<i64>,
    activity: [u8; 16],
    event: WskEvent,
}

/// `events` rows still to be made, from their events.
#[derive(Debug, Default)]
struct EventRecords(Vec<EventRecord>);

impl PendingRows for EventRecords {
    fn table(&self) -> TableId {
        TableId::Events
    }
    fn into_batch(self: Box<Self>) -> RecordBatch {
        thread_local! {
            /// This thread's `events` builders, kept from batch to batch: their columns keep
            /// a batch's room instead of growing to it again each time.
            static BUILDERS: RefCell<EventsBuilder> = RefCell::new(EventsBuilder::default());
        }
        BUILDERS.with_borrow_mut(|b| self.rows_into(b))
    }
}

impl EventRecords {
    /// The rows of these events, made in `b` (left empty).
    fn rows_into(&self, b: &mut EventsBuilder) -> RecordBatch {
        for r in &self.0 {
            let desc = r.event.descriptor();
            let mut buf = [0u8; 36];
            let head = EventHead {
                file_id: r.file_id,
                seq: r.seq,
                ts_ns: r.ts_ns,
                since_boot_ns: r.since_boot_ns,
                ts_utc: r.ts_utc,
                tid: r.tid,
                activity_id: activity_text(&r.activity, &mut buf),
                event: desc.name,
                opcode: opcode_name(desc.opcode),
            };
            b.push_columns(|b, row| event_columns(b, row, &head, &r.event));
        }
        b.finish()
    }
}

impl Batching for EventRecords {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn take(&mut self) -> Self {
        EventRecords(super::table::take_vec(&mut self.0))
    }
}

/// The rows of every table not yet handed on, for one reading thread and every trace it
/// reads: a fleet of small traces goes out in batches of [`BATCH_ROWS`] rows as a large
/// trace does, not in a batch per table and trace (which cost more to write than their
/// rows).
pub struct RowBatches<S: BatchSink> {
    out: S,
    files: Pending<FilesBuilder>,
    events: Pending<EventRecords>,
    registrations: Pending<RegistrationsBuilder>,
    captures: Pending<CapturesBuilder>,
    findings: Pending<FindingsBuilder>,
    boot: Pending<BootBuilder>,
}

impl<S: BatchSink> RowBatches<S> {
    /// Rows of `tables`, to go to `out` in batches of [`BATCH_ROWS`].
    pub fn new(tables: Tables, out: S) -> Self {
        Self::with_batch_rows(tables, out, BATCH_ROWS)
    }

    /// Rows of `tables`, to go to `out` in batches of `batch_rows` (at least 1).
    pub fn with_batch_rows(tables: Tables, out: S, batch_rows: usize) -> Self {
        let batch_rows = batch_rows.max(1);
        RowBatches {
            out,
            files: Pending::new(true, batch_rows),
            events: Pending::new(tables.events, batch_rows),
            registrations: Pending::new(true, batch_rows),
            captures: Pending::new(true, batch_rows),
            findings: Pending::new(true, batch_rows),
            boot: Pending::new(true, batch_rows),
        }
    }

    fn file(&mut self, row: &FileRow<'_>) {
        self.files.push(row, &mut self.out);
    }

    /// The `events` row of the event `record` makes (not made when `events` is not).
    #[inline]
    fn event(&mut self, record: impl FnOnce() -> EventRecord) {
        self.events
            .push_with(|pending| pending.0.push(record()), &mut self.out);
    }

    fn registration(&mut self, row: &RegistrationRow<'_>) {
        self.registrations.push(row, &mut self.out);
    }

    fn capture(&mut self, row: &CaptureRow<'_>) {
        self.captures.push(row, &mut self.out);
    }

    fn finding(&mut self, row: &FindingRow<'_>) {
        self.findings.push(row, &mut self.out);
    }

    fn boot(&mut self, row: &BootRow<'_>) {
        self.boot.push(row, &mut self.out);
    }

    /// Hands on every pending row; returns the sink.
    pub fn finish(mut self) -> S {
        let out = &mut self.out;
        self.files.flush(out);
        self.events.flush(out);
        self.registrations.flush(out);
        self.captures.flush(out);
        self.findings.flush(out);
        self.boot.flush(out);
        self.out
    }
}

/// The columns of an `events` row before the event's fields.
#[derive(Clone, Copy, Debug, Default)]
struct EventHead<'a> {
    file_id: u32,
    seq: u64,
    ts_ns: u64,
    since_boot_ns: Option<u64>,
    ts_utc: Option<i64>,
    tid: u32,
    activity_id: Option<&'a str>,
    event: &'static str,
    opcode: &'static str,
}

/// Appends the `events` row of `event` as row `row` of `b`: straight into the columns its
/// fields fill (this runs for every event: a row value with every column, most of them null,
/// cost more than its values; a test holds the fields to the schema's list).
#[inline]
fn event_columns(b: &mut EventsBuilder, row: usize, head: &EventHead<'_>, event: &WskEvent) {
    use super::table::{Bool, Kind, Opt, Text, Utc, I64, U16, U32, U8};
    // `col: Kind = value` appends a value of that column's kind; the nullable columns' kind
    // is their base (`Opt<K>` appends `K` where a value is present).
    macro_rules! put {
        ($($col:ident: $kind:ty = $v:expr),+ $(,)?) => {{
            $( <$kind as Kind>::append(&mut b.$col, row, &$v); )+
        }};
    }
    macro_rules! set {
        ($($col:ident: $kind:ty = $v:expr),+ $(,)?) => {{
            $( <Opt<$kind> as Kind>::append(&mut b.$col, row, &Some($v)); )+
        }};
    }
    put!(
        file_id: U32 = head.file_id,
        seq: I64 = head.seq,
        ts_ns: I64 = head.ts_ns,
        since_boot_ns: Opt<I64> = head.since_boot_ns,
        ts_utc: Opt<Utc> = head.ts_utc,
        tid: U32 = head.tid,
        activity_id: Opt<Text> = head.activity_id,
        event: Text = head.event,
        opcode: Text = head.opcode,
    );
    let status = |b: &mut EventsBuilder, s: NtStatus| {
        <Opt<U32> as Kind>::append(&mut b.status, row, &Some(s.to_u32()));
        <Opt<Text> as Kind>::append(&mut b.status_name, row, &s.name());
    };
    match event {
        WskEvent::DriverEntryStart { client_name } => set!(client_name: Text = client_name),
        WskEvent::DriverEntryStop {
            client_name,
            status: s,
            duration_ns,
        } => {
            set!(client_name: Text = client_name);
            status(b, *s);
            set!(duration_ns: I64 = *duration_ns);
        }
        WskEvent::WskRegister {
            registration_id,
            npi_version,
            status: s,
            duration_ns,
        } => {
            set!(registration_id: U32 = *registration_id, npi_version: U16 = *npi_version);
            status(b, *s);
            set!(duration_ns: I64 = *duration_ns);
        }
        WskEvent::CaptureProviderNpiStart {
            registration_id,
            capture_id,
            wait_timeout_ms,
            calling_context,
        } => set!(
            registration_id: U32 = *registration_id,
            capture_id: U32 = *capture_id,
            wait_timeout_ms: U32 = *wait_timeout_ms,
            calling_context: U8 = *calling_context,
        ),
        WskEvent::CaptureProviderNpiStop {
            registration_id,
            capture_id,
            status: s,
            wait_ns,
        } => {
            set!(registration_id: U32 = *registration_id, capture_id: U32 = *capture_id);
            status(b, *s);
            set!(wait_ns: I64 = *wait_ns);
        }
        WskEvent::QueryProviderCharacteristics {
            registration_id,
            status: s,
            lowest_version,
            highest_version,
        } => {
            set!(registration_id: U32 = *registration_id);
            status(b, *s);
            set!(lowest_version: U16 = *lowest_version, highest_version: U16 = *highest_version);
        }
        WskEvent::DispatchCall {
            registration_id,
            capture_id,
            function,
            status: s,
            duration_ns,
        } => {
            set!(
                registration_id: U32 = *registration_id,
                capture_id: U32 = *capture_id,
                function: Text = function,
            );
            status(b, *s);
            set!(duration_ns: I64 = *duration_ns);
        }
        WskEvent::ReleaseProviderNpi {
            registration_id,
            capture_id,
            held_ns,
            dispatch_calls,
            implicit,
        } => set!(
            registration_id: U32 = *registration_id,
            capture_id: U32 = *capture_id,
            held_ns: I64 = *held_ns,
            dispatch_calls: U32 = *dispatch_calls,
            implicit: Bool = *implicit,
        ),
        WskEvent::WskDeregisterStart {
            registration_id,
            captures_outstanding,
        } => set!(
            registration_id: U32 = *registration_id,
            captures_outstanding: U32 = *captures_outstanding,
        ),
        WskEvent::WskDeregisterStop {
            registration_id,
            wait_ns,
        } => set!(registration_id: U32 = *registration_id, wait_ns: I64 = *wait_ns),
        WskEvent::DriverUnloadStart {} => {}
        WskEvent::DriverUnloadStop { duration_ns } => set!(duration_ns: I64 = *duration_ns),
        WskEvent::CaptureRefused {
            registration_id,
            wait_timeout_ms,
            calling_context,
            status: s,
        } => {
            set!(
                registration_id: U32 = *registration_id,
                wait_timeout_ms: U32 = *wait_timeout_ms,
                calling_context: U8 = *calling_context,
            );
            status(b, *s);
        }
        WskEvent::SocketCreated {
            registration_id,
            capture_id,
            socket_id,
            socket_kind,
            address_family,
        } => set!(
            registration_id: U32 = *registration_id,
            capture_id: U32 = *capture_id,
            socket_id: U32 = *socket_id,
            socket_kind: U8 = *socket_kind,
            address_family: U32 = *address_family,
        ),
        WskEvent::SocketBind {
            registration_id,
            socket_id,
            address,
            port,
            status: s,
            duration_ns,
        } => {
            set!(
                registration_id: U32 = *registration_id,
                socket_id: U32 = *socket_id,
                address: Text = address,
                port: U32 = *port,
            );
            status(b, *s);
            set!(duration_ns: I64 = *duration_ns);
        }
        WskEvent::AcceptStart {
            registration_id,
            socket_id,
        }
        | WskEvent::CloseSocketStart {
            registration_id,
            socket_id,
        } => set!(registration_id: U32 = *registration_id, socket_id: U32 = *socket_id),
        WskEvent::AcceptStop {
            registration_id,
            socket_id,
            status: s,
            accepted_socket_id,
            remote_address,
            remote_port,
            wait_ns,
        } => {
            set!(registration_id: U32 = *registration_id, socket_id: U32 = *socket_id);
            status(b, *s);
            set!(
                accepted_socket_id: U32 = *accepted_socket_id,
                remote_address: Text = remote_address,
                remote_port: U32 = *remote_port,
                wait_ns: I64 = *wait_ns,
            );
        }
        WskEvent::CloseSocketStop {
            registration_id,
            socket_id,
            status: s,
            duration_ns,
        } => {
            set!(registration_id: U32 = *registration_id, socket_id: U32 = *socket_id);
            status(b, *s);
            set!(duration_ns: I64 = *duration_ns);
        }
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (ETW's byte order: the first three groups little
/// endian), written into `buf`; `None` for the zero id.
fn activity_text<'b>(id: &[u8; 16], buf: &'b mut [u8; 36]) -> Option<&'b str> {
    if id == &[0; 16] {
        return None;
    }
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut at = 0;
    for (i, &k) in order.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            buf[at] = b'-';
            at += 1;
        }
        buf[at] = HEX[usize::from(id[k] >> 4)];
        buf[at + 1] = HEX[usize::from(id[k] & 15)];
        at += 2;
    }
    std::str::from_utf8(buf).ok()
}

/// The text made for the last key, kept while the next keys are the same.
#[derive(Debug)]
struct LastText<K> {
    last: Option<(K, String)>,
}

impl<K> Default for LastText<K> {
    fn default() -> Self {
        LastText { last: None }
    }
}

impl<K: Copy + PartialEq> LastText<K> {
    fn get(&mut self, key: K, make: impl FnOnce(K) -> String) -> &str {
        if self.last.as_ref().is_none_or(|(k, _)| *k != key) {
            self.last = Some((key, make(key)));
        }
        self.last.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

/// A capture seen so far: its call, return, first release and dispatch calls.
#[derive(Debug, Default)]
struct OpenCapture {
    /// Call: (ts, tid, timeout, calling context).
    start: Option<(u64, u32, u32, u8)>,
    /// Return: (ts, tid, status, wait).
    stop: Option<(u64, u32, NtStatus, u64)>,
    /// First release: (ts, held, dispatch calls).
    release: Option<(u64, u64, u32)>,
    dispatch_seen: u32,
}

/// A map that holds few entries at a time in most traces (the open captures and
/// registrations: a capture is released soon after it returns, a driver holds one or two
/// registrations): up to [`FewMap::FEW`] entries are a list searched in place, which costs
/// less than hashing each event's key and moving the entries in and out of a table; past it
/// (a trace holding many at once) they move to a hash map until it empties. The list's keys
/// are apart from its values, so a search reads a line or two of keys, not every value.
#[derive(Debug)]
struct FewMap<K, V> {
    keys: Vec<K>,
    values: Vec<V>,
    many: IdKeyed<K, V>,
}

impl<K, V> Default for FewMap<K, V> {
    fn default() -> Self {
        FewMap {
            keys: Vec::new(),
            values: Vec::new(),
            many: IdKeyed::default(),
        }
    }
}

impl<K: Copy + Eq + std::hash::Hash, V> FewMap<K, V> {
    /// Most entries the list holds.
    const FEW: usize = 16;

    /// Where `key` is in the list (while the map is one).
    #[inline]
    fn position(&self, key: &K) -> Option<usize> {
        self.keys.iter().position(|k| k == key)
    }

    fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if self.many.is_empty() {
            let i = self.position(key)?;
            Some(&mut self.values[i])
        } else {
            self.many.get_mut(key)
        }
    }

    fn get(&self, key: &K) -> Option<&V> {
        if self.many.is_empty() {
            self.position(key).map(|i| &self.values[i])
        } else {
            self.many.get(key)
        }
    }

    /// The value of `key`, added as `V::default()` if absent.
    fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        if self.many.is_empty() {
            let i = match self.position(&key) {
                Some(i) => i,
                None => return self.add(key, V::default()),
            };
            return &mut self.values[i];
        }
        self.many.entry(key).or_default()
    }

    /// Sets the value of `key`.
    fn insert(&mut self, key: K, value: V) {
        if let Some(v) = self.get_mut(&key) {
            *v = value;
        } else {
            self.add(key, value);
        }
    }

    /// Adds `key`, absent, with `value`.
    fn add(&mut self, key: K, value: V) -> &mut V {
        if self.many.is_empty() && self.keys.len() < Self::FEW {
            self.keys.push(key);
            self.values.push(value);
            let last = self.values.len() - 1;
            return &mut self.values[last];
        }
        let list = self.keys.drain(..).zip(self.values.drain(..));
        self.many.extend(list);
        self.many.entry(key).or_insert(value)
    }

    fn remove(&mut self, key: &K) -> Option<V> {
        if self.many.is_empty() {
            let i = self.position(key)?;
            self.keys.swap_remove(i);
            Some(self.values.swap_remove(i))
        } else {
            self.many.remove(key)
        }
    }

    /// The entries, in no order.
    fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.keys.iter().zip(&self.values).chain(self.many.iter())
    }
}

/// A capture's key: (registration id, capture id).
type CaptureKey = (u32, u32);

/// What the `registrations` rows take from the events beside the balance verdict.
#[derive(Clone, Debug, Default)]
struct RegistrationFacts {
    /// The client, in [`TraceRows::clients`].
    client: Option<usize>,
    npi_version: u16,
    register_duration_ns: u64,
    versions: Option<(u16, u16)>,
    deregister_start_ns: Option<u64>,
    deregister_wait_ns: Option<u64>,
}

/// The rows of one trace, as an [`EventSink`] (see the module doc).
pub struct TraceRows<'o, S: BatchSink> {
    file_id: u32,
    header: Option<HeaderFacts>,
    since_boot_ns: Option<u64>,
    rows: &'o mut RowBatches<S>,
    seq: u64,
    open_captures: FewMap<CaptureKey, OpenCapture>,
    /// Open registrations (id → `WskRegister` time, facts) and the closed ones.
    open_registrations: FewMap<u32, (u64, RegistrationFacts)>,
    closed_registrations: ClosedRegistrations,
    /// The balance verdicts being turned into rows (kept for its room).
    verdicts: Vec<RegistrationVerdict>,
    /// Every client a DriverEntry named (the facts and rows refer to them by index: no
    /// reference count to touch per capture).
    clients: Vec<Arc<str>>,
    /// The client of the DriverEntry running on each thread, and the last one started.
    driver_entry: IdKeyed<u32, usize>,
    last_client: Option<usize>,
    /// The text of the last capture's wait mode and outcome (most captures of a trace share
    /// them; made once, not per row).
    wait_mode: LastText<u32>,
    outcome: LastText<NtStatus>,
    balance: BalanceChecker,
    boot: BootAnalyzer,
    end_ns: Option<u64>,
}

impl<'o, S: BatchSink> TraceRows<'o, S> {
    /// Rows of file `file_id` (its header facts when it has a valid header) go to `rows`.
    pub fn new(
        file_id: u32,
        header: Option<HeaderFacts>,
        balance: BalanceConfig,
        rows: &'o mut RowBatches<S>,
    ) -> Self {
        TraceRows {
            file_id,
            header,
            since_boot_ns: None,
            rows,
            seq: 0,
            open_captures: FewMap::default(),
            open_registrations: FewMap::default(),
            closed_registrations: ClosedRegistrations::default(),
            verdicts: Vec::new(),
            clients: Vec::new(),
            driver_entry: IdKeyed::default(),
            last_client: None,
            wait_mode: LastText::default(),
            outcome: LastText::default(),
            balance: BalanceChecker::new(BalanceConfig {
                keep_ok: true,
                ..balance
            }),
            boot: BootAnalyzer::default(),
            end_ns: None,
        }
    }

    fn utc(&self, ts_ns: u64) -> Option<i64> {
        self.header.as_ref()?.utc(ts_ns)
    }

    fn event_row(&mut self, ev: &TraceEvent) {
        let seq = self.seq;
        self.seq += 1;
        let (file_id, since_boot_ns, ts_utc) = (
            self.file_id,
            self.since_boot_ns.map(|b| b.saturating_add(ev.ts_ns)),
            self.utc(ev.ts_ns),
        );
        self.rows.event(|| EventRecord {
            file_id,
            tid: ev.tid,
            seq,
            ts_ns: ev.ts_ns,
            since_boot_ns,
            ts_utc,
            activity: ev.activity,
            event: ev.event.clone(),
        });
    }

    fn client_for(&self, tid: u32) -> Option<usize> {
        self.driver_entry.get(&tid).copied().or(self.last_client)
    }

    fn close_registration(&mut self, id: u32) {
        if let Some((first, facts)) = self.open_registrations.remove(&id) {
            self.closed_registrations.push(id, first, facts);
        }
    }

    /// Follows the registration facts (the events the verdicts do not keep).
    fn registration_event(&mut self, ev: &TraceEvent) {
        match &ev.event {
            WskEvent::DriverEntryStart { client_name } => {
                let known = self.clients.iter().position(|c| **c == **client_name);
                let client = known.unwrap_or_else(|| {
                    self.clients.push(Arc::from(client_name.as_str()));
                    self.clients.len() - 1
                });
                self.driver_entry.insert(ev.tid, client);
                self.last_client = Some(client);
            }
            WskEvent::DriverEntryStop { .. } => {
                self.driver_entry.remove(&ev.tid);
            }
            WskEvent::WskRegister {
                registration_id,
                npi_version,
                status,
                duration_ns,
            } if status.is_success() => {
                self.close_registration(*registration_id);
                let facts = RegistrationFacts {
                    client: self.client_for(ev.tid),
                    npi_version: *npi_version,
                    register_duration_ns: *duration_ns,
                    ..Default::default()
                };
                self.open_registrations
                    .insert(*registration_id, (ev.ts_ns, facts));
            }
            WskEvent::QueryProviderCharacteristics {
                registration_id,
                lowest_version,
                highest_version,
                status,
            } if status.is_success() => {
                if let Some((_, f)) = self.open_registrations.get_mut(registration_id) {
                    f.versions = Some((*lowest_version, *highest_version));
                }
            }
            WskEvent::WskDeregisterStart {
                registration_id, ..
            } => {
                if let Some((_, f)) = self.open_registrations.get_mut(registration_id) {
                    f.deregister_start_ns = Some(ev.ts_ns);
                }
            }
            WskEvent::WskDeregisterStop {
                registration_id,
                wait_ns,
            } => {
                if let Some((_, f)) = self.open_registrations.get_mut(registration_id) {
                    f.deregister_wait_ns = Some(*wait_ns);
                }
                self.close_registration(*registration_id);
                self.emit_registration_captures(*registration_id);
            }
            _ => {}
        }
    }

    /// Follows captures; a capture's row is made at its release, failed return, the end of
    /// its registration's deregistration (once returned), or the trace's end.
    fn capture_event(&mut self, ev: &TraceEvent) {
        match &ev.event {
            WskEvent::CaptureProviderNpiStart {
                registration_id,
                capture_id,
                wait_timeout_ms,
                calling_context,
            } => {
                let key = (*registration_id, *capture_id);
                // Emitted, the key is absent: added without a search.
                self.emit_capture(key);
                self.open_captures.add(
                    key,
                    OpenCapture {
                        start: Some((ev.ts_ns, ev.tid, *wait_timeout_ms, *calling_context)),
                        ..Default::default()
                    },
                );
            }
            WskEvent::CaptureProviderNpiStop {
                registration_id,
                capture_id,
                status,
                wait_ns,
            } => {
                let key = (*registration_id, *capture_id);
                if self
                    .open_captures
                    .get(&key)
                    .is_some_and(|c| c.stop.is_some() || c.release.is_some())
                {
                    self.emit_capture(key);
                }
                let c = self.open_captures.get_or_default(key);
                c.stop = Some((ev.ts_ns, ev.tid, *status, *wait_ns));
                if !status.is_success() {
                    self.emit_capture(key);
                }
            }
            WskEvent::DispatchCall {
                registration_id,
                capture_id,
                ..
            } => {
                if let Some(c) = self.open_captures.get_mut(&(*registration_id, *capture_id)) {
                    c.dispatch_seen += 1;
                }
            }
            WskEvent::ReleaseProviderNpi {
                registration_id,
                capture_id,
                held_ns,
                dispatch_calls,
                ..
            } => {
                let key = (*registration_id, *capture_id);
                let c = self.open_captures.get_or_default(key);
                c.release = Some((ev.ts_ns, *held_ns, *dispatch_calls));
                self.emit_capture(key);
            }
            _ => {}
        }
    }

    /// The captures of a registration that deregistered and have returned (held ones, never
    /// released); a wait its deregistration cancels still returns afterwards.
    fn emit_registration_captures(&mut self, registration: u32) {
        let mut keys: Vec<(u32, u32)> = self
            .open_captures
            .iter()
            .filter(|(k, c)| k.0 == registration && c.stop.is_some())
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        for key in keys {
            self.emit_capture(key);
        }
    }

    fn emit_capture(&mut self, key: (u32, u32)) {
        let Some(c) = self.open_captures.remove(&key) else {
            return;
        };
        let start_utc = c.start.and_then(|s| self.utc(s.0));
        let client = self
            .open_registrations
            .get(&key.0)
            .and_then(|(_, f)| f.client)
            .map(|i| &*self.clients[i]);
        let outcome = c
            .stop
            .map(|(_, _, status, _)| self.outcome.get(status, outcome_name));
        let mode = match c.start {
            Some(s) => self.wait_mode.get(s.2, wait_mode),
            None => "unknown",
        };
        let tid = c.start.map(|s| s.1).or(c.stop.map(|s| s.1)).unwrap_or(0);
        let row = CaptureRow {
            file_id: self.file_id,
            registration_id: key.0,
            capture_id: key.1,
            client,
            tid,
            wait_mode: mode,
            wait_timeout_ms: c.start.map(|s| s.2),
            calling_context: c.start.map_or("unknown", |s| context_name(s.3)),
            start_ns: c.start.map(|s| s.0),
            start_utc,
            stop_ns: c.stop.map(|s| s.0),
            status: c.stop.map(|s| s.2.to_u32()),
            outcome,
            wait_ns: c.stop.map(|s| s.3),
            wait_from_timestamps_ns: c.start.zip(c.stop).map(|(a, b)| b.0.saturating_sub(a.0)),
            release_ns: c.release.map(|r| r.0),
            held_ns: c.release.map(|r| r.1),
            dispatch_calls: c.release.map(|r| r.2),
            dispatch_calls_seen: c.dispatch_seen,
        };
        self.rows.capture(&row);
    }

    /// The rows of the verdicts the balance check gave since the last call, with the facts
    /// of their registrations (then forgotten).
    fn emit_verdicts(&mut self) {
        let mut verdicts = std::mem::take(&mut self.verdicts);
        self.balance.take_verdicts(&mut verdicts);
        let rows = FileRows {
            file_id: self.file_id,
            header: self.header.as_ref(),
        };
        for v in verdicts.drain(..) {
            let facts = self
                .closed_registrations
                .take(v.registration, v.first_ts_ns)
                .or_else(|| {
                    // Still open here: the check also ends a registration at its driver's
                    // unload, which does not close its facts (later events may need them).
                    let (first, facts) = self.open_registrations.get(&v.registration)?;
                    (*first == v.first_ts_ns).then(|| facts.clone())
                });
            rows.verdict_rows(&v, facts.as_ref(), self.rows);
        }
        self.verdicts = verdicts;
    }

    /// After the read (`read`: what the pipeline reported): the remaining rows of every
    /// table and the file's row. Returns the file's result (the one the renderers take, but
    /// for the registrations' verdicts, which are rows already: its counts still hold them).
    pub fn finish(mut self, path: &str, read: ReadOutcome) -> FileResult {
        let mut keys: Vec<CaptureKey> = self.open_captures.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        for key in keys {
            self.emit_capture(key);
        }
        for id in self
            .open_registrations
            .iter()
            .map(|(k, _)| *k)
            .collect::<Vec<_>>()
        {
            self.close_registration(id);
        }
        self.emit_verdicts();
        let extra = ReadExtra {
            pnp: read.pnp,
            out_of_order: read.out_of_order,
            end_ns: self.end_ns,
        };
        let file = FileResult {
            path: path.to_string(),
            result: Ok(FileAnalysis {
                trace: read.trace,
                records: read.records,
                events: read.events,
                undecodable: read.undecodable,
                errors: read.errors,
                balance: Some(self.balance.into_report()),
                boot: Some(self.boot.report()),
                ..Default::default()
            }),
        };
        let rows = FileRows {
            file_id: self.file_id,
            header: self.header.as_ref(),
        };
        rows.boot_rows(&file, self.rows);
        rows.file_row(&file, &extra, self.rows);
        file
    }
}

impl<S: BatchSink> EventSink for TraceRows<'_, S> {
    fn begin(&mut self, ctx: &TraceContext) {
        self.since_boot_ns = ctx.start_since_boot_ns;
        self.balance.begin(ctx);
        self.boot.begin(ctx);
    }
    fn event(&mut self, ev: &TraceEvent) {
        self.event_row(ev);
        self.capture_event(ev);
        self.registration_event(ev);
        self.balance.event(ev);
        if self.balance.has_verdicts() {
            self.emit_verdicts();
        }
        self.boot.event(ev);
    }
    fn pnp(&mut self, ev: &PnpDriverInit) {
        self.boot.pnp(ev);
    }
    fn lost(&mut self, lost: &LostEvents) {
        self.balance.lost(lost);
        self.boot.lost(lost);
    }
    fn finish(&mut self, end_ns: u64) {
        self.balance.finish(end_ns);
        self.boot.finish(end_ns);
        self.end_ns = Some(end_ns);
    }
}

/// The `files` row of a file that could not be read (`error` says why).
pub fn unreadable_file<S: BatchSink>(
    file_id: u32,
    path: &str,
    error: &TraceError,
    out: &mut RowBatches<S>,
) {
    let file = FileResult {
        path: path.to_string(),
        result: Err(error.clone()),
    };
    let rows = FileRows {
        file_id,
        header: None,
    };
    rows.file_row(&file, &ReadExtra::default(), out);
}

/// What the `files` row takes from the read beside the [`FileAnalysis`].
#[derive(Clone, Copy, Debug, Default)]
struct ReadExtra {
    pnp: u64,
    out_of_order: u64,
    end_ns: Option<u64>,
}

/// Turns one file's analysis into the `registrations`, `findings`, `boot` and `files` rows.
struct FileRows<'r> {
    file_id: u32,
    header: Option<&'r HeaderFacts>,
}

/// The facts of closed registrations whose verdicts are still to come (a closed
/// registration still sees a deregistration race's late events), by (id, `WskRegister`
/// time).
#[derive(Debug, Default)]
struct ClosedRegistrations(IdKeyed<(u32, u64), RegistrationFacts>);

impl ClosedRegistrations {
    fn push(&mut self, id: u32, first_ns: u64, facts: RegistrationFacts) {
        self.0.insert((id, first_ns), facts);
    }

    /// The facts of registration `id` registered at `first_ns`, taken out.
    fn take(&mut self, id: u32, first_ns: u64) -> Option<RegistrationFacts> {
        self.0.remove(&(id, first_ns))
    }
}

impl FileRows<'_> {
    fn utc(&self, ts_ns: u64) -> Option<i64> {
        self.header?.utc(ts_ns)
    }

    /// The `boot` rows of the file's analysis.
    fn boot_rows<S: BatchSink>(&self, file: &FileResult, out: &mut RowBatches<S>) {
        let Ok(a) = &file.result else { return };
        if let Some(boot) = &a.boot {
            let since_boot = boot.trace_start_since_boot_ns;
            let trace_rel = |t: u64| t.saturating_sub(since_boot.unwrap_or(0));
            for (i, c) in boot.clients.iter().enumerate() {
                let largest = c
                    .delayed_drivers
                    .iter()
                    .min_by_key(|d| std::cmp::Reverse(d.delay_ns));
                let start = trace_rel(c.driver_entry_start_ns);
                let row = BootRow {
                    file_id: self.file_id,
                    client: &c.client,
                    client_index: u32::try_from(i).unwrap_or(u32::MAX),
                    driver_entry_since_boot_ns: c
                        .relative_to_boot
                        .then_some(c.driver_entry_start_ns),
                    driver_entry_start_ns: start,
                    driver_entry_start_utc: self.utc(start),
                    driver_entry_tid: c.driver_entry_tid,
                    driver_entry_duration_ns: c.driver_entry_duration_ns,
                    blocked_in_capture_ns: c.blocked_in_capture_ns,
                    wsk_ready_since_boot_ns: c.wsk_ready_ns.filter(|_| c.relative_to_boot),
                    wsk_ready_ns: c.wsk_ready_ns.map(trace_rel),
                    drivers_delayed: u32::try_from(c.delayed_drivers.len()).unwrap_or(u32::MAX),
                    max_delay_ns: c.max_delay_ns,
                    max_delay_driver: largest.map(|d| d.driver.as_str()),
                    total_delay_ns: c.total_delay_ns,
                };
                out.boot(&row);
            }
        }
    }

    /// The `registrations` row of verdict `r` (`facts`: what the events told of it beside)
    /// and its `findings` rows.
    fn verdict_rows<S: BatchSink>(
        &self,
        r: &RegistrationVerdict,
        facts: Option<&RegistrationFacts>,
        out: &mut RowBatches<S>,
    ) {
        let reasons = r.reasons.join("; ");
        let mut row = self.registration_row(r, facts);
        row.reasons = (!r.reasons.is_empty()).then_some(reasons.as_str());
        out.registration(&row);
        for f in &r.findings {
            let evidence = f
                .events
                .iter()
                .map(|e| {
                    format!(
                        "{} tid {} {}/{} {}",
                        fmt_ts(e.ts_ns),
                        e.tid,
                        e.name,
                        e.opcode,
                        e.fields
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let row = FindingRow {
                file_id: self.file_id,
                registration_id: f.registration,
                instance: r.instance,
                capture_id: f.capture,
                client: f.client.as_deref(),
                rule: f.rule.id(),
                severity: severity_name(f.severity),
                ts_ns: f.ts_ns,
                ts_utc: self.utc(f.ts_ns),
                tid: f.tid,
                message: &f.message,
                reason: f.reason.as_deref(),
                evidence: &evidence,
            };
            out.finding(&row);
        }
    }

    fn registration_row<'a>(
        &'a self,
        r: &'a RegistrationVerdict,
        facts: Option<&RegistrationFacts>,
    ) -> RegistrationRow<'a> {
        let count = |s: Severity| {
            u32::try_from(r.findings.iter().filter(|f| f.severity == s).count()).unwrap_or(u32::MAX)
        };
        RegistrationRow {
            file_id: self.file_id,
            registration_id: r.registration,
            instance: r.instance,
            client: r.client.as_deref(),
            verdict: verdict_name(r.verdict),
            reasons: None,
            first_ns: r.first_ts_ns,
            last_ns: r.last_ts_ns,
            first_utc: self.utc(r.first_ts_ns),
            last_utc: self.utc(r.last_ts_ns),
            npi_version: facts.map(|f| f.npi_version),
            register_duration_ns: facts.map(|f| f.register_duration_ns),
            lowest_version: facts.and_then(|f| f.versions).map(|v| v.0),
            highest_version: facts.and_then(|f| f.versions).map(|v| v.1),
            captures: r.captures,
            violations: count(Severity::Violation),
            inconclusive: count(Severity::Inconclusive),
            warnings: count(Severity::Warning),
            deregister_start_ns: facts.and_then(|f| f.deregister_start_ns),
            deregister_wait_ns: facts.and_then(|f| f.deregister_wait_ns),
        }
    }

    fn file_row<S: BatchSink>(
        &self,
        file: &FileResult,
        extra: &ReadExtra,
        out: &mut RowBatches<S>,
    ) {
        let status = file.status();
        let h = self.header;
        let errors = file.errors();
        let error = errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        let mut row = FileRow {
            file_id: self.file_id,
            path: &file.path,
            status: status.as_str(),
            os_version: h.map(|h| h.os_version.as_str()),
            os_build: h.map(|h| h.os_build),
            clock: h.map(|h| h.clock.as_str()),
            processors: h.map(|h| h.processors),
            pointer_size_bytes: h.map(|h| h.pointer_size),
            buffer_size_bytes: h.map(|h| h.buffer_size),
            logger_name: h.map(|h| h.logger_name.as_str()),
            boot_utc: h.and_then(|h| h.boot_utc_us),
            start_utc: h
                .and_then(|h| h.start_unix_ns)
                .map(|ns| ns.div_euclid(1000)),
            end_utc: extra.end_ns.and_then(|e| self.utc(e)),
            duration_ns: extra.end_ns,
            ..Default::default()
        };
        row.read_errors = u32::try_from(errors.len()).unwrap_or(u32::MAX);
        row.error = (!errors.is_empty()).then_some(error.as_str());
        row.error_id = errors.first().map(TraceError::id);
        row.error_offset = errors.first().and_then(TraceError::offset);
        if let Ok(a) = &file.result {
            {
                row.start_since_boot_ns = a.trace.start_since_boot_ns;
                row.records = Some(a.records);
                row.events = Some(a.events);
                row.undecodable_events = Some(a.undecodable);
                row.pnp_events = Some(extra.pnp);
                row.out_of_order_events = Some(extra.out_of_order);
                row.events_lost = Some(a.trace.events_lost);
                row.buffers_lost = Some(a.trace.buffers_lost);
                if let Some(b) = &a.balance {
                    row.registrations = Some(b.counts.total());
                    row.violations = Some(b.counts.violation);
                    row.inconclusive = Some(b.counts.inconclusive);
                    row.warnings = Some(b.counts.warnings);
                }
            }
        }
        out.file(&row);
    }
}

/// `violation`, `inconclusive`, `warning`.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Violation => "violation",
        Severity::Inconclusive => "inconclusive",
        Severity::Warning => "warning",
    }
}

fn verdict_name(v: crate::analysis::balance::Verdict) -> &'static str {
    use crate::analysis::balance::Verdict;
    match v {
        Verdict::Ok => "ok",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Violation => "violation",
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{
        Array, BooleanArray, Int64Array, StringArray, UInt16Array, UInt32Array, UInt8Array,
    };
    use wsktrace_driver::schema::{FieldValue, DESCRIPTORS};

    use super::*;
    use crate::analysis::balance::RECENT_CLOSED;

    /// One event of every kind, with distinct field values.
    fn samples() -> Vec<WskEvent> {
        let st = NtStatus::DEVICE_NOT_READY;
        vec![
            WskEvent::DriverEntryStart {
                client_name: "a".into(),
            },
            WskEvent::DriverEntryStop {
                client_name: "b".into(),
                status: st,
                duration_ns: 3,
            },
            WskEvent::WskRegister {
                registration_id: 4,
                npi_version: 0x100,
                status: st,
                duration_ns: 5,
            },
            WskEvent::CaptureProviderNpiStart {
                registration_id: 6,
                capture_id: 7,
                wait_timeout_ms: 8,
                calling_context: 2,
            },
            WskEvent::CaptureProviderNpiStop {
                registration_id: 9,
                capture_id: 10,
                status: st,
                wait_ns: 11,
            },
            WskEvent::QueryProviderCharacteristics {
                registration_id: 12,
                status: st,
                lowest_version: 13,
                highest_version: 14,
            },
            WskEvent::DispatchCall {
                registration_id: 15,
                capture_id: 16,
                function: "WskSocket".into(),
                status: st,
                duration_ns: 17,
            },
            WskEvent::ReleaseProviderNpi {
                registration_id: 18,
                capture_id: 19,
                held_ns: 20,
                dispatch_calls: 21,
                implicit: true,
            },
            WskEvent::WskDeregisterStart {
                registration_id: 22,
                captures_outstanding: 23,
            },
            WskEvent::WskDeregisterStop {
                registration_id: 24,
                wait_ns: 25,
            },
            WskEvent::DriverUnloadStart {},
            WskEvent::DriverUnloadStop { duration_ns: 26 },
            WskEvent::CaptureRefused {
                registration_id: 27,
                wait_timeout_ms: 28,
                calling_context: 1,
                status: st,
            },
            WskEvent::SocketCreated {
                registration_id: 29,
                capture_id: 30,
                socket_id: 31,
                socket_kind: 1,
                address_family: 23,
            },
            WskEvent::SocketBind {
                registration_id: 32,
                socket_id: 33,
                address: "::1".into(),
                port: 34,
                status: st,
                duration_ns: 35,
            },
            WskEvent::AcceptStart {
                registration_id: 36,
                socket_id: 37,
            },
            WskEvent::AcceptStop {
                registration_id: 38,
                socket_id: 39,
                status: st,
                accepted_socket_id: 40,
                remote_address: "127.0.0.1".into(),
                remote_port: 41,
                wait_ns: 42,
            },
            WskEvent::CloseSocketStart {
                registration_id: 43,
                socket_id: 44,
            },
            WskEvent::CloseSocketStop {
                registration_id: 45,
                socket_id: 46,
                status: st,
                duration_ns: 47,
            },
        ]
    }

    fn snake(name: &str) -> String {
        let mut out = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// The column's value at row 0 as a field value would print (`None`: null).
    fn cell(batch: &RecordBatch, column: &str) -> Option<String> {
        let c = batch
            .column_by_name(column)
            .unwrap_or_else(|| panic!("no column {column}"));
        if c.is_null(0) {
            return None;
        }
        let any = c.as_any();
        let text = if let Some(a) = any.downcast_ref::<UInt32Array>() {
            a.value(0).to_string()
        } else if let Some(a) = any.downcast_ref::<UInt16Array>() {
            a.value(0).to_string()
        } else if let Some(a) = any.downcast_ref::<UInt8Array>() {
            a.value(0).to_string()
        } else if let Some(a) = any.downcast_ref::<Int64Array>() {
            a.value(0).to_string()
        } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
            u8::from(a.value(0)).to_string()
        } else if let Some(a) = any.downcast_ref::<StringArray>() {
            a.value(0).to_string()
        } else {
            panic!("{column}: unexpected type")
        };
        Some(text)
    }

    /// A `FewMap` holds what a map would, in the list and past it: keys in a
    /// pseudo-random order of opens, updates and removals.
    #[test]
    fn few_maps_act_as_maps() {
        let mut open: FewMap<CaptureKey, OpenCapture> = FewMap::default();
        let mut model: std::collections::BTreeMap<CaptureKey, u32> = Default::default();
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        let (mut went_many, mut came_back) = (false, false);
        for step in 0..4000u32 {
            // Phases of mostly opening (up to ~60 open) and mostly closing.
            let opening = (step / 500) % 2 == 0;
            let key = (next() % 8, next() % 10);
            match (next() % 4, opening) {
                (0 | 1, true) => {
                    open.get_or_default(key).dispatch_seen = step;
                    model.insert(key, step);
                }
                (2, _) => {
                    if let Some(c) = open.get_mut(&key) {
                        c.dispatch_seen += 1;
                    }
                    if let Some(v) = model.get_mut(&key) {
                        *v += 1;
                    }
                }
                _ => {
                    let removed = open.remove(&key).map(|c| c.dispatch_seen);
                    assert_eq!(removed, model.remove(&key), "step {step}");
                }
            }
            went_many |= !open.many.is_empty();
            came_back |= went_many && open.many.is_empty() && !open.keys.is_empty();
            let mut got: Vec<(CaptureKey, u32)> =
                open.iter().map(|(k, c)| (*k, c.dispatch_seen)).collect();
            got.sort_unstable();
            let want: Vec<(CaptureKey, u32)> = model.iter().map(|(k, v)| (*k, *v)).collect();
            assert_eq!(got, want, "step {step}");
        }
        assert!(
            went_many && came_back,
            "the map was not used, or never left"
        );
    }

    /// Every field of every event of the schema lands in the column named after it, and no
    /// other field column is set.
    #[test]
    fn event_columns_follow_the_schema() {
        let samples = samples();
        for d in DESCRIPTORS {
            assert!(
                samples.iter().any(|e| e.descriptor() == d),
                "no sample of {}",
                d.variant
            );
        }
        let field_columns: Vec<String> = TableId::Events
            .columns()
            .iter()
            .skip_while(|c| c.name != "client_name")
            .map(|c| c.name.to_string())
            .filter(|c| c != "status_name")
            .collect();
        for ev in &samples {
            let mut b = EventsBuilder::default();
            b.push_columns(|b, row| event_columns(b, row, &EventHead::default(), ev));
            let batch = b.finish();
            let fields = ev.fields();
            for (name, value) in &fields {
                let want = match value {
                    FieldValue::Str(s) => s.to_string(),
                    FieldValue::U8(v) => v.to_string(),
                    FieldValue::U16(v) => v.to_string(),
                    FieldValue::U32(v) => v.to_string(),
                    FieldValue::U64(v) => v.to_string(),
                };
                assert_eq!(cell(&batch, &snake(name)), Some(want), "{name}");
            }
            let set = field_columns
                .iter()
                .filter(|c| cell(&batch, c).is_some())
                .count();
            assert_eq!(set, fields.len(), "{:?}", ev.descriptor().variant);
            let has_status = fields.iter().any(|f| f.0 == "Status");
            assert_eq!(cell(&batch, "status_name").is_some(), has_status);
        }
    }

    /// The `registrations` rows handed on.
    #[derive(Default)]
    struct Registrations(Vec<RecordBatch>);

    impl BatchSink for &mut Registrations {
        fn batch(&mut self, table: TableId, batch: RecordBatch) {
            if table == TableId::Registrations {
                self.0.push(batch);
            }
        }
    }

    /// A long trace's verdicts become rows as they are given: what waits for them (facts
    /// of closed registrations, verdicts not yet made rows) stays bounded by the open and
    /// recently closed registrations, and every row still gets its registration's facts.
    #[test]
    fn verdicts_become_rows_as_they_are_given() {
        const REGISTRATIONS: u32 = 3_000;
        let mut out = Registrations::default();
        let mut rows = RowBatches::new(Tables::ALL, &mut out);
        let mut sink = TraceRows::new(0, None, BalanceConfig::default(), &mut rows);
        sink.begin(&TraceContext::default());
        let mut ts = 0;
        let mut most_waiting = 0;
        for r in 1..=REGISTRATIONS {
            let events = crate::export::registration_lifecycle(r, "WskSocket");
            for event in events {
                ts += 10;
                sink.event(&TraceEvent {
                    ts_ns: ts,
                    tid: 4,
                    activity: [0; 16],
                    event,
                });
                assert!(!sink.balance.has_verdicts());
                most_waiting = most_waiting.max(sink.closed_registrations.0.len());
            }
        }
        EventSink::finish(&mut sink, ts + 10);
        sink.finish("t.etl", ReadOutcome::default());
        rows.finish();
        assert!(
            most_waiting <= RECENT_CLOSED + 1,
            "{most_waiting} closed registrations waited"
        );
        let batches = &out.0;
        let total: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(total, REGISTRATIONS as usize);
        for b in batches {
            let versions = b.column_by_name("npi_version").unwrap();
            assert_eq!(versions.null_count(), 0, "a row without its facts");
        }
    }
}
