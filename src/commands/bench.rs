//! `civitas bench`: the headline benchmark — events per second, build and run wall time
//! and peak memory on the presets, as a table on stdout.

use super::peak_rss;
use crate::plan::{BenchPlan, load_scenario};
use anyhow::Result;
use civitas_scenarios::runner::{self, RunOptions, build_district};
use civitas_twin::time::DAY;
use std::time::Instant;

/// Runs each case in order and prints one row per case.
#[allow(clippy::disallowed_methods)] // a benchmark measures wall time
pub(super) fn bench(plan: BenchPlan) -> Result<()> {
    if let Some((rate, seconds)) = plan.live {
        return live(rate, seconds);
    }
    println!(
        "{:<16} {:>5} {:>9} {:>7} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "preset",
        "days",
        "residents",
        "actors",
        "events",
        "events/s",
        "ns/event",
        "build s",
        "run s",
        "peak MB"
    );
    for (name, days) in plan.cases {
        let s = load_scenario(name)?;
        crate::plan::check_memory(&s, days, 1, false)?;
        let mut opts = RunOptions::from_scenario(&s, plan.workers);
        opts.horizon = days * DAY;
        let t = Instant::now();
        let district = build_district(&s, opts.seed);
        let built = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let r = runner::run_district(&district, &s, opts, |_| {})?;
        let ran = t.elapsed().as_secs_f64();
        let events = r.stats.events.max(1) as f64;
        println!(
            "{:<16} {:>5} {:>9} {:>7} {:>10} {:>10.0} {:>8.0} {:>8.3} {:>8.3} {:>8.0}",
            name,
            days,
            district.residents(),
            r.stats.actors,
            r.stats.events,
            r.stats.events as f64 / ran.max(1e-9),
            (built + ran) * 1e9 / events,
            built,
            ran,
            peak_rss().unwrap_or(0) as f64 / 1024.0
        );
    }
    println!("build = generating the world; run = spawning the actors, simulating, collecting;");
    println!("events/s over the run; ns/event over build + run; peak RSS is the process's peak");
    println!("so far (cases run in order, smallest first).");
    Ok(())
}

/// `bench --live`: inject → detected latency on the live default community.
fn live(rate: u32, seconds: u32) -> Result<()> {
    let s = load_scenario("default")?;
    let l = civitas_scenarios::latency::inject_latency(&s, rate, seconds)?;
    let q = |p: f64| l.quantile(p).map_or("–".into(), |x| format!("{x:.2}"));
    println!(
        "live default community, speed 1: {} camera alarms at {rate}/s for {seconds} s",
        l.sent
    );
    println!(
        "detected {} of {} ({} refused by a full intake)",
        l.detected, l.sent, l.refused
    );
    println!(
        "inject → detected, ms: p50 {}  p90 {}  p99 {}  max {}",
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
    Ok(())
}
