//! `wsktrace report`: one self-contained HTML page (inline CSS and SVG, no script, nothing
//! fetched). For more than one trace it opens with the fleet page ([`fleet`]); then the
//! verdicts, the findings, each trace's detail (its figures and a timeline per registration,
//! [`timeline`]), the capture-wait histogram ([`histogram`]) and the boot-impact table. Every
//! duration has its unit; a section with nothing to show says why.
//!
//! Stable hooks for tests and for people who post-process the page: `#fleet`, `#worst`,
//! `#summary`, `#findings`, `section.trace#trace-<n>` (the n-th input file),
//! `svg.timeline[data-registration]`, `svg#latency-histogram`, `#boot-impact`.

pub mod axis;
pub mod fleet;
pub mod histogram;
pub mod timeline;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use self::axis::dur;
use self::histogram::{bars_svg, Bar, Chart};
use self::timeline::{timeline_svg, COLORS};
use super::{escape_xml as esc, provider_text, FileResult};
use crate::analysis::balance::Severity;
use crate::analysis::boot::FleetSummary;
use crate::analysis::stats::{fmt_ts, Summary, EDGES_NS};
use crate::analysis::timeline::TimelineCollector;

const CSS: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#fbfbfd}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dbe3;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;background:#fff}
th,td{border:1px solid #d8dbe3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600} .violation{color:#cf222e;font-weight:600}
.inconclusive{color:#9a6700;font-weight:600} .warning{color:#bc4c00;font-weight:600}
.error,.no-events{color:#57606a;font-weight:600}
.muted{color:#57606a} code,.mono{font-family:ui-monospace,Consolas,monospace;font-size:12px}
svg{background:#fff;border:1px solid #d8dbe3;display:block;margin:4px 0 12px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
.span-label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:4px}
section.trace{margin:0 0 18px;padding:0 0 4px;border-bottom:1px dashed #d8dbe3}
"#;

/// The page for `files`.
pub fn report(files: &[FileResult], fleet: &FleetSummary, w: &mut dyn Write) -> io::Result<()> {
    let mut h = String::new();
    head(&mut h, files);
    if files.len() > 1 {
        fleet::section(&mut h, files);
    }
    verdicts(&mut h, files);
    findings(&mut h, files);
    traces(&mut h, files);
    capture_waits(&mut h, files);
    boot_impact(&mut h, files, fleet);
    h.push_str("</body></html>\n");
    w.write_all(h.as_bytes())
}

fn head(h: &mut String, files: &[FileResult]) {
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wsktrace report</title><style>{CSS}</style></head><body>\n<h1>wsktrace report</h1>\n<p class=\"muted\">Provider {}; {} file(s). Times are since each trace's start.</p>\n",
        esc(&provider_text()),
        files.len()
    );
}

/// The verdicts table: one row per file, linked to its detail.
fn verdicts(h: &mut String, files: &[FileResult]) {
    h.push_str("<section id=\"summary\"><h2>Verdicts</h2><table><tr><th>file</th><th>status</th><th>events</th><th class=\"num\">ok</th><th class=\"num\">violation</th><th class=\"num\">inconclusive</th><th class=\"num\">warnings</th></tr>\n");
    for (i, f) in files.iter().enumerate() {
        let st = f.status().as_str();
        let (events, c) = match &f.result {
            Ok(a) => (
                a.events.to_string(),
                a.balance
                    .as_ref()
                    .map(|b| b.counts.clone())
                    .unwrap_or_default(),
            ),
            Err(e) => (esc(e), Default::default()),
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"mono\"><a href=\"#trace-{i}\">{}</a></td><td class=\"{st}\">{st}</td><td>{events}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&f.path),
            c.ok,
            c.violation,
            c.inconclusive,
            c.warnings
        );
    }
    h.push_str("</table></section>\n");
}

fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Violation => "violation",
        Severity::Inconclusive => "inconclusive",
        Severity::Warning => "warning",
    }
}

/// Every finding with its events, and the reasons of inconclusive registrations.
fn findings(h: &mut String, files: &[FileResult]) {
    h.push_str("<section id=\"findings\"><h2>Findings</h2>\n");
    let mut rows = String::new();
    for f in files {
        let Some(b) = f.result.as_ref().ok().and_then(|a| a.balance.as_ref()) else {
            continue;
        };
        for r in &b.registrations {
            for x in &r.findings {
                let sev = severity_class(x.severity);
                let mut what = esc(&x.message);
                if let Some(reason) = &x.reason {
                    let _ = write!(
                        what,
                        " <span class=\"muted\">(inconclusive: {})</span>",
                        esc(reason)
                    );
                }
                for e in &x.events {
                    let _ = write!(
                        what,
                        "<br><code>{} tid {} {}/{} {}</code>",
                        fmt_ts(e.ts_ns),
                        e.tid,
                        e.name,
                        e.opcode,
                        esc(&e.fields)
                    );
                }
                let _ = writeln!(
                    rows,
                    "<tr class=\"finding\"><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{sev}\">{sev}</td><td><code>{}</code></td><td>{what}</td></tr>",
                    esc(&f.path),
                    fmt_ts(x.ts_ns),
                    x.tid,
                    r.registration,
                    match (x.capture, x.socket) {
                        (Some(c), _) => c.to_string(),
                        (None, Some(s)) => format!("socket {s}"),
                        (None, None) => "-".to_string(),
                    },
                    x.rule.id()
                );
            }
            if !r.reasons.is_empty() {
                let _ = writeln!(
                    rows,
                    "<tr><td class=\"mono\">{}</td><td></td><td></td><td>{}</td><td>-</td><td class=\"inconclusive\">inconclusive</td><td></td><td>{}</td></tr>",
                    esc(&f.path),
                    r.registration,
                    esc(&r.reasons.join("; "))
                );
            }
        }
    }
    if rows.is_empty() {
        let registrations: u64 = files
            .iter()
            .filter_map(|f| f.result.as_ref().ok()?.balance.as_ref())
            .map(|b| b.counts.total())
            .sum();
        let why = if registrations == 0 {
            "No findings: there is no registration of ours in these traces to judge."
        } else {
            "No findings: every registration held every rule."
        };
        let _ = writeln!(h, "<p class=\"ok\">{why}</p>");
    } else {
        h.push_str("<table><tr><th>file</th><th>time</th><th>tid</th><th>registration</th><th>capture</th><th>severity</th><th>rule</th><th>what</th></tr>\n");
        h.push_str(&rows);
        h.push_str("</table>");
    }
    h.push_str("</section>\n");
}

/// Each file's detail: its figures and its timelines (the fleet page links here).
fn traces(h: &mut String, files: &[FileResult]) {
    h.push_str("<section id=\"timelines\"><h2>Traces</h2><p class=\"legend\">");
    for (_, c, name) in COLORS {
        let _ = write!(
            h,
            "<span><i class=\"sw\" style=\"background:{c}\"></i>{name}</span>"
        );
    }
    h.push_str("</p>\n<p class=\"muted\" id=\"timeline-note\">A span runs from one event's timestamp to another's, and its label is that difference; the figures above each timeline are the driver's own measurements (DurationNs, WaitNs), taken inside the calls, so the two can differ slightly.</p>\n");
    for (i, f) in files.iter().enumerate() {
        let st = f.status().as_str();
        let _ = writeln!(
            h,
            "<section class=\"trace\" id=\"trace-{i}\"><h3><span class=\"mono\">{}</span> <span class=\"{st}\">{st}</span></h3>",
            esc(&f.path)
        );
        match &f.result {
            Err(e) => {
                let _ = writeln!(h, "<p class=\"error\">Not read: {}</p>", esc(e));
            }
            Ok(a) => {
                trace_figures(h, f);
                if a.timelines.is_empty() {
                    let _ = writeln!(
                        h,
                        "<p class=\"muted\">No timeline: no successful WskRegister of {} in this trace.</p>",
                        esc(&provider_text())
                    );
                }
                for t in &a.timelines {
                    timeline_svg(h, t);
                }
                if a.timelines_skipped > 0 {
                    let _ = writeln!(
                        h,
                        "<p class=\"muted\">{} more registration(s) not drawn (the first {} are).</p>",
                        a.timelines_skipped,
                        TimelineCollector::MAX_REGISTRATIONS
                    );
                }
            }
        }
        h.push_str("</section>\n");
    }
    h.push_str("</section>\n");
}

/// One line of a trace's figures, each with its unit.
fn trace_figures(h: &mut String, f: &FileResult) {
    let Ok(a) = &f.result else { return };
    let mut parts = vec![format!("{} event(s) of ours", a.events)];
    if let Some(l) = a.latency.as_ref().filter(|l| l.all.count > 0) {
        parts.push(format!(
            "{} capture(s), wait (WaitNs) p99 {}, max {}",
            l.all.count,
            dur(l.all.p99),
            dur(l.all.max)
        ));
    }
    if let Some(c) = a.boot.as_ref().and_then(|b| b.clients.first()) {
        parts.push(format!(
            "DriverEntry took {} (its DurationNs), blocked on its thread {}, {} driver(s) delayed",
            c.driver_entry_duration_ns.map_or("-".to_string(), dur),
            dur(c.blocked_in_capture_ns),
            c.delayed_drivers.len()
        ));
    }
    let _ = writeln!(h, "<p class=\"figures\">{}.</p>", esc(&parts.join("; ")));
}

/// The capture-wait histogram over every file, and the groups table.
fn capture_waits(h: &mut String, files: &[FileResult]) {
    h.push_str("<section id=\"latency\"><h2>Capture waits</h2>\n");
    let mut merged: BTreeMap<Option<u64>, u64> = BTreeMap::new();
    let mut groups = String::new();
    for f in files {
        let Some(l) = f.result.as_ref().ok().and_then(|a| a.latency.as_ref()) else {
            continue;
        };
        for b in &l.histogram.buckets {
            *merged.entry(b.le_ns).or_default() += b.count;
        }
        for g in &l.groups {
            let _ = writeln!(
                groups,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>{}</tr>",
                esc(&f.path),
                esc(&g.wait_mode),
                esc(&g.outcome),
                esc(&g.calling_context),
                g.wait.count,
                summary_cells(&g.wait)
            );
        }
    }
    let chart = Chart {
        id: "latency-histogram",
        x_caption: "capture wait (WaitNs), bucket upper edge",
        y_caption: "captures",
        empty: "No capture waits: no WskCaptureProviderNPI returned in these traces.",
    };
    bars_svg(h, &chart, &merged_bars(&merged));
    if !groups.is_empty() {
        h.push_str("<table id=\"latency-groups\"><tr><th>file</th><th>wait mode</th><th>outcome</th><th>calling context</th><th>count</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
        h.push_str(&groups);
        h.push_str("</table>\n");
    }
    h.push_str("</section>\n");
}

/// min, p50, p90, p99, max cells.
fn summary_cells(s: &Summary) -> String {
    [s.min, s.p50, s.p90, s.p99, s.max]
        .iter()
        .map(|v| format!("<td class=\"num\">{}</td>", dur(*v)))
        .collect()
}

/// Every bucket from the first to the last non-empty one (no gaps on the axis), the open one
/// last.
fn merged_bars(merged: &BTreeMap<Option<u64>, u64>) -> Vec<Bar> {
    let edges: Vec<Option<u64>> = EDGES_NS.iter().map(|e| Some(*e)).chain([None]).collect();
    let first = edges.iter().position(|e| merged.contains_key(e));
    let last = edges.iter().rposition(|e| merged.contains_key(e));
    let (Some(a), Some(b)) = (first, last) else {
        return Vec::new();
    };
    edges[a..=b]
        .iter()
        .map(|e| Bar {
            label: fleet::bucket_label(*e),
            count: merged.get(e).copied().unwrap_or(0),
        })
        .collect()
}

/// The boot-impact table and, for several traces, the fleet percentiles.
fn boot_impact(h: &mut String, files: &[FileResult], fleet: &FleetSummary) {
    h.push_str("<section id=\"boot\"><h2>Boot impact</h2>\n");
    let mut rows = String::new();
    for f in files {
        let Some(b) = f.result.as_ref().ok().and_then(|a| a.boot.as_ref()) else {
            continue;
        };
        for c in &b.clients {
            let rel = if c.relative_to_boot {
                "after boot"
            } else {
                "after trace start"
            };
            let delayed = if c.delayed_drivers.is_empty() {
                "none".to_string()
            } else {
                c.delayed_drivers
                    .iter()
                    .map(|d| format!("{} by {}", esc(&d.driver), dur(d.delay_ns)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let _ = writeln!(
                rows,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{} {rel}</td><td>{}</td><td>{}</td><td>{}</td><td>{delayed}</td></tr>",
                esc(&f.path),
                esc(&c.client),
                dur(c.driver_entry_start_ns),
                c.driver_entry_duration_ns.map_or("did not return".to_string(), dur),
                dur(c.blocked_in_capture_ns),
                c.wsk_ready_ns.map_or("never".to_string(), dur),
            );
        }
    }
    if rows.is_empty() {
        h.push_str("<p class=\"muted\" id=\"boot-impact\">No DriverEntry of ours in these traces: nothing to measure against the boot.</p>\n");
    } else {
        h.push_str("<table id=\"boot-impact\"><tr><th>file</th><th>client</th><th>DriverEntry start</th><th>DriverEntry took (DurationNs)</th><th>blocked in capture</th><th>WSK ready</th><th>drivers delayed</th></tr>\n");
        h.push_str(&rows);
        h.push_str("</table>\n");
    }
    if fleet.traces > 1 && fleet.traces_with_driver_entry > 0 {
        boot_fleet(h, fleet);
    }
    h.push_str("</section>\n");
}

fn boot_fleet(h: &mut String, fleet: &FleetSummary) {
    h.push_str("<table id=\"boot-fleet\"><tr><th>metric (fleet)</th><th>count</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
    for (name, s) in fleet.metrics() {
        let _ = writeln!(
            h,
            "<tr><td>{name}</td><td class=\"num\">{}</td>{}</tr>",
            s.count,
            summary_cells(s)
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::boot::BootReport;
    use crate::report::fixture;

    pub(crate) fn render(files: &[FileResult]) -> String {
        let reports: Vec<&BootReport> = files
            .iter()
            .filter_map(|f| f.result.as_ref().ok()?.boot.as_ref())
            .collect();
        let fleet = FleetSummary::of(reports);
        let mut out = Vec::new();
        report(files, &fleet, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    pub(crate) fn render_fixture() -> String {
        render(&fixture::files())
    }

    #[test]
    fn html_report() {
        let page = render_fixture();
        assert!(!page.contains("http://") && !page.contains("<script"));
        assert_eq!(page.matches("<svg class=\"timeline\"").count(), 3);
        assert!(page.contains("id=\"latency-histogram\""));
        assert!(page.contains("id=\"boot-impact\""));
        // Four files: the fleet page, each file linked to its detail.
        assert!(page.contains("id=\"fleet\"") && page.contains("id=\"worst\""));
        for i in 0..4 {
            assert!(page.contains(&format!("id=\"trace-{i}\"")));
            assert!(page.contains(&format!("href=\"#trace-{i}\"")));
        }
        // Which duration is which: spans from event timestamps, figures from the driver.
        assert!(page.contains("id=\"timeline-note\""));
        assert!(page.contains("DriverEntry took 125.00 ms (its DurationNs)"));
        assert!(page.contains("first span (event timestamps)</text>"));
        assert!(page.contains("<th>DriverEntry took (DurationNs)</th>"));
        // The worst-first table says how it is sorted.
        assert!(page.contains(&format!(
            "<p class=\"muted\" id=\"worst-order\">{}</p>",
            fleet::WORST_ORDER
        )));
        insta::assert_snapshot!(page);
    }

    #[test]
    fn empty_sections_say_why() {
        let one: Vec<FileResult> = fixture::files().into_iter().skip(2).take(1).collect();
        let page = render(&one);
        assert!(!page.contains("id=\"fleet\""));
        assert!(page.contains("No DriverEntry of ours in these traces"));
        assert!(page.contains("No capture waits: no WskCaptureProviderNPI returned"));
        assert!(page.contains("No timeline: no successful WskRegister"));
        assert!(page.contains("there is no registration of ours"));
        // No table without rows.
        assert!(!page.contains("<table id=\"boot-impact\">"));
    }

    #[test]
    fn durations_carry_units() {
        let page = render_fixture();
        // A zero duration is `0 ms`, never a bare 0 (the tables of durations only).
        for id in ["boot-impact", "latency-groups", "boot-fleet"] {
            let start = page.find(&format!("id=\"{id}\"")).expect(id);
            let table = &page[start..start + page[start..].find("</table>").unwrap()];
            assert!(!table.contains(">0</td>"), "{id}: {table}");
        }
        assert!(page.contains(">0 ms</td>"));
    }
}

/// The page of real traces (simulator scenarios read through the pipeline) in headless
/// Chromium: one trace, and a fleet of 200. Set `WSKTRACE_KEEP_HTML=1` to keep the pages and
/// screenshots (the test prints where).
#[cfg(test)]
mod browser_tests {
    use std::path::Path;

    use super::tests::render;
    use crate::analyse::{analyse_file, Selection};
    use crate::analysis::balance::BalanceConfig;
    use crate::analysis::latency::LatencyConfig;
    use crate::pipeline::ReadOptions;
    use crate::report::browser::{chromium_or_skip, render as chromium_render, temp_dir, Rendered};
    use crate::report::FileResult;
    use crate::scenario::{self, SCENARIOS};

    fn analyse(paths: &[std::path::PathBuf]) -> Vec<FileResult> {
        let sel = Selection {
            balance: Some(BalanceConfig::default()),
            latency: Some(LatencyConfig::default()),
            boot: true,
            timeline: true,
        };
        paths
            .iter()
            .map(|p| FileResult {
                path: p.file_name().unwrap().to_string_lossy().into_owned(),
                result: analyse_file(p, &sel, ReadOptions::one_thread(), &mut |_| {}),
            })
            .collect()
    }

    fn page(dir: &Path, files: &[FileResult]) -> Option<(String, Rendered)> {
        let html = render(files);
        for banned in ["<script", "<link", "src=\"http", "href=\"http", "url("] {
            assert!(!html.contains(banned), "page contains {banned}");
        }
        let path = dir.join("report.html");
        std::fs::write(&path, &html).unwrap();
        let chromium = chromium_or_skip("html pages in chromium")?;
        let r = chromium_render(&chromium, &path, dir);
        assert!(
            r.screenshot.len() > 4 * r.blank.len(),
            "screenshot looks blank: {} bytes vs {} for an empty page",
            r.screenshot.len(),
            r.blank.len()
        );
        Some((html, r))
    }

    fn done(dir: &Path) {
        if std::env::var_os("WSKTRACE_KEEP_HTML").is_some() {
            eprintln!("kept {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    #[test]
    fn single_trace_in_chromium() {
        let dir = temp_dir("html-single");
        let paths = scenario::write_fleet(&dir, &[("boot-driver-entry", 1)]).unwrap();
        let Some((_, r)) = page(&dir, &analyse(&paths)) else {
            return;
        };
        let dom = &r.dom;
        assert!(!dom.contains("id=\"fleet\""), "one trace: no fleet page");
        assert_eq!(dom.matches("<svg class=\"timeline\"").count(), 1);
        // The time axis with units, and the 150 ms wait next to µs-long spans, each labelled.
        assert!(dom.contains("class=\"axis\""));
        assert!(dom.contains("class=\"tick\"") && dom.contains(" ms</text>"));
        assert!(dom.matches("class=\"span-label\"").count() >= 4);
        assert!(dom.contains(" µs</text>"), "a short span labelled in µs");
        for needle in [
            "id=\"latency-histogram\"",
            "class=\"bar\"",
            "id=\"boot-impact\"",
            "\\Driver\\tcpip",
            "id=\"timeline-note\"",
            "(its DurationNs)",
            "(event timestamps)</text>",
        ] {
            assert!(dom.contains(needle), "DOM lacks {needle}");
        }
        done(&dir);
    }

    #[test]
    fn fleet_of_200_in_chromium() {
        let dir = temp_dir("html-fleet");
        let traces = dir.join("traces");
        std::fs::create_dir_all(&traces).unwrap();
        let per = 200 / SCENARIOS.len();
        let mut plan: Vec<(&str, usize)> = SCENARIOS.iter().map(|s| (s.name, per)).collect();
        plan[0].1 += 200 - per * SCENARIOS.len();
        let mut paths = scenario::write_fleet(&traces, &plan).unwrap();
        assert_eq!(paths.len(), 200);
        // One of them unreadable: it must come first among the worst.
        std::fs::write(&paths[0], b"not ETL").unwrap();
        paths.sort();
        let files = analyse(&paths);
        let Some((_, r)) = page(&dir, &files) else {
            return;
        };
        let dom = &r.dom;
        for id in [
            "fleet",
            "worst",
            "fleet-wait-p99",
            "fleet-driver-entry",
            "fleet-blocked",
        ] {
            assert!(dom.contains(&format!("id=\"{id}\"")), "DOM lacks #{id}");
        }
        assert_eq!(
            dom.matches("<tr class=\"worst\">").count(),
            super::fleet::WORST_LISTED
        );
        assert_eq!(dom.matches("<section class=\"trace\"").count(), 200);
        // Worst first: the unreadable file, then the violations; each links to its detail.
        let worst = &dom[dom.find("id=\"worst\"").unwrap()..];
        let first_link = worst
            .split("href=\"#")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(dom.contains(&format!("id=\"{first_link}\"")));
        let rows: Vec<&str> = worst.split("<tr class=\"worst\">").skip(1).collect();
        assert!(rows[0].contains("class=\"error\""), "{}", rows[0]);
        assert!(rows[1].contains("class=\"violation\""), "{}", rows[1]);
        assert!(dom.contains("id=\"worst-order\">Sorted by status"));
        done(&dir);
    }
}
