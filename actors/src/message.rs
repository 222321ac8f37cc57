//! Messages between actors, and the envelope that orders them.

use crate::incident::IncidentRecord;
use crate::ledger::Obligations;
use civitas_twin::kinds::DeviceKind;
use civitas_twin::time::SimTime;
use serde::{Deserialize, Serialize};

/// Index of an actor in the engine.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub(crate) struct ActorId(pub u32);

/// What one actor tells another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Payload {
    /// Platform → building host: a device is repaired, or replaced by a new one at the end
    /// of its life.
    DeviceRepaired {
        /// Device id within the community.
        device: u32,
        /// A new device replaced it (its service life starts again).
        replaced: bool,
    },
    /// Building host → platform: an incident (or false alarm) is known.
    Detected(Box<IncidentRecord>),
    /// Building host → platform: a device missed its heartbeat.
    DeviceOffline {
        /// Device id within the community.
        device: u32,
        /// Its kind (for the repair time).
        kind: DeviceKind,
    },
    /// Platform or lower loop → organization: handle this incident.
    Assign(Box<IncidentRecord>),
    /// Closing organization → building host: how an incident affecting its residents ended.
    Outcome {
        /// Household concerned, if any (full weight for its members).
        household: Option<u32>,
        /// Score between 0 (very late) and 1 (within target).
        score: f32,
    },
    /// Platform → district finance: what the government owes this community this year.
    FundingRequest {
        /// Community.
        community: u32,
        /// What it owes, by obligation (cents).
        owed: Obligations,
    },
    /// District finance → platform: what it paid.
    Funding {
        /// Paid, by obligation (cents).
        paid: Obligations,
    },
    /// Platform → building host: whether the platform operates (alarms and app reports need it),
    /// and the price factor of each service relative to its reference price.
    PlatformStatus {
        /// The platform operates.
        operating: bool,
        /// Price factor per service kind.
        prices: [f32; SERVICES],
        /// Which services can be had here at all.
        offered: [bool; SERVICES],
    },
    /// Building host → platform: a month's service requests.
    ServiceDemand(Box<Demand>),
    /// The outside world → an actor: an accepted inject.
    Inject(crate::inject::Inject),
    /// Platform → building host: command a device it hosts (the correlation id is the
    /// platform's).
    Command {
        /// Correlation id.
        id: u64,
        /// Device id within the community.
        device: u32,
        /// What to do.
        action: civitas_twin::kinds::CommandAction,
    },
    /// Platform → building host: what share of the month's requests were served, and how well.
    ServiceOutcome {
        /// Share of app requests served.
        app: f32,
        /// Share of traditional-channel requests served.
        traditional: f32,
        /// Mean quality (0–1) of what app users were served.
        app_quality: f32,
        /// Mean quality (0–1) of what the others were served.
        traditional_quality: f32,
    },
}

/// Number of service kinds.
pub(crate) const SERVICES: usize = civitas_twin::kinds::ServiceKind::ALL.len();

/// One month's service requests from one building, by service kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Demand {
    /// Through the app.
    pub(crate) app: [u32; SERVICES],
    /// Through traditional channels (phone, in person).
    pub(crate) traditional: [u32; SERVICES],
    /// Of the app requests, from households with someone 60+.
    pub(crate) app_elderly: [u32; SERVICES],
    /// Of the traditional requests, from households with someone 60+.
    pub(crate) traditional_elderly: [u32; SERVICES],
}

impl Payload {
    /// Delivery priority among messages due at the same second (lower first): repairs
    /// and outcomes settle state before new work arrives.
    pub(crate) fn priority(&self) -> u8 {
        match self {
            Payload::DeviceRepaired { .. } => 0,
            Payload::Outcome { .. } => 1,
            Payload::DeviceOffline { .. } => 2,
            Payload::Detected(_) => 3,
            Payload::Assign(_) => 4,
            Payload::FundingRequest { .. } => 5,
            Payload::Funding { .. } => 6,
            Payload::PlatformStatus { .. } => 7,
            Payload::ServiceDemand(_) => 8,
            Payload::ServiceOutcome { .. } => 9,
            Payload::Command { .. } => 10,
            Payload::Inject(_) => 11,
        }
    }

    /// Its name, for a refusal's message.
    pub(crate) fn name(&self) -> String {
        match self {
            Payload::DeviceRepaired { .. } => "device_repaired".into(),
            Payload::Detected(_) => "detected".into(),
            Payload::DeviceOffline { .. } => "device_offline".into(),
            Payload::Assign(_) => "assign".into(),
            Payload::Outcome { .. } => "outcome".into(),
            Payload::FundingRequest { .. } => "funding_request".into(),
            Payload::Funding { .. } => "funding".into(),
            Payload::PlatformStatus { .. } => "platform_status".into(),
            Payload::ServiceDemand(_) => "service_demand".into(),
            Payload::Inject(i) => format!("{} inject", i.as_str()),
            Payload::Command { .. } => "command".into(),
            Payload::ServiceOutcome { .. } => "service_outcome".into(),
        }
    }

    /// The incident record carried, if any.
    pub(crate) fn into_record(self) -> Option<IncidentRecord> {
        match self {
            Payload::Detected(r) | Payload::Assign(r) => Some(*r),
            _ => None,
        }
    }
}

/// A message in flight. The engine delivers envelopes sorted by
/// `(at, priority, src, seq)`; `seq` counts the sender's messages, so the order is total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Envelope {
    /// Delivery time.
    pub(crate) at: SimTime,
    /// Sender.
    pub(crate) src: ActorId,
    /// Sender's message sequence number.
    pub(crate) seq: u64,
    /// Receiver.
    pub(crate) dst: ActorId,
    /// Content.
    pub(crate) payload: Payload,
}

impl Envelope {
    /// The delivery order key.
    pub(crate) fn key(&self) -> (SimTime, u8, ActorId, u64) {
        (self.at, self.payload.priority(), self.src, self.seq)
    }
}
