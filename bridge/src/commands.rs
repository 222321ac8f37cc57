//! Commands to real devices: every command tracked from queued to a terminal state.
//!
//! ```text
//! queued ──(device reachable, its turn)──▶ sent ──(ack "received")──▶ delivered
//!   │                                       │  ╲                          │
//!   │ (expiry passed, never sent)           │   ╲(no answer: retry after  │
//!   ▼                                       │    backoff, then…)          │
//! expired                                   ▼                             ▼
//!                          succeeded (ack "succeeded", or the state echo) | failed (ack
//!                          "failed") | timed_out (no answer after the last attempt)
//! ```
//!
//! The anchor is ThingsBoard's persistent RPC, with what its users complain about
//! (`../shared/ANCHORS.md`) ruled out:
//! - **published is never applied**: only the device's own `succeeded` answer, or its
//!   telemetry reporting the action's value ([`CommandAction::desired`]: `door_open = 1`
//!   after `release_doors`), makes a command succeeded; `delivered` needs the device's
//!   `received`, never the broker's acknowledgement;
//! - **no command to a device that cannot hear it**: one that is offline, never heard, or
//!   asleep (a kind that wakes now and then, [`Delivery::awake_ms`]) is queued and sent
//!   when the device is next heard, or expires ([`Delivery::expiry_ms`]);
//! - **bounded retries with backoff** per device kind; a retry repeats the correlation id,
//!   so a device that got the first attempt does the action once;
//! - **one command in flight per device** where the kind needs it; the next waits its
//!   turn;
//! - **an answer after the end is recorded, not counted again** (a late `succeeded` after
//!   a timeout stays timed out, and says so);
//! - the desired value shows in the [`Mirror`] from the moment a command is queued until
//!   the device reports it, or the command ends without success.
//!
//! State only, no I/O and no clock: the caller passes the time and carries out the
//! [`Step`]s (publish, audit, tell the actors). The live twin drives it
//! ([`crate::twin`]).

use crate::wire::{self, AckPayload, AckStatus, CommandPayload};
use civitas_twin::kinds::{CommandAction, CommandOutcome, DeviceKind};
use civitas_twin::mirror::{Availability, DeviceMirror, Millis, Mirror, Placement, Refusal};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

/// Where a command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting: for its device to be reachable, or for its turn.
    Queued,
    /// Published to its device; no answer yet.
    Sent,
    /// The device said it has it.
    Delivered,
    /// The device carried it out (its answer, or its state echo).
    Succeeded,
    /// The device answered that it could not.
    Failed,
    /// No answer after the last attempt.
    TimedOut,
    /// Never reachable before its expiry: never sent.
    Expired,
}

impl State {
    /// Every state, in lifecycle order.
    pub const ALL: [State; 7] = [
        State::Queued,
        State::Sent,
        State::Delivered,
        State::Succeeded,
        State::Failed,
        State::TimedOut,
        State::Expired,
    ];

    /// Its name in logs, the audit and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sent => "sent",
            State::Delivered => "delivered",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::TimedOut => "timed_out",
            State::Expired => "expired",
        }
    }

    /// How a command in this state ended, if it has.
    pub fn outcome(self) -> Option<CommandOutcome> {
        match self {
            State::Queued | State::Sent | State::Delivered => None,
            State::Succeeded => Some(CommandOutcome::Succeeded),
            State::Failed => Some(CommandOutcome::Failed),
            State::TimedOut => Some(CommandOutcome::TimedOut),
            State::Expired => Some(CommandOutcome::Expired),
        }
    }

    /// It has ended.
    pub fn terminal(self) -> bool {
        self.outcome().is_some()
    }
}

/// Who asked for a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Origin {
    /// The actors: an incident called for it (the engine's command and incident ids).
    Actors {
        /// The engine's correlation id.
        command: u64,
        /// The incident.
        incident: u64,
    },
    /// An operator, in the seat they acted from (`property_firm@community:0`).
    Operator {
        /// Role and area.
        seat: String,
    },
}

/// How commands reach the devices of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// How long to wait for the device's answer after each attempt (ms).
    pub answer_ms: Millis,
    /// Attempts after the first when no answer comes.
    pub retries: u32,
    /// The wait before the first retry (ms); it doubles before each further one.
    pub backoff_ms: Millis,
    /// How long a command may wait in the queue for its device to be reachable (ms).
    pub expiry_ms: Millis,
    /// The device sleeps and listens only this long after it was last heard (ms); None:
    /// always listening while online.
    pub awake_ms: Option<Millis>,
    /// One command in flight at a time (the next waits for the first to end).
    pub one_at_a_time: bool,
}

impl Default for Delivery {
    /// ThingsBoard's RPC timeout (10 s) halved for devices on a local network, three
    /// retries (ThingsBoard allows up to 5), backoff from 1 s, ten minutes in the queue.
    fn default() -> Self {
        Delivery {
            answer_ms: 5_000,
            retries: 3,
            backoff_ms: 1_000,
            expiry_ms: 600_000,
            awake_ms: None,
            one_at_a_time: true,
        }
    }
}

impl Delivery {
    /// The wait before retry `n` (1, 2, …): the backoff doubled each time.
    pub fn backoff(&self, n: u32) -> Millis {
        self.backoff_ms
            .saturating_mul(1 << n.saturating_sub(1).min(20))
    }

    /// The longest a command can live: the whole queue, then every attempt and backoff.
    pub fn longest_ms(&self) -> Millis {
        let backoffs: Millis = (1..=self.retries).map(|n| self.backoff(n)).sum();
        self.expiry_ms + self.answer_ms * Millis::from(self.retries + 1) + backoffs
    }

    /// Whether `d` can hear a command at `now`: online or never said otherwise, heard at
    /// least once, and, for a sleeping kind, heard within its awake time.
    pub fn reachable(&self, d: &DeviceMirror, now: Millis) -> bool {
        d.availability != Availability::Offline
            && d.last_seen
                .is_some_and(|t| self.awake_ms.is_none_or(|w| now - t <= w))
    }
}

/// Delivery by device kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Deliveries {
    /// For kinds without their own.
    pub default: Delivery,
    /// Kinds with their own.
    pub by_kind: BTreeMap<DeviceKind, Delivery>,
}

impl Deliveries {
    /// The delivery of `kind`.
    pub fn of(&self, kind: DeviceKind) -> &Delivery {
        self.by_kind.get(&kind).unwrap_or(&self.default)
    }

    /// The longest any command can live.
    pub fn longest_ms(&self) -> Millis {
        (self.by_kind.values())
            .chain([&self.default])
            .map(Delivery::longest_ms)
            .max()
            .unwrap_or(0)
    }
}

/// A command and its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Command {
    /// Its correlation id.
    pub id: String,
    /// The device.
    pub device: Placement,
    /// What it is to do.
    pub action: CommandAction,
    /// Who asked.
    pub origin: Origin,
    /// Where it stands.
    pub state: State,
    /// Attempts published so far.
    pub attempts: u32,
    /// When it was asked for.
    pub created_ms: Millis,
    /// When a queued command expires.
    pub expires_ms: Millis,
    /// Every state it has been in, with when.
    pub history: Vec<(State, Millis)>,
    /// Answers that came after it ended (recorded, not counted).
    pub late: Vec<(AckStatus, Millis)>,
    /// What the device said when it failed.
    pub reason: Option<String>,
}

/// What the caller is to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Publish this on the device's `command` topic (QoS 1, never retained).
    Publish {
        /// The topic.
        topic: String,
        /// The payload.
        payload: CommandPayload,
    },
    /// A command changed state (for the audit, the stream and, when it ended, the
    /// actors).
    Changed {
        /// Its id.
        id: String,
        /// Its new state.
        state: State,
    },
    /// An answer came after the command ended: recorded in it, not counted again.
    Late {
        /// Its id.
        id: String,
        /// What the device said.
        status: AckStatus,
    },
}

/// Why a command was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// No device has this wire id.
    #[error("no device {0:?} in the registry")]
    UnknownDevice(String),
    /// The device's kind cannot do it.
    #[error("{device} (kind {kind}) cannot {action}: that is for {needs} devices")]
    WrongKind {
        /// The device.
        device: String,
        /// Its kind.
        kind: DeviceKind,
        /// The action.
        action: CommandAction,
        /// The kind it needs.
        needs: DeviceKind,
    },
    /// The seat may not command that device.
    #[error("not allowed: {0}")]
    Denied(#[from] crate::policy::Denied),
    /// The twin is stopping.
    #[error("the twin is stopping")]
    Stopped,
}

/// Counts by what happened, for the status line and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Commands taken.
    pub submitted: u64,
    /// Commands that reached each terminal state.
    pub ended: BTreeMap<State, u64>,
    /// Attempts published (first sends and retries).
    pub published: u64,
    /// Retries among them.
    pub retries: u64,
    /// Answers after the command ended.
    pub late: u64,
    /// Answers repeating one already counted (a second `received`).
    pub repeated: u64,
}

/// Ended commands kept to recognise late answers (the oldest forgotten first).
const KEEP_ENDED: usize = 100_000;

/// Every command of the twin, live and recently ended.
#[derive(Debug, Clone)]
pub struct Book {
    deliveries: Deliveries,
    /// The id prefix of this run (`<prefix>-<n>`): a restart's ids never clash.
    prefix: String,
    next: u64,
    commands: HashMap<u64, Command>,
    /// Each device's commands not yet sent, in order; only devices with some (so that
    /// counting them costs the waiting devices, not every device ever commanded).
    queued: HashMap<String, VecDeque<u64>>,
    /// Each device's commands sent and not ended.
    in_flight: HashMap<String, Vec<u64>>,
    /// Deadlines: (when, command, attempt it was set for); stale entries are skipped.
    due: BinaryHeap<Reverse<(Millis, u64, u32)>>,
    ended: VecDeque<u64>,
    tally: Tally,
}

impl Book {
    /// An empty book with `deliveries`, its ids starting `prefix-`.
    pub fn new(deliveries: Deliveries, prefix: impl Into<String>) -> Book {
        Book {
            deliveries,
            prefix: prefix.into(),
            next: 0,
            commands: HashMap::new(),
            queued: HashMap::new(),
            in_flight: HashMap::new(),
            due: BinaryHeap::new(),
            ended: VecDeque::new(),
            tally: Tally::default(),
        }
    }

    /// The delivery settings.
    pub fn deliveries(&self) -> &Deliveries {
        &self.deliveries
    }

    /// The command with this id, live or recently ended.
    pub fn get(&self, id: &str) -> Option<&Command> {
        self.key(id).and_then(|k| self.commands.get(&k))
    }

    /// The `limit` newest commands (live or recently ended), newest first.
    pub fn recent(&self, limit: usize) -> Vec<Command> {
        let mut keys: Vec<u64> = self.commands.keys().copied().collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        (keys.into_iter().take(limit))
            .filter_map(|k| self.commands.get(&k).cloned())
            .collect()
    }

    /// Commands waiting in a queue.
    pub fn queued(&self) -> usize {
        self.queued.values().map(VecDeque::len).sum()
    }

    /// Commands not ended.
    pub fn open(&self) -> usize {
        self.commands
            .values()
            .filter(|c| !c.state.terminal())
            .count()
    }

    /// The counts so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The next moment something is due without a message (a deadline, a retry, an
    /// expiry).
    pub fn next_due(&self) -> Option<Millis> {
        self.due.peek().map(|Reverse((t, _, _))| *t)
    }

    fn key(&self, id: &str) -> Option<u64> {
        id.strip_prefix(self.prefix.as_str())
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|n| n.parse().ok())
    }

    /// Takes a command for `wire_id` to do `action`, asked by `origin` at `now`: it is
    /// queued, and sent at once if the device can hear it and it is its turn. The
    /// desired value shows in the mirror from now.
    pub fn submit(
        &mut self,
        m: &mut Mirror,
        wire_id: &str,
        action: CommandAction,
        origin: Origin,
        now: Millis,
    ) -> Result<(String, Vec<Step>), Rejected> {
        let device = m
            .get(wire_id)
            .ok_or_else(|| Rejected::UnknownDevice(wire_id.to_string()))?
            .placement
            .clone();
        if device.kind != action.device() {
            return Err(Rejected::WrongKind {
                device: wire_id.to_string(),
                kind: device.kind,
                action,
                needs: action.device(),
            });
        }
        let (name, value) = action.desired();
        let _ = m.set_desired(wire_id, name, value);
        let delivery = *self.deliveries.of(device.kind);
        self.next += 1;
        let key = self.next;
        let id = format!("{}-{key}", self.prefix);
        self.commands.insert(
            key,
            Command {
                id: id.clone(),
                device,
                action,
                origin,
                state: State::Queued,
                attempts: 0,
                created_ms: now,
                expires_ms: now + delivery.expiry_ms,
                history: vec![(State::Queued, now)],
                late: Vec::new(),
                reason: None,
            },
        );
        self.tally.submitted += 1;
        self.queued
            .entry(wire_id.to_string())
            .or_default()
            .push_back(key);
        self.due.push(Reverse((now + delivery.expiry_ms, key, 0)));
        let mut steps = vec![Step::Changed {
            id: id.clone(),
            state: State::Queued,
        }];
        self.pump(m, wire_id, now, &mut steps);
        Ok((id, steps))
    }

    /// `wire_id` was heard at `now`: its queued commands go out if it is their turn.
    pub fn seen(&mut self, m: &mut Mirror, wire_id: &str, now: Millis) -> Vec<Step> {
        let mut steps = Vec::new();
        if self.queued.get(wire_id).is_some_and(|q| !q.is_empty()) {
            self.pump(m, wire_id, now, &mut steps);
        }
        steps
    }

    /// Sends the device's queued commands that may go now.
    fn pump(&mut self, m: &mut Mirror, wire_id: &str, now: Millis, steps: &mut Vec<Step>) {
        let Some(d) = m.get(wire_id) else { return };
        let delivery = *self.deliveries.of(d.placement.kind);
        if !delivery.reachable(d, now) {
            return;
        }
        loop {
            let busy = self.in_flight.get(wire_id).is_some_and(|v| !v.is_empty());
            if busy && delivery.one_at_a_time {
                return;
            }
            let Some(key) = self.queued.get_mut(wire_id).and_then(VecDeque::pop_front) else {
                return;
            };
            if self.queued.get(wire_id).is_some_and(VecDeque::is_empty) {
                self.queued.remove(wire_id);
            }
            self.send(key, &delivery, now, steps);
        }
    }

    /// Publishes an attempt of `key` and waits for its answer.
    fn send(&mut self, key: u64, delivery: &Delivery, now: Millis, steps: &mut Vec<Step>) {
        let Some(c) = self.commands.get_mut(&key) else {
            return;
        };
        c.attempts += 1;
        self.tally.published += 1;
        if c.attempts > 1 {
            self.tally.retries += 1;
        }
        let topic = wire::topic(
            &format!("c{}", c.device.community),
            &format!("b{}", c.device.building),
            &c.device.wire_id,
            wire::Channel::Command,
        );
        steps.push(Step::Publish {
            topic,
            payload: CommandPayload {
                id: c.id.clone(),
                action: c.action,
                ts_ms: now,
                expires_ms: now + delivery.answer_ms,
                attempt: c.attempts,
            },
        });
        if c.state != State::Sent {
            c.state = State::Sent;
            c.history.push((State::Sent, now));
            steps.push(Step::Changed {
                id: c.id.clone(),
                state: State::Sent,
            });
        }
        let wire_id = c.device.wire_id.clone();
        self.due
            .push(Reverse((now + delivery.answer_ms, key, c.attempts)));
        let flying = self.in_flight.entry(wire_id).or_default();
        if !flying.contains(&key) {
            flying.push(key);
        }
    }

    /// `wire_id` answered at `now`. An answer naming a command the twin did not send to
    /// that device is refused (and counted in the mirror).
    pub fn answer(
        &mut self,
        m: &mut Mirror,
        wire_id: &str,
        ack: &AckPayload,
        now: Millis,
    ) -> Result<Vec<Step>, Refusal> {
        let Some(key) = self
            .key(&ack.id)
            .filter(|k| (self.commands.get(k)).is_some_and(|c| c.device.wire_id == wire_id))
        else {
            return Err(m.refuse(Refusal::UnknownCommand));
        };
        let mut steps = Vec::new();
        let Some(c) = self.commands.get_mut(&key) else {
            return Ok(steps);
        };
        if c.state.terminal() {
            c.late.push((ack.status, now));
            self.tally.late += 1;
            steps.push(Step::Late {
                id: c.id.clone(),
                status: ack.status,
            });
            return Ok(steps);
        }
        match ack.status {
            AckStatus::Received if c.state == State::Delivered => self.tally.repeated += 1,
            AckStatus::Received => {
                // Delivered: it has it; the answer's wait starts again, without retries
                // (a device that has the command needs no second copy).
                let delivery = *self.deliveries.of(c.device.kind);
                c.state = State::Delivered;
                c.history.push((State::Delivered, now));
                // A retry's queue place, if it was waiting for one, is given up.
                unqueue(&mut self.queued, wire_id, key);
                if !self
                    .in_flight
                    .get(wire_id)
                    .is_some_and(|v| v.contains(&key))
                {
                    self.in_flight
                        .entry(wire_id.to_string())
                        .or_default()
                        .push(key);
                }
                self.due
                    .push(Reverse((now + delivery.answer_ms, key, u32::MAX)));
                steps.push(Step::Changed {
                    id: c.id.clone(),
                    state: State::Delivered,
                });
            }
            AckStatus::Succeeded => self.end(m, key, State::Succeeded, now, &mut steps),
            AckStatus::Failed => {
                c.reason = ack.reason.clone();
                self.end(m, key, State::Failed, now, &mut steps);
            }
        }
        Ok(steps)
    }

    /// `wire_id`'s telemetry at `now` reported the desired values `reached`: a command in
    /// flight whose action they confirm has succeeded.
    pub fn echo(
        &mut self,
        m: &mut Mirror,
        wire_id: &str,
        reached: &[String],
        now: Millis,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        let confirmed: Vec<u64> = (self.in_flight.get(wire_id).into_iter().flatten())
            .copied()
            .filter(|k| {
                self.commands
                    .get(k)
                    .is_some_and(|c| reached.iter().any(|r| r == c.action.desired().0))
            })
            .collect();
        for key in confirmed {
            self.end(m, key, State::Succeeded, now, &mut steps);
        }
        steps
    }

    /// Deadlines up to `now`: a wait for an answer that ran out is retried after its
    /// backoff or times out; a queued command past its expiry expires.
    pub fn tick(&mut self, m: &mut Mirror, now: Millis) -> Vec<Step> {
        let mut steps = Vec::new();
        while let Some(&Reverse((at, key, attempt))) = self.due.peek() {
            if at > now {
                break;
            }
            self.due.pop();
            let Some(c) = self.commands.get(&key) else {
                continue;
            };
            let delivery = *self.deliveries.of(c.device.kind);
            match c.state {
                State::Queued if attempt == 0 && now >= c.expires_ms => {
                    let end = if c.attempts == 0 {
                        State::Expired
                    } else {
                        State::TimedOut
                    };
                    self.end(m, key, end, now, &mut steps);
                }
                // A retry's backoff is over.
                State::Sent if attempt == RETRY => {
                    let wire_id = c.device.wire_id.clone();
                    let reachable = m.get(&wire_id).is_some_and(|d| delivery.reachable(d, now));
                    if reachable {
                        self.send(key, &delivery, now, &mut steps);
                    } else {
                        // It cannot hear the retry: back in the queue, sent when it is
                        // heard, until the expiry.
                        self.leave_flight(&wire_id, key);
                        if let Some(c) = self.commands.get_mut(&key) {
                            c.state = State::Queued;
                            c.expires_ms = c.expires_ms.max(now + delivery.answer_ms);
                            c.history.push((State::Queued, now));
                            steps.push(Step::Changed {
                                id: c.id.clone(),
                                state: State::Queued,
                            });
                            self.due.push(Reverse((c.expires_ms, key, 0)));
                        }
                        self.queued.entry(wire_id).or_default().push_front(key);
                    }
                }
                // The answer's wait for the latest attempt ran out.
                State::Sent if attempt == c.attempts => {
                    if c.attempts > delivery.retries {
                        self.end(m, key, State::TimedOut, now, &mut steps);
                    } else {
                        self.due
                            .push(Reverse((now + delivery.backoff(c.attempts), key, RETRY)));
                        // It keeps its turn through the backoff: a device that needs one
                        // command at a time gets the retry before the next.
                    }
                }
                State::Delivered if attempt == u32::MAX => {
                    self.end(m, key, State::TimedOut, now, &mut steps);
                }
                _ => {}
            }
        }
        steps
    }

    fn leave_flight(&mut self, wire_id: &str, key: u64) {
        if let Some(v) = self.in_flight.get_mut(wire_id) {
            v.retain(|k| *k != key);
        }
    }

    /// Ends `key` in `state`; the device's next queued command may go.
    fn end(&mut self, m: &mut Mirror, key: u64, state: State, now: Millis, steps: &mut Vec<Step>) {
        let Some(c) = self.commands.get_mut(&key) else {
            return;
        };
        c.state = state;
        c.history.push((state, now));
        *self.tally.ended.entry(state).or_insert(0) += 1;
        let wire_id = c.device.wire_id.clone();
        if state != State::Succeeded {
            // Not done: the twin no longer waits for the device to report it.
            m.clear_desired(&wire_id, c.action.desired().0);
        }
        steps.push(Step::Changed {
            id: c.id.clone(),
            state,
        });
        self.leave_flight(&wire_id, key);
        unqueue(&mut self.queued, &wire_id, key);
        self.ended.push_back(key);
        while self.ended.len() > KEEP_ENDED {
            if let Some(old) = self.ended.pop_front() {
                self.commands.remove(&old);
            }
        }
        self.pump(m, &wire_id, now, steps);
    }
}

/// Takes `key` out of `wire_id`'s queue, and the queue out of `queued` once empty.
fn unqueue(queued: &mut HashMap<String, VecDeque<u64>>, wire_id: &str, key: u64) {
    if let Some(q) = queued.get_mut(wire_id) {
        q.retain(|k| *k != key);
        if q.is_empty() {
            queued.remove(wire_id);
        }
    }
}

/// The deadline marker of a retry's backoff (an attempt number never reaches it).
const RETRY: u32 = u32::MAX - 1;

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_twin::mirror::{MirrorLimits, Reading, Stamped};

    fn door(wire_id: &str, device: u32) -> Placement {
        Placement {
            wire_id: wire_id.into(),
            community: 0,
            building: 3,
            device,
            kind: DeviceKind::AccessControl,
        }
    }

    /// A mirror of two doors and a pump, the doors heard at 0 and online.
    fn mirror() -> Mirror {
        let pump = Placement {
            kind: DeviceKind::WaterLevel,
            ..door("pump", 3)
        };
        let mut m = Mirror::new(
            [door("door-1", 1), door("door-2", 2), pump],
            MirrorLimits::default(),
        );
        for d in ["door-1", "door-2"] {
            m.set_availability(d, Availability::Online, 0).unwrap();
        }
        m
    }

    fn book() -> Book {
        Book::new(Deliveries::default(), "t")
    }

    fn ack(id: &str, status: AckStatus) -> AckPayload {
        AckPayload {
            id: id.into(),
            status,
            ts_ms: 0,
            reason: None,
        }
    }

    fn states(steps: &[Step]) -> Vec<State> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Changed { state, .. } => Some(*state),
                _ => None,
            })
            .collect()
    }

    fn attempts(steps: &[Step]) -> Vec<u32> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Publish { payload, .. } => Some(payload.attempt),
                _ => None,
            })
            .collect()
    }

    fn release(b: &mut Book, m: &mut Mirror, wire_id: &str, now: Millis) -> (String, Vec<Step>) {
        let origin = Origin::Operator {
            seat: "property_firm@community:0".into(),
        };
        b.submit(m, wire_id, CommandAction::ReleaseDoors, origin, now)
            .unwrap()
    }

    #[test]
    fn a_command_is_sent_delivered_and_succeeds_only_on_the_devices_answer() {
        let (mut m, mut b) = (mirror(), book());
        let (id, steps) = release(&mut b, &mut m, "door-1", 10);
        assert_eq!(id, "t-1");
        assert_eq!(states(&steps), [State::Queued, State::Sent]);
        let Step::Publish { topic, payload } = &steps[1] else {
            panic!("{steps:?}")
        };
        assert_eq!(topic, "civitas/v1/c0/b3/door-1/command");
        assert_eq!((payload.id.as_str(), payload.attempt), ("t-1", 1));
        assert!(m.get("door-1").unwrap().pending(), "desired shows");
        // Nothing but the device's answer moves it on.
        assert_eq!(b.tick(&mut m, 4_999), vec![]);
        let s = b
            .answer(&mut m, "door-1", &ack(&id, AckStatus::Received), 20)
            .unwrap();
        assert_eq!(states(&s), [State::Delivered]);
        let s = b
            .answer(&mut m, "door-1", &ack(&id, AckStatus::Succeeded), 30)
            .unwrap();
        assert_eq!(states(&s), [State::Succeeded]);
        let c = b.get(&id).unwrap();
        let history: Vec<State> = c.history.iter().map(|h| h.0).collect();
        assert_eq!(
            history,
            [
                State::Queued,
                State::Sent,
                State::Delivered,
                State::Succeeded
            ]
        );
        assert_eq!(b.open(), 0);
        assert_eq!(b.tick(&mut m, 1_000_000), vec![], "no timer outlives it");
    }

    #[test]
    fn the_devices_telemetry_reporting_the_action_confirms_it() {
        let (mut m, mut b) = (mirror(), book());
        let (id, _) = release(&mut b, &mut m, "door-1", 10);
        let telemetry = |door| Stamped {
            seq: 1,
            ts_ms: 20,
            reading: Reading::Telemetry(BTreeMap::from([("door_open".to_string(), door)])),
        };
        let Ok(civitas_twin::mirror::Applied::Telemetry { reached }) =
            m.apply("door-1", telemetry(1.0), 20)
        else {
            panic!()
        };
        assert_eq!(
            states(&b.echo(&mut m, "door-1", &reached, 20)),
            [State::Succeeded]
        );
        assert_eq!(b.get(&id).unwrap().state, State::Succeeded);
        assert!(!m.get("door-1").unwrap().pending());
    }

    #[test]
    fn no_answer_retries_with_doubling_backoff_then_times_out_and_a_late_answer_is_recorded() {
        let (mut m, mut b) = (mirror(), book());
        let d = Delivery::default();
        let (id, _) = release(&mut b, &mut m, "door-1", 0);
        let mut now = 0;
        let mut sent_at = vec![0];
        for n in 1..=d.retries {
            now += d.answer_ms;
            assert_eq!(b.tick(&mut m, now), vec![], "the answer's wait ran out");
            now += d.backoff(n);
            let s = b.tick(&mut m, now);
            assert_eq!(attempts(&s), [n + 1], "retry {n} after {} ms", d.backoff(n));
            sent_at.push(now);
        }
        assert_eq!(sent_at, [0, 6_000, 13_000, 22_000], "backoff 1, 2, 4 s");
        now += d.answer_ms;
        assert_eq!(states(&b.tick(&mut m, now)), [State::TimedOut]);
        assert!(!m.get("door-1").unwrap().pending(), "desired cleared");
        assert_eq!(now, d.longest_ms() - d.expiry_ms);
        assert_eq!(now, 27_000, "sent at 0, ended 27 s later");
        let s = b
            .answer(&mut m, "door-1", &ack(&id, AckStatus::Succeeded), now + 1)
            .unwrap();
        assert_eq!(
            s,
            [Step::Late {
                id: id.clone(),
                status: AckStatus::Succeeded
            }]
        );
        let c = b.get(&id).unwrap();
        assert_eq!((c.state, c.late.len(), c.attempts), (State::TimedOut, 1, 4));
        let t = b.tally();
        assert_eq!((t.ended[&State::TimedOut], t.late, t.retries), (1, 1, 3));
        assert_eq!(t.ended.get(&State::Succeeded), None, "not counted twice");
    }

    #[test]
    fn a_failed_answer_ends_it_with_the_devices_reason() {
        let (mut m, mut b) = (mirror(), book());
        let (id, _) = release(&mut b, &mut m, "door-1", 0);
        let mut a = ack(&id, AckStatus::Failed);
        a.reason = Some("jammed".into());
        assert_eq!(
            states(&b.answer(&mut m, "door-1", &a, 5).unwrap()),
            [State::Failed]
        );
        assert_eq!(b.get(&id).unwrap().reason.as_deref(), Some("jammed"));
    }

    #[test]
    fn a_device_that_cannot_hear_gets_its_command_when_next_heard_or_it_expires() {
        let (mut m, mut b) = (mirror(), book());
        // The pump was never heard: queued, not sent.
        let origin = Origin::Operator { seat: "x".into() };
        let (id, s) = b
            .submit(&mut m, "pump", CommandAction::StartPump, origin.clone(), 0)
            .unwrap();
        assert_eq!(states(&s), [State::Queued]);
        m.set_availability("pump", Availability::Online, 100)
            .unwrap();
        let s = b.seen(&mut m, "pump", 100);
        assert_eq!((states(&s), attempts(&s)), (vec![State::Sent], vec![1]));
        assert_eq!(b.get(&id).unwrap().state, State::Sent);
        // door-2 goes offline: its command waits, and expires unsent.
        m.set_availability("door-2", Availability::Offline, 200)
            .unwrap();
        let (id2, s) = b
            .submit(&mut m, "door-2", CommandAction::ReleaseDoors, origin, 200)
            .unwrap();
        assert_eq!(states(&s), [State::Queued]);
        let expiry = Delivery::default().expiry_ms;
        assert_eq!(b.tick(&mut m, 200 + expiry - 1), vec![]);
        assert_eq!(states(&b.tick(&mut m, 200 + expiry)), [State::Expired]);
        assert_eq!(
            b.get(&id2).unwrap().state.outcome(),
            Some(CommandOutcome::Expired)
        );
        assert_eq!(b.seen(&mut m, "door-2", 200 + expiry + 1), vec![]);
    }

    #[test]
    fn a_sleeping_device_is_reachable_only_while_awake_after_it_is_heard() {
        let sleepy = Delivery {
            awake_ms: Some(2_000),
            ..Delivery::default()
        };
        let deliveries = Deliveries {
            by_kind: BTreeMap::from([(DeviceKind::AccessControl, sleepy)]),
            ..Deliveries::default()
        };
        let (mut m, mut b) = (mirror(), Book::new(deliveries, "t"));
        // Heard at 0; at 5 s it sleeps.
        let origin = Origin::Operator { seat: "x".into() };
        let (_, s) = b
            .submit(&mut m, "door-1", CommandAction::ReleaseDoors, origin, 5_000)
            .unwrap();
        assert_eq!(states(&s), [State::Queued]);
        m.set_availability("door-1", Availability::Online, 60_000)
            .unwrap();
        assert_eq!(attempts(&b.seen(&mut m, "door-1", 60_000)), [1]);
    }

    #[test]
    fn one_command_at_a_time_the_next_waits_for_the_first_to_end() {
        let (mut m, mut b) = (mirror(), book());
        let (first, _) = release(&mut b, &mut m, "door-1", 0);
        let origin = Origin::Operator { seat: "x".into() };
        let (second, s) = b
            .submit(&mut m, "door-1", CommandAction::LockDoors, origin, 1)
            .unwrap();
        assert_eq!(states(&s), [State::Queued], "waits its turn");
        // The first's retries keep the turn.
        let d = Delivery::default();
        b.tick(&mut m, d.answer_ms);
        assert_eq!(b.get(&second).unwrap().state, State::Queued);
        let s = b
            .answer(&mut m, "door-1", &ack(&first, AckStatus::Succeeded), 5_500)
            .unwrap();
        assert_eq!(states(&s), [State::Succeeded, State::Sent]);
        assert_eq!(b.get(&second).unwrap().state, State::Sent);
        // Without one at a time, both go at once.
        let free = Deliveries {
            default: Delivery {
                one_at_a_time: false,
                ..d
            },
            ..Deliveries::default()
        };
        let (mut m, mut b) = (mirror(), Book::new(free, "t"));
        release(&mut b, &mut m, "door-1", 0);
        let (_, s) = release(&mut b, &mut m, "door-1", 1);
        assert_eq!(states(&s), [State::Queued, State::Sent]);
    }

    #[test]
    fn a_retry_the_device_cannot_hear_waits_in_the_queue_and_times_out_at_the_expiry() {
        let (mut m, mut b) = (mirror(), book());
        let (id, _) = release(&mut b, &mut m, "door-1", 0);
        m.set_availability("door-1", Availability::Offline, 100)
            .unwrap();
        b.tick(&mut m, 5_000);
        assert_eq!(states(&b.tick(&mut m, 6_000)), [State::Queued]);
        m.set_availability("door-1", Availability::Online, 7_000)
            .unwrap();
        assert_eq!(attempts(&b.seen(&mut m, "door-1", 7_000)), [2]);
        m.set_availability("door-1", Availability::Offline, 7_100)
            .unwrap();
        b.tick(&mut m, 12_000);
        b.tick(&mut m, 14_000);
        let expiry = Delivery::default().expiry_ms;
        assert_eq!(states(&b.tick(&mut m, expiry)), [State::TimedOut]);
        assert_eq!(b.get(&id).unwrap().attempts, 2, "sent once, so not expired");
    }

    #[test]
    fn bad_commands_and_answers_are_refused_with_their_reason() {
        let (mut m, mut b) = (mirror(), book());
        let origin = Origin::Operator { seat: "x".into() };
        assert_eq!(
            b.submit(
                &mut m,
                "door-9",
                CommandAction::ReleaseDoors,
                origin.clone(),
                0
            ),
            Err(Rejected::UnknownDevice("door-9".into()))
        );
        let wrong = b
            .submit(&mut m, "door-1", CommandAction::StartPump, origin, 0)
            .unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "door-1 (kind access_control) cannot start_pump: that is for water_level devices"
        );
        let (id, _) = release(&mut b, &mut m, "door-1", 0);
        for (device, id) in [
            ("door-1", "t-99"),
            ("door-1", "other-1"),
            ("door-1", "t-"),
            ("door-2", id.as_str()),
        ] {
            assert_eq!(
                b.answer(&mut m, device, &ack(id, AckStatus::Succeeded), 1),
                Err(Refusal::UnknownCommand),
                "{device} {id}"
            );
        }
        assert_eq!(m.refused()[&Refusal::UnknownCommand], 4);
        // A flood of repeats changes nothing.
        b.answer(&mut m, "door-1", &ack(&id, AckStatus::Received), 2)
            .unwrap();
        for t in 0..1_000 {
            b.answer(&mut m, "door-1", &ack(&id, AckStatus::Received), 3 + t)
                .unwrap();
        }
        assert_eq!(b.tally().repeated, 1_000);
        assert_eq!(b.get(&id).unwrap().history.len(), 3);
    }
}
