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

use crate::compare::run_one;
use crate::file::Scenario;
use crate::kpi::{KPIS, kpi_index};
use crate::parquet_table::{Cell, ColumnKind, ParquetTable};
use crate::sensitivity::{latin_hypercube, saltelli};
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::rng::mix64;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawDesign {
    kind: DesignKind,
    #[serde(default)]
    points: Option<u32>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    path: String,
    #[serde(default)]
    values: Option<Vec<f64>>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawBatch {
    schema_version: u32,
    name: String,
    base: String,
    #[serde(default)]
    model: Option<InvestmentModel>,
    years: u32,
    master_seed: u64,
    replications: u32,
    #[serde(default)]
    kpis: Vec<String>,
    design: RawDesign,
    parameters: Vec<RawParam>,
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

fn fnv1a(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Sets `value` at dotted `path` in `table`, creating tables on the way; integers stay
/// integers where the base has one.
fn set_path(table: &mut toml::Table, path: &str, value: f64) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut t = table;
    for p in &parts[..parts.len() - 1] {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` is not a table"))?;
    }
    let key = parts[parts.len() - 1].to_string();
    let v = match t.get(&key) {
        Some(toml::Value::Integer(_)) => toml::Value::Integer(value.round() as i64),
        _ => toml::Value::Float(value),
    };
    t.insert(key, v);
    Ok(())
}

impl Batch {
    /// Reads and validates a batch file. A relative `base` path is resolved against the
    /// batch file's directory; otherwise `base` names a preset.
    pub fn from_path(path: &Path) -> Result<Batch, BatchError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| io_err(path, format!("cannot read the batch file: {e}")))?;
        Batch::from_str(&text, path)
    }

    /// Parses and validates batch text; `path` names it and anchors a relative base.
    pub fn from_str(text: &str, path: &Path) -> Result<Batch, BatchError> {
        let file = path.display().to_string();
        let invalid = |field: &str, message: String| BatchError::Invalid {
            file: file.clone(),
            field: field.to_string(),
            message,
        };
        let raw: RawBatch = toml::from_str(text).map_err(|e| {
            let field = e
                .span()
                .map(|s| {
                    format!(
                        "line {}",
                        text[..s.start.min(text.len())].lines().count().max(1)
                    )
                })
                .unwrap_or_default();
            invalid(&field, e.message().trim().to_string())
        })?;
        if raw.schema_version != BATCH_SCHEMA_VERSION {
            return Err(invalid(
                "schema_version",
                format!(
                    "this build reads schema_version {BATCH_SCHEMA_VERSION}, found {}",
                    raw.schema_version
                ),
            ));
        }
        if raw.years == 0 || raw.years > 200 {
            return Err(invalid(
                "years",
                format!(
                    "expected a whole number of years from 1 to 200, found {}",
                    raw.years
                ),
            ));
        }
        if raw.replications == 0 || raw.replications > 10_000 {
            return Err(invalid(
                "replications",
                format!(
                    "expected from 1 to 10000 replications, found {}",
                    raw.replications
                ),
            ));
        }
        if raw.parameters.is_empty() {
            return Err(invalid(
                "parameters",
                "expected at least one [[parameters]] entry to vary".into(),
            ));
        }
        // The base scenario, as a table the parameters are set in.
        let base_path = path.parent().unwrap_or(Path::new(".")).join(&raw.base);
        let base_text = if base_path.is_file() {
            std::fs::read_to_string(&base_path).map_err(|e| io_err(&base_path, e))?
        } else if let Some(p) = crate::library::preset(&raw.base) {
            p.text.to_string()
        } else {
            return Err(invalid(
                "base",
                format!("no scenario file or preset named {:?}", raw.base),
            ));
        };
        let base: toml::Table = toml::from_str(&base_text).map_err(|e| {
            invalid(
                "base",
                format!("the base scenario does not parse: {}", e.message().trim()),
            )
        })?;
        let base_scenario = Scenario::from_str(&base_text, &raw.base)
            .map_err(|e| invalid("base", e.to_string()))?;
        let model = raw.model.unwrap_or(base_scenario.model);
        let kpis: Vec<usize> = if raw.kpis.is_empty() {
            (0..KPIS.len()).collect()
        } else {
            let mut v = Vec::new();
            for (i, k) in raw.kpis.iter().enumerate() {
                let idx = kpi_index(k).ok_or_else(|| {
                    let names: Vec<&str> = KPIS.iter().map(|k| k.name).collect();
                    invalid(
                        &format!("kpis[{i}]"),
                        format!("unknown KPI {k:?}; expected one of: {}", names.join(", ")),
                    )
                })?;
                v.push(idx);
            }
            v
        };
        // Design → points in parameter space.
        let d = raw.parameters.len();
        let ranges: Result<Vec<(f64, f64)>, BatchError> = raw
            .parameters
            .iter()
            .enumerate()
            .map(|(i, p)| match (p.min, p.max) {
                (Some(a), Some(b)) if a.is_finite() && b.is_finite() && a < b => Ok((a, b)),
                (Some(a), Some(b)) => Err(invalid(
                    &format!("parameters[{i}]"),
                    format!("empty range: expected min < max, found min = {a}, max = {b}"),
                )),
                _ => Err(invalid(
                    &format!("parameters[{i}]"),
                    "expected `min` and `max` for a lhs or sobol design".into(),
                )),
            })
            .collect();
        let values = |i: usize, p: &RawParam| -> Result<Vec<f64>, BatchError> {
            match &p.values {
                Some(v) if !v.is_empty() && v.iter().all(|x| x.is_finite()) => Ok(v.clone()),
                Some(_) => Err(invalid(
                    &format!("parameters[{i}].values"),
                    "expected at least one finite value".into(),
                )),
                None => Err(invalid(
                    &format!("parameters[{i}]"),
                    "expected `values` for a grid or list design".into(),
                )),
            }
        };
        let n = raw.design.points.unwrap_or(0);
        let points: Vec<Vec<f64>> = match raw.design.kind {
            DesignKind::Grid => {
                let lists: Vec<Vec<f64>> = raw
                    .parameters
                    .iter()
                    .enumerate()
                    .map(|(i, p)| values(i, p))
                    .collect::<Result<_, _>>()?;
                let mut pts: Vec<Vec<f64>> = vec![Vec::new()];
                for l in &lists {
                    pts = pts
                        .iter()
                        .flat_map(|p| {
                            l.iter().map(move |v| {
                                let mut q = p.clone();
                                q.push(*v);
                                q
                            })
                        })
                        .collect();
                }
                pts
            }
            DesignKind::List => {
                let lists: Vec<Vec<f64>> = raw
                    .parameters
                    .iter()
                    .enumerate()
                    .map(|(i, p)| values(i, p))
                    .collect::<Result<_, _>>()?;
                let len = lists[0].len();
                if let Some(i) = lists.iter().position(|l| l.len() != len) {
                    return Err(invalid(
                        &format!("parameters[{i}].values"),
                        format!(
                            "a list design needs equally long value lists: expected {len}, found {}",
                            lists[i].len()
                        ),
                    ));
                }
                (0..len)
                    .map(|k| lists.iter().map(|l| l[k]).collect())
                    .collect()
            }
            DesignKind::Lhs | DesignKind::Sobol => {
                if n == 0 {
                    return Err(invalid(
                        "design.points",
                        "expected a design size of at least 1 (2 for sobol)".into(),
                    ));
                }
                if raw.design.kind == DesignKind::Sobol && n < 2 {
                    return Err(invalid(
                        "design.points",
                        "expected at least 2 base samples for a sobol design".into(),
                    ));
                }
                let r = ranges?;
                let unit = if raw.design.kind == DesignKind::Lhs {
                    latin_hypercube(n as usize, d, raw.master_seed)
                } else {
                    saltelli(n as usize, d, raw.master_seed)
                };
                unit.into_iter()
                    .map(|u| {
                        u.iter()
                            .zip(&r)
                            .map(|(x, (a, b))| a + x * (b - a))
                            .collect()
                    })
                    .collect()
            }
        };
        if points.is_empty() {
            return Err(invalid("design", "the design has no points".into()));
        }
        let batch = Batch {
            name: raw.name,
            hash: fnv1a(text),
            model,
            years: raw.years,
            master_seed: raw.master_seed,
            replications: raw.replications,
            kpis,
            design: raw.design.kind,
            base_points: n,
            paths: raw.parameters.iter().map(|p| p.path.clone()).collect(),
            points,
            base,
        };
        // Every path must name a scenario field that takes the values asked for.
        for (i, path) in batch.paths.iter().enumerate() {
            let mut t = batch.base.clone();
            set_path(&mut t, path, batch.points[0][i]).map_err(|m| {
                invalid(
                    &format!("parameters[{i}].path"),
                    format!("cannot set `{path}`: {m}"),
                )
            })?;
            let text = toml::to_string(&t).expect("a table serializes");
            if let Err(e) = Scenario::from_str(&text, "the base scenario") {
                return Err(invalid(
                    &format!("parameters[{i}].path"),
                    format!("`{path}` is not a valid scenario field for these values: {e}"),
                ));
            }
        }
        let runs = batch.runs();
        let mut seeds: Vec<u64> = runs.iter().map(|r| r.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        if seeds.len() != runs.len() {
            return Err(invalid(
                "master_seed",
                "two runs would share a seed; choose another master seed".into(),
            ));
        }
        Ok(batch)
    }

    /// Every run, point-major.
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut v = Vec::with_capacity(self.points.len() * self.replications as usize);
        for p in 0..self.points.len() {
            for r in 0..self.replications {
                // Below 2^63, so the seed is exact as a signed 64-bit integer in every
                // output format.
                let seed = mix64(self.master_seed ^ mix64(((p as u64) << 24) | r as u64))
                    & (i64::MAX as u64);
                v.push(RunSpec {
                    index: v.len(),
                    id: format!("p{p:06}-r{r:04}"),
                    point: p,
                    replication: r,
                    seed,
                });
            }
        }
        v
    }

    /// The scenario of point `p`.
    pub fn scenario(&self, p: usize) -> Result<Scenario, BatchError> {
        let mut t = self.base.clone();
        for (i, path) in self.paths.iter().enumerate() {
            set_path(&mut t, path, self.points[p][i]).map_err(|m| BatchError::Run {
                run: format!("point {p}"),
                message: m,
            })?;
        }
        let text = toml::to_string(&t).expect("a table serializes");
        Scenario::from_str(&text, &format!("point {p}")).map_err(|e| BatchError::Run {
            run: format!("point {p}"),
            message: e.to_string(),
        })
    }
}

/// A shard: runs `k` with `k mod n = i − 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index.
    pub i: u32,
    /// Count.
    pub n: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (a, b) = s
            .split_once('/')
            .ok_or_else(|| format!("expected i/n (for example 2/8), found {s:?}"))?;
        let (i, n): (u32, u32) = (
            a.trim()
                .parse()
                .map_err(|_| format!("expected i/n with whole numbers, found {s:?}"))?,
            b.trim()
                .parse()
                .map_err(|_| format!("expected i/n with whole numbers, found {s:?}"))?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(format!("expected 1 ≤ i ≤ n in i/n, found {s:?}"));
        }
        Ok(Shard { i, n })
    }
}

impl Shard {
    /// The whole batch.
    pub const ALL: Shard = Shard { i: 1, n: 1 };

    /// Whether run `k` belongs to this shard.
    pub fn holds(&self, k: usize) -> bool {
        k % self.n as usize == (self.i - 1) as usize
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct RunFile {
    run: String,
    point: usize,
    replication: u32,
    seed: u64,
    params: Vec<f64>,
    finals: Vec<Option<f64>>,
    series: Vec<Vec<Option<f64>>>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Writes `text` to `path` atomically: a temporary file in the same directory, then a
/// rename. A crash leaves either nothing or the whole file (and maybe a temporary file,
/// which is ignored and overwritten).
fn write_atomic(path: &Path, text: &str) -> Result<(), BatchError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// What `run_batch` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchProgress {
    /// Runs in this shard.
    pub total: usize,
    /// Already done before this invocation (resumed).
    pub skipped: usize,
    /// Run now.
    pub ran: usize,
}

/// Runs the shard's missing runs on `jobs` threads, streaming each to `out/runs/`, then
/// assembles the outputs. `progress(done, total)` is called after each run.
pub fn run_batch(
    b: &Batch,
    out: &Path,
    shard: Shard,
    jobs: usize,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<BatchProgress, BatchError> {
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|e| io_err(&runs_dir, e))?;
    let mine: Vec<RunSpec> = b
        .runs()
        .into_iter()
        .filter(|r| shard.holds(r.index))
        .collect();
    let todo: Vec<&RunSpec> = mine
        .iter()
        .filter(|r| !runs_dir.join(format!("{}.json", r.id)).is_file())
        .collect();
    let skipped = mine.len() - todo.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(skipped);
    let first_error: std::sync::Mutex<Option<BatchError>> = std::sync::Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(todo.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(spec) = todo.get(k) else { break };
                    if let Err(e) = one(b, spec, &runs_dir) {
                        first_error
                            .lock()
                            .expect("no panic while locked")
                            .get_or_insert(e);
                        break;
                    }
                    progress(
                        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                        mine.len(),
                    );
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("threads joined") {
        return Err(e);
    }
    assemble(
        b,
        out,
        &mine,
        if shard == Shard::ALL {
            None
        } else {
            Some(shard)
        },
    )?;
    Ok(BatchProgress {
        total: mine.len(),
        skipped,
        ran: todo.len(),
    })
}

fn one(b: &Batch, spec: &RunSpec, runs_dir: &Path) -> Result<(), BatchError> {
    let s = b.scenario(spec.point)?;
    let (k, _) = run_one(&s, b.model, spec.seed, b.years).map_err(|e| BatchError::Run {
        run: spec.id.clone(),
        message: e.to_string(),
    })?;
    let file = RunFile {
        run: spec.id.clone(),
        point: spec.point,
        replication: spec.replication,
        seed: spec.seed,
        params: b.points[spec.point].clone(),
        finals: b.kpis.iter().map(|&i| finite(k.finals[i])).collect(),
        series: k
            .yearly
            .iter()
            .map(|row| b.kpis.iter().map(|&i| finite(row[i])).collect())
            .collect(),
    };
    let text = serde_json::to_string(&file).expect("run file serializes");
    write_atomic(&runs_dir.join(format!("{}.json", spec.id)), &text)
}

fn cell(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

#[derive(Serialize)]
struct Manifest<'a> {
    schema_version: u32,
    name: &'a str,
    batch_hash: &'a str,
    civitas_version: &'static str,
    model: &'static str,
    years: u32,
    master_seed: u64,
    seed_rule: &'static str,
    replications: u32,
    design: DesignKind,
    base_points: u32,
    points: usize,
    runs: usize,
    shard: Option<String>,
    parameters: &'a [String],
    kpis: Vec<&'static str>,
}

/// Assembles `runs.csv`, `series.csv` and `batch.json` from the run files of `runs`
/// once all of them exist; otherwise leaves the outputs alone.
fn assemble(
    b: &Batch,
    out: &Path,
    runs: &[RunSpec],
    shard: Option<Shard>,
) -> Result<(), BatchError> {
    let runs_dir = out.join("runs");
    if runs
        .iter()
        .any(|r| !runs_dir.join(format!("{}.json", r.id)).is_file())
    {
        return Ok(());
    }
    let kpi_names: Vec<&'static str> = b.kpis.iter().map(|&i| KPIS[i].name).collect();
    let mut runs_csv = String::from("run,point,replication,seed");
    for p in &b.paths {
        let _ = write!(runs_csv, ",{p}");
    }
    for k in &kpi_names {
        let _ = write!(runs_csv, ",{k}");
    }
    runs_csv.push('\n');
    let mut series_csv = String::from("run,year");
    for k in &kpi_names {
        let _ = write!(series_csv, ",{k}");
    }
    series_csv.push('\n');
    let runs_path = out.join("runs.csv");
    let series_path = out.join("series.csv");
    let mut rw = std::io::BufWriter::new(
        std::fs::File::create(runs_path.with_extension("tmp"))
            .map_err(|e| io_err(&runs_path, e))?,
    );
    let mut sw = std::io::BufWriter::new(
        std::fs::File::create(series_path.with_extension("tmp"))
            .map_err(|e| io_err(&series_path, e))?,
    );
    use std::io::Write as _;
    rw.write_all(runs_csv.as_bytes())
        .map_err(|e| io_err(&runs_path, e))?;
    sw.write_all(series_csv.as_bytes())
        .map_err(|e| io_err(&series_path, e))?;
    let pq_err = |e: crate::parquet_table::ParquetError| BatchError::Io {
        path: out.display().to_string(),
        message: e.to_string(),
    };
    let mut cols: Vec<(String, ColumnKind)> = vec![
        ("run".into(), ColumnKind::Utf8),
        ("point".into(), ColumnKind::Int64),
        ("replication".into(), ColumnKind::Int64),
        ("seed".into(), ColumnKind::Int64),
    ];
    cols.extend(b.paths.iter().map(|p| (p.clone(), ColumnKind::Double)));
    cols.extend(
        kpi_names
            .iter()
            .map(|k| (k.to_string(), ColumnKind::Double)),
    );
    let mut runs_pq = ParquetTable::create(&out.join("runs.parquet"), &cols).map_err(pq_err)?;
    let mut scols: Vec<(String, ColumnKind)> = vec![
        ("run".into(), ColumnKind::Utf8),
        ("year".into(), ColumnKind::Int64),
    ];
    scols.extend(
        kpi_names
            .iter()
            .map(|k| (k.to_string(), ColumnKind::Double)),
    );
    let mut series_pq =
        ParquetTable::create(&out.join("series.parquet"), &scols).map_err(pq_err)?;
    for spec in runs {
        let path = runs_dir.join(format!("{}.json", spec.id));
        let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
        let f: RunFile = serde_json::from_str(&text)
            .map_err(|e| io_err(&path, format!("not a run file: {e}")))?;
        let mut line = format!("{},{},{},{}", f.run, f.point, f.replication, f.seed);
        for v in &f.params {
            let _ = write!(line, ",{v}");
        }
        for v in &f.finals {
            let _ = write!(line, ",{}", cell(*v));
        }
        line.push('\n');
        rw.write_all(line.as_bytes())
            .map_err(|e| io_err(&runs_path, e))?;
        let mut row = vec![
            Cell::Str(f.run.clone()),
            Cell::Int(f.point as i64),
            Cell::Int(f.replication as i64),
            Cell::Int(f.seed as i64),
        ];
        row.extend(f.params.iter().map(|v| Cell::Float(Some(*v))));
        row.extend(f.finals.iter().map(|v| Cell::Float(*v)));
        runs_pq.push_row(row).map_err(pq_err)?;
        for (y, values) in f.series.iter().enumerate() {
            let mut line = format!("{},{}", f.run, y + 1);
            for v in values {
                let _ = write!(line, ",{}", cell(*v));
            }
            line.push('\n');
            sw.write_all(line.as_bytes())
                .map_err(|e| io_err(&series_path, e))?;
            let mut srow = vec![Cell::Str(f.run.clone()), Cell::Int(y as i64 + 1)];
            srow.extend(values.iter().map(|v| Cell::Float(*v)));
            series_pq.push_row(srow).map_err(pq_err)?;
        }
    }
    rw.flush().map_err(|e| io_err(&runs_path, e))?;
    sw.flush().map_err(|e| io_err(&series_path, e))?;
    drop((rw, sw));
    runs_pq.finish().map_err(pq_err)?;
    series_pq.finish().map_err(pq_err)?;
    std::fs::rename(runs_path.with_extension("tmp"), &runs_path)
        .map_err(|e| io_err(&runs_path, e))?;
    std::fs::rename(series_path.with_extension("tmp"), &series_path)
        .map_err(|e| io_err(&series_path, e))?;
    let m = Manifest {
        schema_version: BATCH_SCHEMA_VERSION,
        name: &b.name,
        batch_hash: &b.hash,
        civitas_version: env!("CARGO_PKG_VERSION"),
        model: b.model.as_str(),
        years: b.years,
        master_seed: b.master_seed,
        seed_rule: "seed = mix64(master_seed ^ mix64(point << 24 | replication)) & (2^63 - 1), SplitMix64 finalizer",
        replications: b.replications,
        design: b.design,
        base_points: b.base_points,
        points: b.points.len(),
        runs: runs.len(),
        shard: shard.map(|s| format!("{}/{}", s.i, s.n)),
        parameters: &b.paths,
        kpis: kpi_names,
    };
    let mut text = serde_json::to_string_pretty(&m).expect("manifest serializes");
    text.push('\n');
    write_atomic(&out.join("batch.json"), &text)
}

/// Joins shard directories of the same batch into `out`: copies their run files and
/// assembles the outputs, which equal the unsharded batch's byte for byte.
pub fn merge(b: &Batch, dirs: &[PathBuf], out: &Path) -> Result<usize, BatchError> {
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|e| io_err(&runs_dir, e))?;
    let mut copied = 0;
    for d in dirs {
        let manifest = d.join("batch.json");
        let text = std::fs::read_to_string(&manifest)
            .map_err(|e| io_err(&manifest, format!("not a batch directory: {e}")))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| io_err(&manifest, e))?;
        if v["batch_hash"].as_str() != Some(b.hash.as_str()) {
            return Err(io_err(
                &manifest,
                format!(
                    "belongs to another batch (hash {}, expected {})",
                    v["batch_hash"], b.hash
                ),
            ));
        }
        let src = d.join("runs");
        let entries = std::fs::read_dir(&src).map_err(|e| io_err(&src, e))?;
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        for p in names {
            let target = runs_dir.join(p.file_name().expect("a file"));
            if !target.exists() {
                std::fs::copy(&p, &target).map_err(|e| io_err(&p, e))?;
                copied += 1;
            }
        }
    }
    let all = b.runs();
    let missing = all
        .iter()
        .filter(|r| !runs_dir.join(format!("{}.json", r.id)).is_file())
        .count();
    if missing > 0 {
        return Err(BatchError::Io {
            path: out.display().to_string(),
            message: format!(
                "{missing} of {} runs are missing; merge every shard",
                all.len()
            ),
        });
    }
    assemble(b, out, &all, None)?;
    Ok(copied)
}

/// Per point: mean and 95% interval over replications of each recorded KPI, as CSV.
pub fn point_summary(b: &Batch, out: &Path) -> Result<String, BatchError> {
    let runs_dir = out.join("runs");
    let mut by_point: BTreeMap<usize, Vec<Vec<Option<f64>>>> = BTreeMap::new();
    for spec in b.runs() {
        let path = runs_dir.join(format!("{}.json", spec.id));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let f: RunFile = serde_json::from_str(&text).map_err(|e| io_err(&path, e))?;
        by_point.entry(f.point).or_default().push(f.finals);
    }
    let mut o = String::from("point");
    for p in &b.paths {
        let _ = write!(o, ",{p}");
    }
    for &k in &b.kpis {
        let n = KPIS[k].name;
        let _ = write!(o, ",{n}_mean,{n}_lo,{n}_hi");
    }
    o.push('\n');
    for (p, rows) in by_point {
        let _ = write!(o, "{p}");
        for v in &b.points[p] {
            let _ = write!(o, ",{v}");
        }
        for j in 0..b.kpis.len() {
            let xs: Vec<f64> = rows.iter().filter_map(|r| r[j]).collect();
            let s = crate::kpi::stat(&xs);
            let _ = write!(
                o,
                ",{},{},{}",
                cell(finite(s.mean)),
                cell(finite(s.lo)),
                cell(finite(s.hi))
            );
        }
        o.push('\n');
    }
    Ok(o)
}

/// Mean over replications of each recorded KPI's final value, per point (None when a
/// point has no run yet or no value).
fn point_means(b: &Batch, out: &Path) -> Result<Vec<Vec<Option<f64>>>, BatchError> {
    let runs_dir = out.join("runs");
    let mut sums = vec![vec![(0.0f64, 0u32); b.kpis.len()]; b.points.len()];
    for spec in b.runs() {
        let path = runs_dir.join(format!("{}.json", spec.id));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let f: RunFile = serde_json::from_str(&text).map_err(|e| io_err(&path, e))?;
        for (j, v) in f.finals.iter().enumerate() {
            if let Some(v) = v {
                sums[f.point][j].0 += v;
                sums[f.point][j].1 += 1;
            }
        }
    }
    Ok(sums
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(s, n)| (n > 0).then(|| s / n as f64))
                .collect()
        })
        .collect())
}

/// Sensitivity of each recorded KPI to each varied parameter, as CSV: first- and
/// total-order Sobol indices with 95% bootstrap intervals for a `sobol` design
/// (`sobol.csv`), standardized regression coefficients for an `lhs` design (`src.csv`).
/// Each point's output is its mean over replications. Returns the file name and text, or
/// `None` for designs without a sensitivity method (grid, list).
pub fn sensitivity_summary(
    b: &Batch,
    out: &Path,
) -> Result<Option<(&'static str, String)>, BatchError> {
    use crate::sensitivity::{sobol_indices, standardized_regression};
    let means = point_means(b, out)?;
    let d = b.paths.len();
    let mut o = String::new();
    let name = match b.design {
        DesignKind::Sobol => {
            o.push_str("kpi,parameter,first,first_lo,first_hi,total,total_lo,total_hi,note\n");
            for (j, &k) in b.kpis.iter().enumerate() {
                let y: Option<Vec<f64>> = means.iter().map(|p| p[j]).collect();
                let result = y
                    .ok_or_else(|| "some points have no value".to_string())
                    .and_then(|y| {
                        sobol_indices(&y, b.base_points as usize, d, 200, b.master_seed)
                            .map_err(|e| e.to_string())
                    });
                for (i, p) in b.paths.iter().enumerate() {
                    match &result {
                        Ok(s) => {
                            let (f, t) = (&s.first[i], &s.total[i]);
                            let _ = writeln!(
                                o,
                                "{},{p},{},{},{},{},{},{},",
                                KPIS[k].name, f.value, f.lo, f.hi, t.value, t.lo, t.hi
                            );
                        }
                        Err(e) => {
                            let _ = writeln!(
                                o,
                                "{},{p},,,,,,,\"{}\"",
                                KPIS[k].name,
                                e.replace('"', "'")
                            );
                        }
                    }
                }
            }
            "sobol.csv"
        }
        DesignKind::Lhs => {
            o.push_str("kpi,parameter,src,note\n");
            for (j, &k) in b.kpis.iter().enumerate() {
                let rows: Vec<(Vec<f64>, f64)> = means
                    .iter()
                    .zip(&b.points)
                    .filter_map(|(m, x)| m[j].map(|y| (x.clone(), y)))
                    .collect();
                let (x, y): (Vec<Vec<f64>>, Vec<f64>) = rows.into_iter().unzip();
                let result = standardized_regression(&x, &y).map_err(|e| e.to_string());
                for (i, p) in b.paths.iter().enumerate() {
                    match &result {
                        Ok(c) => {
                            let _ = writeln!(o, "{},{p},{},", KPIS[k].name, c[i]);
                        }
                        Err(e) => {
                            let _ =
                                writeln!(o, "{},{p},,\"{}\"", KPIS[k].name, e.replace('"', "'"));
                        }
                    }
                }
            }
            "src.csv"
        }
        DesignKind::Grid | DesignKind::List => return Ok(None),
    };
    Ok(Some((name, o)))
}

/// Per point: each recorded KPI's mean and 95% interval over replications.
fn point_stats(b: &Batch, out: &Path) -> Result<Vec<Vec<crate::kpi::Stat>>, BatchError> {
    let runs_dir = out.join("runs");
    let mut vals: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); b.kpis.len()]; b.points.len()];
    for spec in b.runs() {
        let path = runs_dir.join(format!("{}.json", spec.id));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let f: RunFile = serde_json::from_str(&text).map_err(|e| io_err(&path, e))?;
        for (j, v) in f.finals.iter().enumerate() {
            if let Some(v) = v {
                vals[f.point][j].push(*v);
            }
        }
    }
    Ok(vals
        .into_iter()
        .map(|row| row.iter().map(|xs| crate::kpi::stat(xs)).collect())
        .collect())
}

/// Charts into `out/plots/`: each recorded KPI against each varied parameter (point
/// means with their 95% intervals), and for a `sobol` design each KPI's first- and
/// total-order indices as bars. Returns the files written.
pub fn write_plots(b: &Batch, out: &Path) -> Result<Vec<PathBuf>, BatchError> {
    use crate::report::{IndexBars, Scatter, write_index_bars, write_scatter};
    let dir = out.join("plots");
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    let chart_err = |e: crate::report::ReportError| BatchError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let stats = point_stats(b, out)?;
    let short = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    let mut files = Vec::new();
    for (j, &k) in b.kpis.iter().enumerate() {
        let def = &KPIS[k];
        for (i, p) in b.paths.iter().enumerate() {
            let s = Scatter {
                title: format!("{} against {}", def.name, short(p)),
                x_label: p.clone(),
                y_label: format!("{} ({})", def.name, def.unit),
                points: b
                    .points
                    .iter()
                    .zip(&stats)
                    .map(|(x, st)| (x[i], st[j]))
                    .collect(),
            };
            files.extend(
                write_scatter(&dir, &format!("{}-vs-{}", def.name, short(p)), &s)
                    .map_err(chart_err)?,
            );
        }
        if b.design == DesignKind::Sobol {
            let y: Option<Vec<f64>> = stats
                .iter()
                .map(|st| st[j].mean.is_finite().then_some(st[j].mean))
                .collect();
            let Some(y) = y else { continue };
            let Ok(ix) = crate::sensitivity::sobol_indices(
                &y,
                b.base_points as usize,
                b.paths.len(),
                200,
                b.master_seed,
            ) else {
                continue;
            };
            let bars = IndexBars {
                title: format!("Sobol indices of {}", def.name),
                inputs: b.paths.clone(),
                first: ix.first.iter().map(|e| (e.value, e.lo, e.hi)).collect(),
                total: ix.total.iter().map(|e| (e.value, e.lo, e.hi)).collect(),
            };
            files.extend(
                write_index_bars(&dir, &format!("sobol-{}", def.name), &bars).map_err(chart_err)?,
            );
        }
    }
    Ok(files)
}
