//! Command-line flags (clap derive): the low-level arguments.
//!
//! Every flag that has a range is checked here, once, by a typed value parser
//! ([`seed`], [`workers`], [`jobs`], [`days`], [`years`], [`whole_years`], [`seeds`], [`model`];
//! `--shard` by [`Shard`]'s `FromStr`), so a bad value is rejected by clap with the flag's
//! name, what was expected and what was found. Every path argument (a scenario, which
//! may also name a preset, included) is a `PathBuf`, so any file name the system allows
//! is accepted, UTF-8 or not. Defaults that depend on the scenario or the
//! machine are decided afterwards, in one place: [`crate::plan`].

use civitas_bridge::broker::BrokerUrl;
use civitas_scenarios::batch::Shard;
use civitas_scenarios::file::MAX_DAYS;
use civitas_twin::kinds::InvestmentModel;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Simulate smart communities: residents, devices, property firms, committees, street
/// offices and district departments, with incidents handled through the three loops.
#[derive(Debug, Parser)]
#[command(
    name = "civitas",
    version,
    propagate_version = true,
    after_help = EXIT_STATUS
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The exit codes, as `--help` states them (the README too).
pub(crate) const EXIT_STATUS: &str = "Exit status: 0 success; 1 a run failed (the engine \
stopped, or results could not be written); 2 bad usage or input (a flag, a scenario, batch, \
inject or checkpoint file, an --out that is a file).";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Compare investment and operation models on one community over years and seeds.
    Compare(CompareArgs),
    /// Run one scenario and write summary.json, incidents.csv and injects.jsonl.
    Run(RunArgs),
    /// Carry on from a checkpoint (`run --checkpoint-every`) to its horizon or a new one,
    /// byte-identically to the run that wrote it.
    Resume(ResumeArgs),
    /// A what-if from a checkpoint: resume it with `--set` changes or `--injects` added
    /// from that moment on.
    Fork(ResumeArgs),
    /// Run a batch: a parameter design × replications, resumable and shardable.
    Batch(BatchArgs),
    /// Print, list or check scenario files.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Headline benchmark: events per second, wall time and peak memory on the presets.
    Bench(BenchArgs),
    /// The live twin: the community's actors on the wall clock, fed by its devices over
    /// MQTT (an embedded broker), with a status line; `twin registry` writes the device
    /// registry.
    Twin(Box<TwinArgs>),
    /// The device fleet simulator: a generated community's devices publishing on the
    /// native MQTT schema (telemetry, availability, alarms), driven by the model.
    Fleet(FleetArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FleetArgs {
    /// A scenario file or preset: the community whose devices it plays (default: default).
    #[arg(default_value = "default")]
    pub(crate) scenario: PathBuf,
    /// The broker to publish to.
    #[arg(long, value_parser = broker_url, default_value = "mqtt://127.0.0.1:1883")]
    pub(crate) broker: BrokerUrl,
    /// With an mqtts:// broker: check its certificate against the CA certificates in
    /// this PEM file instead of the system's roots.
    #[arg(long, value_name = "PEM")]
    pub(crate) ca: Option<PathBuf>,
    /// Play only the devices of this registry (CSV, `civitas twin registry`); default:
    /// every device of the scenario's community, with generated wire ids.
    #[arg(long)]
    pub(crate) registry: Option<PathBuf>,
    /// Seed of the generated world (default: the scenario's).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Investment model (default: the scenario's).
    #[arg(long, value_parser = model)]
    pub(crate) model: Option<InvestmentModel>,
    /// Simulated seconds per real second (1: real time; 3600: an hour a second).
    #[arg(long, default_value_t = 1.0, value_parser = speed)]
    pub(crate) speed: f64,
    /// Stop after this many seconds; default: until Ctrl-C.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) stop_after: Option<u64>,
    #[command(flatten)]
    pub(crate) answers: AnswerArgs,
}

/// How the simulated fleet's devices answer commands.
#[derive(Debug, Clone, Args)]
pub(crate) struct AnswerArgs {
    /// Time a simulated device takes to carry out a command before it answers (ms; each
    /// answer takes between half and one and a half times this).
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    pub(crate) answer_delay_ms: u64,
    /// Chance a command to a simulated device is lost (no answer at all), 0 to 1.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub(crate) answer_loss: f64,
    /// Chance a simulated device answers that it could not carry a command out, 0 to 1.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub(crate) answer_failure: f64,
    /// A kind of simulated device that sleeps: KIND=EVERY/AWAKE, e.g.
    /// smoke_detector=10m/2s (wakes every ten minutes, sends, listens two seconds);
    /// repeat for more kinds. Tell the twin with `awake` in its policy file.
    #[arg(long, value_name = "KIND=EVERY/AWAKE", value_parser = sleep)]
    pub(crate) sleep: Vec<(
        civitas_twin::kinds::DeviceKind,
        civitas_bridge::fleet::Sleep,
    )>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct TwinArgs {
    #[command(subcommand)]
    pub(crate) command: Option<TwinCommand>,
    /// A scenario file or preset: the community the devices belong to (default: default).
    pub(crate) scenario: Option<PathBuf>,
    /// The device registry (CSV, `civitas twin registry`); default: the one generated for
    /// the scenario's community.
    #[arg(long)]
    pub(crate) registry: Option<PathBuf>,
    /// Thresholds, geofences and silence limits (TOML, `civitas twin rules` prints the
    /// defaults).
    #[arg(long)]
    pub(crate) rules: Option<PathBuf>,
    /// Who may command which devices where, and how commands reach each kind of device
    /// (TOML, `civitas twin policy` prints the defaults).
    #[arg(long)]
    pub(crate) policy: Option<PathBuf>,
    /// Port of the embedded MQTT broker (0: any free port, said on start).
    #[arg(long, default_value_t = 1883)]
    pub(crate) port: u16,
    /// Address the embedded broker listens on (0.0.0.0: every interface).
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) bind: std::net::IpAddr,
    /// An external broker instead of the embedded one:
    /// mqtt://[user[:password]@]host[:port], or mqtts://… over TLS.
    #[arg(long, value_parser = broker_url, conflicts_with_all = ["port", "bind"])]
    pub(crate) broker: Option<BrokerUrl>,
    /// With an mqtts:// broker: check its certificate against the CA certificates in
    /// this PEM file instead of the system's roots.
    #[arg(long, value_name = "PEM", requires = "broker")]
    pub(crate) ca: Option<PathBuf>,
    /// Write what happens in the twin's actors to this file as it happens (the events
    /// format of `civitas run --events`; `civitas-viz --replay` plays it).
    #[arg(long, value_name = "FILE")]
    pub(crate) events: Option<PathBuf>,
    /// Where Ctrl-C writes the twin's checkpoint (`civitas resume` continues it as a
    /// simulation: the open incidents carried on by the model).
    #[arg(long, value_name = "DIR", default_value = "twin-checkpoints")]
    pub(crate) checkpoints: PathBuf,
    /// Where the operator API listens (HTTP; loopback only: it has no authentication
    /// yet; port 0: any free port, said on start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) console: std::net::SocketAddr,
    /// The audit log of commands to devices: who asked for what, where, when, and what
    /// became of it (JSON lines, appended).
    #[arg(long, value_name = "FILE", default_value = "twin-audit.jsonl")]
    pub(crate) audit: PathBuf,
    /// Do not start the simulated device fleet (real devices publish instead).
    #[arg(long)]
    pub(crate) no_fleet: bool,
    /// The twin's own speed: simulated seconds of the actors per real second (1, the
    /// default: real time, as operators work; faster for drills and tests, where time
    /// limits would otherwise take hours).
    #[arg(long, default_value_t = 1.0, value_parser = speed)]
    pub(crate) speed: f64,
    /// The simulated fleet's speed: simulated seconds per real second (1: real time; 60:
    /// a demo where an hour of the community's incidents arrives in a minute).
    #[arg(long, default_value_t = 1.0, value_parser = speed, conflicts_with = "no_fleet")]
    pub(crate) fleet_speed: f64,
    /// Seed of the generated world (default: the scenario's).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Investment model (default: the scenario's).
    #[arg(long, value_parser = model)]
    pub(crate) model: Option<InvestmentModel>,
    /// Stop after this many seconds (demos, tests); default: until Ctrl-C.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) stop_after: Option<u64>,
    #[command(flatten)]
    pub(crate) answers: AnswerArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TwinCommand {
    /// Write the device registry of a generated community: which wire id (the <device> of
    /// its MQTT topics) is which device (CSV: wire_id,community,building,device,kind).
    Registry {
        /// A scenario file, or the name of a preset.
        #[arg(default_value = "default")]
        scenario: PathBuf,
        /// Seed of the generated world (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Investment model, which decides which devices are deployed (default: the
        /// scenario's).
        #[arg(long, value_parser = model)]
        model: Option<InvestmentModel>,
        /// Write it here instead of to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the default rules file (thresholds, geofences, silence limits) to edit and
    /// pass back with `civitas twin --rules FILE`.
    Rules,
    /// Print the default command policy (who may command which devices where; how
    /// commands reach each kind) to edit and pass back with `civitas twin --policy FILE`.
    Policy,
    /// Command a device through the running twin, as an operator in a seat, and follow
    /// the command to its end: queued, sent, delivered, then succeeded, failed, timed out
    /// or expired. Exit 0 when the device confirmed it, 1 when it did not or the policy
    /// refused it, 2 for a request the twin could not take.
    Command {
        /// The device's wire id (`civitas twin registry` lists them).
        device: String,
        /// What to do: release_doors, lock_doors, start_pump, stop_pump.
        #[arg(value_parser = command_action)]
        action: civitas_twin::kinds::CommandAction,
        /// Where you act from, role@area: property_firm@community:0,
        /// street_office@street:1, property_firm@building:0/12.
        #[arg(long = "as", value_name = "SEAT", value_parser = seat)]
        seat: civitas_bridge::policy::Seat,
        /// The twin's broker (default: the embedded one on this machine's port 1883).
        #[arg(long, value_parser = broker_url, default_value = "mqtt://127.0.0.1:1883")]
        broker: BrokerUrl,
        /// With an mqtts:// broker: its CA certificates (PEM).
        #[arg(long, value_name = "PEM")]
        ca: Option<PathBuf>,
        /// How long to follow the command (seconds).
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Ingest throughput: telemetry published at QoS 1 through the embedded broker,
    /// validated and mirrored; messages per second and peak memory.
    #[command(group = clap::ArgGroup::new("under_load").args(["latency", "commands"]))]
    Bench {
        /// Messages to publish.
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        /// Devices they come from.
        #[arg(long, default_value_t = 100_000)]
        devices: usize,
        /// Publishing clients.
        #[arg(long, default_value_t = 1)]
        publishers: usize,
        /// Instead: alarm latency under load — alarms timed from publish to the incident's
        /// detection in the twin's observe stream, while telemetry flows at --rate.
        #[arg(long)]
        latency: bool,
        /// Instead: command round trips under load — a command to a simulated door every
        /// 10 ms, timed from taken to confirmed, while telemetry flows at --rate; then one
        /// command to each of --doors doors at once.
        #[arg(long)]
        commands: bool,
        /// With --latency or --commands: telemetry messages per second (the load).
        #[arg(long, default_value_t = 10_000, requires = "under_load")]
        rate: u64,
        /// With --latency or --commands: how long (s).
        #[arg(long, default_value_t = 20, requires = "under_load")]
        seconds: u64,
        /// With --latency or --commands: the community whose twin it measures.
        #[arg(long, default_value = "default", requires = "under_load")]
        scenario: PathBuf,
        /// With --commands: simulated doors (each gets one command of the burst).
        #[arg(long, default_value_t = 1_000, requires = "commands")]
        doors: usize,
        /// With --commands: how long each door holds its answer in the burst (ms), so
        /// that every command is in flight at once.
        #[arg(long, default_value_t = 500, requires = "commands")]
        hold_ms: u64,
        /// With --commands: an external broker instead of the embedded one.
        #[arg(long, value_parser = broker_url, requires = "commands")]
        broker: Option<BrokerUrl>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// A scenario file, or the name of a preset (see `civitas scenario list`).
    #[arg(default_value = "default")]
    pub(crate) scenario: PathBuf,
    /// Models to compare, comma-separated: gov, market, hybrid, caict, ppp.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "gov,market,hybrid,ppp",
        value_parser = model
    )]
    pub(crate) models: Vec<InvestmentModel>,
    /// Years to simulate (a whole number).
    #[arg(long, default_value_t = 10, value_parser = whole_years, allow_negative_numbers = true)]
    pub(crate) years: u32,
    /// Number of seeds (1, 2, … N); every model runs on the same seeds.
    #[arg(long, default_value_t = 20, value_parser = seeds, allow_negative_numbers = true)]
    pub(crate) seeds: u32,
    /// Runs in parallel (default: the number of cores).
    #[arg(long, value_parser = jobs, allow_negative_numbers = true)]
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
    pub(crate) scenario: PathBuf,
    /// Seed for the world and every random stream, 0 to 2^64 − 1 (default: the
    /// scenario's).
    #[arg(long, value_parser = seed, allow_negative_numbers = true)]
    pub(crate) seed: Option<u64>,
    /// Simulated days (default: the scenario's).
    #[arg(long, conflicts_with = "years", value_parser = days, allow_negative_numbers = true)]
    pub(crate) days: Option<u32>,
    /// Simulated years of 365 days (fractions allowed).
    #[arg(long, value_parser = years, allow_negative_numbers = true)]
    pub(crate) years: Option<f64>,
    /// Worker threads for the actors (results do not depend on it); 1, the default, runs
    /// every actor on one thread, which is fastest for the presets (docs/PERFORMANCE.md).
    #[arg(long, default_value_t = 1, value_parser = workers, allow_negative_numbers = true)]
    pub(crate) workers: usize,
    /// Replay an inject log (the injects.jsonl of an earlier run, or one written in
    /// that format): the run is then identical to the one that wrote it.
    #[arg(long, visible_alias = "inject", value_name = "FILE")]
    pub(crate) injects: Option<PathBuf>,
    /// Write the observe stream (every window's events and counters) as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub(crate) events: Option<PathBuf>,
    /// Write a checkpoint every so long of simulated time: 30d, 12h, 1y (365 days).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) checkpoint_every: Option<u64>,
    /// Directory for the checkpoints (default: <out>/checkpoints).
    #[arg(long, value_name = "DIR", requires = "checkpoint_every")]
    pub(crate) checkpoint_dir: Option<PathBuf>,
    /// Directory for summary.json and incidents.csv (default: out/<scenario name>).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Run in real time from the current local time: print each incident as it opens,
    /// escalates and closes, and a status line; Ctrl-C writes a checkpoint into
    /// <out>/checkpoints and stops.
    #[arg(long)]
    pub(crate) live: bool,
    /// With --live: simulated seconds per real second (3600: an hour a second).
    #[arg(long, requires = "live", value_parser = speed, allow_negative_numbers = true)]
    pub(crate) speed: Option<f64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ResumeArgs {
    /// A checkpoint file written by `civitas run --checkpoint-every`.
    pub(crate) checkpoint: PathBuf,
    /// Run until this many simulated days since the start (default: the horizon of the
    /// run that wrote the checkpoint).
    #[arg(long, conflicts_with = "years", value_parser = days, allow_negative_numbers = true)]
    pub(crate) days: Option<u32>,
    /// Run until this many years (of 365 days) since the start.
    #[arg(long, value_parser = years, allow_negative_numbers = true)]
    pub(crate) years: Option<f64>,
    /// Fork: set a number in the scenario from now on, e.g.
    /// `--set parameters.staffing.street_day=4` (repeatable).
    #[arg(long = "set", value_name = "PATH=NUMBER", value_parser = setting)]
    pub(crate) sets: Vec<(String, f64)>,
    /// Fork: add the injects of this file (an inject log's format; their times must
    /// not be before the checkpoint).
    #[arg(long = "injects", visible_alias = "inject", value_name = "FILE")]
    pub(crate) inject: Option<PathBuf>,
    /// Write the observe stream from the checkpoint on as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub(crate) events: Option<PathBuf>,
    /// Write a checkpoint every so long of simulated time from here on: 30d, 12h, 1y
    /// (at its multiples since the start, as `run` does).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) checkpoint_every: Option<u64>,
    /// Directory for the checkpoints (default: <out>/checkpoints).
    #[arg(long, value_name = "DIR", requires = "checkpoint_every")]
    pub(crate) checkpoint_dir: Option<PathBuf>,
    /// Worker threads for the actors (results do not depend on it); 1, the default, runs
    /// every actor on one thread, which is fastest for the presets (docs/PERFORMANCE.md).
    #[arg(long, default_value_t = 1, value_parser = workers, allow_negative_numbers = true)]
    pub(crate) workers: usize,
    /// Output directory (default: out/<scenario name>-from-day-<d>).
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
    /// Check a scenario file (or a preset) and report every problem.
    Check {
        /// A scenario file, or the name of a preset.
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
    #[arg(long, value_parser = jobs, allow_negative_numbers = true)]
    pub(crate) jobs: Option<usize>,
    /// Output directory (default: out/batch-<batch name>).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Run only shard i of n (runs k with k mod n = i − 1), e.g. --shard 2/8.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) shard: Option<Shard>,
    /// Discard run files in --out that were made from other inputs (a changed batch
    /// file, another civitas version, a damaged file) instead of refusing to run.
    #[arg(long)]
    pub(crate) force: bool,
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
    /// Worker threads (1, the default, is fastest for the presets).
    #[arg(long, default_value_t = 1, value_parser = workers, allow_negative_numbers = true)]
    pub(crate) workers: usize,
    /// Only the one-year default community (skip the district).
    #[arg(long, conflicts_with = "curve")]
    pub(crate) quick: bool,
    /// The cost curve: one year each of the default community (4,000 residents), the
    /// district (300,000) and the city (3,000,000), to see that cost grows linearly.
    #[arg(long)]
    pub(crate) curve: bool,
    /// Simulated days of every case (default: each case's own).
    #[arg(long, value_parser = days, allow_negative_numbers = true)]
    pub(crate) days: Option<u32>,
    /// Instead: the live engine's latency — camera alarms injected at --rate a second
    /// for --seconds into the default community running in real time, each timed from
    /// sending to the `detected` event in the stream.
    #[arg(long, conflicts_with_all = ["curve", "quick", "days"])]
    pub(crate) live: bool,
    /// With --live: alarms a second, 1 to 100000.
    #[arg(long, default_value_t = 1000, requires = "live", value_parser = rate, allow_negative_numbers = true)]
    pub(crate) rate: u32,
    /// With --live: seconds of alarms, 1 to 3600.
    #[arg(long, default_value_t = 10, requires = "live", value_parser = bench_seconds, allow_negative_numbers = true)]
    pub(crate) seconds: u32,
}

/// `bench --rate`: 1 to 100,000 alarms a second.
fn rate(s: &str) -> Result<u32, String> {
    whole_in(s, 1, 100_000, "a number of alarms a second").map(|n| n as u32)
}

/// `bench --seconds`: 1 to 3,600.
fn bench_seconds(s: &str) -> Result<u32, String> {
    whole_in(s, 1, 3600, "a number of seconds").map(|n| n as u32)
}

/// The most worker threads (`--workers`) or parallel runs (`--jobs`) accepted.
pub(crate) const MAX_THREADS: usize = 256;
/// The most years `run --years` and `compare --years` accept.
pub(crate) const MAX_YEARS: u32 = 200;
/// The most seeds `compare --seeds` accepts.
pub(crate) const MAX_SEEDS: u32 = 10_000;

/// `s` as a whole number from `lo` to `hi`; otherwise "expected {what} from {lo} to {hi},
/// found {s}". Negative numbers and fractions are read far enough to be reported as found.
fn whole_in(s: &str, lo: u64, hi: u64, what: &str) -> Result<u64, String> {
    let t = s.trim();
    match t.parse::<i128>() {
        Ok(n) if (lo as i128..=hi as i128).contains(&n) => Ok(n as u64),
        Ok(n) => Err(format!("expected {what} from {lo} to {hi}, found {n}")),
        Err(_) => Err(format!("expected {what} from {lo} to {hi}, found {t:?}")),
    }
}

/// `run --seed`: any 64-bit seed, 0 to 2^64 − 1.
pub(crate) fn seed(s: &str) -> Result<u64, String> {
    whole_in(s, 0, u64::MAX, "a seed")
}

/// `--workers`: tokio worker threads, 1 to [`MAX_THREADS`].
pub(crate) fn workers(s: &str) -> Result<usize, String> {
    whole_in(s, 1, MAX_THREADS as u64, "a number").map(|n| n as usize)
}

/// `--jobs`: runs in parallel, 1 to [`MAX_THREADS`].
pub(crate) fn jobs(s: &str) -> Result<usize, String> {
    whole_in(s, 1, MAX_THREADS as u64, "a number").map(|n| n as usize)
}

/// `run --days`: 1 to the scenario files' own limit, [`MAX_DAYS`].
pub(crate) fn days(s: &str) -> Result<u32, String> {
    whole_in(s, 1, MAX_DAYS as u64, "a whole number of days").map(|n| n as u32)
}

/// `--speed`: a number of simulated seconds per real second, from 0.01 to 1,000,000.
fn speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && (0.01..=1_000_000.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "expected simulated seconds per real second from 0.01 to 1000000, found {s:?}"
        )),
    }
}

/// `--broker`: `mqtt[s]://[user[:password]@]host[:port]`.
fn broker_url(s: &str) -> Result<BrokerUrl, String> {
    BrokerUrl::parse(s)
}

fn probability(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("expected a probability from 0 to 1, found {s:?}")),
    }
}

fn sleep(
    s: &str,
) -> Result<
    (
        civitas_twin::kinds::DeviceKind,
        civitas_bridge::fleet::Sleep,
    ),
    String,
> {
    use civitas_bridge::policy::parse_ms;
    let expected = format!("expected KIND=EVERY/AWAKE such as smoke_detector=10m/2s, found {s:?}");
    let (kind, times) = s.split_once('=').ok_or_else(|| expected.clone())?;
    let (every, awake) = times.split_once('/').ok_or_else(|| expected.clone())?;
    let kind = civitas_twin::kinds::DeviceKind::parse(kind.trim())
        .ok_or_else(|| format!("unknown device kind {:?} in {s:?}", kind.trim()))?;
    let every = parse_ms(every, 1_000, 24 * 3_600_000).map_err(|e| format!("EVERY: {e}"))?;
    let awake = parse_ms(awake, 0, every).map_err(|e| format!("AWAKE: {e}"))?;
    Ok((
        kind,
        civitas_bridge::fleet::Sleep {
            every: std::time::Duration::from_millis(every as u64),
            awake: std::time::Duration::from_millis(awake as u64),
        },
    ))
}

fn command_action(s: &str) -> Result<civitas_twin::kinds::CommandAction, String> {
    use civitas_twin::kinds::CommandAction;
    CommandAction::parse(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = CommandAction::ALL.iter().map(|a| a.as_str()).collect();
        format!("unknown action {s:?}; actions: {}", names.join(", "))
    })
}

fn seat(s: &str) -> Result<civitas_bridge::policy::Seat, String> {
    s.parse()
}

/// `run --years`: a number of years above 0 and at most [`MAX_YEARS`]; fractions allowed
/// (a run lasts whole days, `plan` rounds).
pub(crate) fn years(s: &str) -> Result<f64, String> {
    let expected = format!("expected a number of years above 0 and at most {MAX_YEARS}");
    match s.trim().parse::<f64>() {
        Ok(y) if y.is_finite() && y > 0.0 && y <= MAX_YEARS as f64 => Ok(y),
        // As written (1e300 stays short), except NaN and infinity, spelled one way.
        Ok(y) if y.is_finite() => Err(format!("{expected}, found {}", s.trim())),
        Ok(y) => Err(format!("{expected}, found {y}")),
        Err(_) => Err(format!("{expected}, found {:?}", s.trim())),
    }
}

/// `compare --years`: 1 to [`MAX_YEARS`] whole years (the comparison reports per year).
pub(crate) fn whole_years(s: &str) -> Result<u32, String> {
    whole_in(s, 1, MAX_YEARS as u64, "a whole number of years").map(|n| n as u32)
}

/// `compare --seeds`: 1 to [`MAX_SEEDS`].
pub(crate) fn seeds(s: &str) -> Result<u32, String> {
    whole_in(s, 1, MAX_SEEDS as u64, "a number of seeds").map(|n| n as u32)
}

/// `--checkpoint-every`: a positive whole number with a unit, `d` (days), `h` (hours)
/// or `y` (years of 365 days); in seconds.
pub(crate) fn duration(s: &str) -> Result<u64, String> {
    use civitas_twin::time::{YEAR, parse_duration};
    parse_duration(s, 1, MAX_YEARS as u64 * YEAR)
}

/// `--set PATH=NUMBER`.
pub(crate) fn setting(s: &str) -> Result<(String, f64), String> {
    let Some((path, value)) = s.split_once('=') else {
        return Err(format!("expected PATH=NUMBER, found {s:?}"));
    };
    let (path, value) = (path.trim(), value.trim());
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!("expected a dotted path before '=', found {path:?}"));
    }
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok((path.to_string(), v)),
        _ => Err(format!("expected a number after '=', found {value:?}")),
    }
}

/// One name in `compare --models`.
pub(crate) fn model(s: &str) -> Result<InvestmentModel, String> {
    InvestmentModel::from_arg(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each parser on each input: `Ok(value)` as its `Debug`, or the error message.
    fn check<T: std::fmt::Debug>(parse: fn(&str) -> Result<T, String>, cases: &[(&str, &str)]) {
        for (input, expect) in cases {
            let got = match parse(input) {
                Ok(v) => format!("{v:?}"),
                Err(e) => e,
            };
            assert_eq!(&got, expect, "input {input:?}");
        }
    }

    #[test]
    fn the_fleets_answer_flags_say_what_they_expect() {
        check(
            probability,
            &[
                ("0.25", "0.25"),
                ("1", "1.0"),
                ("1.5", "expected a probability from 0 to 1, found \"1.5\""),
                ("x", "expected a probability from 0 to 1, found \"x\""),
            ],
        );
        check(
            sleep,
            &[
                (
                    "smoke_detector=10m/2s",
                    "(SmokeDetector, Sleep { every: 600s, awake: 2s })",
                ),
                (
                    "toaster=1m/1s",
                    "unknown device kind \"toaster\" in \"toaster=1m/1s\"",
                ),
                (
                    "smoke_detector=10m",
                    "expected KIND=EVERY/AWAKE such as smoke_detector=10m/2s, found \"smoke_detector=10m\"",
                ),
                (
                    "smoke_detector=1s/2s",
                    "AWAKE: expected a duration such as 500ms, 5s, 10m or 1h, from 0 ms to 1000 ms, found \"2s\"",
                ),
            ],
        );
        check(
            command_action,
            &[
                ("release_doors", "ReleaseDoors"),
                (
                    "open",
                    "unknown action \"open\"; actions: release_doors, start_pump, lock_doors, stop_pump",
                ),
            ],
        );
    }

    #[test]
    fn whole_number_flags_accept_their_range_and_say_what_they_found_outside_it() {
        check(
            workers,
            &[
                ("1", "1"),
                ("256", "256"),
                ("0", "expected a number from 1 to 256, found 0"),
                ("257", "expected a number from 1 to 256, found 257"),
                ("-3", "expected a number from 1 to 256, found -3"),
                ("2.5", "expected a number from 1 to 256, found \"2.5\""),
            ],
        );
        check(
            jobs,
            &[
                ("8", "8"),
                ("300", "expected a number from 1 to 256, found 300"),
            ],
        );
        check(
            days,
            &[
                ("73000", "73000"),
                (
                    "73001",
                    "expected a whole number of days from 1 to 73000, found 73001",
                ),
                (
                    "99999999999999999999999",
                    "expected a whole number of days from 1 to 73000, found 99999999999999999999999",
                ),
            ],
        );
        check(
            whole_years,
            &[
                ("200", "200"),
                (
                    "201",
                    "expected a whole number of years from 1 to 200, found 201",
                ),
            ],
        );
        check(
            seed,
            &[
                ("0", "0"),
                ("18446744073709551615", "18446744073709551615"),
                (
                    "18446744073709551616",
                    "expected a seed from 0 to 18446744073709551615, found 18446744073709551616",
                ),
                (
                    "-1",
                    "expected a seed from 0 to 18446744073709551615, found -1",
                ),
            ],
        );
        check(
            seeds,
            &[
                ("10000", "10000"),
                (
                    "x",
                    "expected a number of seeds from 1 to 10000, found \"x\"",
                ),
            ],
        );
    }

    #[test]
    fn run_years_take_fractions_above_zero_up_to_two_hundred() {
        check(
            years,
            &[
                ("0.5", "0.5"),
                ("200", "200.0"),
                (
                    "0",
                    "expected a number of years above 0 and at most 200, found 0",
                ),
                (
                    "201",
                    "expected a number of years above 0 and at most 200, found 201",
                ),
                (
                    "nan",
                    "expected a number of years above 0 and at most 200, found NaN",
                ),
                (
                    "inf",
                    "expected a number of years above 0 and at most 200, found inf",
                ),
                (
                    "ten",
                    "expected a number of years above 0 and at most 200, found \"ten\"",
                ),
            ],
        );
    }

    #[test]
    fn model_names_are_trimmed_and_unknown_ones_listed_against_the_known() {
        check(
            model,
            &[
                (" ppp", "Ppp"),
                (
                    "feudal",
                    "unknown model \"feudal\"; expected some of: gov, market, hybrid, caict, ppp",
                ),
                (
                    "",
                    "found an empty model name; expected some of: gov, market, hybrid, caict, ppp",
                ),
            ],
        );
    }

    #[test]
    fn durations_and_settings_are_checked_with_what_was_found() {
        check(
            duration,
            &[
                ("30d", "2592000"),
                ("12h", "43200"),
                ("1y", "31536000"),
                (
                    "0d",
                    "expected a duration such as 30d, 12h or 1y (at most 200 years), found \"0d\"",
                ),
                (
                    "30",
                    "expected a duration such as 30d, 12h or 1y, found \"30\"",
                ),
                (
                    "-3d",
                    "expected a duration such as 30d, 12h or 1y (at most 200 years), found \"-3d\"",
                ),
                ("", "expected a duration such as 30d, 12h or 1y, found \"\""),
            ],
        );
        check(
            setting,
            &[
                (
                    "parameters.staffing.street_day=4",
                    "(\"parameters.staffing.street_day\", 4.0)",
                ),
                ("a.b = 0.5", "(\"a.b\", 0.5)"),
                ("a.b", "expected PATH=NUMBER, found \"a.b\""),
                (
                    "a..b=1",
                    "expected a dotted path before '=', found \"a..b\"",
                ),
                ("a.b=x", "expected a number after '=', found \"x\""),
                ("a.b=inf", "expected a number after '=', found \"inf\""),
            ],
        );
    }
}
