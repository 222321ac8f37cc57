//! Parameters of every mechanism, with embedded defaults.
//!
//! The defaults live in `twin/parameters.toml`, commented with the source of each figure
//! (a file in the shared domain sources, a published figure from `PARAMETERS.md`, or
//! "assumption, because …"). A scenario overrides any of them by path, for example
//! `[parameters.incidents.fire] rate = 0.0005`. [`Parameters::validate`] checks ranges
//! and reports each problem with the dotted path of the field.

use crate::kinds::{Department, DeviceKind, Handler, IncidentKind, RateBasis, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The embedded default parameters, as TOML.
pub const DEFAULT_PARAMETERS_TOML: &str = include_str!("../parameters.toml");

/// Every parameter of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// How the engine advances time.
    pub engine: EngineParams,
    /// Who lives in the community.
    pub population: PopulationParams,
    /// What the buildings look like, by estate age.
    pub buildings: BuildingParams,
    /// How residents report problems.
    pub channels: ChannelParams,
    /// Grid staff patrols.
    pub patrol: PatrolParams,
    /// Staff on duty in each loop.
    pub staffing: StaffingParams,
    /// How residents' satisfaction moves.
    pub satisfaction: SatisfactionParams,
    /// Time limits and harm, per severity.
    pub severity: BTreeMap<Severity, SeverityParams>,
    /// Incident kinds: rates, routing, service times.
    pub incidents: BTreeMap<IncidentKind, IncidentParams>,
    /// Device kinds: what they detect, how they fail.
    pub devices: BTreeMap<DeviceKind, DeviceParams>,
    /// Money, investment models, the service market, regulation, adoption.
    pub economy: crate::economy::EconomyParams,
    /// The evaluation index's weights.
    pub evaluation: crate::economy::EvaluationParams,
    /// Commands to devices and the simulated devices that answer them.
    pub commands: CommandParams,
}

/// Commands to devices (a fire releases its building's doors, a flood starts the
/// basement pump) and the built-in device model that answers them in a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandParams {
    /// The platform commands devices when an incident calls for it; false sends none
    /// (the live twin until it forwards commands to hardware).
    pub send: bool,
    /// The simulated devices answer commands (a simulation); false leaves the answer to
    /// real devices through the live twin.
    pub device_model: bool,
    /// Mean time a working device takes to carry out a command and confirm it, seconds
    /// (exponential).
    pub delay_secs: f64,
    /// Chance a working device answers that it could not carry the command out.
    pub failure_prob: f64,
    /// Chance the command or its answer is lost on the way (no answer at all).
    pub loss_prob: f64,
    /// A command with no answer this long after it was sent has timed out, seconds.
    pub timeout_secs: u64,
}

/// How the engine advances time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineParams {
    /// Length of one conservative time window, in seconds. A message sent in a window is
    /// delivered no earlier than the next one.
    pub window_secs: u64,
    /// Time for a message between organizations (dispatch, escalation), in seconds.
    pub dispatch_latency_secs: u64,
}

/// Who lives in the community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationParams {
    /// Mean persons per household.
    pub household_size: f64,
    /// Share of residents aged 60+ who are 80+.
    pub share_80plus_of_60plus: f64,
    /// Share of residents aged 60+ who are 70+ (including 80+).
    pub share_70plus_of_60plus: f64,
    /// Share of residents aged 60+ who live alone.
    pub elderly_living_alone: f64,
    /// Share of residents under 60 who use apps (internet).
    pub digital_under60: f64,
    /// Share of residents 60–79 who use apps.
    pub digital_60plus: f64,
    /// Share of residents 80+ who use apps.
    pub digital_80plus: f64,
    /// Multiplier on app use in a less-developed region.
    pub less_developed_digital_factor: f64,
    /// Multiplier on app use in an old estate.
    pub old_estate_digital_factor: f64,
    /// Share of residents 80+ with impaired mobility (cannot get to a phone after a fall).
    pub impaired_mobility_80plus: f64,
}

/// Building shapes for one estate age.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstateBuildings {
    /// Fewest floors.
    pub floors_min: u32,
    /// Most floors.
    pub floors_max: u32,
    /// Households per floor (all entrances together).
    pub households_per_floor: u32,
    /// Buildings at or above this many floors have lifts.
    pub lift_min_floors: u32,
    /// Lifts per 30 households in a building with lifts.
    pub lifts_per_30_households: f64,
    /// Share of buildings with a basement (car park, storage).
    pub basement_share: f64,
    /// Earliest year built.
    pub year_min: u32,
    /// Latest year built.
    pub year_max: u32,
    /// Footprint width (m).
    pub width_m: f64,
    /// Footprint depth (m).
    pub depth_m: f64,
}

/// What the buildings look like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildingParams {
    /// New estates.
    pub new: EstateBuildings,
    /// Old estates.
    pub old: EstateBuildings,
    /// Gap between buildings on the site plan (m).
    pub spacing_m: f64,
    /// Residents per site point (gate, car-park section).
    pub residents_per_site_point: u32,
}

/// How residents report problems (DOMAIN §3: app, phone to the property firm, 12345).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelParams {
    /// The community app is available.
    pub app: bool,
    /// Phoning the property firm or committee is available.
    pub phone: bool,
    /// The 12345 hotline is available.
    pub hotline: bool,
    /// Mean time from deciding to report to the report reaching the platform, by app (min).
    pub app_delay_mins: f64,
    /// Same, by phone (min).
    pub phone_delay_mins: f64,
    /// Same, by the 12345 hotline, including its dispatch to the community (min).
    pub hotline_delay_mins: f64,
    /// Share of residents who do not use the app but will phone.
    pub phone_share_of_non_app: f64,
}

/// Grid staff patrols.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatrolParams {
    /// Each building is walked past once per this many hours (0 = no patrols).
    pub interval_hours: f64,
}

/// Staff on duty in each loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffingParams {
    /// Hour the day shift starts.
    pub day_start_hour: u32,
    /// Hour the day shift ends.
    pub day_end_hour: u32,
    /// Residents committee members handling incidents on the day shift.
    pub committee_day: u32,
    /// Committee members on call at night.
    pub committee_night: u32,
    /// Grid workers per 10,000 residents (they join the committee's day shift).
    pub grid_workers_per_10k: f64,
    /// Property-firm staff on the day shift per 1,000 households.
    pub property_day_per_1000_households: f64,
    /// Property-firm staff on the night shift per 1,000 households.
    pub property_night_per_1000_households: f64,
    /// Most incidents waiting in one micro-loop queue; beyond it new ones escalate.
    pub micro_queue_capacity: u32,
    /// Mean time for staff to check a false alarm (h).
    pub false_alarm_check_hours: f64,
    /// Street-office coordinators on the day shift.
    pub street_day: u32,
    /// Street-office coordinators at night.
    pub street_night: u32,
    /// Most incidents waiting at a street office; beyond it new ones are whistled up.
    pub street_queue_capacity: u32,
    /// Department crews per 100,000 residents served (at least one crew each).
    pub department_crews_per_100k: BTreeMap<Department, f64>,
}

/// How residents' satisfaction moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SatisfactionParams {
    /// Satisfaction (0–1) before anything happens.
    pub initial: f64,
    /// Weight of one handled incident on the residents it affected.
    pub learning_rate: f64,
    /// Weight for residents of the building who were not directly affected (relative).
    pub neighbour_weight: f64,
    /// Weight of one month's service outcome (share of requests served) on a
    /// household's members.
    pub service_weight: f64,
}

/// Time limits and harm for one severity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityParams {
    /// The micro-loop escalates after this long without closing (h).
    pub micro_limit_hours: f64,
    /// The street office whistles after this long without closing (h).
    pub street_limit_hours: f64,
    /// A department must report (take the case) within this long (h).
    pub department_report_hours: f64,
    /// Residents are satisfied if the incident closes within this long of happening (h).
    pub target_hours: f64,
    /// Harm accrued per hour an incident stays open (arbitrary units, for comparison).
    pub harm_per_hour: f64,
}

/// One incident kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentParams {
    /// What the rate is counted per.
    pub basis: RateBasis,
    /// Incidents per basis unit per year (for `elderly`, the 60–69 rate).
    pub rate: f64,
    /// For `elderly`: rates for 70–79 and 80+ (per person-year).
    #[serde(default)]
    pub rate_older: Option<[f64; 2]>,
    /// Multiplier in old estates.
    pub old_factor: f64,
    /// Multiplier for residents living alone (victim kinds only).
    pub living_alone_factor: f64,
    /// Severity, which selects the time limits.
    pub severity: Severity,
    /// Micro-loop organization that handles it first.
    pub handler: Handler,
    /// Department whistled when it escalates to the district.
    pub department: Department,
    /// Mean time until someone on the spot notices and decides to report (h).
    pub notice_hours: f64,
    /// For victim kinds: chance the victim can call for help themselves.
    pub victim_can_call: f64,
    /// For victim kinds: mean time until someone finds a victim who lives alone (h).
    pub found_alone_hours: f64,
    /// Chance a patrol passing the building notices it (0 if not visible).
    pub patrol_detect: f64,
    /// Mean handling time in the micro-loop (h).
    pub micro_service_hours: f64,
    /// Mean handling time at the street office (h).
    pub street_service_hours: f64,
    /// Mean handling time by the department (h).
    pub district_service_hours: f64,
    /// Chance the micro-loop can close it (otherwise it escalates after trying).
    pub micro_resolve: f64,
    /// Chance the street office can close it (otherwise it whistles).
    pub street_resolve: f64,
}

/// One device kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceParams {
    /// Incident kinds it can detect.
    pub detects: Vec<IncidentKind>,
    /// Chance a working device detects an incident it covers.
    pub detect_prob: f64,
    /// Mean time from the incident to the alarm reaching the platform (s).
    pub latency_secs: f64,
    /// False alarms per device per year.
    pub false_alarms_per_year: f64,
    /// Failures per device per year.
    pub failures_per_year: f64,
    /// Mean time to repair once the platform knows (h).
    pub repair_hours: f64,
    /// Heartbeat interval: a failed device is noticed at its next missed heartbeat (h).
    pub heartbeat_hours: f64,
    /// Marketable: someone will pay for its service (source 002).
    pub marketable: bool,
}

/// A problem found in parameters or a spec: the dotted path of the field and what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path, e.g. `incidents.fire.rate`.
    pub path: String,
    /// What was wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The largest amount of money one parameter may hold (yuan): a billion. Every amount in
/// the ledger is integer cents; with this bound a whole district's sums stay far inside
/// 64 bits.
pub const MAX_YUAN: f64 = 1e9;

/// A number as a person would write it: plain for ordinary magnitudes, exponent
/// notation for huge or tiny ones.
pub fn fmt_num(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Collects field errors under a path prefix.
#[derive(Debug, Default)]
pub struct Checker {
    prefix: Vec<String>,
    /// Problems found so far.
    pub errors: Vec<FieldError>,
}

impl Checker {
    /// Runs `f` with `name` appended to the current path.
    pub fn at(&mut self, name: &str, f: impl FnOnce(&mut Checker)) {
        self.prefix.push(name.to_string());
        f(self);
        self.prefix.pop();
    }

    fn push(&mut self, field: &str, message: String) {
        let mut path = self.prefix.join(".");
        if !field.is_empty() {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(field);
        }
        self.errors.push(FieldError { path, message });
    }

    /// A finite number ≥ 0.
    pub fn non_negative(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            self.push(
                field,
                format!("expected a number ≥ 0, found {}", fmt_num(v)),
            );
        }
    }

    /// A finite number > 0.
    pub fn positive(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && v > 0.0) {
            self.push(
                field,
                format!("expected a number > 0, found {}", fmt_num(v)),
            );
        }
    }

    /// An amount of money in yuan: a number ≥ 0 and at most [`MAX_YUAN`], so that sums
    /// of integer cents over a district cannot overflow.
    pub fn money(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            self.push(
                field,
                format!("expected a number ≥ 0, found {}", fmt_num(v)),
            );
        } else if v > MAX_YUAN {
            self.push(
                field,
                format!(
                    "expected an amount of at most {} yuan, found {}",
                    MAX_YUAN as u64,
                    fmt_num(v)
                ),
            );
        }
    }

    /// A finite number within `lo..=hi` (bounds keep runs finite and memory bounded).
    pub fn range(&mut self, field: &str, v: f64, lo: f64, hi: f64) {
        if !(v.is_finite() && v >= lo && v <= hi) {
            self.push(
                field,
                format!("expected a number from {lo} to {hi}, found {}", fmt_num(v)),
            );
        }
    }

    /// A probability or share in [0, 1].
    pub fn share(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            self.push(
                field,
                format!("expected a share between 0 and 1, found {}", fmt_num(v)),
            );
        }
    }

    /// An integer within `lo..=hi`.
    pub fn int_range(&mut self, field: &str, v: u64, lo: u64, hi: u64) {
        if v < lo || v > hi {
            self.push(
                field,
                format!("expected a whole number from {lo} to {hi}, found {v}"),
            );
        }
    }

    /// A free-form problem.
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.push(field, message.into());
    }
}

impl Default for Parameters {
    fn default() -> Self {
        toml::from_str(DEFAULT_PARAMETERS_TOML).unwrap_or_else(|e: toml::de::Error| {
            panic!(
                "embedded parameters.toml is invalid (a unit test checks it): {}",
                e.message()
            )
        })
    }
}

impl Parameters {
    /// Checks every range; returns all problems found, each with its field path
    /// (relative to `parameters`).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut c = Checker::default();
        c.at("engine", |c| {
            c.int_range("window_secs", self.engine.window_secs, 1, 3_600);
            if 86_400 % self.engine.window_secs.max(1) != 0 {
                c.fail(
                    "window_secs",
                    format!(
                        "expected a divisor of 86400 (a day holds whole windows), found {}",
                        self.engine.window_secs
                    ),
                );
            }
            c.int_range(
                "dispatch_latency_secs",
                self.engine.dispatch_latency_secs,
                0,
                86_400,
            );
        });
        c.at("commands", |c| {
            let k = &self.commands;
            c.non_negative("delay_secs", k.delay_secs);
            c.share("failure_prob", k.failure_prob);
            c.share("loss_prob", k.loss_prob);
            c.int_range("timeout_secs", k.timeout_secs, 1, 86_400);
        });
        c.at("population", |c| {
            let p = &self.population;
            if !(p.household_size.is_finite() && p.household_size >= 1.0) {
                c.fail(
                    "household_size",
                    format!("expected a number ≥ 1, found {}", p.household_size),
                );
            }
            c.share("share_80plus_of_60plus", p.share_80plus_of_60plus);
            c.share("share_70plus_of_60plus", p.share_70plus_of_60plus);
            if p.share_80plus_of_60plus > p.share_70plus_of_60plus {
                c.fail(
                    "share_80plus_of_60plus",
                    "expected at most share_70plus_of_60plus (80+ are also 70+)",
                );
            }
            c.share("elderly_living_alone", p.elderly_living_alone);
            c.share("digital_under60", p.digital_under60);
            c.share("digital_60plus", p.digital_60plus);
            c.share("digital_80plus", p.digital_80plus);
            c.non_negative(
                "less_developed_digital_factor",
                p.less_developed_digital_factor,
            );
            c.non_negative("old_estate_digital_factor", p.old_estate_digital_factor);
            c.share("impaired_mobility_80plus", p.impaired_mobility_80plus);
        });
        c.at("buildings", |c| {
            for (name, b) in [("new", &self.buildings.new), ("old", &self.buildings.old)] {
                c.at(name, |c| {
                    c.int_range("floors_min", b.floors_min as u64, 1, 200);
                    c.int_range("floors_max", b.floors_max as u64, b.floors_min as u64, 200);
                    c.int_range(
                        "households_per_floor",
                        b.households_per_floor as u64,
                        1,
                        100,
                    );
                    c.range(
                        "lifts_per_30_households",
                        b.lifts_per_30_households,
                        0.0,
                        30.0,
                    );
                    c.share("basement_share", b.basement_share);
                    c.int_range("year_max", b.year_max as u64, b.year_min as u64, 3000);
                    c.positive("width_m", b.width_m);
                    c.positive("depth_m", b.depth_m);
                });
            }
            c.non_negative("spacing_m", self.buildings.spacing_m);
            c.int_range(
                "residents_per_site_point",
                self.buildings.residents_per_site_point as u64,
                1,
                1_000_000,
            );
        });
        c.at("channels", |c| {
            let ch = &self.channels;
            c.non_negative("app_delay_mins", ch.app_delay_mins);
            c.non_negative("phone_delay_mins", ch.phone_delay_mins);
            c.non_negative("hotline_delay_mins", ch.hotline_delay_mins);
            c.share("phone_share_of_non_app", ch.phone_share_of_non_app);
        });
        c.at("patrol", |c| {
            c.range("interval_hours", self.patrol.interval_hours, 0.0, 8_760.0)
        });
        c.at("staffing", |c| {
            let s = &self.staffing;
            c.int_range("day_start_hour", s.day_start_hour as u64, 0, 23);
            c.int_range(
                "day_end_hour",
                s.day_end_hour as u64,
                s.day_start_hour as u64 + 1,
                24,
            );
            c.range(
                "grid_workers_per_10k",
                s.grid_workers_per_10k,
                0.0,
                10_000.0,
            );
            c.int_range("committee_day", s.committee_day as u64, 0, 100_000);
            c.int_range("committee_night", s.committee_night as u64, 0, 100_000);
            c.int_range("street_day", s.street_day as u64, 0, 100_000);
            c.int_range("street_night", s.street_night as u64, 0, 100_000);
            c.int_range(
                "micro_queue_capacity",
                s.micro_queue_capacity as u64,
                0,
                10_000_000,
            );
            c.int_range(
                "street_queue_capacity",
                s.street_queue_capacity as u64,
                0,
                10_000_000,
            );
            c.positive("false_alarm_check_hours", s.false_alarm_check_hours);
            c.range(
                "property_day_per_1000_households",
                s.property_day_per_1000_households,
                0.0,
                10_000.0,
            );
            c.range(
                "property_night_per_1000_households",
                s.property_night_per_1000_households,
                0.0,
                10_000.0,
            );
            c.at("department_crews_per_100k", |c| {
                for d in Department::ALL {
                    match s.department_crews_per_100k.get(d) {
                        Some(v) => c.non_negative(d.as_str(), *v),
                        None => c.fail(d.as_str(), "missing: every department needs a crew figure"),
                    }
                }
            });
        });
        c.at("satisfaction", |c| {
            c.share("initial", self.satisfaction.initial);
            c.share("learning_rate", self.satisfaction.learning_rate);
            c.share("neighbour_weight", self.satisfaction.neighbour_weight);
            c.share("service_weight", self.satisfaction.service_weight);
        });
        c.at("severity", |c| {
            for s in Severity::ALL {
                match self.severity.get(s) {
                    None => c.fail(s.as_str(), "missing: every severity needs its time limits"),
                    Some(p) => c.at(s.as_str(), |c| {
                        c.non_negative("micro_limit_hours", p.micro_limit_hours);
                        c.non_negative("street_limit_hours", p.street_limit_hours);
                        c.non_negative("department_report_hours", p.department_report_hours);
                        c.positive("target_hours", p.target_hours);
                        c.non_negative("harm_per_hour", p.harm_per_hour);
                    }),
                }
            }
        });
        c.at("incidents", |c| {
            for k in IncidentKind::ALL {
                match self.incidents.get(k) {
                    None => c.fail(k.as_str(), "missing: every incident kind needs parameters"),
                    Some(p) => c.at(k.as_str(), |c| {
                        c.range("rate", p.rate, 0.0, 10_000.0);
                        if let Some([a, b]) = p.rate_older {
                            c.range("rate_older", a, 0.0, 10_000.0);
                            c.range("rate_older", b, 0.0, 10_000.0);
                        }
                        c.range("old_factor", p.old_factor, 0.0, 100.0);
                        c.range("living_alone_factor", p.living_alone_factor, 0.0, 100.0);
                        c.positive("notice_hours", p.notice_hours);
                        c.share("victim_can_call", p.victim_can_call);
                        c.positive("found_alone_hours", p.found_alone_hours);
                        c.share("patrol_detect", p.patrol_detect);
                        c.positive("micro_service_hours", p.micro_service_hours);
                        c.positive("street_service_hours", p.street_service_hours);
                        c.positive("district_service_hours", p.district_service_hours);
                        c.share("micro_resolve", p.micro_resolve);
                        c.share("street_resolve", p.street_resolve);
                    }),
                }
            }
        });
        c.at("devices", |c| {
            for k in DeviceKind::ALL {
                match self.devices.get(k) {
                    None => c.fail(k.as_str(), "missing: every device kind needs parameters"),
                    Some(p) => c.at(k.as_str(), |c| {
                        c.share("detect_prob", p.detect_prob);
                        c.non_negative("latency_secs", p.latency_secs);
                        c.range(
                            "false_alarms_per_year",
                            p.false_alarms_per_year,
                            0.0,
                            10_000.0,
                        );
                        c.range("failures_per_year", p.failures_per_year, 0.0, 10_000.0);
                        c.positive("repair_hours", p.repair_hours);
                        c.range("heartbeat_hours", p.heartbeat_hours, 1.0 / 3600.0, 8_760.0);
                    }),
                }
            }
        });
        self.economy.check(&mut c);
        self.evaluation.check(&mut c);
        c.errors
    }

    /// Parameters of one incident kind (validated parameters always have every kind).
    pub fn incident(&self, k: IncidentKind) -> &IncidentParams {
        &self.incidents[&k]
    }

    /// Parameters of one device kind.
    pub fn device(&self, k: DeviceKind) -> &DeviceParams {
        &self.devices[&k]
    }

    /// Parameters of one severity.
    pub fn severity(&self, s: Severity) -> &SeverityParams {
        &self.severity[&s]
    }

    /// Device kinds that can detect incident kind `k`, in fixed order.
    pub fn detectors_of(&self, k: IncidentKind) -> Vec<DeviceKind> {
        DeviceKind::ALL
            .iter()
            .copied()
            .filter(|d| self.devices.get(d).is_some_and(|p| p.detects.contains(&k)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse_and_validate() {
        let p = Parameters::default();
        assert_eq!(p.validate(), vec![]);
        assert_eq!(p.incidents.len(), IncidentKind::ALL.len());
        assert_eq!(p.devices.len(), DeviceKind::ALL.len());
    }

    #[test]
    fn negative_rate_is_reported_with_its_path() {
        let mut p = Parameters::default();
        p.incidents.get_mut(&IncidentKind::Fire).unwrap().rate = -1.0;
        let errs = p.validate();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path, "incidents.fire.rate");
        assert_eq!(
            errs[0].message,
            "expected a number from 0 to 10000, found -1"
        );
    }
}
