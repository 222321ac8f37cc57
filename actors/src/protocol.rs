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
pub const PROTOCOL_VERSION: u16 = 1;

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

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(decode::<StepRequest>(&bytes), Ok(req));
        let mut other = bytes.clone();
        other[0] ^= 0xff;
        let err = decode::<StepRequest>(&other).unwrap_err();
        assert!(err.to_string().contains("this build speaks 1"), "{err}");
        assert!(matches!(
            decode::<StepRequest>(&bytes[..5]),
            Err(DecodeError::Malformed(_))
        ));
        assert_eq!(decode::<StepRequest>(&[1]), Err(DecodeError::Truncated(1)));
    }
}
