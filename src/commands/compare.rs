//! `civitas compare`: every model on the same seeds, written as `compare.json`,
//! `compare.csv`, charts and the report (with the assumptions in force, from
//! [`civitas_scenarios::report::assumptions`]) and a picture of each model's community
//! when the 3D viewer is installed; the comparison table goes to stdout.

use super::{Progress, create_dir, write_file};
use crate::plan::ComparePlan;
use anyhow::Result;
use civitas_scenarios::report;
use civitas_scenarios::report::assumptions;
use std::time::Instant;

/// Runs the comparison and writes its files.
#[allow(clippy::disallowed_methods)] // times the comparison for the terminal
pub(super) fn compare(plan: ComparePlan) -> Result<()> {
    let total = plan.runs();
    let ComparePlan {
        scenario,
        options,
        out,
        quiet,
    } = plan;
    create_dir(&out)?;
    let progress = Progress::runs(total as u64, quiet);
    let started = Instant::now();
    let c = civitas_scenarios::compare::compare(&scenario, &options, |done, _| {
        progress.set(done as u64)
    })?;
    progress.finish();
    let wall = started.elapsed();
    write_file(&out.join("compare.json"), c.to_json())?;
    write_file(&out.join("compare.csv"), c.to_csv())?;
    let charts = report::write_charts(&c, &out)?;
    let pictures = super::pictures::draw(&scenario, &options, &out, quiet);
    report::write_report(
        &c,
        &out,
        &charts,
        &pictures,
        &assumptions(&scenario, &options.models),
    )?;
    if !quiet {
        let h = report::headline(&c);
        for l in &h.lines {
            println!("{l}");
        }
        for f in &h.flags {
            println!("red flag — {f}");
        }
        println!();
        print!("{}", c.render());
        println!("\nwrote {}/compare.json and compare.csv", out.display());
        println!(
            "wrote {} charts (PNG and SVG) and the report {}",
            charts.len() / 2,
            out.join("report.html").display()
        );
        match &pictures {
            report::Pictures::Drawn(p) => println!("drew {} pictures of the community", p.len()),
            report::Pictures::Missing(why) => println!("{why}"),
        }
        eprintln!(
            "{} runs in {:.1} s on {} jobs",
            total,
            wall.as_secs_f64(),
            options.jobs
        );
    }
    Ok(())
}
