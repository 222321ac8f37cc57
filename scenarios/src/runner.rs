//! Running a scenario: generate the world, assemble the actors, run the engine on a tokio
//! runtime with the chosen number of worker threads.

use crate::file::{Scenario, World};
use civitas_actors::engine::{Engine, EngineError, RunResult};
use civitas_actors::{Assembly, SimClock, Window};
use civitas_twin::economy::apply_model;
use civitas_twin::generate::{generate_district, single_community_district};
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::model::District;
use civitas_twin::time::{DAY, SimTime};

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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.workers.max(1))
        .enable_time()
        .build()?;
    let assembly = Assembly::build(district, &s.parameters, opts.seed, opts.model);
    let window = s.parameters.engine.window_secs;
    // The engine loop runs as a task on the runtime, beside the actors, so that with
    // one worker no window needs a wake-up across threads (measured: 3.3 s → see
    // docs/ARCHITECTURE.md for the district figures).
    let result = rt.block_on(async move {
        let task = tokio::spawn(async move {
            let engine = Engine::spawn(assembly, window, SimClock).await?;
            let mut progress = progress;
            let mut observer = |w: &Window| progress(w.end);
            engine.run(opts.horizon, &mut observer).await
        });
        task.await
            .map_err(|e| RunError::Join(e.to_string()))?
            .map_err(RunError::from)
    })?;
    Ok(result)
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
    let district = build_district_for(s, opts.seed, opts.model);
    let result = run_district(&district, s, opts, progress)?;
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
