//! Renderers: they print what the analyses returned and compute nothing themselves.
//!
//! One list of per-file results ([`FileResult`]) goes to every renderer, the way ruff hands the
//! same diagnostics to each output format: [`text`] for people, [`json`] for scripts,
//! [`junit`] and [`sarif`] for CI systems, [`html`] for a self-contained page.

pub mod compare;
pub mod html;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use serde::Serialize;

use crate::analysis::balance::{BalanceReport, Verdict};
use crate::analysis::boot::BootReport;
use crate::analysis::latency::LatencyReport;
use crate::analysis::timeline::RegistrationTimeline;
use crate::analysis::TraceContext;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What the analyses found in one readable file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileAnalysis {
    /// Header facts.
    pub trace: TraceContext,
    /// Records in the file (all providers).
    pub records: u64,
    /// Events of our provider.
    pub events: u64,
    /// Our provider's events that could not be decoded (each is also a lost event for the
    /// verdicts).
    pub undecodable: u64,
    /// Errors met while reading (the rest of the file was read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Balance verdicts (`check`, `report`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<BalanceReport>,
    /// Latency (`latency`, `report`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyReport>,
    /// Boot impact (`boot`, `report`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot: Option<BootReport>,
    /// Timelines (`report`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timelines: Vec<RegistrationTimeline>,
    /// Registrations beyond the timeline limit (not drawn).
    #[serde(skip_serializing_if = "is_zero")]
    pub timelines_skipped: u64,
}

/// One input file: its analysis, or why it could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileResult {
    /// The path as given (or as found in a walked directory).
    pub path: String,
    /// The analysis, or the error text.
    pub result: Result<FileAnalysis, String>,
}

/// A file's overall status in `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    /// Every registration ok.
    Ok,
    /// No event of our provider in the file.
    NoEvents,
    /// Some registration inconclusive, none in violation.
    Inconclusive,
    /// Some registration in violation.
    Violation,
    /// The file could not be read.
    Error,
}

impl FileStatus {
    /// Text used by every renderer.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Ok => "ok",
            FileStatus::NoEvents => "no-events",
            FileStatus::Inconclusive => "inconclusive",
            FileStatus::Violation => "violation",
            FileStatus::Error => "error",
        }
    }
}

impl FileResult {
    /// The file's status.
    pub fn status(&self) -> FileStatus {
        match &self.result {
            Err(_) => FileStatus::Error,
            Ok(a) if a.events == 0 => FileStatus::NoEvents,
            Ok(a) => match a.balance.as_ref().map(|b| b.verdict) {
                Some(Verdict::Violation) => FileStatus::Violation,
                Some(Verdict::Inconclusive) => FileStatus::Inconclusive,
                _ => FileStatus::Ok,
            },
        }
    }
}

/// The provider line every "no events" answer names.
pub fn provider_text() -> String {
    format!(
        "{} {{{}}}",
        wsktrace_driver::schema::PROVIDER_NAME,
        wsktrace_driver::schema::PROVIDER_GUID_STR
    )
}

/// Totals over all files of a `check` run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckSummary {
    /// Files given or found.
    pub files: u64,
    /// Files that could not be read.
    pub errors: u64,
    /// Files without events of our provider.
    pub no_events: u64,
    /// Registrations with verdict ok.
    pub ok: u64,
    /// Registrations with verdict inconclusive.
    pub inconclusive: u64,
    /// Registrations with verdict violation.
    pub violation: u64,
    /// Warnings.
    pub warnings: u64,
}

impl CheckSummary {
    /// Adds up `files`.
    pub fn of(files: &[FileResult]) -> CheckSummary {
        let mut s = CheckSummary {
            files: files.len() as u64,
            ..Default::default()
        };
        for f in files {
            match f.status() {
                FileStatus::Error => s.errors += 1,
                FileStatus::NoEvents => s.no_events += 1,
                _ => {}
            }
            if let Ok(a) = &f.result {
                if let Some(b) = &a.balance {
                    s.ok += b.counts.ok;
                    s.inconclusive += b.counts.inconclusive;
                    s.violation += b.counts.violation;
                    s.warnings += b.counts.warnings;
                }
            }
        }
        s
    }
}

/// XML text escaping (JUnit, HTML): the five characters with meaning in markup, and control
/// characters XML 1.0 cannot carry (replaced by U+FFFD). Hand-written rather than a
/// dependency: it is the whole of what the two writers need.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod browser;
#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping() {
        assert_eq!(
            escape_xml("a<b>&\"'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}\n"
        );
    }
}
