//! The twin's rules as data: thresholds on telemetry values, geofences on a wearable's
//! position, and when a silent device is down. A TOML file (`civitas twin --rules FILE`;
//! the defaults, [`DEFAULT`], are printed by `civitas twin rules`), checked against the
//! scenario's parameters when it is read: every fault with its place.
//!
//! A threshold or geofence *trips* when its condition becomes true and raises an alarm
//! of its incident kind on the device; it re-arms when the value is back past its
//! `clear` level (a geofence: back inside), so a value hovering at the line raises one
//! alarm, not one per reading.

use civitas_twin::Parameters;
use civitas_twin::kinds::{DeviceKind, IncidentKind};
use civitas_twin::time::{DAY, HOUR, parse_duration};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// The default rules file.
pub const DEFAULT: &str = include_str!("../rules/default.toml");

/// The rules file format version this build reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    stale: Stale,
    #[serde(default)]
    threshold: Vec<Threshold>,
    #[serde(default)]
    geofence: Vec<Geofence>,
}

/// When a silent device is down.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stale {
    /// Silence limit as a multiple of the kind's heartbeat.
    #[serde(default = "two")]
    pub heartbeats: f64,
    /// Fixed limits for some kinds ("12h", "2d").
    #[serde(default)]
    pub after: BTreeMap<DeviceKind, String>,
}

fn two() -> f64 {
    2.0
}

impl Default for Stale {
    fn default() -> Self {
        Stale {
            heartbeats: two(),
            after: BTreeMap::new(),
        }
    }
}

/// A threshold on one telemetry value of one device kind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// The device kind.
    pub kind: DeviceKind,
    /// The telemetry value's name.
    pub value: String,
    /// Trips when the value rises above this…
    #[serde(default)]
    pub above: Option<f64>,
    /// …or falls below this (exactly one of the two).
    #[serde(default)]
    pub below: Option<f64>,
    /// Re-arms once the value is back past this (default: the threshold itself).
    #[serde(default)]
    pub clear: Option<f64>,
    /// The incident kind it raises.
    pub raise: IncidentKind,
}

/// A circle a device kind's `lat`/`lon` should stay in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geofence {
    /// The device kind.
    pub kind: DeviceKind,
    /// Centre latitude (degrees).
    pub lat: f64,
    /// Centre longitude (degrees).
    pub lon: f64,
    /// Radius (m).
    pub radius_m: f64,
    /// The incident kind it raises.
    pub raise: IncidentKind,
}

/// Rules read and checked, with which have tripped for which device.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Silence limits.
    pub stale: Stale,
    stale_after: BTreeMap<DeviceKind, Duration>,
    /// Thresholds.
    pub thresholds: Vec<Threshold>,
    /// Geofences.
    pub geofences: Vec<Geofence>,
    /// (wire id, rule index) tripped and not yet re-armed; geofences follow thresholds.
    tripped: HashSet<(String, usize)>,
}

impl Rules {
    /// The default rules, checked against `params`.
    pub fn defaults(params: &Parameters) -> Result<Rules, Vec<String>> {
        Rules::parse(DEFAULT, params)
    }

    /// Reads a rules file, checking each rule against `params`: every fault with the
    /// rule it is in.
    pub fn parse(text: &str, params: &Parameters) -> Result<Rules, Vec<String>> {
        let f: File = toml::from_str(text).map_err(|e| vec![e.to_string().trim().to_string()])?;
        let mut errors = Vec::new();
        if f.version != VERSION {
            errors.push(format!(
                "version {}: this build reads rules version {VERSION}",
                f.version
            ));
        }
        if !(f.stale.heartbeats.is_finite() && (1.0..=1_000.0).contains(&f.stale.heartbeats)) {
            errors.push(format!(
                "stale.heartbeats: expected 1 to 1000 heartbeats, found {}",
                f.stale.heartbeats
            ));
        }
        let mut stale_after = BTreeMap::new();
        for (kind, d) in &f.stale.after {
            match parse_duration(d, HOUR, 365 * DAY) {
                Ok(t) => {
                    stale_after.insert(*kind, Duration::from_secs(t));
                }
                Err(e) => errors.push(format!("stale.after.{kind}: {e}")),
            }
        }
        let detects =
            |kind: DeviceKind, raise: IncidentKind, at: &str, errors: &mut Vec<String>| {
                let d = &params.device(kind).detects;
                if !d.contains(&raise) {
                    let can = if d.is_empty() {
                        "nothing".to_string()
                    } else {
                        d.iter()
                            .map(|k| k.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    errors.push(format!(
                    "{at}: a {kind} cannot raise {raise} (it detects {can}: devices.{kind}.detects)"
                ));
                }
            };
        for (i, t) in f.threshold.iter().enumerate() {
            let at = format!("threshold {} ({} {})", i + 1, t.kind, t.value);
            detects(t.kind, t.raise, &at, &mut errors);
            let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
            match (t.above, t.below) {
                (Some(_), Some(_)) | (None, None) => {
                    errors.push(format!("{at}: give exactly one of `above` and `below`"))
                }
                _ if !finite(t.above) || !finite(t.below) || !finite(t.clear) => {
                    errors.push(format!("{at}: levels must be finite numbers"))
                }
                (Some(a), None) if t.clear.is_some_and(|c| c > a) => errors.push(format!(
                    "{at}: `clear` must not be above `above` ({a}): it re-arms below the line"
                )),
                (None, Some(b)) if t.clear.is_some_and(|c| c < b) => errors.push(format!(
                    "{at}: `clear` must not be below `below` ({b}): it re-arms above the line"
                )),
                _ => {}
            }
            if t.value.is_empty() {
                errors.push(format!("{at}: `value` names no telemetry value"));
            }
        }
        for (i, g) in f.geofence.iter().enumerate() {
            let at = format!("geofence {} ({})", i + 1, g.kind);
            detects(g.kind, g.raise, &at, &mut errors);
            if !(g.lat.is_finite() && (-90.0..=90.0).contains(&g.lat)) {
                errors.push(format!("{at}: lat {} is not a latitude", g.lat));
            }
            if !(g.lon.is_finite() && (-180.0..=180.0).contains(&g.lon)) {
                errors.push(format!("{at}: lon {} is not a longitude", g.lon));
            }
            if !(g.radius_m.is_finite() && g.radius_m > 0.0) {
                errors.push(format!("{at}: radius_m must be above 0"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Rules {
            stale: f.stale,
            stale_after,
            thresholds: f.threshold,
            geofences: f.geofence,
            tripped: HashSet::new(),
        })
    }

    /// How long a device of `kind` may be silent before it is down.
    pub fn stale_after(&self, kind: DeviceKind, params: &Parameters) -> Duration {
        self.stale_after.get(&kind).copied().unwrap_or_else(|| {
            let hb = params.device(kind).heartbeat_hours;
            Duration::from_secs_f64((self.stale.heartbeats * hb * 3600.0).max(1.0))
        })
    }

    /// Whether any threshold or geofence reads the telemetry of `kind`.
    pub fn watches(&self, kind: DeviceKind) -> bool {
        self.thresholds.iter().any(|t| t.kind == kind)
            || self.geofences.iter().any(|g| g.kind == kind)
    }

    /// The incident kinds a device `wire_id` of `kind` newly raises now that its
    /// telemetry reads `values` (a rule whose value is missing keeps its state).
    pub fn evaluate(
        &mut self,
        wire_id: &str,
        kind: DeviceKind,
        values: &BTreeMap<String, f64>,
    ) -> Vec<IncidentKind> {
        let mut raised = Vec::new();
        let n = self.thresholds.len();
        let checks = self
            .thresholds
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind == kind)
            .filter_map(|(i, t)| {
                let v = *values.get(&t.value)?;
                let (over, back) = match (t.above, t.below) {
                    (Some(a), _) => (v > a, v <= t.clear.unwrap_or(a)),
                    (None, Some(b)) => (v < b, v >= t.clear.unwrap_or(b)),
                    (None, None) => return None,
                };
                Some((i, over, back, t.raise))
            })
            .chain(
                self.geofences
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.kind == kind)
                    .filter_map(|(i, g)| {
                        let (lat, lon) = (*values.get("lat")?, *values.get("lon")?);
                        let out = distance_m(g.lat, g.lon, lat, lon) > g.radius_m;
                        Some((n + i, out, !out, g.raise))
                    }),
            )
            .collect::<Vec<_>>();
        for (i, over, back, raise) in checks {
            let key = (wire_id.to_string(), i);
            if over && !self.tripped.contains(&key) {
                self.tripped.insert(key);
                raised.push(raise);
            } else if back {
                self.tripped.remove(&key);
            }
        }
        raised
    }
}

/// Great-circle distance between two points (m), haversine on a sphere of the Earth's
/// mean radius.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn the_default_rules_read_and_a_threshold_raises_once_until_it_clears() {
        let p = Parameters::default();
        let mut r = Rules::defaults(&p).expect("the defaults are valid");
        let level = |v| values(&[("water_level_m", v)]);
        let k = DeviceKind::WaterLevel;
        assert!(r.evaluate("w1", k, &level(0.02)).is_empty());
        assert_eq!(
            r.evaluate("w1", k, &level(0.42)),
            vec![IncidentKind::BasementFlooding]
        );
        assert!(r.evaluate("w1", k, &level(0.45)).is_empty(), "still up");
        assert!(
            r.evaluate("w1", k, &level(0.08)).is_empty(),
            "not yet clear"
        );
        assert!(
            r.evaluate("w2", k, &level(0.2)).len() == 1,
            "each device its own"
        );
        assert!(r.evaluate("w1", k, &level(0.04)).is_empty(), "cleared");
        assert_eq!(r.evaluate("w1", k, &level(0.3)).len(), 1, "raised again");
        // Below-thresholds, and a value a rule does not name, change nothing.
        let h = DeviceKind::HydrantMonitor;
        assert_eq!(
            r.evaluate("h", h, &values(&[("pressure_mpa", 0.05)])),
            vec![IncidentKind::HydrantFault]
        );
        assert!(r.evaluate("h", h, &values(&[("other", 9.0)])).is_empty());
        // The silence limit: twice the heartbeat by default.
        let hb = p.device(k).heartbeat_hours;
        assert_eq!(
            r.stale_after(k, &p),
            Duration::from_secs_f64(2.0 * hb * 3600.0)
        );
    }

    #[test]
    fn a_wearable_leaving_its_fence_raises_wandering_once() {
        let p = Parameters::default();
        let mut r = Rules::defaults(&p).unwrap();
        let at = |lat, lon| values(&[("lat", lat), ("lon", lon), ("heart_rate_bpm", 70.0)]);
        let k = DeviceKind::ElderlyWearable;
        assert!(r.evaluate("e", k, &at(29.861, 121.554)).is_empty());
        // About 1.1 km north.
        assert_eq!(
            r.evaluate("e", k, &at(29.871, 121.554)),
            vec![IncidentKind::ElderlyWandering]
        );
        assert!(r.evaluate("e", k, &at(29.872, 121.554)).is_empty());
        assert!(r.evaluate("e", k, &at(29.8612, 121.554)).is_empty());
        assert_eq!(r.evaluate("e", k, &at(29.871, 121.554)).len(), 1);
        let d = distance_m(29.861, 121.554, 29.871, 121.554);
        assert!((d - 1_112.0).abs() < 2.0, "{d}");
    }

    #[test]
    fn every_fault_in_a_rules_file_is_named_with_its_rule() {
        let p = Parameters::default();
        let bad = r#"
version = 1
[stale]
heartbeats = 0.5
[stale.after]
smart_meter = "soon"
[[threshold]]
kind = "smoke_detector"
value = "battery_v"
below = 2.5
raise = "basement_flooding"
[[threshold]]
kind = "water_level"
value = "water_level_m"
raise = "basement_flooding"
[[threshold]]
kind = "water_level"
value = "water_level_m"
above = 0.1
clear = 0.2
raise = "basement_flooding"
[[geofence]]
kind = "elderly_wearable"
lat = 129.0
lon = 121.5
radius_m = 0.0
raise = "elderly_wandering"
"#;
        let errors = Rules::parse(bad, &p).unwrap_err();
        assert_eq!(
            errors,
            vec![
                "stale.heartbeats: expected 1 to 1000 heartbeats, found 0.5".to_string(),
                "stale.after.smart_meter: expected a duration such as 30d, 12h or 1y, found \"soon\"".to_string(),
                "threshold 1 (smoke_detector battery_v): a smoke_detector cannot raise basement_flooding (it detects fire: devices.smoke_detector.detects)".to_string(),
                "threshold 2 (water_level water_level_m): give exactly one of `above` and `below`".to_string(),
                "threshold 3 (water_level water_level_m): `clear` must not be above `above` (0.1): it re-arms below the line".to_string(),
                "geofence 1 (elderly_wearable): lat 129 is not a latitude".to_string(),
                "geofence 1 (elderly_wearable): radius_m must be above 0".to_string(),
            ]
        );
        let e = Rules::parse("version = 2", &p).unwrap_err();
        assert_eq!(
            e,
            vec!["version 2: this build reads rules version 1".to_string()]
        );
        let e = Rules::parse("version = 1\n[[threshold]]\nkind = \"toaster\"", &p).unwrap_err();
        assert!(e[0].contains("toaster"), "{e:?}");
        let e = Rules::parse("version = 1\nbogus = 3", &p).unwrap_err();
        assert!(e[0].contains("unknown field `bogus`"), "{e:?}");
    }
}
