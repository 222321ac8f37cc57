//! The comparison's headline: what a budget owner reads first — which model scores best
//! on the evaluation index and by how much, whether that holds across seeds, who leads
//! on each pillar, what each model costs the government, the residents and the operator
//! in yuan a year for this community, and every red flag in a sentence. Computed from the
//! comparison alone (what `compare.json` holds), for the report and the terminal.

use crate::compare::{Comparison, ModelResult};
use crate::metrics::{K, KPIS, KpiDef};

/// The smallest difference between two models' values of a KPI that counts as a real
/// difference: a hundredth on an index or a share (one percentage point), 1% of the
/// larger amount of money (at least ¥1 a resident), a tenth of an hour or 5%, half a
/// year of sustained operation, one provider, half a use a household. Below it the
/// report says "no real difference", whatever the intervals.
pub fn practical(def: &KpiDef, a: f64, b: f64) -> f64 {
    let big = a.abs().max(b.abs());
    match def.unit {
        "0–1" | "share" | "× reference" => 0.01,
        "yuan/resident" => (0.01 * big).max(1.0),
        "hours" => (0.05 * big).max(0.1),
        "years" => 0.5,
        "count" => 1.0,
        "uses/household" => 0.5,
        _ => 0.0,
    }
}

/// The headline: the index verdict, the pillars, the yearly money (three lines), then
/// one line per red flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    /// The five lines every comparison has.
    pub lines: Vec<String>,
    /// Red flags, each explained.
    pub flags: Vec<String>,
}

/// The leader on KPI `k` and the next model (one tied with it, else the runner-up), as
/// the report ranks them ([`super::document::lead`]), with their final means.
fn top_two(c: &Comparison, k: usize) -> Vec<(&ModelResult, f64)> {
    let l = super::document::lead(c, k);
    l.leaders
        .iter()
        .chain(l.runner_up.iter())
        .take(2)
        .map(|(m, s)| (*m, s.mean))
        .collect()
}

/// In how many seeds `model` has the best value of KPI `k` (ties count for it).
fn seeds_led(c: &Comparison, model: &ModelResult, k: usize) -> (usize, usize) {
    let n = c.models.iter().map(|m| m.runs.len()).min().unwrap_or(0);
    let higher = KPIS[k].higher_is_better;
    let led = (0..n)
        .filter(|&i| {
            let mine = model.runs[i].finals[k];
            c.models.iter().all(|m| {
                let other = m.runs[i].finals[k];
                !other.is_finite() || if higher { mine >= other } else { mine <= other }
            })
        })
        .count();
    (led, n)
}

/// An index value.
fn idx(x: f64) -> String {
    format!("{x:.3}")
}

/// An amount of yuan for people: three significant figures, "million" from a million.
pub fn yuan(x: f64) -> String {
    let sign = if x < 0.0 { "−" } else { "" };
    let a = x.abs();
    if a >= 1e6 {
        format!("{sign}¥{} million", sig3(a / 1e6))
    } else {
        let r = round_sig(a, 3);
        format!("{sign}¥{}", thousands(r.round() as u64))
    }
}

fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let scale = 10f64.powi(digits - 1 - x.log10().floor() as i32);
    (x * scale).round() / scale
}

fn sig3(x: f64) -> String {
    let r = round_sig(x, 3);
    let decimals = (2 - r.log10().floor() as i32).clamp(0, 2) as usize;
    format!("{r:.decimals$}")
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut o = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(ch);
    }
    o
}

/// The index verdict.
fn index_line(c: &Comparison) -> String {
    let k = K::Index as usize;
    match top_two(c, k).as_slice() {
        [] => "No model has an evaluation index.".into(),
        [(m, a)] => format!(
            "{} scores {} on the evaluation index (one model compared).",
            m.model,
            idx(*a)
        ),
        [(m, a), (n, b), ..] => {
            let d = a - b;
            if d < practical(&KPIS[k], *a, *b) {
                format!(
                    "No model is ahead on the evaluation index: {} {} and {} {} differ by less than {} (no real difference).",
                    m.model,
                    idx(*a),
                    n.model,
                    idx(*b),
                    practical(&KPIS[k], *a, *b)
                )
            } else {
                let (led, seeds) = seeds_led(c, m, k);
                let pct = if b.abs() > 1e-9 {
                    format!(" ({:.0}%)", d / b.abs() * 100.0)
                } else {
                    String::new()
                };
                format!(
                    "{} scores best on the evaluation index, {}: {}{pct} ahead of {} ({}); it leads in {led} of {} {}.",
                    m.model,
                    idx(*a),
                    idx(d),
                    n.model,
                    idx(*b),
                    seeds,
                    if seeds == 1 { "seed" } else { "seeds" }
                )
            }
        }
    }
}

/// Who leads each pillar of the index.
fn pillars_line(c: &Comparison) -> String {
    let pillars = [
        (K::IndexInfrastructure, "infrastructure"),
        (K::IndexGovernance, "governance"),
        (K::IndexServices, "services"),
        (K::IndexSafeguards, "safeguards"),
    ];
    let parts: Vec<String> = pillars
        .iter()
        .map(|&(k, name)| {
            let k = k as usize;
            match top_two(c, k).as_slice() {
                [] => format!("{name}: no data"),
                [(m, _)] => format!("{name}: {}", m.model),
                [(m, a), (_, b), ..] if a - b >= practical(&KPIS[k], *a, *b) => {
                    format!("{name}: {} ({})", m.model, idx(*a))
                }
                [(m, a), ..] => format!("{name}: no real difference ({} {}, …)", m.model, idx(*a)),
            }
        })
        .collect();
    format!("Leads by pillar — {}.", parts.join("; "))
}

/// Yearly amounts of KPI `k` (yuan a resident over the horizon) for the community.
fn money_line(c: &Comparison, k: K, what: &str) -> String {
    let years = f64::from(c.years.max(1));
    let residents = c.residents as f64;
    let parts: Vec<String> = c
        .models
        .iter()
        .map(|m| {
            let per_resident = m.finals[k as usize].mean / years;
            if per_resident.is_finite() {
                format!(
                    "{} {} ({} a resident)",
                    m.model,
                    yuan(per_resident * residents),
                    yuan(per_resident)
                )
            } else {
                format!("{} –", m.model)
            }
        })
        .collect();
    format!("{what}, a year for this community: {}.", parts.join(", "))
}

/// The government's yearly net cost, and how much of it is staff wages: one figure when
/// every model pays the same staff (they do unless a scenario staffs models differently),
/// else one per model.
fn government_line(c: &Comparison) -> String {
    let line = money_line(c, K::GovNet, "Net cost to the government");
    let years = f64::from(c.years.max(1));
    let residents = c.residents as f64;
    let staff: Vec<f64> = c
        .models
        .iter()
        .map(|m| m.finals[K::GovStaff as usize].mean / years * residents)
        .filter(|x| x.is_finite())
        .collect();
    let (lo, hi) = staff
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    if staff.len() != c.models.len() || hi <= 0.0 {
        return line;
    }
    let body = line.trim_end_matches('.');
    if hi - lo <= practical(&KPIS[K::GovStaff as usize], hi / residents, lo / residents) * residents
    {
        format!(
            "{body}; each includes {} of staff wages (committee, grid, street office, department crews), the same under every model.",
            yuan(hi)
        )
    } else {
        let parts: Vec<String> = c
            .models
            .iter()
            .zip(&staff)
            .map(|(m, x)| format!("{} {}", m.model, yuan(*x)))
            .collect();
        format!("{body}; of which staff wages: {}.", parts.join(", "))
    }
}

/// The sentence for a model whose parties could not pay throughout: from which year, who
/// (the most common cause over the seeds, with the first seed's figure), in how many
/// seeds.
fn failure_flag(m: &ModelResult, sustained: f64, years: u32) -> String {
    use crate::kpi::FailureCause;
    let failures: Vec<_> = m.runs.iter().filter_map(|r| r.failure).collect();
    let kind = |c: FailureCause| std::mem::discriminant(&c);
    let commonest = failures
        .iter()
        .max_by_key(|f| {
            failures
                .iter()
                .filter(|g| kind(g.cause) == kind(f.cause))
                .count()
        })
        .map(|f| f.cause);
    let first_year = failures.iter().map(|f| f.year).min().map_or(0, |y| y + 1);
    let who = commonest.map_or_else(
        || "a party could no longer pay".to_string(),
        |c| {
            let same = failures.iter().filter(|f| kind(f.cause) == kind(c)).count();
            format!("{} (in {same} of {} seeds)", c.clause(), m.runs.len())
        },
    );
    format!(
        "{}: from year {first_year}, {who} — sustained {sustained:.2} of {years} years on average; service degrades or stops from then.",
        m.model
    )
}

/// Each model's red flags, explained.
fn flags(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    let years = f64::from(c.years);
    for m in &c.models {
        let s = m.finals[K::Sustained as usize].mean;
        if s.is_finite() && s < years - 1e-9 {
            out.push(failure_flag(m, s, c.years));
        }
        let cov = m.finals[K::Coverage as usize].mean;
        if cov.is_finite() && cov < 0.5 {
            out.push(format!(
                "{}: only {:.0}% of the planned devices work, on average over the years (coverage).",
                m.model,
                cov * 100.0
            ));
        }
        let up = m.finals[K::PlatformUp as usize].mean;
        if up.is_finite() && up < 0.9 {
            out.push(format!(
                "{}: the platform operated {:.0}% of the time (platform_up); incidents and services wait while it is down.",
                m.model,
                up * 100.0
            ));
        }
    }
    out
}

/// The headline of `c`.
pub fn headline(c: &Comparison) -> Headline {
    Headline {
        lines: vec![
            index_line(c),
            pillars_line(c),
            government_line(c),
            money_line(
                c,
                K::ResidentSpending,
                "Residents' spending on services and fees",
            ),
            money_line(
                c,
                K::OperatorProfit,
                "The platform operator's profit (negative: loss)",
            ),
        ],
        flags: flags(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{RunKpis, summarize};
    use crate::metrics::N_KPIS;
    use civitas_twin::kinds::InvestmentModel;

    /// A model whose seeds scored `index` (and 0.5 on every pillar), with government net
    /// spending `gov` yuan a resident over the horizon and `sustained` years.
    fn model(m: InvestmentModel, index: &[f64], gov: f64, sustained: f64) -> ModelResult {
        let runs: Vec<RunKpis> = index
            .iter()
            .map(|&x| {
                let mut row = [0.5; N_KPIS];
                row[K::Index as usize] = x;
                row[K::GovNet as usize] = gov;
                row[K::Sustained as usize] = sustained;
                row[K::Coverage as usize] = 0.9;
                row[K::PlatformUp as usize] = 1.0;
                row[K::GovStaff as usize] = 0.0;
                RunKpis {
                    yearly: vec![row],
                    finals: row,
                    failure: (sustained < 10.0).then_some(crate::kpi::Failure {
                        year: sustained as u32,
                        cause: crate::kpi::FailureCause::GovernmentUnderpaid(0.71),
                    }),
                }
            })
            .collect();
        let (finals, series) = summarize(&runs);
        ModelResult {
            model: m,
            runs,
            finals,
            series,
        }
    }

    fn comparison(models: Vec<ModelResult>) -> Comparison {
        Comparison {
            scenario: "test".into(),
            years: 10,
            seeds: vec![1, 2, 3],
            residents: 2_000,
            models,
        }
    }

    #[test]
    fn the_headline_names_the_leader_the_comparison_has_and_follows_when_it_changes() {
        use InvestmentModel::{Gov, Market};
        let c = comparison(vec![
            model(Gov, &[0.60, 0.62, 0.61], 5_000.0, 10.0),
            model(Market, &[0.50, 0.52, 0.65], 1_000.0, 10.0),
        ]);
        let h = headline(&c);
        assert_eq!(
            h.lines[0],
            "gov scores best on the evaluation index, 0.610: 0.053 (10%) ahead of market (0.557); it leads in 2 of 3 seeds."
        );
        assert_eq!(
            h.lines[2],
            "Net cost to the government, a year for this community: gov ¥1.00 million (¥500 a resident), market ¥200,000 (¥100 a resident)."
        );
        assert!(h.flags.is_empty(), "{:?}", h.flags);
        // The market model now scores higher in every seed: the sentence follows.
        let c = comparison(vec![
            model(Gov, &[0.60, 0.62, 0.61], 5_000.0, 10.0),
            model(Market, &[0.70, 0.72, 0.75], 1_000.0, 1.35),
        ]);
        let h = headline(&c);
        assert!(
            h.lines[0].starts_with("market scores best on the evaluation index, 0.723:")
                && h.lines[0].ends_with("it leads in 3 of 3 seeds."),
            "{}",
            h.lines[0]
        );
        assert_eq!(h.flags.len(), 1);
        assert_eq!(
            h.flags[0],
            "market: from year 2, the government paid 71% of what it owed for the platform and devices (in 3 of 3 seeds) — sustained 1.35 of 10 years on average; service degrades or stops from then."
        );
        // Within a hundredth: no real difference, whatever the intervals say.
        let c = comparison(vec![
            model(Gov, &[0.600, 0.601, 0.602], 5_000.0, 10.0),
            model(Market, &[0.598, 0.599, 0.600], 1_000.0, 10.0),
        ]);
        assert!(
            headline(&c).lines[0].starts_with("No model is ahead on the evaluation index"),
            "{}",
            headline(&c).lines[0]
        );
        assert!(headline(&c).lines[1].contains("infrastructure: no real difference"));
    }

    #[test]
    fn the_governments_line_says_how_much_of_its_cost_is_staff_and_whether_models_differ() {
        use InvestmentModel::{Gov, Market};
        let with_staff = |mut m: ModelResult, staff: f64| {
            for r in &mut m.runs {
                r.finals[K::GovStaff as usize] = staff;
                r.yearly[0][K::GovStaff as usize] = staff;
            }
            (m.finals, m.series) = summarize(&m.runs);
            m
        };
        // 4,000 yuan a resident over 10 years for 2,000 residents: ¥800,000 a year.
        let c = comparison(vec![
            with_staff(model(Gov, &[0.6], 5_000.0, 10.0), 4_000.0),
            with_staff(model(Market, &[0.5], 4_000.0, 10.0), 4_000.0),
        ]);
        assert_eq!(
            headline(&c).lines[2],
            "Net cost to the government, a year for this community: gov ¥1.00 million (¥500 a resident), market ¥800,000 (¥400 a resident); each includes ¥800,000 of staff wages (committee, grid, street office, department crews), the same under every model."
        );
        let c = comparison(vec![
            with_staff(model(Gov, &[0.6], 5_000.0, 10.0), 4_000.0),
            with_staff(model(Market, &[0.5], 4_000.0, 10.0), 3_000.0),
        ]);
        assert!(
            headline(&c).lines[2]
                .ends_with("; of which staff wages: gov ¥800,000, market ¥600,000."),
            "{}",
            headline(&c).lines[2]
        );
    }

    #[test]
    fn money_reads_as_people_write_it() {
        assert_eq!(yuan(1_234_567.0), "¥1.23 million");
        assert_eq!(yuan(45_612.0), "¥45,600");
        assert_eq!(yuan(-987.4), "−¥987");
        assert_eq!(yuan(0.0), "¥0");
        assert_eq!(yuan(12_500_000.0), "¥12.5 million");
        assert_eq!(yuan(250_000_000.0), "¥250 million");
    }
}
