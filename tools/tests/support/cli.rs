//! The `wsktrace` binary and a scratch folder, for the command-line tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A command running the `wsktrace` binary of this build.
pub fn wsktrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsktrace"))
}

/// Runs `cmd` and requires it to succeed (its stderr in the failure message).
pub fn succeeds(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `name` in a scratch folder of the test file `test`.
pub fn tmp(test: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}
