//! Ingest: one MQTT client subscribed to the whole native schema, every message
//! validated and applied to the [`Mirror`], and what happened reported on a bounded
//! channel (for the rules that turn alarms and silences into incidents, and for
//! anyone watching). On every (re)connection it subscribes again — a broker that
//! restarted without the session would otherwise leave it connected to nothing — and
//! the broker's retained availability and state arrive again.

use crate::broker::BrokerUrl;
use crate::wire::{self, Channel, Message, Topic};
use civitas_twin::mirror::{Applied, Availability, Millis, Mirror, Placement, Refusal};
use rumqttc::{AsyncClient, Event, NetworkOptions, Packet, QoS};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What ingest saw, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// Subscribed to the schema (after each connection).
    Subscribed,
    /// A reading changed the mirror.
    Applied {
        /// The device.
        placement: Placement,
        /// What changed.
        applied: Applied,
    },
    /// A gateway's connection changed, and with it that of every device last heard
    /// through it.
    Gateway {
        /// `<community>/<building>` of its topic.
        route: String,
        /// Online or offline.
        availability: Availability,
        /// The devices it stands for.
        devices: Vec<Placement>,
    },
    /// A device's connection changed.
    Availability {
        /// The device.
        placement: Placement,
        /// Online or offline.
        availability: Availability,
    },
    /// A device answered a command (checked against the command by the twin).
    Ack {
        /// The device.
        placement: Placement,
        /// Its answer.
        ack: wire::AckPayload,
    },
    /// A command to a device went by (the twin's own, or another publisher's).
    CommandHeard {
        /// The device.
        placement: Placement,
        /// Its topic.
        topic: String,
        /// Its correlation id; None for an empty payload (a retained command cleared).
        id: Option<String>,
    },
    /// A message was refused (and counted in the mirror).
    Refused {
        /// Why.
        why: Refusal,
        /// Its topic.
        topic: String,
    },
    /// The connection to the broker failed; ingest reconnects.
    Disconnected(String),
    /// Subscribed, yet nothing has arrived for longer than the devices' expected period
    /// (the twin subscribes again).
    ConnectedButSilent {
        /// How long nothing has arrived (ms).
        for_ms: Millis,
    },
    /// Messages arrive again after [`Observed::ConnectedButSilent`].
    Flowing,
}

/// Where ingest connects and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOptions {
    /// The broker.
    pub broker: BrokerUrl,
    /// Its client id.
    pub client_id: String,
    /// Keep-alive.
    pub keep_alive: Duration,
}

/// The ingest task's shared state: the mirror, whether it is subscribed, and how many
/// messages it has handled.
#[derive(Debug, Clone)]
pub struct Ingest {
    /// The mirror it updates.
    pub mirror: Arc<Mutex<Mirror>>,
    /// True while subscribed.
    pub subscribed: watch::Receiver<bool>,
    /// Messages handled (applied or refused), exact even when reports are dropped.
    pub handled: Arc<std::sync::atomic::AtomicU64>,
    /// When the last message arrived (receive time, ms; 0: none yet).
    pub last_message_ms: Arc<std::sync::atomic::AtomicI64>,
    /// Notify to subscribe again on the current connection.
    pub resubscribe: Arc<tokio::sync::Notify>,
}

/// The edge's receive time: the wall clock in milliseconds since the Unix epoch (the
/// only place the bridge reads it).
#[allow(clippy::disallowed_methods)] // the edge's receive time is the wall clock
pub fn wall_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// Starts ingest on the current tokio runtime: connects, subscribes, applies every
/// message to `mirror` with the receive time from `now`, and reports on `out` (a full
/// channel drops reports, never messages: the mirror is always updated).
pub fn start(
    opts: IngestOptions,
    mirror: Mirror,
    out: mpsc::Sender<Observed>,
    now: fn() -> Millis,
) -> Ingest {
    let mirror = Arc::new(Mutex::new(mirror));
    let (tx, rx) = watch::channel(false);
    let shared = mirror.clone();
    let handled = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let last_message_ms = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let resubscribe = Arc::new(tokio::sync::Notify::new());
    let task = Task {
        handled: handled.clone(),
        last_message_ms: last_message_ms.clone(),
        resubscribe: resubscribe.clone(),
    };
    tokio::spawn(async move { run(opts, shared, out, tx, now, task).await });
    Ingest {
        mirror,
        subscribed: rx,
        handled,
        last_message_ms,
        resubscribe,
    }
}

/// The ingest task's side of [`Ingest`]'s shared counters.
struct Task {
    handled: Arc<std::sync::atomic::AtomicU64>,
    last_message_ms: Arc<std::sync::atomic::AtomicI64>,
    resubscribe: Arc<tokio::sync::Notify>,
}

async fn run(
    opts: IngestOptions,
    mirror: Arc<Mutex<Mirror>>,
    out: mpsc::Sender<Observed>,
    subscribed: watch::Sender<bool>,
    now: fn() -> Millis,
    task: Task,
) {
    let mut mqtt = opts.broker.options(opts.client_id, opts.keep_alive);
    // Oversized payloads reach the twin, which counts them, instead of breaking the
    // connection in the client.
    mqtt.set_max_packet_size(crate::broker::BROKER_MAX_PAYLOAD + 1024, 64 * 1024);
    let (client, mut events) = AsyncClient::new(mqtt, 1024);
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    events.set_network_options(network);
    let report = |o: Observed| {
        let _ = out.try_send(o);
    };
    loop {
        let polled = tokio::select! {
            p = events.poll() => p,
            () = task.resubscribe.notified() => {
                if let Err(e) = client.subscribe(wire::FILTER, QoS::AtLeastOnce).await {
                    report(Observed::Disconnected(e.to_string()));
                }
                continue;
            }
        };
        match polled {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                // Every (re)connection: subscribe again.
                if let Err(e) = client.subscribe(wire::FILTER, QoS::AtLeastOnce).await {
                    report(Observed::Disconnected(e.to_string()));
                }
            }
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                let _ = subscribed.send(true);
                report(Observed::Subscribed);
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let at = now();
                let observed = {
                    let Ok(mut m) = mirror.lock() else { return };
                    handle(&mut m, &p.topic, &p.payload, p.retain, at)
                };
                task.handled
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                task.last_message_ms
                    .store(at, std::sync::atomic::Ordering::Relaxed);
                report(observed);
            }
            Ok(_) => {}
            Err(e) => {
                let _ = subscribed.send(false);
                report(Observed::Disconnected(e.to_string()));
                // rumqttc reconnects on the next poll; do not spin while the broker is away.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Validates one message and applies it to `m`.
pub fn handle(
    m: &mut Mirror,
    topic: &str,
    payload: &[u8],
    retained: bool,
    now: Millis,
) -> Observed {
    let refused = |m: &mut Mirror, why| Observed::Refused {
        why: m.refuse(why),
        topic: topic.to_string(),
    };
    let t = match Topic::parse(topic) {
        Ok(t) => t,
        Err(why) => return refused(m, why),
    };
    let route = format!("{}/{}", t.community, t.building);
    if t.device == wire::GATEWAY {
        return match (t.channel, wire::decode(t.channel, payload)) {
            (Channel::Availability, Ok(Message::Availability(a))) => Observed::Gateway {
                devices: m.set_availability_via(&route, a, now),
                route,
                availability: a,
            },
            (Channel::Availability, Err(why)) => refused(m, why),
            _ => refused(m, Refusal::TopicOutsideSchema),
        };
    }
    let Some(placement) = m.get(t.device).map(|d| d.placement.clone()) else {
        return refused(m, Refusal::UnknownDevice);
    };
    m.heard_via(t.device, &route);
    if retained && t.channel == Channel::Alarm {
        // A retained alarm is the broker replaying old news on subscription.
        return refused(m, Refusal::RetainedAlarm);
    }
    if retained && t.channel == Channel::Command {
        // A retained command would switch every device that subscribes again.
        return refused(m, Refusal::RetainedCommand);
    }
    if t.channel == Channel::Command && payload.is_empty() {
        return Observed::CommandHeard {
            placement,
            topic: topic.to_string(),
            id: None,
        };
    }
    match wire::decode(t.channel, payload) {
        Err(why) => refused(m, why),
        Ok(Message::Availability(a)) => match m.set_availability(t.device, a, now) {
            Ok(()) => Observed::Availability {
                placement,
                availability: a,
            },
            Err(why) => Observed::Refused {
                why,
                topic: topic.to_string(),
            },
        },
        Ok(Message::Ack(ack)) => Observed::Ack { placement, ack },
        Ok(Message::Command(c)) => Observed::CommandHeard {
            placement,
            topic: topic.to_string(),
            id: Some(c.id),
        },
        Ok(Message::Reading(r)) => match m.apply(t.device, r, now) {
            Ok(applied) => Observed::Applied { placement, applied },
            Err(why) => Observed::Refused {
                why,
                topic: topic.to_string(),
            },
        },
    }
}

/// Log lines for refused messages: the first of each reason at once (with its topic),
/// then at most one line per reason every `every_ms`, saying how many more were refused
/// meanwhile — a flood of bad messages is counted, not printed.
#[derive(Debug, Clone)]
pub struct RefusalLog {
    every_ms: Millis,
    /// Per reason: when it was last logged, and how many since.
    last: std::collections::BTreeMap<Refusal, (Millis, u64)>,
}

impl RefusalLog {
    /// At most one line per reason every `every_ms` milliseconds.
    pub fn new(every_ms: Millis) -> RefusalLog {
        RefusalLog {
            every_ms,
            last: std::collections::BTreeMap::new(),
        }
    }

    /// The line to log for a refusal of `why` on `topic` at `now`, if one is due.
    pub fn note(&mut self, why: Refusal, topic: &str, now: Millis) -> Option<String> {
        match self.last.get_mut(&why) {
            None => {
                self.last.insert(why, (now, 0));
                Some(format!("refused ({}): {topic}", why.as_str()))
            }
            Some((at, since)) if now - *at >= self.every_ms => {
                let more = *since + 1;
                *at = now;
                *since = 0;
                Some(format!(
                    "refused ({}): {topic}, and {} more since the last line",
                    why.as_str(),
                    more - 1
                ))
            }
            Some((_, since)) => {
                *since += 1;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_logged_once_then_at_most_once_per_period_with_a_count() {
        let mut log = RefusalLog::new(10_000);
        assert_eq!(
            log.note(Refusal::MalformedJson, "civitas/v1/c/b/d/state", 0)
                .as_deref(),
            Some("refused (malformed_json): civitas/v1/c/b/d/state")
        );
        for t in 1..=5 {
            assert_eq!(log.note(Refusal::MalformedJson, "x", t * 1_000), None);
        }
        assert!(
            log.note(Refusal::TooLarge, "y", 6_000).is_some(),
            "each reason its own"
        );
        assert_eq!(
            log.note(Refusal::MalformedJson, "z", 10_000).as_deref(),
            Some("refused (malformed_json): z, and 5 more since the last line")
        );
        assert_eq!(log.note(Refusal::MalformedJson, "z", 10_001), None);
    }
}
