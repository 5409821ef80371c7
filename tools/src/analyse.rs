//! Running the analyses over one trace: which to run ([`Selection`]), running them
//! ([`analyse`], [`analyse_file`], [`analyse_bytes`]) and what they found ([`FileAnalysis`]),
//! the input of every renderer in [`crate::report`] (as [`FileResult`]s, one per input).
//!
//! ```
//! use wsktrace_tools::analyse::{analyse_bytes, Selection};
//! use wsktrace_tools::analysis::balance::BalanceConfig;
//! use wsktrace_tools::pipeline::ReadOptions;
//!
//! let selection = Selection { balance: Some(BalanceConfig::default()), ..Default::default() };
//! let err = analyse_bytes(b"not ETL", &selection, ReadOptions::default(), &mut |_| {});
//! assert_eq!(err.unwrap_err().id(), "not-etl");
//! ```

use std::path::Path;

use serde::Serialize;

use crate::analysis::balance::{BalanceChecker, BalanceConfig, BalanceReport, Verdict};
use crate::analysis::boot::{BootAnalyzer, BootReport};
use crate::analysis::latency::{LatencyAnalyzer, LatencyConfig, LatencyReport};
use crate::analysis::timeline::{RegistrationTimeline, TimelineCollector};
use crate::analysis::{EventSink, LostEvents, PnpDriverInit, TraceContext, TraceEvent};
use crate::pipeline::{self, ReadOptions, ReadOutcome, TraceError};

/// Which analyses to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Balance check with these settings.
    pub balance: Option<BalanceConfig>,
    /// Latency with these settings.
    pub latency: Option<LatencyConfig>,
    /// Boot impact.
    pub boot: bool,
    /// Timelines (HTML).
    pub timeline: bool,
}

/// The selected analyses as one sink.
#[derive(Default)]
pub struct Selected {
    balance: Option<BalanceChecker>,
    latency: Option<LatencyAnalyzer>,
    boot: Option<BootAnalyzer>,
    timeline: Option<TimelineCollector>,
}

impl Selected {
    /// Sinks for `sel`.
    pub fn new(sel: &Selection) -> Selected {
        Selected {
            balance: sel.balance.clone().map(BalanceChecker::new),
            latency: sel.latency.clone().map(LatencyAnalyzer::new),
            boot: sel.boot.then(BootAnalyzer::default),
            timeline: sel.timeline.then(TimelineCollector::default),
        }
    }

    /// What the analyses found, with the reader's counts.
    pub fn into_analysis(self, read: ReadOutcome) -> FileAnalysis {
        FileAnalysis {
            timelines_skipped: self.timeline.as_ref().map_or(0, |t| t.skipped),
            trace: read.trace,
            records: read.records,
            events: read.events,
            undecodable: read.undecodable,
            errors: read.errors,
            balance: self.balance.map(BalanceChecker::into_report),
            latency: self.latency.map(|l| l.report()),
            boot: self.boot.map(|b| b.report()),
            timelines: self
                .timeline
                .map(|t| t.timelines().to_vec())
                .unwrap_or_default(),
        }
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $body:expr) => {
        if let Some($s) = &mut $self.balance {
            $body;
        }
        if let Some($s) = &mut $self.latency {
            $body;
        }
        if let Some($s) = &mut $self.boot {
            $body;
        }
        if let Some($s) = &mut $self.timeline {
            $body;
        }
    };
}

impl EventSink for Selected {
    fn begin(&mut self, ctx: &TraceContext) {
        each!(self, s => s.begin(ctx));
    }
    fn event(&mut self, ev: &TraceEvent) {
        each!(self, s => s.event(ev));
    }
    fn pnp(&mut self, ev: &PnpDriverInit) {
        each!(self, s => s.pnp(ev));
    }
    fn lost(&mut self, lost: &LostEvents) {
        each!(self, s => s.lost(lost));
    }
    fn finish(&mut self, end_ns: u64) {
        each!(self, s => s.finish(end_ns));
    }
}

/// Reads a trace from any [`std::io::Read`] with the selected analyses (see
/// [`pipeline::read`] for `on_error` and when the result is `Err`).
pub fn analyse<R: std::io::Read + Send>(
    src: R,
    sel: &Selection,
    options: ReadOptions,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileAnalysis, TraceError> {
    let mut sink = Selected::new(sel);
    let read = pipeline::read(src, &mut sink, options, on_error)?;
    Ok(sink.into_analysis(read))
}

/// [`analyse`] a file.
pub fn analyse_file(
    path: &Path,
    sel: &Selection,
    options: ReadOptions,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileAnalysis, TraceError> {
    let mut sink = Selected::new(sel);
    let read = pipeline::read_file(path, &mut sink, options, on_error)?;
    Ok(sink.into_analysis(read))
}

/// [`analyse`] bytes in memory.
pub fn analyse_bytes(
    bytes: &[u8],
    sel: &Selection,
    options: ReadOptions,
    on_error: &mut dyn FnMut(&TraceError),
) -> Result<FileAnalysis, TraceError> {
    let mut sink = Selected::new(sel);
    let read = pipeline::read_bytes(bytes, &mut sink, options, on_error)?;
    Ok(sink.into_analysis(read))
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What the analyses found in one readable trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileAnalysis {
    /// Header facts.
    pub trace: TraceContext,
    /// Records in the file (all providers).
    pub records: u64,
    /// Events of our provider.
    pub events: u64,
    /// Our provider's events that could not be decoded (each is also a lost event for the
    /// verdicts).
    pub undecodable: u64,
    /// Errors met while reading (the rest of the file was read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<TraceError>,
    /// Balance verdicts (`check`, `report`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<BalanceReport>,
    /// Latency (`latency`, `report`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyReport>,
    /// Boot impact (`boot`, `report`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot: Option<BootReport>,
    /// Timelines (`report`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timelines: Vec<RegistrationTimeline>,
    /// Registrations beyond the timeline limit (not drawn).
    #[serde(skip_serializing_if = "is_zero")]
    pub timelines_skipped: u64,
}

/// One input: its analysis, or why it could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileResult {
    /// The path as given (or as found in a walked directory).
    pub path: String,
    /// The analysis, or the error that stopped the input from being read.
    pub result: Result<FileAnalysis, TraceError>,
}

/// A file's overall status in `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    /// Every registration ok.
    Ok,
    /// No event of our provider in the file.
    NoEvents,
    /// Some registration inconclusive, none in violation.
    Inconclusive,
    /// Some registration in violation.
    Violation,
    /// The file could not be read.
    Error,
}

impl FileStatus {
    /// Text used by every renderer.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Ok => "ok",
            FileStatus::NoEvents => "no-events",
            FileStatus::Inconclusive => "inconclusive",
            FileStatus::Violation => "violation",
            FileStatus::Error => "error",
        }
    }
}

impl FileResult {
    /// The file's status.
    pub fn status(&self) -> FileStatus {
        match &self.result {
            Err(_) => FileStatus::Error,
            Ok(a) if a.events == 0 => FileStatus::NoEvents,
            Ok(a) => match a.balance.as_ref().map(|b| b.verdict) {
                Some(Verdict::Violation) => FileStatus::Violation,
                Some(Verdict::Inconclusive) => FileStatus::Inconclusive,
                _ => FileStatus::Ok,
            },
        }
    }

    /// Every error of this input: the one that stopped it, or those met while reading it.
    pub fn errors(&self) -> &[TraceError] {
        match &self.result {
            Err(e) => std::slice::from_ref(e),
            Ok(a) => &a.errors,
        }
    }
}
