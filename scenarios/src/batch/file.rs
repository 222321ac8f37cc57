//! Reading a batch file: validation with errors naming the file and field, the design's
//! points, and each run's seed from the master seed.

use super::{BATCH_SCHEMA_VERSION, Batch, BatchError, DesignKind, RunSpec, io_err};
use crate::file::Scenario;
use crate::metrics::{KPIS, kpi_index};
use crate::sensitivity::{latin_hypercube, saltelli};
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::rng::mix64;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::OnceLock;

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
    /// Raises the limit on the number of runs ([`DEFAULT_MAX_RUNS`]), up to
    /// [`MAX_RUNS_CEILING`].
    #[serde(default)]
    max_runs: Option<u64>,
}

/// The most runs (points × replications) a batch may have unless its file sets
/// `max_runs`: 100,000 runs of the default community's year take about a day on 2 cores.
pub const DEFAULT_MAX_RUNS: u64 = 100_000;

/// The most runs a batch may have at all, whatever its `max_runs`: the design's points
/// and its runs' list are held in memory, about 0.3 KB a run (a 1,000 × 1,000 grid
/// peaked at 300 MB before its first run, measured in `docs/guide-researcher.md`); a
/// larger study is several batch files.
pub const MAX_RUNS_CEILING: u64 = 1_000_000;

/// `n` with thousands separators: 1,000,000.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fnv1a(text: &str) -> String {
    format!("{:016x}", fnv1a_u64(text))
}

fn fnv1a_u64(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Sets `value` at dotted `path` in `table`, creating tables on the way; integers stay
/// integers where the base has one.
pub(crate) fn set_path(table: &mut toml::Table, path: &str, value: f64) -> Result<(), String> {
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

/// Designs of at most this many points have every point validated as a whole before the
/// first run (a point is a scenario read, about a millisecond); larger designs have every
/// value validated on its own, and a point whose values conflict with each other fails
/// when it is run, named by its values.
const WHOLE_POINTS_CHECKED: usize = 2_000;

/// A scenario's errors without the lines of the generated text they were found in
/// (nobody sees that text): each error's field and message, the field left out when it
/// is one of `paths` (the value's position already names it).
fn field_errors(e: &crate::file::ScenarioErrors, paths: &[&str]) -> String {
    let why: Vec<String> =
        e.0.iter()
            .map(|e| match &e.field {
                Some(f) if !paths.contains(&f.as_str()) => format!("{f}: {}", e.message),
                _ => e.message.clone(),
            })
            .collect();
    why.join("; ")
}

/// The value at dotted `path` in `table`, if there is one.
fn value_at<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = path.split('.');
    let mut v = table.get(parts.next()?)?;
    for p in parts {
        v = v.as_table()?.get(p)?;
    }
    Some(v)
}

impl Batch {
    /// Reads and validates a batch file. A relative `base` path is resolved against the
    /// batch file's directory; otherwise `base` names a preset.
    pub fn from_path(path: &Path) -> Result<Batch, BatchError> {
        let text =
            crate::input::read_text(path, crate::input::BATCH_FILE).map_err(|e| match e {
                crate::input::InputError::Io { message, .. } => {
                    io_err(path, format!("cannot read the batch file: {message}"))
                }
                e => BatchError::Input(e),
            })?;
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
        for (j, p) in raw.parameters.iter().enumerate() {
            if let Some(i) = raw.parameters[..j].iter().position(|q| q.path == p.path) {
                return Err(invalid(
                    &format!("parameters[{j}].path"),
                    format!(
                        "`{}` is already varied by parameters[{i}]; each path may be varied once",
                        p.path
                    ),
                ));
            }
        }
        // The base scenario, as a table the parameters are set in.
        let base_path = path.parent().unwrap_or(Path::new(".")).join(&raw.base);
        let base_text = if base_path.exists() && !base_path.is_dir() {
            crate::input::read_text(&base_path, crate::input::SCENARIO_FILE)?
        } else if let Some(p) = crate::library::preset(&raw.base) {
            p.text.to_string()
        } else {
            return Err(invalid(
                "base",
                format!(
                    "{:?} is {}",
                    raw.base,
                    crate::library::neither_file_nor_preset()
                ),
            ));
        };
        let base_scenario = Scenario::from_str(&base_text, &raw.base)
            .map_err(|e| invalid("base", e.to_string()))?;
        // The base resolved and written out whole (its `extends` applied, every
        // parameter explicit), so each field has its real type: integers stay integers.
        let base: toml::Table =
            toml::from_str(&base_scenario.to_toml()).expect("a written scenario reads back");
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
        // The design's size is checked before any point is made: `points` is the number
        // of points (`None` if it overflows 64 bits).
        let max_runs = match raw.max_runs {
            None => DEFAULT_MAX_RUNS,
            Some(m) if (1..=MAX_RUNS_CEILING).contains(&m) => m,
            Some(m) => {
                return Err(invalid(
                    "max_runs",
                    format!(
                        "expected from 1 to {} runs, found {}",
                        grouped(MAX_RUNS_CEILING),
                        grouped(m)
                    ),
                ));
            }
        };
        let check_size = |points: Option<u64>| -> Result<(), BatchError> {
            let runs = points.and_then(|p| p.checked_mul(raw.replications as u64));
            let size = match (points, runs) {
                (Some(p), Some(r)) => format!(
                    "{} points × {} replications = {} runs",
                    grouped(p),
                    raw.replications,
                    grouped(r)
                ),
                _ => "more than 2^64 runs".to_string(),
            };
            match runs {
                Some(r) if r <= max_runs => Ok(()),
                Some(r) if r <= MAX_RUNS_CEILING => Err(invalid(
                    "design",
                    format!(
                        "the design has {size}, over the limit of {} runs; set `max_runs = {r}` in the batch file to run it",
                        grouped(max_runs)
                    ),
                )),
                _ => Err(invalid(
                    "design",
                    format!(
                        "the design has {size}, over the most a batch may have ({} runs, even with `max_runs`); split the study into several batch files",
                        grouped(MAX_RUNS_CEILING)
                    ),
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
                check_size(
                    lists
                        .iter()
                        .try_fold(1u64, |acc, l| acc.checked_mul(l.len() as u64)),
                )?;
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
                check_size(Some(len as u64))?;
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
                check_size(if raw.design.kind == DesignKind::Lhs {
                    Some(n as u64)
                } else {
                    (n as u64).checked_mul(d as u64 + 2)
                })?;
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
        // An integer field takes integers: every design's values are rounded to the
        // nearest integer (half away from zero) and recorded rounded.
        let mut points = points;
        for (i, p) in raw.parameters.iter().enumerate() {
            if matches!(value_at(&base, &p.path), Some(toml::Value::Integer(_))) {
                for x in &mut points {
                    x[i] = x[i].round();
                }
            }
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
            point_digests: (0..points.len()).map(|_| OnceLock::new()).collect(),
            points,
            base,
        };
        // Every value the user wrote is checked before the first run, each at its own
        // position in the file: every grid or list value, every lhs or sobol bound (the
        // other parameters at the base's values). Then, for designs small enough to
        // check quickly, every point as a whole (parameters may constrain each other).
        let integer: Vec<bool> = batch
            .paths
            .iter()
            .map(|p| matches!(value_at(&batch.base, p), Some(toml::Value::Integer(_))))
            .collect();
        for (i, p) in raw.parameters.iter().enumerate() {
            let written: Vec<(String, f64)> = match (&p.values, p.min, p.max) {
                (Some(v), _, _)
                    if matches!(raw.design.kind, DesignKind::Grid | DesignKind::List) =>
                {
                    v.iter()
                        .enumerate()
                        .map(|(j, x)| (format!("parameters[{i}].values[{j}]"), *x))
                        .collect()
                }
                (_, Some(a), Some(b)) => vec![
                    (format!("parameters[{i}].min"), a),
                    (format!("parameters[{i}].max"), b),
                ],
                _ => Vec::new(),
            };
            // A path the resolved base does not have (every field is written out in
            // it) is the path's fault, not a value's.
            let unknown = value_at(&batch.base, &p.path).is_none();
            for (at, x) in written {
                let at = if unknown {
                    format!("parameters[{i}].path")
                } else {
                    at
                };
                let x = if integer[i] { x.round() } else { x };
                let mut t = batch.base.clone();
                set_path(&mut t, &p.path, x).map_err(|m| {
                    invalid(
                        &format!("parameters[{i}].path"),
                        format!("cannot set `{}`: {m}", p.path),
                    )
                })?;
                let text = toml::to_string(&t).expect("a table serializes");
                if let Err(e) = Scenario::from_str(&text, &raw.base) {
                    let why = if unknown {
                        format!(
                            "`{}` = {x} is not valid in {}: {}",
                            p.path,
                            raw.base,
                            field_errors(&e, &[])
                        )
                    } else {
                        field_errors(&e, &[&p.path])
                    };
                    return Err(invalid(&at, why));
                }
            }
        }
        if batch.points.len() <= WHOLE_POINTS_CHECKED {
            for k in 0..batch.points.len() {
                batch.scenario(k).map_err(|e| match e {
                    BatchError::Run { run, message } => invalid(&format!("design {run}"), message),
                    e => e,
                })?;
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

    /// Every run by its id (a run file's name).
    pub(super) fn runs_by_id(&self) -> std::collections::BTreeMap<String, RunSpec> {
        self.runs().into_iter().map(|r| (r.id.clone(), r)).collect()
    }

    /// The scenario table of point `p`: the base with the point's values set.
    fn point_table(&self, p: usize) -> Result<toml::Table, BatchError> {
        let mut t = self.base.clone();
        for (i, path) in self.paths.iter().enumerate() {
            set_path(&mut t, path, self.points[p][i]).map_err(|m| BatchError::Run {
                run: format!("point {p}"),
                message: m,
            })?;
        }
        Ok(t)
    }

    /// The base scenario with the largest world any point asks for: each varied world
    /// size (`community.residents`, `district.residents`, `district.communities`) set to
    /// its largest value in the design. The memory a run needs is estimated from it.
    pub fn largest_scenario(&self) -> Result<Scenario, BatchError> {
        const SIZES: [&str; 3] = [
            "community.residents",
            "district.residents",
            "district.communities",
        ];
        let mut t = self.base.clone();
        for (i, path) in self.paths.iter().enumerate() {
            if SIZES.contains(&path.as_str()) {
                let largest = self.points.iter().map(|p| p[i]).fold(f64::MIN, f64::max);
                set_path(&mut t, path, largest).map_err(|m| BatchError::Run {
                    run: "largest point".into(),
                    message: m,
                })?;
            }
        }
        let text = toml::to_string(&t).expect("a table serializes");
        Scenario::from_str(&text, "the largest point").map_err(|e| BatchError::Run {
            run: "largest point".into(),
            message: field_errors(&e, &[]),
        })
    }

    /// The scenario of point `p`.
    pub fn scenario(&self, p: usize) -> Result<Scenario, BatchError> {
        let text = toml::to_string(&self.point_table(p)?).expect("a table serializes");
        Scenario::from_str(&text, &self.point_name(p)).map_err(|e| BatchError::Run {
            run: self.point_name(p),
            message: field_errors(&e, &[]),
        })
    }

    /// Point `p` as the user can recognise it: "point 3 (a.b = 1, c = 0.5)".
    fn point_name(&self, p: usize) -> String {
        let values: Vec<String> = (self.paths.iter().zip(&self.points[p]))
            .map(|(path, v)| format!("{path} = {v}"))
            .collect();
        format!("point {p} ({})", values.join(", "))
    }

    /// What identifies the inputs of run `spec` (FNV-1a 64 of the civitas version, the
    /// model, years, KPIs, seed and the point's whole resolved scenario): a run file is
    /// reused only when it carries the same identity.
    pub fn identity(&self, spec: &RunSpec) -> Result<String, BatchError> {
        let point = match self.point_digests[spec.point].get() {
            Some(d) => *d,
            None => {
                let d = self.point_digest(spec.point)?;
                *self.point_digests[spec.point].get_or_init(|| d)
            }
        };
        Ok(fnv1a(&format!("{point:016x}\nseed {}", spec.seed)))
    }

    /// Everything of a point's identity but the seed, computed once per point (its
    /// replications, the check before a batch resumes and the assembly share it).
    fn point_digest(&self, p: usize) -> Result<u64, BatchError> {
        let scenario = toml::to_string(&self.point_table(p)?).expect("a table serializes");
        let kpis: Vec<&str> = self
            .kpis
            .iter()
            .map(|&i| crate::metrics::KPIS[i].name)
            .collect();
        Ok(fnv1a_u64(&format!(
            "civitas {}\nmodel {}\nyears {}\nkpis {}\n{scenario}",
            env!("CARGO_PKG_VERSION"),
            self.model.as_str(),
            self.years,
            kpis.join(",")
        )))
    }
}
