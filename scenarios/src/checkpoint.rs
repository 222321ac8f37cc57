//! Checkpoint files: a run's complete state at a window barrier, to resume or fork.
//!
//! A file is a magic line, one JSON header line (readable with `head -2`: schema
//! version, the civitas version that wrote it, scenario, seed, model, horizon and the
//! simulated time reached) and a binary body (postcard): the scenario as one
//! self-contained TOML text, the run options and the engine's state (every behaviour's
//! state with its random streams and timers, messages in flight, the stream folded so
//! far, the inject log). A file of another schema version is refused with a message
//! naming both versions.

use crate::file::Scenario;
use crate::runner::RunOptions;
use civitas_actors::EngineState;
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::time::SimTime;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of the checkpoint format; bump it when the state of any behaviour, the
/// engine or the header changes shape.
pub const CHECKPOINT_SCHEMA_VERSION: u32 = 1;

const MAGIC: &str = "civitas checkpoint";

/// What the first lines of a checkpoint say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Format version.
    pub schema_version: u32,
    /// The civitas version that wrote it.
    pub civitas_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Investment model.
    pub model: InvestmentModel,
    /// The run's horizon (s).
    pub horizon: SimTime,
    /// Simulated time reached (s).
    pub now: SimTime,
}

#[derive(Serialize, Deserialize)]
struct Body {
    scenario_toml: String,
    workers: usize,
    engine: EngineState,
}

/// A run at a window barrier.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The scenario it runs.
    pub scenario: Scenario,
    /// Seed, horizon, model and workers.
    pub options: RunOptions,
    /// The engine's state.
    pub engine: EngineState,
}

/// Why a checkpoint could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not a regular file, too large, or unreadable.
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// Not a checkpoint, or damaged.
    #[error("{path}: not a civitas checkpoint ({why})")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// Written by a build with another format.
    #[error(
        "{path}: checkpoint schema_version {found} (written by civitas {by}); this build (civitas {this}) reads schema_version {expected}: resume it with the version that wrote it"
    )]
    Version {
        /// The file.
        path: String,
        /// Its version.
        found: u32,
        /// The version this build reads.
        expected: u32,
        /// The civitas version that wrote it.
        by: String,
        /// This build's version.
        this: String,
    },
}

impl Checkpoint {
    /// The header this checkpoint is written with.
    pub fn header(&self) -> Header {
        Header {
            schema_version: CHECKPOINT_SCHEMA_VERSION,
            civitas_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: self.scenario.name.clone(),
            seed: self.options.seed,
            model: self.options.model,
            horizon: self.options.horizon,
            now: self.engine.now,
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_string(&self.header()).expect("a header serializes");
        let mut out = format!("{MAGIC}\n{header}\n").into_bytes();
        let body = Body {
            scenario_toml: self.scenario.to_toml(),
            workers: self.options.workers,
            engine: self.engine.clone(),
        };
        postcard::to_io(&body, &mut out).expect("a checkpoint body serializes");
        out
    }

    /// Reads a checkpoint from its bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<Checkpoint, CheckpointError> {
        let bad = |why: String| CheckpointError::Malformed {
            path: path.to_string(),
            why,
        };
        let mut lines = bytes.splitn(3, |&b| b == b'\n');
        if lines.next() != Some(MAGIC.as_bytes()) {
            return Err(bad(format!("it does not start with {MAGIC:?}")));
        }
        let header = lines.next().ok_or_else(|| bad("no header line".into()))?;
        // Read the version alone first, so a newer header shape is still reported as a
        // version mismatch.
        #[derive(Deserialize)]
        struct Versions {
            schema_version: u32,
            #[serde(default)]
            civitas_version: String,
        }
        let v: Versions =
            serde_json::from_slice(header).map_err(|e| bad(format!("header: {e}")))?;
        if v.schema_version != CHECKPOINT_SCHEMA_VERSION {
            return Err(CheckpointError::Version {
                path: path.to_string(),
                found: v.schema_version,
                expected: CHECKPOINT_SCHEMA_VERSION,
                by: v.civitas_version,
                this: env!("CARGO_PKG_VERSION").to_string(),
            });
        }
        let header: Header =
            serde_json::from_slice(header).map_err(|e| bad(format!("header: {e}")))?;
        let body = lines.next().ok_or_else(|| bad("no body".into()))?;
        let body: Body = postcard::from_bytes(body).map_err(|e| bad(format!("body: {e}")))?;
        let scenario = Scenario::from_str(&body.scenario_toml, path)
            .map_err(|e| bad(format!("its scenario: {e}")))?;
        Ok(Checkpoint {
            scenario,
            options: RunOptions {
                seed: header.seed,
                horizon: header.horizon,
                workers: body.workers,
                model: header.model,
            },
            engine: body.engine,
        })
    }

    /// Writes the checkpoint to `path` atomically (a temporary file, then a rename).
    pub fn write(&self, path: &Path) -> Result<(), CheckpointError> {
        let io = |source| CheckpointError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a checkpoint file: a regular file of at most
    /// [`CHECKPOINT_FILE`](crate::input::CHECKPOINT_FILE)'s 16 GiB.
    pub fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let name = path.display().to_string();
        let bytes = crate::input::read_bytes(path, crate::input::CHECKPOINT_FILE)?;
        Checkpoint::from_bytes(&bytes, &name)
    }
}

/// The file name of the checkpoint at simulated time `now`.
pub fn file_name(now: SimTime) -> String {
    use civitas_twin::time::DAY;
    if now.is_multiple_of(DAY) {
        format!("checkpoint-day-{:05}.ckpt", now / DAY)
    } else {
        format!("checkpoint-second-{now:010}.ckpt")
    }
}
