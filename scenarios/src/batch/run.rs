//! Running a batch: the shard's missing runs on a pool of threads, each written
//! atomically to `runs/<id>.json`, so a killed batch resumes where it stopped.

use super::outputs::assemble;
use super::{Batch, BatchError, RunSpec, io_err};
use crate::compare::run_one;
use serde::{Deserialize, Serialize};
use std::path::Path;

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
pub(super) struct RunFile {
    pub(super) run: String,
    pub(super) point: usize,
    pub(super) replication: u32,
    pub(super) seed: u64,
    pub(super) params: Vec<f64>,
    pub(super) finals: Vec<Option<f64>>,
    pub(super) series: Vec<Vec<Option<f64>>>,
}

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
