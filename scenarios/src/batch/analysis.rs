//! Analysing a finished batch: per-point means and intervals, Sobol indices or
//! standardized regression, and charts.

use super::outputs::cell;
use super::run::{RunFile, finite, run_file_paths};
use super::{Batch, BatchError, DesignKind, RunSpec, io_err};
use crate::metrics::KPIS;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Each recorded KPI's final values per point, in run order: `None` for a point none of
/// whose runs has a file yet.
type PointValues = Vec<Option<Vec<Vec<f64>>>>;

/// A batch directory's run files, read once and checked against the batch file, for
/// the summaries and charts.
#[derive(Debug, Clone)]
pub struct BatchRuns {
    values: PointValues,
    /// Run files found, of the batch's runs.
    pub present: usize,
    /// The batch's runs.
    pub total: usize,
    /// What a reader of the summaries should know (missing runs, a single shard).
    pub warnings: Vec<String>,
}

impl BatchRuns {
    /// Reads `dir/runs/`: every run file must be a run of `b` made from its inputs as
    /// they are now; a directory that does not exist or holds none of its runs is an
    /// error; missing runs and a shard's directory are warnings.
    pub fn read(b: &Batch, dir: &Path) -> Result<BatchRuns, BatchError> {
        if !dir.is_dir() {
            return Err(io_err(
                dir,
                "no such batch directory (run `civitas batch FILE --out DIR` first)",
            ));
        }
        let runs_dir = dir.join("runs");
        let specs: std::collections::BTreeMap<String, RunSpec> = b.runs_by_id();
        let mut values: PointValues = vec![None; b.points.len()];
        let mut present = 0;
        for path in run_file_paths(&runs_dir)? {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let Some(spec) = specs.get(name) else {
                return Err(io_err(
                    &path,
                    format!(
                        "not a run of batch {} (summarize with the batch file that made it)",
                        b.name
                    ),
                ));
            };
            let f = RunFile::read(&path)?;
            if let Some(why) = f.mismatch(b, spec)? {
                return Err(io_err(
                    &path,
                    format!(
                        "made from other inputs ({why}); summarize with the batch file that made it, or run the batch again with --force"
                    ),
                ));
            }
            present += 1;
            let point = values[spec.point].get_or_insert_with(|| vec![Vec::new(); b.kpis.len()]);
            for (j, v) in f.finals.iter().enumerate() {
                if let Some(v) = v {
                    point[j].push(*v);
                }
            }
        }
        let total = specs.len();
        if present == 0 {
            return Err(io_err(
                &runs_dir,
                format!("no run of batch {} here yet: run it first", b.name),
            ));
        }
        let mut warnings = Vec::new();
        if present < total {
            let short = values.iter().filter(|p| p.is_none()).count();
            warnings.push(format!(
                "{} of {total} runs have no run file yet ({short} of {} points have none): the summaries cover the {present} present; run the batch to finish, or merge its shards",
                total - present,
                b.points.len()
            ));
        }
        let manifest = dir.join("batch.json");
        if let Ok(text) = std::fs::read_to_string(&manifest)
            && let Ok(m) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(shard) = m["shard"].as_str()
        {
            warnings.push(format!(
                "{} holds shard {shard} of the batch only; merge the shards (`civitas batch merge`) to summarize the whole",
                dir.display()
            ));
        }
        Ok(BatchRuns {
            values,
            present,
            total,
            warnings,
        })
    }
}

/// Per point: mean and 95% interval over replications of each recorded KPI, as CSV.
pub fn point_summary(b: &Batch, runs: &BatchRuns) -> String {
    let values = &runs.values;
    let mut o = String::from("point");
    for p in &b.paths {
        let _ = write!(o, ",{p}");
    }
    for &k in &b.kpis {
        let n = KPIS[k].name;
        let _ = write!(o, ",{n}_mean,{n}_lo,{n}_hi");
    }
    o.push('\n');
    for (p, kpis) in values.iter().enumerate() {
        let Some(kpis) = kpis else { continue };
        let _ = write!(o, "{p}");
        for v in &b.points[p] {
            let _ = write!(o, ",{v}");
        }
        for (xs, &k) in kpis.iter().zip(&b.kpis) {
            let s = crate::stats::stat_within(xs, crate::metrics::KPIS[k].range());
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
    o
}

/// Mean over replications of each recorded KPI's final value, per point (None when a
/// point has no run yet or no value).
fn point_means(b: &Batch, runs: &BatchRuns) -> Vec<Vec<Option<f64>>> {
    runs.values
        .iter()
        .map(|kpis| match kpis {
            Some(kpis) => kpis
                .iter()
                .map(|xs| {
                    let sum = xs.iter().fold(0.0, |s, x| s + x);
                    (!xs.is_empty()).then(|| sum / xs.len() as f64)
                })
                .collect(),
            None => vec![None; b.kpis.len()],
        })
        .collect()
}

/// Sensitivity of each recorded KPI to each varied parameter, as CSV: first- and
/// total-order Sobol indices with 95% bootstrap intervals for a `sobol` design
/// (`sobol.csv`), standardized regression coefficients for an `lhs` design (`src.csv`).
/// Each point's output is its mean over replications. Returns the file name and text, or
/// `None` for designs without a sensitivity method (grid, list).
pub fn sensitivity_summary(b: &Batch, runs: &BatchRuns) -> Option<(&'static str, String)> {
    use crate::sensitivity::{sobol_indices, standardized_regression};
    let means = point_means(b, runs);
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
        DesignKind::Grid | DesignKind::List => return None,
    };
    Some((name, o))
}

/// Per point: each recorded KPI's mean and 95% interval over replications.
fn point_stats(b: &Batch, runs: &BatchRuns) -> Vec<Vec<crate::stats::Stat>> {
    runs.values
        .iter()
        .map(|kpis| match kpis {
            Some(kpis) => (kpis.iter().zip(&b.kpis))
                .map(|(xs, &k)| crate::stats::stat_within(xs, crate::metrics::KPIS[k].range()))
                .collect(),
            None => vec![crate::stats::stat(&[]); b.kpis.len()],
        })
        .collect()
}

/// Charts into `out/plots/`: each recorded KPI against each varied parameter (point
/// means with their 95% intervals), and for a `sobol` design each KPI's first- and
/// total-order indices as bars. Returns the files written.
pub fn write_plots(b: &Batch, runs: &BatchRuns, out: &Path) -> Result<Vec<PathBuf>, BatchError> {
    use crate::report::{IndexBars, Scatter, write_index_bars, write_scatter};
    let dir = out.join("plots");
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    let chart_err = |e: crate::report::ReportError| BatchError::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let stats = point_stats(b, runs);
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
