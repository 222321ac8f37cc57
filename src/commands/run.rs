//! `civitas run`: one scenario on the actors, written as `summary.json` and
//! `incidents.csv`; the summary table goes to stdout, wall time and memory to stderr.

use super::{Progress, create_dir, peak_rss, write_file};
use crate::plan::RunPlan;
use anyhow::Result;
use civitas_scenarios::runner;
use civitas_twin::time::DAY;
use std::time::Instant;

/// Runs the plan and writes its result files.
#[allow(clippy::disallowed_methods)] // times the run for the terminal, never for results
pub(super) fn run(plan: RunPlan) -> Result<()> {
    let RunPlan {
        scenario,
        days,
        options,
        out,
        quiet,
    } = plan;
    create_dir(&out)?;

    let started = Instant::now();
    let progress = Progress::days(days, quiet);
    let ticker = progress.clone();
    let outputs = runner::run_outputs(&scenario, options, move |t| ticker.set(t / DAY))?;
    progress.finish();
    let wall = started.elapsed();
    let (summary, result) = (&outputs.summary, &outputs.result);
    let json = out.join("summary.json");
    write_file(&json, summary.to_json())?;
    let csv = out.join("incidents.csv");
    write_file(&csv, &outputs.incidents_csv)?;
    if !quiet {
        print!("{}", summary.render());
        println!("\nwrote {} and {}", json.display(), csv.display());
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
