//! Subcommand implementations behind `main.rs` (which only parses arguments and dispatches).

pub mod dump;
pub mod simulate;
