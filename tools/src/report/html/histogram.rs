//! Bar charts (the capture-wait histogram, the fleet page's per-trace distributions):
//! legible with one bar or a hundred. Bars are never wider than [`MAX_BAR`]; the count axis
//! has gridlines with a unit caption; counts sit above the bars they fit over (every bar's
//! `<title>` has it too); bucket labels are thinned, and turned 45° when they cannot stand
//! side by side.

use std::fmt::Write as _;

use super::axis::{nice_step, text_width, FONT, WIDTH};
use crate::report::escape_xml as esc;

/// One bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Label under it (a bucket: `≤2.0 ms`).
    pub label: String,
    /// Its height.
    pub count: u64,
}

/// What a chart shows.
#[derive(Clone, Copy, Debug)]
pub struct Chart<'a> {
    /// `id` of the `<svg>`.
    pub id: &'a str,
    /// What the bars are (x caption): `capture wait (bucket upper edge)`.
    pub x_caption: &'a str,
    /// What a count counts (y caption): `captures`.
    pub y_caption: &'a str,
    /// What to say when there are no bars, and why.
    pub empty: &'a str,
}

const HEIGHT: f64 = 250.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 74.0;
/// Widest bar, px.
pub const MAX_BAR: f64 = 56.0;

/// Writes the chart.
pub fn bars_svg(h: &mut String, chart: &Chart<'_>, bars: &[Bar]) {
    let _ = writeln!(
        h,
        "<svg id=\"{}\" class=\"chart\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        chart.id,
        esc(chart.x_caption)
    );
    if bars.is_empty() {
        let _ = writeln!(
            h,
            "<text x=\"20\" y=\"40\" font-size=\"13\" fill=\"#57606a\">{}</text></svg>",
            esc(chart.empty)
        );
        return;
    }
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let step = nice_step(max, 5).max(1);
    let top = max.div_ceil(step) * step;
    let y_of = |v: u64| TOP + plot_h - v as f64 / top as f64 * plot_h;
    count_axis(h, chart, step, top, &y_of);
    let slot = ((WIDTH - LEFT - RIGHT) / bars.len() as f64).min(MAX_BAR + 16.0);
    let bar_w = (slot * 0.8).clamp(1.0, MAX_BAR);
    let widest = bars
        .iter()
        .map(|b| text_width(&b.label, FONT - 1.0))
        .fold(0.0, f64::max);
    let upright = widest + 6.0 <= slot;
    // Labels turned 45° need about a line height apart.
    let every = if upright {
        1
    } else {
        ((FONT + 3.0) / slot).ceil().max(1.0) as usize
    };
    for (i, b) in bars.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let y = y_of(b.count);
        let cx = x + bar_w / 2.0;
        let _ = writeln!(
            h,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" fill=\"#f0883e\"><title>{}: {} {}</title></rect>",
            TOP + plot_h - y,
            esc(&b.label),
            b.count,
            esc(chart.y_caption)
        );
        if b.count > 0 && text_width(&b.count.to_string(), FONT) <= slot {
            let _ = writeln!(
                h,
                "<text class=\"count\" x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"{FONT}\" text-anchor=\"middle\">{}</text>",
                y - 4.0,
                b.count
            );
        }
        if i % every == 0 {
            bucket_label(h, &b.label, cx, TOP + plot_h, upright);
        }
    }
    let _ = writeln!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{FONT}\" text-anchor=\"middle\" fill=\"#57606a\">{}</text></svg>",
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 6.0,
        esc(chart.x_caption)
    );
}

/// Gridlines and labels of the count axis, with its caption.
fn count_axis(h: &mut String, chart: &Chart<'_>, step: u64, top: u64, y_of: &dyn Fn(u64) -> f64) {
    let mut v = 0;
    while v <= top {
        let y = y_of(v);
        let _ = writeln!(
            h,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d8dbe3\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"{FONT}\" text-anchor=\"end\">{v}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
        v += step;
    }
    let _ = writeln!(
        h,
        "<text x=\"14\" y=\"{:.1}\" font-size=\"{FONT}\" text-anchor=\"middle\" fill=\"#57606a\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
        esc(chart.y_caption)
    );
}

fn bucket_label(h: &mut String, label: &str, cx: f64, base: f64, upright: bool) {
    let y = base + 14.0;
    if upright {
        let _ = writeln!(
            h,
            "<text class=\"bucket\" x=\"{cx:.1}\" y=\"{y:.1}\" font-size=\"{}\" text-anchor=\"middle\">{}</text>",
            FONT - 1.0,
            esc(label)
        );
    } else {
        let _ = writeln!(
            h,
            "<text class=\"bucket\" x=\"{cx:.1}\" y=\"{y:.1}\" font-size=\"{}\" text-anchor=\"end\" transform=\"rotate(-45 {cx:.1} {y:.1})\">{}</text>",
            FONT - 1.0,
            esc(label)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(n: usize) -> String {
        let bars: Vec<Bar> = (0..n)
            .map(|i| Bar {
                label: format!("≤{i}00 ms"),
                count: (i as u64 * 37) % 1000 + 1,
            })
            .collect();
        let mut h = String::new();
        let c = Chart {
            id: "t",
            x_caption: "wait",
            y_caption: "captures",
            empty: "nothing",
        };
        bars_svg(&mut h, &c, &bars);
        h
    }

    fn xs(svg: &str, class: &str) -> Vec<f64> {
        svg.match_indices(&format!("class=\"{class}\" x=\""))
            .map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn one_bar_is_not_a_wall() {
        let svg = chart(1);
        assert_eq!(svg.matches("class=\"bar\"").count(), 1);
        let w: f64 = svg
            .split("width=\"")
            .nth(2)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(w <= MAX_BAR, "{w}");
        assert_eq!(xs(&svg, "bucket").len(), 1);
        assert_eq!(xs(&svg, "count").len(), 1);
        assert!(svg.contains(">captures</text>"));
    }

    #[test]
    fn a_hundred_bars_keep_labels_apart() {
        let svg = chart(100);
        if let Some(dir) = std::env::var_os("WSKTRACE_KEEP_HTML_CHARTS") {
            let page = format!("<!DOCTYPE html><html><body>{}{svg}</body></html>", chart(1));
            std::fs::write(std::path::Path::new(&dir).join("charts.html"), page).unwrap();
        }
        assert_eq!(svg.matches("class=\"bar\"").count(), 100);
        let labels = xs(&svg, "bucket");
        assert!(labels.len() >= 10 && labels.len() < 100, "{}", labels.len());
        // Turned labels at least a line apart; counts only where they fit.
        assert!(labels.windows(2).all(|p| p[1] - p[0] >= FONT + 3.0));
        assert!(svg.contains("rotate(-45"));
        assert!(xs(&svg, "count").len() < 100);
    }

    #[test]
    fn empty_says_why() {
        let mut h = String::new();
        let c = Chart {
            id: "t",
            x_caption: "wait",
            y_caption: "captures",
            empty: "No capture waits in these traces.",
        };
        bars_svg(&mut h, &c, &[]);
        assert!(h.contains("No capture waits in these traces."));
    }
}
