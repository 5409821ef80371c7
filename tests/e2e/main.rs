//! End-to-end tests: the driver's lifecycle core runs on the simulated WSK subsystem
//! (`wsktrace simulate` scenarios), its trace is written as an ETL file, and the file is read
//! back through the tools' ETL reader and TraceLogging decoder — and by dissect.etl, an
//! independent parser.
//!
//! These are integration tests of the root package with the tools crate as a dev-dependency
//! (a dev-dependency cycle, which Cargo allows: both link the same `wsktrace_driver` library,
//! so the tools' `WskEvent` is the test's `WskEvent`).

#[path = "../../tools/tests/support/corpus.rs"]
mod corpus;
mod dissect;
mod readback;
mod sample;
mod scenarios;
#[path = "../../tools/tests/support/venv.rs"]
mod venv;
