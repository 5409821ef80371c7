//! The README, the reference pages, the driver's sources, INF, manifests, scripts and the
//! Windows build refer only to files that are in the repository, and carry no notes about how
//! the work was organised (who owns or wrote what).

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The text files checked: the README, and the driver package's own (not the tools crate's).
fn files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| {
                ["rs", "sh", "md", "wprp", "xml", "def", "txt", "h", "toml"]
                    .contains(&ext.to_str().unwrap_or(""))
            }) {
                out.push(path);
            }
        }
    }
    let mut files = vec![
        repo().join("README.md"),
        repo().join("build.rs"),
        repo().join("Cargo.toml"),
    ];
    for dir in ["src", "manifests", "tests/windows", "docs", "scripts"] {
        walk(&repo().join(dir), &mut files);
    }
    files
}

/// Extensions of the files a reference can name.
const EXTENSIONS: [&str; 13] = [
    "rs", "md", "sh", "toml", "inx", "inf", "wprp", "xml", "def", "txt", "py", "json", "jsonl",
];

/// Backticked file and directory references in `text`: `dir/file.ext`, `FILE.md` or `dir/`
/// (no spaces, URLs, absolute paths or globs). C headers (`ddk/wsk.h`) name files of external
/// header sets and are not references into the repository.
fn path_references(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| {
            !quoted.is_empty()
                && !quoted.contains("://")
                && !quoted.starts_with('/')
                && quoted
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
        })
        .filter(|quoted| {
            let extension = quoted.rsplit_once('.').map(|(_, ext)| ext);
            (quoted.contains('/') && quoted.ends_with('/'))
                || extension.is_some_and(|ext| EXTENSIONS.contains(&ext))
                    && (quoted.contains('/') || quoted.ends_with(".md"))
        })
        .collect()
}

/// Where a reference in `file` may be relative to: the repository root, the file's directory,
/// and the package (the nearest directory above it with a `Cargo.toml`).
fn resolves(file: &Path, reference: &str) -> bool {
    let package = file
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.toml").is_file());
    [Some(repo()), file.parent(), package]
        .into_iter()
        .flatten()
        .any(|base| base.join(reference).exists())
}

#[test]
fn referenced_files_exist() {
    let mut missing = Vec::new();
    for file in files() {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for reference in path_references(&text) {
            // A build output is referred to by where the build puts it.
            if reference.starts_with("target/") {
                continue;
            }
            let found = resolves(&file, reference);
            if !found {
                missing.push(format!("{}: `{reference}`", file.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "references to files not in the repository:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn no_notes_about_who_did_the_work() {
    let mut notes = Vec::new();
    for file in files() {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (number, line) in text.lines().enumerate() {
            // Windows' Trace Data Helper (TDH) is an API's name, not a note.
            let lower = line.to_lowercase().replace("trace data helper", "tdh");
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_ascii_alphanumeric() && c != ':')
                .collect();
            if words
                .iter()
                .any(|w| *w == "owner:" || *w == "helper" || *w == "helpers")
            {
                notes.push(format!("{}:{}: {line}", file.display(), number + 1));
            }
        }
    }
    assert!(notes.is_empty(), "process notes:\n  {}", notes.join("\n  "));
}

#[test]
fn references_are_found_in_backticks() {
    let text = "see `src/glue/params.rs` and `tests/windows/` but not `wdk::ntddk` or `a b/c`";
    assert_eq!(
        path_references(text),
        ["src/glue/params.rs", "tests/windows/"]
    );
}
