//! `wsktrace report`: one self-contained HTML page (inline CSS and SVG, no script, nothing
//! fetched), with the verdicts and findings, a timeline per registration, the capture-wait
//! histogram and the boot-impact table.
//!
//! Stable hooks for tests and for people who post-process the page: `#summary`,
//! `#findings`, `svg.timeline[data-registration]`, `svg#latency-histogram`, `#boot-impact`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{escape_xml as esc, provider_text, CheckSummary, FileResult};
use crate::analysis::balance::Severity;
use crate::analysis::boot::FleetSummary;
use crate::analysis::stats::{fmt_ns, fmt_ts, Bucket, Histogram, EDGES_NS};
use crate::analysis::timeline::{RegistrationTimeline, SpanKind, TimelineCollector};

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
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:4px}
"#;

const COLORS: [(SpanKind, &str, &str); 4] = [
    (SpanKind::DriverEntry, "#6e7ff3", "DriverEntry"),
    (SpanKind::CaptureWait, "#f0883e", "capture wait"),
    (SpanKind::Held, "#2da44e", "NPI held"),
    (SpanKind::Deregister, "#8250df", "WskDeregister"),
];

fn color(kind: SpanKind) -> &'static str {
    COLORS.iter().find(|c| c.0 == kind).map_or("#999", |c| c.1)
}

/// The page for `files`.
pub fn report(files: &[FileResult], fleet: &FleetSummary, w: &mut dyn Write) -> io::Result<()> {
    let mut h = String::new();
    let s = CheckSummary::of(files);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wsktrace report</title><style>{CSS}</style></head><body>\n<h1>wsktrace report</h1>\n<p class=\"muted\">Provider {}; {} file(s).</p>\n",
        esc(&provider_text()),
        s.files
    );
    // Summary.
    h.push_str("<section id=\"summary\"><h2>Verdicts</h2><table><tr><th>file</th><th>status</th><th>events</th><th class=\"num\">ok</th><th class=\"num\">violation</th><th class=\"num\">inconclusive</th><th class=\"num\">warnings</th></tr>\n");
    for f in files {
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
            "<tr><td class=\"mono\">{}</td><td class=\"{st}\">{st}</td><td>{events}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&f.path),
            c.ok,
            c.violation,
            c.inconclusive,
            c.warnings
        );
    }
    h.push_str("</table></section>\n");
    // Findings.
    h.push_str("<section id=\"findings\"><h2>Findings</h2>\n");
    let mut any = false;
    for f in files {
        let Ok(a) = &f.result else { continue };
        let Some(b) = &a.balance else { continue };
        for r in &b.registrations {
            if r.findings.is_empty() && r.reasons.is_empty() {
                continue;
            }
            if !any {
                h.push_str("<table><tr><th>file</th><th>time</th><th>tid</th><th>registration</th><th>capture</th><th>severity</th><th>rule</th><th>what</th></tr>\n");
                any = true;
            }
            for x in &r.findings {
                let sev = match x.severity {
                    Severity::Violation => "violation",
                    Severity::Inconclusive => "inconclusive",
                    Severity::Warning => "warning",
                };
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
                    h,
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
                    h,
                    "<tr><td class=\"mono\">{}</td><td></td><td></td><td>{}</td><td>-</td><td class=\"inconclusive\">inconclusive</td><td></td><td>{}</td></tr>",
                    esc(&f.path),
                    r.registration,
                    esc(&r.reasons.join("; "))
                );
            }
        }
    }
    if any {
        h.push_str("</table>");
    } else {
        h.push_str("<p class=\"ok\">No findings.</p>");
    }
    h.push_str("</section>\n");
    // Timelines.
    h.push_str("<section id=\"timelines\"><h2>Timelines</h2><p class=\"legend\">");
    for (_, c, name) in COLORS {
        let _ = write!(
            h,
            "<span><i class=\"sw\" style=\"background:{c}\"></i>{name}</span>"
        );
    }
    h.push_str("</p>\n");
    for f in files {
        let Ok(a) = &f.result else { continue };
        if a.timelines.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<h3 class=\"mono\">{}</h3>", esc(&f.path));
        for t in &a.timelines {
            timeline_svg(&mut h, t);
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
    h.push_str("</section>\n");
    // Latency.
    h.push_str("<section id=\"latency\"><h2>Capture waits</h2>\n");
    let mut merged: BTreeMap<Option<u64>, u64> = BTreeMap::new();
    let mut groups = String::new();
    for f in files {
        let Ok(a) = &f.result else { continue };
        let Some(l) = &a.latency else { continue };
        for b in &l.histogram.buckets {
            *merged.entry(b.le_ns).or_default() += b.count;
        }
        for g in &l.groups {
            let _ = writeln!(
                groups,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&f.path),
                esc(&g.wait_mode),
                esc(&g.outcome),
                esc(&g.calling_context),
                g.wait.count,
                fmt_ns(g.wait.min),
                fmt_ns(g.wait.p50),
                fmt_ns(g.wait.p90),
                fmt_ns(g.wait.p99),
                fmt_ns(g.wait.max)
            );
        }
    }
    // Every bucket from the first to the last non-empty one, so the axis has no gaps; the
    // open bucket (`None`) last.
    let edges: Vec<Option<u64>> = EDGES_NS.iter().map(|e| Some(*e)).chain([None]).collect();
    let first = edges.iter().position(|e| merged.contains_key(e));
    let last = edges.iter().rposition(|e| merged.contains_key(e));
    let buckets: Vec<Bucket> = match (first, last) {
        (Some(a), Some(b)) => edges[a..=b]
            .iter()
            .map(|e| Bucket {
                le_ns: *e,
                count: merged.get(e).copied().unwrap_or(0),
            })
            .collect(),
        _ => Vec::new(),
    };
    histogram_svg(&mut h, &Histogram { buckets });
    if !groups.is_empty() {
        h.push_str("<table id=\"latency-groups\"><tr><th>file</th><th>wait mode</th><th>outcome</th><th>calling context</th><th>count</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
        h.push_str(&groups);
        h.push_str("</table>\n");
    }
    h.push_str("</section>\n");
    // Boot impact.
    h.push_str("<section id=\"boot\"><h2>Boot impact</h2><table id=\"boot-impact\"><tr><th>file</th><th>client</th><th>DriverEntry start</th><th>DriverEntry took</th><th>blocked in capture</th><th>WSK ready</th><th>drivers delayed</th></tr>\n");
    for f in files {
        let Ok(a) = &f.result else { continue };
        let Some(b) = &a.boot else { continue };
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
                    .map(|d| format!("{} by {}", esc(&d.driver), fmt_ns(d.delay_ns)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{} {rel}</td><td>{}</td><td>{}</td><td>{}</td><td>{delayed}</td></tr>",
                esc(&f.path),
                esc(&c.client),
                fmt_ns(c.driver_entry_start_ns),
                c.driver_entry_duration_ns.map_or("-".to_string(), fmt_ns),
                fmt_ns(c.blocked_in_capture_ns),
                c.wsk_ready_ns.map_or("never".to_string(), fmt_ns),
            );
        }
    }
    h.push_str("</table>\n");
    if fleet.traces > 1 {
        h.push_str("<table id=\"fleet\"><tr><th>metric (fleet)</th><th>count</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
        for (name, s) in [
            ("DriverEntry start since boot", &fleet.driver_entry_start),
            ("DriverEntry duration", &fleet.driver_entry_duration),
            ("blocked in capture", &fleet.blocked_in_capture),
            ("WSK ready since boot", &fleet.wsk_ready),
            ("delay caused to other drivers", &fleet.total_delay),
        ] {
            let _ = writeln!(
                h,
                "<tr><td>{name}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                s.count,
                fmt_ns(s.min),
                fmt_ns(s.p50),
                fmt_ns(s.p90),
                fmt_ns(s.p99),
                fmt_ns(s.max)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("</section>\n</body></html>\n");
    w.write_all(h.as_bytes())
}

const W: f64 = 900.0;
const LEFT: f64 = 190.0;
const ROW: f64 = 22.0;

fn timeline_svg(h: &mut String, t: &RegistrationTimeline) {
    let start = t.spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end = t
        .spans
        .iter()
        .map(|s| s.end_ns.unwrap_or(s.start_ns).max(s.start_ns))
        .max()
        .unwrap_or(start)
        .max(start + 1);
    // Rows: DriverEntry, one per capture (wait and held share it), WskDeregister.
    let mut rows: Vec<(String, Option<u32>, Option<SpanKind>)> = Vec::new();
    for s in &t.spans {
        let key = match s.kind {
            SpanKind::CaptureWait | SpanKind::Held => (None, s.capture),
            k => (Some(k), None),
        };
        if !rows.iter().any(|r| (r.2, r.1) == key) {
            let label = match s.kind {
                SpanKind::DriverEntry => "DriverEntry".to_string(),
                SpanKind::Deregister => "WskDeregister".to_string(),
                _ => format!("capture {}", s.capture.unwrap_or(0)),
            };
            rows.push((label, key.1, key.0));
        }
    }
    let height = ROW * rows.len() as f64 + 34.0;
    let scale = (W - LEFT - 10.0) / (end - start) as f64;
    let _ = writeln!(
        h,
        "<svg class=\"timeline\" data-registration=\"{}\" width=\"{W}\" height=\"{height}\" viewBox=\"0 0 {W} {height}\" role=\"img\" aria-label=\"registration {} timeline\">",
        t.registration, t.registration
    );
    let _ = writeln!(
        h,
        "<text x=\"6\" y=\"15\" font-size=\"12\" font-weight=\"600\">registration {} ({})</text><text x=\"{}\" y=\"15\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">{} – {}</text>",
        t.registration,
        esc(t.client.as_deref().unwrap_or("unknown client")),
        W - 8.0,
        fmt_ts(start),
        fmt_ts(end)
    );
    for (i, (label, _, _)) in rows.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        let _ = writeln!(
            h,
            "<text x=\"6\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            y + 14.0,
            esc(label)
        );
    }
    for s in &t.spans {
        let key = match s.kind {
            SpanKind::CaptureWait | SpanKind::Held => (None, s.capture),
            k => (Some(k), None),
        };
        let row = rows.iter().position(|r| (r.2, r.1) == key).unwrap_or(0);
        let y = 24.0 + ROW * row as f64 + 3.0;
        let x0 = LEFT + (s.start_ns - start) as f64 * scale;
        let (x1, open) = match s.end_ns {
            Some(e) => (LEFT + (e.max(s.start_ns) - start) as f64 * scale, false),
            None => (W - 10.0, true),
        };
        let width = (x1 - x0).max(2.0);
        let dur = s.end_ns.map_or("not ended in the trace".to_string(), |e| {
            fmt_ns(e.saturating_sub(s.start_ns))
        });
        let _ = writeln!(
            h,
            "<rect class=\"span {}\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{}\"{}><title>{}: {}</title></rect>",
            match s.kind {
                SpanKind::DriverEntry => "driver-entry",
                SpanKind::CaptureWait => "capture-wait",
                SpanKind::Held => "held",
                SpanKind::Deregister => "deregister",
            },
            ROW - 6.0,
            color(s.kind),
            if open { " fill-opacity=\"0.45\" stroke=\"#000\" stroke-dasharray=\"3 2\"" } else { "" },
            esc(&s.label),
            dur
        );
    }
    h.push_str("</svg>\n");
}

fn histogram_svg(h: &mut String, hist: &Histogram) {
    let n = hist.buckets.len().max(1);
    let height = 220.0;
    let max = hist
        .buckets
        .iter()
        .map(|b| b.count)
        .max()
        .unwrap_or(0)
        .max(1);
    let bw = (W - 60.0) / n as f64;
    let _ = writeln!(
        h,
        "<svg id=\"latency-histogram\" width=\"{W}\" height=\"{height}\" viewBox=\"0 0 {W} {height}\" role=\"img\" aria-label=\"capture wait histogram\">"
    );
    if hist.buckets.is_empty() {
        let _ = writeln!(
            h,
            "<text x=\"20\" y=\"40\" font-size=\"13\" fill=\"#57606a\">No capture waits in these traces.</text>"
        );
    }
    for (i, b) in hist.buckets.iter().enumerate() {
        let bh = (b.count as f64 / max as f64) * (height - 60.0);
        let x = 40.0 + bw * i as f64;
        let y = height - 36.0 - bh;
        let label = match b.le_ns {
            Some(le) => format!("≤{}", fmt_ns(le)),
            None => ">100 s".to_string(),
        };
        let _ = writeln!(
            h,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#f0883e\"><title>{label}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x + 2.0,
            (bw - 4.0).max(1.0),
            b.count,
            x + bw / 2.0,
            y - 4.0,
            b.count,
            x + bw / 2.0,
            height - 20.0,
            esc(&label)
        );
    }
    h.push_str("</svg>\n");
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::boot::BootReport;
    use crate::report::fixture;

    pub(crate) fn render_fixture() -> String {
        let files = fixture::files();
        let reports: Vec<&BootReport> = files
            .iter()
            .filter_map(|f| f.result.as_ref().ok()?.boot.as_ref())
            .collect();
        let fleet = FleetSummary::of(reports);
        let mut out = Vec::new();
        report(&files, &fleet, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn html_report() {
        let page = render_fixture();
        assert!(!page.contains("http://") && !page.contains("<script"));
        assert_eq!(page.matches("<svg class=\"timeline\"").count(), 3);
        assert!(page.contains("id=\"latency-histogram\""));
        assert!(page.contains("id=\"boot-impact\""));
        insta::assert_snapshot!(page);
    }
}
