//! The native wire schema, version 1: topics and JSON payloads a device (or a gateway)
//! publishes, read into the twin's types at the edge. Documented for device makers in
//! `docs/guide-operator.md`.
//!
//! Topics: `civitas/v1/<community>/<building>/<device>/<channel>`, each segment free
//! text without `/`, `+` or `#` (the registry maps `<device>` to the twin's device).
//! Channels and payloads:
//! - `telemetry`: `{"seq": 17, "ts_ms": 1765100000000, "values": {"water_level_m": 0.42}}`
//! - `state`: `{"seq": 18, "ts_ms": …, "state": "working" | "failed"}`
//! - `alarm`: `{"seq": 19, "ts_ms": …, "active": true, "kind": "fire"}` (`kind` optional:
//!   the device kind's first detectable incident kind is assumed)
//! - `availability`: `{"state": "online" | "offline"}`, retained; the device's last will
//!   publishes `offline` here. A building gateway's own availability is on the device
//!   [`GATEWAY`] (`_gateway`): it stands for every device heard under its
//!   `<community>/<building>`.
//! - `command` (the twin → the device, QoS 1, **never retained**):
//!   `{"id": "18c2f-7", "action": "release_doors", "ts_ms": …, "expires_ms": …,
//!   "attempt": 1}`; a retry repeats the id (a device carries out an id once);
//! - `ack` (the device → the twin): `{"id": "18c2f-7", "status": "received" |
//!   "succeeded" | "failed", "ts_ms": …}` (optional `"reason"` text): `received` when it
//!   has the command, then `succeeded` or `failed` when it has carried it out. A command
//!   is confirmed only by `succeeded`, or by the device's telemetry reporting the
//!   action's value (`door_open: 1` after `release_doors`): published is never applied.
//!
//! `seq` is the device's own counter, `ts_ms` its clock (milliseconds since the Unix
//! epoch); the mirror orders each device's readings by `(ts_ms, seq)`. Unknown fields are
//! refused (a misspelt field is a wrong payload, not a silently ignored one).

use civitas_twin::kinds::{CommandAction, IncidentKind};
use civitas_twin::mirror::{Availability, Millis, Reading, Refusal, Stamped};
use civitas_twin::vocab::events::DeviceState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema's topic prefix.
pub const PREFIX: &str = "civitas/v1";

/// The filter that subscribes to everything in the schema.
pub const FILTER: &str = "civitas/v1/#";

/// The `<device>` segment of a gateway's own availability: a building gateway (the
/// fleet's, or a real one) publishes `online` on
/// `civitas/v1/<community>/<building>/_gateway/availability` and sets `offline` there as
/// its last will; every device last heard under that `<community>/<building>` follows it.
/// No device may be called this.
pub const GATEWAY: &str = "_gateway";

/// Largest payload accepted (bytes); larger ones are refused as too large.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// What a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Measurements.
    Telemetry,
    /// Operating state.
    State,
    /// An alarm raised or cleared.
    Alarm,
    /// Online or offline (retained; the last will).
    Availability,
    /// A command to the device (published by the twin).
    Command,
    /// The device's answer to a command.
    Ack,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 6] = [
        Channel::Telemetry,
        Channel::State,
        Channel::Alarm,
        Channel::Availability,
        Channel::Command,
        Channel::Ack,
    ];

    /// Its name in topics.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telemetry => "telemetry",
            Channel::State => "state",
            Channel::Alarm => "alarm",
            Channel::Availability => "availability",
            Channel::Command => "command",
            Channel::Ack => "ack",
        }
    }

    fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A topic of the schema, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topic<'a> {
    /// `<community>`.
    pub community: &'a str,
    /// `<building>`.
    pub building: &'a str,
    /// `<device>`: its wire id.
    pub device: &'a str,
    /// `<channel>`.
    pub channel: Channel,
}

impl<'a> Topic<'a> {
    /// Splits `topic`, or says it is outside the schema.
    pub fn parse(topic: &'a str) -> Result<Topic<'a>, Refusal> {
        let rest = topic
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or(Refusal::TopicOutsideSchema)?;
        let parts: Vec<&str> = rest.split('/').collect();
        match parts[..] {
            [community, building, device, channel]
                if [community, building, device].iter().all(|s| segment_ok(s)) =>
            {
                Ok(Topic {
                    community,
                    building,
                    device,
                    channel: Channel::parse(channel).ok_or(Refusal::TopicOutsideSchema)?,
                })
            }
            _ => Err(Refusal::TopicOutsideSchema),
        }
    }
}

fn segment_ok(s: &str) -> bool {
    !s.is_empty() && !s.contains(['+', '#'])
}

/// The topic of `device` in `building` of `community` on `channel`.
pub fn topic(community: &str, building: &str, device: &str, channel: Channel) -> String {
    format!(
        "{PREFIX}/{community}/{building}/{device}/{}",
        channel.as_str()
    )
}

/// A state a device reports about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireState {
    /// Works.
    Working,
    /// Knows it is broken.
    Failed,
}

/// `telemetry` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryPayload {
    /// The device's counter.
    pub seq: u64,
    /// The device's clock (ms since the Unix epoch).
    pub ts_ms: Millis,
    /// Measurements by name.
    pub values: BTreeMap<String, f64>,
}

/// `state` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatePayload {
    /// The device's counter.
    pub seq: u64,
    /// The device's clock.
    pub ts_ms: Millis,
    /// Its state.
    pub state: WireState,
}

/// `alarm` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmPayload {
    /// The device's counter.
    pub seq: u64,
    /// The device's clock.
    pub ts_ms: Millis,
    /// Raised (true) or cleared.
    pub active: bool,
    /// What it detected, if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<IncidentKind>,
}

/// `availability` payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityPayload {
    /// Online or offline.
    pub state: WireAvailability,
}

/// Online or offline, on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireAvailability {
    /// Connected.
    Online,
    /// Gone (said so, or its last will).
    Offline,
}

/// `command` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandPayload {
    /// Its correlation id.
    pub id: String,
    /// What to do.
    pub action: CommandAction,
    /// When the twin sent it (ms since the Unix epoch).
    pub ts_ms: Millis,
    /// After this the command no longer holds: a device that gets it later does nothing.
    pub expires_ms: Millis,
    /// Which attempt this is (1, then each retry).
    pub attempt: u32,
}

/// How far a device got with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// It has the command.
    Received,
    /// It carried it out.
    Succeeded,
    /// It could not.
    Failed,
}

/// `ack` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckPayload {
    /// The command's correlation id.
    pub id: String,
    /// How far it got.
    pub status: AckStatus,
    /// The device's clock.
    pub ts_ms: Millis,
    /// Why it failed, in the device's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Longest correlation id accepted (bytes).
pub const MAX_ID: usize = 64;

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A reading with its stamp.
    Reading(Stamped),
    /// The device's connection.
    Availability(Availability),
    /// A command (the twin's own, heard back through its subscription).
    Command(CommandPayload),
    /// A device's answer to a command.
    Ack(AckPayload),
}

/// Decodes a `channel` payload, or says why not.
pub fn decode(channel: Channel, payload: &[u8]) -> Result<Message, Refusal> {
    if payload.len() > MAX_PAYLOAD {
        return Err(Refusal::TooLarge);
    }
    Ok(match channel {
        Channel::Telemetry => {
            let p: TelemetryPayload = json(payload)?;
            if p.values.values().any(|v| !v.is_finite()) {
                return Err(Refusal::WrongType);
            }
            Message::Reading(Stamped {
                seq: p.seq,
                ts_ms: p.ts_ms,
                reading: Reading::Telemetry(p.values),
            })
        }
        Channel::State => {
            let p: StatePayload = json(payload)?;
            Message::Reading(Stamped {
                seq: p.seq,
                ts_ms: p.ts_ms,
                reading: Reading::State(match p.state {
                    WireState::Working => DeviceState::Working,
                    WireState::Failed => DeviceState::Failed,
                }),
            })
        }
        Channel::Alarm => {
            let p: AlarmPayload = json(payload)?;
            Message::Reading(Stamped {
                seq: p.seq,
                ts_ms: p.ts_ms,
                reading: Reading::Alarm {
                    active: p.active,
                    kind: p.kind,
                },
            })
        }
        Channel::Availability => {
            let p: AvailabilityPayload = json(payload)?;
            Message::Availability(match p.state {
                WireAvailability::Online => Availability::Online,
                WireAvailability::Offline => Availability::Offline,
            })
        }
        Channel::Command => Message::Command(json(payload)?),
        Channel::Ack => {
            let p: AckPayload = json(payload)?;
            if p.id.is_empty() || p.id.len() > MAX_ID {
                return Err(Refusal::WrongType);
            }
            Message::Ack(p)
        }
    })
}

fn json<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(payload).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Refusal::WrongType,
        _ => Refusal::MalformedJson,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_of_the_schema_split_and_others_are_outside_it() {
        let t = topic("haishu-1", "b12", "smoke-0042", Channel::Alarm);
        assert_eq!(t, "civitas/v1/haishu-1/b12/smoke-0042/alarm");
        assert_eq!(
            Topic::parse(&t),
            Ok(Topic {
                community: "haishu-1",
                building: "b12",
                device: "smoke-0042",
                channel: Channel::Alarm,
            })
        );
        for bad in [
            "civitas/v2/c/b/d/alarm",
            "civitas/v1/c/b/d",
            "civitas/v1/c/b/d/alarm/extra",
            "civitas/v1/c/b/d/siren",
            "civitas/v1/c//d/alarm",
            "civitas/v1/c/+/d/alarm",
            "zigbee2mqtt/kitchen",
            "",
        ] {
            assert_eq!(Topic::parse(bad), Err(Refusal::TopicOutsideSchema), "{bad}");
        }
    }

    #[test]
    fn every_payload_decodes_and_each_fault_has_its_reason() {
        let ok = [
            (
                Channel::Telemetry,
                r#"{"seq":1,"ts_ms":5,"values":{"water_level_m":0.42}}"#,
            ),
            (Channel::State, r#"{"seq":2,"ts_ms":6,"state":"failed"}"#),
            (
                Channel::Alarm,
                r#"{"seq":3,"ts_ms":7,"active":true,"kind":"fire"}"#,
            ),
            (Channel::Alarm, r#"{"seq":4,"ts_ms":8,"active":false}"#),
            (Channel::Availability, r#"{"state":"offline"}"#),
            (
                Channel::Command,
                r#"{"id":"a-1","action":"release_doors","ts_ms":5,"expires_ms":9,"attempt":1}"#,
            ),
            (
                Channel::Ack,
                r#"{"id":"a-1","status":"failed","ts_ms":6,"reason":"jammed"}"#,
            ),
        ];
        for (c, p) in ok {
            assert!(decode(c, p.as_bytes()).is_ok(), "{p}");
        }
        let bad = [
            (Channel::State, "{\"seq\":1,", Refusal::MalformedJson),
            (Channel::State, "\u{0}\u{1}", Refusal::MalformedJson),
            (
                Channel::State,
                r#"{"seq":"one","ts_ms":6,"state":"failed"}"#,
                Refusal::WrongType,
            ),
            (
                Channel::State,
                r#"{"seq":1,"ts_ms":6,"state":"melted"}"#,
                Refusal::WrongType,
            ),
            (
                Channel::State,
                r#"{"seq":1,"ts_ms":6,"state":"failed","x":1}"#,
                Refusal::WrongType,
            ),
            (Channel::Alarm, r#"{"seq":1,"ts_ms":6}"#, Refusal::WrongType),
            (
                Channel::Alarm,
                r#"{"seq":1,"ts_ms":6,"active":true,"kind":"meteor"}"#,
                Refusal::WrongType,
            ),
            (Channel::Availability, r#""online""#, Refusal::WrongType),
            (
                Channel::Telemetry,
                r#"{"seq":1,"ts_ms":5,"values":{"t":"hot"}}"#,
                Refusal::WrongType,
            ),
            (
                Channel::Ack,
                r#"{"id":"a-1","status":"done","ts_ms":6}"#,
                Refusal::WrongType,
            ),
            (
                Channel::Ack,
                r#"{"id":"","status":"received","ts_ms":6}"#,
                Refusal::WrongType,
            ),
            (Channel::Ack, r#"{"id":"a-1""#, Refusal::MalformedJson),
            (
                Channel::Command,
                r#"{"id":"a-1","action":"open_sesame","ts_ms":5,"expires_ms":9,"attempt":1}"#,
                Refusal::WrongType,
            ),
        ];
        for (c, p, why) in bad {
            assert_eq!(decode(c, p.as_bytes()), Err(why), "{p}");
        }
        let huge = vec![b' '; MAX_PAYLOAD + 1];
        assert_eq!(decode(Channel::Telemetry, &huge), Err(Refusal::TooLarge));
    }
}
