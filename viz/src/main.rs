//! `civitas-viz`: the community in 3D, in a window or as a headless snapshot.

use bevy::prelude::AppExit;
use civitas_scenarios::library;
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::time::{DAY, SimTime, YEAR, parse_duration};
use civitas_viz::camera::Focus;
use civitas_viz::playback::{MAX_SPEED, SourceState};
use civitas_viz::scene::Shading;
use civitas_viz::snapshot::{self, parse_size};
use civitas_viz::source::{DataSource, Replay, Simulation, Subject};
use civitas_viz::{Options, Output, build_app};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Longest run the viewer simulates (years).
const MAX_YEARS: u64 = 200;

#[derive(Parser, Debug)]
#[command(
    name = "civitas-viz",
    version,
    about = "The community in 3D: a simulated or replayed civitas run, in a window or as a headless snapshot",
    args_conflicts_with_subcommands = true,
    after_help = "Keys: Space play/pause · ] or + faster · [ or - slower · 1–7 speeds 1×, 10×, 60×, 600×, 3,600×, 21,600×, 86,400× · arrows/WASD pan · Q/E turn · Z/X zoom · Tab next community alone · Escape all communities\nMouse: left drag orbit · right drag pan · wheel zoom\n\nExit status: 0 success; 1 nothing could be rendered (no graphics driver, no display) or the simulation failed; 2 bad usage or input."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    show: Show,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render one moment headless into a PNG and exit (no window, no display needed)
    Snapshot(Snap),
    /// Measure the viewer here: time to the first frame, frames per second and peak
    /// memory for the default community and the 75-community district, and the time of
    /// a snapshot from start
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Measure only this scenario (a file or a preset), in this process
    #[arg(long, value_name = "FILE|PRESET")]
    scenario: Option<String>,
    /// Picture size in pixels
    #[arg(long, value_name = "WIDTHxHEIGHT", default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// Frames to time (after the first)
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    frames: u32,
    /// One JSON line per scenario instead of the table
    #[arg(long)]
    json: bool,
    /// Flat colours (no light and shade)
    #[arg(long)]
    flat: bool,
}

/// What to watch.
#[derive(Args, Debug)]
struct Source {
    /// Simulate this scenario (a file or a preset) in-process and show it as it runs
    /// [default: default]
    #[arg(long, value_name = "FILE|PRESET")]
    scenario: Option<String>,
    /// Play back a run's events file (`civitas run --events FILE`)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "seed", "days"])]
    replay: Option<PathBuf>,
    /// Investment and operation model [default: the scenario's]
    #[arg(long, value_name = "MODEL", value_parser = InvestmentModel::from_arg)]
    model: Option<InvestmentModel>,
    /// Seed [default: the scenario's]
    #[arg(long)]
    seed: Option<u64>,
    /// Days to simulate [default: the scenario's]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=73_000))]
    days: Option<u32>,
}

#[derive(Args, Debug)]
struct Look {
    /// Flat colours (no light and shade): every surface exactly its palette colour
    #[arg(long)]
    flat: bool,
    /// Show only this community (its index in the district) instead of all
    #[arg(long, value_name = "INDEX")]
    community: Option<usize>,
}

#[derive(Args, Debug)]
struct Show {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    look: Look,
    /// Simulated seconds per second to start with (1 to 86400; keys change it)
    #[arg(long, default_value_t = civitas_viz::playback::DEFAULT_SPEED, value_parser = speed)]
    speed: f64,
    /// Close the window after this many real seconds (demos, smoke tests)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..=86_400))]
    exit_after: Option<u32>,
    /// With --exit-after: save the window's last frame to this PNG before closing
    #[arg(long, value_name = "FILE", requires = "exit_after")]
    screenshot: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct Snap {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    look: Look,
    /// The moment to show: time since the run's start (180d, 12h, 1y)
    #[arg(long, value_name = "DURATION", value_parser = moment)]
    at: SimTime,
    /// Picture size in pixels
    #[arg(long, value_name = "WIDTHxHEIGHT", default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// The PNG to write
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Leave out the status line
    #[arg(long)]
    no_panel: bool,
}

fn speed(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (1.0..=MAX_SPEED).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected simulated seconds per second from 1 to {MAX_SPEED}, found {s:?}"
        )),
    }
}

fn moment(s: &str) -> Result<SimTime, String> {
    if s.trim() == "0" {
        return Ok(0);
    }
    parse_duration(s, 0, MAX_YEARS * YEAR)
}

/// A failure and its exit status.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn usage(error: anyhow::Error) -> Failure {
    Failure { code: 2, error }
}

fn failed(error: anyhow::Error) -> Failure {
    Failure { code: 1, error }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Snapshot(snap)) => take_snapshot(snap),
        Some(Command::Bench(args)) => bench(args),
        None => show(cli.show),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, error }) => {
            eprintln!("error: {error:#}");
            ExitCode::from(code)
        }
    }
}

/// The subject and its source; `until` bounds a simulation (a snapshot needs no more).
fn open(
    source: &Source,
    until: Option<SimTime>,
) -> Result<(Subject, Box<dyn DataSource>), Failure> {
    if let Some(path) = &source.replay {
        let scenario = match &source.scenario {
            Some(s) => Some(library::load(s).map_err(|e| usage(anyhow::anyhow!("{e}")))?),
            None => None,
        };
        let (subject, replay) = Replay::open(path, scenario.as_ref()).map_err(usage)?;
        return Ok((subject, Box::new(replay)));
    }
    let name = source.scenario.as_deref().unwrap_or("default");
    let scenario = library::load(name).map_err(|e| usage(anyhow::anyhow!("{e}")))?;
    let seed = source.seed.unwrap_or(scenario.seed);
    let model = source.model.unwrap_or(scenario.model);
    let days = source.days.unwrap_or(scenario.days);
    let horizon = until.unwrap_or(days as SimTime * DAY);
    let (subject, sim) = Simulation::start(&scenario, seed, model, horizon);
    Ok((subject, Box::new(sim)))
}

fn options(look: &Look, subject: &Subject, speed: f64, panel: bool) -> Result<Options, Failure> {
    let n = subject.district.communities.len();
    let focus = match look.community {
        None => Focus::All,
        Some(i) if i < n => Focus::One(i),
        Some(i) => {
            return Err(usage(anyhow::anyhow!(
                "--community {i}: the district has {n} communities (0 to {})",
                n - 1
            )));
        }
    };
    Ok(Options {
        shading: if look.flat {
            Shading::Flat
        } else {
            Shading::Lit
        },
        speed,
        focus,
        panel,
        vulkan_only: false,
    })
}

fn take_snapshot(snap: Snap) -> Result<(), Failure> {
    if let Some(parent) = snap.out.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(usage(anyhow::anyhow!(
            "--out {}: the directory {} does not exist",
            snap.out.display(),
            parent.display()
        )));
    }
    if snap.out.is_dir() {
        return Err(usage(anyhow::anyhow!(
            "--out {}: a directory; name the PNG to write",
            snap.out.display()
        )));
    }
    let renderer = snapshot::find_renderer().map_err(failed)?;
    let until = snap.source.replay.is_none().then_some(snap.at);
    let (subject, source) = open(&snap.source, until)?;
    if snap.at > subject.horizon {
        return Err(usage(anyhow::anyhow!(
            "--at {}: after the run's end ({} days)",
            days(snap.at),
            subject.horizon / DAY
        )));
    }
    let calendar = subject.calendar.clone();
    let opts = options(&snap.look, &subject, 1.0, !snap.no_panel)?;
    let (width, height) = snap.size;
    let mut app = build_app(subject, source, &Output::Image { width, height }, &opts);
    if let SourceState::Failed(m) = snapshot::seek(&mut app, snap.at) {
        return Err(failed(anyhow::anyhow!("{m}")));
    }
    let image = snapshot::capture(&mut app).map_err(failed)?;
    snapshot::write_png(&image, &snap.out).map_err(failed)?;
    println!(
        "wrote {} ({width}×{height}, {} {}, rendered by {renderer})",
        snap.out.display(),
        calendar.datetime(snap.at).strftime("%Y-%m-%d %H:%M"),
        calendar.time_zone(),
    );
    Ok(())
}

fn days(t: SimTime) -> String {
    if t.is_multiple_of(DAY) {
        format!("{}d", t / DAY)
    } else {
        format!("{}h", t / 3600)
    }
}

fn show(show: Show) -> Result<(), Failure> {
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
    if !display {
        return Err(failed(anyhow::anyhow!(
            "no display to open a window on: run it on a desktop, under Xvfb \
             (`scripts/setup-viewer --window`, then `xvfb-run -a civitas-viz …`), or take a \
             picture with `civitas-viz snapshot`"
        )));
    }
    snapshot::find_renderer().map_err(failed)?;
    let (subject, source) = open(&show.source, None)?;
    let title = format!("civitas · {}", subject.title);
    let opts = options(&show.look, &subject, show.speed, true)?;
    let mut app = build_app(subject, source, &Output::Window { title }, &opts);
    if let Some(secs) = show.exit_after {
        app.add_plugins(civitas_viz::ExitAfter {
            seconds: secs as f32,
            screenshot: show.screenshot,
        });
    }
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(failed(anyhow::anyhow!(
            "the viewer stopped with status {code}"
        ))),
    }
}

/// The scenes `bench` measures, each in a process of its own (so that each peak memory
/// is its own).
const BENCH_SCENES: [&str; 2] = ["default", "haishu-district"];

fn bench(args: BenchArgs) -> Result<(), Failure> {
    let renderer = snapshot::find_renderer().map_err(failed)?;
    let (w, h) = args.size;
    if let Some(name) = &args.scenario {
        let scenario = library::load(name).map_err(|e| usage(anyhow::anyhow!("{e}")))?;
        let horizon = scenario.days as SimTime * DAY;
        let (subject, sim) = Simulation::start(&scenario, scenario.seed, scenario.model, horizon);
        let shading = if args.flat {
            Shading::Flat
        } else {
            Shading::Lit
        };
        let m =
            civitas_viz::bench::measure(subject, Box::new(sim), args.size, 0, args.frames, shading)
                .map_err(failed)?;
        if args.json {
            println!(
                "{{\"scenario\":{:?},\"communities\":{},\"buildings\":{},\"devices\":{},\"first_frame_s\":{:.3},\"fps\":{:.2},\"frames\":{},\"reached_s\":{},\"peak_mib\":{}}}",
                name,
                m.communities,
                m.buildings,
                m.devices,
                m.first_frame.as_secs_f64(),
                m.fps(),
                m.frames,
                m.reached,
                m.peak_mib.map_or("null".into(), |p| format!("{p:.0}")),
            );
        } else {
            println!(
                "{name}: {} communities, {} buildings, {} devices at {w}×{h} on {renderer}: first frame {:.2} s, {:.1} frames/s over {} frames, peak {} MiB",
                m.communities,
                m.buildings,
                m.devices,
                m.first_frame.as_secs_f64(),
                m.fps(),
                m.frames,
                m.peak_mib.map_or("?".into(), |p| format!("{p:.0}")),
            );
        }
        return Ok(());
    }
    let me = std::env::current_exe().map_err(|e| failed(e.into()))?;
    println!(
        "civitas-viz bench at {w}×{h} on {renderer}, {} frames each\n",
        args.frames
    );
    println!(
        "| scene | communities | buildings | devices | first frame | frames/s | peak memory |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for name in BENCH_SCENES {
        let out = std::process::Command::new(&me)
            .args(["bench", "--json", "--scenario", name, "--size"])
            .arg(format!("{w}x{h}"))
            .args(["--frames", &args.frames.to_string()])
            .args(args.flat.then_some("--flat"))
            .output()
            .map_err(|e| failed(e.into()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with('{')).unwrap_or("");
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) if out.status.success() => v,
            _ => {
                return Err(failed(anyhow::anyhow!(
                    "the {name} bench failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        };
        println!(
            "| {name} | {} | {} | {} | {:.2} s | {:.1} | {} MiB |",
            v["communities"],
            v["buildings"],
            v["devices"],
            v["first_frame_s"].as_f64().unwrap_or(f64::NAN),
            v["fps"].as_f64().unwrap_or(f64::NAN),
            v["peak_mib"],
        );
    }
    let png = std::env::temp_dir().join(format!("civitas-viz-bench-{}.png", std::process::id()));
    #[allow(clippy::disallowed_methods)] // a benchmark reads the wall clock
    let t0 = std::time::Instant::now();
    let out = std::process::Command::new(&me)
        .args([
            "snapshot",
            "--scenario",
            "default",
            "--at",
            "180d",
            "--size",
        ])
        .arg(format!("{w}x{h}"))
        .arg("--out")
        .arg(&png)
        .output()
        .map_err(|e| failed(e.into()))?;
    let took = t0.elapsed();
    let _ = std::fs::remove_file(&png);
    if !out.status.success() {
        return Err(failed(anyhow::anyhow!(
            "the snapshot failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    println!(
        "\nsnapshot of the default community at day 180 ({w}×{h}), from start to PNG: {:.2} s",
        took.as_secs_f64()
    );
    Ok(())
}
