//! The test virtualenv's Python (`.venv`, made by tests/run.sh from tests/requirements.txt),
//! shared by the tests that drive Python tools (included by path).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv's Python (`$WSKTRACE_PYTHON` overrides) if it can import `module`; otherwise
/// `None` after saying why the test skips, or a panic with `CI=true`.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = [root.join(".venv"), root.join("../.venv")]
        .into_iter()
        .find(|v| v.exists())
        .unwrap_or_else(|| root.join(".venv"));
    let python = std::env::var_os("WSKTRACE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| venv.join("bin/python"));
    let ok = python.exists()
        && Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} with {module} not found (tests/run.sh creates it; required with CI=true)",
        python.display()
    );
    eprintln!(
        "skipping: {} with {module} not found (run tests/run.sh to create it)",
        python.display()
    );
    None
}
