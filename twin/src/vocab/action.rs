//! People acting on incidents: the organisations that hold cases ([`Organisation`]), what
//! a person in one can do with a case ([`Action`], sent as an
//! [`Inject::Act`](crate::vocab::inject::Inject::Act)), why an action is refused
//! ([`Refusal`]), and who holds each open incident, folded from the stream
//! ([`Holdings`]).
//!
//! An action is applied by the organisation's own behaviour through the same code as its
//! own decisions: a person acknowledging a case does what a free staff member taking it
//! does, an escalation by hand is the escalation a time limit causes. Nothing is applied
//! half-way: an action that does not fit the case's state is refused whole, with a
//! reason, and changes nothing.

use crate::kinds::{Department, Handler, IncidentKind, Level};
use crate::time::SimTime;
use crate::vocab::events::{Event, Stage, Window};
use crate::vocab::incident::EscalationReason;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// An organisation that handles incidents in one of the three loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Organisation {
    /// A community's residents committee, with its grid workers (micro-loop).
    Committee {
        /// Community index.
        community: u32,
    },
    /// A community's property firm (micro-loop).
    PropertyFirm {
        /// Community index.
        community: u32,
    },
    /// A street office (small loop).
    StreetOffice {
        /// Street office index.
        street: u32,
    },
    /// A district department (big loop).
    Department {
        /// Which.
        department: Department,
    },
}

impl Organisation {
    /// The loop it works in.
    pub fn level(self) -> Level {
        match self {
            Organisation::Committee { .. } | Organisation::PropertyFirm { .. } => Level::Micro,
            Organisation::StreetOffice { .. } => Level::Street,
            Organisation::Department { .. } => Level::District,
        }
    }

    /// The micro-loop organisation of `community` that is `handler`.
    pub fn handler(handler: Handler, community: u32) -> Organisation {
        match handler {
            Handler::Committee => Organisation::Committee { community },
            Handler::PropertyFirm => Organisation::PropertyFirm { community },
        }
    }
}

impl fmt::Display for Organisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Organisation::Committee { community } => {
                write!(f, "the residents committee of community {community}")
            }
            Organisation::PropertyFirm { community } => {
                write!(f, "the property firm of community {community}")
            }
            Organisation::StreetOffice { street } => write!(f, "street office {street}"),
            Organisation::Department { department } => {
                write!(
                    f,
                    "the {} department",
                    department.as_str().replace('_', " ")
                )
            }
        }
    }
}

/// What a person in an organisation can do with a case it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Take a waiting case now (committee, property firm, street office): what a free
    /// staff member does; its handling time starts.
    Acknowledge,
    /// Hand the case to the other micro-loop organisation of its community (the
    /// committee to the property firm or back).
    Dispatch {
        /// The organisation that is to handle it.
        to: Handler,
    },
    /// Send the case up to the street office (committee, property firm).
    Escalate {
        /// Why.
        reason: EscalationReason,
    },
    /// Call a district department to the case (street office).
    Whistle {
        /// The department.
        department: Department,
        /// Why.
        reason: EscalationReason,
    },
    /// A department takes a case it was whistled to: its crew reports.
    Report,
    /// The case is resolved (by the organisation handling it, after it acknowledged or
    /// reported).
    Close,
}

impl Action {
    /// Its name, as in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledge",
            Action::Dispatch { .. } => "dispatch",
            Action::Escalate { .. } => "escalate",
            Action::Whistle { .. } => "whistle",
            Action::Report => "report",
            Action::Close => "close",
        }
    }

    /// Whether `by`'s loop takes this action at all; if not, the refusal, saying what it
    /// does instead. Checked the same way at the intake, by a file's reader and by the
    /// organisation itself.
    pub fn fits_loop_of(self, incident: u64, by: Organisation) -> Result<(), Refusal> {
        self.allowed_at(by.level())
            .map_err(|why| Refusal::WrongLevel {
                incident,
                by,
                action: self.as_str().into(),
                why: why.into(),
            })
    }

    /// Whether an organisation at `level` may take this action at all; if not, what it
    /// does instead.
    pub fn allowed_at(self, level: Level) -> Result<(), &'static str> {
        match (self, level) {
            (Action::Acknowledge, Level::District) => {
                Err("a department does not acknowledge: its crew reports (`report`)")
            }
            (Action::Report, Level::Micro | Level::Street) => Err(
                "only a department reports; the micro-loop and the street office acknowledge (`acknowledge`)",
            ),
            (Action::Dispatch { .. }, Level::Street | Level::District) => Err(
                "only the micro-loop dispatches, between the committee and the property firm; a street office whistles a department (`whistle`)",
            ),
            (Action::Escalate { .. }, Level::Street) => {
                Err("a street office does not escalate: it whistles a department (`whistle`)")
            }
            (Action::Escalate { .. }, Level::District)
            | (Action::Whistle { .. }, Level::District) => {
                Err("the district level is the last: a department reports and closes")
            }
            (Action::Whistle { .. }, Level::Micro) => {
                Err("only a street office whistles; the micro-loop escalates to it (`escalate`)")
            }
            _ => Ok(()),
        }
    }
}

/// Why an action, or a message, was not applied. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Refusal {
    /// No incident with that id has been dispatched in this run.
    #[error("incident {incident} is unknown (no open or closed incident has that id)")]
    UnknownIncident {
        /// The id.
        incident: u64,
    },
    /// It is closed already.
    #[error("incident {incident} closed at simulated second {at}")]
    Closed {
        /// The id.
        incident: u64,
        /// When it closed.
        at: SimTime,
    },
    /// Another organisation holds it (or nobody yet: detected, not dispatched).
    #[error("incident {incident} is not held by {by}: {}", match holder { Some(h) => format!("{h} holds it"), None => "it has not been dispatched to anyone".to_string() })]
    NotHeld {
        /// The id.
        incident: u64,
        /// Who acted.
        by: Organisation,
        /// Who holds it, as far as the acting side knows.
        holder: Option<Organisation>,
    },
    /// The organisation acted on a case it does not hold (as it knows when the action
    /// arrives: escalated, dispatched or closed since, or never sent there).
    #[error(
        "incident {incident} is not held by {by} (escalated, dispatched or closed since, or never sent there)"
    )]
    NotHere {
        /// The id.
        incident: u64,
        /// Who acted.
        by: Organisation,
    },
    /// The action is not one this organisation's loop takes.
    #[error("{by} cannot {action} incident {incident}: {why}")]
    WrongLevel {
        /// The id.
        incident: u64,
        /// Who acted.
        by: Organisation,
        /// The action's name.
        action: String,
        /// What it does instead.
        why: String,
    },
    /// Taken already: it cannot be acknowledged (or reported) again.
    #[error("incident {incident} was taken up by {by} at simulated second {at} already")]
    AlreadyTaken {
        /// The id.
        incident: u64,
        /// Who holds it.
        by: Organisation,
        /// When it was taken up.
        at: SimTime,
    },
    /// Still waiting: it must be acknowledged (or reported) before it can be closed.
    #[error("incident {incident} is still waiting at {by}: {first} it before closing it")]
    NotTaken {
        /// The id.
        incident: u64,
        /// Who holds it.
        by: Organisation,
        /// What must come first (`acknowledge` or `report`).
        first: String,
    },
    /// A dispatch to the organisation that holds it already.
    #[error("incident {incident} is held by {by} already")]
    SameHandler {
        /// The id.
        incident: u64,
        /// Who holds it.
        by: Organisation,
    },
    /// An action or inject sent where it cannot apply (an action to a building, an
    /// alarm to an organisation).
    #[error("{what} cannot go to {to}")]
    WrongDestination {
        /// What was sent.
        what: String,
        /// Where.
        to: String,
    },
    /// A message a behaviour has no use for (a wiring fault): counted, never silent.
    #[error("{by} has no use for a {what} message")]
    Unexpected {
        /// Who received it.
        by: String,
        /// What it was.
        what: String,
    },
}

/// Who holds one open incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// Its kind.
    pub kind: IncidentKind,
    /// Community.
    pub community: u32,
    /// Building.
    pub building: u32,
    /// When it became known (detected).
    pub detected: SimTime,
    /// The organisation holding it, once dispatched.
    pub holder: Option<Organisation>,
    /// Since when (handed over).
    pub since: SimTime,
    /// When the case reaches the holder (a dispatch, escalation or whistle takes the
    /// engine's dispatch latency): an action before then waits for it.
    pub arrives: SimTime,
    /// When the holder took it up (acknowledged or reported), if it has.
    pub taken: Option<SimTime>,
}

/// Who holds each open incident, folded from the stream's incident events: a case is
/// held from its dispatch, moves with each escalation and whistle, and leaves at its
/// close. The engine keeps one (in its checkpoint) to check actions when they arrive; the
/// console and the terminal prompt fold the same stream the same way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Holdings {
    /// Open incidents that have become known, by id.
    pub open: BTreeMap<u64, Holding>,
    /// Incidents closed, with when (only those known before closing).
    pub closed: BTreeMap<u64, SimTime>,
    /// The end of the last window folded: what "now" is for these holdings.
    #[serde(default)]
    pub as_of: SimTime,
}

impl Holdings {
    /// Folds one window.
    pub fn window(&mut self, w: &Window) {
        for e in &w.events {
            self.apply(e);
        }
        self.as_of = self.as_of.max(w.end);
    }

    /// Folds one event.
    pub fn apply(&mut self, e: &Event) {
        let Event::Incident {
            at,
            id,
            kind,
            community,
            building,
            stage,
        } = e
        else {
            return;
        };
        let (at, community) = (*at, *community);
        let hold = |holder: Option<Organisation>, arrives, open: &mut BTreeMap<u64, Holding>| {
            let h = open.entry(*id).or_insert(Holding {
                kind: *kind,
                community,
                building: *building,
                detected: at,
                holder: None,
                since: at,
                arrives,
                taken: None,
            });
            h.holder = holder;
            h.since = at;
            h.arrives = arrives;
            h.taken = None;
        };
        match stage {
            Stage::Created => {}
            Stage::Detected { .. } => hold(None, at, &mut self.open),
            Stage::Dispatched { to, arrives } => hold(
                Some(Organisation::handler(*to, community)),
                *arrives,
                &mut self.open,
            ),
            Stage::Escalated {
                street, arrives, ..
            } => hold(
                Some(Organisation::StreetOffice { street: *street }),
                *arrives,
                &mut self.open,
            ),
            Stage::Whistled {
                department,
                arrives,
                ..
            } => hold(
                Some(Organisation::Department {
                    department: *department,
                }),
                *arrives,
                &mut self.open,
            ),
            Stage::Acknowledged { .. } | Stage::DepartmentReported { .. } => {
                if let Some(h) = self.open.get_mut(id) {
                    h.taken.get_or_insert(at);
                }
            }
            Stage::Closed { .. } => {
                if self.open.remove(id).is_some() {
                    self.closed.insert(*id, at);
                }
            }
        }
    }

    /// Why `by` may not take `action` on `incident` now, if it may not. The organisation
    /// itself checks again when the action arrives, against the case as it then is.
    pub fn check(&self, incident: u64, by: Organisation, action: Action) -> Result<(), Refusal> {
        action.fits_loop_of(incident, by)?;
        let Some(h) = self.open.get(&incident) else {
            return Err(match self.closed.get(&incident) {
                Some(&at) => Refusal::Closed { incident, at },
                None => Refusal::UnknownIncident { incident },
            });
        };
        if h.holder != Some(by) {
            return Err(Refusal::NotHeld {
                incident,
                by,
                holder: h.holder,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::IncidentKind;

    fn event(at: SimTime, stage: Stage) -> Event {
        Event::Incident {
            at,
            id: 7,
            kind: IncidentKind::ElderlyFall,
            community: 2,
            building: 3,
            stage,
        }
    }

    #[test]
    fn a_case_is_held_from_dispatch_moves_up_the_loops_and_leaves_at_close() {
        let mut h = Holdings::default();
        let committee = Organisation::Committee { community: 2 };
        let street = Organisation::StreetOffice { street: 1 };
        h.apply(&event(
            10,
            Stage::Detected {
                by: crate::kinds::DetectedBy::Device,
            },
        ));
        assert_eq!(h.open[&7].holder, None);
        assert_eq!(
            h.check(7, committee, Action::Acknowledge)
                .unwrap_err()
                .to_string(),
            "incident 7 is not held by the residents committee of community 2: it has not been dispatched to anyone"
        );
        h.apply(&event(
            11,
            Stage::Dispatched {
                to: Handler::Committee,
                arrives: 71,
            },
        ));
        assert_eq!(h.check(7, committee, Action::Acknowledge), Ok(()));
        assert_eq!(h.open[&7].arrives, 71);
        h.apply(&event(
            12,
            Stage::Acknowledged {
                level: Level::Micro,
            },
        ));
        assert_eq!(h.open[&7].taken, Some(12));
        h.apply(&event(
            20,
            Stage::Escalated {
                reason: EscalationReason::TimeLimit,
                street: 1,
                arrives: 80,
            },
        ));
        assert_eq!((h.open[&7].holder, h.open[&7].taken), (Some(street), None));
        assert_eq!(
            h.check(7, committee, Action::Close)
                .unwrap_err()
                .to_string(),
            "incident 7 is not held by the residents committee of community 2: street office 1 holds it"
        );
        assert_eq!(
            h.check(
                7,
                street,
                Action::Escalate {
                    reason: EscalationReason::TimeLimit
                }
            )
            .unwrap_err()
            .to_string(),
            "street office 1 cannot escalate incident 7: a street office does not escalate: it whistles a department (`whistle`)"
        );
        h.apply(&event(
            30,
            Stage::Closed {
                record: Box::new(crate::vocab::incident::IncidentRecord::new(
                    7,
                    IncidentKind::ElderlyFall,
                    crate::kinds::Severity::High,
                    5,
                )),
            },
        ));
        assert!(h.open.is_empty());
        assert_eq!(
            h.check(7, street, Action::Close).unwrap_err().to_string(),
            "incident 7 closed at simulated second 30"
        );
        assert_eq!(
            h.check(8, street, Action::Close).unwrap_err().to_string(),
            "incident 8 is unknown (no open or closed incident has that id)"
        );
    }

    #[test]
    fn each_loop_is_told_what_it_does_instead_of_an_action_it_cannot_take() {
        for (action, level, ok) in [
            (Action::Acknowledge, Level::Micro, true),
            (Action::Acknowledge, Level::District, false),
            (Action::Report, Level::District, true),
            (Action::Report, Level::Street, false),
            (
                Action::Dispatch {
                    to: Handler::PropertyFirm,
                },
                Level::Micro,
                true,
            ),
            (
                Action::Dispatch {
                    to: Handler::PropertyFirm,
                },
                Level::Street,
                false,
            ),
            (
                Action::Whistle {
                    department: Department::Health,
                    reason: EscalationReason::Severity,
                },
                Level::Street,
                true,
            ),
            (
                Action::Whistle {
                    department: Department::Health,
                    reason: EscalationReason::Severity,
                },
                Level::Micro,
                false,
            ),
            (Action::Close, Level::District, true),
        ] {
            assert_eq!(
                action.allowed_at(level).is_ok(),
                ok,
                "{action:?} at {level:?}"
            );
        }
    }
}
