//! The device fleet simulator: a generated community's devices speaking the native wire
//! schema, so that the twin, the viewer and drills run without hardware.
//!
//! **Driven by the model.** The fleet runs the scenario's own actors (not mirror-only:
//! the model's incidents, failures and false alarms happen) on the wall clock at a
//! chosen speed, and turns what happens to its devices into messages:
//! - on start, every device says it is `online` (retained) and `working`;
//! - every device sends `telemetry` once per heartbeat (its kind's
//!   `heartbeat_hours`, in simulated time, so faster at a higher speed; at most once per
//!   real second), with values typical of its kind ([`measures`]);
//! - an incident detected by a device raises an `alarm` of the incident's kind on that
//!   device (a false alarm on the device that raised it; a real incident on the first
//!   device of its building that detects its kind — the stream names the building, not
//!   the device), cleared when the incident closes;
//! - a device that fails goes silent; when the platform misses its heartbeat, its
//!   gateway publishes it `offline` (retained); repaired, it is `online` and `working`
//!   again and its telemetry resumes.
//!
//! **Commands.** Each gateway subscribes to its devices' `command` topics, and a device
//! answers as a real one would, with [`Answers`]' faults: a device that is down, asleep
//! (a sleeping kind listens only [`Sleep::awake`] after each wake-up, when it sends its
//! telemetry) or whose command is lost ([`Answers::loss`]) says nothing; otherwise it
//! acknowledges `received` at once and, after [`Answers::delay`], `failed` (with
//! [`Answers::failure`]) or `succeeded`, and from then on reports the action's value in its
//! telemetry (`door_open: 1` after `release_doors`). A repeated correlation id (a retry)
//! is answered again as the first time and not carried out twice.
//!
//! **Gateways.** Like a building's edge gateway (or Zigbee2MQTT's bridge), the fleet
//! holds one MQTT connection per building and publishes for each of its devices, rather
//! than one connection per device: a district's 100,000 devices stay within a process's
//! file descriptors. Each gateway says it is online on its own availability topic
//! ([`wire::GATEWAY`]) and leaves `offline` there as its last will: when the fleet dies,
//! the broker tells the twin, which takes every device of that building offline.

use crate::broker::BrokerUrl;
use crate::ingest::wall_ms;
use crate::twin::spawn_live;
use crate::wire::{
    self, AckPayload, AckStatus, AlarmPayload, AvailabilityPayload, Channel, StatePayload,
    TelemetryPayload, WireAvailability, WireState,
};
use civitas_actors::{EngineError, EngineHandle, RunResult};
use civitas_scenarios::file::Scenario;
use civitas_twin::kinds::{CommandAction, DetectedBy, DeviceKind, IncidentKind, InvestmentModel};
use civitas_twin::mirror::{Millis, Placement};
use civitas_twin::time::{DAY, SimTime};
use civitas_twin::vocab::events::{DeviceState, Event, Stage};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rumqttc::{AsyncClient, NetworkOptions, QoS};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

/// What the fleet plays.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The community or district.
    pub scenario: Scenario,
    /// Seed of its generated world.
    pub seed: u64,
    /// Its investment and operation model.
    pub model: InvestmentModel,
    /// The broker.
    pub broker: BrokerUrl,
    /// The devices played, by wire id (normally [`crate::registry::generate`]'s).
    pub registry: Vec<Placement>,
    /// Simulated seconds per real second (1: real time).
    pub speed: f64,
    /// How long it runs (simulated time).
    pub horizon: SimTime,
    /// How its devices answer commands.
    pub answers: Answers,
}

/// How the fleet's devices answer commands, and which kinds sleep.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    /// Time to carry a command out, before answering (each answer takes between half and
    /// one and a half times this, uniformly).
    pub delay: Duration,
    /// Chance a command is lost: no answer at all.
    pub loss: f64,
    /// Chance a device answers that it could not.
    pub failure: f64,
    /// Kinds that sleep, and how.
    pub sleep: BTreeMap<DeviceKind, Sleep>,
}

impl Default for Answers {
    /// A second to carry out, nothing lost, nothing failed, nobody sleeping.
    fn default() -> Self {
        Answers {
            delay: Duration::from_secs(1),
            loss: 0.0,
            failure: 0.0,
            sleep: BTreeMap::new(),
        }
    }
}

/// A device that sleeps: it wakes every `every` (real time), sends its telemetry and
/// listens for `awake`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sleep {
    /// Between wake-ups.
    pub every: Duration,
    /// Listening after each wake-up.
    pub awake: Duration,
}

impl FleetOptions {
    /// The fleet of `scenario` (its seed and model) with `registry`, on `broker`, in
    /// real time for ten years.
    pub fn new(scenario: Scenario, registry: Vec<Placement>, broker: BrokerUrl) -> FleetOptions {
        FleetOptions {
            seed: scenario.seed,
            model: scenario.model,
            scenario,
            broker,
            registry,
            speed: 1.0,
            horizon: 3_650 * DAY,
            answers: Answers::default(),
        }
    }
}

/// What the fleet has done so far.
#[derive(Debug, Default)]
pub struct FleetStats {
    /// Messages published.
    pub published: AtomicU64,
    /// Alarms raised.
    pub alarms: AtomicU64,
    /// Devices that went offline.
    pub offline: AtomicU64,
    /// Publishes that failed (the client closed).
    pub failed: AtomicU64,
    /// Commands received (every copy, retries included).
    pub commands: AtomicU64,
    /// Commands not heard: the device was down or asleep, or the command was lost.
    pub unheard: AtomicU64,
    /// Commands carried out (a retry of one already carried out is not counted again).
    pub carried_out: AtomicU64,
}

/// A running fleet.
pub struct RunningFleet {
    /// Its engine's handle (stop it here).
    pub handle: EngineHandle,
    /// Devices played.
    pub devices: usize,
    /// MQTT connections (one per building with devices).
    pub gateways: usize,
    /// Counts.
    pub stats: Arc<FleetStats>,
    /// The engine's run.
    pub run: JoinHandle<Result<RunResult, EngineError>>,
}

/// Starts the fleet on the current tokio runtime.
pub async fn start(opts: FleetOptions) -> Result<RunningFleet, EngineError> {
    let (scenario, _, mut engine) =
        spawn_live(opts.scenario.clone(), opts.seed, opts.model, opts.speed).await?;
    let handle = engine.handle();
    let mut events = engine.subscribe(1 << 16);
    let horizon = opts.horizon;
    let run = tokio::spawn(async move {
        let mut nothing = |_: &civitas_actors::Window| {};
        engine.run(horizon, &mut nothing).await
    });
    let stats = Arc::new(FleetStats::default());
    let (commands_tx, mut commands) = tokio::sync::mpsc::channel(1 << 14);
    let mut fleet = Fleet::new(&opts, &scenario, stats.clone(), commands_tx);
    let (devices, gateways) = (fleet.devices.len(), fleet.gateways.len());
    tokio::spawn(async move {
        fleet.birth().await;
        loop {
            // Wake for the next beat or answer, at least every 250 ms.
            let now = wall_ms();
            let next = fleet.next_due().map_or(250, |t| (t - now).clamp(0, 250));
            let wake = tokio::time::sleep(Duration::from_millis(next as u64));
            tokio::select! {
                w = events.recv() => match w {
                    Some(w) => fleet.on_window(&w.events).await,
                    None => break,
                },
                c = commands.recv() => match c {
                    Some((topic, payload)) => fleet.on_command(&topic, &payload, wall_ms()).await,
                    None => break,
                },
                () = wake => {
                    let now = wall_ms();
                    fleet.beats(now).await;
                    fleet.answers(now).await;
                }
            }
        }
    });
    Ok(RunningFleet {
        handle,
        devices,
        gateways,
        stats,
        run,
    })
}

/// One played device.
struct Device {
    placement: Placement,
    /// `civitas/v1/c<community>/b<building>/<wire id>`.
    topic_base: String,
    gateway: usize,
    seq: u64,
    /// Sending (false while failed).
    up: bool,
    /// Telemetry period (real ms).
    period_ms: Millis,
    /// Counters' current values, in [`measures`] order.
    counts: Vec<f64>,
    /// Values set by commands carried out, reported in every telemetry message.
    held: BTreeMap<&'static str, f64>,
    /// Listening until (real ms), for a kind that sleeps.
    awake_until: Option<Millis>,
    /// The last commands carried out, by correlation id, with their answer.
    done: VecDeque<(String, AckStatus)>,
    rng: Pcg64Mcg,
}

/// An answer a device will publish.
struct Pending {
    device: usize,
    id: String,
    action: CommandAction,
    status: AckStatus,
}

struct Fleet {
    devices: Vec<Device>,
    gateways: Vec<AsyncClient>,
    /// Each gateway's (community, building).
    routes: Vec<(u32, u32)>,
    /// (community, device id) → index.
    index: HashMap<(u32, u32), usize>,
    /// (community, building, incident kind) → devices that detect it.
    detectors: HashMap<(u32, u32, IncidentKind), Vec<usize>>,
    /// (community, incident kind) → devices that detect it anywhere.
    anywhere: HashMap<(u32, IncidentKind), Vec<usize>>,
    /// The device that raised an alarm in this window: (community, building, time).
    raised: HashMap<(u32, u32, SimTime), usize>,
    /// Open incidents' alarming device.
    alarming: HashMap<u64, usize>,
    heap: BinaryHeap<Reverse<(Millis, usize)>>,
    stats: Arc<FleetStats>,
    /// Devices by wire id.
    by_wire: HashMap<String, usize>,
    /// Answers due: (when, sequence) → the answer.
    answers_due: BinaryHeap<Reverse<(Millis, u64)>>,
    pending: HashMap<u64, Pending>,
    next_answer: u64,
    answers: Answers,
    /// For the fleet's own dice on commands (loss, failure, delay).
    rng: Pcg64Mcg,
}

impl Fleet {
    fn new(
        opts: &FleetOptions,
        scenario: &Scenario,
        stats: Arc<FleetStats>,
        commands: tokio::sync::mpsc::Sender<(String, Vec<u8>)>,
    ) -> Fleet {
        let mut gateway_of: BTreeMap<(u32, u32), usize> = BTreeMap::new();
        let mut gateways = Vec::new();
        let mut routes = Vec::new();
        let mut devices = Vec::new();
        let mut index = HashMap::new();
        let mut detectors: HashMap<_, Vec<usize>> = HashMap::new();
        let mut anywhere: HashMap<_, Vec<usize>> = HashMap::new();
        let now = wall_ms();
        let mut heap = BinaryHeap::new();
        for p in &opts.registry {
            let (c, b) = (p.community, p.building);
            let gateway = *gateway_of.entry((c, b)).or_insert_with(|| {
                gateways.push(connect(&opts.broker, c, b, commands.clone()));
                routes.push((c, b));
                gateways.len() - 1
            });
            let i = devices.len();
            index.insert((c, p.device), i);
            let params = scenario.parameters.device(p.kind);
            for k in &params.detects {
                detectors.entry((c, b, *k)).or_default().push(i);
                anywhere.entry((c, *k)).or_default().push(i);
            }
            let mut rng = Pcg64Mcg::seed_from_u64(
                opts.seed
                    ^ (u64::from(c) << 32 | u64::from(p.device))
                        .wrapping_mul(0x9e37_79b9_7f4a_7c15),
            );
            let sleep = opts.answers.sleep.get(&p.kind);
            let period_ms = match sleep {
                Some(s) => (s.every.as_millis() as Millis).max(1),
                None => ((params.heartbeat_hours * 3_600_000.0 / opts.speed.max(1e-9)) as Millis)
                    .max(1_000),
            };
            heap.push(Reverse((now + rng.random_range(0..period_ms), i)));
            let counts = measures(p.kind)
                .iter()
                .map(|(_, m)| match m {
                    Measure::Count { per_beat } => {
                        (per_beat * rng.random_range(100.0..1_000.0)).round()
                    }
                    Measure::Level { .. } => 0.0,
                })
                .collect();
            devices.push(Device {
                topic_base: format!("{}/c{c}/b{b}/{}", wire::PREFIX, p.wire_id),
                placement: p.clone(),
                gateway,
                seq: 0,
                up: true,
                period_ms,
                counts,
                held: BTreeMap::new(),
                awake_until: sleep.map(|_| Millis::MIN),
                done: VecDeque::new(),
                rng,
            });
        }
        let by_wire = (devices.iter().enumerate())
            .map(|(i, d)| (d.placement.wire_id.clone(), i))
            .collect();
        Fleet {
            devices,
            gateways,
            routes,
            index,
            detectors,
            anywhere,
            raised: HashMap::new(),
            alarming: HashMap::new(),
            heap,
            stats,
            by_wire,
            answers_due: BinaryHeap::new(),
            pending: HashMap::new(),
            next_answer: 0,
            answers: opts.answers.clone(),
            rng: Pcg64Mcg::seed_from_u64(opts.seed ^ 0xc0_11a5),
        }
    }

    /// The next beat or answer due.
    fn next_due(&self) -> Option<Millis> {
        let beat = self.heap.peek().map(|Reverse((t, _))| *t);
        let answer = self.answers_due.peek().map(|Reverse((t, _))| *t);
        beat.into_iter().chain(answer).min()
    }

    /// A command arrived on `topic`: the device answers, or does not.
    async fn on_command(&mut self, topic: &str, payload: &[u8], now: Millis) {
        self.stats.commands.fetch_add(1, Ordering::Relaxed);
        let (Ok(t), Ok(wire::Message::Command(c))) = (
            wire::Topic::parse(topic),
            wire::decode(wire::Channel::Command, payload),
        ) else {
            return;
        };
        let Some(&i) = self.by_wire.get(t.device) else {
            return;
        };
        let d = &self.devices[i];
        let asleep = d.awake_until.is_some_and(|t| now > t);
        let lost = self.answers.loss > 0.0 && self.rng.random_bool(self.answers.loss.min(1.0));
        if !d.up || asleep || lost || now > c.expires_ms {
            self.stats.unheard.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Some(&(_, status)) = d.done.iter().find(|(id, _)| *id == c.id) {
            // A retry of one carried out: the same answer again.
            self.ack(i, &c.id, status).await;
            return;
        }
        self.ack(i, &c.id, AckStatus::Received).await;
        let failed =
            self.answers.failure > 0.0 && self.rng.random_bool(self.answers.failure.min(1.0));
        let status = if failed {
            AckStatus::Failed
        } else {
            AckStatus::Succeeded
        };
        let delay = self.answers.delay.as_millis() as f64 * self.rng.random_range(0.5..1.5);
        self.next_answer += 1;
        self.answers_due
            .push(Reverse((now + delay as Millis, self.next_answer)));
        self.pending.insert(
            self.next_answer,
            Pending {
                device: i,
                id: c.id,
                action: c.action,
                status,
            },
        );
    }

    /// Answers due by `now`.
    async fn answers(&mut self, now: Millis) {
        while let Some(&Reverse((due, n))) = self.answers_due.peek() {
            if due > now {
                break;
            }
            self.answers_due.pop();
            let Some(p) = self.pending.remove(&n) else {
                continue;
            };
            let d = &mut self.devices[p.device];
            if p.status == AckStatus::Succeeded {
                let (name, value) = p.action.desired();
                d.held.insert(name, value);
                self.stats.carried_out.fetch_add(1, Ordering::Relaxed);
            }
            d.done.push_back((p.id.clone(), p.status));
            if d.done.len() > 16 {
                d.done.pop_front();
            }
            self.ack(p.device, &p.id, p.status).await;
        }
    }

    async fn ack(&mut self, i: usize, id: &str, status: AckStatus) {
        let body = json(&AckPayload {
            id: id.to_string(),
            status,
            ts_ms: wall_ms(),
            reason: (status == AckStatus::Failed).then(|| "actuator jammed".to_string()),
        });
        self.publish(i, Channel::Ack, body, false).await;
    }

    async fn publish(&mut self, i: usize, channel: Channel, payload: Vec<u8>, retain: bool) {
        let d = &self.devices[i];
        let topic = format!("{}/{}", d.topic_base, channel.as_str());
        match self.gateways[d.gateway]
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
        {
            Ok(()) => self.stats.published.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.stats.failed.fetch_add(1, Ordering::Relaxed),
        };
    }

    fn next_seq(&mut self, i: usize) -> u64 {
        self.devices[i].seq += 1;
        self.devices[i].seq
    }

    async fn availability(&mut self, i: usize, state: WireAvailability) {
        let body = json(&AvailabilityPayload { state });
        self.publish(i, Channel::Availability, body, true).await;
    }

    async fn state(&mut self, i: usize, state: WireState) {
        let seq = self.next_seq(i);
        let body = json(&StatePayload {
            seq,
            ts_ms: wall_ms(),
            state,
        });
        self.publish(i, Channel::State, body, false).await;
    }

    async fn alarm(&mut self, i: usize, active: bool, kind: IncidentKind) {
        let seq = self.next_seq(i);
        let body = json(&AlarmPayload {
            seq,
            ts_ms: wall_ms(),
            active,
            kind: Some(kind),
        });
        self.publish(i, Channel::Alarm, body, false).await;
    }

    /// Every gateway and every device online, every device working.
    async fn birth(&mut self) {
        for (g, &(c, b)) in self.routes.iter().enumerate() {
            let body = json(&AvailabilityPayload {
                state: WireAvailability::Online,
            });
            match self.gateways[g]
                .publish(gateway_topic(c, b), QoS::AtLeastOnce, true, body)
                .await
            {
                Ok(()) => self.stats.published.fetch_add(1, Ordering::Relaxed),
                Err(_) => self.stats.failed.fetch_add(1, Ordering::Relaxed),
            };
        }
        let now = wall_ms();
        for i in 0..self.devices.len() {
            // Born awake: a sleeping kind listens for its awake time first.
            if let Some(s) = self.answers.sleep.get(&self.devices[i].placement.kind) {
                self.devices[i].awake_until = Some(now + s.awake.as_millis() as Millis);
            }
            self.availability(i, WireAvailability::Online).await;
            self.state(i, WireState::Working).await;
        }
    }

    /// Telemetry from every device whose period is up at `now`.
    async fn beats(&mut self, now: Millis) {
        while let Some(&Reverse((due, i))) = self.heap.peek() {
            if due > now {
                break;
            }
            self.heap.pop();
            let period = self.devices[i].period_ms;
            self.heap.push(Reverse((due + period, i)));
            if !self.devices[i].up {
                continue;
            }
            let seq = self.next_seq(i);
            let d = &mut self.devices[i];
            if let Some(s) = self.answers.sleep.get(&d.placement.kind) {
                // Awake: it listens for a while after it has sent.
                d.awake_until = Some(now + s.awake.as_millis() as Millis);
            }
            let mut values = telemetry(d.placement.kind, &mut d.counts, &mut d.rng);
            values.extend(d.held.iter().map(|(k, v)| (k.to_string(), *v)));
            let body = json(&TelemetryPayload {
                seq,
                ts_ms: wall_ms(),
                values,
            });
            self.publish(i, Channel::Telemetry, body, false).await;
        }
    }

    async fn on_event(&mut self, e: &Event) {
        match e {
            Event::Device {
                at,
                community,
                building,
                device,
                state,
                ..
            } => {
                let Some(&i) = self.index.get(&(*community, *device)) else {
                    return;
                };
                match state {
                    DeviceState::Failed => self.devices[i].up = false,
                    DeviceState::Offline => {
                        self.devices[i].up = false;
                        self.stats.offline.fetch_add(1, Ordering::Relaxed);
                        self.availability(i, WireAvailability::Offline).await;
                    }
                    DeviceState::Working => {
                        self.devices[i].up = true;
                        self.availability(i, WireAvailability::Online).await;
                        self.state(i, WireState::Working).await;
                    }
                    DeviceState::Alarm => {
                        self.raised.insert((*community, *building, *at), i);
                    }
                }
            }
            Event::Incident {
                at,
                id,
                kind,
                community,
                building,
                stage,
            } => match stage {
                Stage::Detected {
                    by: DetectedBy::Device,
                } => {
                    let i = self
                        .raised
                        .remove(&(*community, *building, *at))
                        .or_else(|| self.detector(*community, *building, *kind));
                    if let Some(i) = i {
                        self.alarming.insert(*id, i);
                        self.stats.alarms.fetch_add(1, Ordering::Relaxed);
                        self.alarm(i, true, *kind).await;
                    }
                }
                Stage::Closed { .. } => {
                    if let Some(i) = self.alarming.remove(id) {
                        self.alarm(i, false, *kind).await;
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// A window's events; a device's own alarm is matched with its incident within it.
    async fn on_window(&mut self, events: &[Event]) {
        for e in events {
            self.on_event(e).await;
        }
        self.raised.clear();
    }

    /// The working device of `building` that detects `kind` first (else one anywhere in
    /// the community).
    fn detector(&self, community: u32, building: u32, kind: IncidentKind) -> Option<usize> {
        let up = |v: &Vec<usize>| v.iter().copied().find(|&i| self.devices[i].up);
        self.detectors
            .get(&(community, building, kind))
            .and_then(up)
            .or_else(|| self.anywhere.get(&(community, kind)).and_then(up))
    }
}

/// One gateway's connection, its event loop polled on its own task (rumqttc sends
/// nothing otherwise), reconnecting by itself.
fn connect(
    broker: &BrokerUrl,
    community: u32,
    building: u32,
    commands: tokio::sync::mpsc::Sender<(String, Vec<u8>)>,
) -> AsyncClient {
    let id = format!(
        "civitas-fleet-{}-c{community}-b{building}",
        std::process::id()
    );
    let mut o = broker.options(id, Duration::from_secs(30));
    // Its last will: the gateway offline, and with it every device it serves.
    o.set_last_will(rumqttc::LastWill::new(
        gateway_topic(community, building),
        json(&AvailabilityPayload {
            state: WireAvailability::Offline,
        }),
        QoS::AtLeastOnce,
        true,
    ));
    o.set_max_packet_size(wire::MAX_PAYLOAD + 1024, wire::MAX_PAYLOAD + 1024);
    let (client, mut events) = AsyncClient::new(o, 256);
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    events.set_network_options(network);
    let subscriber = client.clone();
    // Its devices' commands (`+`: every device of the building), asked for before anything
    // is published: a device listens before it says it is online.
    let filter = wire::topic(
        &format!("c{community}"),
        &format!("b{building}"),
        "+",
        Channel::Command,
    );
    let _ = client.try_subscribe(&filter, QoS::AtLeastOnce);
    let mut first = true;
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                    // Every reconnection: subscribe again (a clean session forgot it).
                    if !std::mem::take(&mut first) {
                        let _ = subscriber.subscribe(&filter, QoS::AtLeastOnce).await;
                    }
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    if commands.send((p.topic, p.payload.to_vec())).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    // rumqttc reconnects on the next poll; do not spin while the broker
                    // is away.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    });
    client
}

/// The availability topic of the gateway of `building` in `community`.
fn gateway_topic(community: u32, building: u32) -> String {
    wire::topic(
        &format!("c{community}"),
        &format!("b{building}"),
        wire::GATEWAY,
        Channel::Availability,
    )
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// How a measurement moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// A level: `mean ± spread`, uniformly.
    Level {
        /// Mean.
        mean: f64,
        /// Half-width.
        spread: f64,
    },
    /// A counter that grows by about `per_beat` each telemetry message.
    Count {
        /// Mean growth per message.
        per_beat: f64,
    },
}

const fn level(mean: f64, spread: f64) -> Measure {
    Measure::Level { mean, spread }
}

const fn count(per_beat: f64) -> Measure {
    Measure::Count { per_beat }
}

/// The measurements a device of `kind` sends (the names in docs/guide-operator.md).
pub fn measures(kind: DeviceKind) -> Vec<(&'static str, Measure)> {
    match kind {
        DeviceKind::VideoSurveillance => vec![
            ("uptime_h", count(1.0)),
            ("stream_kbps", level(2048.0, 256.0)),
        ],
        DeviceKind::FaceRecognition => vec![("passages", count(20.0))],
        DeviceKind::VehicleRecognition => {
            vec![("vehicles_in", count(8.0)), ("vehicles_out", count(8.0))]
        }
        // A door is shut (0) until a command releases it (1).
        DeviceKind::AccessControl => {
            vec![("door_open", level(0.0, 0.0)), ("passages", count(15.0))]
        }
        DeviceKind::IdVerification => vec![("checks", count(3.0))],
        DeviceKind::EvCharger => vec![("power_kw", level(3.3, 3.3)), ("energy_kwh", count(2.0))],
        DeviceKind::SmartMeter => vec![("energy_kwh", count(8.0)), ("water_m3", count(0.3))],
        DeviceKind::GroundLock => vec![("occupied", level(0.5, 0.5))],
        DeviceKind::SmartBin => vec![("fill_ratio", level(0.45, 0.35))],
        DeviceKind::SmokeDetector => vec![
            ("battery_v", level(2.9, 0.1)),
            ("smoke_obscuration_pct_m", level(0.1, 0.1)),
        ],
        // The basement pump is off (0) until a command starts it (1).
        DeviceKind::WaterLevel => vec![
            ("water_level_m", level(0.02, 0.02)),
            ("pump_on", level(0.0, 0.0)),
        ],
        DeviceKind::WaterQuality => vec![
            ("turbidity_ntu", level(0.6, 0.3)),
            ("chlorine_mg_l", level(0.4, 0.1)),
        ],
        DeviceKind::Environment => vec![
            ("temperature_c", level(21.5, 6.0)),
            ("humidity_pct", level(60.0, 20.0)),
            ("pm25_ug_m3", level(30.0, 20.0)),
        ],
        DeviceKind::ElevatorMonitor => vec![("trips", count(40.0)), ("door_faults", count(0.01))],
        DeviceKind::HydrantMonitor => vec![("pressure_mpa", level(0.32, 0.04))],
        DeviceKind::ElderlyWearable => vec![
            ("heart_rate_bpm", level(74.0, 12.0)),
            ("battery_pct", level(60.0, 35.0)),
            ("lat", level(29.861, 0.000_5)),
            ("lon", level(121.554, 0.000_5)),
        ],
        DeviceKind::EmergencyButton => vec![("battery_pct", level(80.0, 15.0))],
        DeviceKind::BurglarAlarm => vec![("armed", level(0.5, 0.5))],
        DeviceKind::InfoDisplay => vec![("on", level(1.0, 0.0))],
    }
}

/// One telemetry message's values for a device of `kind` (its counters in `counts`).
fn telemetry(kind: DeviceKind, counts: &mut [f64], rng: &mut Pcg64Mcg) -> BTreeMap<String, f64> {
    let round = |v: f64| (v * 1e6).round() / 1e6;
    measures(kind)
        .into_iter()
        .zip(counts.iter_mut())
        .map(|((name, m), count)| {
            let v = match m {
                Measure::Level { mean, spread } if spread > 0.0 => {
                    mean + rng.random_range(-spread..=spread)
                }
                Measure::Level { mean, .. } => mean,
                Measure::Count { per_beat } => {
                    *count += per_beat * rng.random_range(0.0..2.0);
                    *count
                }
            };
            (name.to_string(), round(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_sends_finite_values_and_counters_only_grow() {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        for kind in DeviceKind::ALL.iter().copied() {
            let ms = measures(kind);
            assert!(!ms.is_empty(), "{kind} sends something");
            let mut counts = vec![10.0; ms.len()];
            let first = telemetry(kind, &mut counts, &mut rng);
            let second = telemetry(kind, &mut counts, &mut rng);
            assert_eq!(first.len(), ms.len());
            for (name, m) in ms {
                let (a, b) = (first[name], second[name]);
                assert!(a.is_finite() && b.is_finite(), "{kind}.{name}");
                match m {
                    Measure::Count { .. } => assert!(b >= a, "{kind}.{name}: {a} then {b}"),
                    Measure::Level { mean, spread } => {
                        assert!((a - mean).abs() <= spread + 1e-6, "{kind}.{name}: {a}")
                    }
                }
            }
        }
    }

    #[test]
    fn the_fleets_everyday_telemetry_trips_no_default_rule() {
        // Its incidents come from the model as alarms; telemetry that crossed a
        // threshold would raise a second, invented one in the twin.
        let p = civitas_twin::Parameters::default();
        let mut rules = crate::rules::Rules::defaults(&p).unwrap();
        let mut rng = Pcg64Mcg::seed_from_u64(11);
        for kind in DeviceKind::ALL.iter().copied() {
            let mut counts = vec![0.0; measures(kind).len()];
            for _ in 0..2_000 {
                let v = telemetry(kind, &mut counts, &mut rng);
                assert_eq!(rules.evaluate("d", kind, &v), vec![], "{kind}: {v:?}");
            }
        }
    }
}
