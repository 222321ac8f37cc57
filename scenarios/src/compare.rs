//! The planners' comparison: every investment model on the same community over the same
//! seeds, run in parallel, summarized as means with 95% intervals per KPI and per year.

use crate::file::Scenario;
use crate::kpi::{RunKpis, planned_devices, run_kpis, summarize};
use crate::metrics::{KPIS, N_KPIS};
use crate::runner::{RunError, RunOptions, build_district_for, build_plan, run_district};
use crate::stats::Stat;
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::time::HOUR;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Version of `compare.json` and `compare.csv`.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// What to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareOptions {
    /// Models, in column order.
    pub models: Vec<InvestmentModel>,
    /// Years to simulate.
    pub years: u32,
    /// Seeds (the same for every model).
    pub seeds: Vec<u64>,
    /// Runs in parallel.
    pub jobs: usize,
}

/// One model's results.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelResult {
    /// The model.
    pub model: InvestmentModel,
    /// Each seed's KPIs, in seed order.
    pub runs: Vec<RunKpis>,
    /// Final value of each KPI over seeds.
    pub finals: Vec<Stat>,
    /// Each KPI's yearly values over seeds: `series[k][year]`.
    pub series: Vec<Vec<Stat>>,
}

/// The comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Scenario name.
    pub scenario: String,
    /// Years simulated.
    pub years: u32,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Residents.
    pub residents: u64,
    /// Per model, in the order asked.
    pub models: Vec<ModelResult>,
}

/// Runs scenario `s` under `model` with `seed` for `years` (plus the hours the last
/// year's books take to close) and computes its KPIs; also returns the residents.
pub fn run_one(s: &Scenario, model: InvestmentModel, seed: u64, years: u32) -> RunOutcome {
    let planned = build_plan(s, seed);
    let district = build_district_for(s, seed, model);
    let residents = district.residents() as u64;
    let households: u64 = district
        .communities
        .iter()
        .map(|c| c.households.len() as u64)
        .sum();
    let horizon = s.calendar.year_start(years) + 3 * HOUR;
    let opts = RunOptions {
        seed,
        horizon,
        workers: 1,
        model,
    };
    let r = run_district(&district, s, opts, |_| {})?;
    let planned = planned_devices(&planned, &s.parameters);
    Ok((
        run_kpis(
            &r,
            &s.parameters,
            &s.calendar,
            years,
            residents,
            households,
            planned,
        ),
        residents,
    ))
}

/// One run's KPIs and its number of residents, or why it failed.
pub type RunOutcome = Result<(RunKpis, u64), RunError>;

/// Runs the comparison; `progress(done, total)` is called after each run.
pub fn compare(
    s: &Scenario,
    o: &CompareOptions,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<Comparison, RunError> {
    let tasks: Vec<(usize, u64)> = (0..o.models.len())
        .flat_map(|m| o.seeds.iter().map(move |&seed| (m, seed)))
        .collect();
    let results: Mutex<Vec<Option<RunOutcome>>> =
        Mutex::new((0..tasks.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..o.jobs.max(1).min(tasks.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(m, seed)) = tasks.get(i) else {
                        break;
                    };
                    let r = run_one(s, o.models[m], seed, o.years);
                    results.lock().expect("no panics while holding the lock")[i] = Some(r);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, tasks.len());
                }
            });
        }
    });
    let mut results = results.into_inner().expect("threads joined");
    let mut models = Vec::new();
    let mut residents = 0;
    for (m, model) in o.models.iter().enumerate() {
        let mut runs = Vec::new();
        for (j, _) in o.seeds.iter().enumerate() {
            let (k, res) = results[m * o.seeds.len() + j]
                .take()
                .expect("every task ran")?;
            residents = res;
            runs.push(k);
        }
        let (finals, series) = summarize(&runs);
        models.push(ModelResult {
            model: *model,
            runs,
            finals,
            series,
        });
    }
    Ok(Comparison {
        scenario: s.name.clone(),
        years: o.years,
        seeds: o.seeds.clone(),
        residents,
        models,
    })
}

#[derive(Serialize)]
struct JsonKpi {
    name: &'static str,
    unit: &'static str,
    label: &'static str,
    final_value: &'static str,
    higher_is_better: bool,
}

#[derive(Serialize)]
struct JsonModel<'a> {
    model: &'static str,
    finals: BTreeMap<&'static str, &'a Stat>,
    series: BTreeMap<&'static str, &'a [Stat]>,
}

#[derive(Serialize)]
struct JsonComparison<'a> {
    schema_version: u32,
    scenario: &'a str,
    years: u32,
    seeds: &'a [u64],
    residents: u64,
    interval: &'static str,
    kpis: Vec<JsonKpi>,
    models: Vec<JsonModel<'a>>,
}

impl Comparison {
    /// `compare.json`: schema-versioned; NaN (no data) is written as null.
    pub fn to_json(&self) -> String {
        let j = JsonComparison {
            schema_version: COMPARE_SCHEMA_VERSION,
            scenario: &self.scenario,
            years: self.years,
            seeds: &self.seeds,
            residents: self.residents,
            interval: "95% confidence interval of the mean over seeds (Student's t)",
            kpis: KPIS
                .iter()
                .map(|k| JsonKpi {
                    name: k.name,
                    unit: k.unit,
                    label: k.label,
                    final_value: if k.flow {
                        "sum over years"
                    } else {
                        "mean over years"
                    },
                    higher_is_better: k.higher_is_better,
                })
                .collect(),
            models: self
                .models
                .iter()
                .map(|m| JsonModel {
                    model: m.model.as_str(),
                    finals: KPIS
                        .iter()
                        .zip(&m.finals)
                        .map(|(k, s)| (k.name, s))
                        .collect(),
                    series: KPIS
                        .iter()
                        .zip(&m.series)
                        .map(|(k, s)| (k.name, s.as_slice()))
                        .collect(),
                })
                .collect(),
        };
        let mut s = serde_json::to_string_pretty(&j).expect("serializes");
        s.push('\n');
        s
    }

    /// `compare.csv`: `model,kpi,year,mean,lo,hi`; `year` is `all` for the final value.
    pub fn to_csv(&self) -> String {
        let mut o = String::from("model,kpi,year,mean,lo,hi\n");
        let f = |x: f64| {
            if x.is_finite() {
                format!("{x}")
            } else {
                String::new()
            }
        };
        for m in &self.models {
            for (k, def) in KPIS.iter().enumerate() {
                let s = &m.finals[k];
                let _ = writeln!(
                    o,
                    "{},{},all,{},{},{}",
                    m.model,
                    def.name,
                    f(s.mean),
                    f(s.lo),
                    f(s.hi)
                );
                for (y, s) in m.series[k].iter().enumerate() {
                    let _ = writeln!(
                        o,
                        "{},{},{},{},{},{}",
                        m.model,
                        def.name,
                        y + 1,
                        f(s.mean),
                        f(s.lo),
                        f(s.hi)
                    );
                }
            }
        }
        o
    }

    /// The side-by-side table for the terminal.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{} — {} residents, {} years, {} seeds; mean [95% interval]; money in yuan per resident over the horizon\n",
            self.scenario,
            self.residents,
            self.years,
            self.seeds.len()
        );
        let _ = write!(o, "{:<28}", "kpi");
        for m in &self.models {
            let _ = write!(o, " {:>24}", m.model.as_str());
        }
        o.push('\n');
        for (k, def) in KPIS.iter().enumerate() {
            let _ = write!(o, "{:<28}", def.name);
            for m in &self.models {
                let s = &m.finals[k];
                let cell = if s.mean.is_finite() {
                    format!("{} [{}, {}]", num(s.mean), num(s.lo), num(s.hi))
                } else {
                    "–".to_string()
                };
                let _ = write!(o, " {cell:>24}");
            }
            o.push('\n');
        }
        o
    }
}

/// A number with sensible precision for a table; a negative number that rounds to zero
/// is written `0.000`, never `-0.000`.
pub fn num(x: f64) -> String {
    let a = x.abs();
    let s = if !x.is_finite() {
        return "–".into();
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    };
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// Which KPIs exist (for checks of names given by users).
pub fn kpi_names() -> Vec<&'static str> {
    KPIS.iter().map(|k| k.name).collect()
}

/// The number of KPIs (re-exported for reports).
pub const KPI_COUNT: usize = N_KPIS;
