//! The trace pipeline: any byte source in, timestamp-ordered decoded events out, bounded
//! memory.
//!
//! The ETL reader ([`crate::etl`]) walks the buffers, the TraceLogging decoder
//! ([`crate::tracelogging`]) and the driver's schema ([`WskEvent`]) decode the events of
//! `Wsktrace.WskClient`, [`crate::kernel_pnp`] decodes Kernel-PnP DriverInit events (226/227),
//! and everything goes to an [`EventSink`] (an analysis of [`crate::analysis`]) in timestamp
//! order, with [`LostEvents`] wherever the trace lost something.
//!
//! - [`read`], [`read_bytes`], [`read_file`]: one trace (a [`Read`](std::io::Read), bytes in
//!   memory, a file) into a sink; [`ReadOutcome`] says what was read.
//! - [`open`], [`open_file`]: the ETL reader over an input, with the pipeline's errors (for
//!   walking buffers and records yourself, as `wsktrace dump` does).
//! - [`summary`]: records per provider, and of those the ones whose payload decodes
//!   (`wsktrace dump --summary`).
//! - [`TraceError`]: every error, typed, with its byte offset and buffer index.
//!
//! Analysing a trace held in memory:
//!
//! ```
//! use wsktrace_driver::ntstatus::NtStatus;
//! use wsktrace_driver::schema::WskEvent;
//! use wsktrace_tools::analysis::balance::{BalanceChecker, Rule, Verdict};
//! use wsktrace_tools::etl::write::SessionConfig;
//! use wsktrace_tools::pipeline::{self, ReadOptions};
//! use wsktrace_tools::wsk_etl::{Context, WskEtlWriter};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An ETL file in memory: one registration whose capture is released twice.
//! let mut w = WskEtlWriter::new(std::io::Cursor::new(Vec::new()), SessionConfig::default())?;
//! let at = |ms: u64| Context { since_boot_ns: 6_000_000_000 + ms * 1_000_000, processor: 0,
//!                              thread_id: 8, process_id: 4 };
//! let (reg, cap) = (1, 1);
//! let events = [
//!     WskEvent::WskRegister { registration_id: reg, npi_version: 0x100,
//!                             status: NtStatus::SUCCESS, duration_ns: 1_000 },
//!     WskEvent::CaptureProviderNpiStart { registration_id: reg, capture_id: cap,
//!                                         wait_timeout_ms: 0, calling_context: 1 },
//!     WskEvent::CaptureProviderNpiStop { registration_id: reg, capture_id: cap,
//!                                        status: NtStatus::SUCCESS, wait_ns: 0 },
//!     WskEvent::ReleaseProviderNpi { registration_id: reg, capture_id: cap, held_ns: 5,
//!                                    dispatch_calls: 0, implicit: false },
//!     WskEvent::ReleaseProviderNpi { registration_id: reg, capture_id: cap, held_ns: 6,
//!                                    dispatch_calls: 0, implicit: false },
//!     WskEvent::WskDeregisterStart { registration_id: reg, captures_outstanding: 0 },
//!     WskEvent::WskDeregisterStop { registration_id: reg, wait_ns: 0 },
//! ];
//! for (ms, event) in events.iter().enumerate() {
//!     w.write_wsk(&at(ms as u64), [0; 16], event)?;
//! }
//! let (file, _) = w.finish(6_100_000_000)?;
//! let bytes: Vec<u8> = file.into_inner();
//!
//! // Read it into the balance check.
//! let mut balance = BalanceChecker::default();
//! let outcome = pipeline::read_bytes(&bytes, &mut balance, ReadOptions::default(),
//!                                    &mut |e| eprintln!("{e}"))?;
//! assert_eq!(outcome.events, 7);
//! assert!(outcome.errors.is_empty());
//! let report = balance.report();
//! assert_eq!(report.verdict, Verdict::Violation);
//! assert_eq!(report.findings().next().map(|f| f.rule), Some(Rule::DoubleRelease));
//!
//! // Not an ETL file: a typed error that says why, with its offset.
//! let err = pipeline::read_bytes(b"# notes", &mut balance, ReadOptions::default(), &mut |_| {})
//!     .unwrap_err();
//! assert_eq!((err.id(), err.offset()), ("not-etl", Some(0)));
//! # Ok(()) }
//! ```
//!
//! # Order
//!
//! The trace is read once, in file order (another provider's record costs a GUID compare).
//! ETW buffers are per processor, so our events arrive out of timestamp order across buffers;
//! they are held in per-processor queues and released once every processor that wrote in the
//! last [`WINDOW`] buffers (and every processor the header announces, until the first
//! [`WINDOW`] buffers are read) has moved past them (each processor's buffers are in time
//! order). Memory is bounded by our events within that window, not by the file. An event
//! that still arrives after later ones were handed on is handed on anyway, after a
//! [`LostEvents`] notice, so the verdicts it could change become inconclusive rather than
//! wrong.
//!
//! # Losses
//!
//! [`LostEvents`] come from the logfile header's counts (in [`TraceContext`]), buffers flagged
//! "events lost", buffers or records that could not be read, and events of our provider that
//! could not be decoded.
//!
//! [`WskEvent`]: wsktrace_driver::schema::WskEvent
//! [`EventSink`]: crate::analysis::EventSink
//! [`LostEvents`]: crate::analysis::LostEvents
//! [`TraceContext`]: crate::analysis::TraceContext

mod decode;
mod error;
mod mapped;
mod order;
mod parallel;
mod read;
mod step;
pub mod summary;
mod walk;

#[cfg(test)]
mod tests;

pub use decode::{decode_wsk, KnownLayouts};
pub use error::{DecodeFailure, ErrorKind, FileStart, TraceError};
pub use mapped::MIN_MAPPED;
pub use order::MAX_HELD;
pub use parallel::{IN_FLIGHT, JOB, JOB_BYTES};
pub use read::{
    open, open_file, read, read_bytes, read_file, trace_context, Peeked, ReadOptions, ReadOutcome,
    Threads, BATCH, DEPTH,
};
pub use walk::WINDOW;
