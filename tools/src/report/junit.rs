//! JUnit XML for CI systems: one `<testsuite>` per file, one `<testcase>` per registration.
//!
//! A violation is a `<failure>`, an inconclusive verdict is `<skipped>` with its reasons,
//! warnings go to `<system-out>`. A file without events of our provider gets one passing
//! case saying so (a `<failure>` with `--require-events`); a file with read errors a `read`
//! case with an `<error>` whose `type` names the first error's kind ([`TraceError::id`]) and
//! whose text lists every error with its offset. Like ruff's JUnit output, a file with nothing to report still shows a green case
//! rather than an empty suite.

use std::io::{self, Write};

use super::{escape_xml as esc, provider_text, FileResult, FileStatus};
use crate::analysis::balance::{Finding, Severity, Verdict};
use crate::analysis::stats::fmt_ts;
use crate::pipeline::TraceError;

/// The `read` test case of a file with read errors.
fn read_case(path: &str, errors: &[TraceError]) -> String {
    let Some(first) = errors.first() else {
        return String::new();
    };
    let message = match errors.len() {
        1 => first.to_string(),
        n => format!("{n} read errors, the first: {first}"),
    };
    let body: Vec<String> = errors
        .iter()
        .map(|e| match e.buffer() {
            Some(b) => format!("{path}: {e} (buffer {b})"),
            None => format!("{path}: {e}"),
        })
        .collect();
    format!(
        "    <testcase classname=\"{}\" name=\"read\">\n      <error type=\"{}\" message=\"{}\">{}</error>\n    </testcase>\n",
        esc(path),
        first.id(),
        esc(&message),
        esc(&body.join("\n"))
    )
}

/// Options of the JUnit output.
#[derive(Clone, Copy, Debug, Default)]
pub struct JunitOptions {
    /// A file without our events fails.
    pub require_events: bool,
}

fn finding_text(path: &str, f: &Finding) -> String {
    let mut s = format!(
        "{path}: {}: tid {}: registration {}",
        fmt_ts(f.ts_ns),
        f.tid,
        f.registration.map_or("-".to_string(), |r| r.to_string())
    );
    if let Some(c) = f.capture {
        s.push_str(&format!(" capture {c}"));
    }
    if let Some(socket) = f.socket {
        s.push_str(&format!(" socket {socket}"));
    }
    s.push_str(&format!(": [{}] {}", f.rule.id(), f.message));
    if let Some(r) = &f.reason {
        s.push_str(&format!(" (inconclusive: {r})"));
    }
    for e in &f.events {
        s.push_str(&format!(
            "\n    {} tid {} {}/{} {}",
            fmt_ts(e.ts_ns),
            e.tid,
            e.name,
            e.opcode,
            e.fields
        ));
    }
    s
}

/// `check --junit FILE`.
pub fn check(files: &[FileResult], opts: JunitOptions, w: &mut dyn Write) -> io::Result<()> {
    let mut suites = String::new();
    let (mut total_tests, mut total_failures, mut total_errors, mut total_skipped) = (0, 0, 0, 0);
    for f in files {
        let path = esc(&f.path);
        let mut cases = String::new();
        let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
        if !f.errors().is_empty() {
            tests += 1;
            errors += 1;
            cases.push_str(&read_case(&f.path, f.errors()));
        }
        match (&f.result, f.status()) {
            (Err(_), _) => {}
            (Ok(a), FileStatus::NoEvents) => {
                tests += 1;
                let msg = format!(
                    "no events of provider {} ({} records read)",
                    provider_text(),
                    a.records
                );
                if opts.require_events {
                    failures += 1;
                    cases.push_str(&format!(
                        "    <testcase classname=\"{path}\" name=\"events\">\n      <failure message=\"{}\"/>\n    </testcase>\n",
                        esc(&msg)
                    ));
                } else {
                    cases.push_str(&format!(
                        "    <testcase classname=\"{path}\" name=\"events\">\n      <system-out>{}</system-out>\n    </testcase>\n",
                        esc(&msg)
                    ));
                }
            }
            (Ok(a), _) => {
                let Some(b) = &a.balance else { continue };
                if b.registrations.is_empty() {
                    tests += 1;
                    cases.push_str(&format!(
                        "    <testcase classname=\"{path}\" name=\"no registrations\"/>\n"
                    ));
                }
                for r in &b.registrations {
                    tests += 1;
                    let name = esc(&format!(
                        "{} registration {} #{}",
                        r.client.as_deref().unwrap_or("(unknown client)"),
                        r.registration,
                        r.instance
                    ));
                    cases.push_str(&format!(
                        "    <testcase classname=\"{path}\" name=\"{name}\">\n"
                    ));
                    let bad: Vec<&Finding> = r
                        .findings
                        .iter()
                        .filter(|f| f.severity != Severity::Warning)
                        .collect();
                    match r.verdict {
                        Verdict::Violation => {
                            failures += 1;
                            let first = bad
                                .iter()
                                .find(|f| f.severity == Severity::Violation)
                                .expect("a violation verdict has a violation");
                            let body: Vec<String> =
                                bad.iter().map(|x| finding_text(&f.path, x)).collect();
                            cases.push_str(&format!(
                                "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                                first.rule.id(),
                                esc(&first.message),
                                esc(&body.join("\n"))
                            ));
                        }
                        Verdict::Inconclusive => {
                            skipped += 1;
                            let mut reasons = r.reasons.clone();
                            reasons.extend(bad.iter().map(|x| finding_text(&f.path, x)));
                            cases.push_str(&format!(
                                "      <skipped message=\"inconclusive: {}\"/>\n",
                                esc(&reasons.join("; "))
                            ));
                        }
                        Verdict::Ok => {}
                    }
                    let warnings: Vec<String> = r
                        .findings
                        .iter()
                        .filter(|f| f.severity == Severity::Warning)
                        .map(|x| format!("warning: {}", finding_text(&f.path, x)))
                        .collect();
                    if !warnings.is_empty() {
                        cases.push_str(&format!(
                            "      <system-out>{}</system-out>\n",
                            esc(&warnings.join("\n"))
                        ));
                    }
                    cases.push_str("    </testcase>\n");
                }
                if b.counts.total() > b.registrations.len() as u64 {
                    // Ok registrations not kept individually (`keep_ok` off): one case.
                    tests += 1;
                    cases.push_str(&format!(
                        "    <testcase classname=\"{path}\" name=\"{} more registration(s) ok\"/>\n",
                        b.counts.total() - b.registrations.len() as u64
                    ));
                }
            }
        }
        total_tests += tests;
        total_failures += failures;
        total_errors += errors;
        total_skipped += skipped;
        suites.push_str(&format!(
            "  <testsuite name=\"{path}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n{cases}  </testsuite>\n"
        ));
    }
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"wsktrace check\" tests=\"{total_tests}\" failures=\"{total_failures}\" errors=\"{total_errors}\" skipped=\"{total_skipped}\">\n{suites}</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn check_junit() {
        let files = fixture::files();
        let mut out = Vec::new();
        check(&files, JunitOptions::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("<testcase ").count(), 5);
        assert_eq!(text.matches("<failure ").count(), 1);
        assert_eq!(text.matches("<skipped ").count(), 1);
        assert_eq!(text.matches("<error ").count(), 1);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn require_events_fails_the_empty_file() {
        let files = fixture::files();
        let mut out = Vec::new();
        check(
            &files,
            JunitOptions {
                require_events: true,
            },
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("<failure ").count(), 2);
    }
}
