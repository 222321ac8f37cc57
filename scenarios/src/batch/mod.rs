//! Researchers' batches: parameter sweeps × replications, run in parallel, streamed to
//! disk, resumable, and shardable over machines.
//!
//! A batch file names a base scenario, the parameters to vary (any scenario field by its
//! dotted path), a design (full grid, explicit list, Latin hypercube, or Saltelli's
//! scheme for Sobol indices), replications per point with seeds derived from one master
//! seed, the horizon and the KPIs to record. Each finished run is written atomically to
//! `runs/<id>.json` (write to a temporary name, then rename), so a batch killed at any
//! moment and started again skips what is done and redoes what was half written. When
//! every run of a batch (or of a shard) is present, `runs.csv`, `series.csv` and the
//! `batch.json` manifest are assembled from the run files in run order, one file at a
//! time: memory does not grow with the number of runs, and the same batch gives the
//! same bytes. `--shard i/n` takes runs `k` with `k mod n = i − 1`; merging the shards'
//! run files gives the unsharded outputs byte for byte.
//!
//! - [`file`]: reading and validating a batch file, its design and the runs' seeds;
//! - [`run`]: running a shard's missing runs, each streamed atomically to its run file;
//! - [`outputs`]: assembling `runs.*`, `series.*` and `batch.json`, and merging shards;
//! - [`analysis`]: per-point summaries, sensitivity indices and charts.

mod analysis;
pub(crate) mod file;
mod outputs;
mod run;

pub use analysis::{BatchRuns, point_summary, sensitivity_summary, write_plots};
pub use file::{DEFAULT_MAX_RUNS, MAX_RUNS_CEILING};
pub use outputs::merge;
pub use run::{BatchProgress, Shard, run_batch};

use civitas_twin::kinds::InvestmentModel;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of the batch file format and of the result files.
pub const BATCH_SCHEMA_VERSION: u32 = 1;

/// A problem with a batch file or a batch directory (recoverable: fix and rerun).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The batch file is malformed or inconsistent.
    #[error("{file}: {field}: {message}")]
    Invalid {
        /// The batch file.
        file: String,
        /// The field (dotted path).
        field: String,
        /// What was expected.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// `batch merge` was given a directory that is not a shard of this batch, or
    /// shards that do not hold every run (bad input; nothing was written).
    #[error("{path}: {message}")]
    Merge {
        /// The directory.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The output directory holds run files made from other inputs.
    #[error(
        "{dir}: {count} run file(s) there were made from other inputs ({example}: {why}); use a new --out, or --force to discard them"
    )]
    Stale {
        /// The output directory.
        dir: String,
        /// How many run files do not match.
        count: usize,
        /// The first of them.
        example: String,
        /// What changed for it.
        why: String,
    },
    /// A file it names is not a regular file, too large, or unreadable.
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// A run failed (a bug or resource exhaustion; the run is not recorded).
    #[error("run {run}: {message}")]
    Run {
        /// Run id.
        run: String,
        /// What went wrong.
        message: String,
    },
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> BatchError {
    BatchError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Experimental designs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DesignKind {
    /// Every combination of each parameter's `values`.
    Grid,
    /// The i-th value of every parameter's `values` (equal lengths).
    List,
    /// `points` Latin-hypercube points within each parameter's `min`..`max`.
    Lhs,
    /// Saltelli's scheme with `points` base samples: `points × (d + 2)` points.
    Sobol,
}

/// A validated batch.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Name.
    pub name: String,
    /// Hash of the batch file's text (FNV-1a 64, hex): identifies the batch.
    pub hash: String,
    /// Investment model of every run.
    pub model: InvestmentModel,
    /// Years per run.
    pub years: u32,
    /// Master seed.
    pub master_seed: u64,
    /// Replications per point.
    pub replications: u32,
    /// KPIs recorded, as indices into [`KPIS`].
    pub kpis: Vec<usize>,
    /// Design.
    pub design: DesignKind,
    /// Base samples for `lhs`/`sobol`.
    pub base_points: u32,
    /// Varied parameter paths.
    pub paths: Vec<String>,
    /// Parameter values per point.
    pub points: Vec<Vec<f64>>,
    base: toml::Table,
    /// Per point, its identity without the seed ([`Batch::identity`]), once computed.
    point_digests: Vec<std::sync::OnceLock<u64>>,
}

/// One run of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the batch (point-major).
    pub index: usize,
    /// Id, also the run file's name.
    pub id: String,
    /// Point.
    pub point: usize,
    /// Replication.
    pub replication: u32,
    /// Seed, derived from the master seed, the point and the replication.
    pub seed: u64,
}
