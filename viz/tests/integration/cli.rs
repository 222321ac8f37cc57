//! The `civitas-viz` binary: a snapshot written headless, and every bad input refused
//! with a message and a non-zero status.

use std::path::Path;
use std::process::{Command, Output};

fn viz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_civitas-viz"))
        .args(args)
        // The pixel tests' renderer (NOTES: the same pixels on any machine).
        .env("WGPU_BACKEND", "vulkan")
        .env(
            "VK_ICD_FILENAMES",
            "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
        )
        .output()
        .expect("civitas-viz runs")
}

fn refused(out: &Output, code: i32, message: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn snapshot(extra: &[&str], out: &Path) -> Output {
    let mut args = vec!["snapshot", "--at", "2d", "--size", "160x120", "--out"];
    let out = out.to_str().unwrap();
    args.push(out);
    args.extend_from_slice(extra);
    viz(&args)
}

#[test]
fn a_snapshot_of_a_simulated_community_is_a_png_of_the_size_asked() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("day2.png");
    let out = snapshot(&["--scenario", "default"], &png);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2026-01-03 00:00 Asia/Shanghai"),
        "{stdout}"
    );
    let image = image::open(&png).expect("a PNG").to_rgba8();
    assert_eq!(image.dimensions(), (160, 120));
}

#[test]
fn bad_input_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    refused(
        &snapshot(&["--scenario", "no-such-community"], &png),
        2,
        "no-such-community",
    );
    for size in ["0x0", "100000x100000"] {
        let out = viz(&["snapshot", "--at", "1d", "--size", size, "--out", "x.png"]);
        refused(&out, 2, "expected WIDTHxHEIGHT, each 16 to 8192 pixels");
    }
    refused(
        &viz(&["snapshot", "--at", "soon", "--out", "x.png"]),
        2,
        "expected a duration such as 30d, 12h or 1y, found \"soon\"",
    );
    // An events file of another schema version, named by its version.
    let newer = dir.path().join("newer.jsonl");
    std::fs::write(
        &newer,
        "{\"schema\":\"civitas-events\",\"schema_version\":4}\n",
    )
    .unwrap();
    refused(
        &snapshot(&["--replay", newer.to_str().unwrap()], &png),
        2,
        "an events file of schema_version 4; this build reads schema_version 3",
    );
    // A truncated events file: its last line cut short.
    let header =
        civitas_twin::vocab::events::stream_header_with(&civitas_twin::vocab::events::StreamRun {
            scenario_toml: super::SMALL.into(),
            seed: 1,
            model: civitas_twin::kinds::InvestmentModel::Hybrid,
        });
    let truncated = dir.path().join("truncated.jsonl");
    std::fs::write(
        &truncated,
        format!("{header}\n{{\"start\":0,\"end\":1,\"ev"),
    )
    .unwrap();
    refused(
        &snapshot(&["--replay", truncated.to_str().unwrap()], &png),
        2,
        "line 2: EOF while parsing",
    );
    refused(
        &snapshot(
            &["--replay", dir.path().join("none.jsonl").to_str().unwrap()],
            &png,
        ),
        2,
        "none.jsonl: cannot read it",
    );
    // The moment after the end of what the file recorded (10 days).
    let short = dir.path().join("short.jsonl");
    std::fs::write(&short, format!("{header}\n")).unwrap();
    let out = viz(&[
        "snapshot",
        "--replay",
        short.to_str().unwrap(),
        "--at",
        "11d",
        "--out",
        png.to_str().unwrap(),
    ]);
    refused(&out, 2, "--at 11d: after the run's end (10 days)");
    refused(
        &snapshot(&["--scenario", "default", "--community", "3"], &png),
        2,
        "--community 3: the district has 1 communities (0 to 0)",
    );
    refused(
        &viz(&[
            "snapshot",
            "--at",
            "1d",
            "--out",
            dir.path().join("no/such/dir.png").to_str().unwrap(),
        ]),
        2,
        "does not exist",
    );
}

#[test]
fn without_a_graphics_driver_the_viewer_says_what_to_install() {
    let out = Command::new(env!("CARGO_BIN_EXE_civitas-viz"))
        .args(["snapshot", "--at", "1d", "--out", "x.png"])
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .output()
        .unwrap();
    refused(&out, 1, "no graphics adapter found");
    refused(&out, 1, "scripts/setup-viewer");
}

#[test]
fn a_window_without_a_display_is_refused_before_anything_starts() {
    let out = Command::new(env!("CARGO_BIN_EXE_civitas-viz"))
        .args(["--scenario", "default"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    refused(&out, 1, "no display to open a window on");
}

#[test]
fn a_window_under_xvfb_shows_the_community_and_closes_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("window.png");
    let out = Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 1280x720x24",
            env!("CARGO_BIN_EXE_civitas-viz"),
        ])
        .args([
            "--scenario",
            "default",
            "--flat",
            "--exit-after",
            "3",
            "--screenshot",
        ])
        .arg(&shot)
        .env("WGPU_BACKEND", "vulkan")
        .env(
            "VK_ICD_FILENAMES",
            "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
        )
        .output()
        .expect("xvfb-run (scripts/setup-viewer --window installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = image::open(&shot)
        .expect("the window's last frame")
        .to_rgba8();
    assert_eq!(image.dimensions(), (1280, 720));
    // The background in a corner, the ground in the middle of the site.
    let px = |x, y| {
        let p: image::Rgba<u8> = *image.get_pixel(x, y);
        [p[0], p[1], p[2]]
    };
    assert_eq!(px(1270, 710), civitas_viz::palette::BACKGROUND);
    let ground = (0..720)
        .flat_map(|y| (0..1280).map(move |x| (x, y)))
        .filter(|&(x, y)| px(x, y) == civitas_viz::palette::GROUND)
        .count();
    assert!(ground > 10_000, "{ground} pixels of ground");
}
