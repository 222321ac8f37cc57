//! The live twin: the scenario's actors on the wall clock and the real calendar, the
//! mirror fed by ingest, and the rules that turn what devices say into injects through
//! the engine's handle — the same actors and the same three loops as the simulator.
//!
//! **Mirror only.** In the live twin the world's events come from its sensors, not from
//! the model's dice: [`mirror_only`] sets the model's own rates of incidents, device
//! failures and false alarms to zero, so every incident, failure and alarm in the
//! actors is one a device reported (or, later, an operator). Everything else — who
//! handles what, how long it takes, when it escalates — is the model's.
//!
//! Rules — a telemetry value past a threshold or a wearable outside its geofence
//! ([`crate::rules`]) → `Inject::Alarm { kind }` of the rule's kind, and:
//! - an alarm raised → `Inject::Alarm { kind }` when it names what it detected (the
//!   mirror refuses a kind the device cannot detect), else `Inject::Device { Alarm }`
//!   (an incident of the first kind the device detects); known at once through it;
//! - a device reporting `failed`, or its availability going `offline` (its last will) →
//!   `Inject::Device { Offline }` (the platform knows it is down: a repair is raised);
//!   reporting `working` or coming back `online` after that → `Inject::Device { Working }`;
//! - a device once heard and then silent for longer than its kind's staleness limit
//!   (the rules' multiple of its heartbeat, `parameters.devices.<kind>.heartbeat_hours`) →
//!   `Offline`; heard again → `Working`. Devices never heard are counted as expected,
//!   not raised: a twin starting before its fleet would otherwise report every device
//!   broken.

use crate::broker::BrokerUrl;
use crate::commands::Deliveries;
use crate::forward::{self, ForwardOptions, Forwarder, Input, Report};
use crate::ingest::{self, Ingest, IngestOptions, Observed, wall_ms};
use crate::policy::Policy;
use crate::rules::Rules;
use civitas_actors::{
    Address, Assembly, Engine, EngineError, EngineHandle, FailurePolicy, Inject, RunResult,
    Subscription, WallClock, When,
};
use civitas_scenarios::file::Scenario;
use civitas_scenarios::runner::build_district_for;
use civitas_twin::Parameters;
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::{DeviceKind, IncidentKind, InvestmentModel};
use civitas_twin::mirror::{
    Applied, Availability, Millis, Mirror, MirrorLimits, Placement, Refusal,
};
use civitas_twin::model::District;
use civitas_twin::time::{DAY, SimTime};
use civitas_twin::vocab::events::DeviceState;
use std::collections::{BTreeMap, HashMap};

use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The inject source name the twin's rules use.
pub const SOURCE: &str = "twin";

/// What the twin runs.
#[derive(Debug, Clone)]
pub struct TwinOptions {
    /// The community or district the devices belong to.
    pub scenario: Scenario,
    /// Seed of its generated world (residents, households…).
    pub seed: u64,
    /// Its investment and operation model.
    pub model: InvestmentModel,
    /// The broker.
    pub broker: BrokerUrl,
    /// Which wire id is which device.
    pub registry: Vec<Placement>,
    /// Thresholds, geofences and silence limits (None: [`Rules::defaults`]).
    pub rules: Option<Rules>,
    /// Silence after which a device is offline, by kind, over the rules' limits (tests).
    pub stale_after: BTreeMap<DeviceKind, Duration>,
    /// How often silences are checked.
    pub check_every: Duration,
    /// Silence of the whole subscription after which it is "connected but silent"
    /// (None: [`quiet_limit`] of the devices heard).
    pub quiet_after: Option<Duration>,
    /// How long the twin runs (simulated time, default ten years).
    pub horizon: SimTime,
    /// Simulated seconds per real second (1, the default: real time; faster for drills
    /// and tests, where time limits would otherwise take hours).
    pub speed: f64,
    /// Only what devices report happens (default); false: the model's own incidents,
    /// failures and false alarms happen too (a drill over a simulated community).
    pub mirror_only: bool,
    /// Who may command which devices where, and how commands reach each kind.
    pub policy: Policy,
    /// The audit log (JSON lines, appended), if any.
    pub audit: Option<std::path::PathBuf>,
    /// Where the operator API listens (loopback only; port 0: any free port), if at all.
    pub console: Option<std::net::SocketAddr>,
}

impl TwinOptions {
    /// The twin of `scenario` (its seed and model), with `registry`, on `broker`.
    pub fn new(scenario: Scenario, registry: Vec<Placement>, broker: BrokerUrl) -> TwinOptions {
        TwinOptions {
            seed: scenario.seed,
            model: scenario.model,
            scenario,
            broker,
            registry,
            rules: None,
            stale_after: BTreeMap::new(),
            check_every: Duration::from_secs(1),
            quiet_after: None,
            horizon: 3_650 * DAY,
            speed: 1.0,
            mirror_only: true,
            policy: Policy::defaults(),
            audit: None,
            console: None,
        }
    }
}

/// Why the twin could not start.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// The engine did not start.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The audit log cannot be opened.
    #[error("the audit log {path} cannot be opened: {source}")]
    Audit {
        /// Its path.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The operator API could not listen.
    #[error(transparent)]
    Console(#[from] crate::api::ServeError),
    /// The default rules do not fit this scenario's devices.
    #[error(
        "the default rules do not fit this scenario's devices ({}); write a rules file for it (civitas twin rules > rules.toml) and pass --rules",
        .0.join("; ")
    )]
    DefaultRules(Vec<String>),
}

/// A running twin.
pub struct RunningTwin {
    /// The scenario as it runs: mirror-only if asked, its calendar moved to the start.
    pub scenario: Scenario,
    /// The engine's handle (inject, subscribe, checkpoint, stop).
    pub handle: EngineHandle,
    /// The observe stream, from the start.
    pub events: Subscription,
    /// Ingest's mirror and subscription state.
    pub ingest: Ingest,
    /// What ingest saw, after the rules (for a status line, or tests).
    pub observed: mpsc::Receiver<Observed>,
    /// The engine's run.
    pub run: JoinHandle<Result<RunResult, EngineError>>,
    /// Commands to devices: submit an operator's, follow one.
    pub commands: Forwarder,
    /// Every state change of a command.
    pub command_reports: mpsc::Receiver<Report>,
    /// Where the operator API listens, if it does.
    pub console: Option<std::net::SocketAddr>,
    /// What it serves from, if it does (its stream and counts).
    pub api: Option<crate::api::ApiState>,
}

/// Starts the twin on the current tokio runtime: the engine on the wall clock from now
/// (the scenario's calendar moved to now, in its time zone), ingest, the rules and the
/// staleness check.
pub async fn start(opts: TwinOptions) -> Result<RunningTwin, TwinError> {
    if let Some(addr) = opts.console.filter(|a| !a.ip().is_loopback()) {
        return Err(crate::api::ServeError::NotLoopback(addr).into());
    }
    let mut scenario = opts.scenario.clone();
    if opts.mirror_only {
        mirror_only(&mut scenario.parameters);
    }
    forward_commands(
        &mut scenario.parameters,
        &opts.policy.deliveries,
        opts.speed,
    );
    let audit: Option<Box<dyn std::io::Write + Send>> = match &opts.audit {
        None => None,
        Some(path) => Some(Box::new(std::io::LineWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| TwinError::Audit {
                    path: path.clone(),
                    source,
                })?,
        ))),
    };
    let (scenario, district, mut engine) =
        spawn_live(scenario, opts.seed, opts.model, opts.speed).await?;
    let streets: Vec<u32> = (district.communities.iter())
        .map(|c| c.street_office)
        .collect();
    let handle = engine.handle();
    let events = engine.subscribe(1 << 16);
    let command_events = engine.subscribe(1 << 16);
    let horizon = opts.horizon;
    let run = tokio::spawn(async move {
        let mut nothing = |_: &civitas_actors::Window| {};
        engine.run(horizon, &mut nothing).await
    });
    let mut rules = match opts.rules.clone() {
        Some(r) => r,
        None => Rules::defaults(&scenario.parameters).map_err(TwinError::DefaultRules)?,
    };
    let stale_after: HashMap<DeviceKind, Millis> = DeviceKind::ALL
        .iter()
        .map(|k| {
            let d = opts
                .stale_after
                .get(k)
                .copied()
                .unwrap_or_else(|| rules.stale_after(*k, &scenario.parameters));
            (*k, d.as_millis() as Millis)
        })
        .collect();
    let (seen_tx, mut seen_rx) = mpsc::channel(1 << 14);
    let (out_tx, out_rx) = mpsc::channel(1 << 14);
    let out_tx_check = out_tx.clone();
    let ingest = ingest::start(
        IngestOptions {
            broker: opts.broker.clone(),
            client_id: format!("civitas-twin-{}", std::process::id()),
            keep_alive: Duration::from_secs(30),
        },
        Mirror::new(opts.registry.clone(), MirrorLimits::default()).detecting(
            scenario
                .parameters
                .devices
                .iter()
                .map(|(k, d)| (*k, d.detects.clone()))
                .collect(),
        ),
        seen_tx,
        wall_ms,
    );
    let (reports_tx, command_reports) = mpsc::channel(1 << 14);
    let commands = forward::start(ForwardOptions {
        mirror: ingest.mirror.clone(),
        broker: opts.broker.clone(),
        engine: handle.clone(),
        events: command_events,
        policy: opts.policy.clone(),
        streets,
        prefix: format!("{:x}", wall_ms()),
        registry: opts.registry.clone(),
        audit,
        reports: reports_tx,
    });
    let rules_commands = commands.clone();
    // The rules: what ingest saw → injects; everything passed on to the caller.
    let liveness = std::sync::Arc::new(std::sync::Mutex::new(Liveness::default()));
    let rules_handle = handle.clone();
    let rules_liveness = liveness.clone();
    let rules_mirror = ingest.mirror.clone();
    tokio::spawn(async move {
        while let Some(o) = seen_rx.recv().await {
            tell_commands(&rules_commands, &o).await;
            // Thresholds and geofences on the device's newest telemetry (its values read
            // from the mirror only for kinds a rule watches).
            if let Observed::Applied {
                placement,
                applied: Applied::Telemetry { .. },
            } = &o
                && rules.watches(placement.kind)
            {
                let values = rules_mirror
                    .lock()
                    .ok()
                    .and_then(|m| m.get(&placement.wire_id).map(|d| d.values.clone()))
                    .unwrap_or_default();
                for kind in rules.evaluate(&placement.wire_id, placement.kind, &values) {
                    send(&rules_handle, placement, Tell::Alarm(Some(kind))).await;
                }
            }
            if let Observed::Gateway {
                availability,
                devices,
                ..
            } = &o
            {
                let signal = match availability {
                    Availability::Offline => Some(Signal::Unavailable),
                    Availability::Online => Some(Signal::Online),
                    Availability::Unknown => None,
                };
                for p in devices.iter().filter(|_| signal.is_some()) {
                    let tell = rules_liveness
                        .lock()
                        .ok()
                        .and_then(|mut l| signal.and_then(|s| l.signal(&p.wire_id, s)));
                    if let Some(tell) = tell {
                        send(&rules_handle, p, tell).await;
                    }
                }
            }
            if let Some((placement, signal)) = rule(&o) {
                let inject = rules_liveness
                    .lock()
                    .ok()
                    .and_then(|mut l| l.signal(&placement.wire_id, signal));
                if let Some(state) = inject {
                    send(&rules_handle, placement, state).await;
                }
            }
            let _ = out_tx.try_send(o);
        }
    });
    // Silences: a device heard once and quiet beyond its limit is offline; the whole
    // subscription quiet beyond what its devices lead one to expect is "connected but
    // silent", and subscribed again.
    let mirror = ingest.mirror.clone();
    let check_handle = handle.clone();
    let every = opts.check_every;
    let heartbeat_ms: HashMap<DeviceKind, f64> = DeviceKind::ALL
        .iter()
        .map(|k| {
            (
                *k,
                scenario.parameters.device(*k).heartbeat_hours * 3_600_000.0,
            )
        })
        .collect();
    let quiet_after = opts.quiet_after;
    let (last_message, resubscribe) = (ingest.last_message_ms.clone(), ingest.resubscribe.clone());
    let subscribed = ingest.subscribed.clone();
    let check_out = out_tx_check;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut quiet_since: Option<Millis> = None;
        loop {
            tick.tick().await;
            let now = wall_ms();
            let (silent, expected) = match mirror.lock() {
                Ok(m) => {
                    let heard = m.devices().iter().filter(|d| d.last_seen.is_some());
                    let silent: Vec<Placement> = heard
                        .clone()
                        .filter(|d| {
                            let limit = stale_after.get(&d.placement.kind).copied();
                            d.last_seen
                                .is_some_and(|t| now - t > limit.unwrap_or(Millis::MAX))
                        })
                        .map(|d| d.placement.clone())
                        .collect();
                    let rate: f64 = heard
                        .filter_map(|d| heartbeat_ms.get(&d.placement.kind))
                        .map(|h| 1.0 / h.max(1.0))
                        .sum();
                    (silent, rate)
                }
                Err(_) => return,
            };
            for p in silent {
                let inject = liveness
                    .lock()
                    .ok()
                    .and_then(|mut l| l.signal(&p.wire_id, Signal::Silent));
                if let Some(state) = inject {
                    send(&check_handle, &p, state).await;
                }
            }
            let last = last_message.load(std::sync::atomic::Ordering::Relaxed);
            let limit =
                quiet_after.map_or_else(|| quiet_limit(expected), |d| d.as_millis() as Millis);
            let quiet = last > 0 && *subscribed.borrow() && now - last > limit;
            match (quiet, quiet_since) {
                (true, None) => {
                    quiet_since = Some(last);
                    let _ = check_out.try_send(Observed::ConnectedButSilent { for_ms: now - last });
                    resubscribe.notify_one();
                }
                (false, Some(since)) if last > since => {
                    quiet_since = None;
                    let _ = check_out.try_send(Observed::Flowing);
                }
                _ => {}
            }
        }
    });
    let (console, api) = match opts.console {
        None => (None, None),
        Some(addr) => {
            let state = crate::api::ApiState {
                mirror: ingest.mirror.clone(),
                engine: handle.clone(),
                commands: commands.clone(),
                incidents: std::sync::Arc::new(std::sync::RwLock::new(
                    crate::api::IncidentLog::with_limits(&scenario.parameters),
                )),
                windows: tokio::sync::broadcast::channel(1024).0,
                metrics: Default::default(),
                handled: ingest.handled.clone(),
                site: std::sync::Arc::new(crate::api::SiteView::of(&district)),
            };
            crate::api::follow(&state, handle.subscribe(1 << 16).await?);
            let bound = crate::api::serve(addr, state.clone()).await?;
            (Some(bound), Some(state))
        }
    };
    Ok(RunningTwin {
        scenario,
        handle,
        events,
        ingest,
        observed: out_rx,
        run,
        commands,
        command_reports,
        console,
        api,
    })
}

/// The actors command devices and the twin forwards the commands to them: no simulated
/// device answers, and the actors wait for the twin's outcome a minute past the longest
/// a command can live (its queue, every attempt and backoff), so that the outcome is
/// always the devices' and the actors' own timeout only stands behind a twin that died.
/// The delivery's times are real; the actors' simulated, `speed` times faster.
pub fn forward_commands(p: &mut Parameters, deliveries: &Deliveries, speed: f64) {
    p.commands.send = true;
    p.commands.device_model = false;
    let real_secs = deliveries.longest_ms() as f64 / 1_000.0 + 60.0;
    p.commands.timeout_secs = (real_secs * speed.max(1.0)).ceil() as u64;
}

/// Passes what the forwarder needs to know on: answers, echoes, retained commands, and
/// signs of life from devices while a command waits for one.
async fn tell_commands(f: &Forwarder, o: &Observed) {
    let input = match o {
        Observed::Ack { placement, ack } => Input::Ack {
            wire_id: placement.wire_id.clone(),
            ack: ack.clone(),
        },
        Observed::Refused {
            why: Refusal::RetainedCommand,
            topic,
        } => Input::Retained {
            topic: topic.clone(),
        },
        Observed::CommandHeard {
            topic,
            id: Some(id),
            ..
        } => Input::Heard {
            topic: topic.clone(),
            id: id.clone(),
        },
        Observed::Applied {
            placement,
            applied: Applied::Telemetry { reached },
        } if !reached.is_empty() => Input::Echo {
            wire_id: placement.wire_id.clone(),
            reached: reached.clone(),
        },
        Observed::Gateway {
            availability: Availability::Online,
            devices,
            ..
        } if f.waiting() => {
            for p in devices {
                f.tell(Input::Seen {
                    wire_id: p.wire_id.clone(),
                })
                .await;
            }
            return;
        }
        Observed::Applied { placement, .. } | Observed::Availability { placement, .. }
            if f.waiting() =>
        {
            Input::Seen {
                wire_id: placement.wire_id.clone(),
            }
        }
        _ => return,
    };
    f.tell(input).await;
}

/// The engine of `scenario` (its world from `seed` under `model`) on the wall clock at
/// `speed` simulated seconds per real second, its calendar moved to now in its time
/// zone; with the scenario as run and its district. A failing actor is isolated, not
/// fatal. The twin runs at 1; the fleet at any speed.
pub(crate) async fn spawn_live(
    mut scenario: Scenario,
    seed: u64,
    model: InvestmentModel,
    speed: f64,
) -> Result<(Scenario, District, Engine<WallClock>), EngineError> {
    #[allow(clippy::disallowed_methods)] // a live engine starts now
    let now = std::time::SystemTime::now();
    if let Ok(c) = Calendar::starting_at(now, scenario.calendar.time_zone()) {
        scenario.calendar = c;
    }
    let district = build_district_for(&scenario, seed, model);
    let assembly = Assembly::build_at(
        &district,
        &scenario.parameters,
        &scenario.calendar,
        seed,
        model,
    );
    let window = scenario.parameters.engine.window_secs;
    let mut engine = Engine::spawn(assembly, window, WallClock::new(speed)).await?;
    engine.on_failure(FailurePolicy::Isolate);
    Ok((scenario, district, engine))
}

/// How long a subscription may be quiet (ms) when its devices send, together,
/// `per_ms` messages a millisecond: twenty mean gaps — a chance of e⁻²⁰ (2 × 10⁻⁹) that
/// so long a gap is only chance, if heartbeats arrive as a Poisson stream — at least a
/// minute and at most a day (a twin of three devices is not alarmed by each quiet hour).
pub fn quiet_limit(per_ms: f64) -> Millis {
    const MINUTE: f64 = 60_000.0;
    let limit = if per_ms > 0.0 {
        20.0 / per_ms
    } else {
        f64::MAX
    };
    limit.clamp(MINUTE, 24.0 * 60.0 * MINUTE) as Millis
}

/// The model's own sources of events silenced: no incident arises, no device fails, wears
/// out or raises a false alarm unless an inject says so (a real device's life ends when it
/// says so: the model's service life is set to its longest, 100 years).
pub fn mirror_only(p: &mut Parameters) {
    p.economy.platform.device_life_years = 100;
    for i in p.incidents.values_mut() {
        i.rate = 0.0;
        if let Some(r) = i.rate_older.as_mut() {
            *r = [0.0, 0.0];
        }
    }
    for d in p.devices.values_mut() {
        d.failures_per_year = 0.0;
        d.false_alarms_per_year = 0.0;
    }
}

/// What an observation says about a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// It raised an alarm (of this kind, if it said).
    Alarm(Option<IncidentKind>),
    /// It reported itself failed.
    Failed,
    /// Its availability went offline (said so, or its last will).
    Unavailable,
    /// It has been silent beyond its limit.
    Silent,
    /// It reported itself working.
    Working,
    /// Its availability went online.
    Online,
    /// Any other reading: it is alive.
    Heard,
}

/// What the actors are told about a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tell {
    /// Its state changed (down or back).
    State(DeviceState),
    /// It raised an alarm (of this kind, if it said).
    Alarm(Option<IncidentKind>),
}

/// Why a device is down, as far as the twin has told the actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Down {
    Failed,
    Unavailable,
    Silent,
}

/// Which devices the actors have been told are down, and why: each signal becomes at
/// most one inject, and a device comes back only on the evidence that answers why it
/// went down (a failed device that keeps sending telemetry stays failed).
#[derive(Debug, Clone, Default)]
pub struct Liveness {
    down: HashMap<String, Down>,
}

impl Liveness {
    /// What to tell the actors after `signal` from `wire_id`, if anything.
    pub fn signal(&mut self, wire_id: &str, signal: Signal) -> Option<Tell> {
        let now_down = self.down.get(wire_id).copied();
        let went_down = |reason| (now_down.is_none(), reason);
        let (tell, next) = match signal {
            Signal::Alarm(kind) => return Some(Tell::Alarm(kind)),
            Signal::Failed => went_down(Some(Down::Failed)),
            Signal::Unavailable if now_down.is_none() => (true, Some(Down::Unavailable)),
            Signal::Silent if now_down.is_none() => (true, Some(Down::Silent)),
            Signal::Unavailable | Signal::Silent => (false, now_down),
            Signal::Working => (now_down.is_some(), None),
            Signal::Online | Signal::Heard => match now_down {
                Some(Down::Unavailable | Down::Silent) => (true, None),
                other => (false, other),
            },
        };
        match next {
            Some(d) => self.down.insert(wire_id.to_string(), d),
            None => self.down.remove(wire_id),
        };
        let state = if next.is_some() {
            DeviceState::Offline
        } else {
            DeviceState::Working
        };
        tell.then_some(Tell::State(state))
    }

    /// Devices the actors know are down.
    pub fn down(&self) -> usize {
        self.down.len()
    }
}

/// What an observation says, and about which device.
fn rule(o: &Observed) -> Option<(&Placement, Signal)> {
    match o {
        Observed::Applied { placement, applied } => Some((
            placement,
            match applied {
                Applied::AlarmRaised(kind) => Signal::Alarm(*kind),
                Applied::State {
                    to: DeviceState::Failed,
                    ..
                } => Signal::Failed,
                Applied::State {
                    to: DeviceState::Working,
                    ..
                } => Signal::Working,
                _ => Signal::Heard,
            },
        )),
        Observed::Availability {
            placement,
            availability,
        } => match availability {
            Availability::Offline => Some((placement, Signal::Unavailable)),
            Availability::Online => Some((placement, Signal::Online)),
            Availability::Unknown => None,
        },
        _ => None,
    }
}

async fn send(handle: &EngineHandle, p: &Placement, tell: Tell) {
    let to = Address::Device {
        community: p.community,
        device: p.device,
    };
    let device = p.device;
    let inject = match tell {
        Tell::State(state) => Inject::Device { device, state },
        Tell::Alarm(None) => Inject::Device {
            device,
            state: DeviceState::Alarm,
        },
        Tell::Alarm(Some(kind)) => Inject::Alarm { device, kind },
    };
    // Refusals (the engine stopped, its intake full) are counted by the engine; the
    // twin carries on with the next message.
    let _ = handle.inject(SOURCE, When::Now, to, inject).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_only_community_has_no_incident_failure_or_alarm_of_its_own() {
        let mut s = civitas_scenarios::library::load("old-small").unwrap();
        mirror_only(&mut s.parameters);
        let opts = civitas_scenarios::runner::RunOptions {
            horizon: 60 * DAY,
            ..civitas_scenarios::runner::RunOptions::from_scenario(&s, 1)
        };
        let r = civitas_scenarios::runner::run(&s, opts, |_| {}).unwrap();
        assert!(r.incidents.is_empty(), "{} incidents", r.incidents.len());
        let failures: u64 = r.devices.values().map(|t| t.failures).sum();
        let false_alarms: u64 = r.devices.values().map(|t| t.false_alarms).sum();
        assert_eq!((failures, false_alarms), (0, 0));
        // The same community, not mirror-only, has its own.
        let s = civitas_scenarios::library::load("old-small").unwrap();
        let r = civitas_scenarios::runner::run(&s, opts, |_| {}).unwrap();
        assert!(r.incidents.len() > 10, "{} incidents", r.incidents.len());
    }

    #[test]
    fn a_subscription_is_quiet_after_twenty_mean_gaps_between_a_minute_and_a_day() {
        let hour = 3_600_000.0;
        // The default community: 3,021 devices, say hourly: a gap of 1.2 s is usual.
        assert_eq!(quiet_limit(3_021.0 / hour), 60_000);
        // Ten devices sending every hour: twenty gaps of six minutes.
        assert_eq!(quiet_limit(10.0 / hour), 2 * 3_600_000);
        assert_eq!(quiet_limit(1.0 / (100.0 * hour)), 24 * 3_600_000);
        assert_eq!(quiet_limit(0.0), 24 * 3_600_000, "nobody heard");
    }

    #[test]
    fn a_device_goes_down_once_and_comes_back_only_on_the_evidence_that_answers_why() {
        let mut l = Liveness::default();
        let off = Some(Tell::State(DeviceState::Offline));
        let on = Some(Tell::State(DeviceState::Working));
        assert_eq!(l.signal("a", Signal::Heard), None, "alive and never down");
        assert_eq!(l.signal("a", Signal::Failed), off);
        assert_eq!(l.signal("a", Signal::Failed), None, "told once");
        assert_eq!(
            l.signal("a", Signal::Heard),
            None,
            "a failed device's telemetry"
        );
        assert_eq!(l.signal("a", Signal::Online), None);
        assert_eq!(l.signal("a", Signal::Working), on);
        assert_eq!(l.signal("b", Signal::Silent), off);
        assert_eq!(l.signal("b", Signal::Silent), None);
        assert_eq!(l.signal("b", Signal::Heard), on, "heard again");
        assert_eq!(l.signal("c", Signal::Unavailable), off, "its last will");
        assert_eq!(l.signal("c", Signal::Silent), None);
        assert_eq!(l.signal("c", Signal::Online), on);
        assert_eq!(l.signal("c", Signal::Alarm(None)), Some(Tell::Alarm(None)));
        assert_eq!(l.down(), 0);
    }
}
