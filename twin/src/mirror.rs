//! The live twin's mirror of real devices: per device what it last reported, what the
//! twin wants it to be (desired ≠ reported stays visible until they agree), when it was
//! last heard, whether it is online, and where it stands in the community. State only —
//! no I/O, no clock: the bridge passes each reading's receive time in.
//!
//! A reading carries the device's own sequence number and timestamp. The mirror orders
//! a device's readings by `(ts_ms, seq)`: an older or equal reading never overwrites a
//! newer one — it is counted as out of order or duplicate — and a reading stamped more
//! than [`MirrorLimits::max_late_ms`] before it arrived is counted late and not applied.
//! Every refusal has a [`Refusal`] reason, counted per reason.

use crate::kinds::{DeviceKind, IncidentKind};
use crate::vocab::events::DeviceState;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Milliseconds since the Unix epoch (device and receive times).
pub type Millis = i64;

/// Why a message did not change the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Not JSON.
    MalformedJson,
    /// JSON, but not the channel's payload (a missing field, a wrong type, an unknown
    /// state).
    WrongType,
    /// Larger than the payload limit.
    TooLarge,
    /// A topic outside the native schema (`civitas/v1/<community>/<building>/<device>/
    /// <channel>`).
    TopicOutsideSchema,
    /// A device the registry does not know.
    UnknownDevice,
    /// The same `(ts_ms, seq)` as the newest reading already applied.
    Duplicate,
    /// Older than the newest reading already applied.
    OutOfOrder,
    /// Stamped too long before it arrived.
    Late,
    /// A retained alarm replayed by the broker on (re)subscription: old news, not a new
    /// alarm.
    RetainedAlarm,
    /// An alarm naming an incident kind the device's kind cannot detect (a smoke detector
    /// reporting a flood): a misconfigured device or a wrong registry line.
    UndetectableAlarm,
    /// An answer to a command the twin did not send to that device (an unknown
    /// correlation id, one from before a restart, or another device's).
    UnknownCommand,
    /// A command found retained on the broker: replayed to every device that subscribes,
    /// it would switch it again (Tasmota's "ghost switching"); the twin clears it.
    RetainedCommand,
}

impl Refusal {
    /// Every reason, in report order.
    pub const ALL: [Refusal; 12] = [
        Refusal::MalformedJson,
        Refusal::WrongType,
        Refusal::TooLarge,
        Refusal::TopicOutsideSchema,
        Refusal::UnknownDevice,
        Refusal::Duplicate,
        Refusal::OutOfOrder,
        Refusal::Late,
        Refusal::RetainedAlarm,
        Refusal::UndetectableAlarm,
        Refusal::UnknownCommand,
        Refusal::RetainedCommand,
    ];

    /// Its name in counters and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::MalformedJson => "malformed_json",
            Refusal::WrongType => "wrong_type",
            Refusal::TooLarge => "too_large",
            Refusal::TopicOutsideSchema => "topic_outside_schema",
            Refusal::UnknownDevice => "unknown_device",
            Refusal::Duplicate => "duplicate",
            Refusal::OutOfOrder => "out_of_order",
            Refusal::Late => "late",
            Refusal::RetainedAlarm => "retained_alarm",
            Refusal::UndetectableAlarm => "undetectable_alarm",
            Refusal::UnknownCommand => "unknown_command",
            Refusal::RetainedCommand => "retained_command",
        }
    }
}

/// Whether a device's connection is up, as its availability topic (and last will) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Never heard of.
    Unknown,
    /// Connected.
    Online,
    /// Disconnected (said so, or its last will said so).
    Offline,
}

/// What a device says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// Measurements, by name (`temperature_c`, `water_level_m`, …).
    Telemetry(BTreeMap<String, f64>),
    /// Its operating state.
    State(DeviceState),
    /// An alarm raised (`active`) or cleared; `kind` when the device says what it saw.
    Alarm {
        /// Raised (true) or cleared.
        active: bool,
        /// What it detected, if it says.
        kind: Option<IncidentKind>,
    },
}

/// A reading with the device's own stamp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    /// The device's sequence number.
    pub seq: u64,
    /// The device's clock.
    pub ts_ms: Millis,
    /// What it says.
    pub reading: Reading,
}

/// Where a mirrored device belongs in the twin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// Its id on the wire (the `<device>` of its topics).
    pub wire_id: String,
    /// Community index in the twin.
    pub community: u32,
    /// Building index within the community.
    pub building: u32,
    /// Device id within the community.
    pub device: u32,
    /// Its kind.
    pub kind: DeviceKind,
}

/// One device as the twin mirrors it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceMirror {
    /// Where it belongs.
    pub placement: Placement,
    /// Its state as last reported (working until it says otherwise).
    pub reported: DeviceState,
    /// Values the twin wants it to report, by measurement name (a command's state echo:
    /// `door_open = 1` after `release_doors`), until it reports them or the command ends
    /// without success.
    pub desired: BTreeMap<String, f64>,
    /// Its last measurements, by name.
    pub values: BTreeMap<String, f64>,
    /// An alarm raised and not yet cleared.
    pub alarm: Option<Option<IncidentKind>>,
    /// Its connection.
    pub availability: Availability,
    /// When anything was last heard from it (receive time).
    pub last_seen: Option<Millis>,
    /// The newest `(ts_ms, seq)` applied.
    pub newest: Option<(Millis, u64)>,
}

impl DeviceMirror {
    fn new(placement: Placement) -> DeviceMirror {
        DeviceMirror {
            placement,
            reported: DeviceState::Working,
            desired: BTreeMap::new(),
            values: BTreeMap::new(),
            alarm: None,
            availability: Availability::Unknown,
            last_seen: None,
            newest: None,
        }
    }

    /// Some desired value is not reported yet.
    pub fn pending(&self) -> bool {
        !self.desired.is_empty()
    }
}

/// What an applied reading changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// New measurements; `reached` names the desired values they report (now no
    /// longer desired: the device did what it was asked).
    Telemetry {
        /// Desired values reached, by name.
        reached: Vec<String>,
    },
    /// The operating state changed from `from` to `to` (or was confirmed: `from == to`).
    State {
        /// Before.
        from: DeviceState,
        /// After.
        to: DeviceState,
    },
    /// An alarm was raised (a new one: not raised already).
    AlarmRaised(Option<IncidentKind>),
    /// An alarm was cleared, or a repeat of one already raised.
    AlarmUnchanged,
    /// An alarm was cleared.
    AlarmCleared,
}

/// Limits on what the mirror accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorLimits {
    /// A reading stamped more than this before it arrived is late (default 1 hour).
    pub max_late_ms: Millis,
}

impl Default for MirrorLimits {
    fn default() -> Self {
        MirrorLimits {
            max_late_ms: 3_600_000,
        }
    }
}

/// Every mirrored device, found by wire id, with the refusals counted by reason.
#[derive(Debug, Clone, Default)]
pub struct Mirror {
    devices: Vec<DeviceMirror>,
    by_wire: HashMap<String, usize>,
    refused: BTreeMap<Refusal, u64>,
    limits: MirrorLimits,
    /// What each device kind can detect; empty: any alarm kind is taken.
    detects: BTreeMap<DeviceKind, Vec<IncidentKind>>,
    /// Routes (a gateway, or the topic prefix a device publishes under) by id.
    routes: HashMap<String, u32>,
    /// Each device's route when last heard (index into `devices`).
    route_of: HashMap<usize, u32>,
}

impl Mirror {
    /// A mirror of the devices `placements` name (later duplicates of a wire id are
    /// ignored: the registry refuses them first).
    pub fn new(placements: impl IntoIterator<Item = Placement>, limits: MirrorLimits) -> Mirror {
        let mut m = Mirror {
            limits,
            ..Mirror::default()
        };
        for p in placements {
            if !m.by_wire.contains_key(&p.wire_id) {
                m.by_wire.insert(p.wire_id.clone(), m.devices.len());
                m.devices.push(DeviceMirror::new(p));
            }
        }
        m
    }

    /// The mirror refusing alarms of a kind the device's kind cannot detect
    /// (`parameters.devices.<kind>.detects`).
    pub fn detecting(mut self, detects: BTreeMap<DeviceKind, Vec<IncidentKind>>) -> Mirror {
        self.detects = detects;
        self
    }

    /// The device with this wire id.
    pub fn get(&self, wire_id: &str) -> Option<&DeviceMirror> {
        self.by_wire.get(wire_id).map(|&i| &self.devices[i])
    }

    /// Every device, in registry order.
    pub fn devices(&self) -> &[DeviceMirror] {
        &self.devices
    }

    /// Counts a refusal made before the mirror (at the wire: malformed, too large, …).
    pub fn refuse(&mut self, why: Refusal) -> Refusal {
        *self.refused.entry(why).or_insert(0) += 1;
        why
    }

    /// Refusals so far, by reason.
    pub fn refused(&self) -> &BTreeMap<Refusal, u64> {
        &self.refused
    }

    /// Applies a reading of `wire_id` received at `now`; a refusal is counted.
    pub fn apply(&mut self, wire_id: &str, r: Stamped, now: Millis) -> Result<Applied, Refusal> {
        let Some(&i) = self.by_wire.get(wire_id) else {
            return Err(self.refuse(Refusal::UnknownDevice));
        };
        let stamp = (r.ts_ms, r.seq);
        let refusal = match self.devices[i].newest {
            Some(newest) if stamp == newest => Some(Refusal::Duplicate),
            Some(newest) if stamp < newest => Some(Refusal::OutOfOrder),
            _ if now - r.ts_ms > self.limits.max_late_ms => Some(Refusal::Late),
            _ => match &r.reading {
                Reading::Alarm {
                    active: true,
                    kind: Some(k),
                } if !self.detects.is_empty()
                    && !self
                        .detects
                        .get(&self.devices[i].placement.kind)
                        .is_some_and(|d| d.contains(k)) =>
                {
                    Some(Refusal::UndetectableAlarm)
                }
                _ => None,
            },
        };
        let d = &mut self.devices[i];
        // Anything heard, even refused, says the device is alive.
        d.last_seen = Some(d.last_seen.map_or(now, |t| t.max(now)));
        if let Some(why) = refusal {
            return Err(self.refuse(why));
        }
        d.newest = Some(stamp);
        Ok(match r.reading {
            Reading::Telemetry(values) => {
                let reached: Vec<String> = (d.desired.iter())
                    .filter(|(name, want)| values.get(*name).is_some_and(|v| v == *want))
                    .map(|(name, _)| name.clone())
                    .collect();
                for name in &reached {
                    d.desired.remove(name);
                }
                d.values.extend(values);
                Applied::Telemetry { reached }
            }
            Reading::State(to) => {
                let from = std::mem::replace(&mut d.reported, to);
                Applied::State { from, to }
            }
            Reading::Alarm { active: true, kind } => {
                let new = d.alarm.is_none();
                d.alarm = Some(kind);
                if new {
                    Applied::AlarmRaised(kind)
                } else {
                    Applied::AlarmUnchanged
                }
            }
            Reading::Alarm { active: false, .. } => {
                if d.alarm.take().is_some() {
                    Applied::AlarmCleared
                } else {
                    Applied::AlarmUnchanged
                }
            }
        })
    }

    /// Sets a device's availability (its availability topic or last will) at `now`.
    pub fn set_availability(
        &mut self,
        wire_id: &str,
        a: Availability,
        now: Millis,
    ) -> Result<(), Refusal> {
        let Some(&i) = self.by_wire.get(wire_id) else {
            return Err(self.refuse(Refusal::UnknownDevice));
        };
        let d = &mut self.devices[i];
        d.availability = a;
        d.last_seen = Some(d.last_seen.map_or(now, |t| t.max(now)));
        Ok(())
    }

    /// Notes that `wire_id` was heard through `route` (its gateway: in the native schema,
    /// the `<community>/<building>` its topic names).
    pub fn heard_via(&mut self, wire_id: &str, route: &str) {
        let Some(&i) = self.by_wire.get(wire_id) else {
            return;
        };
        let next = self.routes.len() as u32;
        let r = match self.routes.get(route) {
            Some(&r) => r,
            None => {
                self.routes.insert(route.to_string(), next);
                next
            }
        };
        self.route_of.insert(i, r);
    }

    /// Sets the availability of every device last heard through `route` (its gateway
    /// went offline, or came back), at `now`; returns them, in registry order.
    pub fn set_availability_via(
        &mut self,
        route: &str,
        a: Availability,
        now: Millis,
    ) -> Vec<Placement> {
        let Some(&r) = self.routes.get(route) else {
            return Vec::new();
        };
        let mut hit: Vec<usize> = self
            .route_of
            .iter()
            .filter(|&(_, &x)| x == r)
            .map(|(&i, _)| i)
            .collect();
        hit.sort_unstable();
        hit.into_iter()
            .map(|i| {
                let d = &mut self.devices[i];
                d.availability = a;
                d.last_seen = Some(d.last_seen.map_or(now, |t| t.max(now)));
                d.placement.clone()
            })
            .collect()
    }

    /// Wants `wire_id` to report `value` for `name` (pending until it does; nothing is
    /// pending when its last report already says so).
    pub fn set_desired(&mut self, wire_id: &str, name: &str, value: f64) -> Result<(), Refusal> {
        let Some(&i) = self.by_wire.get(wire_id) else {
            return Err(self.refuse(Refusal::UnknownDevice));
        };
        let d = &mut self.devices[i];
        if d.values.get(name) == Some(&value) {
            d.desired.remove(name);
        } else {
            d.desired.insert(name.to_string(), value);
        }
        Ok(())
    }

    /// No longer wants `name` of `wire_id` to be anything (its command ended without
    /// success).
    pub fn clear_desired(&mut self, wire_id: &str, name: &str) {
        if let Some(&i) = self.by_wire.get(wire_id) {
            self.devices[i].desired.remove(name);
        }
    }

    /// Devices not heard from since `since` (receive time), in registry order.
    pub fn silent_since(&self, since: Millis) -> impl Iterator<Item = &DeviceMirror> {
        self.devices
            .iter()
            .filter(move |d| d.last_seen.is_none_or(|t| t < since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror() -> Mirror {
        Mirror::new(
            [Placement {
                wire_id: "smoke-7".into(),
                community: 0,
                building: 2,
                device: 7,
                kind: DeviceKind::SmokeDetector,
            }],
            MirrorLimits::default(),
        )
    }

    fn state(seq: u64, ts_ms: Millis, s: DeviceState) -> Stamped {
        Stamped {
            seq,
            ts_ms,
            reading: Reading::State(s),
        }
    }

    #[test]
    fn an_older_or_repeated_reading_never_overwrites_a_newer_one_and_is_counted() {
        let mut m = mirror();
        let now = 10_000;
        assert!(
            m.apply("smoke-7", state(2, 9_000, DeviceState::Failed), now)
                .is_ok()
        );
        assert_eq!(
            m.apply("smoke-7", state(1, 8_000, DeviceState::Working), now),
            Err(Refusal::OutOfOrder)
        );
        assert_eq!(
            m.apply("smoke-7", state(2, 9_000, DeviceState::Failed), now),
            Err(Refusal::Duplicate)
        );
        assert_eq!(
            m.apply(
                "smoke-7",
                state(3, now - 3_600_001, DeviceState::Working),
                now
            ),
            Err(Refusal::OutOfOrder),
            "older than the newest: out of order before late"
        );
        assert_eq!(m.get("smoke-7").unwrap().reported, DeviceState::Failed);
        assert_eq!(
            m.apply("nobody", state(1, 9_500, DeviceState::Working), now),
            Err(Refusal::UnknownDevice)
        );
        let counts: Vec<(Refusal, u64)> = m.refused().iter().map(|(r, n)| (*r, *n)).collect();
        assert_eq!(
            counts,
            [
                (Refusal::UnknownDevice, 1),
                (Refusal::Duplicate, 1),
                (Refusal::OutOfOrder, 2)
            ]
        );
    }

    #[test]
    fn a_late_reading_is_counted_and_not_applied_but_the_device_was_heard() {
        let mut m = mirror();
        let now = 100_000_000;
        assert_eq!(
            m.apply(
                "smoke-7",
                state(1, now - 3_600_001, DeviceState::Failed),
                now
            ),
            Err(Refusal::Late)
        );
        let d = m.get("smoke-7").unwrap();
        assert_eq!(d.reported, DeviceState::Working);
        assert_eq!(d.last_seen, Some(now));
        assert_eq!(m.silent_since(now).count(), 0);
        assert_eq!(m.silent_since(now + 1).count(), 1);
    }

    #[test]
    fn desired_stays_visible_until_the_device_reports_it() {
        let mut m = mirror();
        let telemetry = |seq, door: f64| Stamped {
            seq,
            ts_ms: seq as Millis,
            reading: Reading::Telemetry(BTreeMap::from([("door_open".to_string(), door)])),
        };
        m.set_desired("smoke-7", "door_open", 1.0).unwrap();
        assert!(m.get("smoke-7").unwrap().pending());
        assert_eq!(
            m.apply("smoke-7", telemetry(1, 0.0), 10),
            Ok(Applied::Telemetry { reached: vec![] })
        );
        assert!(m.get("smoke-7").unwrap().pending());
        assert_eq!(
            m.apply("smoke-7", telemetry(2, 1.0), 10),
            Ok(Applied::Telemetry {
                reached: vec!["door_open".into()]
            })
        );
        let d = m.get("smoke-7").unwrap();
        assert!(!d.pending() && d.desired.is_empty());
        // Already so: nothing to wait for.
        m.set_desired("smoke-7", "door_open", 1.0).unwrap();
        assert!(!m.get("smoke-7").unwrap().pending());
        m.set_desired("smoke-7", "door_open", 0.0).unwrap();
        m.clear_desired("smoke-7", "door_open");
        assert!(!m.get("smoke-7").unwrap().pending());
        assert_eq!(
            m.set_desired("nobody", "door_open", 1.0),
            Err(Refusal::UnknownDevice)
        );
    }

    #[test]
    fn an_alarm_of_a_kind_the_device_cannot_detect_is_refused() {
        let detects = BTreeMap::from([(DeviceKind::SmokeDetector, vec![IncidentKind::Fire])]);
        let mut m = mirror().detecting(detects);
        let alarm = |seq, kind| Stamped {
            seq,
            ts_ms: seq as Millis,
            reading: Reading::Alarm {
                active: true,
                kind: Some(kind),
            },
        };
        assert_eq!(
            m.apply("smoke-7", alarm(1, IncidentKind::BasementFlooding), 10),
            Err(Refusal::UndetectableAlarm)
        );
        assert_eq!(m.get("smoke-7").unwrap().alarm, None, "not raised");
        assert_eq!(m.refused()[&Refusal::UndetectableAlarm], 1);
        assert_eq!(
            m.apply("smoke-7", alarm(2, IncidentKind::Fire), 10),
            Ok(Applied::AlarmRaised(Some(IncidentKind::Fire)))
        );
    }

    #[test]
    fn an_alarm_is_raised_once_until_it_is_cleared() {
        let mut m = mirror();
        let alarm = |seq, active| Stamped {
            seq,
            ts_ms: seq as Millis,
            reading: Reading::Alarm {
                active,
                kind: Some(IncidentKind::Fire),
            },
        };
        assert_eq!(
            m.apply("smoke-7", alarm(1, true), 10),
            Ok(Applied::AlarmRaised(Some(IncidentKind::Fire)))
        );
        assert_eq!(
            m.apply("smoke-7", alarm(2, true), 10),
            Ok(Applied::AlarmUnchanged)
        );
        assert_eq!(
            m.apply("smoke-7", alarm(3, false), 10),
            Ok(Applied::AlarmCleared)
        );
        assert_eq!(
            m.apply("smoke-7", alarm(4, true), 10),
            Ok(Applied::AlarmRaised(Some(IncidentKind::Fire)))
        );
    }

    proptest::proptest! {
        /// Whatever order readings arrive in, and however often each is repeated, the
        /// mirror ends in the state of the newest, and what it holds never gets older.
        #[test]
        fn any_order_of_readings_ends_in_the_newest_state(
            stamps in proptest::collection::vec((0i64..50, 0u64..50, 0usize..3), 1..40),
            order in proptest::collection::vec(0usize..1000, 1..80),
        ) {
            let states = [DeviceState::Working, DeviceState::Failed, DeviceState::Offline];
            let readings: Vec<Stamped> = stamps
                .iter()
                .map(|&(ts, seq, s)| state(seq, 1_000 + ts, states[s]))
                .collect();
            let mut m = mirror();
            let mut newest_seen: Option<(Millis, u64)> = None;
            let mut arrivals: Vec<&Stamped> = order.iter().map(|i| &readings[i % readings.len()]).collect();
            arrivals.extend(readings.iter());
            for r in arrivals {
                let _ = m.apply("smoke-7", r.clone(), 2_000);
                let now = m.get("smoke-7").unwrap().newest;
                proptest::prop_assert!(now >= newest_seen, "went back from {newest_seen:?} to {now:?}");
                newest_seen = now;
            }
            // The newest stamp; among readings sharing it, the first to arrive won.
            let top = readings.iter().map(|r| (r.ts_ms, r.seq)).max().unwrap();
            proptest::prop_assert_eq!(m.get("smoke-7").unwrap().newest, Some(top));
            let winners: Vec<DeviceState> = readings
                .iter()
                .filter(|r| (r.ts_ms, r.seq) == top)
                .map(|r| match r.reading { Reading::State(s) => s, _ => unreachable!() })
                .collect();
            proptest::prop_assert!(winners.contains(&m.get("smoke-7").unwrap().reported));
        }
    }
}
