//! Running a batch: the shard's missing runs on a pool of threads, each written
//! atomically to `runs/<id>.json`, so a killed batch resumes where it stopped.

use super::outputs::assemble;
use super::{Batch, BatchError, RunSpec, io_err};
use crate::compare::run_one;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
        let range = format!("expected 1 ≤ i ≤ n ≤ {} in i/n, found {s:?}", u32::MAX);
        let whole = |t: &str| t.trim().parse::<i128>();
        match (whole(a), whole(b)) {
            (Ok(i), Ok(n)) if 1 <= i && i <= n && n <= u32::MAX as i128 => Ok(Shard {
                i: i as u32,
                n: n as u32,
            }),
            (Ok(_), Ok(_)) => Err(range),
            _ => Err(format!(
                "expected i/n with whole numbers, 1 ≤ i ≤ n ≤ {}, found {s:?}",
                u32::MAX
            )),
        }
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
pub(super) struct RunFile {
    /// [`Batch::identity`] of the inputs that made it (empty in files written before
    /// run files carried one: never reused).
    #[serde(default)]
    pub(super) identity: String,
    /// The civitas that made it.
    #[serde(default)]
    pub(super) civitas_version: String,
    pub(super) run: String,
    pub(super) point: usize,
    pub(super) replication: u32,
    pub(super) seed: u64,
    pub(super) params: Vec<f64>,
    pub(super) finals: Vec<Option<f64>>,
    pub(super) series: Vec<Vec<Option<f64>>>,
}

impl RunFile {
    /// Reads a run file.
    pub(super) fn read(path: &Path) -> Result<RunFile, BatchError> {
        let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            io_err(
                path,
                format!("not a run file ({e}); delete it and run the batch again to redo it"),
            )
        })
    }

    /// Why this file is not run `spec` of `b` (what changed), or `None` if it is.
    pub(super) fn mismatch(&self, b: &Batch, spec: &RunSpec) -> Result<Option<String>, BatchError> {
        if self.identity == b.identity(spec)? {
            return Ok(None);
        }
        let changed = |what: String| Ok(Some(what));
        if self.identity.is_empty() {
            return changed("it was made by a civitas that did not record its inputs".into());
        }
        if self.civitas_version != env!("CARGO_PKG_VERSION") {
            return changed(format!(
                "it was made by civitas {}, this is civitas {}",
                self.civitas_version,
                env!("CARGO_PKG_VERSION")
            ));
        }
        let now = &b.points[spec.point];
        if self.params.len() != now.len() {
            return changed(format!(
                "it varied {} parameters, the batch file varies {}",
                self.params.len(),
                now.len()
            ));
        }
        for ((path, was), is) in b.paths.iter().zip(&self.params).zip(now) {
            if was != is {
                return changed(format!("{path} was {was}, the batch file now says {is}"));
            }
        }
        if self.seed != spec.seed {
            return changed(format!("its seed was {}, now {}", self.seed, spec.seed));
        }
        if self.finals.len() != b.kpis.len() {
            return changed(format!(
                "it recorded {} KPIs, the batch file asks for {}",
                self.finals.len(),
                b.kpis.len()
            ));
        }
        changed("the base scenario, the model, the years or the KPIs changed".into())
    }
}

/// The run files in `runs_dir` that do not belong to `b` as it is now, each with why.
fn stale_runs(b: &Batch, runs_dir: &Path) -> Result<Vec<(PathBuf, String)>, BatchError> {
    let specs: std::collections::BTreeMap<String, RunSpec> = b.runs_by_id();
    let mut stale = Vec::new();
    for path in run_file_paths(runs_dir)? {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let Some(spec) = specs.get(name) else {
            stale.push((path, "it is not a run of this batch".to_string()));
            continue;
        };
        let why = match RunFile::read(&path) {
            Ok(f) => f.mismatch(b, spec)?,
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = why {
            stale.push((path, why));
        }
    }
    Ok(stale)
}

/// The `*.json` files of a runs directory, sorted (none if it does not exist).
pub(super) fn run_file_paths(runs_dir: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let entries = match std::fs::read_dir(runs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(runs_dir, e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// The outputs assembled from run files; stale once a run file is discarded.
const ASSEMBLED: [&str; 6] = [
    "runs.csv",
    "series.csv",
    "runs.parquet",
    "series.parquet",
    "batch.json",
    "points.csv",
];

pub(super) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Writes `text` to `path` atomically: a temporary file in the same directory, then a
/// rename. A crash leaves either nothing or the whole file (and maybe a temporary file,
/// which is ignored and overwritten).
pub(super) fn write_atomic(path: &Path, text: &str) -> Result<(), BatchError> {
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
///
/// A run file already in `out/runs/` is reused only if it was made from the same inputs
/// ([`Batch::identity`]); if any was not (the batch file changed, another civitas made
/// it, it is damaged), the batch is refused with what changed — or, with `force`, those
/// files and the outputs assembled from them are deleted first.
pub fn run_batch(
    b: &Batch,
    out: &Path,
    shard: Shard,
    jobs: usize,
    force: bool,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<BatchProgress, BatchError> {
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|e| io_err(&runs_dir, e))?;
    let stale = stale_runs(b, &runs_dir)?;
    if let Some((first, why)) = stale.first() {
        if !force {
            return Err(BatchError::Stale {
                dir: out.display().to_string(),
                count: stale.len(),
                example: first.display().to_string(),
                why: why.clone(),
            });
        }
        for (p, _) in &stale {
            std::fs::remove_file(p).map_err(|e| io_err(p, e))?;
        }
        for name in ASSEMBLED {
            let p = out.join(name);
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| io_err(&p, e))?;
            }
        }
    }
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
        identity: b.identity(spec)?,
        civitas_version: env!("CARGO_PKG_VERSION").to_string(),
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
