//! The window protocol between the engine and the hosts of the behaviours, as plain
//! serde types, so the same protocol can travel in-process or between nodes.
//!
//! For each window the engine sends each actor with anything due a [`StepRequest`] (the
//! window and its sorted inbox); the actor answers once with a [`StepReply`] (what it
//! sent, what it recorded, its next timer). Nothing in either message is a pointer or a
//! channel, so both encode to bytes ([`encode`], [`decode`], versioned by
//! [`PROTOCOL_VERSION`]) for a transport between nodes. In-process, hosts answer
//! through a [`ReplySink`]; a remote transport implements the same trait.

use crate::agents::StepOutput;
use crate::message::{ActorId, Envelope};
use civitas_twin::time::SimTime;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tokio::sync::mpsc;

/// Version of the encoded protocol; bump it when a protocol type changes shape.
pub const PROTOCOL_VERSION: u16 = 8;

/// Engine → host: process the window `[start, end)` over this inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StepRequest {
    /// Start of the window.
    pub(crate) start: SimTime,
    /// End of the window (exclusive).
    pub(crate) end: SimTime,
    /// Messages due in the window, sorted by (time, priority, source, sequence).
    pub(crate) inbox: Vec<Envelope>,
}

/// Host → engine: the result of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StepReply {
    /// Who answers.
    pub(crate) actor: ActorId,
    /// The window's start.
    pub(crate) start: SimTime,
    /// What it did, or why its behaviour failed.
    pub(crate) result: Result<StepOutput, StepFailure>,
}

/// Why a host could not answer a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum StepFailure {
    /// The behaviour panicked while handling the window.
    Panicked(String),
    /// The host actor stopped (reported by its supervisor).
    Gone(String),
}

/// Where hosts send their replies.
pub(crate) trait ReplySink: Send + Sync + 'static {
    /// Sends one reply; `false` if nobody is listening any more.
    fn send(&self, reply: StepReply) -> bool;
}

impl ReplySink for mpsc::UnboundedSender<StepReply> {
    fn send(&self, reply: StepReply) -> bool {
        mpsc::UnboundedSender::send(self, reply).is_ok()
    }
}

/// One protocol message as a transport between nodes carries it: a step request to a
/// remote host or a reply back to the engine. With the `cluster` feature it is a
/// ractor message that serializes itself ([`encode`]d, so versioned), which a
/// ractor_cluster remote actor can carry; a host's replies can then go to an
/// `ActorRef<WireMessage>` on the engine's node, which is a [`ReplySink`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage(pub(crate) Frame);

/// What a [`WireMessage`] holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Frame {
    /// Engine → host.
    Step(StepRequest),
    /// Host → engine.
    Reply(StepReply),
}

impl WireMessage {
    /// The message's bytes ([`encode`]: version, then the frame).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(&self.0)
    }

    /// Reads what [`Self::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<WireMessage, DecodeError> {
        decode(bytes).map(WireMessage)
    }

    /// Which message it is (`step` or `reply`), as the cluster transport names it.
    pub fn variant(&self) -> &'static str {
        match self.0 {
            Frame::Step(_) => "step",
            Frame::Reply(_) => "reply",
        }
    }
}

#[cfg(feature = "cluster")]
impl ractor::Message for WireMessage {
    fn serializable() -> bool {
        true
    }

    fn serialize(
        self,
    ) -> Result<ractor::message::SerializedMessage, ractor::message::BoxedDowncastErr> {
        Ok(ractor::message::SerializedMessage::Cast {
            variant: self.variant().to_string(),
            args: self.to_bytes(),
            metadata: None,
        })
    }

    fn deserialize(
        bytes: ractor::message::SerializedMessage,
    ) -> Result<Self, ractor::message::BoxedDowncastErr> {
        match bytes {
            ractor::message::SerializedMessage::Cast { args, .. } => {
                WireMessage::from_bytes(&args).map_err(|_| ractor::message::BoxedDowncastErr)
            }
            _ => Err(ractor::message::BoxedDowncastErr),
        }
    }
}

#[cfg(feature = "cluster")]
impl ReplySink for ractor::ActorRef<WireMessage> {
    fn send(&self, reply: StepReply) -> bool {
        self.cast(WireMessage(Frame::Reply(reply))).is_ok()
    }
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Too short to hold a version.
    #[error("truncated: {0} bytes")]
    Truncated(usize),
    /// Written by another version of the protocol.
    #[error("protocol version {found}, this build speaks {expected}")]
    Version {
        /// The version found.
        found: u16,
        /// The version this build speaks.
        expected: u16,
    },
    /// Not a valid message.
    #[error("malformed: {0}")]
    Malformed(String),
}

/// Encodes a protocol value: the version, then the value (postcard).
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = PROTOCOL_VERSION.to_le_bytes().to_vec();
    postcard::to_io(value, &mut out).expect("protocol values always encode");
    out
}

/// Decodes what [`encode`] wrote, checking the version.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (v, rest) = bytes
        .split_first_chunk::<2>()
        .ok_or(DecodeError::Truncated(bytes.len()))?;
    let found = u16::from_le_bytes(*v);
    if found != PROTOCOL_VERSION {
        return Err(DecodeError::Version {
            found,
            expected: PROTOCOL_VERSION,
        });
    }
    postcard::from_bytes(rest).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// A fingerprint of how the window protocol and checkpoints encode the vocabulary they
/// carry: every member of every enum of `civitas_twin::kinds` (postcard writes a variant
/// as its index, so a member inserted in the middle renumbers the rest), the device
/// states, escalation reasons, each incident stage, an incident record and a step
/// request. Tests pin it beside [`PROTOCOL_VERSION`] and the checkpoint schema version: a
/// change to the encoding that does not bump them fails, instead of old files and peers
/// being read wrongly.
pub fn encoding_fingerprint() -> u64 {
    use crate::incident::{EscalationReason, IncidentRecord};
    use crate::inject::Inject;
    use crate::message::Payload;
    use crate::observe::{DeviceState, Stage};
    use civitas_twin::kinds::*;
    let mut bytes = Vec::new();
    let mut put = |v: &dyn erased::Encode| v.encode_into(&mut bytes);
    macro_rules! all {
        // Each member's name beside its encoding: a reordering shows too.
        ($($t:ty),+) => { $( for m in <$t>::ALL { put(&m.as_str()); put(m); } )+ };
    }
    all!(
        DeviceKind,
        IncidentKind,
        Severity,
        Level,
        Department,
        Handler,
        Party,
        DetectedBy,
        Scope,
        EstateAge,
        Region,
        RateBasis,
        Obligation,
        InvestmentModel,
        ServiceKind,
        StaffRole,
        CommandAction,
        CommandOutcome
    );
    for s in [
        DeviceState::Working,
        DeviceState::Failed,
        DeviceState::Offline,
        DeviceState::Alarm,
    ] {
        put(&s);
    }
    let reasons = [
        EscalationReason::Severity,
        EscalationReason::TimeLimit,
        EscalationReason::Unanswered,
        EscalationReason::QueueFull,
        EscalationReason::BeyondCapacity,
    ];
    for r in reasons {
        put(&r);
    }
    let mut rec = IncidentRecord::new(7, IncidentKind::ElderlyFall, Severity::High, 600);
    rec.detected = Some(660);
    rec.detected_by = Some(DetectedBy::Device);
    put(&rec);
    for stage in [
        Stage::Created,
        Stage::Detected {
            by: DetectedBy::Patrol,
        },
        Stage::Dispatched {
            to: Handler::PropertyFirm,
            arrives: 720,
        },
        Stage::Acknowledged {
            level: Level::Street,
        },
        Stage::Escalated {
            reason: EscalationReason::TimeLimit,
            street: 3,
            arrives: 780,
        },
        Stage::Whistled {
            department: Department::Health,
            reason: EscalationReason::BeyondCapacity,
            arrives: 840,
        },
        Stage::DepartmentReported { on_time: true },
        Stage::Closed {
            record: Box::new(rec.clone()),
        },
    ] {
        put(&stage);
    }
    put(&StepRequest {
        start: 60,
        end: 61,
        inbox: vec![Envelope {
            at: 60,
            src: ActorId(9),
            seq: 1,
            dst: ActorId(2),
            payload: Payload::Inject(Inject::Device {
                device: 4,
                state: DeviceState::Alarm,
            }),
        }],
    });
    put(&Payload::Inject(Inject::Alarm {
        device: 4,
        kind: IncidentKind::GarbageOverflow,
    }));
    put(&Payload::DeviceRepaired {
        device: 4,
        replaced: true,
    });
    put(&Payload::Command {
        id: 1 << 41,
        device: 9,
        action: CommandAction::StartPump,
    });
    put(&Payload::Inject(Inject::CommandOutcome {
        command: 1 << 41,
        device: 9,
        outcome: CommandOutcome::TimedOut,
    }));
    use civitas_twin::vocab::action::Action;
    for action in [
        Action::Acknowledge,
        Action::Dispatch {
            to: Handler::Committee,
        },
        Action::Escalate {
            reason: EscalationReason::QueueFull,
        },
        Action::Whistle {
            department: Department::FireRescue,
            reason: EscalationReason::Severity,
        },
        Action::Report,
        Action::Close,
    ] {
        put(&Payload::Inject(Inject::Act {
            incident: 1 << 41,
            action,
        }));
    }
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Object-safe postcard encoding, for [`encoding_fingerprint`]'s list of values.
mod erased {
    pub(super) trait Encode {
        fn encode_into(&self, out: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Encode for T {
        fn encode_into(&self, out: &mut Vec<u8>) {
            out.extend(postcard::to_stdvec(self).expect("vocabulary values encode"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned with the protocol's version: when this fails, the encoding changed. Bump
    /// `PROTOCOL_VERSION` here and `CHECKPOINT_SCHEMA_VERSION` in
    /// `civitas-scenarios::checkpoint`, and pin the new fingerprint in both tests.
    #[test]
    fn the_encoding_is_pinned_to_the_protocol_version() {
        assert_eq!(
            (PROTOCOL_VERSION, format!("{:016x}", encoding_fingerprint())),
            (8, "c84f39647624d177".to_string()),
            "the protocol's encoding changed: bump PROTOCOL_VERSION (and the checkpoint schema version) and pin the new fingerprint"
        );
    }
    use crate::inject::Inject;
    use crate::message::Payload;
    use crate::observe::DeviceState;

    #[test]
    fn a_step_request_survives_encoding_and_another_version_is_refused() {
        let req = StepRequest {
            start: 60,
            end: 120,
            inbox: vec![Envelope {
                at: 61,
                src: ActorId(7),
                seq: 3,
                dst: ActorId(2),
                payload: Payload::Inject(Inject::Device {
                    device: 4,
                    state: DeviceState::Alarm,
                }),
            }],
        };
        let bytes = encode(&req);
        assert_eq!(decode::<StepRequest>(&bytes), Ok(req.clone()));
        let mut other = bytes.clone();
        other[0] ^= 0xff;
        let err = decode::<StepRequest>(&other).unwrap_err();
        assert!(err.to_string().contains("this build speaks 8"), "{err}");
        assert!(matches!(
            decode::<StepRequest>(&bytes[..5]),
            Err(DecodeError::Malformed(_))
        ));
        assert_eq!(decode::<StepRequest>(&[1]), Err(DecodeError::Truncated(1)));
        let wire = WireMessage(Frame::Step(req));
        assert_eq!(wire.variant(), "step");
        assert_eq!(WireMessage::from_bytes(&wire.to_bytes()), Ok(wire));
    }

    #[cfg(feature = "cluster")]
    #[test]
    fn a_wire_message_serializes_itself_as_a_ractor_cluster_message_would() {
        use ractor::Message;
        let reply = WireMessage(Frame::Reply(StepReply {
            actor: ActorId(3),
            start: 600,
            result: Err(StepFailure::Panicked("boom".into())),
        }));
        assert!(WireMessage::serializable());
        let bytes = Message::serialize(reply.clone()).unwrap();
        match &bytes {
            ractor::message::SerializedMessage::Cast { variant, .. } => {
                assert_eq!(variant, "reply")
            }
            other => panic!("a cast, not {other:?}"),
        }
        assert_eq!(<WireMessage as Message>::deserialize(bytes).unwrap(), reply);
        let garbage = ractor::message::SerializedMessage::Cast {
            variant: "reply".into(),
            args: vec![1, 0, 0xff],
            metadata: None,
        };
        assert!(<WireMessage as Message>::deserialize(garbage).is_err());
    }
}
