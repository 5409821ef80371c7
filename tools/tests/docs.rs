//! The README and the reference pages in `docs/` state what the code does: the rules `check`
//! applies and their severities, the events and fields of the schema, the driver's
//! `Parameters` values, the commands of the `wsktrace` binary and which of them can exit 1.

use std::path::{Path, PathBuf};
use std::process::Command;

use wsktrace_driver::glue::params;
use wsktrace_driver::schema::{self, FieldKind};
use wsktrace_tools::analysis::balance::{Rule, Severity};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(page: &str) -> String {
    let path = repo().join(page);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of every Markdown table in `text` whose header's cells start with `header`: each
/// row as its cells, trimmed, keyed by the header's cell names.
fn table_rows(text: &str, header: &[&str]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect();
        if cells
            .iter()
            .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        {
            continue; // the separator line
        }
        if cells.len() >= header.len() && cells.iter().zip(header).all(|(c, h)| c == h) {
            in_table = true;
        } else if in_table {
            rows.push(cells);
        }
    }
    rows
}

/// The text between the first pair of backticks in `cell`.
fn first_code(cell: &str) -> Option<&str> {
    cell.split('`').nth(1)
}

#[test]
fn rules_table_lists_every_rule_with_its_severity() {
    let text = read("docs/analyses.md");
    let mut documented: Vec<(String, String)> = table_rows(&text, &["id", "kind", "when"])
        .into_iter()
        .map(|row| {
            let id = first_code(&row[0])
                .expect("a rule id in backticks")
                .to_string();
            (id, row[1].clone())
        })
        .collect();
    let mut code: Vec<(String, String)> = Rule::ALL
        .iter()
        .map(|r| {
            let kind = match r.severity() {
                Severity::Warning => "warning",
                _ => "violation",
            };
            (r.id().to_string(), kind.to_string())
        })
        .collect();
    documented.sort();
    code.sort();
    assert_eq!(
        documented, code,
        "docs/analyses.md's rules table = Rule::ALL"
    );
}

/// How an event table spells a field's TraceLogging type: in-type, and out-type if not the
/// default.
fn type_text(kind: FieldKind) -> (&'static str, Option<&'static str>) {
    match kind {
        FieldKind::Str => ("str8", Some("UTF8")),
        FieldKind::U8 => ("U8", None),
        FieldKind::U16Hex => ("U16", Some("HEX")),
        FieldKind::U32 => ("U32", None),
        FieldKind::U64 => ("U64", None),
        FieldKind::Status => ("U32", Some("NTSTATUS")),
        FieldKind::Bool => ("U8", Some("BOOLEAN")),
    }
}

/// The fields a table cell names, each with the type written after it (if any): every
/// backticked name followed by a type word (`RegistrationId` U32, `Status` U32/NTSTATUS),
/// and every other backticked name that looks like a field (CamelCase, no underscore).
fn documented_fields(cell: &str) -> Vec<(String, Option<String>)> {
    let parts: Vec<&str> = cell.split('`').collect();
    let mut fields = Vec::new();
    for i in (1..parts.len()).step_by(2) {
        let name = parts[i];
        let after = parts.get(i + 1).copied().unwrap_or("");
        let ty = after
            .split([' ', ',', '('])
            .find(|w| !w.is_empty())
            .filter(|w| {
                ["str8", "U8", "U16", "U32", "U64"]
                    .iter()
                    .any(|t| w.split('/').next() == Some(*t))
            })
            .map(str::to_string);
        let field_like = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && name.chars().any(|c| c.is_ascii_lowercase());
        if ty.is_some() || (field_like && !name.starts_with("Wsk")) {
            fields.push((name.to_string(), ty));
        }
    }
    fields
}

#[test]
fn event_tables_list_every_event_with_its_opcode_keywords_and_fields() {
    let pages = ["docs/events.md", "docs/driver.md"];
    let mut rows = Vec::new();
    for page in pages {
        if repo().join(page).exists() {
            let text = read(page);
            for row in table_rows(&text, &["event", "opcode", "keywords"]) {
                rows.push((page, row));
            }
        }
    }
    assert_eq!(
        rows.len(),
        schema::DESCRIPTORS.len(),
        "one table row per event of the schema"
    );
    for d in schema::DESCRIPTORS {
        let opcode = match d.opcode {
            schema::opcode::START => "Start",
            schema::opcode::STOP => "Stop",
            _ => "Info",
        };
        let (page, row) = rows
            .iter()
            .find(|(_, row)| {
                first_code(&row[0]) == Some(d.name) && row[1].split(' ').next() == Some(opcode)
            })
            .unwrap_or_else(|| panic!("no row for {} {opcode}", d.name));
        assert_eq!(
            row[2],
            format!("{:#x}", d.keywords),
            "{page}: {} {opcode} keywords",
            d.name
        );
        let fields = documented_fields(&row[3]);
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        let want: Vec<&str> = d.fields.iter().map(|f| f.name).collect();
        assert_eq!(names, want, "{page}: {} {opcode} fields", d.name);
        for (f, (_, ty)) in d.fields.iter().zip(&fields) {
            let Some(ty) = ty else { continue };
            let (in_type, out_type) = type_text(f.kind);
            let mut written = ty.split('/');
            assert_eq!(
                written.next(),
                Some(in_type),
                "{page}: {}.{}",
                d.name,
                f.name
            );
            if let Some(out) = written.next() {
                assert_eq!(Some(out), out_type, "{page}: {}.{}", d.name, f.name);
            }
        }
    }
}

#[test]
fn parameters_tables_list_exactly_the_values_the_driver_reads() {
    let mut documented = Vec::new();
    for page in ["docs/install.md", "docs/driver.md"] {
        if repo().join(page).exists() {
            for row in table_rows(&read(page), &["value"]) {
                documented.push(first_code(&row[0]).expect("a value name").to_string());
            }
        }
    }
    documented.sort();
    let mut read_by_glue: Vec<String> = params::VALUE_NAMES.iter().map(|s| s.to_string()).collect();
    read_by_glue.sort();
    assert_eq!(
        documented, read_by_glue,
        "documented Parameters = what the glue reads"
    );
}

fn wsktrace(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wsktrace"))
        .args(args)
        .output()
        .expect("wsktrace runs");
    assert!(out.status.success(), "wsktrace {args:?}");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

/// The subcommands `wsktrace --help` lists.
fn commands() -> Vec<String> {
    let help = wsktrace(&["--help"]);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A command's line; a wrapped description continues further indented.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn readme_names_every_command_and_which_can_exit_1() {
    let readme = read("README.md");
    let commands = commands();
    assert!(commands.len() >= 8, "{commands:?}");
    for c in &commands {
        assert!(
            readme.contains(&format!("wsktrace {c}")),
            "README.md names `wsktrace {c}`"
        );
    }
    // The README's exit-status paragraph names the commands that can exit 1: exactly those
    // whose --help does not say "Never 1".
    let line = readme
        .split("\n\n")
        .find(|paragraph| paragraph.contains("**1**"))
        .expect("README.md states exit status 1");
    for c in &commands {
        let help = wsktrace(&[c, "--help"]);
        let can_exit_1 = !help.contains("Never 1");
        assert_eq!(
            line.contains(&format!("`{c}`")),
            can_exit_1,
            "README.md's exit 1 line and `wsktrace {c} --help` agree: {line}"
        );
    }
}
