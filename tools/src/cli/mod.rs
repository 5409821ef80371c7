//! Subcommand implementations behind `main.rs` (which only parses arguments and dispatches).

pub mod boot;
pub mod check;
pub mod compare;
pub mod dump;
pub mod export;
pub mod files;
pub mod fleet;
pub mod latency;
pub mod report;
pub mod simulate;
pub mod source;
