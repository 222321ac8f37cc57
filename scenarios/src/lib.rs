//! civitas-scenarios: scenario files, the preset library, the runner and its result files.
//!
//! - [`file`](mod@file): reading a scenario file (TOML) into a validated [`file::Scenario`], with
//!   errors that name the file, line and field and say what was expected;
//! - [`library`]: the presets in `scenarios/library/`, embedded in the binary;
//! - [`runner`]: building the world and running the engine on a tokio runtime with a
//!   chosen number of worker threads;
//! - [`summary`]: the KPIs of one run ([`summary::Summary`], written as `summary.json`)
//!   and the per-incident table (`incidents.csv`).

pub mod assumptions;
pub mod batch;
pub mod compare;
pub mod file;
pub mod kpi;
pub mod library;
pub mod parquet_table;
pub mod report;
pub mod runner;
pub mod sensitivity;
pub mod summary;

pub use file::{Scenario, ScenarioError, World};
pub use runner::{RunOptions, run};
pub use summary::{SCHEMA_VERSION, Summary};
