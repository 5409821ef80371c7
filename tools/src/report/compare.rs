//! `wsktrace compare` output: a side-by-side table for people, one JSON document for
//! scripts, JUnit XML (one test case per gate and row it judged) for CI.

use std::io::{self, Write};

use serde::Serialize;

use super::escape_xml as esc;
use crate::analysis::stats::fmt_ns;
use crate::compare::{Check, Comparison, Delta, Unit};

/// What was compared with what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inputs<'a> {
    /// BASELINE as given.
    pub baseline: &'a str,
    /// NEW as given.
    pub new: &'a str,
}

fn value(unit: Unit, v: Option<u64>) -> String {
    match (unit, v) {
        (_, None) => "-".to_string(),
        (Unit::Ns, Some(0)) => "0 ms".to_string(),
        (Unit::Ns, Some(v)) => fmt_ns(v),
        (Unit::Count, Some(v)) => v.to_string(),
    }
}

fn change(d: &Delta) -> String {
    let c = d.change();
    if c == 0 {
        return "0".to_string();
    }
    let sign = if c > 0 { "+" } else { "−" };
    let size = u64::try_from(c.unsigned_abs()).unwrap_or(u64::MAX);
    let abs = match d.unit {
        Unit::Ns => fmt_ns(size),
        Unit::Count => size.to_string(),
    };
    let pct = d.percent();
    if pct.is_infinite() {
        format!("{sign}{abs} (new)")
    } else {
        format!("{sign}{abs} ({sign}{:.1} %)", pct.abs())
    }
}

fn check_text(c: &Check) -> String {
    let d = &c.delta;
    let group = d
        .group
        .as_deref()
        .map_or(String::new(), |g| format!(" [{g}]"));
    let limit = c
        .limit_percent
        .map_or(String::new(), |l| format!(", allowed +{l} %"));
    format!(
        "{} {}{group}: {} -> {}, {}{limit}",
        c.gate,
        d.metric,
        value(d.unit, d.baseline),
        value(d.unit, d.new),
        change(d)
    )
}

/// The side-by-side table and the gates' verdict.
pub fn text(c: &Comparison, inputs: &Inputs<'_>, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "baseline: {} ({} files)",
        inputs.baseline, c.baseline.files
    )?;
    writeln!(w, "new:      {} ({} files)", inputs.new, c.new.files)?;
    let rows: Vec<[String; 5]> = c
        .deltas
        .iter()
        .map(|d| {
            [
                d.metric.to_string(),
                d.group.clone().unwrap_or_default(),
                value(d.unit, d.baseline),
                value(d.unit, d.new),
                change(d),
            ]
        })
        .collect();
    let head = ["metric", "group", "baseline", "new", "change"].map(String::from);
    let mut width = [0usize; 5];
    for r in std::iter::once(&head).chain(&rows) {
        for (k, cell) in r.iter().enumerate() {
            width[k] = width[k].max(cell.chars().count());
        }
    }
    writeln!(w)?;
    for r in std::iter::once(&head).chain(&rows) {
        writeln!(
            w,
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3]
        )?;
    }
    writeln!(w)?;
    let broke: Vec<&Check> = c.regressions().collect();
    if c.checks.is_empty() {
        writeln!(w, "no gates set (--fail-on-new-violations, --max-increase)")
    } else if broke.is_empty() {
        writeln!(w, "gates: {} checked, no regression", c.checks.len())
    } else {
        writeln!(
            w,
            "gates: {} checked, {} regression(s):",
            c.checks.len(),
            broke.len()
        )?;
        for b in broke {
            writeln!(w, "  REGRESSION {}", check_text(b))?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Doc<'a> {
    tool: &'static str,
    inputs: &'a Inputs<'a>,
    #[serde(flatten)]
    comparison: &'a Comparison,
    regressions: usize,
}

/// One JSON document: the inputs, both sides' figures, every row, every gate check.
pub fn json(c: &Comparison, inputs: &Inputs<'_>, w: &mut dyn Write) -> io::Result<()> {
    let doc = Doc {
        tool: "wsktrace compare",
        inputs,
        comparison: c,
        regressions: c.regressions().count(),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

/// JUnit XML: a test case per gate check (a `<failure>` for a regression); with no gate set,
/// one passing case saying so.
pub fn junit(c: &Comparison, inputs: &Inputs<'_>, w: &mut dyn Write) -> io::Result<()> {
    let failures = c.regressions().count();
    let tests = c.checks.len().max(1);
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        w,
        "<testsuites name=\"wsktrace compare\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    )?;
    let suite = esc(&format!("{} vs {}", inputs.new, inputs.baseline));
    writeln!(
        w,
        "  <testsuite name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">"
    )?;
    if c.checks.is_empty() {
        writeln!(
            w,
            "    <testcase classname=\"wsktrace.compare\" name=\"no gates set\"/>"
        )?;
    }
    for check in &c.checks {
        let d = &check.delta;
        let name = match &d.group {
            Some(g) => format!("{} {} [{g}]", check.gate, d.metric),
            None => format!("{} {}", check.gate, d.metric),
        };
        write!(
            w,
            "    <testcase classname=\"wsktrace.compare\" name=\"{}\"",
            esc(&name)
        )?;
        if check.regression {
            writeln!(w, ">")?;
            writeln!(
                w,
                "      <failure type=\"{}\" message=\"{}\"/>",
                check.gate,
                esc(&check_text(check))
            )?;
            writeln!(w, "    </testcase>")?;
        } else {
            writeln!(w, "/>")?;
        }
    }
    writeln!(w, "  </testsuite>")?;
    writeln!(w, "</testsuites>")
}
