//! Running a scenario: generate the world, assemble the actors, run the engine on a tokio
//! runtime with the chosen number of worker threads.

use crate::checkpoint::{self, Checkpoint};
use crate::file::{Scenario, World};
use civitas_actors::engine::{Engine, EngineError, RunResult};
use civitas_actors::{
    Assembly, Clock, EngineHandle, EngineState, FailurePolicy, InjectError, InjectRecord, SimClock,
    WallClock, Window,
};
use civitas_twin::economy::apply_model;
use civitas_twin::generate::{generate_district, single_community_district};
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::model::District;
use civitas_twin::time::{DAY, SimTime};
use civitas_twin::vocab::events::StreamRun;
use std::io::Write;
use std::path::PathBuf;

/// How to run a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Seed for the world and every entity stream.
    pub seed: u64,
    /// Simulated horizon (s).
    pub horizon: SimTime,
    /// tokio worker threads.
    pub workers: usize,
    /// Investment and operation model.
    pub model: InvestmentModel,
}

impl RunOptions {
    /// The scenario's own seed and horizon, on `workers` threads.
    pub fn from_scenario(s: &Scenario, workers: usize) -> Self {
        RunOptions {
            seed: s.seed,
            horizon: s.days as SimTime * DAY,
            workers,
            model: s.model,
        }
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The tokio runtime could not be built (fatal; usually out of threads).
    #[error("cannot start the runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// The engine stopped (fatal; see the inner error).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The engine task panicked (fatal; a bug).
    #[error("the engine task failed: {0}")]
    Join(String),
    /// An inject was refused (a log that does not fit this run, or a fork's inject for
    /// a past time).
    #[error(transparent)]
    Inject(#[from] InjectError),
    /// A record of the replayed inject log (`fork: false`) or of a fork's injects
    /// (`fork: true`) was refused; `record` counts from 0 in its list.
    #[error("inject record {}: {error}", record + 1)]
    Replay {
        /// Which list.
        fork: bool,
        /// Its index in the list.
        record: usize,
        /// Why.
        error: InjectError,
    },
    /// A checkpoint could not be written.
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// The observe stream could not be written.
    #[error("cannot write the event stream: {0}")]
    Events(std::io::Error),
}

/// Builds the district a scenario describes, with devices invested as its model says.
pub fn build_district(s: &Scenario, seed: u64) -> District {
    build_district_for(s, seed, s.model)
}

/// Builds the district a scenario describes as planned, before any investment model
/// decides who pays for (and whether to deploy) each device.
pub fn build_plan(s: &Scenario, seed: u64) -> District {
    match &s.world {
        World::Community(c) => single_community_district(c, &s.parameters, seed),
        World::District(d) => generate_district(d, &s.parameters, seed),
    }
}

/// Builds the district a scenario describes under investment model `model`.
pub fn build_district_for(s: &Scenario, seed: u64, model: InvestmentModel) -> District {
    let mut d = build_plan(s, seed);
    for c in &mut d.communities {
        apply_model(c, model, &s.parameters);
    }
    d
}

/// Runs `s` with `opts`, calling `progress(simulated_now)` after each window.
pub fn run(
    s: &Scenario,
    opts: RunOptions,
    progress: impl FnMut(SimTime) + Send + 'static,
) -> Result<RunResult, RunError> {
    let district = build_district_for(s, opts.seed, opts.model);
    run_district(&district, s, opts, progress)
}

/// Runs an already built district.
pub fn run_district(
    district: &District,
    s: &Scenario,
    opts: RunOptions,
    progress: impl FnMut(SimTime) + Send + 'static,
) -> Result<RunResult, RunError> {
    run_session(district, s, opts, Session::default(), progress)
}

/// What a run does besides simulating: replay an inject log, carry on from a checkpoint,
/// write checkpoints, write the observe stream.
#[derive(Default)]
pub struct Session {
    /// An inject log to replay (from `injects.jsonl` of an earlier run, or written by
    /// hand in that format).
    pub injects: Vec<InjectRecord>,
    /// Injects added to a resumed run (a fork's what-if), each under its record's
    /// source name (registered after the checkpoint's own sources; the records' source
    /// ids and sequence numbers are not used).
    pub fork_injects: Vec<InjectRecord>,
    /// Carry on from this state (of a checkpoint of the same scenario).
    pub resume: Option<EngineState>,
    /// Write a checkpoint every so many seconds (at multiples of it) into this directory.
    pub checkpoints: Option<(SimTime, PathBuf)>,
    /// Write every window of the observe stream here, one JSON line each.
    pub events: Option<Box<dyn Write + Send>>,
    /// Called with every window, on the engine's task (keep it cheap).
    pub observer: Option<WindowCallback>,
    /// Run on the wall clock instead of the simulated one.
    pub live: Option<Live>,
    /// Called once, on the run's runtime, with the engine's handle before a live run
    /// starts: where a person's tools (the terminal prompt) attach.
    pub on_handle: Option<HandleCallback>,
}

/// A function given a live engine's handle.
pub type HandleCallback = Box<dyn FnOnce(EngineHandle) + Send>;

/// A function called with each window of a run.
pub type WindowCallback = Box<dyn FnMut(&Window) + Send>;

/// A run on the wall clock: simulated time 0 is the real instant `origin` (the
/// scenario's start), the run is started at the real instant `now`, and simulated time
/// passes `speed` times as fast as real time. On Ctrl-C (SIGINT) a checkpoint is written
/// into `checkpoint_dir` and the run stops there, writing its results as of that moment.
#[derive(Debug, Clone)]
pub struct Live {
    /// Simulated seconds per real second.
    pub speed: f64,
    /// The real instant of simulated time 0.
    pub origin: std::time::SystemTime,
    /// The real instant the run starts at.
    pub now: std::time::SystemTime,
    /// Where Ctrl-C writes its checkpoint; `None` leaves Ctrl-C to the process.
    pub checkpoint_dir: Option<PathBuf>,
    /// A line for stderr once Ctrl-C is handled (so a person, or a test, knows that
    /// Ctrl-C from then on checkpoints and stops).
    pub announce: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("injects", &self.injects.len())
            .field("resume", &self.resume.as_ref().map(|e| e.now))
            .field("checkpoints", &self.checkpoints)
            .field("events", &self.events.is_some())
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

/// Runs an already built district with a [`Session`].
pub fn run_session(
    district: &District,
    s: &Scenario,
    opts: RunOptions,
    mut session: Session,
    progress: impl FnMut(SimTime) + Send + 'static,
) -> Result<RunResult, RunError> {
    let rt = runtime(opts.workers, session.live.is_some())?;
    let assembly = Assembly::build_at(district, &s.parameters, &s.calendar, opts.seed, opts.model);
    let window = s.parameters.engine.window_secs;
    let scenario = s.clone();
    // The engine loop runs as a task on the runtime, beside the actors, so that with
    // one worker no window needs a wake-up across threads (measured: 3.3 s → see
    // docs/ARCHITECTURE.md for the district figures). The same loop drives the simulated
    // clock and the wall clock.
    let result = rt.block_on(async move {
        let task = tokio::spawn(async move {
            match session.live.clone() {
                None => {
                    let engine = match session.resume.take() {
                        None => Engine::spawn(assembly, window, SimClock).await?,
                        Some(state) => Engine::restore(assembly, state, SimClock).await?,
                    };
                    drive(engine, &scenario, opts, session, progress, false).await
                }
                Some(live) => {
                    let clock = WallClock::starting_at(live.origin, live.now, live.speed);
                    let mut engine = match session.resume.take() {
                        None => Engine::spawn(assembly, window, clock).await?,
                        Some(state) => Engine::restore(assembly, state, clock).await?,
                    };
                    // A live run keeps going when one behaviour fails.
                    engine.on_failure(FailurePolicy::Isolate);
                    if let Some(dir) = live.checkpoint_dir {
                        stop_on_ctrl_c(engine.handle(), scenario.clone(), opts, dir)?;
                    }
                    if let Some(line) = &live.announce {
                        eprintln!("{line}");
                    }
                    if let Some(attach) = session.on_handle.take() {
                        attach(engine.handle());
                    }
                    drive(engine, &scenario, opts, session, progress, true).await
                }
            }
        });
        task.await.map_err(|e| RunError::Join(e.to_string()))?
    })?;
    Ok(result)
}

/// On Ctrl-C: a checkpoint into `dir` (named by the simulated time reached), then stop.
/// The handler is installed before this returns.
fn stop_on_ctrl_c(
    handle: EngineHandle,
    scenario: Scenario,
    opts: RunOptions,
    dir: PathBuf,
) -> Result<(), RunError> {
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    tokio::spawn(async move {
        if sigint.recv().await.is_none() {
            return;
        }
        if let Ok(engine) = handle.checkpoint().await {
            let path = dir.join(checkpoint::file_name(engine.now));
            let ck = Checkpoint {
                scenario,
                options: opts,
                engine,
            };
            if let Err(e) = std::fs::create_dir_all(&dir)
                .map_err(|e| e.to_string())
                .and_then(|()| ck.write(&path).map_err(|e| e.to_string()))
            {
                eprintln!("error: the checkpoint on Ctrl-C could not be written: {e}");
            }
        }
        let _ = handle.stop().await;
    });
    Ok(())
}

/// Runs an engine to the session's horizon on whatever clock it has: replays the
/// session's injects, writes checkpoints and the event stream, calls the observers.
async fn drive<C: Clock>(
    mut engine: Engine<C>,
    scenario: &Scenario,
    opts: RunOptions,
    session: Session,
    progress: impl FnMut(SimTime) + Send + 'static,
    flush_each_window: bool,
) -> Result<RunResult, RunError> {
    let Session {
        injects,
        fork_injects,
        checkpoints,
        mut events,
        mut observer,
        ..
    } = session;
    for (record, r) in injects.iter().enumerate() {
        engine
            .replay(std::slice::from_ref(r))
            .map_err(|error| RunError::Replay {
                fork: false,
                record,
                error,
            })?;
    }
    for (record, r) in fork_injects.into_iter().enumerate() {
        let source = engine.source(&r.source_name);
        engine
            .inject(source, r.at, r.to, r.inject)
            .map_err(|error| RunError::Replay {
                fork: true,
                record,
                error,
            })?;
    }
    let mut progress = progress;
    let mut failed_write: Option<std::io::Error> = None;
    if let Some(out) = events.as_mut() {
        // The stream's first line says what it is and its version.
        let header = civitas_twin::vocab::events::stream_header_with(&StreamRun {
            scenario_toml: scenario.to_toml(),
            seed: opts.seed,
            model: opts.model,
        });
        if let Err(e) = writeln!(out, "{header}") {
            failed_write = Some(e);
        }
    }
    let mut observer = |w: &Window| {
        progress(w.end);
        if let Some(o) = observer.as_mut() {
            o(w);
        }
        if let Some(out) = events.as_mut()
            && failed_write.is_none()
            && let Err(e) = serde_json::to_writer(&mut *out, w)
                .map_err(std::io::Error::from)
                .and_then(|_| out.write_all(b"\n"))
                // A live stream is read as it comes: each window is flushed.
                .and_then(|_| {
                    if flush_each_window {
                        out.flush()
                    } else {
                        Ok(())
                    }
                })
        {
            failed_write = Some(e);
        }
    };
    let horizon = opts.horizon;
    if let Some((every, dir)) = checkpoints.filter(|(e, _)| *e > 0) {
        let mut next = (engine.now() / every + 1) * every;
        while next < horizon && !engine.stopped() {
            engine.step_until(next, &mut observer).await?;
            if engine.stopped() {
                break;
            }
            let ck = Checkpoint {
                scenario: scenario.clone(),
                options: opts,
                engine: engine.checkpoint().await?,
            };
            ck.write(&dir.join(checkpoint::file_name(engine.now())))?;
            next += every;
        }
    }
    let result = engine.run(horizon, &mut observer).await?;
    if let Some(e) = failed_write {
        return Err(RunError::Events(e));
    }
    if let Some(out) = events.as_mut() {
        out.flush().map_err(RunError::Events)?;
    }
    Ok(result)
}

/// The runtime for `workers` threads. One worker is a current-thread runtime: the engine
/// and every host then run on the calling thread, so a window's messages and replies
/// never wake another thread (measured in `docs/PERFORMANCE.md`).
/// A live run also gets the I/O driver, which Ctrl-C handling needs.
fn runtime(workers: usize, live: bool) -> std::io::Result<tokio::runtime::Runtime> {
    let mut b = if workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(workers);
        b
    };
    b.enable_time();
    if live {
        b.enable_io();
    }
    b.build()
}

/// A run's result files, ready to write.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The KPIs (`summary.json`).
    pub summary: crate::summary::Summary,
    /// The incident table (`incidents.csv`), as bytes.
    pub incidents_csv: Vec<u8>,
    /// The raw result.
    pub result: RunResult,
}

/// Runs `s` and produces its result files.
pub fn run_outputs(
    s: &Scenario,
    opts: RunOptions,
    progress: impl FnMut(SimTime) + Send + 'static,
) -> Result<Outputs, RunError> {
    run_outputs_with(s, opts, Session::default(), progress)
}

/// Runs `s` with a [`Session`] and produces its result files.
pub fn run_outputs_with(
    s: &Scenario,
    opts: RunOptions,
    session: Session,
    progress: impl FnMut(SimTime) + Send + 'static,
) -> Result<Outputs, RunError> {
    let district = build_district_for(s, opts.seed, opts.model);
    let result = run_session(&district, s, opts, session, progress)?;
    let summary = crate::summary::Summary::from_run(
        &s.name,
        opts.seed,
        district.communities.len() as u64,
        district.residents() as u64,
        &s.parameters,
        &result,
    );
    let mut incidents_csv = Vec::new();
    crate::summary::write_incidents_csv(&mut incidents_csv, &result.incidents)
        .expect("writing CSV to memory cannot fail");
    Ok(Outputs {
        summary,
        incidents_csv,
        result,
    })
}
