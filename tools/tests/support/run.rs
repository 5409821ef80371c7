//! The `wsktrace` binary of this build, run as a user would (included by path by the tests
//! that drive the command line).

use std::process::Command;

/// Runs `wsktrace ARGS`: (exit code, stdout, stderr).
pub fn wsktrace(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wsktrace"))
        .args(args)
        .output()
        .expect("run wsktrace");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
