//! For the tests: render an HTML page in headless Chromium (Debian's `chromium`, installed by
//! `tests/run.sh`), take a screenshot and the DOM after parsing.
//!
//! Without Chromium a local run skips with a notice; with `CI=true` a missing Chromium fails.
//! "Not blank" is checked without an image decoder: the screenshot of the page must be much
//! larger than the screenshot of an empty page taken the same way (PNG compresses a uniform
//! image to almost nothing).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Chromium binary, if installed (`WSKTRACE_CHROMIUM` overrides the path).
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WSKTRACE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Chromium, or `None` after printing why the test skips (panics with `CI=true`).
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    match chromium() {
        Some(p) => Some(p),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: /usr/bin/chromium is missing (tests/run.sh installs it); required with CI=true")
        }
        None => {
            eprintln!(
                "{test}: skipped: /usr/bin/chromium is not installed (tests/run.sh installs it)"
            );
            None
        }
    }
}

fn run(chromium: &Path, args: &[String], profile: &Path) -> std::process::Output {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    // Drain the pipes while waiting: a DOM larger than the pipe buffer would block Chromium.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::process::Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// What Chromium made of a page.
pub struct Rendered {
    /// PNG screenshot bytes.
    pub screenshot: Vec<u8>,
    /// PNG screenshot bytes of an empty page, same size.
    pub blank: Vec<u8>,
    /// The DOM after parsing (`--dump-dom`).
    pub dom: String,
}

/// Renders `html_file` (and an empty page, for comparison) in `dir`.
pub fn render(chromium: &Path, html_file: &Path, dir: &Path) -> Rendered {
    let url = format!(
        "file://{}",
        html_file.canonicalize().expect("page").display()
    );
    let blank_file = dir.join("blank.html");
    std::fs::write(&blank_file, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank_url = format!("file://{}", blank_file.canonicalize().unwrap().display());
    let shot = |url: &str, name: &str| {
        let png = dir.join(name);
        let out = run(
            chromium,
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,1600".to_string(),
                url.to_string(),
            ],
            &dir.join(format!("profile-{name}")),
        );
        std::fs::read(&png).unwrap_or_else(|e| {
            panic!(
                "no screenshot {} ({e}); chromium said: {}",
                png.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    let screenshot = shot(&url, "page.png");
    let blank = shot(&blank_url, "blank.png");
    let out = run(
        chromium,
        &["--dump-dom".to_string(), url],
        &dir.join("profile-dom"),
    );
    Rendered {
        screenshot,
        blank,
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wsktrace-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_page_renders_in_chromium() {
        let Some(chromium) = chromium_or_skip("fixture_page_renders_in_chromium") else {
            return;
        };
        let dir = temp_dir("html-fixture");
        let page = dir.join("report.html");
        std::fs::write(&page, super::super::html::tests::render_fixture()).unwrap();
        let r = render(&chromium, &page, &dir);
        assert_eq!(&r.screenshot[..8], b"\x89PNG\r\n\x1a\n");
        assert!(
            r.screenshot.len() > 4 * r.blank.len(),
            "screenshot looks blank: {} bytes vs {} for an empty page",
            r.screenshot.len(),
            r.blank.len()
        );
        for needle in [
            "id=\"summary\"",
            "id=\"findings\"",
            "class=\"timeline\"",
            "class=\"span capture-wait\"",
            "class=\"span held\"",
            "class=\"span driver-entry\"",
            "class=\"span deregister\"",
            "id=\"latency-histogram\"",
            "class=\"bar\"",
            "id=\"boot-impact\"",
            "double-release",
            "\\Driver\\disk",
        ] {
            assert!(r.dom.contains(needle), "DOM lacks {needle}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
