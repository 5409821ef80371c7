//! Plain text for people: one header line per file, one line per finding (grep-able:
//! `path: time: tid N: registration R capture C: severity[rule]: message`), the events
//! involved indented below it, and a closing summary.

use std::io::{self, Write};

use super::{provider_text, CheckSummary, FileResult, FileStatus};
use crate::analysis::balance::{Severity, Verdict};
use crate::analysis::boot::FleetSummary;
use crate::analysis::latency::LatencyReport;
use crate::analysis::stats::{fmt_ns, fmt_ts, Histogram, Summary};
use crate::pipeline::TraceError;

/// Options of the `check` text output.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckText {
    /// Also list registrations whose verdict is ok.
    pub verbose: bool,
}

/// An error as text: `path: offset 0x…: message` (the command line prints it on stderr,
/// after `wsktrace: `, as it is met).
pub fn error_line(path: &str, e: &TraceError) -> String {
    format!("{path}: {e}")
}

/// The line of a file that could not be read at all. Its error is not repeated here: it
/// went to stderr ([`error_line`]) as it was met.
fn unreadable(f: &FileResult, w: &mut dyn Write) -> io::Result<()> {
    let kind = f.errors().first().map_or("error", |e| e.id());
    writeln!(w, "{}: unreadable ({kind})", f.path)
}

/// `; N read error(s)` for a file read with errors (the errors went to stderr).
fn read_errors(f: &FileResult) -> String {
    match f.errors().len() {
        0 => String::new(),
        n => format!("; {n} read error(s)"),
    }
}

/// `check` as text. Errors are not printed here (they went to stderr as they happened); a
/// file's line says it could not be read, or how many errors were met reading it.
pub fn check(files: &[FileResult], opts: CheckText, w: &mut dyn Write) -> io::Result<()> {
    for f in files {
        let Ok(a) = &f.result else {
            unreadable(f, w)?;
            continue;
        };
        if f.status() == FileStatus::NoEvents {
            writeln!(
                w,
                "{}: no events of provider {} ({} records read{})",
                f.path,
                provider_text(),
                a.records,
                read_errors(f)
            )?;
            continue;
        }
        let Some(b) = &a.balance else { continue };
        writeln!(
            w,
            "{}: {} ({} events; registrations: {} ok, {} violation, {} inconclusive; {} warning(s){})",
            f.path,
            f.status().as_str(),
            a.events,
            b.counts.ok,
            b.counts.violation,
            b.counts.inconclusive,
            b.counts.warnings,
            read_errors(f)
        )?;
        for c in &b.clients {
            writeln!(
                w,
                "{}: client {}: {} ({} registration(s))",
                f.path,
                c.client.as_deref().unwrap_or("(unknown)"),
                verdict_str(c.verdict),
                c.counts.total()
            )?;
        }
        for r in &b.registrations {
            if r.verdict == Verdict::Ok && r.findings.is_empty() && !opts.verbose {
                continue;
            }
            let mut line = format!(
                "{}: registration {} (#{}, client {}, {} capture(s)): {}",
                f.path,
                r.registration,
                r.instance,
                r.client.as_deref().unwrap_or("(unknown)"),
                r.captures,
                verdict_str(r.verdict)
            );
            if !r.reasons.is_empty() {
                line.push_str(": ");
                line.push_str(&r.reasons.join("; "));
            }
            writeln!(w, "{line}")?;
            for finding in &r.findings {
                let sev = match finding.severity {
                    Severity::Violation => "violation",
                    Severity::Inconclusive => "inconclusive",
                    Severity::Warning => "warning",
                };
                write!(
                    w,
                    "{}: {}: tid {}: registration {}",
                    f.path,
                    fmt_ts(finding.ts_ns),
                    finding.tid,
                    finding
                        .registration
                        .map_or("-".to_string(), |r| r.to_string()),
                )?;
                if let Some(c) = finding.capture {
                    write!(w, " capture {c}")?;
                }
                if let Some(s) = finding.socket {
                    write!(w, " socket {s}")?;
                }
                write!(w, ": {sev}[{}]: {}", finding.rule.id(), finding.message)?;
                if let Some(reason) = &finding.reason {
                    write!(w, " (inconclusive: {reason})")?;
                }
                writeln!(w)?;
                for e in &finding.events {
                    writeln!(
                        w,
                        "    {} tid {} {}/{} {}",
                        fmt_ts(e.ts_ns),
                        e.tid,
                        e.name,
                        e.opcode,
                        e.fields
                    )?;
                }
            }
        }
        for l in &b.lost {
            writeln!(w, "{}: note: {l}", f.path)?;
        }
    }
    let s = CheckSummary::of(files);
    writeln!(
        w,
        "{} file(s): {} registration(s): {} ok, {} violation, {} inconclusive; {} warning(s); {} file(s) without events; {} unreadable",
        s.files,
        s.ok + s.violation + s.inconclusive,
        s.ok,
        s.violation,
        s.inconclusive,
        s.warnings,
        s.no_events,
        s.errors
    )
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Violation => "violation",
    }
}

/// The count and the percentiles of a distribution; `—` for those of an empty one.
fn summary_cells(s: &Summary) -> String {
    let cell = |v: u64| {
        if s.count == 0 {
            NONE.to_string()
        } else {
            fmt_ns(v)
        }
    };
    format!(
        "{:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
        s.count,
        cell(s.min),
        cell(s.p50),
        cell(s.p90),
        cell(s.p99),
        cell(s.max)
    )
}

/// What a cell of an empty distribution shows.
const NONE: &str = "—";

const SUMMARY_HEAD: &str = " count        min        p50        p90        p99        max";

/// A histogram as bars of `#`.
pub fn histogram(h: &Histogram, w: &mut dyn Write, indent: &str) -> io::Result<()> {
    let max = h.buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    for b in &h.buckets {
        let label = match b.le_ns {
            Some(le) => format!("<= {}", fmt_ns(le)),
            None => "> 100 s".to_string(),
        };
        let bar = "#".repeat(((b.count * 40).div_ceil(max)) as usize);
        writeln!(w, "{indent}{label:>12} {:>7} {bar}", b.count)?;
    }
    Ok(())
}

/// One file's latency report.
pub fn latency_file(path: &str, r: &LatencyReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{path}: capture waits (WaitNs)")?;
    writeln!(
        w,
        "  {:<56}{SUMMARY_HEAD}",
        "wait mode / outcome / calling context"
    )?;
    for g in &r.groups {
        let key = format!("{} / {} / {}", g.wait_mode, g.outcome, g.calling_context);
        writeln!(w, "  {key:<56}{}", summary_cells(&g.wait))?;
    }
    writeln!(w, "  {:<56}{}", "all", summary_cells(&r.all))?;
    writeln!(
        w,
        "  {:<56}{}",
        "all, from Start/Stop timestamps",
        summary_cells(&r.wait_from_timestamps)
    )?;
    histogram(&r.histogram, w, "  ")?;
    writeln!(w, "{path}: time held between capture and release (HeldNs)")?;
    writeln!(w, "  {:<56}{}", "held", summary_cells(&r.held))?;
    writeln!(
        w,
        "  {:<56}{}",
        "held, from capture Stop/release timestamps",
        summary_cells(&r.held_from_timestamps)
    )?;
    histogram(&r.held_histogram, w, "  ")?;
    if r.disagreement_count == 0 {
        writeln!(
            w,
            "{path}: fields and timestamps agree within {}",
            fmt_ns(r.tolerance_ns)
        )?;
    } else {
        writeln!(
            w,
            "{path}: {} field/timestamp disagreement(s) above {}:",
            r.disagreement_count,
            fmt_ns(r.tolerance_ns)
        )?;
        for d in &r.disagreements {
            writeln!(
                w,
                "  {} tid {} registration {} capture {}: {} field {} vs timestamps {}",
                fmt_ts(d.ts_ns),
                d.tid,
                d.registration,
                d.capture,
                d.what,
                fmt_ns(d.field_ns),
                fmt_ns(d.timestamps_ns)
            )?;
        }
    }
    Ok(())
}

/// `latency` as text.
pub fn latency(files: &[FileResult], w: &mut dyn Write) -> io::Result<()> {
    for f in files {
        match &f.result {
            Err(_) => unreadable(f, w)?,
            Ok(a) if a.events == 0 => writeln!(
                w,
                "{}: no events of provider {} ({} records read)",
                f.path,
                provider_text(),
                a.records
            )?,
            Ok(a) => {
                if let Some(l) = &a.latency {
                    latency_file(&f.path, l, w)?;
                }
            }
        }
    }
    Ok(())
}

/// `boot` as text: per trace, then the fleet summary.
pub fn boot(files: &[FileResult], fleet: &FleetSummary, w: &mut dyn Write) -> io::Result<()> {
    for f in files {
        let Ok(a) = &f.result else {
            unreadable(f, w)?;
            continue;
        };
        let Some(b) = &a.boot else { continue };
        if b.clients.is_empty() {
            writeln!(
                w,
                "{}: no DriverEntry of provider {} ({} events of it, {} records read)",
                f.path,
                provider_text(),
                a.events,
                a.records
            )?;
            continue;
        }
        for c in &b.clients {
            let rel = if c.relative_to_boot {
                "after boot"
            } else {
                "after trace start (boot time unknown)"
            };
            writeln!(w, "{}: client {}", f.path, c.client)?;
            writeln!(
                w,
                "  DriverEntry started    {} {rel} (tid {})",
                fmt_ns(c.driver_entry_start_ns),
                c.driver_entry_tid
            )?;
            writeln!(
                w,
                "  DriverEntry took       {}",
                c.driver_entry_duration_ns
                    .map_or("(no Stop event)".to_string(), fmt_ns)
            )?;
            writeln!(
                w,
                "  blocked in capture     {} on the DriverEntry thread",
                fmt_ns(c.blocked_in_capture_ns)
            )?;
            writeln!(
                w,
                "  WSK ready              {}",
                c.wsk_ready_ns
                    .map_or("never (no successful capture)".to_string(), |t| format!(
                        "{} {rel}",
                        fmt_ns(t)
                    ))
            )?;
            if c.delayed_drivers.is_empty() {
                writeln!(
                    w,
                    "  delayed drivers        none ({} Kernel-PnP DriverInit events in the trace)",
                    b.pnp_driver_inits
                )?;
            } else {
                writeln!(
                    w,
                    "  delayed drivers        {}, the largest delay {} (within the blocked time above)",
                    c.delayed_drivers.len(),
                    fmt_ns(c.max_delay_ns)
                )?;
                for d in &c.delayed_drivers {
                    writeln!(
                        w,
                        "    {:<40} started {:>10}  delayed by {}",
                        d.driver,
                        fmt_ns(d.init_start_ns),
                        fmt_ns(d.delay_ns)
                    )?;
                }
            }
        }
    }
    if fleet.traces > 1 {
        writeln!(
            w,
            "fleet: {} trace(s), {} with a DriverEntry",
            fleet.traces, fleet.traces_with_driver_entry
        )?;
        writeln!(w, "  {:<32}{SUMMARY_HEAD}", "metric")?;
        for (name, s) in fleet.metrics() {
            writeln!(w, "  {name:<32}{}", summary_cells(s))?;
        }
        let d = &fleet.delayed_drivers;
        let cell = |v: u64| {
            if d.count == 0 {
                NONE.to_string()
            } else {
                v.to_string()
            }
        };
        writeln!(
            w,
            "  {:<32}{:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "drivers delayed",
            d.count,
            cell(d.min),
            cell(d.p50),
            cell(d.p90),
            cell(d.p99),
            cell(d.max)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::boot::BootReport;
    use crate::report::fixture;

    fn render(f: impl Fn(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn check_text() {
        let files = fixture::files();
        insta::assert_snapshot!(render(|w| check(&files, CheckText::default(), w)));
    }

    #[test]
    fn latency_text() {
        let files = fixture::files();
        insta::assert_snapshot!(render(|w| latency(&files, w)));
    }

    #[test]
    fn boot_text() {
        let files = fixture::files();
        let reports: Vec<&BootReport> = files
            .iter()
            .filter_map(|f| f.result.as_ref().ok()?.boot.as_ref())
            .collect();
        let fleet = FleetSummary::of(reports);
        insta::assert_snapshot!(render(|w| boot(&files, &fleet, w)));
    }
}
