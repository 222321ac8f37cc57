//! Operators' requests to the running twin over MQTT, and the client that makes them
//! (`civitas twin command DEVICE ACTION --as SEAT`).
//!
//! A request is published on [`REQUEST`] (QoS 1, not retained):
//! `{"request": "r-…", "device": "<wire id>", "action": "release_doors",
//! "seat": "property_firm@community:0"}`. The twin answers on [`reply_topic`]
//! (`civitas/ops/v1/reply/<request>`) with one message per step of the command —
//! `{"request": …, "command": "<id>", "state": "queued", "at_ms": …}`, then `sent`,
//! `delivered`, and a terminal state — or one `{"request": …, "error": {"kind": "denied",
//! "message": …}}` when it was not taken. Like Zigbee2MQTT's `bridge/request` with its
//! `transaction`, the request id ties the answers to the question.
//!
//! **Authentication is the broker's**: the twin authorizes the seat a request names (the
//! [`crate::policy`]), but anyone who can publish on `civitas/ops/#` can name any seat.
//! Restrict that topic with the broker's access control (Mosquitto's `acl_file`) until
//! the console's tokens (issue 30).

use crate::broker::BrokerUrl;
use crate::commands::State;
use crate::wire::MAX_ID;
use civitas_twin::mirror::Millis;
use rumqttc::{AsyncClient, Event, NetworkOptions, Packet, QoS};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The topic of operators' command requests.
pub const REQUEST: &str = "civitas/ops/v1/command";

/// Largest request accepted (bytes).
pub const MAX_REQUEST: usize = 4 * 1024;

/// The topic the twin answers request `request` on.
pub fn reply_topic(request: &str) -> String {
    format!("civitas/ops/v1/reply/{request}")
}

/// An operator's command request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The asker's id for it (the answers' topic names it): letters, digits, `-`, `_`.
    pub request: String,
    /// The device's wire id.
    pub device: String,
    /// The action (`release_doors`, `lock_doors`, `start_pump`, `stop_pump`).
    pub action: String,
    /// Where the operator acts from (`property_firm@community:0`).
    pub seat: String,
}

impl Request {
    /// Whether its id can name a topic: 1 to 64 letters, digits, `-` or `_`.
    pub fn id_ok(id: &str) -> bool {
        !id.is_empty()
            && id.len() <= MAX_ID
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }
}

/// Why a request was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not a request (malformed, an unknown action or seat).
    BadRequest,
    /// No such device, or it cannot do the action.
    Rejected,
    /// The seat may not command that device.
    Denied,
}

/// The error of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyError {
    /// Which kind.
    pub kind: ErrorKind,
    /// What is wrong, in words.
    pub message: String,
}

/// One answer to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The request's id.
    pub request: String,
    /// The command's id, once taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Its new state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Why it was not taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ReplyError>,
    /// The device's reason, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When (the twin's clock, ms since the Unix epoch).
    pub at_ms: Millis,
}

impl Reply {
    /// The last answer to a request: an error, or a terminal state.
    pub fn is_last(&self) -> bool {
        self.error.is_some() || self.state.is_some_and(State::terminal)
    }
}

/// Why a request got no last answer.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// Nothing answered in time.
    #[error(
        "no twin answered on {broker} within {secs} s (is `civitas twin` running there? a request goes to {REQUEST})"
    )]
    NoTwin {
        /// The broker.
        broker: String,
        /// How long it waited.
        secs: u64,
    },
    /// The twin answered, but the command did not end in time.
    #[error("command {command} is still {state} after {secs} s; the twin goes on with it")]
    NotEnded {
        /// The command.
        command: String,
        /// Its last state.
        state: &'static str,
        /// How long it waited.
        secs: u64,
    },
    /// The broker could not be reached.
    #[error("the broker {broker} cannot be reached: {message}")]
    Broker {
        /// The broker.
        broker: String,
        /// Why.
        message: String,
    },
}

/// Asks the twin on `broker` for `request`, calling `each` with every answer, until the
/// last answer or `wait` has passed.
pub async fn ask(
    broker: &BrokerUrl,
    request: &Request,
    wait: Duration,
    mut each: impl FnMut(&Reply),
) -> Result<Reply, AskError> {
    let mut o = broker.options(
        format!("civitas-ops-{}", request.request),
        Duration::from_secs(30),
    );
    o.set_max_packet_size(MAX_REQUEST * 4, MAX_REQUEST * 4);
    let (client, mut events) = AsyncClient::new(o, 16);
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    events.set_network_options(network);
    let reply = reply_topic(&request.request);
    let body = serde_json::to_vec(request).map_err(|e| AskError::Broker {
        broker: broker.to_string(),
        message: e.to_string(),
    })?;
    let broker_name = broker.to_string();
    let mut last: Option<Reply> = None;
    let outcome = tokio::time::timeout(wait, async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    client
                        .subscribe(&reply, QoS::AtLeastOnce)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    // Listening before asking: no answer is missed.
                    client
                        .publish(REQUEST, QoS::AtLeastOnce, false, body.clone())
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let Ok(r) = serde_json::from_slice::<Reply>(&p.payload) else {
                        continue;
                    };
                    each(&r);
                    if r.is_last() {
                        return Ok(r);
                    }
                    last = Some(r);
                }
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(message)) => Err(AskError::Broker {
            broker: broker_name,
            message,
        }),
        Err(_) => match last {
            Some(Reply {
                command: Some(command),
                state: Some(state),
                ..
            }) => Err(AskError::NotEnded {
                command,
                state: state.as_str(),
                secs: wait.as_secs(),
            }),
            _ => Err(AskError::NoTwin {
                broker: broker_name,
                secs: wait.as_secs(),
            }),
        },
    }
}
