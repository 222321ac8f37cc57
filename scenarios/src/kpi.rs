//! Yearly values of every registered metric ([`crate::metrics::KPIS`]) for one run
//! under one investment model, from its ledger, its yearly reports and its incident
//! records — the numbers the planners' comparison and batches are made of.
//!
//! Every metric has a value per year; [`RunKpis::finals`] condenses the run by the
//! metric's rule (sums over the horizon for flows, the mean of the years for states,
//! the last year for `sustained`).

use crate::metrics::{K, KPIS, N_KPIS, Period, Span, percentile_hours, real_in, spans};
use crate::stats::{Stat, stat_within};
use civitas_actors::engine::RunResult;
use civitas_actors::incident::IncidentRecord;
use civitas_actors::ledger::{Account, MoneyClass, YearReport};
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::Level;
use civitas_twin::model::District;
use civitas_twin::params::Parameters;
use civitas_twin::time::HOUR;

/// One run's KPIs: `yearly[y][k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunKpis {
    /// Values per year, in [`KPIS`] order.
    pub yearly: Vec<[f64; N_KPIS]>,
    /// Final values, in [`KPIS`] order.
    pub finals: [f64; N_KPIS],
    /// The first year a party could no longer pay, and which (what ends `sustained`).
    pub failure: Option<Failure>,
}

/// The first year a party could no longer pay (0: the first year), and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Failure {
    /// Year index.
    pub year: u32,
    /// Who could not pay.
    pub cause: FailureCause,
}

/// Who could not pay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailureCause {
    /// The operator went insolvent.
    OperatorInsolvent,
    /// The PPP partner exited the concession: the government's arrears passed its limit.
    PartnerExited,
    /// The government paid this share (under `evaluation.sustained.min_paid`) of what it
    /// owed.
    GovernmentUnderpaid(f64),
    /// The enterprises paid this share (under the same) of their devices' O&M.
    EnterprisesUnderpaid(f64),
    /// The platform stopped operating (for most of the year).
    PlatformStopped,
}

impl FailureCause {
    /// A clause for a sentence: "the government paid 71% of what it owed".
    pub fn clause(self) -> String {
        match self {
            FailureCause::OperatorInsolvent => "the platform operator went insolvent".into(),
            FailureCause::PartnerExited => {
                "the PPP partner exited the concession, owed more availability payments than it would carry".into()
            }
            FailureCause::GovernmentUnderpaid(share) => format!(
                "the government paid {:.0}% of what it owed for the platform and devices",
                share * 100.0
            ),
            FailureCause::EnterprisesUnderpaid(share) => format!(
                "the enterprises could pay {:.0}% of their devices' O&M",
                share * 100.0
            ),
            FailureCause::PlatformStopped => "the platform stopped for most of the year".into(),
        }
    }
}

fn share(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// Devices the plan would deploy before the model decides who pays, by marketability.
pub fn planned_devices(planned: &District, params: &Parameters) -> (u64, u64) {
    let mut m = (0, 0);
    for c in &planned.communities {
        for d in &c.devices {
            if params.device(d.kind).marketable {
                m.0 += 1
            } else {
                m.1 += 1
            }
        }
    }
    m
}

/// Computes the KPIs of a run over `years`, given how many marketable and
/// non-marketable devices the plan asked for.
pub fn run_kpis(
    r: &RunResult,
    params: &Parameters,
    calendar: &Calendar,
    years: u32,
    residents: u64,
    households: u64,
    planned: (u64, u64),
) -> RunKpis {
    let y_n = years as usize;
    // Years are calendar years of the run's local time (the first may be partial).
    let year_secs = |y: usize| calendar.year_start(y as u32 + 1) - calendar.year_start(y as u32);
    let mut v = vec![[0.0f64; N_KPIS]; y_n];
    let per_res = |cents: i64| cents as f64 / 100.0 / residents.max(1) as f64;
    // Money, by year of payment (construction at t = 0 belongs to year 0).
    let mut gov_flow = vec![0i64; y_n];
    let mut op_flow = vec![0i64; y_n];
    let mut ent_flow = vec![0i64; y_n];
    for t in &r.transfers {
        // The books for a year close in the first hours of the next (last month's market
        // at +1 h, the year's settlement at +2 h); finance pays for the coming year at
        // +3 h. So a payment belongs to the year that ended 2.5 hours before it.
        let y = calendar.year_index(t.at.saturating_sub(5 * HOUR / 2)) as usize;
        if y >= y_n {
            continue;
        }
        let row = &mut v[y];
        let c = t.cents;
        let class = t.purpose.class();
        // The government's books, so that net = capital + O&M + purchases + staff +
        // interest − income for every model: every flow in or out of its account that is
        // not financing falls in exactly one of the six.
        match (t.from, t.to, class) {
            (_, _, MoneyClass::Financing) => {}
            (Account::Government, _, MoneyClass::Staff) => row[K::GovStaff as usize] += per_res(c),
            (Account::Government, _, MoneyClass::FinanceCost) => {
                row[K::GovInterest as usize] += per_res(c)
            }
            (Account::Government, Account::Suppliers, MoneyClass::Capital) => {
                row[K::GovCapital as usize] += per_res(c)
            }
            (Account::Government, Account::Enterprises(_) | Account::Operator(_), _) => {
                row[K::GovPurchases as usize] += per_res(c)
            }
            (Account::Government, Account::Government, _) => {}
            (Account::Government, _, _) => row[K::GovOm as usize] += per_res(c),
            // Its platform's commission and data sales (government-led), leases, fines and
            // device fees.
            (_, Account::Government, _) => row[K::GovIncome as usize] += per_res(c),
            _ => {}
        }
        // Cash flows of each party (equity and capital budgets are financing, not flows).
        let financing = class == MoneyClass::Financing;
        if !financing {
            for (acct, sign) in [(t.from, -1i64), (t.to, 1)] {
                match acct {
                    Account::Government => gov_flow[y] += sign * c,
                    Account::Operator(_) => op_flow[y] += sign * c,
                    Account::Enterprises(_) => ent_flow[y] += sign * c,
                    _ => {}
                }
            }
        }
        if let Account::Residents(_) = t.from {
            v[y][K::ResidentSpending as usize] += per_res(c);
        }
    }
    let rate = params.economy.discount_rate;
    for y in 0..y_n {
        let row = &mut v[y];
        row[K::GovNet as usize] = -per_res(gov_flow[y]);
        row[K::OperatorProfit as usize] = per_res(op_flow[y]);
        row[K::EnterpriseProfit as usize] = per_res(ent_flow[y]);
        let d = (1.0 + rate).powi(y as i32);
        row[K::GovNpv as usize] = -per_res(gov_flow[y]) / d;
        row[K::OperatorNpv as usize] = per_res(op_flow[y]) / d;
        row[K::EnterpriseNpv as usize] = per_res(ent_flow[y]) / d;
    }
    // Reports.
    let mut sat = vec![(0.0, 0.0, 0.0, 0.0); y_n];
    let mut served = vec![(0u64, 0u64, 0u64, 0u64); y_n];
    let mut app = vec![(0u64, 0u64, 0u64, 0u64); y_n];
    let mut dev = vec![(0u64, 0u64, 0u64, 0u64); y_n]; // working m, working n, used, deployed-seconds
    let mut platform = vec![(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0u32); y_n];
    let mut removed = vec![0u64; y_n];
    let mut quality_n = vec![0.0f64; y_n];
    let mut failure: Option<Failure> = None;
    for rep in &r.reports {
        match rep {
            YearReport::Building(s) if (s.year as usize) < y_n => {
                let y = s.year as usize;
                sat[y].0 += s.satisfaction_sum;
                sat[y].1 += s.residents as f64;
                sat[y].2 += s.satisfaction_elderly_sum;
                sat[y].3 += s.elderly as f64;
                served[y].0 += s.requested;
                served[y].1 += s.served;
                served[y].2 += s.requested_elderly;
                served[y].3 += s.served_elderly;
                app[y].0 += s.app_users;
                app[y].1 += s.residents;
                app[y].2 += s.app_users_elderly;
                app[y].3 += s.elderly;
                for (_, d) in &s.devices {
                    if d.marketable {
                        dev[y].0 += d.working_secs
                    } else {
                        dev[y].1 += d.working_secs
                    }
                    dev[y].2 += d.used_secs;
                    dev[y].3 += d.count * year_secs(y);
                }
            }
            YearReport::Platform(p) if (p.year as usize) < y_n => {
                let y = p.year as usize;
                let w = &mut platform[y];
                w.0 += p.operating;
                w.1 += p.price_index;
                w.2 += p.hhi;
                w.3 += p.commission;
                if p.quality.is_finite() {
                    w.4 += p.quality;
                    quality_n[y] += 1.0;
                }
                w.5 += 1.0;
                w.6 += p.providers;
                removed[y] += p.decommissioned;
                // One rule for every model (`evaluation.sustained`): a party that owes
                // money for the platform or its devices paid less than its least share,
                // went insolvent or exited, or the platform operated too little.
                let rule = &params.evaluation.sustained;
                let cause = if p.partner_exited {
                    Some(FailureCause::PartnerExited)
                } else if !p.operator_solvent {
                    Some(FailureCause::OperatorInsolvent)
                } else if p.funded_share < rule.min_paid {
                    Some(FailureCause::GovernmentUnderpaid(p.funded_share))
                } else if p.enterprise_paid_share < rule.min_paid {
                    Some(FailureCause::EnterprisesUnderpaid(p.enterprise_paid_share))
                } else if p.operating < rule.min_operating {
                    Some(FailureCause::PlatformStopped)
                } else {
                    None
                };
                if let Some(cause) = cause
                    && failure.is_none()
                {
                    failure = Some(Failure {
                        year: p.year,
                        cause,
                    });
                }
            }
            _ => {}
        }
    }
    for y in 0..y_n {
        let row = &mut v[y];
        let year = year_secs(y);
        row[K::Satisfaction as usize] = share(sat[y].0, sat[y].1);
        row[K::SatisfactionElderly as usize] = share(sat[y].2, sat[y].3);
        row[K::ServicesUsed as usize] = served[y].1 as f64 / households.max(1) as f64;
        row[K::ServedShare as usize] = share(served[y].1 as f64, served[y].0 as f64);
        row[K::ServedShareElderly as usize] = share(served[y].3 as f64, served[y].2 as f64);
        row[K::Adoption as usize] = share(app[y].0 as f64, app[y].1 as f64);
        row[K::AdoptionElderly as usize] = share(app[y].2 as f64, app[y].3 as f64);
        row[K::CoverageMarketable as usize] = share(dev[y].0 as f64, (planned.0 * year) as f64);
        row[K::Coverage as usize] = share(
            (dev[y].0 + dev[y].1) as f64,
            ((planned.0 + planned.1) * year) as f64,
        );
        row[K::CoverageNonMarketable as usize] = share(dev[y].1 as f64, (planned.1 * year) as f64);
        row[K::Utilization as usize] = share(dev[y].2 as f64, dev[y].3 as f64);
        row[K::Decommissioned as usize] = share(removed[y] as f64, (planned.0 + planned.1) as f64);
        let n = platform[y].5;
        row[K::PlatformUp as usize] = share(platform[y].0, n);
        row[K::PriceIndex as usize] = share(platform[y].1, n);
        row[K::Hhi as usize] = share(platform[y].2, n);
        row[K::Commission as usize] = share(platform[y].3, n);
        row[K::Providers as usize] = share(platform[y].6 as f64, n);
        row[K::Quality as usize] = share(platform[y].4, quality_n[y]);
        // Years sustained as of the end of year y: no later failure reaches back.
        row[K::Sustained as usize] = match failure.map(|f| f.year) {
            Some(f) if (f as usize) <= y => f as f64,
            _ => (y + 1) as f64,
        };
    }
    // Real incidents by the year they happened (`Period::year`), bucketed in one pass.
    let mut by_year: Vec<Vec<&IncidentRecord>> = vec![Vec::new(); y_n];
    for i in real_in(&r.incidents, Period::whole_run()) {
        if let Some(year) = by_year.get_mut(calendar.year_index(i.created) as usize) {
            year.push(i);
        }
    }
    let median = |y: usize, span: Span| {
        percentile_hours(&spans(by_year[y].iter().copied(), span), 0.5).unwrap_or(f64::NAN)
    };
    let micro: Vec<(u64, u64)> = by_year
        .iter()
        .map(|year| {
            let closed = year.iter().filter(|i| i.closed.is_some());
            let micro = closed
                .clone()
                .filter(|i| i.closed_level == Some(Level::Micro));
            (micro.count() as u64, closed.count() as u64)
        })
        .collect();
    let ev = &params.evaluation;
    for y in 0..y_n {
        let row = &mut v[y];
        row[K::DetectionP50 as usize] = median(y, Span::Detection);
        row[K::ResolutionP50 as usize] = median(y, Span::Resolution);
        row[K::MicroShare as usize] = share(micro[y].0 as f64, micro[y].1 as f64);
        // Evaluation index (docs/MODEL.md: each sub-indicator scaled to 0–1).
        let z = |x: f64| {
            if x.is_finite() {
                x.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let infra = ev.infrastructure.coverage_non_marketable
            * z(row[K::CoverageNonMarketable as usize])
            + ev.infrastructure.coverage_marketable * z(row[K::CoverageMarketable as usize])
            + ev.infrastructure.platform_up * z(row[K::PlatformUp as usize]);
        let gov = ev.governance.micro_share * z(row[K::MicroShare as usize])
            + ev.governance.fast_detection * z(1.0 / (1.0 + row[K::DetectionP50 as usize]))
            + ev.governance.fast_resolution
                * z(ev.governance.resolution_target_hours
                    / row[K::ResolutionP50 as usize].max(ev.governance.resolution_target_hours));
        let serv = ev.services.served_share * z(row[K::ServedShare as usize])
            + ev.services.served_share_elderly * z(row[K::ServedShareElderly as usize])
            + ev.services.affordability * z(1.0 / row[K::PriceIndex as usize].max(1.0))
            + ev.services.adoption * z(row[K::Adoption as usize]);
        let safe = ev.safeguards.sustainability * z(row[K::Sustained as usize] / (y + 1) as f64)
            + ev.safeguards.competition * z(1.0 - row[K::Hhi as usize])
            + ev.safeguards.satisfaction_elderly * z(row[K::SatisfactionElderly as usize]);
        row[K::IndexInfrastructure as usize] = infra;
        row[K::IndexGovernance as usize] = gov;
        row[K::IndexServices as usize] = serv;
        row[K::IndexSafeguards as usize] = safe;
        row[K::Index as usize] = ev.weights.infrastructure * infra
            + ev.weights.governance * gov
            + ev.weights.services * serv
            + ev.weights.safeguards * safe;
    }
    let mut finals = [0.0; N_KPIS];
    for (k, def) in KPIS.iter().enumerate() {
        let vals: Vec<f64> = v.iter().map(|r| r[k]).filter(|x| x.is_finite()).collect();
        finals[k] = if def.flow {
            vals.iter().sum()
        } else if vals.is_empty() {
            f64::NAN
        } else {
            vals.iter().sum::<f64>() / vals.len() as f64
        };
    }
    finals[K::Sustained as usize] = v.last().map_or(0.0, |r| r[K::Sustained as usize]);
    RunKpis {
        yearly: v,
        finals,
        failure,
    }
}

/// Yearly and final stats per KPI for one model.
pub fn summarize(runs: &[RunKpis]) -> (Vec<Stat>, Vec<Vec<Stat>>) {
    let years = runs.first().map_or(0, |r| r.yearly.len());
    let range = |k: usize| KPIS[k].range();
    let finals = (0..N_KPIS)
        .map(|k| {
            stat_within(
                &runs.iter().map(|r| r.finals[k]).collect::<Vec<_>>(),
                range(k),
            )
        })
        .collect();
    let series = (0..N_KPIS)
        .map(|k| {
            (0..years)
                .map(|y| {
                    stat_within(
                        &runs.iter().map(|r| r.yearly[y][k]).collect::<Vec<_>>(),
                        range(k),
                    )
                })
                .collect()
        })
        .collect();
    (finals, series)
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_actors::ledger::PlatformYear;

    /// A run whose platform reports `years`, each given as (government's paid share,
    /// enterprises' paid share, share of the year operating).
    fn run_of(years: &[(f64, f64, f64)]) -> RunResult {
        RunResult {
            horizon: 0,
            incidents: Vec::new(),
            satisfaction_all: Default::default(),
            satisfaction_elderly: Default::default(),
            satisfaction_elderly_alone: Default::default(),
            devices: Default::default(),
            transfers: Vec::new(),
            commands: Default::default(),
            reports: years
                .iter()
                .enumerate()
                .map(|(y, &(gov, ent, up))| {
                    YearReport::Platform(Box::new(PlatformYear {
                        year: y as u32,
                        funded_share: gov,
                        enterprise_paid_share: ent,
                        operating: up,
                        operator_solvent: true,
                        ..PlatformYear::default()
                    }))
                })
                .collect(),
            injects: Vec::new(),
            stats: Default::default(),
        }
    }

    fn failure(years: &[(f64, f64, f64)]) -> (Option<Failure>, f64) {
        let p = Parameters::default();
        let k = run_kpis(
            &run_of(years),
            &p,
            &Calendar::default(),
            years.len() as u32,
            100,
            40,
            (1, 1),
        );
        (k.failure, k.finals[crate::metrics::K::Sustained as usize])
    }

    #[test]
    fn sustained_ends_at_the_first_year_any_party_pays_too_little_or_the_platform_stops() {
        let fine = (1.0, 1.0, 1.0);
        assert_eq!(failure(&[fine, fine, fine]), (None, 3.0));
        // The enterprises paid 90% of their devices' O&M in year 1: the same rule as a
        // government that paid 90%.
        let (f, sustained) = failure(&[fine, (1.0, 0.9, 1.0), fine]);
        assert_eq!(
            f,
            Some(Failure {
                year: 1,
                cause: FailureCause::EnterprisesUnderpaid(0.9)
            })
        );
        assert_eq!(sustained, 1.0);
        let (f, _) = failure(&[(0.9, 1.0, 1.0), fine]);
        assert_eq!(f.unwrap().cause, FailureCause::GovernmentUnderpaid(0.9));
        // Paid in full, but up less than half the year.
        let (f, _) = failure(&[fine, fine, (1.0, 1.0, 0.4)]);
        assert_eq!(f.unwrap().cause, FailureCause::PlatformStopped);
        // 95% paid and half the year up is sustained.
        assert_eq!(failure(&[(0.95, 0.95, 0.5)]).0, None);
    }
}
