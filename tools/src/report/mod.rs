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

pub use crate::analyse::{FileAnalysis, FileResult, FileStatus};

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

/// XML text escaping (JUnit, HTML) of anything displayed: the five characters with meaning
/// in markup, and control characters XML 1.0 cannot carry (replaced by U+FFFD). Hand-written
/// rather than a dependency: it is the whole of what the two writers need.
pub fn escape_xml<T: core::fmt::Display + ?Sized>(text: &T) -> String {
    let s = text.to_string();
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
    use crate::analyse::{analyse_file, Selection};
    use crate::analysis::balance::BalanceConfig;
    use crate::analysis::boot::{BootReport, FleetSummary};
    use crate::analysis::latency::LatencyConfig;
    use crate::pipeline::ReadOptions;
    use crate::scenario;
    use browser::{chromium_or_skip, render, temp_dir};

    /// The HTML report of simulator scenarios (what `wsktrace report` writes), rendered by
    /// headless Chromium.
    #[test]
    fn report_of_scenarios_renders_in_chromium() {
        let dir = temp_dir("report-scenarios");
        let sel = Selection {
            balance: Some(BalanceConfig::default()),
            latency: Some(LatencyConfig::default()),
            boot: true,
            timeline: true,
        };
        let mut files = Vec::new();
        for name in ["boot-driver-entry", "double-release", "ready-late"] {
            let trace = scenario::find(name).unwrap().run();
            let path = dir.join(format!("{name}.etl"));
            let f = std::fs::File::create(&path).unwrap();
            scenario::write_etl(&trace, f, scenario::session_config(name)).unwrap();
            let result = analyse_file(&path, &sel, ReadOptions::default(), &mut |e| {
                panic!("{name}: {e}")
            });
            files.push(FileResult {
                path: path.display().to_string(),
                result,
            });
        }
        let reports: Vec<&BootReport> = files
            .iter()
            .filter_map(|f| f.result.as_ref().ok()?.boot.as_ref())
            .collect();
        let fleet = FleetSummary::of(reports);
        let mut html = Vec::new();
        html::report(&files, &fleet, &mut html).unwrap();
        let html = String::from_utf8(html).unwrap();
        let page = dir.join("report.html");
        std::fs::write(&page, &html).unwrap();
        // Self-contained: nothing to fetch.
        for banned in ["<script", "<link", "src=\"http", "href=\"http", "url("] {
            assert!(!html.contains(banned), "page contains {banned}");
        }
        let Some(chromium) = chromium_or_skip("report_of_scenarios_renders_in_chromium") else {
            return;
        };
        let r = render(&chromium, &page, &dir);
        assert!(
            r.screenshot.len() > 4 * r.blank.len(),
            "screenshot looks blank: {} bytes vs {} for an empty page",
            r.screenshot.len(),
            r.blank.len()
        );
        // One timeline per registration (three traces, one registration each).
        assert_eq!(
            r.dom.matches("<svg class=\"timeline\"").count(),
            3,
            "{}",
            r.dom
        );
        for needle in [
            "class=\"span driver-entry\"",
            "class=\"span capture-wait\"",
            "class=\"span held\"",
            "class=\"span deregister\"",
            "id=\"latency-histogram\"",
            "class=\"bar\"",
            "id=\"boot-impact\"",
            "\\Driver\\tcpip",
            "double-release",
        ] {
            assert!(r.dom.contains(needle), "DOM lacks {needle}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn xml_escaping() {
        assert_eq!(
            escape_xml("a<b>&\"'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}\n"
        );
    }
}
