//! What happened to one incident. The record travels with the incident from the building host
//! that raised it, through the platform and each loop that handled it, to the one that
//! closed it; nobody else holds a copy, so nothing is counted twice or lost.
use serde::{Deserialize, Serialize};

use crate::kinds::{Department, DetectedBy, DeviceKind, IncidentKind, Level, Severity};
use crate::time::SimTime;

/// Why an incident left a loop for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// Its severity sends it up at once (critical incidents).
    Severity,
    /// The level's time limit passed while it was being handled.
    TimeLimit,
    /// The level's time limit passed while it waited for free staff.
    Unanswered,
    /// The level's queue was full.
    QueueFull,
    /// The level handled it and could not close it (needs powers it lacks).
    BeyondCapacity,
}

impl EscalationReason {
    /// snake_case name for files.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::Severity => "severity",
            EscalationReason::TimeLimit => "time_limit",
            EscalationReason::Unanswered => "unanswered",
            EscalationReason::QueueFull => "queue_full",
            EscalationReason::BeyondCapacity => "beyond_capacity",
        }
    }
}

/// An escalation from one loop to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// When it was sent up.
    pub at: SimTime,
    /// Why.
    pub reason: EscalationReason,
}

/// The life of one incident (or one false alarm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// Unique and deterministic: the raising actor's id in the high bits, its own
    /// sequence in the low bits.
    pub id: u64,
    /// Kind (for a false alarm, the first kind its device detects).
    pub kind: IncidentKind,
    /// Severity.
    pub severity: Severity,
    /// A device alarm with nothing behind it; still checked ("every alarm checked").
    pub false_alarm: bool,
    /// Community index.
    pub community: u32,
    /// Building (for site incidents, the building hosting the site point).
    pub building: u32,
    /// Household concerned, if any.
    pub household: Option<u32>,
    /// Resident concerned (the victim), if any.
    pub resident: Option<u32>,
    /// Whether the victim is 60+ or the household has someone 60+.
    pub elderly: bool,
    /// When it happened.
    pub created: SimTime,
    /// When it became known to the platform (None: never, by the horizon).
    pub detected: Option<SimTime>,
    /// How it became known.
    pub detected_by: Option<DetectedBy>,
    /// Which device kind raised it, when a device did.
    pub device: Option<DeviceKind>,
    /// When someone first started handling it.
    pub acknowledged: Option<SimTime>,
    /// Escalation from the micro-loop to the street office.
    pub to_street: Option<Escalation>,
    /// Escalation (whistle) from the street office to a department.
    pub to_district: Option<Escalation>,
    /// Department whistled.
    pub department: Option<Department>,
    /// When the department reported (took the case).
    pub department_reported: Option<SimTime>,
    /// Whether the department reported within its deadline.
    pub department_on_time: Option<bool>,
    /// When it closed.
    pub closed: Option<SimTime>,
    /// Loop that closed it.
    pub closed_level: Option<Level>,
}

impl IncidentRecord {
    /// A new, undetected incident.
    pub fn new(id: u64, kind: IncidentKind, severity: Severity, created: SimTime) -> Self {
        IncidentRecord {
            id,
            kind,
            severity,
            false_alarm: false,
            community: 0,
            building: 0,
            household: None,
            resident: None,
            elderly: false,
            created,
            detected: None,
            detected_by: None,
            device: None,
            acknowledged: None,
            to_street: None,
            to_district: None,
            department: None,
            department_reported: None,
            department_on_time: None,
            closed: None,
            closed_level: None,
        }
    }

    /// The loop currently holding it (or that closed it).
    pub fn level(&self) -> Level {
        if self.to_district.is_some() {
            Level::District
        } else if self.to_street.is_some() {
            Level::Street
        } else {
            Level::Micro
        }
    }

    /// Seconds from happening to closing.
    pub fn resolution_secs(&self) -> Option<SimTime> {
        Some(self.closed? - self.created)
    }
}
