//! Messages between actors, and the envelope that orders them.

use crate::incident::IncidentRecord;
use civitas_twin::kinds::DeviceKind;
use civitas_twin::time::SimTime;

/// Index of an actor in the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorId(pub u32);

/// What one actor tells another.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Platform → shard: a device is repaired.
    DeviceRepaired {
        /// Device id within the community.
        device: u32,
    },
    /// Shard → platform: an incident (or false alarm) is known.
    Detected(Box<IncidentRecord>),
    /// Shard → platform: a device missed its heartbeat.
    DeviceOffline {
        /// Device id within the community.
        device: u32,
        /// Its kind (for the repair time).
        kind: DeviceKind,
    },
    /// Platform or lower loop → organization: handle this incident.
    Assign(Box<IncidentRecord>),
    /// Closing organization → shard: how an incident affecting its residents ended.
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
        /// Obligations in priority order (cents): platform, device O&M, purchase of
        /// service, availability payment.
        owed: [i64; 4],
    },
    /// District finance → platform: what it paid.
    Funding {
        /// Paid, in the same order as requested (cents).
        paid: [i64; 4],
    },
    /// Platform → shard: whether the platform operates (alarms and app reports need it),
    /// and the price factor of each service relative to its reference price.
    PlatformStatus {
        /// The platform operates.
        operating: bool,
        /// Price factor per service kind.
        prices: [f32; SERVICES],
        /// Which services can be had here at all.
        offered: [bool; SERVICES],
    },
    /// Shard → platform: a month's service requests.
    ServiceDemand(Box<Demand>),
    /// Platform → shard: what share of the month's requests were served, and how well.
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
pub const SERVICES: usize = civitas_twin::kinds::ServiceKind::ALL.len();

/// One month's service requests from one building, by service kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    /// Through the app.
    pub app: [u32; SERVICES],
    /// Through traditional channels (phone, in person).
    pub traditional: [u32; SERVICES],
    /// Of the app requests, from households with someone 60+.
    pub app_elderly: [u32; SERVICES],
    /// Of the traditional requests, from households with someone 60+.
    pub traditional_elderly: [u32; SERVICES],
}

impl Payload {
    /// Delivery priority among messages due at the same second (lower first): repairs
    /// and outcomes settle state before new work arrives.
    pub fn priority(&self) -> u8 {
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
        }
    }

    /// The incident record carried, if any.
    pub fn into_record(self) -> Option<IncidentRecord> {
        match self {
            Payload::Detected(r) | Payload::Assign(r) => Some(*r),
            _ => None,
        }
    }
}

/// A message in flight. The engine delivers envelopes sorted by
/// `(at, priority, src, seq)`; `seq` counts the sender's messages, so the order is total.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Delivery time.
    pub at: SimTime,
    /// Sender.
    pub src: ActorId,
    /// Sender's message sequence number.
    pub seq: u64,
    /// Receiver.
    pub dst: ActorId,
    /// Content.
    pub payload: Payload,
}

impl Envelope {
    /// The delivery order key.
    pub fn key(&self) -> (SimTime, u8, ActorId, u64) {
        (self.at, self.payload.priority(), self.src, self.seq)
    }
}
