//! Injects: what the outside world tells a run — an [`Inject`] for an [`Address`] at a
//! simulated time — and the log that records every accepted one ([`InjectRecord`],
//! [`read_log`], [`write_log`]). The engine's intake (`civitas_actors::inject`) accepts
//! them; anyone can write, read and check them without it.

use crate::kinds::{CommandOutcome, Department, IncidentKind};
use crate::time::SimTime;
use crate::vocab::action::{Action, Organisation, Refusal};
use crate::vocab::events::DeviceState;
use serde::{Deserialize, Serialize};

/// Where an inject goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Address {
    /// A building (its host actor: residents, households, devices).
    Building {
        /// Community index.
        community: u32,
        /// Building index within the community.
        building: u32,
    },
    /// A device, by its id within its community (delivered to the building hosting it).
    Device {
        /// Community index.
        community: u32,
        /// Device id within the community.
        device: u32,
    },
    /// A community's residents committee (with its grid workers): actions on its cases.
    Committee {
        /// Community index.
        community: u32,
    },
    /// A community's property firm: actions on its cases.
    PropertyFirm {
        /// Community index.
        community: u32,
    },
    /// A street office: actions on its cases.
    StreetOffice {
        /// Street office index.
        street: u32,
    },
    /// A district department: actions on its cases.
    Department {
        /// Which.
        department: Department,
    },
}

impl Address {
    /// The organisation it names, if it names one.
    pub fn organisation(self) -> Option<Organisation> {
        match self {
            Address::Building { .. } | Address::Device { .. } => None,
            Address::Committee { community } => Some(Organisation::Committee { community }),
            Address::PropertyFirm { community } => Some(Organisation::PropertyFirm { community }),
            Address::StreetOffice { street } => Some(Organisation::StreetOffice { street }),
            Address::Department { department } => Some(Organisation::Department { department }),
        }
    }
}

impl From<Organisation> for Address {
    fn from(o: Organisation) -> Address {
        match o {
            Organisation::Committee { community } => Address::Committee { community },
            Organisation::PropertyFirm { community } => Address::PropertyFirm { community },
            Organisation::StreetOffice { street } => Address::StreetOffice { street },
            Organisation::Department { department } => Address::Department { department },
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self, self.organisation()) {
            (_, Some(o)) => write!(f, "{o}"),
            (
                Address::Building {
                    community,
                    building,
                },
                None,
            ) => {
                write!(f, "building {building} of community {community}")
            }
            (Address::Device { community, device }, None) => {
                write!(f, "device {device} of community {community}")
            }
            _ => unreachable!("every organisation address is named above"),
        }
    }
}

/// What the outside world can tell a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Inject {
    /// An incident happens at a building (a drill's fire, a resident's report): it is
    /// raised as if it had arisen there, and becomes known the way such incidents do.
    Incident {
        /// Its kind.
        kind: IncidentKind,
        /// The household concerned (its id within the community), if any.
        household: Option<u32>,
    },
    /// A device reports a state (telemetry): `failed` breaks it (missed at its next
    /// heartbeat), `offline` makes the platform hear it stopped reporting, `working`
    /// clears a failure, `alarm` raises an incident of the first kind it detects,
    /// known at once through the device.
    Device {
        /// Device id within the community.
        device: u32,
        /// The reported state.
        state: DeviceState,
    },
    /// A device raises an alarm of a given kind (a camera that saw an overflowing bin, a
    /// wearable leaving its fence): an incident of that kind, known at once through the
    /// device. The live twin sends this when the device names what it detected, after
    /// checking that its kind can detect it.
    Alarm {
        /// Device id within the community.
        device: u32,
        /// What it detected.
        kind: IncidentKind,
    },
    /// A person in an organisation acts on a case it holds (sent to the organisation's
    /// address): applied exactly as the organisation's own decision would be, or
    /// refused with a reason ([`crate::vocab::action`]).
    Act {
        /// The incident.
        incident: u64,
        /// What they do.
        action: Action,
    },
    /// A device answers a command (sent to the device's address): the live twin's
    /// confirmation, in place of the simulated device model's.
    CommandOutcome {
        /// The command's correlation id.
        command: u64,
        /// The device (the same as the address's).
        device: u32,
        /// How it ended.
        outcome: CommandOutcome,
    },
}

impl Inject {
    /// Its name, as in files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Inject::Incident { .. } => "incident",
            Inject::Device { .. } => "device",
            Inject::Alarm { .. } => "alarm",
            Inject::Act { .. } => "act",
            Inject::CommandOutcome { .. } => "command_outcome",
        }
    }
}

/// One accepted inject, as the log keeps it. A file written by hand (a drill's events,
/// a what-if) may leave out `source` and `seq`: the source is then found by its name
/// (registered in order of first appearance) and the records of a source keep their
/// order in the file; `source_name` defaults to `injects`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectRecord {
    /// Delivery time.
    pub at: SimTime,
    /// The outside source's index (in order of registration), or [`UNASSIGNED`].
    #[serde(default = "unassigned")]
    pub source: u32,
    /// The source's name.
    #[serde(default = "default_source_name")]
    pub source_name: String,
    /// The source's sequence number (from 1); informative, replay renumbers in order.
    #[serde(default)]
    pub seq: u64,
    /// Destination.
    pub to: Address,
    /// Content.
    pub inject: Inject,
    /// Which pass over its one-second window delivered it: 0, the window itself; 1, 2, …
    /// a live engine's re-entries into the second it had just processed, for injects that
    /// arrived within that second (written only when not 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pass: u32,
}

fn is_zero(p: &u32) -> bool {
    *p == 0
}

/// The `source` of a record that names its source only by name.
pub const UNASSIGNED: u32 = u32::MAX;

fn unassigned() -> u32 {
    UNASSIGNED
}

fn default_source_name() -> String {
    "injects".into()
}

/// Why an inject was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InjectError {
    /// Its time is in a window already processed (or being processed).
    #[error(
        "an inject at simulated second {at} comes too late: the next window starts at simulated second {next}"
    )]
    InvalidDeadline {
        /// The time asked for.
        at: SimTime,
        /// The earliest time accepted.
        next: SimTime,
    },
    /// No such community, building or device.
    #[error("no such destination: {0}")]
    UnknownAddress(String),
    /// An action that does not fit: the wrong loop for it, or a case that is unknown,
    /// closed or held by another organisation. Nothing is logged or changed.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// A replayed record names a source that does not match this run's sources.
    #[error("inject log: {0}")]
    Log(String),
    /// The engine has finished or stopped.
    #[error("the engine is not running")]
    EngineGone,
    /// The engine's intake is full: requests arrive faster than the engine takes them
    /// (recoverable: retry later, or slow down).
    #[error(
        "the engine's intake is full ({capacity} requests waiting); {refused} refused so far: retry later or send less"
    )]
    IntakeFull {
        /// Requests the intake holds.
        capacity: usize,
        /// Requests refused so far on this engine, this one included.
        refused: u64,
    },
}

/// Reads an inject log (JSON lines, as written by [`write_log`]).
pub fn read_log(text: &str) -> Result<Vec<InjectRecord>, String> {
    Ok(read_log_lines(text)?.into_iter().map(|(_, r)| r).collect())
}

/// Reads an inject log with the 1-based line of each record (blank lines are skipped),
/// so a record refused later can be named by its line.
pub fn read_log_lines(text: &str) -> Result<Vec<(usize, InjectRecord)>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map(|r| (i + 1, r))
                .map_err(|e| format!("line {}: {e}", i + 1))
        })
        .collect()
}

/// Writes an inject log as JSON lines.
pub fn write_log(records: &[InjectRecord]) -> String {
    let mut s = String::new();
    for r in records {
        s.push_str(&serde_json::to_string(r).expect("inject records serialize"));
        s.push('\n');
    }
    s
}
