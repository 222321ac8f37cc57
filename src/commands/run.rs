//! `civitas run`: one scenario on the actors, written as `summary.json`,
//! `incidents.csv` and the inject log `injects.jsonl`; optionally the observe stream
//! and checkpoints. The summary table goes to stdout, wall time and memory to stderr.

use super::{Input, Progress, bad_input, create_dir, peak_rss, write_file};
use crate::plan::RunPlan;
use anyhow::{Context, Result};
use civitas_actors::inject::{InjectRecord, read_log, write_log};
use civitas_scenarios::Scenario;
use civitas_scenarios::checkpoint;
use civitas_scenarios::runner::{self, Outputs, RunOptions, Session};
use civitas_twin::time::DAY;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs the plan and writes its result files.
pub(super) fn run(plan: RunPlan) -> Result<()> {
    let RunPlan {
        scenario,
        days,
        options,
        out,
        injects,
        events,
        checkpoints,
        quiet,
    } = plan;
    create_dir(&out)?;
    let mut session = Session {
        injects: match &injects {
            Some(p) => read_injects(p)?,
            None => Vec::new(),
        },
        ..Session::default()
    };
    let mut note = None;
    if let Some((every, dir)) = checkpoints {
        create_dir(&dir)?;
        // Checkpoints fall at the multiples of `every` before the horizon.
        let count = options.horizon.saturating_sub(1) / every;
        let (first, last) = (every, count * every);
        note = Some(match count {
            0 => format!("no checkpoint written: the run ends before its first one ({every} s)"),
            1 => format!(
                "wrote 1 checkpoint into {} ({})",
                dir.display(),
                checkpoint::file_name(first)
            ),
            n => format!(
                "wrote {n} checkpoints into {} ({} … {})",
                dir.display(),
                checkpoint::file_name(first),
                checkpoint::file_name(last)
            ),
        });
        session.checkpoints = Some((every, dir));
    }
    session.events = open_events(events.as_deref())?;
    execute(&scenario, options, session, days, &out, quiet)?;
    if let Some(n) = note.filter(|_| !quiet) {
        println!("{n}");
    }
    Ok(())
}

/// Reads an inject log (a regular file of at most
/// [`INJECT_LOG`](civitas_scenarios::input::INJECT_LOG)'s 256 MiB), naming the file and
/// line of a bad record.
pub(super) fn read_injects(path: &Path) -> Result<Vec<InjectRecord>> {
    let text =
        civitas_scenarios::input::read_text(path, civitas_scenarios::input::INJECT_LOG).input()?;
    read_log(&text).map_err(|e| bad_input(anyhow::anyhow!("{}: {e}", path.display())))
}

/// Opens the file for the observe stream, if one is asked for.
pub(super) fn open_events(path: Option<&Path>) -> Result<Option<Box<dyn std::io::Write + Send>>> {
    let Some(p) = path else { return Ok(None) };
    let f = std::fs::File::create(p)
        .with_context(|| format!("cannot write the event stream {}", p.display()))?;
    Ok(Some(Box::new(std::io::BufWriter::new(f))))
}

/// Runs with a session, writes summary.json, incidents.csv and injects.jsonl into
/// `out`, and prints the summary.
#[allow(clippy::disallowed_methods)] // times the run for the terminal, never for results
pub(super) fn execute(
    scenario: &Scenario,
    options: RunOptions,
    session: Session,
    days: u64,
    out: &Path,
    quiet: bool,
) -> Result<()> {
    let started = Instant::now();
    let progress = Progress::days(days, quiet);
    let ticker = progress.clone();
    let outputs =
        runner::run_outputs_with(scenario, options, session, move |t| ticker.set(t / DAY))?;
    progress.finish();
    let wall = started.elapsed();
    let written = write_outputs(&outputs, out)?;
    if !quiet {
        let (summary, result) = (&outputs.summary, &outputs.result);
        print!("{}", summary.render());
        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        println!("\nwrote {}", names.join(", "));
        eprintln!(
            "wall time {:.2} s, {} events ({:.0} events/s), peak RSS {}",
            wall.as_secs_f64(),
            result.stats.events,
            result.stats.events as f64 / wall.as_secs_f64().max(1e-9),
            peak_rss().map_or("unknown".into(), |k| format!("{:.0} MB", k as f64 / 1024.0)),
        );
    }
    Ok(())
}

fn write_outputs(outputs: &Outputs, out: &Path) -> Result<Vec<PathBuf>> {
    let json = out.join("summary.json");
    write_file(&json, outputs.summary.to_json())?;
    let csv = out.join("incidents.csv");
    write_file(&csv, &outputs.incidents_csv)?;
    let log = out.join("injects.jsonl");
    write_file(&log, write_log(&outputs.result.injects))?;
    Ok(vec![json, csv, log])
}
