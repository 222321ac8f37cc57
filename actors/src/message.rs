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
