//! The subcommands: resolve flags, call the libraries, print and write results.

use crate::cli::{
    BatchArgs, BatchCommand, BenchArgs, Cli, Command, CompareArgs, RunArgs, ScenarioCommand,
};
use anyhow::{Context, Result, bail};
use civitas_scenarios::compare::CompareOptions;
use civitas_scenarios::file::MAX_DAYS;
use civitas_scenarios::library::{self, PRESETS};
use civitas_scenarios::report;
use civitas_scenarios::runner::{self, RunOptions, build_district};
use civitas_scenarios::{Scenario, file::World};
use civitas_twin::kinds::{InvestmentModel, Region};
use civitas_twin::time::DAY;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

pub(crate) fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Compare(a) => compare(a),
        Command::Run(a) => run(a),
        Command::Batch(a) => batch(a),
        Command::Scenario(c) => scenario(c),
        Command::Bench(b) => bench(b),
    }
}

fn load(arg: &str) -> Result<Scenario> {
    library::load(arg).map_err(|e| anyhow::anyhow!("{e}"))
}

#[allow(clippy::disallowed_methods)] // times the run for the terminal, never for results
fn run(a: RunArgs) -> Result<()> {
    if a.workers == 0 || a.workers > 256 {
        bail!(
            "--workers: expected a number from 1 to 256, found {}",
            a.workers
        );
    }
    let scenario = load(&a.scenario)?;
    let days = match (a.days, a.years) {
        (Some(d), _) if d == 0 || d > MAX_DAYS => {
            bail!("--days: expected a whole number of days from 1 to {MAX_DAYS}, found {d}")
        }
        (Some(d), _) => d as u64,
        (None, Some(y)) if !(y.is_finite() && y > 0.0 && y <= 200.0) => {
            bail!("--years: expected a number of years above 0 and at most 200, found {y}")
        }
        (None, Some(y)) => ((y * 365.0).round() as u64).max(1),
        (None, None) => scenario.days as u64,
    };
    let mut opts = RunOptions::from_scenario(&scenario, a.workers);
    opts.horizon = days * DAY;
    if let Some(s) = a.seed {
        opts.seed = s;
    }
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("out").join(safe_file_name(&scenario.name)));
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;

    let started = Instant::now();
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(days)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulated day {pos}/{len} {wide_bar} {elapsed} (eta {eta})",
        )
        .expect("valid template"),
    );
    let ticker = bar.clone();
    let outputs = runner::run_outputs(&scenario, opts, move |t| ticker.set_position(t / DAY))?;
    bar.finish_and_clear();
    let wall = started.elapsed();
    let (summary, result) = (&outputs.summary, &outputs.result);
    let json = out.join("summary.json");
    std::fs::write(&json, summary.to_json())
        .with_context(|| format!("cannot write {}", json.display()))?;
    let csv = out.join("incidents.csv");
    std::fs::write(&csv, &outputs.incidents_csv)
        .with_context(|| format!("cannot write {}", csv.display()))?;
    if !a.quiet {
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

#[allow(clippy::disallowed_methods)] // times the comparison for the terminal
fn compare(a: CompareArgs) -> Result<()> {
    /// The inputs the ranking depends on, one line each: every compared model's
    /// definition, the district's fiscal capacity and the discount rate.
    fn assumptions(s: &Scenario, models: &[InvestmentModel]) -> Vec<String> {
        let e = &s.parameters.economy;
        let yes = |b: bool| if b { "yes" } else { "no" };
        let mut lines = Vec::new();
        for m in models {
            let Some(p) = e.models.get(m) else {
                lines.push(format!("{m}: no parameters for this model"));
                continue;
            };
            let non_marketable = p
                .non_marketable_devices
                .map_or("nobody (not deployed)".to_string(), |p| p.to_string());
            let ppp = p.ppp.as_ref().map_or(String::new(), |c| {
                format!(
                    "; PPP concession of {} years, target return {:.1}%, {:.0}% of market revenue shared, {} availability payments",
                    c.term_years,
                    c.target_return * 100.0,
                    c.revenue_share * 100.0,
                    if c.performance_based { "performance-based" } else { "fixed" }
                )
            });
            lines.push(format!(
                "{m}: platform paid by {}; marketable devices invested by {}; non-marketable devices by {non_marketable}; \
                 purchase of service {}; regulator {}; outreach {}; market openness {:.0}%; leasing {}; data operations {}{ppp}",
                p.platform,
                p.marketable_devices,
                yes(p.purchase_of_service),
                yes(p.regulator),
                yes(p.outreach),
                p.market_openness * 100.0,
                yes(p.leasing),
                yes(p.data_operations),
            ));
        }
        let region = match &s.world {
            World::Community(c) => c.region,
            World::District(d) => d.region,
        };
        let f = &e.fiscal;
        let capacity = match region {
            Region::Developed => f.capacity_per_resident_developed,
            Region::LessDeveloped => f.capacity_per_resident_less_developed,
        };
        lines.push(format!(
            "fiscal capacity: {capacity} yuan per resident per year ({region} region), of which competing demands claim {:.0}% ± {:.0}% a year",
            f.competing_demand_mean * 100.0,
            f.competing_demand_spread * 100.0
        ));
        lines.push(format!(
            "discount rate for NPVs: {:.1}% a year",
            e.discount_rate * 100.0
        ));
        lines
    }

    let scenario = load(&a.scenario)?;
    let mut models = Vec::new();
    for m in &a.models {
        let Some(model) = InvestmentModel::parse(m.trim()) else {
            let names: Vec<&str> = InvestmentModel::ALL.iter().map(|m| m.as_str()).collect();
            bail!(
                "--models: unknown model {m:?}; expected some of: {}",
                names.join(", ")
            );
        };
        if !models.contains(&model) {
            models.push(model);
        }
    }
    if models.is_empty() {
        bail!("--models: expected at least one model");
    }
    if a.years == 0 || a.years > 200 {
        bail!(
            "--years: expected a whole number of years from 1 to 200, found {}",
            a.years
        );
    }
    if a.seeds == 0 || a.seeds > 10_000 {
        bail!(
            "--seeds: expected a number of seeds from 1 to 10000, found {}",
            a.seeds
        );
    }
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 || jobs > 256 {
        bail!("--jobs: expected a number from 1 to 256, found {jobs}");
    }
    let out = a.out.unwrap_or_else(|| {
        PathBuf::from("out").join(format!("compare-{}", safe_file_name(&scenario.name)))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let opts = CompareOptions {
        models,
        years: a.years,
        seeds: (1..=a.seeds as u64).collect(),
        jobs,
    };
    let total = opts.models.len() * opts.seeds.len();
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} run {pos}/{len} {wide_bar} {per_sec} {elapsed} (eta {eta})",
        )
        .expect("valid template"),
    );
    let started = Instant::now();
    let c = civitas_scenarios::compare::compare(&scenario, &opts, |done, _| {
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();
    let wall = started.elapsed();
    for (name, text) in [("compare.json", c.to_json()), ("compare.csv", c.to_csv())] {
        let p = out.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let charts = report::write_charts(&c, &out)?;
    report::write_report(&c, &out, &charts, &assumptions(&scenario, &opts.models))?;
    if !a.quiet {
        print!("{}", c.render());
        println!("\nwrote {}/compare.json and compare.csv", out.display());
        println!(
            "wrote {} charts (PNG and SVG) and the report {}",
            charts.len() / 2,
            out.join("report.html").display()
        );
        eprintln!(
            "{} runs in {:.1} s on {} jobs",
            total,
            wall.as_secs_f64(),
            jobs
        );
    }
    Ok(())
}

fn batch(a: BatchArgs) -> Result<()> {
    use civitas_scenarios::batch::{Batch, Shard, merge, point_summary, run_batch};
    match a.command {
        Some(BatchCommand::Merge { batch, dirs, out }) => {
            let b = Batch::from_path(&batch)?;
            let copied = merge(&b, &dirs, &out)?;
            println!(
                "merged {} shard directories ({copied} run files copied) into {}",
                dirs.len(),
                out.display()
            );
            Ok(())
        }
        Some(BatchCommand::Summarize { batch, dir }) => {
            let b = Batch::from_path(&batch)?;
            let text = point_summary(&b, &dir)?;
            let p = dir.join("points.csv");
            std::fs::write(&p, &text).with_context(|| format!("cannot write {}", p.display()))?;
            println!("wrote {}", p.display());
            if let Some((name, text)) = civitas_scenarios::batch::sensitivity_summary(&b, &dir)? {
                let p = dir.join(name);
                std::fs::write(&p, &text)
                    .with_context(|| format!("cannot write {}", p.display()))?;
                println!("wrote {}", p.display());
            }
            let plots = civitas_scenarios::batch::write_plots(&b, &dir)?;
            println!(
                "wrote {} charts (PNG and SVG) in {}",
                plots.len() / 2,
                dir.join("plots").display()
            );
            Ok(())
        }
        None => {
            let Some(file) = a.file else {
                bail!(
                    "expected a batch file: civitas batch FILE [--jobs N] [--out DIR] [--shard i/n]"
                )
            };
            let b = Batch::from_path(&file)?;
            let jobs = a
                .jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            if jobs == 0 || jobs > 256 {
                bail!("--jobs: expected a number from 1 to 256, found {jobs}");
            }
            let shard = a.shard.unwrap_or(Shard::ALL);
            let out = a.out.unwrap_or_else(|| {
                PathBuf::from("out").join(format!("batch-{}", safe_file_name(&b.name)))
            });
            let total = b.runs().iter().filter(|r| shard.holds(r.index)).count();
            let bar = if a.quiet {
                ProgressBar::hidden()
            } else {
                ProgressBar::new(total as u64)
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} run {pos}/{len} {wide_bar} {msg} eta {eta}",
                )
                .expect("valid template"),
            );
            // Runs resumed from an earlier invocation do not count towards the rate.
            let first = std::sync::OnceLock::new();
            let p = run_batch(&b, &out, shard, jobs, |done, _| {
                let start = *first.get_or_init(|| done.saturating_sub(1));
                bar.set_position(done as u64);
                let mins = bar.elapsed().as_secs_f64() / 60.0;
                if mins > 0.0 {
                    bar.set_message(format!("{:.0} runs/min", (done - start) as f64 / mins));
                }
            })?;
            bar.finish_and_clear();
            if !a.quiet {
                println!(
                    "{}: {} runs in this shard, {} already done, {} run now; outputs in {}",
                    b.name,
                    p.total,
                    p.skipped,
                    p.ran,
                    out.display()
                );
            }
            Ok(())
        }
    }
}

fn scenario(c: ScenarioCommand) -> Result<()> {
    match c {
        ScenarioCommand::Default => print!("{}", PRESETS[0].text),
        ScenarioCommand::List => {
            for p in PRESETS {
                println!("{:<18} {}", p.name, p.summary);
            }
        }
        ScenarioCommand::Show { name } => match library::preset(&name) {
            Some(p) => print!("{}", p.text),
            None => {
                let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
                bail!(
                    "no preset named {name:?}; expected one of: {}",
                    names.join(", ")
                )
            }
        },
        ScenarioCommand::Params => print!("{}", civitas_twin::params::DEFAULT_PARAMETERS_TOML),
        ScenarioCommand::Check { file } => {
            let s = Scenario::from_path(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
            let what = match &s.world {
                World::Community(c) => format!("community of {} residents", c.residents),
                World::District(d) => format!(
                    "district of {} communities, {} residents",
                    d.communities, d.residents
                ),
            };
            println!(
                "{}: ok — {:?}, {what}, {} days",
                file.display(),
                s.name,
                s.days
            );
        }
    }
    Ok(())
}

/// A scenario name made safe as one path component: letters, digits, `-`, `_` and `.`
/// kept, everything else (including separators) replaced by `_`, no leading dot.
pub(crate) fn safe_file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        "scenario".to_string()
    } else {
        s
    }
}

/// Peak resident set size of this process so far, in KiB (Linux).
pub(crate) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[allow(clippy::disallowed_methods)] // a benchmark measures wall time
fn bench(b: BenchArgs) -> Result<()> {
    let mut cases = vec![("default", 365u64)];
    if !b.quick {
        cases.push(("haishu-district", 30));
    }
    println!(
        "{:<16} {:>5} {:>9} {:>7} {:>9} {:>11} {:>9} {:>9} {:>8}",
        "preset",
        "days",
        "residents",
        "actors",
        "events",
        "events/s",
        "build s",
        "run s",
        "peak MB"
    );
    for (name, days) in cases {
        let s = load(name)?;
        let mut opts = RunOptions::from_scenario(&s, b.workers);
        opts.horizon = days * DAY;
        let t = Instant::now();
        let district = build_district(&s, opts.seed);
        let built = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let r = runner::run_district(&district, &s, opts, |_| {})?;
        let ran = t.elapsed().as_secs_f64();
        println!(
            "{:<16} {:>5} {:>9} {:>7} {:>9} {:>11.0} {:>9.3} {:>9.3} {:>8.0}",
            name,
            days,
            district.residents(),
            r.stats.actors,
            r.stats.events,
            r.stats.events as f64 / ran.max(1e-9),
            built,
            ran,
            peak_rss().unwrap_or(0) as f64 / 1024.0
        );
    }
    println!("build = generating the world; run = spawning the actors, simulating, collecting;");
    println!("events/s over the run; peak RSS is the process's peak so far (cases run in order).");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn scenario_names_become_one_safe_path_component() {
        assert_eq!(safe_file_name("default"), "default");
        assert_eq!(safe_file_name("../x/y"), "_x_y");
        assert_eq!(safe_file_name("..."), "scenario");
        assert_eq!(safe_file_name("海曙 estate"), "海曙_estate");
    }
}
