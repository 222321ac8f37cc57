//! The comparison's report as a planner sees it: rendered by headless Chromium (Debian's
//! `chromium`, installed by `scripts/setup-report`, which `scripts/test` runs), the
//! headline within the first screen. The screenshot is kept in
//! `target/tmp/report-headline.png` for a person to look at.

use crate::cli::{civitas, output_within, stderr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Runs headless Chromium on `url` with `args` (a fresh profile in `profile`), within
/// 60 s; its stdout.
fn chromium(profile: &Path, args: &[&str], url: &str) -> String {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,800",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .arg(url);
    if which_chromium().is_none() {
        panic!("no chromium on PATH: scripts/setup-report installs it (scripts/test runs it)");
    }
    let out = output_within(cmd, Duration::from_secs(60));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Chromium's path, if it is installed.
fn which_chromium() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("chromium"))
            .find(|f| f.is_file())
    })
}

#[test]
fn the_report_opens_with_its_headline_on_the_first_screen_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let o = civitas(&[
        "compare",
        "old-small",
        "--models",
        "gov,hybrid",
        "--years",
        "2",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<section id=\"in-short\">"),
        "the headline section"
    );
    // Where the headline ends on a 1280 × 800 screen, as Chromium lays it out.
    let probe = out.join("probe.html");
    std::fs::write(
        &probe,
        html.replace(
            "</body>",
            "<script>const r = document.getElementById('in-short').getBoundingClientRect();\
             document.body.setAttribute('data-in-short-bottom', Math.round(r.bottom));</script></body>",
        ),
    )
    .unwrap();
    let dom = chromium(
        &dir.path().join("profile-1"),
        &["--dump-dom"],
        &format!("file://{}", probe.display()),
    );
    let at = dom
        .find("data-in-short-bottom=\"")
        .unwrap_or_else(|| panic!("the probe did not run: {}", &dom[..dom.len().min(500)]));
    let rest = &dom[at + "data-in-short-bottom=\"".len()..];
    let bottom: u32 = rest[..rest.find('"').unwrap()].parse().unwrap();
    assert!(
        (100..=800).contains(&bottom),
        "the headline ends {bottom} px down the page: it must fit the first 800 px"
    );
    // The screenshot, kept for a person to look at.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-headline.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &dir.path().join("profile-2"),
        &[&format!("--screenshot={}", shot.display())],
        &format!("file://{}", out.join("report.html").display()),
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}
