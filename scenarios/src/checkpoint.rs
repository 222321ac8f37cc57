//! Checkpoint files: a run's complete state at a window barrier, to resume or fork.
//!
//! A file is a magic line, one JSON header line (readable with `head -2`: schema
//! version, the civitas version that wrote it, scenario, seed, model, horizon and the
//! simulated time reached) and a binary body (postcard): the scenario as one
//! self-contained TOML text, the run options and the engine's state (every behaviour's
//! state with its random streams and timers, messages in flight, the stream folded so
//! far, the inject log). The header carries the body's length and its xxh3-64 checksum,
//! and the body carries a copy of the header's run fields: a damaged body (a flipped bit,
//! a truncation) or a header pasted onto another run's body is refused, never resumed
//! into different results. A file of another schema version is refused with a message
//! naming both versions.

use crate::file::{Scenario, ScenarioError, ScenarioErrors};
use crate::runner::{RunOptions, build_district_for};
use civitas_actors::EngineState;
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::time::SimTime;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of the checkpoint format; bump it when the state of any behaviour, the
/// engine or the header changes shape.
/// Version 2 added the body's length and checksum to the header and the run's identity
/// to the body; version 3, the engine's injects waiting for a re-entry pass; version 4, an
/// inject may be a device's alarm of a named kind (`Inject::Alarm`); version 5, finance
/// and the platforms carry the payroll of the staff they pay; version 6, devices carry
/// their service life, platforms their PPP loan, arrears and funding's end; version 7, the
/// government's bonds; version 8, a staff role for the platform's operations; version 9,
/// the government's debt service as an obligation and the platforms' interest due;
/// version 10, operators' actions (responders keyed by organisation, per-case draws and
/// arrivals, who holds each open incident in the engine's collector); version 11, the time
/// those holdings are as of; version 12, device commands (the platform's counter, the
/// buildings' outstanding commands, the collector's tallies); version 13, the operators'
/// command actions and the `expired` outcome.
pub const CHECKPOINT_SCHEMA_VERSION: u32 = 13;

const MAGIC: &str = "civitas checkpoint";

/// What the first lines of a checkpoint say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Format version.
    pub schema_version: u32,
    /// The civitas version that wrote it.
    pub civitas_version: String,
    /// Which run, at what time (written as fields of the header itself).
    #[serde(flatten)]
    pub run: RunIdentity,
    /// The body's length in bytes.
    pub body_bytes: u64,
    /// The body's xxh3-64 checksum, 16 hex digits.
    pub body_xxh3: String,
}

/// Which run a checkpoint is of and when: in the header, and repeated in the body so
/// that a header cannot be paired with another run's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunIdentity {
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

impl RunIdentity {
    /// Each field that differs, as "seed 7 in the header, 1 in the body".
    fn differences(&self, body: &RunIdentity) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |name: &str, h: String, b: String| {
            if h != b {
                out.push(format!("{name} {h} in the header, {b} in the body"));
            }
        };
        field(
            "scenario",
            format!("{:?}", self.scenario),
            format!("{:?}", body.scenario),
        );
        field("seed", self.seed.to_string(), body.seed.to_string());
        field("model", self.model.to_string(), body.model.to_string());
        field(
            "horizon",
            self.horizon.to_string(),
            body.horizon.to_string(),
        );
        field("now", self.now.to_string(), body.now.to_string());
        out
    }
}

/// The binary part: written with a borrowed engine state (`Body<&EngineState>`, no copy
/// of it), read into an owned one.
#[derive(Serialize, Deserialize)]
struct Body<E> {
    identity: RunIdentity,
    scenario_toml: String,
    workers: usize,
    engine: E,
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
    /// The body does not match the header's length and checksum, or the header names
    /// another run than the body holds.
    #[error("{path}: damaged checkpoint ({why})")]
    Damaged {
        /// The file.
        path: String,
        /// What does not match.
        why: String,
    },
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
    fn identity(&self) -> RunIdentity {
        RunIdentity {
            scenario: self.scenario.name.clone(),
            seed: self.options.seed,
            model: self.options.model,
            horizon: self.options.horizon,
            now: self.engine.now,
        }
    }

    fn body(&self) -> Vec<u8> {
        let body = Body {
            identity: self.identity(),
            scenario_toml: self.scenario.to_toml(),
            workers: self.options.workers,
            engine: &self.engine,
        };
        postcard::to_stdvec(&body).expect("a checkpoint body serializes")
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = self.body();
        let header = Header {
            schema_version: CHECKPOINT_SCHEMA_VERSION,
            civitas_version: env!("CARGO_PKG_VERSION").to_string(),
            run: self.identity(),
            body_bytes: body.len() as u64,
            body_xxh3: checksum(&body),
        };
        let header = serde_json::to_string(&header).expect("a header serializes");
        let mut out = format!("{MAGIC}\n{header}\n").into_bytes();
        out.extend_from_slice(&body);
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
        let damaged = |why: String| CheckpointError::Damaged {
            path: path.to_string(),
            why,
        };
        if body.len() as u64 != header.body_bytes {
            return Err(damaged(format!(
                "the body is {} bytes; the header says {}",
                body.len(),
                header.body_bytes
            )));
        }
        if checksum(body) != header.body_xxh3 {
            return Err(damaged("checksum mismatch".into()));
        }
        let body: Body<EngineState> =
            postcard::from_bytes(body).map_err(|e| bad(format!("body: {e}")))?;
        if header.run != body.identity {
            return Err(damaged(format!(
                "the header is of another run than the body: {}",
                header.run.differences(&body.identity).join(", ")
            )));
        }
        let scenario = Scenario::from_str(&body.scenario_toml, path)
            .map_err(|e| bad(format!("its scenario: {e}")))?;
        Ok(Checkpoint {
            scenario,
            options: RunOptions {
                seed: header.run.seed,
                horizon: header.run.horizon,
                workers: body.workers,
                model: header.run.model,
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

/// The xxh3-64 checksum of `bytes` as 16 hex digits.
fn checksum(bytes: &[u8]) -> String {
    format!("{:016x}", twox_hash::XxHash3_64::oneshot(bytes))
}

/// Why a fork cannot set `path`, for the paths that are fixed by the run itself rather
/// than by the world it built.
fn fixed_by_the_run(path: &str) -> Option<&'static str> {
    match path {
        "seed" => Some("it fixes the world; start a new run"),
        "days" => {
            Some("the checkpoint's run fixes it; give the new horizon with --days or --years")
        }
        "schema_version" => Some("it is the scenario format's version"),
        _ => None,
    }
}

impl Checkpoint {
    /// The checkpoint's scenario with `sets` applied from its moment on: a fork.
    /// A path that fixes the run (`seed`, `days`) or the world built at its start
    /// (residents, buildings, devices, staff — anything that changes the generated
    /// district) is refused by name, since the checkpointed state cannot take it.
    pub fn forked(&self, sets: &[(String, f64)]) -> Result<Scenario, ScenarioErrors> {
        let refuse = |path: &str, why: &str| {
            ScenarioErrors(vec![ScenarioError {
                file: "--set".into(),
                line: None,
                field: None,
                message: format!("{path} cannot be changed by a fork ({why})"),
            }])
        };
        if let Some((path, why)) = sets
            .iter()
            .find_map(|(p, _)| fixed_by_the_run(p).map(|w| (p, w)))
        {
            return Err(refuse(path, why));
        }
        let forked = self.scenario.with_overrides(sets)?;
        let world = |s: &Scenario| build_district_for(s, self.options.seed, self.options.model);
        let before = world(&self.scenario);
        if world(&forked) != before {
            // Name the first setting that changes the world on its own.
            let culprit = sets.iter().find(|set| {
                self.scenario
                    .with_overrides(std::slice::from_ref(set))
                    .is_ok_and(|s| world(&s) != before)
            });
            let path = culprit.map_or("the settings together", |(p, _)| p.as_str());
            return Err(refuse(
                path,
                "it changes the world built at the run's start: its residents, buildings, devices or staff; start a new run",
            ));
        }
        Ok(forked)
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
