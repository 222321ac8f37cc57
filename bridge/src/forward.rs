//! Forwarding commands to hardware: the live twin's task that owns the [`Book`] of
//! commands, publishes them on the devices' `command` topics, reads their answers, tells
//! the actors how each command of theirs ended, and writes every step to the audit.
//!
//! What reaches it ([`Input`]): the actors' `command` events (a fire releases its
//! building's doors), the devices' `ack`s, their telemetry echoing a desired value, any
//! sign of life from a device with a queued command, a retained command found on the
//! broker (cleared at once: a device subscribing later would otherwise be switched by
//! it), and — through [`Forwarder::submit`] — operators' commands.
//!
//! Commands are published with QoS 1 and **never retained**: [`Publisher`] has no way to
//! retain a message. An outcome of a command the actors asked for goes back to them as
//! `Inject::CommandOutcome`; a safety command that did not succeed then raises a
//! `command_failed` incident there (MODEL §7.4).

use crate::broker::BrokerUrl;
use crate::commands::{Book, Command, Origin, Rejected, State, Step};
use crate::ingest::wall_ms;
use crate::ops;
use crate::policy::{Policy, Seat};
use crate::wire::{AckPayload, AckStatus, CommandPayload};
use civitas_actors::{Address, EngineHandle, Inject, Subscription, When};
use civitas_twin::kinds::{CommandAction, CommandOutcome, IncidentKind};
use civitas_twin::mirror::{Millis, Mirror, Placement};
use civitas_twin::vocab::events::Event;
use rumqttc::{AsyncClient, NetworkOptions, QoS};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The inject source name of device answers.
pub const SOURCE: &str = "twin-commands";

/// What the forwarder is told.
#[derive(Debug)]
pub enum Input {
    /// A device answered.
    Ack {
        /// Its wire id.
        wire_id: String,
        /// The answer.
        ack: AckPayload,
    },
    /// A device was heard (anything from it).
    Seen {
        /// Its wire id.
        wire_id: String,
    },
    /// A device's telemetry reported desired values.
    Echo {
        /// Its wire id.
        wire_id: String,
        /// The values' names.
        reached: Vec<String>,
    },
    /// A retained command was found on this topic.
    Retained {
        /// The topic.
        topic: String,
    },
    /// A command went by on this topic: one the twin did not send is cleared from the
    /// broker's retained slot (the broker forwards a retained publish to subscribers
    /// already there without its retain flag, so the twin cannot tell).
    Heard {
        /// The topic.
        topic: String,
        /// Its correlation id.
        id: String,
    },
    /// An operator's command.
    Submit {
        /// The device's wire id.
        wire_id: String,
        /// What to do.
        action: CommandAction,
        /// Where the operator acts from.
        seat: Seat,
        /// Its id, or why it was not taken.
        reply: oneshot::Sender<Result<String, Rejected>>,
    },
    /// An operator's request over MQTT ([`crate::ops`]), as published.
    Request {
        /// The payload.
        payload: Vec<u8>,
    },
    /// The newest commands.
    Recent {
        /// How many.
        limit: usize,
        /// Them, newest first.
        reply: oneshot::Sender<Vec<Command>>,
    },
    /// The counts so far.
    Tally {
        /// The counts.
        reply: oneshot::Sender<crate::commands::Tally>,
    },
    /// A command's record, if the book still has it.
    Get {
        /// Its id.
        id: String,
        /// The record.
        reply: oneshot::Sender<Option<Command>>,
    },
}

/// One line of the audit: who asked for what, where, when, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditLine {
    /// When (ms since the Unix epoch).
    pub at_ms: Millis,
    /// The command's id (none for a refusal before one was made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Who asked.
    pub origin: Origin,
    /// What.
    pub action: CommandAction,
    /// The device's wire id.
    pub device: String,
    /// Where: `c<community>/b<building>`, when the device is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// What happened: a state (`queued` … `expired`), `late` (an answer after the end),
    /// or `refused`.
    pub event: String,
    /// The attempt, for `sent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Why, for a failure or a refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A state change of a command, for whoever watches (the status line, tests).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The command's id.
    pub id: String,
    /// The device's wire id.
    pub device: String,
    /// What.
    pub action: CommandAction,
    /// Who asked.
    pub origin: Origin,
    /// Its new state, or None for a late answer.
    pub state: Option<State>,
}

/// The twin's command publisher: QoS 1, and no way to retain a command. Its connection
/// also takes operators' requests ([`crate::ops::REQUEST`]).
#[derive(Clone)]
pub struct Publisher {
    client: AsyncClient,
}

impl Publisher {
    /// A connection of its own to `broker`, as `client_id`, subscribed to operators'
    /// requests (again on every reconnection), which go to `requests`.
    pub fn connect(
        broker: &BrokerUrl,
        client_id: String,
        requests: mpsc::Sender<Input>,
    ) -> Publisher {
        let mut o = broker.options(client_id, Duration::from_secs(30));
        o.set_max_packet_size(crate::wire::MAX_PAYLOAD + 1024, 64 * 1024);
        let (client, mut events) = AsyncClient::new(o, 1024);
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        events.set_network_options(network);
        let subscriber = client.clone();
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                        let _ = subscriber.subscribe(ops::REQUEST, QoS::AtLeastOnce).await;
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let input = Input::Request {
                            payload: p.payload.to_vec(),
                        };
                        if requests.send(input).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => {
                        // rumqttc reconnects on the next poll; do not spin while the
                        // broker is away.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        Publisher { client }
    }

    /// Answers an operator's request.
    pub async fn reply(&self, reply: &ops::Reply) -> Result<(), String> {
        let body = serde_json::to_vec(reply).map_err(|e| e.to_string())?;
        (self.client)
            .publish(
                ops::reply_topic(&reply.request),
                QoS::AtLeastOnce,
                false,
                body,
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// Publishes `payload` on `topic`, QoS 1, not retained.
    pub async fn command(&self, topic: &str, payload: &CommandPayload) -> Result<(), String> {
        let body = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
        (self.client)
            .publish(topic, QoS::AtLeastOnce, false, body)
            .await
            .map_err(|e| e.to_string())
    }

    /// Clears a retained message on `topic` (an empty retained payload removes it).
    pub async fn clear_retained(&self, topic: &str) -> Result<(), String> {
        (self.client)
            .publish(topic, QoS::AtLeastOnce, true, Vec::new())
            .await
            .map_err(|e| e.to_string())
    }
}

/// The running forwarder's handle.
#[derive(Clone)]
pub struct Forwarder {
    tx: mpsc::Sender<Input>,
    /// Commands waiting for their device to be heard (0: a device's sign of life need not
    /// be passed on).
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Forwarder {
    /// Tells it `input` (dropped if it has stopped).
    pub async fn tell(&self, input: Input) {
        let _ = self.tx.send(input).await;
    }

    /// Some command waits for its device to be heard.
    pub fn waiting(&self) -> bool {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed) > 0
    }

    /// An operator's command from `seat`: its id once queued, or why it was not taken
    /// (a refusal by the policy is audited).
    pub async fn submit(
        &self,
        wire_id: &str,
        action: CommandAction,
        seat: Seat,
    ) -> Result<String, Rejected> {
        let (reply, rx) = oneshot::channel();
        let input = Input::Submit {
            wire_id: wire_id.to_string(),
            action,
            seat,
            reply,
        };
        if self.tx.send(input).await.is_err() {
            return Err(Rejected::Stopped);
        }
        rx.await.unwrap_or(Err(Rejected::Stopped))
    }

    /// The `limit` newest commands, newest first (none once stopped).
    pub async fn recent(&self, limit: usize) -> Vec<Command> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Input::Recent { limit, reply }).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// The counts so far (None once stopped).
    pub async fn tally(&self) -> Option<crate::commands::Tally> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Input::Tally { reply }).await.ok()?;
        rx.await.ok()
    }

    /// Commands not yet ended.
    pub async fn open(&self) -> usize {
        self.tally().await.map_or(0, |t| {
            (t.submitted as usize).saturating_sub(t.ended.values().sum::<u64>() as usize)
        })
    }

    /// The record of command `id`.
    pub async fn get(&self, id: &str) -> Option<Command> {
        let (reply, rx) = oneshot::channel();
        let input = Input::Get {
            id: id.to_string(),
            reply,
        };
        self.tx.send(input).await.ok()?;
        rx.await.ok().flatten()
    }
}

/// Where the forwarder works.
pub struct ForwardOptions {
    /// The mirror (shared with ingest).
    pub mirror: Arc<Mutex<Mirror>>,
    /// The broker (the forwarder's own connection).
    pub broker: BrokerUrl,
    /// The engine (outcomes go back to the actors).
    pub engine: EngineHandle,
    /// The engine's observe stream (the actors' commands come from it).
    pub events: Subscription,
    /// Who may command what where, and delivery by device kind.
    pub policy: Policy,
    /// Each community's street office (by community index).
    pub streets: Vec<u32>,
    /// The id prefix of this run.
    pub prefix: String,
    /// Every device of the registry, by (community, device id).
    pub registry: Vec<Placement>,
    /// Where audit lines go (one JSON object a line), if anywhere.
    pub audit: Option<Box<dyn Write + Send>>,
    /// State changes, for whoever watches (a full channel drops reports, never
    /// commands).
    pub reports: mpsc::Sender<Report>,
}

/// Starts the forwarder on the current tokio runtime.
pub fn start(opts: ForwardOptions) -> Forwarder {
    let (tx, rx) = mpsc::channel(1 << 14);
    let waiting = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let publisher = Publisher::connect(
        &opts.broker,
        format!("civitas-twin-commands-{}", std::process::id()),
        tx.clone(),
    );
    tokio::spawn(run(opts, publisher, rx, waiting.clone()));
    Forwarder { tx, waiting }
}

async fn run(
    opts: ForwardOptions,
    publisher: Publisher,
    mut rx: mpsc::Receiver<Input>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
) {
    let ForwardOptions {
        mirror,
        broker: _,
        engine,
        mut events,
        policy,
        streets,
        prefix,
        registry,
        audit,
        reports,
    } = opts;
    let mut f = Task {
        waiting,
        book: Book::new(policy.deliveries.clone(), prefix),
        policy,
        streets,
        replies: HashMap::new(),
        bad_requests: 0,
        mirror,
        publisher,
        engine,
        audit,
        reports,
        by_engine_id: registry
            .into_iter()
            .map(|p| ((p.community, p.device), p.wire_id))
            .collect(),
        foreign: 0,
    };
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            input = rx.recv() => match input {
                Some(input) => f.input(input).await,
                None => return,
            },
            w = events.recv() => match w {
                Some(w) => {
                    for e in &w.events {
                        if let Event::Command { id, community, device, action, incident, .. } = e {
                            f.actors_asked(*id, *community, *device, *action, *incident).await;
                        }
                    }
                }
                None => return,
            },
            _ = tick.tick() => {
                let now = wall_ms();
                if f.book.next_due().is_some_and(|t| t <= now) {
                    let steps = match f.mirror.lock() {
                        Ok(mut m) => {
                            let steps = f.book.tick(&mut m, now);
                            f.waiting.store(f.book.queued(), std::sync::atomic::Ordering::Relaxed);
                            steps
                        }
                        Err(_) => return,
                    };
                    f.carry_out(steps, now).await;
                }
            }
        }
    }
}

struct Task {
    /// The number of queued commands, stored while the mirror is locked: ingest applies
    /// a device's message under the same lock, so a message either made the device
    /// reachable before a command was queued or finds the command waiting.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    book: Book,
    mirror: Arc<Mutex<Mirror>>,
    publisher: Publisher,
    engine: EngineHandle,
    audit: Option<Box<dyn Write + Send>>,
    reports: mpsc::Sender<Report>,
    by_engine_id: HashMap<(u32, u32), String>,
    /// Commands heard on the devices' topics that the twin did not send.
    foreign: u64,
    policy: Policy,
    streets: Vec<u32>,
    /// Commands asked for over MQTT, by command id: the request to answer.
    replies: HashMap<String, String>,
    /// Requests that could not be read.
    bad_requests: u64,
}

impl Task {
    async fn input(&mut self, input: Input) {
        let now = wall_ms();
        let input = match input {
            Input::Retained { topic } => {
                if let Err(e) = self.publisher.clear_retained(&topic).await {
                    eprintln!("twin: the retained command on {topic} was not cleared: {e}");
                }
                return;
            }
            Input::Get { id, reply } => {
                let _ = reply.send(self.book.get(&id).cloned());
                return;
            }
            Input::Tally { reply } => {
                let _ = reply.send(self.book.tally().clone());
                return;
            }
            Input::Recent { limit, reply } => {
                let _ = reply.send(self.book.recent(limit));
                return;
            }
            Input::Heard { topic, id } => {
                if self.book.get(&id).is_none() {
                    self.foreign += 1;
                    eprintln!(
                        "twin: command {id:?} on {topic} was not sent by the twin ({} so far); its retained copy, if any, is cleared",
                        self.foreign
                    );
                    if let Err(e) = self.publisher.clear_retained(&topic).await {
                        eprintln!("twin: clearing {topic} failed: {e}");
                    }
                }
                return;
            }
            Input::Submit {
                wire_id,
                action,
                seat,
                reply,
            } => {
                let _ = reply.send(self.operator(&wire_id, action, seat, now, None).await);
                return;
            }
            Input::Request { payload } => {
                self.request(&payload, now).await;
                return;
            }
            other => other,
        };
        let steps = {
            let Ok(mut m) = self.mirror.lock() else {
                return;
            };
            let steps = match input {
                Input::Ack { wire_id, ack } => self
                    .book
                    .answer(&mut m, &wire_id, &ack, now)
                    .unwrap_or_default(),
                Input::Seen { wire_id } => self.book.seen(&mut m, &wire_id, now),
                Input::Echo { wire_id, reached } => {
                    let mut steps = self.book.echo(&mut m, &wire_id, &reached, now);
                    steps.extend(self.book.seen(&mut m, &wire_id, now));
                    steps
                }
                Input::Retained { .. }
                | Input::Get { .. }
                | Input::Tally { .. }
                | Input::Recent { .. }
                | Input::Heard { .. }
                | Input::Submit { .. }
                | Input::Request { .. } => return,
            };
            self.waiting
                .store(self.book.queued(), std::sync::atomic::Ordering::Relaxed);
            steps
        };
        self.carry_out(steps, now).await;
    }

    /// An operator in `seat` asks for `action` on `wire_id`: authorized by the policy
    /// (a refusal audited), then taken; each step of it answers `request`, if given.
    async fn operator(
        &mut self,
        wire_id: &str,
        action: CommandAction,
        seat: Seat,
        now: Millis,
        request: Option<String>,
    ) -> Result<String, Rejected> {
        let origin = Origin::Operator {
            seat: seat.to_string(),
        };
        let taken = {
            let Ok(mut m) = self.mirror.lock() else {
                return Err(Rejected::Stopped);
            };
            let placement = m.get(wire_id).map(|d| d.placement.clone());
            let streets = &self.streets;
            let street_of = |c: u32| streets.get(c as usize).copied();
            // What cannot be done is said before who may not do it.
            let allowed = match &placement {
                None => Err(Rejected::UnknownDevice(wire_id.to_string())),
                Some(p) if p.kind != action.device() => Err(Rejected::WrongKind {
                    device: wire_id.to_string(),
                    kind: p.kind,
                    action,
                    needs: action.device(),
                }),
                Some(p) => (self.policy)
                    .authorize(seat, p, street_of)
                    .map_err(Rejected::Denied),
            };
            let taken = allowed.and_then(|()| {
                self.book
                    .submit(&mut m, wire_id, action, origin.clone(), now)
            });
            self.waiting
                .store(self.book.queued(), std::sync::atomic::Ordering::Relaxed);
            taken.map_err(|why| (why, placement))
        };
        match taken {
            Ok((id, steps)) => {
                if let Some(r) = request {
                    self.replies.insert(id.clone(), r);
                }
                self.carry_out(steps, now).await;
                Ok(id)
            }
            Err((why, placement)) => {
                self.audit(AuditLine {
                    at_ms: now,
                    command: None,
                    origin,
                    action,
                    device: wire_id.to_string(),
                    area: placement.map(|p| format!("c{}/b{}", p.community, p.building)),
                    event: "refused".into(),
                    attempt: None,
                    reason: Some(why.to_string()),
                });
                Err(why)
            }
        }
    }

    /// An operator's request over MQTT: taken, or answered with why not.
    async fn request(&mut self, payload: &[u8], now: Millis) {
        let error = |kind, message: String| ops::ReplyError { kind, message };
        let parsed: Result<ops::Request, String> = if payload.len() > ops::MAX_REQUEST {
            Err(format!("larger than {} bytes", ops::MAX_REQUEST))
        } else {
            serde_json::from_slice(payload).map_err(|e| e.to_string())
        };
        let request = match parsed {
            Ok(r) if ops::Request::id_ok(&r.request) => r,
            Ok(r) => {
                self.bad_request(&format!(
                    "request id {:?}: 1 to 64 letters, digits, - or _",
                    r.request
                ));
                return;
            }
            Err(e) => {
                // No id to answer on: logged, and counted.
                self.bad_request(&e);
                return;
            }
        };
        let answer = |error: Option<ops::ReplyError>| ops::Reply {
            request: request.request.clone(),
            command: None,
            state: None,
            error,
            reason: None,
            at_ms: now,
        };
        let action = CommandAction::parse(&request.action).ok_or_else(|| {
            let names: Vec<&str> = CommandAction::ALL.iter().map(|a| a.as_str()).collect();
            format!(
                "unknown action {:?}; actions: {}",
                request.action,
                names.join(", ")
            )
        });
        let seat = request.seat.parse::<Seat>();
        let (action, seat) = match (action, seat) {
            (Ok(a), Ok(s)) => (a, s),
            (Err(e), _) | (_, Err(e)) => {
                let reply = answer(Some(error(ops::ErrorKind::BadRequest, e)));
                let _ = self.publisher.reply(&reply).await;
                return;
            }
        };
        // The command's own steps answer from here on.
        let asked = Some(request.request.clone());
        match self
            .operator(&request.device, action, seat, now, asked)
            .await
        {
            Ok(_) => {}
            Err(why) => {
                let kind = match why {
                    Rejected::Denied(_) => ops::ErrorKind::Denied,
                    _ => ops::ErrorKind::Rejected,
                };
                let reply = answer(Some(error(kind, why.to_string())));
                let _ = self.publisher.reply(&reply).await;
            }
        }
    }

    fn bad_request(&mut self, why: &str) {
        self.bad_requests += 1;
        if self.bad_requests.is_power_of_two() {
            eprintln!(
                "twin: a request on {} was not understood ({why}); {} so far",
                ops::REQUEST,
                self.bad_requests
            );
        }
    }

    /// The actors asked for command `command` to device `device` of `community`.
    async fn actors_asked(
        &mut self,
        command: u64,
        community: u32,
        device: u32,
        action: CommandAction,
        incident: u64,
    ) {
        let now = wall_ms();
        let origin = Origin::Actors { command, incident };
        let Some(wire_id) = self.by_engine_id.get(&(community, device)).cloned() else {
            // Not in the registry: the twin cannot reach it. It never will: expired.
            self.audit(AuditLine {
                at_ms: now,
                command: None,
                origin,
                action,
                device: format!("c{community}/d{device}"),
                area: None,
                event: State::Expired.as_str().into(),
                attempt: None,
                reason: Some("the device is not in the registry".into()),
            });
            let to = Address::Device { community, device };
            let outcome = CommandOutcome::Expired;
            let inject = Inject::CommandOutcome {
                command,
                device,
                outcome,
            };
            let _ = self.engine.inject(SOURCE, When::Now, to, inject).await;
            return;
        };
        let steps = {
            let Ok(mut m) = self.mirror.lock() else {
                return;
            };
            let steps = match self.book.submit(&mut m, &wire_id, action, origin, now) {
                Ok((_, steps)) => steps,
                Err(_) => return,
            };
            self.waiting
                .store(self.book.queued(), std::sync::atomic::Ordering::Relaxed);
            steps
        };
        self.carry_out(steps, now).await;
    }

    /// Publishes, audits, reports and tells the actors what `steps` say.
    async fn carry_out(&mut self, steps: Vec<Step>, now: Millis) {
        for step in steps {
            match step {
                Step::Publish { topic, payload } => {
                    if let Err(e) = self.publisher.command(&topic, &payload).await {
                        // The client is closed (the twin is stopping): no answer will
                        // come, and the command times out as it should.
                        eprintln!("twin: command {} not published: {e}", payload.id);
                    }
                    if let Some(c) = self.book.get(&payload.id).cloned() {
                        self.note(&c, "sent", Some(payload.attempt), now);
                    }
                }
                Step::Changed { id, state } => {
                    let Some(c) = self.book.get(&id).cloned() else {
                        continue;
                    };
                    // `sent` is written with its attempt when published.
                    if state != State::Sent {
                        self.note(&c, state.as_str(), None, now);
                    }
                    let _ = self.reports.try_send(Report {
                        id: c.id.clone(),
                        device: c.device.wire_id.clone(),
                        action: c.action,
                        origin: c.origin.clone(),
                        state: Some(state),
                    });
                    let request = if state.terminal() {
                        self.replies.remove(&c.id)
                    } else {
                        self.replies.get(&c.id).cloned()
                    };
                    if let Some(request) = request {
                        let reply = ops::Reply {
                            request,
                            command: Some(c.id.clone()),
                            state: Some(state),
                            error: None,
                            reason: (state == State::Failed).then(|| c.reason.clone()).flatten(),
                            at_ms: now,
                        };
                        let _ = self.publisher.reply(&reply).await;
                    }
                    let to = Address::Device {
                        community: c.device.community,
                        device: c.device.device,
                    };
                    let inject = match (state.outcome(), &c.origin) {
                        // The actors' own command: they hear how it ended (and raise the
                        // incident of a safety command that did not succeed).
                        (Some(outcome), Origin::Actors { command, .. }) => {
                            Some(Inject::CommandOutcome {
                                command: *command,
                                device: c.device.device,
                                outcome,
                            })
                        }
                        // An operator's safety command that did not succeed: the same
                        // incident, raised through the device.
                        (Some(outcome), Origin::Operator { .. })
                            if outcome != CommandOutcome::Succeeded && c.action.is_safety() =>
                        {
                            Some(Inject::Alarm {
                                device: c.device.device,
                                kind: IncidentKind::CommandFailed,
                            })
                        }
                        _ => None,
                    };
                    if let Some(inject) = inject {
                        // Refusals (the engine stopped) are counted by the engine.
                        let _ = self.engine.inject(SOURCE, When::Now, to, inject).await;
                    }
                }
                Step::Late { id, status } => {
                    let Some(c) = self.book.get(&id).cloned() else {
                        continue;
                    };
                    let what = match status {
                        AckStatus::Received => "received",
                        AckStatus::Succeeded => "succeeded",
                        AckStatus::Failed => "failed",
                    };
                    let mut line = self.line(&c, "late", None, now);
                    line.reason = Some(format!("the device answered {what} after the end"));
                    self.audit(line);
                    let _ = self.reports.try_send(Report {
                        id: c.id.clone(),
                        device: c.device.wire_id.clone(),
                        action: c.action,
                        origin: c.origin.clone(),
                        state: None,
                    });
                }
            }
        }
    }

    fn line(&self, c: &Command, event: &str, attempt: Option<u32>, now: Millis) -> AuditLine {
        AuditLine {
            at_ms: now,
            command: Some(c.id.clone()),
            origin: c.origin.clone(),
            action: c.action,
            device: c.device.wire_id.clone(),
            area: Some(format!("c{}/b{}", c.device.community, c.device.building)),
            event: event.to_string(),
            attempt,
            reason: (c.state == State::Failed && event == "failed")
                .then(|| c.reason.clone())
                .flatten(),
        }
    }

    fn note(&mut self, c: &Command, event: &str, attempt: Option<u32>, now: Millis) {
        let line = self.line(c, event, attempt, now);
        self.audit(line);
    }

    fn audit(&mut self, line: AuditLine) {
        let Some(out) = self.audit.as_mut() else {
            return;
        };
        let written = serde_json::to_writer(&mut *out, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(e) = written {
            eprintln!("twin: the audit log could not be written ({e}); commands go on unaudited");
            self.audit = None;
        }
    }
}
