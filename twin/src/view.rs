//! The community as a watcher sees it, built by applying the observe stream's events in
//! order: each device's state, each open incident and the loop that holds it. The 3D
//! viewer draws it (from the [`Change`]s it reports) and the live twin's status line
//! counts it; neither needs the engine.

use crate::kinds::{IncidentKind, Level};
use crate::time::SimTime;
use crate::vocab::events::{DeviceState, Event, Stage};
use std::collections::{BTreeMap, HashMap};

/// Who holds an incident, as the viewer colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    /// It happened; nobody knows yet.
    Unnoticed,
    /// The community micro-loop (committee, property firm, grid staff).
    Community,
    /// The street office (the small loop).
    Street,
    /// A district department (the big loop).
    District,
}

impl Holder {
    /// The three loops, in order (for counts).
    pub const LOOPS: [Holder; 3] = [Holder::Community, Holder::Street, Holder::District];

    fn of_level(level: Level) -> Holder {
        match level {
            Level::Micro => Holder::Community,
            Level::Street => Holder::Street,
            Level::District => Holder::District,
        }
    }
}

/// An open incident.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenIncident {
    /// Its kind.
    pub kind: IncidentKind,
    /// Community.
    pub community: u32,
    /// Building it is marked on.
    pub building: u32,
    /// Who holds it now.
    pub holder: Holder,
    /// When it happened.
    pub since: SimTime,
}

/// Something the scene must redraw.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A device changed state.
    Device {
        /// Community.
        community: u32,
        /// Device id.
        device: u32,
        /// New state.
        state: DeviceState,
    },
    /// An incident appeared.
    Opened {
        /// Its id.
        id: u64,
    },
    /// An incident moved to another holder.
    Moved {
        /// Its id.
        id: u64,
        /// The new holder.
        to: Holder,
    },
    /// An incident closed.
    Closed {
        /// Its id.
        id: u64,
    },
}

/// How long a device shows an alarm (simulated seconds): the engine reports an alarm as
/// a moment (a detection or a false alarm), not as a state that later clears.
pub const ALARM_HOLD: SimTime = 3_600;

/// The community as of the playback time.
#[derive(Debug, Default, Clone)]
pub struct TwinView {
    /// Time of the last event applied.
    pub applied_to: SimTime,
    /// Each device's state apart from alarms (working, failed, offline).
    devices: HashMap<(u32, u32), DeviceState>,
    /// Devices showing an alarm, until when.
    alarm_until: HashMap<(u32, u32), SimTime>,
    /// The same, ordered by when each alarm ends.
    alarm_ends: std::collections::BTreeSet<(SimTime, u32, u32)>,
    open: BTreeMap<u64, OpenIncident>,
    closed: u64,
}

impl TwinView {
    /// Applies one event; what the scene must redraw goes into `changes`.
    pub fn apply(&mut self, event: &Event, changes: &mut Vec<Change>) {
        self.expire(event.at(), changes);
        self.applied_to = self.applied_to.max(event.at());
        match event {
            Event::Device {
                at,
                community,
                device,
                state,
                ..
            } => {
                let key = (*community, *device);
                let before = self.device(*community, *device);
                if *state == DeviceState::Alarm {
                    if let Some(until) = self.alarm_until.insert(key, at + ALARM_HOLD) {
                        self.alarm_ends.remove(&(until, key.0, key.1));
                    }
                    self.alarm_ends.insert((at + ALARM_HOLD, key.0, key.1));
                } else {
                    self.devices.insert(key, *state);
                }
                let after = self.device(*community, *device);
                if before != after {
                    changes.push(Change::Device {
                        community: *community,
                        device: *device,
                        state: after,
                    });
                }
            }
            Event::Incident {
                at,
                id,
                kind,
                community,
                building,
                stage,
            } => self.move_incident(*at, *id, *kind, *community, *building, stage, changes),
            Event::Payment(_)
            | Event::Report { .. }
            | Event::Refused { .. }
            | Event::Command { .. }
            | Event::CommandEnded { .. }
            | Event::ComponentFailed { .. } => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn move_incident(
        &mut self,
        at: SimTime,
        id: u64,
        kind: IncidentKind,
        community: u32,
        building: u32,
        stage: &Stage,
        changes: &mut Vec<Change>,
    ) {
        if let Stage::Closed { .. } = stage {
            if self.open.remove(&id).is_some() {
                self.closed += 1;
                changes.push(Change::Closed { id });
            }
            return;
        }
        let to = match stage {
            Stage::Created => Holder::Unnoticed,
            Stage::Detected { .. } | Stage::Dispatched { .. } => Holder::Community,
            Stage::Acknowledged { level } => Holder::of_level(*level),
            Stage::Escalated { .. } => Holder::Street,
            Stage::Whistled { .. } | Stage::DepartmentReported { .. } => Holder::District,
            Stage::Closed { .. } => unreachable!("handled above"),
        };
        match self.open.get_mut(&id) {
            None => {
                self.open.insert(
                    id,
                    OpenIncident {
                        kind,
                        community,
                        building,
                        holder: to,
                        since: at,
                    },
                );
                changes.push(Change::Opened { id });
            }
            // A loop only hands an incident up, never back down.
            Some(open) if to > open.holder => {
                open.holder = to;
                changes.push(Change::Moved { id, to });
            }
            Some(_) => {}
        }
    }

    /// Ends the alarms whose hold has passed by `now`.
    pub fn expire(&mut self, now: SimTime, changes: &mut Vec<Change>) {
        while let Some(&(until, c, d)) = self.alarm_ends.first()
            && until <= now
        {
            self.alarm_ends.pop_first();
            self.alarm_until.remove(&(c, d));
            changes.push(Change::Device {
                community: c,
                device: d,
                state: self.device(c, d),
            });
        }
    }

    /// A device's state: an alarm within the last [`ALARM_HOLD`], else the last state
    /// reported (working until an event says otherwise).
    pub fn device(&self, community: u32, device: u32) -> DeviceState {
        if self.alarm_until.contains_key(&(community, device)) {
            return DeviceState::Alarm;
        }
        self.devices
            .get(&(community, device))
            .copied()
            .unwrap_or(DeviceState::Working)
    }

    /// An open incident.
    pub fn incident(&self, id: u64) -> Option<&OpenIncident> {
        self.open.get(&id)
    }

    /// Open incidents.
    pub fn open(&self) -> impl Iterator<Item = (u64, &OpenIncident)> {
        self.open.iter().map(|(id, o)| (*id, o))
    }

    /// Open incidents held by each loop (community, street, district) and unnoticed.
    pub fn open_by_holder(&self) -> BTreeMap<Holder, usize> {
        let mut out = BTreeMap::new();
        for o in self.open.values() {
            *out.entry(o.holder).or_insert(0) += 1;
        }
        out
    }

    /// Incidents closed so far.
    pub fn closed(&self) -> u64 {
        self.closed
    }

    /// Devices not working, by state (a device in alarm counted only there).
    pub fn devices_by_state(&self) -> BTreeMap<DeviceState, usize> {
        let mut out = BTreeMap::new();
        for (key, s) in &self.devices {
            if *s != DeviceState::Working && !self.alarm_until.contains_key(key) {
                *out.entry(*s).or_insert(0) += 1;
            }
        }
        if !self.alarm_until.is_empty() {
            out.insert(DeviceState::Alarm, self.alarm_until.len());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{Department, DetectedBy, DeviceKind};
    use crate::vocab::incident::EscalationReason;

    fn incident(at: SimTime, id: u64, stage: Stage) -> Event {
        Event::Incident {
            at,
            id,
            kind: IncidentKind::Fire,
            community: 0,
            building: 2,
            stage,
        }
    }

    #[test]
    fn an_incident_climbs_the_loops_and_never_comes_back_down() {
        let mut v = TwinView::default();
        let mut c = Vec::new();
        v.apply(&incident(10, 7, Stage::Created), &mut c);
        assert_eq!(v.incident(7).unwrap().holder, Holder::Unnoticed);
        v.apply(
            &incident(
                20,
                7,
                Stage::Detected {
                    by: DetectedBy::Device,
                },
            ),
            &mut c,
        );
        v.apply(
            &incident(
                30,
                7,
                Stage::Whistled {
                    department: Department::FireRescue,
                    reason: EscalationReason::Severity,
                    arrives: 90,
                },
            ),
            &mut c,
        );
        // A late acknowledgement by the micro-loop does not take it back from the district.
        v.apply(
            &incident(
                40,
                7,
                Stage::Acknowledged {
                    level: Level::Micro,
                },
            ),
            &mut c,
        );
        assert_eq!(v.incident(7).unwrap().holder, Holder::District);
        assert_eq!(
            c,
            vec![
                Change::Opened { id: 7 },
                Change::Moved {
                    id: 7,
                    to: Holder::Community
                },
                Change::Moved {
                    id: 7,
                    to: Holder::District
                },
            ]
        );
        assert_eq!(v.open_by_holder().get(&Holder::District), Some(&1));
        assert_eq!(v.applied_to, 40);
    }

    #[test]
    fn a_device_change_is_reported_once_and_repeats_are_not() {
        let mut v = TwinView::default();
        let mut c = Vec::new();
        let e = |state| Event::Device {
            at: 5,
            community: 1,
            building: 0,
            device: 3,
            kind: DeviceKind::SmokeDetector,
            state,
        };
        v.apply(&e(DeviceState::Working), &mut c);
        assert!(c.is_empty(), "working is where every device starts");
        v.apply(&e(DeviceState::Alarm), &mut c);
        v.apply(&e(DeviceState::Alarm), &mut c);
        assert_eq!(c.len(), 1);
        assert_eq!(v.device(1, 3), DeviceState::Alarm);
        assert_eq!(v.device(1, 4), DeviceState::Working);
        assert_eq!(v.devices_by_state().get(&DeviceState::Alarm), Some(&1));
    }

    #[test]
    fn an_alarm_shows_for_its_hold_then_the_device_is_as_before() {
        let mut v = TwinView::default();
        let mut c = Vec::new();
        let e = |at, state| Event::Device {
            at,
            community: 0,
            building: 0,
            device: 9,
            kind: DeviceKind::SmokeDetector,
            state,
        };
        v.apply(&e(100, DeviceState::Offline), &mut c);
        v.apply(&e(200, DeviceState::Alarm), &mut c);
        v.expire(200 + ALARM_HOLD - 1, &mut c);
        assert_eq!(v.device(0, 9), DeviceState::Alarm);
        // A second alarm within the hold extends it.
        v.apply(&e(300, DeviceState::Alarm), &mut c);
        v.expire(200 + ALARM_HOLD, &mut c);
        assert_eq!(v.device(0, 9), DeviceState::Alarm);
        v.expire(300 + ALARM_HOLD, &mut c);
        assert_eq!(v.device(0, 9), DeviceState::Offline);
        let states: Vec<DeviceState> = c
            .iter()
            .map(|c| match c {
                Change::Device { state, .. } => *state,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            states,
            [
                DeviceState::Offline,
                DeviceState::Alarm,
                DeviceState::Offline
            ]
        );
    }
}
