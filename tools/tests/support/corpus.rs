//! For tests: where the shared corpus of real Windows-written ETL files is, for tests and
//! benchmarks (one file, included by path: `#[path = ".../tests/support/corpus.rs"] mod
//! corpus;`).
//!
//! `$WSKTRACE_CORPUS` names the corpus folder (the one holding etl/public/, or etl/public
//! itself); otherwise it is `shared/corpus` beside the repository (`../shared` from the
//! repository root). With `CI=true` a missing corpus fails the caller (CI must prove that the
//! corpus tests ran); elsewhere the caller is told to skip, and says so.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The corpus's `etl/public` folder (the one holding `EXPECTED.jsonl`), if it can be found.
pub fn etl_dir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(c) = std::env::var_os("WSKTRACE_CORPUS") {
        let c = PathBuf::from(c);
        candidates.push(c.join("etl/public"));
        candidates.push(c);
    }
    // The including crate is the repository root or `tools/` in it: look beside each parent.
    for dir in Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .take(2)
    {
        candidates.push(dir.join("shared/corpus/etl/public"));
    }
    candidates
        .into_iter()
        .find(|c| c.join("EXPECTED.jsonl").is_file())
}

/// [`etl_dir`] for a test named `what`: `None` (after a skip notice on stderr) when the corpus
/// is missing on a developer machine.
///
/// # Panics
/// When the corpus is missing and `CI=true`.
pub fn etl_dir_or_skip(what: &str) -> Option<PathBuf> {
    let dir = etl_dir();
    if dir.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what}: ETL corpus not found ($WSKTRACE_CORPUS or ../shared/corpus); required with CI=true"
        );
        eprintln!("{what}: ETL corpus not found ($WSKTRACE_CORPUS or ../shared/corpus): skipped");
    }
    dir
}

/// The `.etl` files under `dir`, sorted.
pub fn etl_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "etl") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
