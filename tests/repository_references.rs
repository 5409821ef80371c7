//! Every file of the repository (both crates, their tests, docs, manifests, INF and the
//! Windows build) refers only to files that are in the repository, and carries no notes about
//! how the work was organised (who owns or wrote what).

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The text files checked: every tracked source, script, document and manifest (what
/// `git ls-files` lists, so build outputs and downloads are not read).
fn files() -> Vec<PathBuf> {
    let listed = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo())
        .output()
        .expect("git ls-files runs (the test reads the repository's file list)");
    assert!(listed.status.success(), "git ls-files failed");
    let text_kinds = [
        "rs", "sh", "md", "wprp", "xml", "def", "txt", "h", "c", "toml", "py", "inx",
    ];
    String::from_utf8(listed.stdout)
        .expect("UTF-8 file names")
        .split('\0')
        .filter(|name| {
            Path::new(name)
                .extension()
                .is_some_and(|ext| text_kinds.contains(&ext.to_str().unwrap_or("")))
        })
        .map(|name| repo().join(name))
        .collect()
}

/// A file's text: UTF-8, or UTF-16LE with its byte-order mark (as INF files often are).
fn read_text(file: &Path) -> String {
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    match bytes.strip_prefix(&[0xFF, 0xFE]) {
        Some(utf16) => String::from_utf16_lossy(
            &utf16
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect::<Vec<_>>(),
        ),
        None => String::from_utf8(bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
    }
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

/// The repository's top-level directories: a path starting with one of these names a file
/// of the repository even outside backticks (`see tests/windows/build.sh`).
const TOP_DIRS: [&str; 8] = [
    "src/",
    "tools/",
    "tests/",
    "docs/",
    "manifests/",
    "inf/",
    "examples/",
    "benches/",
];

/// Unquoted references in `text`: words that start with a top-level directory and end with a
/// known extension (a sentence's full stop aside).
fn bare_references(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "_-./".contains(c)))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| {
            TOP_DIRS.iter().any(|dir| word.starts_with(dir))
                && word
                    .rsplit_once('.')
                    .is_some_and(|(_, ext)| EXTENSIONS.contains(&ext))
        })
        .collect()
}

/// The part of `text` written for readers: a Rust file's comments (its code joins paths of
/// other crates), anything else whole.
fn prose(file: &Path, text: &str) -> String {
    if file.extension().is_some_and(|ext| ext == "rs") {
        let comment = |line: &&str| line.trim_start().starts_with("//");
        text.lines().filter(comment).collect::<Vec<_>>().join("\n")
    } else {
        text.to_string()
    }
}

/// Where a reference in `file` may be relative to: the repository root, the file's directory,
/// the package (the nearest directory above it with a `Cargo.toml`) and its `src/`.
fn resolves(file: &Path, reference: &str) -> bool {
    let package = file
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.toml").is_file());
    let package_src = package.map(|dir| dir.join("src"));
    let bases = [Some(repo()), file.parent(), package, package_src.as_deref()];
    bases
        .iter()
        .flatten()
        .any(|base| base.join(reference).exists())
}

#[test]
fn referenced_files_exist() {
    let mut missing = Vec::new();
    // This file spells out the forms it looks for.
    for file in files().into_iter().filter(|f| !f.ends_with(file!())) {
        let text = read_text(&file);
        let prose = prose(&file, &text);
        let mut references = path_references(&text);
        references.extend(bare_references(&prose));
        for reference in references {
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
    for file in files().into_iter().filter(|f| !f.ends_with(file!())) {
        let text = read_text(&file);
        for (number, line) in text.lines().enumerate() {
            // Windows' Trace Data Helper (TDH) is an API's name, not a note.
            let lower = line.to_lowercase().replace("trace data helper", "tdh");
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_ascii_alphanumeric() && c != ':')
                .collect();
            if words
                .iter()
                .any(|w| ["owner:", "helper", "helper:", "helpers"].contains(w))
            {
                notes.push(format!("{}:{}: {line}", file.display(), number + 1));
            }
        }
    }
    assert!(notes.is_empty(), "process notes:\n  {}", notes.join("\n  "));
}

#[test]
fn bare_references_start_at_a_top_level_directory() {
    let text = "built by tests/windows/build.sh. Not wine/dlls/netio.sys/netio.c, nor src/";
    assert_eq!(bare_references(text), ["tests/windows/build.sh"]);
}

#[test]
fn references_are_found_in_backticks() {
    let text = "see `src/glue/params.rs` and `tests/windows/` but not `wdk::ntddk` or `a b/c`";
    assert_eq!(
        path_references(text),
        ["src/glue/params.rs", "tests/windows/"]
    );
}
