//! Command-line flags (clap derive). Parsed flags are checked and resolved in
//! [`crate::commands`].

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Simulate smart communities: residents, devices, property firms, committees, street
/// offices and district departments, with incidents handled through the three loops.
#[derive(Debug, Parser)]
#[command(name = "civitas", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Compare investment and operation models on one community over years and seeds.
    Compare(CompareArgs),
    /// Run one scenario and write summary.json and incidents.csv.
    Run(RunArgs),
    /// Run a batch: a parameter design × replications, resumable and shardable.
    Batch(BatchArgs),
    /// Print, list or check scenario files.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Headline benchmark: events per second, wall time and peak memory on the presets.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// A scenario file, or the name of a preset (see `civitas scenario list`).
    #[arg(default_value = "default")]
    pub(crate) scenario: String,
    /// Models to compare, comma-separated: gov, market, hybrid, caict, ppp.
    #[arg(long, value_delimiter = ',', default_value = "gov,market,hybrid,ppp")]
    pub(crate) models: Vec<String>,
    /// Years to simulate.
    #[arg(long, default_value_t = 10)]
    pub(crate) years: u32,
    /// Number of seeds (1, 2, … N); every model runs on the same seeds.
    #[arg(long, default_value_t = 20)]
    pub(crate) seeds: u32,
    /// Runs in parallel (default: the number of cores).
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// Directory for compare.json, compare.csv, charts and the report (default:
    /// out/compare-<scenario name>).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A scenario file, or the name of a preset (see `civitas scenario list`).
    #[arg(default_value = "default")]
    pub(crate) scenario: String,
    /// Seed for the world and every random stream (default: the scenario's).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Simulated days (default: the scenario's).
    #[arg(long, conflicts_with = "years")]
    pub(crate) days: Option<u32>,
    /// Simulated years of 365 days.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) years: Option<f64>,
    /// Worker threads for the actors (results do not depend on it).
    #[arg(long, default_value_t = 2)]
    pub(crate) workers: usize,
    /// Directory for summary.json and incidents.csv (default: out/<scenario name>).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Print the commented default scenario.
    Default,
    /// List the presets.
    List,
    /// Print a preset.
    Show {
        /// Preset name.
        name: String,
    },
    /// Print every parameter with its default and source.
    Params,
    /// Check a scenario file and report every problem.
    Check {
        /// The file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct BatchArgs {
    #[command(subcommand)]
    pub(crate) command: Option<BatchCommand>,
    /// The batch file (TOML).
    pub(crate) file: Option<PathBuf>,
    /// Runs in parallel (default: the number of cores).
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// Output directory (default: out/batch-<batch name>).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Run only shard i of n (runs k with k mod n = i − 1), e.g. --shard 2/8.
    #[arg(long)]
    pub(crate) shard: Option<civitas_scenarios::batch::Shard>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BatchCommand {
    /// Join shard directories of one batch into one.
    Merge {
        /// The batch file the shards ran.
        #[arg(long)]
        batch: PathBuf,
        /// Shard output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Per point: mean and 95% interval of each KPI over replications (points.csv).
    Summarize {
        /// The batch file.
        #[arg(long)]
        batch: PathBuf,
        /// The batch's output directory.
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub(crate) workers: usize,
    /// Only the one-year default community (skip the district).
    #[arg(long)]
    pub(crate) quick: bool,
}
