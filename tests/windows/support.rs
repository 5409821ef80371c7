//! What the Windows tests share: where the build output is, and what its absence means.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/windows/<name>` if `tests/windows/build.sh` made it. When it is missing the test
/// is skipped (`None`), or fails under `CI=true`, where the build always runs first.
pub fn build_output(name: &str) -> Option<PathBuf> {
    let path = repo().join("target/windows").join(name);
    if path.exists() {
        return Some(path);
    }
    missing(&format!(
        "{} (run `bash tests/windows/build.sh`)",
        path.display()
    ));
    None
}

/// Reports a missing prerequisite: a panic under `CI=true`, a note on stderr otherwise.
pub fn missing(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("missing {what} (required with CI=true)");
    }
    eprintln!("skipped: missing {what}");
}

/// `tests/windows/<name>`, as text.
pub fn read_repo_file(name: &str) -> String {
    let path = repo().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
