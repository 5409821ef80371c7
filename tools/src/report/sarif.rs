//! SARIF 2.1.0 (code-scanning dashboards): one result per finding; the `rules` array lists
//! the rules that occur. Violations are `error`, warnings `warning`, inconclusive findings
//! `note`; read errors are tool execution notifications, each with the file and its byte
//! offset (`region.byteOffset`) and, in `properties`, the error's kind and buffer index.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::FileResult;
use crate::analysis::balance::{Rule, Severity};
use crate::analysis::stats::fmt_ts;
use crate::pipeline::TraceError;

/// A tool execution notification for a read error.
fn notification(path: &str, e: &TraceError) -> Value {
    let mut location = json!({"artifactLocation": {"uri": path}});
    if let Some(offset) = e.offset() {
        location["region"] = json!({"byteOffset": offset});
    }
    json!({
        "level": "error",
        "message": {"text": format!("{path}: {e}")},
        "locations": [{"physicalLocation": location}],
        "properties": {"kind": e.id(), "buffer": e.buffer()},
    })
}

/// `check --sarif FILE`.
pub fn check(files: &[FileResult], w: &mut dyn Write) -> io::Result<()> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for f in files {
        notifications.extend(f.errors().iter().map(|e| notification(&f.path, e)));
        let Ok(a) = &f.result else { continue };
        let Some(b) = &a.balance else { continue };
        for finding in b.findings() {
            if !rules.contains(&finding.rule) {
                rules.push(finding.rule);
            }
            let level = match finding.severity {
                Severity::Violation => "error",
                Severity::Warning => "warning",
                Severity::Inconclusive => "note",
            };
            let mut text = format!(
                "{}: tid {}: {}",
                fmt_ts(finding.ts_ns),
                finding.tid,
                finding.message
            );
            if let Some(r) = &finding.reason {
                text.push_str(&format!(" (inconclusive: {r})"));
            }
            let logical = format!(
                "{}/registration {}{}{}",
                finding.client.as_deref().unwrap_or("(unknown client)"),
                finding
                    .registration
                    .map_or("-".to_string(), |r| r.to_string()),
                finding
                    .capture
                    .map_or(String::new(), |c| format!("/capture {c}")),
                finding
                    .socket
                    .map_or(String::new(), |s| format!("/socket {s}"))
            );
            let mut properties = json!({
                "timestampNs": finding.ts_ns,
                "threadId": finding.tid,
                "registration": finding.registration,
                "capture": finding.capture,
                "events": finding.events,
            });
            if let Some(socket) = finding.socket {
                properties["socket"] = json!(socket);
            }
            results.push(json!({
                "ruleId": finding.rule.id(),
                "level": level,
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": f.path}},
                    "logicalLocations": [{"fullyQualifiedName": logical}],
                }],
                "properties": properties,
            }));
        }
    }
    rules.sort();
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "shortDescription": {"text": r.description()},
                "defaultConfiguration": {"level": match r.severity() {
                    Severity::Warning => "warning",
                    _ => "error",
                }},
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "wsktrace",
                "informationUri": "https://github.com/wsktrace/wsktrace",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn check_sarif() {
        let files = fixture::files();
        let mut out = Vec::new();
        check(&files, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 2);
        let n = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            n["locations"][0]["physicalLocation"]["region"]["byteOffset"],
            0
        );
        assert_eq!(n["properties"]["kind"], "not-etl");
        insta::assert_snapshot!(text);
    }
}
