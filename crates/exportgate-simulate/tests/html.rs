//! The HTML report is self-contained and opens in headless Chromium; the screenshot is kept
//! at `target/tmp/simulate-report.png` (beside `simulate-report.html`).
//!
//! Needs Debian's `chromium` at `/usr/bin/chromium` (`scripts/chromium-setup.sh` installs it);
//! the test installs nothing itself.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exportgate_core::Screening;
use exportgate_sample::{generate, BookSpec};
use exportgate_simulate::{render, simulate, BaseData, Scenario};

const CHROMIUM: &str = "/usr/bin/chromium";

fn report_html() -> String {
    let base = BaseData::embedded();
    let draft = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/scenarios/draft-2026-gb300-tiers.json"),
    )
    .unwrap();
    let scenarios = [
        Scenario::builtin("current").unwrap().build(&base).unwrap(),
        Scenario::builtin("ai-diffusion-2025")
            .unwrap()
            .build(&base)
            .unwrap(),
        Scenario::from_json("draft", &draft)
            .unwrap()
            .build(&base)
            .unwrap(),
    ];
    let book = generate(&BookSpec::new(4_000, 21));
    let report = simulate(&book, &scenarios, |_| Screening::External);
    render::html(&report, 60)
}

#[test]
fn the_html_report_needs_nothing_from_the_network() {
    let html = report_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"));
    for banned in [
        "<script", "<link", "<img", "@import", "url(", "src=", "<iframe",
    ] {
        assert!(!html.contains(banned), "{banned}");
    }
    // The only URL is the SVG namespace name, which is never fetched.
    let urls = html.matches("http").count();
    assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
}

#[test]
fn the_html_report_opens_in_headless_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/chromium-setup.sh (apt-get install -y chromium)"
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let html = dir.join("simulate-report.html");
    let png = dir.join("simulate-report.png");
    std::fs::write(&html, report_html()).unwrap();
    let _ = std::fs::remove_file(&png);
    let profile = dir.join(format!("chromium-profile-{}", std::process::id()));
    std::fs::create_dir_all(&profile).unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1400,2000")
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // A guard against a hung browser, not a timing assertion.
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 300 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = std::fs::remove_dir_all(&profile);
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    assert!(status.success(), "chromium failed: {status}\n{err}");
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot: {e}\n{err}"));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // Width and height from the IHDR chunk.
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (1400, 2000));
    // A rendered page with charts, not a blank one.
    assert!(bytes.len() > 50_000, "{} bytes", bytes.len());
    println!("screenshot kept at {}", png.display());
}
