//! Subcommand implementations behind `main.rs` (which only parses arguments and dispatches).

pub mod dump;
pub mod boot;
pub mod check;
pub mod files;
pub mod latency;
pub mod report;
pub mod source;
pub mod simulate;
