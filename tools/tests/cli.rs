//! What a new user meets on the command line: each item a test (issue 10, "found by a new
//! user"): nothing found is an error, errors are printed once and say what they are, `dump`
//! walks directories like the other commands, `simulate`'s success line is not an error,
//! empty distributions print `—`, `boot` reports the blocked time once, and every command's
//! `--help` says which exit statuses it gives.

use std::path::{Path, PathBuf};

#[path = "support/run.rs"]
mod run;
use run::wsktrace;

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A simulator scenario written as ETL into `dir`.
fn scenario(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.etl"));
    let p = path.to_str().unwrap();
    let (code, _, err) = wsktrace(&["simulate", "--scenario", name, "-o", p]);
    assert_eq!(code, 0, "{err}");
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_empty_or_mistyped_directory_is_an_error() {
    let empty = dir("empty");
    std::fs::write(empty.join("notes.txt"), "not a trace").unwrap();
    for args in [
        vec!["check", s(&empty)],
        vec!["check", "--require-events", s(&empty)],
        vec!["latency", s(&empty)],
        vec!["boot", s(&empty)],
        vec!["dump", "--summary", s(&empty)],
    ] {
        let (code, _, err) = wsktrace(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "wsktrace: {}: no *.etl file in this directory",
                s(&empty)
            )),
            "{args:?}: {err}"
        );
    }
    let typo = empty.join("no-such-dir");
    let (code, _, err) = wsktrace(&["check", "--require-events", s(&typo)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("wsktrace: {}: cannot read: ", s(&typo))),
        "{err}"
    );
}

#[test]
fn errors_are_printed_once() {
    let d = dir("once");
    let bad = d.join("bad.etl");
    std::fs::write(&bad, [0x55u8; 300]).unwrap();
    let (code, out, err) = wsktrace(&["check", s(&bad)]);
    assert_eq!(code, 2);
    let both = format!("{out}{err}");
    assert_eq!(both.matches("not an ETL file").count(), 1, "{both}");
    assert!(out.contains("bad.etl: unreadable (not-etl)"), "{out}");
    // With --json the error is in the document, with its offset and kind, and on stderr.
    let (code, out, _) = wsktrace(&["check", "--json", s(&bad)]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let e = &v["files"][0]["error"];
    assert_eq!(
        (e["kind"].as_str(), e["offset"].as_u64()),
        (Some("not-etl"), Some(0))
    );
}

#[test]
fn a_text_file_named_etl_says_it_is_not_an_etl_file() {
    let d = dir("text");
    let notes = d.join("notes.etl");
    std::fs::write(&notes, "# wsktrace notes: run 3 was fine\n").unwrap();
    for cmd in ["check", "dump"] {
        let (code, _, err) = wsktrace(&[cmd, s(&notes)]);
        assert_eq!(code, 2, "{cmd}");
        assert!(
            err.contains(&format!(
                "wsktrace: {}: offset 0x0: not an ETL file: it is text (\"# wsktrace notes: run 3 \"…), not ETW buffers",
                s(&notes)
            )),
            "{cmd}: {err}"
        );
    }
}

#[test]
fn dump_walks_directories_and_words_errors_like_the_others() {
    let d = dir("dump");
    scenario(&d, "clean");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    scenario(&d.join("sub"), "double-release");
    let bad = d.join("sub").join("bad.etl");
    std::fs::write(&bad, [0u8; 10]).unwrap();
    let (code, out, dump_err) = wsktrace(&["dump", "--summary", "--json", s(&d)]);
    assert_eq!(code, 2, "{dump_err}");
    let files: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["file"].to_string())
        .collect();
    assert_eq!(files.len(), 2, "{out}");
    assert!(files[0].ends_with("clean.etl\"") && files[1].ends_with("double-release.etl\""));
    let (_, _, check_err) = wsktrace(&["check", s(&d)]);
    assert_eq!(dump_err, check_err);
    assert_eq!(dump_err.lines().count(), 1, "{dump_err}");
    assert!(dump_err.starts_with(&format!("wsktrace: {}: offset 0x0: ", s(&bad))));
}

#[test]
fn simulate_success_line_is_not_an_error() {
    let d = dir("simulate");
    let path = d.join("clean.etl");
    let (code, _, err) = wsktrace(&["simulate", "--scenario", "clean", "-o", s(&path)]);
    assert_eq!(code, 0);
    assert!(!err.starts_with("wsktrace: "), "{err}");
    assert!(
        err.starts_with(&format!("wrote {}: scenario clean: ", s(&path))),
        "{err}"
    );
}

#[test]
fn latency_prints_a_dash_for_an_empty_distribution() {
    let d = dir("latency");
    let path = scenario(&d, "register-fails");
    let (code, out, err) = wsktrace(&["latency", s(&path)]);
    assert_eq!(code, 0, "{err}");
    let all = out
        .lines()
        .find(|l| l.trim_start().starts_with("all "))
        .unwrap();
    assert_eq!(
        all.split_whitespace().skip(1).collect::<Vec<_>>(),
        ["0", "—", "—", "—", "—", "—"],
        "{out}"
    );
}

#[test]
fn boot_reports_the_blocked_time_once() {
    let d = dir("boot");
    let path = scenario(&d, "boot-driver-entry");
    let (code, out, err) = wsktrace(&["boot", s(&path)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("blocked in capture").count(), 1, "{out}");
    let delayed = out.lines().find(|l| l.contains("delayed drivers")).unwrap();
    assert!(
        delayed.contains(", the largest delay ") && !delayed.contains("total"),
        "{out}"
    );
}

#[test]
fn help_says_which_exit_statuses_each_command_gives() {
    for (cmd, says) in [
        ("check", "2 wins over 1"),
        ("dump", "Never 1"),
        ("latency", "Never 1"),
        ("boot", "Never 1"),
        ("report", "Never 1"),
        ("simulate", "Never 1"),
    ] {
        let (code, out, _) = wsktrace(&[cmd, "--help"]);
        assert_eq!(code, 0);
        assert!(out.contains("Exit status: 0 "), "{cmd}: {out}");
        assert!(out.contains(says), "{cmd}: {out}");
    }
    let (_, out, _) = wsktrace(&["--help"]);
    assert!(out.contains("2 wins over 1"), "{out}");
}
