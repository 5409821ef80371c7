//! JSON for scripts: one document per run, with the keys docs/formats.md lists (section
//! "JSON"). Times are nanoseconds since the trace start (`*_ns`), boot-relative where named
//! so.

use std::io::{self, Write};

use serde::Serialize;

use super::{CheckSummary, FileAnalysis, FileResult, FileStatus};
use crate::analysis::boot::FleetSummary;
use crate::pipeline::TraceError;

#[derive(Serialize)]
struct Provider {
    name: &'static str,
    guid: &'static str,
}

const PROVIDER: Provider = Provider {
    name: wsktrace_driver::schema::PROVIDER_NAME,
    guid: wsktrace_driver::schema::PROVIDER_GUID_STR,
};

#[derive(Serialize)]
struct JsonFile<'a> {
    path: &'a str,
    status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a TraceError>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    analysis: Option<&'a FileAnalysis>,
}

#[derive(Serialize)]
struct Doc<'a, S: Serialize> {
    tool: &'static str,
    provider: Provider,
    files: Vec<JsonFile<'a>>,
    summary: S,
}

fn files_of(files: &[FileResult]) -> Vec<JsonFile<'_>> {
    files
        .iter()
        .map(|f| JsonFile {
            path: &f.path,
            status: f.status(),
            error: f.result.as_ref().err(),
            analysis: f.result.as_ref().ok(),
        })
        .collect()
}

fn write_doc<S: Serialize>(doc: &Doc<'_, S>, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, doc)?;
    writeln!(w)
}

/// `check --json`.
pub fn check(files: &[FileResult], w: &mut dyn Write) -> io::Result<()> {
    write_doc(
        &Doc {
            tool: "wsktrace check",
            provider: PROVIDER,
            files: files_of(files),
            summary: CheckSummary::of(files),
        },
        w,
    )
}

/// `latency --json`.
pub fn latency(files: &[FileResult], w: &mut dyn Write) -> io::Result<()> {
    write_doc(
        &Doc {
            tool: "wsktrace latency",
            provider: PROVIDER,
            files: files_of(files),
            summary: (),
        },
        w,
    )
}

/// `boot --json`.
pub fn boot(files: &[FileResult], fleet: &FleetSummary, w: &mut dyn Write) -> io::Result<()> {
    write_doc(
        &Doc {
            tool: "wsktrace boot",
            provider: PROVIDER,
            files: files_of(files),
            summary: fleet,
        },
        w,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn check_json() {
        let files = fixture::files();
        let mut out = Vec::new();
        check(&files, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        // Valid JSON, with the shape the module doc promises.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["files"][1]["status"], "violation");
        assert_eq!(
            v["files"][1]["balance"]["registrations"][0]["findings"][1]["rule"],
            "double-release"
        );
        assert_eq!(v["files"][2]["status"], "no-events");
        assert_eq!(v["files"][3]["status"], "error");
        assert_eq!(v["files"][3]["error"]["kind"], "not-etl");
        assert_eq!(v["files"][3]["error"]["offset"], 0);
        insta::assert_snapshot!(text);
    }
}
