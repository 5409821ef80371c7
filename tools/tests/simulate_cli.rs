//! The `wsktrace simulate` command line: `--list`, writing a scenario, and its errors.

use std::path::PathBuf;

#[path = "support/cli.rs"]
mod cli;

use cli::wsktrace;

fn tmp(name: &str) -> PathBuf {
    cli::tmp("simulate_cli", name)
}

#[test]
fn lists_every_scenario() {
    let out = wsktrace().args(["simulate", "--list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let want: Vec<&str> = wsktrace_tools::scenario::SCENARIOS
        .iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, want);
}

#[test]
fn writes_a_scenario_as_etl() {
    let path = tmp("double-release.etl");
    let _ = std::fs::remove_file(&path);
    let out = cli::succeeds(
        wsktrace()
            .args([
                "simulate",
                "--scenario",
                "double-release",
                "--buffer-kib",
                "2",
                "--processors",
                "3",
                "-o",
            ])
            .arg(&path),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scenario double-release: 7 events (0 lost)"),
        "{stderr}"
    );
    let bytes = std::fs::read(&path).unwrap();
    let reader = wsktrace_tools::etl::EtlReader::new(std::io::Cursor::new(&bytes[..])).unwrap();
    let info = reader.info();
    assert_eq!((info.buffer_size, info.number_of_processors), (2048, 3));
    assert_eq!(info.logger_name, "wsktrace-double-release");
    assert_eq!(bytes.len() % 2048, 0);
}

#[test]
fn errors_exit_2() {
    let out = wsktrace()
        .args(["simulate", "--scenario", "no-such-thing", "-o"])
        .arg(tmp("x.etl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scenario \"no-such-thing\""));
    // A scenario needs an output file; nothing at all is an error too.
    for args in [&["simulate", "--scenario", "clean"][..], &["simulate"][..]] {
        assert_eq!(
            wsktrace().args(args).output().unwrap().status.code(),
            Some(2),
            "{args:?}"
        );
    }
    let out = wsktrace()
        .args([
            "simulate",
            "--scenario",
            "clean",
            "-o",
            "/nonexistent-dir/x.etl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("wsktrace: /nonexistent-dir/x.etl: "));
}

#[test]
fn writes_to_stdout() {
    let out = wsktrace()
        .args(["simulate", "--scenario", "register-fails", "-o", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reader =
        wsktrace_tools::etl::EtlReader::new(std::io::Cursor::new(&out.stdout[..])).unwrap();
    assert_eq!(reader.info().logger_name, "wsktrace-register-fails");
    assert_eq!(
        out.stdout.len() as u64,
        u64::from(reader.info().buffers_written) * 8192
    );
}
