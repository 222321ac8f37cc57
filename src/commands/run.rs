//! `civitas run`: one scenario on the actors, written as `summary.json`,
//! `incidents.csv` and the inject log `injects.jsonl`; optionally the observe stream
//! and checkpoints. The summary table goes to stdout, wall time and memory to stderr.

use super::live::LiveView;
use super::{Input, Progress, RunFiles, bad_input, create_dir, open_events, peak_rss, write_file};
use crate::plan::RunPlan;
use anyhow::Result;
use civitas_actors::Window;
use civitas_actors::inject::{InjectRecord, read_log_lines, write_log};
use civitas_scenarios::Scenario;
use civitas_scenarios::checkpoint;
use civitas_scenarios::runner::{self, Live, Outputs, RunError, RunOptions, Session};
use civitas_twin::calendar::Calendar;
use civitas_twin::time::{DAY, SimTime};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs the plan and writes its result files.
pub(super) fn run(plan: RunPlan) -> Result<()> {
    let RunPlan {
        mut scenario,
        scenario_file,
        days,
        options,
        out,
        injects,
        events,
        checkpoints,
        live,
        quiet,
    } = plan;
    // The inputs are read first; the stream is opened before anything is written, and
    // never onto an input or another output of the run.
    let mut inject_file = injects.as_deref().map(read_injects).transpose()?;
    let files = RunFiles {
        out: &out,
        scenario: scenario_file.as_deref(),
        injects: injects.as_deref(),
        checkpoint: None,
        checkpoint_dir: checkpoints.as_ref().map(|(_, d)| d.as_path()),
    };
    let events = open_events(events.as_deref(), &files)?;
    create_dir(&out)?;
    if let Some(f) = &inject_file {
        f.warn_after(options.horizon, quiet);
    }
    let mut session = Session {
        injects: inject_file
            .as_mut()
            .map(InjectFile::take_records)
            .unwrap_or_default(),
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
    session.events = events;
    if let Some(speed) = live {
        // A live run starts now, in the scenario's time zone, and Ctrl-C checkpoints it.
        #[allow(clippy::disallowed_methods)] // the live run's start is the real now
        let now = std::time::SystemTime::now();
        scenario.calendar = Calendar::starting_at(now, scenario.calendar.time_zone())?;
        let given = session.checkpoints.as_ref().map(|(_, d)| d.clone());
        let dir = crate::plan::checkpoint_dir(&out, given);
        let announce = format!(
            "live: {} from {} ({} simulated seconds per real second); Ctrl-C writes a checkpoint into {} and stops",
            scenario.name,
            scenario.calendar.start_text(),
            speed,
            dir.display()
        );
        session.live = Some(Live {
            speed,
            origin: scenario.calendar.origin(),
            now,
            checkpoint_dir: Some(dir),
            announce: (!quiet).then_some(announce),
        });
        if !quiet {
            let mut view = LiveView::new(scenario.calendar.clone());
            session.observer = Some(Box::new(move |w: &Window| view.window(w)));
        }
        // The operator's prompt on stdin: a person plays the organisations.
        let (calendar, params) = (scenario.calendar.clone(), scenario.parameters.clone());
        let department_of = Box::new(move |k| params.incident(k).department);
        session.on_handle = Some(Box::new(move |handle| {
            super::prompt::spawn(handle, calendar, department_of)
        }));
    }
    let checkpoint_dir = session.live.as_ref().and_then(|l| l.checkpoint_dir.clone());
    let reached =
        execute(&scenario, options, session, days, &out, quiet).map_err(
            |e| match &inject_file {
                Some(f) => f.name_record(e, false),
                None => e,
            },
        )?;
    if let Some(dir) = checkpoint_dir.filter(|_| reached < options.horizon && !quiet) {
        println!(
            "stopped at {} (simulated day {:.2}); its checkpoint is in {}",
            scenario
                .calendar
                .datetime(reached)
                .strftime("%Y-%m-%d %H:%M:%S"),
            reached as f64 / DAY as f64,
            dir.display()
        );
    }
    if let Some(n) = note.filter(|_| !quiet) {
        println!("{n}");
    }
    Ok(())
}

/// An inject log read from a file: its records (until the run takes them) and the line
/// each came from.
pub(super) struct InjectFile {
    path: PathBuf,
    records: Vec<InjectRecord>,
    lines: Vec<usize>,
}

impl InjectFile {
    /// The records, moved out for the run's session (the lines stay, to name a refused
    /// record).
    pub(super) fn take_records(&mut self) -> Vec<InjectRecord> {
        std::mem::take(&mut self.records)
    }

    /// On stderr (unless `quiet`): how many records fall at or after the horizon, which
    /// the run never delivers. Call it before [`Self::take_records`].
    pub(super) fn warn_after(&self, horizon: SimTime, quiet: bool) {
        let late: Vec<usize> = (self.records.iter().zip(&self.lines))
            .filter(|(r, _)| r.at >= horizon)
            .map(|(_, l)| *l)
            .collect();
        if quiet || late.is_empty() {
            return;
        }
        let n = late.len();
        eprintln!(
            "warning: {}: {n} inject{} at or after the horizon (simulated day {}) {} not delivered (first on line {})",
            self.path.display(),
            if n == 1 { "" } else { "s" },
            horizon as f64 / DAY as f64,
            if n == 1 { "is" } else { "are" },
            late[0]
        );
    }

    /// `e` with the file and line of the record it refused, when it refused one of
    /// this file's records (`fork` says which of a run's lists this file is).
    pub(super) fn name_record(&self, e: anyhow::Error, fork: bool) -> anyhow::Error {
        match e.downcast_ref::<RunError>() {
            Some(RunError::Replay {
                fork: f,
                record,
                error,
            }) if *f == fork => bad_input(anyhow::anyhow!(
                "{}: line {}: {error}",
                self.path.display(),
                self.lines.get(*record).copied().unwrap_or(0)
            )),
            _ => e,
        }
    }
}

/// Reads an inject log (a regular file of at most
/// [`INJECT_LOG`](civitas_scenarios::input::INJECT_LOG)'s 256 MiB), naming the file and
/// line of a bad record.
pub(super) fn read_injects(path: &Path) -> Result<InjectFile> {
    let text =
        civitas_scenarios::input::read_text(path, civitas_scenarios::input::INJECT_LOG).input()?;
    let read =
        read_log_lines(&text).map_err(|e| bad_input(anyhow::anyhow!("{}: {e}", path.display())))?;
    let (lines, records) = read.into_iter().unzip();
    Ok(InjectFile {
        path: path.to_path_buf(),
        records,
        lines,
    })
}

/// Runs with a session, writes summary.json, incidents.csv and injects.jsonl into
/// `out`, and prints the summary.
#[allow(clippy::disallowed_methods)] // times the run for the terminal, never for results
///
/// `no_bar` hides the progress bar (a live run prints its own lines). Returns the
/// simulated time the run reached (its horizon, or where it was stopped).
pub(super) fn execute(
    scenario: &Scenario,
    options: RunOptions,
    session: Session,
    days: u64,
    out: &Path,
    quiet: bool,
) -> Result<SimTime> {
    let live = session.live.is_some();
    let no_bar = quiet || live;
    let started = Instant::now();
    let progress = Progress::days(days, no_bar);
    let ticker = progress.clone();
    let outputs =
        runner::run_outputs_with(scenario, options, session, move |t| ticker.set(t / DAY))?;
    progress.finish();
    let wall = started.elapsed();
    let mut written = write_outputs(&outputs, out)?;
    if live {
        // A live run starts at the real time it was started: with this file (the
        // scenario and that start) its injects.jsonl replays it on the simulated clock.
        let path = out.join("scenario.toml");
        write_file(&path, scenario.to_toml())?;
        written.push(path);
    }
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
    Ok(outputs.result.horizon)
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
