//! Pictures of the community under each model for the comparison's report, drawn by the
//! 3D viewer (`civitas-viz snapshot`) when it is installed beside `civitas` (or named by
//! `CIVITAS_VIZ`). `civitas` never links the viewer: it runs it, and a report without
//! pictures says how to get them.

use civitas_scenarios::compare::CompareOptions;
use civitas_scenarios::file::Scenario;
use civitas_scenarios::report::Pictures;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable naming the viewer's binary.
pub(crate) const VIEWER_VAR: &str = "CIVITAS_VIZ";

/// Size of each picture.
const SIZE: &str = "960x540";

/// The viewer: `CIVITAS_VIZ` if set (`off`: none), else `civitas-viz` beside this binary.
fn find_viewer() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(VIEWER_VAR).filter(|p| !p.is_empty()) {
        if p == "off" {
            return Err(format!("No pictures: {VIEWER_VAR}=off."));
        }
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "No pictures: {VIEWER_VAR} names {}, which is not a file.",
                p.display()
            ))
        };
    }
    let beside = std::env::current_exe()
        .map_err(|e| format!("No pictures: cannot locate civitas itself ({e})."))?
        .with_file_name(format!("civitas-viz{}", std::env::consts::EXE_SUFFIX));
    if beside.is_file() {
        Ok(beside)
    } else {
        Err(format!(
            "No pictures: they are drawn by the 3D viewer, which is not installed beside civitas ({}). \
             Build it with `cargo build --release -p civitas-viz`, set it up with \
             `scripts/setup-viewer`, and run the comparison again (docs/guide-viewer.md).",
            beside.display()
        ))
    }
}

/// Draws each model's community at the horizon (the first seed) into `out`.
pub(super) fn draw(
    scenario: &Scenario,
    options: &CompareOptions,
    out: &Path,
    quiet: bool,
) -> Pictures {
    let viewer = match find_viewer() {
        Ok(v) => v,
        Err(why) => return Pictures::Missing(why),
    };
    let file = out.join("scenario.toml");
    if let Err(e) = std::fs::write(&file, scenario.to_toml()) {
        return Pictures::Missing(format!("No pictures: {}: {e}", file.display()));
    }
    let seed = options.seeds.first().copied().unwrap_or(scenario.seed);
    if !quiet {
        eprintln!(
            "drawing each model's community at year {} with {}",
            options.years,
            viewer.display()
        );
    }
    let mut drawn = Vec::new();
    for m in &options.models {
        let png = out.join(format!("view-{m}.png"));
        let run = Command::new(&viewer)
            .arg("snapshot")
            .arg("--scenario")
            .arg(&file)
            .args(["--model", m.as_str(), "--seed", &seed.to_string()])
            .args(["--at", &format!("{}y", options.years), "--size", SIZE])
            .arg("--out")
            .arg(&png)
            .output();
        match run {
            Ok(r) if r.status.success() && png.is_file() => drawn.push((
                format!("{m} (seed {seed}, end of year {})", options.years),
                png,
            )),
            Ok(r) => {
                let stderr = String::from_utf8_lossy(&r.stderr);
                let why = stderr
                    .lines()
                    .find(|l| l.starts_with("error:"))
                    .unwrap_or_else(|| stderr.lines().last().unwrap_or("no message"));
                return Pictures::Missing(format!(
                    "No pictures: the 3D viewer ({}) could not draw the {m} model: {why}",
                    viewer.display()
                ));
            }
            Err(e) => {
                return Pictures::Missing(format!(
                    "No pictures: the 3D viewer ({}) did not run: {e}",
                    viewer.display()
                ));
            }
        }
    }
    Pictures::Drawn(drawn)
}
