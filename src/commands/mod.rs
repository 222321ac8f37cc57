//! The subcommands: each takes its resolved plan ([`crate::plan`]), calls the libraries,
//! writes result files and prints a summary.
//!
//! One file per subcommand ([`run`], [`resume`], [`compare`], [`batch`], [`scenario`], [`bench`]);
//! this module dispatches to them and holds what they share: the progress bar
//! ([`Progress`]), writing files with their path in the error, and the peak memory.

mod batch;
mod bench;
mod compare;
mod live;
mod pictures;
mod prompt;
mod resume;
mod run;
mod scenario;
mod twin;

use crate::cli::{Cli, Command};
use crate::plan::{BenchPlan, ComparePlan, RunPlan};
use anyhow::{Context, Result, anyhow};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// An error in what the user gave — a flag, a scenario, batch, inject or checkpoint file,
/// an output path that is a file — as opposed to a run that failed: `main` exits with 2
/// for it (and 1 for the rest).
#[derive(Debug)]
pub(crate) struct BadInput(anyhow::Error);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadInput {}

/// `e` marked as bad input.
pub(crate) fn bad_input(e: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(BadInput(e.into()))
}

/// Marks a result's error as bad input (`load(…).input()?`).
pub(crate) trait Input<T> {
    /// The error, if any, marked as [`BadInput`].
    fn input(self) -> Result<T>;
}

impl<T, E: Into<anyhow::Error>> Input<T> for std::result::Result<T, E> {
    fn input(self) -> Result<T> {
        self.map_err(bad_input)
    }
}

/// Resolves the command's plan and runs it.
pub(crate) fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Compare(a) => compare::compare(ComparePlan::resolve(a)?),
        Command::Run(a) => run::run(RunPlan::resolve(a)?),
        Command::Resume(a) | Command::Fork(a) => resume::resume(a),
        Command::Batch(a) => batch::batch(a),
        Command::Scenario(c) => scenario::scenario(c),
        Command::Twin(a) => twin::twin(*a),
        Command::Fleet(a) => twin::fleet(a),
        Command::Bench(b) => bench::bench(BenchPlan::resolve(b)),
    }
}

/// The progress bar of long work, on stderr: what it counts, `pos/len`, a bar, the rate of
/// runs (counted from the first update, so runs resumed from an earlier invocation do not
/// inflate it), elapsed time and the estimate. Hidden under `--quiet`.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    bar: ProgressBar,
    /// For runs, the position before the first update.
    first: Option<Arc<OnceLock<u64>>>,
}

impl Progress {
    const TEMPLATE: &str = "{spinner} {prefix} {pos}/{len} {wide_bar} {msg} {elapsed} (eta {eta})";

    /// A bar counting simulated days.
    pub(crate) fn days(days: u64, quiet: bool) -> Progress {
        Progress::new(days, "simulated day", None, quiet)
    }

    /// A bar counting runs, with their rate per minute.
    pub(crate) fn runs(runs: u64, quiet: bool) -> Progress {
        Progress::new(runs, "run", Some(Arc::default()), quiet)
    }

    fn new(len: u64, what: &'static str, first: Option<Arc<OnceLock<u64>>>, quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(len)
        };
        bar.set_style(ProgressStyle::with_template(Self::TEMPLATE).expect("a valid template"));
        bar.set_prefix(what);
        Progress { bar, first }
    }

    /// `done` of the bar's length are done.
    pub(crate) fn set(&self, done: u64) {
        self.bar.set_position(done);
        if let Some(first) = &self.first {
            let start = *first.get_or_init(|| done.saturating_sub(1));
            let mins = self.bar.elapsed().as_secs_f64() / 60.0;
            if mins > 0.0 {
                self.bar
                    .set_message(format!("{:.0} runs/min", (done - start) as f64 / mins));
            }
        }
    }

    /// Removes the bar from the terminal.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Creates `dir` and its parents. A file where a directory should be is named as such
/// (the system would only say "File exists" or "Not a directory").
fn create_dir(dir: &Path) -> Result<()> {
    refuse_file_as_dir(dir)?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))
}

/// Refuses `dir` as an output directory when it, or a path above it, is a file; creates
/// nothing.
fn refuse_file_as_dir(dir: &Path) -> Result<()> {
    if let Some(file) = dir.ancestors().find(|a| a.exists()).filter(|a| !a.is_dir()) {
        let what = if file == dir {
            "it".to_string()
        } else {
            file.display().to_string()
        };
        return Err(bad_input(anyhow!(
            "cannot create output directory {}: {what} is a file, not a directory",
            dir.display()
        )));
    }
    Ok(())
}

/// What a `run`, `resume` or `fork` reads and writes, so that `--events` can be refused
/// when it would overwrite any of it.
pub(crate) struct RunFiles<'a> {
    /// The output directory (`summary.json`, `incidents.csv`, `injects.jsonl`).
    pub(crate) out: &'a Path,
    /// The scenario file, when it is one.
    pub(crate) scenario: Option<&'a Path>,
    /// The inject log read.
    pub(crate) injects: Option<&'a Path>,
    /// The checkpoint resumed.
    pub(crate) checkpoint: Option<&'a Path>,
    /// Where checkpoints are written.
    pub(crate) checkpoint_dir: Option<&'a Path>,
}

/// Opens the file for the observe stream (`--events`), if one is asked for, after
/// checking that it is none of the files the run reads or writes (`files`).
fn open_events(
    path: Option<&Path>,
    files: &RunFiles<'_>,
) -> Result<Option<Box<dyn std::io::Write + Send>>> {
    use civitas_scenarios::input::{is_within, open_stream, same_file};
    let Some(p) = path else { return Ok(None) };
    let refuse = |what: &str| {
        Err(bad_input(anyhow!(
            "--events {}: that is {what}; write the event stream to a file of its own",
            p.display()
        )))
    };
    let outputs = [
        ("summary.json", "the run's summary.json"),
        ("incidents.csv", "the run's incidents.csv"),
        ("injects.jsonl", "the run's inject log injects.jsonl"),
    ]
    .map(|(name, what)| (Some(files.out.join(name)), what));
    let inputs = [
        (files.scenario.map(Path::to_path_buf), "the scenario file"),
        (
            files.injects.map(Path::to_path_buf),
            "the inject log given by --injects",
        ),
        (
            files.checkpoint.map(Path::to_path_buf),
            "the checkpoint being resumed",
        ),
    ];
    for (file, what) in outputs.iter().chain(&inputs) {
        if file.as_deref().is_some_and(|f| same_file(p, f)) {
            return refuse(what);
        }
    }
    if files.checkpoint_dir.is_some_and(|d| is_within(p, d)) {
        return refuse("in the run's checkpoint directory");
    }
    let f = open_stream(p, "event stream").input()?;
    Ok(Some(Box::new(std::io::BufWriter::new(f))))
}

/// Writes `contents` to `path`, naming the path if it fails.
fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Peak resident set size of this process so far, in KiB (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn progress_bars_are_hidden_when_quiet_and_count_to_their_length() {
        for p in [Progress::days(30, true), Progress::runs(4, true)] {
            assert!(p.bar.is_hidden());
            p.set(3);
            assert_eq!(p.bar.position(), 3);
            p.finish();
        }
        let p = Progress::runs(4, false);
        assert_eq!(p.bar.length(), Some(4));
        assert_eq!(p.bar.prefix(), "run");
    }
}
