//! One registration's timeline: a row per DriverEntry, capture (its wait, then the NPI
//! held) and deregistration, over a time axis with units. A span too short to see at the
//! timeline's scale is drawn [`MIN_SPAN`] wide; every span is labelled with its duration,
//! inside the bar where it fits, beside it otherwise.

use std::fmt::Write as _;

use super::axis::{dur, nice_step, text_width, tick_label, FONT, WIDTH};
use crate::analysis::stats::fmt_ts;
use crate::analysis::timeline::{RegistrationTimeline, Span, SpanKind};
use crate::report::escape_xml as esc;

const LEFT: f64 = 150.0;
const RIGHT: f64 = 80.0;
const ROW: f64 = 22.0;
const HEAD: f64 = 24.0;
const AXIS: f64 = 34.0;
/// Narrowest span drawn, px.
pub const MIN_SPAN: f64 = 4.0;

/// Colours and legend names of the span kinds.
pub const COLORS: [(SpanKind, &str, &str); 4] = [
    (SpanKind::DriverEntry, "#6e7ff3", "DriverEntry"),
    (SpanKind::CaptureWait, "#f0883e", "capture wait"),
    (SpanKind::Held, "#2da44e", "NPI held"),
    (SpanKind::Deregister, "#8250df", "WskDeregister"),
];

fn color(kind: SpanKind) -> &'static str {
    COLORS.iter().find(|c| c.0 == kind).map_or("#999", |c| c.1)
}

fn class(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::DriverEntry => "driver-entry",
        SpanKind::CaptureWait => "capture-wait",
        SpanKind::Held => "held",
        SpanKind::Deregister => "deregister",
    }
}

/// Row key: DriverEntry and WskDeregister one row each, a capture's wait and hold share one.
type RowKey = (Option<SpanKind>, Option<u32>);

fn row_key(s: &Span) -> RowKey {
    match s.kind {
        SpanKind::CaptureWait | SpanKind::Held => (None, s.capture),
        k => (Some(k), None),
    }
}

fn rows(t: &RegistrationTimeline) -> Vec<(RowKey, String)> {
    let mut rows: Vec<(RowKey, String)> = Vec::new();
    for s in &t.spans {
        let key = row_key(s);
        if !rows.iter().any(|r| r.0 == key) {
            let label = match s.kind {
                SpanKind::DriverEntry => "DriverEntry".to_string(),
                SpanKind::Deregister => "WskDeregister".to_string(),
                _ => format!("capture {}", s.capture.unwrap_or(0)),
            };
            rows.push((key, label));
        }
    }
    rows
}

/// The time the timeline covers: first span start to last span end (at least 1 ns).
fn extent(t: &RegistrationTimeline) -> (u64, u64) {
    let start = t.spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end = t
        .spans
        .iter()
        .map(|s| s.end_ns.unwrap_or(s.start_ns).max(s.start_ns))
        .max()
        .unwrap_or(start)
        .max(start + 1);
    (start, end)
}

/// Writes the timeline's `<svg>`.
pub fn timeline_svg(h: &mut String, t: &RegistrationTimeline) {
    let rows = rows(t);
    let (start, end) = extent(t);
    let plot_w = WIDTH - LEFT - RIGHT;
    let scale = plot_w / (end - start) as f64;
    let height = HEAD + ROW * rows.len() as f64 + AXIS;
    let _ = writeln!(
        h,
        "<svg class=\"timeline\" data-registration=\"{}\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"registration {} timeline\">",
        t.registration, t.registration
    );
    let _ = writeln!(
        h,
        "<text x=\"6\" y=\"15\" font-size=\"12\" font-weight=\"600\">registration {} ({})</text><text x=\"{}\" y=\"15\" font-size=\"{FONT}\" text-anchor=\"end\" fill=\"#57606a\">{} – {} after trace start ({})</text>",
        t.registration,
        esc(t.client.as_deref().unwrap_or("unknown client")),
        WIDTH - 8.0,
        fmt_ts(start),
        fmt_ts(end),
        dur(end - start)
    );
    for (i, (_, label)) in rows.iter().enumerate() {
        let _ = writeln!(
            h,
            "<text x=\"6\" y=\"{:.1}\" font-size=\"{FONT}\">{}</text>",
            HEAD + ROW * i as f64 + 15.0,
            esc(label)
        );
    }
    time_axis(h, end - start, scale, HEAD + ROW * rows.len() as f64);
    for s in &t.spans {
        let row = rows.iter().position(|r| r.0 == row_key(s)).unwrap_or(0);
        span(h, s, start, end, scale, HEAD + ROW * row as f64 + 3.0);
    }
    h.push_str("</svg>\n");
}

/// Gridlines, ticks with units, and the axis caption below the rows.
fn time_axis(h: &mut String, span: u64, scale: f64, base: f64) {
    let step = nice_step(span, 10).max(1);
    let mut t = 0u64;
    while t <= span {
        let x = LEFT + t as f64 * scale;
        let _ = writeln!(
            h,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{HEAD}\" y2=\"{:.1}\" stroke=\"#eceef3\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#57606a\">{}</text>",
            base + 4.0,
            base + 16.0,
            tick_label(t, step)
        );
        match t.checked_add(step) {
            Some(next) => t = next,
            None => break,
        }
    }
    let _ = writeln!(
        h,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{base:.1}\" y2=\"{base:.1}\" stroke=\"#8c92a3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#57606a\">time since the registration's first span (event timestamps)</text>",
        LEFT + span as f64 * scale,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        base + 30.0
    );
}

/// One span, at least [`MIN_SPAN`] wide, with its duration.
fn span(h: &mut String, s: &Span, start: u64, end: u64, scale: f64, y: f64) {
    let x0 = LEFT + (s.start_ns - start) as f64 * scale;
    let stop = s.end_ns.map_or(end, |e| e.max(s.start_ns));
    let width = ((stop - s.start_ns) as f64 * scale).max(MIN_SPAN);
    // The label is the timestamps' difference; the tooltip says so (the driver's own
    // DurationNs / WaitNs, in the figures above, can differ slightly).
    let (text, between) = match s.end_ns {
        Some(e) => (
            dur(e.saturating_sub(s.start_ns)),
            " between the events' timestamps",
        ),
        None => ("not ended in the trace".to_string(), ""),
    };
    let open = if s.end_ns.is_none() {
        " fill-opacity=\"0.45\" stroke=\"#000\" stroke-dasharray=\"3 2\""
    } else {
        ""
    };
    let bar_h = ROW - 6.0;
    let _ = writeln!(
        h,
        "<rect class=\"span {}\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{bar_h:.1}\" fill=\"{}\"{open}><title>{}: {text}{between}</title></rect>",
        class(s.kind),
        color(s.kind),
        esc(&s.label),
    );
    let tw = text_width(&text, 10.0);
    let (x, anchor) = if tw + 8.0 <= width {
        (x0 + width / 2.0, "middle")
    } else if x0 + width + 4.0 + tw <= WIDTH - 4.0 {
        (x0 + width + 4.0, "start")
    } else {
        (x0 - 4.0, "end")
    };
    let _ = writeln!(
        h,
        "<text class=\"span-label\" x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"{anchor}\">{text}</text>",
        y + bar_h - 4.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tl() -> RegistrationTimeline {
        let span = |kind, start_ns, end_ns: Option<u64>, capture| Span {
            kind,
            start_ns,
            end_ns,
            capture,
            label: "x".into(),
        };
        RegistrationTimeline {
            registration: 1,
            client: Some("c".into()),
            spans: vec![
                span(SpanKind::DriverEntry, 0, Some(150_000_000), None),
                span(SpanKind::CaptureWait, 1_000, Some(150_000_000), Some(1)),
                // 12 µs on a 150 ms scale: far below a pixel.
                span(SpanKind::Held, 150_000_000, Some(150_012_000), Some(1)),
                span(SpanKind::Deregister, 150_020_000, None, None),
            ],
        }
    }

    #[test]
    fn axis_with_units_and_short_spans_labelled() {
        let mut h = String::new();
        timeline_svg(&mut h, &tl());
        // Ticks every 20 ms, each with its unit.
        assert!(
            h.contains(">0 ms</text>") && h.contains(">140 ms</text>"),
            "{h}"
        );
        assert!(h.contains("class=\"axis\""));
        // The 12 µs hold: drawn MIN_SPAN wide and labelled beside.
        let held = h.split("class=\"span held\"").nth(1).unwrap();
        let w: f64 = held
            .split("width=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(w, MIN_SPAN);
        assert!(h.contains(">12.0 µs</text>"), "{h}");
        assert!(h.contains(">150.00 ms</text>"));
        assert!(h.contains(">not ended in the trace</text>"));
    }
}
