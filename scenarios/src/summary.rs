//! The results of one run: KPIs ([`Summary`], `summary.json`) and the incident table
//! (`incidents.csv`). Neither holds a wall-clock value, so the same scenario and seed
//! give the same bytes.

use crate::metrics::{self, Period, Span};
use civitas_actors::engine::RunResult;
use civitas_actors::incident::IncidentRecord;
use civitas_twin::kinds::{DetectedBy, IncidentKind, Level, Severity};
use civitas_twin::params::Parameters;
use civitas_twin::time::{DAY, HOUR};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

/// Version of the `summary.json` and `incidents.csv` layouts.
pub const SCHEMA_VERSION: u32 = 1;

/// Percentiles of a duration, in hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Times {
    /// Incidents measured.
    pub n: u64,
    /// Median (h).
    pub p50: Option<f64>,
    /// 90th percentile (h).
    pub p90: Option<f64>,
    /// Mean (h).
    pub mean: Option<f64>,
}

/// Counts of incidents.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Real incidents (not false alarms).
    pub total: u64,
    /// Closed by the horizon.
    pub closed: u64,
    /// Known but still open at the horizon (the backlog).
    pub open: u64,
    /// Never detected by the horizon.
    pub undetected: u64,
    /// Share of real incidents closed.
    pub share_closed: f64,
    /// False alarms raised (each was checked).
    pub false_alarms: u64,
}

/// One incident kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindSummary {
    /// Incidents.
    pub total: u64,
    /// Closed, by the loop that closed them.
    pub closed_by: BTreeMap<String, u64>,
    /// Known but still open at the horizon (as the header's `open`).
    pub open: u64,
    /// Never detected by the horizon (as the header's `undetected`).
    pub undetected: u64,
    /// Detection time.
    pub detection: Times,
    /// Resolution time (happened → closed).
    pub resolution: Times,
}

/// Escalation through the loops.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Escalations {
    /// Escalated from the micro-loop to the street office.
    pub to_street: u64,
    /// Whistled from the street office to a department.
    pub to_district: u64,
    /// Reasons for street escalations.
    pub street_reasons: BTreeMap<String, u64>,
    /// Reasons for whistles.
    pub district_reasons: BTreeMap<String, u64>,
    /// Whistles per department.
    pub by_department: BTreeMap<String, u64>,
    /// Departments that reported (took the case).
    pub department_reports: u64,
    /// Share of those reports within the deadline.
    pub department_on_time: Option<f64>,
}

/// The open-case backlog.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Backlog {
    /// Open known incidents at the horizon.
    pub end: u64,
    /// Largest end-of-day backlog.
    pub max: u64,
    /// Open known incidents at the end of each day.
    pub daily: Vec<u64>,
}

/// Mean satisfaction (0–1) by group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Satisfaction {
    /// All residents.
    pub all: Option<f64>,
    /// Residents 60+.
    pub elderly: Option<f64>,
    /// Residents 60+ living alone.
    pub elderly_alone: Option<f64>,
}

/// One device kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceSummary {
    /// Devices.
    pub count: u64,
    /// Share of device-time working.
    pub availability: f64,
    /// Failures.
    pub failures: u64,
    /// Repairs.
    pub repairs: u64,
    /// False alarms.
    pub false_alarms: u64,
}

/// Engine counters (deterministic; wall time is reported elsewhere).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EngineCounts {
    /// ractor actors (building hosts and organizations).
    pub actors: u64,
    /// Events handled (timers + messages).
    pub events: u64,
    /// Messages between actors.
    pub messages: u64,
    /// Non-empty windows processed.
    pub windows: u64,
    /// Actor activations.
    pub activations: u64,
}

/// The KPIs of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Layout version.
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Horizon (days).
    pub days: f64,
    /// Communities simulated.
    pub communities: u64,
    /// Residents simulated.
    pub residents: u64,
    /// Incident counts.
    pub incidents: Counts,
    /// Closed incidents by the loop that closed them.
    pub closed_by_level: BTreeMap<String, u64>,
    /// Detected incidents by how they became known.
    pub detected_by: BTreeMap<String, u64>,
    /// Happened → known.
    pub detection: Times,
    /// Known → someone started handling it.
    pub acknowledgement: Times,
    /// Happened → closed.
    pub resolution: Times,
    /// Resolution by severity.
    pub resolution_by_severity: BTreeMap<String, Times>,
    /// Escalations.
    pub escalation: Escalations,
    /// Backlog.
    pub backlog: Backlog,
    /// Harm accrued while incidents stayed open (severity-weighted hours).
    pub harm: f64,
    /// Satisfaction.
    pub satisfaction: Satisfaction,
    /// Per incident kind.
    pub by_kind: BTreeMap<String, KindSummary>,
    /// Per device kind.
    pub devices: BTreeMap<String, DeviceSummary>,
    /// Device commands by action (`release_doors`, `start_pump`): sent, succeeded,
    /// failed, timed out.
    pub commands: BTreeMap<String, civitas_twin::vocab::events::CommandTally>,
    /// Engine counters.
    pub engine: EngineCounts,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Percentiles ([`metrics::percentile_hours`]) and mean of `span` over `incidents`, in
/// hours.
fn times<'a>(incidents: impl Iterator<Item = &'a IncidentRecord>, span: Span) -> Times {
    let secs = metrics::spans(incidents, span);
    if secs.is_empty() {
        return Times::default();
    }
    let n = secs.len();
    let mean = secs.iter().map(|&s| s as f64).sum::<f64>() / n as f64 / HOUR as f64;
    Times {
        n: n as u64,
        p50: metrics::percentile_hours(&secs, 0.5).map(round4),
        p90: metrics::percentile_hours(&secs, 0.9).map(round4),
        mean: Some(round4(mean)),
    }
}

impl Summary {
    /// Computes the KPIs of a run.
    pub fn from_run(
        scenario: &str,
        seed: u64,
        communities: u64,
        residents: u64,
        params: &Parameters,
        r: &RunResult,
    ) -> Summary {
        let real: Vec<&IncidentRecord> =
            metrics::real_in(&r.incidents, Period::whole_run()).collect();
        let horizon = r.horizon;
        let mut s = Summary {
            schema_version: SCHEMA_VERSION,
            scenario: scenario.to_string(),
            seed,
            days: round4(horizon as f64 / DAY as f64),
            communities,
            residents,
            ..Summary::default()
        };
        let closed = real.iter().filter(|i| i.closed.is_some()).count() as u64;
        let undetected = real.iter().filter(|i| i.detected.is_none()).count() as u64;
        s.incidents = Counts {
            total: real.len() as u64,
            closed,
            open: real.len() as u64 - closed - undetected,
            undetected,
            share_closed: if real.is_empty() {
                0.0
            } else {
                round4(closed as f64 / real.len() as f64)
            },
            false_alarms: (r.incidents.len() - real.len()) as u64,
        };
        for l in Level::ALL {
            s.closed_by_level.insert(l.as_str().into(), 0);
        }
        for b in DetectedBy::ALL {
            s.detected_by.insert(b.as_str().into(), 0);
        }
        for i in &real {
            if let Some(l) = i.closed_level {
                *s.closed_by_level.entry(l.as_str().into()).or_default() += 1;
            }
            if let Some(b) = i.detected_by {
                *s.detected_by.entry(b.as_str().into()).or_default() += 1;
            }
        }
        s.detection = times(real.iter().copied(), Span::Detection);
        s.acknowledgement = times(real.iter().copied(), Span::Acknowledgement);
        s.resolution = times(real.iter().copied(), Span::Resolution);
        for sev in Severity::ALL {
            let t = times(
                real.iter().copied().filter(|i| i.severity == *sev),
                Span::Resolution,
            );
            s.resolution_by_severity.insert(sev.as_str().into(), t);
        }
        // Escalations.
        let e = &mut s.escalation;
        for i in &real {
            if let Some(x) = i.to_street {
                e.to_street += 1;
                *e.street_reasons
                    .entry(x.reason.as_str().into())
                    .or_default() += 1;
            }
            if let Some(x) = i.to_district {
                e.to_district += 1;
                *e.district_reasons
                    .entry(x.reason.as_str().into())
                    .or_default() += 1;
                if let Some(d) = i.department {
                    *e.by_department.entry(d.as_str().into()).or_default() += 1;
                }
            }
        }
        let reports: Vec<bool> = real.iter().filter_map(|i| i.department_on_time).collect();
        e.department_reports = reports.len() as u64;
        e.department_on_time = (!reports.is_empty())
            .then(|| round4(reports.iter().filter(|&&x| x).count() as f64 / reports.len() as f64));
        // Backlog: known and not closed at the end of each day.
        let days = horizon.div_ceil(DAY) as usize;
        let mut diff = vec![0i64; days + 1];
        for i in &real {
            let Some(d) = i.detected else { continue };
            if d >= horizon {
                continue;
            }
            let from = (d / DAY) as usize;
            let to = i.closed.map_or(days, |c| ((c / DAY) as usize).min(days));
            if from < to {
                diff[from] += 1;
                diff[to] -= 1;
            }
        }
        let mut acc = 0i64;
        s.backlog.daily = diff[..days]
            .iter()
            .map(|d| {
                acc += d;
                acc as u64
            })
            .collect();
        s.backlog.end = s.incidents.open;
        s.backlog.max = s.backlog.daily.iter().copied().max().unwrap_or(0);
        // Harm: severity-weighted hours open.
        s.harm = round4(
            real.iter()
                .map(|i| {
                    let open =
                        i.closed.unwrap_or(horizon).saturating_sub(i.created) as f64 / HOUR as f64;
                    open * params.severity(i.severity).harm_per_hour
                })
                .sum(),
        );
        s.satisfaction = Satisfaction {
            all: metrics::satisfaction(&r.satisfaction_all).map(round4),
            elderly: metrics::satisfaction(&r.satisfaction_elderly).map(round4),
            elderly_alone: metrics::satisfaction(&r.satisfaction_elderly_alone).map(round4),
        };
        for k in IncidentKind::ALL {
            let of: Vec<&&IncidentRecord> = real.iter().filter(|i| i.kind == *k).collect();
            let mut ks = KindSummary {
                total: of.len() as u64,
                ..KindSummary::default()
            };
            for i in &of {
                match (i.closed_level, i.detected) {
                    (Some(l), _) => *ks.closed_by.entry(l.as_str().into()).or_default() += 1,
                    (None, Some(_)) => ks.open += 1,
                    (None, None) => ks.undetected += 1,
                }
            }
            ks.detection = times(of.iter().map(|i| **i), Span::Detection);
            ks.resolution = times(of.iter().map(|i| **i), Span::Resolution);
            s.by_kind.insert(k.as_str().into(), ks);
        }
        for (k, t) in &r.devices {
            let exposure = t.count as f64 * horizon as f64;
            s.devices.insert(
                k.as_str().into(),
                DeviceSummary {
                    count: t.count,
                    availability: if exposure > 0.0 {
                        round4(1.0 - t.downtime_secs as f64 / exposure)
                    } else {
                        1.0
                    },
                    failures: t.failures,
                    repairs: t.repairs,
                    false_alarms: t.false_alarms,
                },
            );
        }
        s.commands = r
            .commands
            .iter()
            .map(|(a, t)| (a.as_str().to_string(), *t))
            .collect();
        s.engine = EngineCounts {
            actors: r.stats.actors,
            events: r.stats.events,
            messages: r.stats.messages,
            windows: r.stats.windows,
            activations: r.stats.activations,
        };
        s
    }

    /// `summary.json` text (pretty, stable key order, trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("summary serializes");
        s.push('\n');
        s
    }

    /// A readable summary for the terminal.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let h = |t: &Times| match (t.p50, t.p90) {
            (Some(a), Some(b)) => format!("{:>9} {:>9}", fmt_h(a), fmt_h(b)),
            _ => format!("{:>9} {:>9}", "–", "–"),
        };
        let _ = writeln!(
            o,
            "{} — seed {}, {} days, {} residents in {} communit{}",
            self.scenario,
            self.seed,
            self.days,
            self.residents,
            self.communities,
            if self.communities == 1 { "y" } else { "ies" }
        );
        let c = &self.incidents;
        let _ = writeln!(
            o,
            "\nincidents {}  closed {} ({:.1}%)  open {}  undetected {}  false alarms checked {}",
            c.total,
            c.closed,
            100.0 * c.share_closed,
            c.open,
            c.undetected,
            c.false_alarms
        );
        let _ = writeln!(
            o,
            "\n{:<20} {:>7} {:>7} {:>7} {:>8} {:>6} {:>6}  {:>9} {:>9}",
            "kind", "total", "micro", "street", "district", "open", "undet", "res p50", "res p90"
        );
        for (k, ks) in &self.by_kind {
            if ks.total == 0 {
                continue;
            }
            let g = |l: &str| ks.closed_by.get(l).copied().unwrap_or(0);
            let _ = writeln!(
                o,
                "{:<20} {:>7} {:>7} {:>7} {:>8} {:>6} {:>6}  {}",
                k,
                ks.total,
                g("micro"),
                g("street"),
                g("district"),
                ks.open,
                ks.undetected,
                h(&ks.resolution)
            );
        }
        let _ = writeln!(o, "\n{:<20} {:>9} {:>9}", "time", "p50", "p90");
        let _ = writeln!(o, "{:<20} {}", "detection", h(&self.detection));
        let _ = writeln!(o, "{:<20} {}", "acknowledgement", h(&self.acknowledgement));
        let _ = writeln!(o, "{:<20} {}", "resolution", h(&self.resolution));
        let by: Vec<String> = self
            .detected_by
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(o, "\ndetected by: {}", by.join(", "));
        let e = &self.escalation;
        let _ = writeln!(
            o,
            "escalated to street office: {}   whistled to departments: {}   department reports on time: {}",
            e.to_street,
            e.to_district,
            e.department_on_time
                .map_or("–".into(), |x| format!("{:.1}%", 100.0 * x))
        );
        if !self.commands.is_empty() {
            let by: Vec<String> = (self.commands.iter())
                .map(|(a, t)| {
                    let expired = match t.expired {
                        0 => String::new(),
                        n => format!(", {n} expired"),
                    };
                    format!(
                        "{a} {} ({} succeeded, {} failed, {} timed out{expired})",
                        t.sent, t.succeeded, t.failed, t.timed_out
                    )
                })
                .collect();
            let _ = writeln!(o, "commands: {}", by.join("; "));
        }
        let _ = writeln!(
            o,
            "backlog: {} open at the end, at most {} at a day's end   harm {:.1}",
            self.backlog.end, self.backlog.max, self.harm
        );
        let f = |x: Option<f64>| x.map_or("–".into(), |v| format!("{v:.3}"));
        let _ = writeln!(
            o,
            "satisfaction: all {}   elderly {}   elderly living alone {}",
            f(self.satisfaction.all),
            f(self.satisfaction.elderly),
            f(self.satisfaction.elderly_alone)
        );
        o
    }
}

fn fmt_h(h: f64) -> String {
    if h < 1.0 {
        format!("{:.0} min", h * 60.0)
    } else if h < 48.0 {
        format!("{h:.1} h")
    } else {
        format!("{:.1} d", h / 24.0)
    }
}

/// Column names of `incidents.csv`.
pub const CSV_HEADER: &[&str] = &[
    "id",
    "kind",
    "severity",
    "false_alarm",
    "community",
    "building",
    "household",
    "resident",
    "elderly",
    "created_s",
    "detected_s",
    "detected_by",
    "device",
    "acknowledged_s",
    "to_street_s",
    "to_street_reason",
    "to_district_s",
    "to_district_reason",
    "department",
    "department_reported_s",
    "department_on_time",
    "closed_s",
    "closed_level",
];

/// Writes `incidents.csv`: one row per incident or false alarm, times in seconds since
/// the start, empty where something did not happen.
pub fn write_incidents_csv<W: Write>(w: W, incidents: &[IncidentRecord]) -> csv::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(CSV_HEADER)?;
    let o = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_default();
    for i in incidents {
        out.write_record([
            i.id.to_string(),
            i.kind.as_str().into(),
            i.severity.as_str().into(),
            i.false_alarm.to_string(),
            i.community.to_string(),
            i.building.to_string(),
            o(i.household.map(u64::from)),
            o(i.resident.map(u64::from)),
            i.elderly.to_string(),
            i.created.to_string(),
            o(i.detected),
            i.detected_by
                .map(|b| b.as_str().to_string())
                .unwrap_or_default(),
            i.device.map(|d| d.as_str().to_string()).unwrap_or_default(),
            o(i.acknowledged),
            o(i.to_street.map(|e| e.at)),
            i.to_street
                .map(|e| e.reason.as_str().to_string())
                .unwrap_or_default(),
            o(i.to_district.map(|e| e.at)),
            i.to_district
                .map(|e| e.reason.as_str().to_string())
                .unwrap_or_default(),
            i.department
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
            o(i.department_reported),
            i.department_on_time
                .map(|b| b.to_string())
                .unwrap_or_default(),
            o(i.closed),
            i.closed_level
                .map(|l| l.as_str().to_string())
                .unwrap_or_default(),
        ])?;
    }
    out.flush()?;
    Ok(())
}
