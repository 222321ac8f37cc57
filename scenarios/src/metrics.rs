//! The registry of named metrics: each name is one computation, documented once, used
//! by every output that carries it (Mesa's data collector is the model: named reporters,
//! reused by the batch runner).
//!
//! - [`KPIS`]: every metric of the comparison and of batches, with its unit, label and
//!   how yearly values condense into a run's final value ([`crate::kpi::run_kpis`]
//!   computes them per year; `compare` and `batch` report them under these names).
//! - The computations shared with `summary.json` ([`crate::summary::Summary`]): incident
//!   [`Span`]s over a [`Period`] and their nearest-rank [`percentile_hours`], and
//!   satisfaction as a [`Tally`] mean. `summary.json` evaluates them over the whole run,
//!   the comparison over each year; for a one-year run the two agree (tested in
//!   `scenarios/tests/integration/metrics.rs`).

use civitas_actors::Tally;
use civitas_actors::incident::IncidentRecord;
use civitas_twin::calendar::Calendar;
use civitas_twin::time::{HOUR, SimTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// A stretch of simulated time: `[start, end)`. Incidents belong to the period in which
/// they happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First second.
    pub start: SimTime,
    /// End (exclusive).
    pub end: SimTime,
}

impl Period {
    /// Year `y` (from 0) of a run on `calendar`: from the `y`-th local 1 January after
    /// the start (the start itself for year 0) to the next.
    pub fn year(y: u32, calendar: &Calendar) -> Period {
        Period {
            start: calendar.year_start(y),
            end: calendar.year_start(y + 1),
        }
    }

    /// Everything: the whole run, whatever its horizon (incidents cannot happen after it).
    pub fn whole_run() -> Period {
        Period {
            start: 0,
            end: SimTime::MAX,
        }
    }

    /// Whether `t` falls in the period.
    pub fn contains(self, t: SimTime) -> bool {
        self.start <= t && t < self.end
    }
}

/// A duration in an incident's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Happened → known (`detection`, `detection_p50`).
    Detection,
    /// Known → someone started handling it (`acknowledgement`).
    Acknowledgement,
    /// Happened → closed (`resolution`, `resolution_p50`).
    Resolution,
}

impl Span {
    /// This span of incident `i`, if it has ended.
    pub fn of(self, i: &IncidentRecord) -> Option<SimTime> {
        match self {
            Span::Detection => Some(i.detected?.saturating_sub(i.created)),
            Span::Acknowledgement => Some(i.acknowledged?.saturating_sub(i.detected?)),
            Span::Resolution => Some(i.closed?.saturating_sub(i.created)),
        }
    }
}

/// Real incidents (not false alarms) of `incidents` that happened in `period`.
pub fn real_in(
    incidents: &[IncidentRecord],
    period: Period,
) -> impl Iterator<Item = &IncidentRecord> {
    incidents
        .iter()
        .filter(move |i| !i.false_alarm && period.contains(i.created))
}

/// `span` of every incident in `incidents` where it has ended, sorted (seconds).
pub fn spans<'a>(incidents: impl Iterator<Item = &'a IncidentRecord>, span: Span) -> Vec<SimTime> {
    let mut v: Vec<SimTime> = incidents.filter_map(|i| span.of(i)).collect();
    v.sort_unstable();
    v
}

/// Nearest-rank `q`-quantile of sorted durations, in hours; `None` without any.
pub fn percentile_hours(sorted: &[SimTime], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1] as f64 / HOUR as f64)
}

/// Mean satisfaction (0–1) of a group, from a tally of its residents at the end of a
/// period; `None` for an empty group.
pub fn satisfaction(t: &Tally) -> Option<f64> {
    t.mean()
}

/// A metric's definition: its name, unit, what it measures, and how a run's yearly
/// values condense into its final value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KpiDef {
    /// Name in files.
    pub name: &'static str,
    /// Unit, for tables and charts.
    pub unit: &'static str,
    /// What it is.
    pub label: &'static str,
    /// Final value: the sum of the yearly values (a flow, `true`) or their mean (a state,
    /// `false`; `sustained` alone takes the last year, see [`crate::kpi::run_kpis`]).
    pub flow: bool,
    /// Higher is better (for "which model leads").
    pub higher_is_better: bool,
}

impl KpiDef {
    /// The range the metric's values can take, from its unit: shares and 0–1 indices lie
    /// in [0, 1]; counts, hours, years and uses are not negative; money and the price
    /// level are unbounded here.
    pub fn range(&self) -> (f64, f64) {
        match self.unit {
            "share" | "0–1" => (0.0, 1.0),
            "count" | "hours" | "years" | "uses/household" => (0.0, f64::INFINITY),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }
}

macro_rules! kpis {
    ($($id:ident = ($name:literal, $unit:literal, $label:literal, $flow:expr, $better:expr);)+) => {
        /// Index of each KPI.
        #[allow(non_camel_case_types, missing_docs, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        pub enum K { $($id),+ }
        /// Every KPI, in table order.
        pub const KPIS: &[KpiDef] = &[$(KpiDef { name: $name, unit: $unit, label: $label, flow: $flow, higher_is_better: $better }),+];
    };
}

kpis! {
    GovCapital = ("gov_capital", "yuan/resident", "government capital spending", true, false);
    GovOm = ("gov_om", "yuan/resident", "government O&M spending", true, false);
    GovPurchases = ("gov_purchases", "yuan/resident", "government purchases and availability payments", true, false);
    GovStaff = ("gov_staff", "yuan/resident", "government staff wages (committee, grid, street office, department crews)", true, false);
    GovInterest = ("gov_interest", "yuan/resident", "government interest on the bonds that financed its construction", true, false);
    GovIncome = ("gov_income", "yuan/resident", "government income (its platform's commission and data sales, leases, fines, device fees)", true, true);
    GovNet = ("gov_net", "yuan/resident", "government net spending", true, false);
    GovNpv = ("gov_npv", "yuan/resident", "NPV of government net spending", true, false);
    OperatorProfit = ("operator_profit", "yuan/resident", "platform operator profit", true, true);
    OperatorNpv = ("operator_npv", "yuan/resident", "NPV of the operator's cash flow", true, true);
    EnterpriseProfit = ("enterprise_profit", "yuan/resident", "service enterprises' profit", true, true);
    EnterpriseNpv = ("enterprise_npv", "yuan/resident", "NPV of enterprises' cash flow", true, true);
    ResidentSpending = ("resident_spending", "yuan/resident", "residents' spending on services and fees", true, false);
    Coverage = ("coverage", "share", "working devices / planned devices, all kinds", false, true);
    CoverageNonMarketable = ("coverage_non_marketable", "share", "public-service (non-marketable) device coverage", false, true);
    CoverageMarketable = ("coverage_marketable", "share", "marketable device coverage", false, true);
    Utilization = ("utilization", "share", "utilization of deployed devices", false, true);
    Decommissioned = ("decommissioned", "share", "planned devices removed by the regulator's review", false, false);
    PlatformUp = ("platform_up", "share", "share of the year the platform operated", false, true);
    ServicesUsed = ("services_used", "uses/household", "value-added services used per household", true, true);
    ServedShare = ("served_share", "share", "share of service requests served", false, true);
    ServedShareElderly = ("served_share_elderly", "share", "share served, households with someone 60+", false, true);
    PriceIndex = ("price_index", "× reference", "service price level", false, false);
    Hhi = ("hhi", "0–1", "provider concentration (HHI)", false, false);
    Providers = ("providers", "count", "active service providers", false, true);
    Quality = ("quality", "0–1", "mean quality of service providers", false, true);
    Commission = ("commission", "share", "platform commission", false, false);
    DetectionP50 = ("detection_p50", "hours", "median detection time", false, false);
    ResolutionP50 = ("resolution_p50", "hours", "median resolution time", false, false);
    MicroShare = ("micro_share", "share", "share of incidents closed in the micro-loop", false, true);
    Satisfaction = ("satisfaction", "0–1", "residents' satisfaction", false, true);
    SatisfactionElderly = ("satisfaction_elderly", "0–1", "satisfaction of residents 60+", false, true);
    Adoption = ("adoption", "share", "residents using the app", false, true);
    AdoptionElderly = ("adoption_elderly", "share", "residents 60+ using the app", false, true);
    Sustained = ("sustained", "years", "years until a party could no longer pay", false, true);
    IndexInfrastructure = ("index_infrastructure", "0–1", "evaluation index: smart infrastructure", false, true);
    IndexGovernance = ("index_governance", "0–1", "evaluation index: smart governance", false, true);
    IndexServices = ("index_services", "0–1", "evaluation index: smart services", false, true);
    IndexSafeguards = ("index_safeguards", "0–1", "evaluation index: safeguards", false, true);
    Index = ("index", "0–1", "evaluation index", false, true);
}

/// Number of KPIs.
pub const N_KPIS: usize = KPIS.len();

/// KPI index by name.
pub fn kpi_index(name: &str) -> Option<usize> {
    KPIS.iter().position(|k| k.name == name)
}

/// Definitions by name.
pub fn kpi_map() -> BTreeMap<&'static str, KpiDef> {
    KPIS.iter().map(|k| (k.name, *k)).collect()
}
