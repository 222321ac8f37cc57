//! Resolved plans: parsed flags plus the loaded scenario or batch file, turned into the
//! final values a command runs with — the high-level arguments, where [`crate::cli`] holds
//! the low-level ones (ripgrep's `lowargs` → `hiargs`).
//!
//! This is the one place that decides defaults: the scenario's days and seed, `--jobs` as
//! the available parallelism, output directories under `out/`, compared models
//! deduplicated in the order given.
//!
//! - [`RunPlan`]: `civitas run`;
//! - [`ComparePlan`]: `civitas compare`;
//! - [`BatchPlan`]: `civitas batch FILE`;
//! - [`BenchPlan`]: `civitas bench`.

use crate::cli::{BatchArgs, BenchArgs, CompareArgs, MAX_THREADS, RunArgs};
use crate::commands::{Input, bad_input};
use anyhow::{Result, anyhow};
use civitas_scenarios::Scenario;
use civitas_scenarios::batch::{Batch, Shard};
use civitas_scenarios::compare::CompareOptions;
use civitas_scenarios::library;
use civitas_scenarios::memory;
use civitas_scenarios::runner::RunOptions;
use civitas_twin::time::DAY;
use std::path::{Path, PathBuf};

/// `civitas run`, resolved.
#[derive(Debug)]
pub(crate) struct RunPlan {
    /// The scenario.
    pub(crate) scenario: Scenario,
    /// The scenario's file, when it is one (not a preset's name).
    pub(crate) scenario_file: Option<PathBuf>,
    /// Simulated days: `--days`, else `--years` × 365 rounded (at least 1), else the
    /// scenario's.
    pub(crate) days: u64,
    /// Seed (`--seed`, else the scenario's), horizon (`days`), workers and model.
    pub(crate) options: RunOptions,
    /// Output directory: `--out`, else `out/<scenario name>`.
    pub(crate) out: PathBuf,
    /// An inject log to replay.
    pub(crate) injects: Option<PathBuf>,
    /// Where to write the observe stream.
    pub(crate) events: Option<PathBuf>,
    /// Checkpoint interval (s) and directory (`--checkpoint-dir`, else `<out>/checkpoints`).
    pub(crate) checkpoints: Option<(u64, PathBuf)>,
    /// `--live`: simulated seconds per real second (1 unless `--speed`).
    pub(crate) live: Option<f64>,
    /// Print nothing but errors.
    pub(crate) quiet: bool,
}

impl RunPlan {
    /// Loads the scenario and resolves the flags against it.
    pub(crate) fn resolve(a: RunArgs) -> Result<RunPlan> {
        let scenario = load_scenario(&a.scenario)?;
        let plan = RunPlan::new(a, scenario);
        check_memory(&plan.scenario, plan.days, 1, plan.checkpoints.is_some())?;
        Ok(plan)
    }

    fn new(a: RunArgs, scenario: Scenario) -> RunPlan {
        let days = match (a.days, a.years) {
            (Some(d), _) => d as u64,
            (None, Some(y)) => years_to_days(y),
            (None, None) => scenario.days as u64,
        };
        let mut options = RunOptions::from_scenario(&scenario, a.workers);
        options.horizon = days * DAY;
        if let Some(s) = a.seed {
            options.seed = s;
        }
        let out = a
            .out
            .unwrap_or_else(|| PathBuf::from("out").join(safe_file_name(&scenario.name)));
        let checkpoints = a
            .checkpoint_every
            .map(|every| (every, checkpoint_dir(&out, a.checkpoint_dir.clone())));
        RunPlan {
            scenario_file: a.scenario.is_file().then(|| a.scenario.clone()),
            scenario,
            days,
            options,
            out,
            injects: a.injects,
            events: a.events,
            checkpoints,
            live: a.live.then(|| a.speed.unwrap_or(1.0)),
            quiet: a.quiet,
        }
    }
}

/// `civitas compare`, resolved.
#[derive(Debug)]
pub(crate) struct ComparePlan {
    /// The scenario.
    pub(crate) scenario: Scenario,
    /// Models (deduplicated, in the order given), years, seeds 1..=N and jobs.
    pub(crate) options: CompareOptions,
    /// Output directory: `--out`, else `out/compare-<scenario name>`.
    pub(crate) out: PathBuf,
    /// Print nothing but errors.
    pub(crate) quiet: bool,
}

impl ComparePlan {
    /// Loads the scenario and resolves the flags against it.
    pub(crate) fn resolve(a: CompareArgs) -> Result<ComparePlan> {
        let scenario = load_scenario(&a.scenario)?;
        let plan = ComparePlan::new(a, scenario)?;
        let at_once = plan.options.jobs.min(plan.runs());
        check_memory(
            &plan.scenario,
            plan.options.years as u64 * 365,
            at_once,
            false,
        )?;
        Ok(plan)
    }

    fn new(a: CompareArgs, scenario: Scenario) -> Result<ComparePlan> {
        let mut models = Vec::new();
        for m in a.models {
            if !models.contains(&m) {
                models.push(m);
            }
        }
        if models.is_empty() {
            return Err(bad_input(anyhow!("--models: expected at least one model")));
        }
        let out = a.out.unwrap_or_else(|| {
            PathBuf::from("out").join(format!("compare-{}", safe_file_name(&scenario.name)))
        });
        Ok(ComparePlan {
            scenario,
            options: CompareOptions {
                models,
                years: a.years,
                seeds: (1..=a.seeds as u64).collect(),
                jobs: a.jobs.unwrap_or_else(default_jobs),
            },
            out,
            quiet: a.quiet,
        })
    }

    /// Runs in the comparison: one per model and seed.
    pub(crate) fn runs(&self) -> usize {
        self.options.models.len() * self.options.seeds.len()
    }
}

/// `civitas batch FILE`, resolved.
#[derive(Debug)]
pub(crate) struct BatchPlan {
    /// The batch file, read and checked.
    pub(crate) batch: Batch,
    /// Runs in parallel: `--jobs`, else the available parallelism.
    pub(crate) jobs: usize,
    /// `--shard`, else the whole batch.
    pub(crate) shard: Shard,
    /// Output directory: `--out`, else `out/batch-<batch name>`.
    pub(crate) out: PathBuf,
    /// `--force`: discard run files made from other inputs instead of refusing.
    pub(crate) force: bool,
    /// Print nothing but errors.
    pub(crate) quiet: bool,
}

impl BatchPlan {
    /// Reads the batch file and resolves the flags.
    pub(crate) fn resolve(a: BatchArgs) -> Result<BatchPlan> {
        let Some(file) = a.file else {
            return Err(bad_input(anyhow!(
                "expected a batch file: civitas batch FILE [--jobs N] [--out DIR] [--shard i/n]"
            )));
        };
        let batch = Batch::from_path(&file).input()?;
        let out = a.out.unwrap_or_else(|| {
            PathBuf::from("out").join(format!("batch-{}", safe_file_name(&batch.name)))
        });
        let plan = BatchPlan {
            batch,
            jobs: a.jobs.unwrap_or_else(default_jobs),
            shard: a.shard.unwrap_or(Shard::ALL),
            out,
            force: a.force,
            quiet: a.quiet,
        };
        let at_once = plan.jobs.min(plan.runs());
        check_memory(
            &plan.batch.largest_scenario()?,
            plan.batch.years as u64 * 365,
            at_once,
            false,
        )?;
        Ok(plan)
    }

    /// Runs of the batch in this shard (including any already done).
    pub(crate) fn runs(&self) -> usize {
        self.batch
            .runs()
            .iter()
            .filter(|r| self.shard.holds(r.index))
            .count()
    }
}

/// `civitas bench`, resolved.
#[derive(Debug)]
pub(crate) struct BenchPlan {
    /// Worker threads.
    pub(crate) workers: usize,
    /// Preset and simulated days of each case, in the order they run.
    pub(crate) cases: Vec<(&'static str, u64)>,
    /// `--live`: alarms a second and seconds of alarms, instead of the cases.
    pub(crate) live: Option<(u32, u32)>,
}

impl BenchPlan {
    /// The one-year default community, then (unless `--quick`) a month of the district;
    /// with `--curve`, one year each of the community, the district and the city.
    pub(crate) fn resolve(b: BenchArgs) -> BenchPlan {
        let mut cases = vec![("default", 365)];
        if b.curve {
            cases.push(("haishu-district", 365));
            cases.push(("city-3m", 365));
        } else if !b.quick {
            cases.push(("haishu-district", 30));
        }
        if let Some(d) = b.days {
            for c in &mut cases {
                c.1 = d as u64;
            }
        }
        BenchPlan {
            workers: b.workers,
            cases,
            live: b.live.then_some((b.rate, b.seconds)),
        }
    }
}

/// Where a run's checkpoints go: `--checkpoint-dir`, else `<out>/checkpoints` (periodic
/// ones and a live run's on Ctrl-C alike).
pub(crate) fn checkpoint_dir(out: &Path, given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| out.join("checkpoints"))
}

/// `--years` as whole simulated days: × 365, rounded, at least one.
pub(crate) fn years_to_days(years: f64) -> u64 {
    ((years * 365.0).round() as u64).max(1)
}

/// The estimated peak memory of one run of `s` over `days`, refused (with the estimate
/// and what is available) when `at_once` such runs would not fit in the memory
/// available ([`memory::available`]: `CIVITAS_MEMORY_LIMIT`, else `MemAvailable`);
/// `checkpointing` when the run writes checkpoints.
pub(crate) fn check_memory(
    s: &Scenario,
    days: u64,
    at_once: usize,
    checkpointing: bool,
) -> Result<u64> {
    let one = memory::estimate(s, days, checkpointing);
    let span = if days == 1 {
        "1 day".to_string()
    } else {
        format!("{days} days")
    };
    let what = if at_once <= 1 {
        format!("a run of {:?} ({span})", s.name)
    } else {
        format!("{at_once} runs at a time of {:?} ({span} each)", s.name)
    };
    let available = memory::available().map_err(|e| bad_input(anyhow!(e)))?;
    memory::check(one.saturating_mul(at_once.max(1) as u64), available, &what)
        .map_err(|e| bad_input(anyhow!(e)))?;
    Ok(one)
}

/// A scenario file or preset name, loaded and checked. Like every path argument, a file
/// name need not be UTF-8.
pub(crate) fn load_scenario(arg: impl AsRef<Path>) -> Result<Scenario> {
    library::load(arg).map_err(|e| bad_input(anyhow!("{e}")))
}

/// Runs in parallel when `--jobs` is not given: the available parallelism, within the
/// range `--jobs` accepts (1 to [`MAX_THREADS`]).
pub(crate) fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use civitas_twin::kinds::InvestmentModel;
    use clap::Parser;

    fn parse(args: &[&str]) -> Command {
        let mut argv = vec!["civitas"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("flags parse").command
    }

    fn run_plan(args: &[&str]) -> RunPlan {
        let Command::Run(a) = parse(args) else {
            panic!("not run")
        };
        let s = load_scenario(&a.scenario).expect("preset loads");
        RunPlan::new(a, s)
    }

    fn compare_plan(args: &[&str]) -> ComparePlan {
        let Command::Compare(a) = parse(args) else {
            panic!("not compare")
        };
        let s = load_scenario(&a.scenario).expect("preset loads");
        ComparePlan::new(a, s).expect("plan resolves")
    }

    #[test]
    fn scenario_names_become_one_safe_path_component() {
        assert_eq!(safe_file_name("default"), "default");
        assert_eq!(safe_file_name("../x/y"), "_x_y");
        assert_eq!(safe_file_name("..."), "scenario");
        assert_eq!(safe_file_name("海曙 estate"), "海曙_estate");
    }

    #[test]
    fn a_run_without_flags_takes_the_scenarios_days_seed_and_a_directory_named_after_it() {
        let p = run_plan(&["run", "default"]);
        assert_eq!(p.days, p.scenario.days as u64);
        assert_eq!(p.options.horizon, p.days * DAY);
        assert_eq!(p.options.seed, p.scenario.seed);
        assert_eq!(p.options.workers, 1);
        assert_eq!(p.options.model, p.scenario.model);
        assert_eq!(
            p.out,
            PathBuf::from("out").join(safe_file_name(&p.scenario.name))
        );
        assert!(!p.quiet);
    }

    #[test]
    fn run_years_become_whole_days_and_at_least_one() {
        for (years, days) in [("1", 365), ("0.5", 183), ("0.001", 1), ("200", 73_000)] {
            let p = run_plan(&["run", "default", "--years", years]);
            assert_eq!(p.days, days, "--years {years}");
            assert_eq!(p.options.horizon, days * DAY);
        }
        let p = run_plan(&["run", "default", "--days", "20", "--seed", "7", "-q"]);
        assert_eq!((p.days, p.options.seed, p.quiet), (20, 7, true));
    }

    #[test]
    fn compared_models_are_deduplicated_in_the_order_given() {
        let p = compare_plan(&["compare", "--models", "ppp, gov,ppp,market,gov"]);
        assert_eq!(
            p.options.models,
            [
                InvestmentModel::Ppp,
                InvestmentModel::Gov,
                InvestmentModel::Market
            ]
        );
    }

    #[test]
    fn a_comparison_runs_every_model_on_seeds_one_to_n_with_jobs_defaulting_to_the_cores() {
        let p = compare_plan(&["compare", "--seeds", "3", "--years", "2"]);
        assert_eq!(p.options.models.len(), 4);
        assert_eq!(p.options.seeds, [1, 2, 3]);
        assert_eq!(p.options.years, 2);
        assert_eq!(p.runs(), 12);
        assert_eq!(p.options.jobs, default_jobs());
        assert!((1..=MAX_THREADS).contains(&p.options.jobs));
        assert!(
            p.out
                .ends_with(format!("compare-{}", safe_file_name(&p.scenario.name)))
        );
        let p = compare_plan(&["compare", "--jobs", "3", "--out", "here"]);
        assert_eq!((p.options.jobs, p.out), (3, PathBuf::from("here")));
    }

    #[test]
    fn bench_runs_the_district_unless_quick() {
        let Command::Bench(b) = parse(&["bench", "--quick", "--workers", "4"]) else {
            panic!("not bench")
        };
        let p = BenchPlan::resolve(b);
        assert_eq!((p.workers, p.cases), (4, vec![("default", 365)]));
        let Command::Bench(b) = parse(&["bench"]) else {
            panic!("not bench")
        };
        assert_eq!(BenchPlan::resolve(b).cases.len(), 2);
    }

    #[test]
    fn bench_curve_runs_a_year_of_community_district_and_city_or_the_days_given() {
        let Command::Bench(b) = parse(&["bench", "--curve"]) else {
            panic!("not bench")
        };
        let p = BenchPlan::resolve(b);
        assert_eq!(
            p.cases,
            vec![("default", 365), ("haishu-district", 365), ("city-3m", 365)]
        );
        let Command::Bench(b) = parse(&["bench", "--curve", "--days", "30"]) else {
            panic!("not bench")
        };
        assert!(BenchPlan::resolve(b).cases.iter().all(|c| c.1 == 30));
    }
}
