//! civitas-scenarios: scenario files, the preset library, the runner and its result files.
//!
//! - [`file`](mod@file): reading a scenario file (TOML) into a validated [`file::Scenario`], with
//!   errors that name the file, line and field and say what was expected;
//! - [`input`]: reading outside files within a size limit, regular files only;
//! - [`library`]: the presets in `scenarios/library/`, embedded in the binary;
//! - [`memory`]: a run's peak memory estimated from the world's size, checked against
//!   what the machine has;
//! - [`runner`]: building the world and running the engine on a tokio runtime with a
//!   chosen number of worker threads, on the simulated clock or live;
//! - [`latency`]: the live engine's inject → detected latency (`civitas bench --live`);
//! - [`metrics`]: the registry of named metrics — one computation per name, shared by
//!   `summary.json`, the comparison and batches;
//! - [`summary`]: the results of one run ([`summary::Summary`], written as
//!   `summary.json`) and the per-incident table (`incidents.csv`);
//! - [`kpi`]: the yearly metrics of one run under an investment model, from its ledger,
//!   yearly reports and incidents; [`stats`]: means and 95% intervals over replicates;
//! - [`compare`]: the planners' comparison of investment models over seeds;
//!   [`report`]: its charts and report, and the batch summary's charts;
//! - [`batch`]: researchers' sweeps × replications, resumable and sharded;
//!   [`sensitivity`]: designs and sensitivity indices; [`parquet_table`]: the Parquet
//!   writer of batch tables.

pub mod batch;
pub mod checkpoint;
pub mod compare;
pub mod file;
pub mod input;
pub mod kpi;
pub mod latency;
pub mod library;
pub mod memory;
pub mod metrics;
pub mod parquet_table;
pub mod report;
pub mod runner;
pub mod sensitivity;
pub mod stats;
pub mod summary;

pub use file::{Scenario, ScenarioError, World};
pub use runner::{RunOptions, run};
pub use summary::{SCHEMA_VERSION, Summary};
