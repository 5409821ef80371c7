//! `wsktrace report FILE|DIR… -o report.html`: one self-contained HTML page.

use std::path::PathBuf;

use super::files::{analyse_all, read_status, to_file, ExitStatus, Selection};
use crate::analysis::balance::BalanceConfig;
use crate::analysis::boot::{BootReport, FleetSummary};
use crate::analysis::latency::LatencyConfig;
use crate::report::html;

/// Write an HTML report: verdicts and findings, a timeline per registration (DriverEntry,
/// capture waits, held NPIs, deregistration), the capture-wait histogram and the boot-impact
/// table. The page needs no network access (inline CSS and SVG, no script).
///
/// Exit status: 0, or 2 when a file could not be read completely or the page not written.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// ETL files, or directories to search for `*.etl`.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// Where to write the page.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Warn about capture timeouts above this many milliseconds on the DriverEntry thread.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub long_wait_ms: u32,
}

/// Runs `report`.
pub fn run(args: &ReportArgs) -> ExitStatus {
    let sel = Selection {
        balance: Some(BalanceConfig {
            long_wait_ms: args.long_wait_ms,
            keep_ok: false,
        }),
        latency: Some(LatencyConfig::default()),
        boot: true,
        timeline: true,
    };
    let files = analyse_all(&args.files, &sel);
    let reports: Vec<&BootReport> = files
        .iter()
        .filter_map(|f| f.result.as_ref().ok()?.boot.as_ref())
        .collect();
    let fleet = FleetSummary::of(reports);
    if let Err(s) = to_file(&args.output, |w| html::report(&files, &fleet, w)) {
        return s;
    }
    read_status(&files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::browser::{chromium_or_skip, render, temp_dir};
    use crate::scenario;

    /// `wsktrace report` on simulator scenarios, rendered by headless Chromium.
    #[test]
    fn report_of_scenarios_renders_in_chromium() {
        let dir = temp_dir("report-scenarios");
        let mut files = Vec::new();
        for name in ["boot-driver-entry", "double-release", "ready-late"] {
            let trace = scenario::find(name).unwrap().run();
            let path = dir.join(format!("{name}.etl"));
            let f = std::fs::File::create(&path).unwrap();
            scenario::write_etl(&trace, f, scenario::session_config(name)).unwrap();
            files.push(path);
        }
        let page = dir.join("report.html");
        let args = ReportArgs {
            files: files.clone(),
            output: page.clone(),
            long_wait_ms: 1000,
        };
        assert_eq!(run(&args), ExitStatus::Success);
        let html = std::fs::read_to_string(&page).unwrap();
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
}
