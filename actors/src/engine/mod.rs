//! The engine: hosts every behaviour in a ractor actor and advances them together in
//! conservative time windows, open to the outside world.
//!
//! In each window `[t, t + w)` the engine hands every actor that has a timer due or a
//! message to read a [`StepRequest`](crate::protocol) with its inbox, sorted by (time,
//! priority, source, sequence); the actors run in parallel on the tokio runtime, and each
//! replies once with the messages it sent (all due in later windows), the events it
//! recorded, and its next timer. Actors with nothing due are not woken; windows with
//! nothing in them are skipped. Because an actor's window depends only on its own state
//! and its sorted inbox, the result is the same on one worker thread or many.
//!
//! The outside world reaches a run only here: [`Engine::inject`] (or an [`Injector`]
//! from another task) adds deliveries from the next window on, each recorded in the
//! inject log; every processed window becomes one [`Window`] of the observe stream,
//! folded by the engine's [`Collector`] into the [`RunResult`] and handed to
//! [`Observer`]s and [`Subscription`]s; [`Engine::checkpoint`] captures the complete
//! state at a window barrier and [`Engine::restore`] carries on from it.

mod hosts;
mod intake;
mod state;
mod windows;

use crate::agents::{Agent, DeviceTally, Tally};
use crate::assembly::{Assembly, Directory};
use crate::clock::Clock;
use crate::incident::IncidentRecord;
use crate::inject::{
    Address, Control, EngineHandle, INTAKE_CAPACITY, Inject, InjectError, InjectRecord, Injector,
    Source, SourceId, When,
};
use crate::ledger::{Transfer, YearReport};
use crate::message::{ActorId, Envelope, Payload};
use crate::observe::{Collector, Counters, Event, Observer, Subscription, Window};
use crate::protocol::{ReplySink, StepFailure, StepReply, StepRequest};
use civitas_twin::kinds::DeviceKind;
use civitas_twin::time::SimTime;
use hosts::{Host, HostMsg, HostState, Supervisor, SupervisorMsg};
use ractor::{Actor, ActorRef};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::sync::{broadcast, mpsc};

/// What can stop a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// An actor could not be started (fatal: the run cannot begin).
    #[error("could not start actor {name}: {message}")]
    Spawn {
        /// The actor's name.
        name: String,
        /// ractor's explanation.
        message: String,
    },
    /// An actor's behaviour panicked (fatal in a simulation: a bug; the run stops and
    /// reports which).
    #[error("actor {name} failed at simulated second {at}: {message}")]
    ActorFailed {
        /// The actor's name.
        name: String,
        /// Start of the window it failed in.
        at: SimTime,
        /// The panic message.
        message: String,
    },
    /// An actor stopped answering (fatal).
    #[error("actor {name} stopped unexpectedly")]
    ActorGone {
        /// The actor's name.
        name: String,
    },
    /// A checkpoint could not be taken or does not fit this run.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A handle was used after the engine stopped (recoverable for the caller: there is
    /// nothing left to ask).
    #[error("the engine has stopped")]
    Stopped,
}

/// What the engine does when a behaviour fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailurePolicy {
    /// Stop the run with [`EngineError::ActorFailed`] (simulations: a failure is a bug
    /// and results without that actor would be wrong).
    #[default]
    Stop,
    /// Isolate the actor (never step it again; messages to it are counted as dropped),
    /// record [`Event::ComponentFailed`] and keep the rest running (the live twin).
    Isolate,
}

/// Counters of what the engine did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStats {
    /// ractor actors hosting the behaviours.
    pub actors: u64,
    /// Windows processed (empty ones are skipped and not counted).
    pub windows: u64,
    /// Actor activations (one ractor message and one reply each).
    pub activations: u64,
    /// Events handled by behaviours: timers fired plus messages read.
    pub events: u64,
    /// Messages delivered between behaviours (injects included).
    pub messages: u64,
    /// Outside injects delivered.
    pub injects: u64,
    /// Messages not delivered because their receiver had failed.
    pub dropped: u64,
    /// Actions and messages refused ([`Event::Refused`]).
    pub refused: u64,
}

/// Everything a finished run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// End of the run.
    pub horizon: SimTime,
    /// Every incident and false alarm, closed or open, sorted by id.
    pub incidents: Vec<IncidentRecord>,
    /// Satisfaction of all residents.
    pub satisfaction_all: Tally,
    /// Satisfaction of residents aged 60+.
    pub satisfaction_elderly: Tally,
    /// Satisfaction of residents aged 60+ living alone.
    pub satisfaction_elderly_alone: Tally,
    /// Devices by kind.
    pub devices: BTreeMap<DeviceKind, DeviceTally>,
    /// Every payment, sorted by (time, accounts, purpose, amount).
    pub transfers: Vec<Transfer>,
    /// Yearly reports, sorted by (year, community, kind).
    pub reports: Vec<YearReport>,
    /// Every inject accepted, in order of acceptance.
    pub injects: Vec<InjectRecord>,
    /// Device commands by action: sent, and how they ended (one still waiting at the
    /// end is sent and not ended).
    pub commands:
        BTreeMap<civitas_twin::kinds::CommandAction, civitas_twin::vocab::events::CommandTally>,
    /// Engine counters.
    pub stats: EngineStats,
}

/// The engine's complete state at a window barrier, apart from the behaviours' own
/// (which each host encodes): what [`Engine::checkpoint`] returns with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// Window length (s).
    pub window: SimTime,
    /// Simulated time reached (a window boundary).
    pub now: SimTime,
    /// Each actor's next timer.
    pub actor_due: Vec<Option<SimTime>>,
    /// Messages in flight.
    pending: Vec<Envelope>,
    /// Injects waiting for a re-entry into a one-second window already processed, with
    /// their pass.
    reentries: Vec<(u32, Envelope)>,
    /// What the stream has folded so far.
    pub collector: Collector,
    /// Counters.
    pub stats: EngineStats,
    /// Outside sources: name and last sequence number.
    pub sources: Vec<(String, u64)>,
    /// Every inject accepted so far (stored with every field: the records' JSON form
    /// leaves out a zero `pass`, which a binary encoding cannot do).
    #[serde(with = "every_field")]
    pub injects: Vec<InjectRecord>,
    /// Actors isolated after a failure.
    pub failed: Vec<bool>,
    /// Each behaviour's encoded state.
    pub agents: Vec<Vec<u8>>,
}

/// [`InjectRecord`]s in a non-self-describing encoding (postcard): every field written,
/// in order, whatever the JSON form skips.
mod every_field {
    use crate::inject::{Address, Inject, InjectRecord};
    use civitas_twin::time::SimTime;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Stored = (SimTime, u32, String, u64, Address, Inject, u32);

    pub(super) fn serialize<S: Serializer>(v: &[InjectRecord], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|r| {
                (
                    r.at,
                    r.source,
                    r.source_name.clone(),
                    r.seq,
                    r.to,
                    r.inject,
                    r.pass,
                )
            })
            .collect::<Vec<Stored>>()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<InjectRecord>, D::Error> {
        Ok(Vec::<Stored>::deserialize(d)?
            .into_iter()
            .map(
                |(at, source, source_name, seq, to, inject, pass)| InjectRecord {
                    at,
                    source,
                    source_name,
                    seq,
                    to,
                    inject,
                    pass,
                },
            )
            .collect())
    }
}

/// The engine over one assembly and one clock.
pub struct Engine<C: Clock> {
    clock: C,
    window: SimTime,
    now: SimTime,
    hosts: Vec<ActorRef<HostMsg>>,
    joins: Vec<tokio::task::JoinHandle<()>>,
    supervisor: ActorRef<SupervisorMsg>,
    supervisor_join: tokio::task::JoinHandle<()>,
    names: Vec<String>,
    directory: Directory,
    due: BinaryHeap<Reverse<(SimTime, u32)>>,
    actor_due: Vec<Option<SimTime>>,
    /// Messages and injects in flight, by delivery time.
    pending: BTreeMap<SimTime, Vec<Envelope>>,
    /// Window boundaries besides the multiples of the window length: each inject's time
    /// and the second after it, so an inject is handled in a one-second window of its own
    /// (at once on the wall clock) and a replay cuts the same windows.
    cuts: BTreeSet<SimTime>,
    /// Injects for re-entries into a processed one-second window `[t, t + 1)`, by
    /// `(t, pass)`: on the wall clock, injects that arrive within the second the engine
    /// has just run for an earlier inject are delivered at that second, in a pass of
    /// their own, at once — not a second later.
    reentries: BTreeMap<(SimTime, u32), Vec<Envelope>>,
    /// The last window processed and its pass (live re-entries need it).
    last_window: Option<(SimTime, SimTime, u32)>,
    replies: mpsc::UnboundedReceiver<StepReply>,
    collector: Collector,
    stats: EngineStats,
    policy: FailurePolicy,
    failed: Vec<bool>,
    /// Events the engine itself records for the next window (isolated failures).
    own_events: Vec<Event>,
    sources: Vec<(String, u64)>,
    injects: Vec<InjectRecord>,
    /// The intake: what handles send (bounded).
    handle: EngineHandle,
    control_rx: mpsc::Receiver<Control>,
    /// A handle asked the run to stop.
    stopped: bool,
    stream: Option<broadcast::Sender<Arc<Window>>>,
    // Reused buffers.
    active: Vec<u32>,
    got: Vec<StepReply>,
}

impl<C: Clock> Engine<C> {
    /// Spawns one actor per behaviour of `assembly` on the current tokio runtime.
    pub async fn spawn(
        assembly: Assembly,
        window_secs: SimTime,
        clock: C,
    ) -> Result<Self, EngineError> {
        let n = assembly.agents.len();
        Self::start(assembly, vec![0; n], window_secs, clock).await
    }

    /// Spawns the actors of `assembly` and carries on from `state` (a checkpoint of a
    /// run of the same assembly): behaviour states, timers, messages in flight, the
    /// stream folded so far and the inject log. The assembly supplies what is not state
    /// — parameters and addresses — so a fork may change parameters.
    pub async fn restore(
        mut assembly: Assembly,
        state: EngineState,
        clock: C,
    ) -> Result<Self, EngineError> {
        let n = assembly.agents.len();
        let bad = |m: String| EngineError::Checkpoint(m);
        if state.agents.len() != n || state.actor_due.len() != n || state.failed.len() != n {
            return Err(bad(format!(
                "it holds {} actors, this scenario has {n}: it is from another community",
                state.agents.len()
            )));
        }
        let mut seqs = Vec::with_capacity(n);
        for (i, bytes) in state.agents.iter().enumerate() {
            let (seq, restored): (u64, Agent) = postcard::from_bytes(bytes)
                .map_err(|e| bad(format!("actor {}: {e}", assembly.names[i])))?;
            assembly.agents[i]
                .adopt(restored)
                .map_err(|m| bad(format!("actor {}: {m}", assembly.names[i])))?;
            seqs.push(seq);
        }
        let mut engine = Self::start(assembly, seqs, state.window, clock).await?;
        engine.now = state.now;
        engine.due.clear();
        for (i, d) in state.actor_due.iter().enumerate() {
            if let Some(t) = *d {
                engine.due.push(Reverse((t, i as u32)));
            }
        }
        engine.actor_due = state.actor_due;
        let actors = engine.hosts.len() as u32;
        for e in state.pending {
            if e.src.0 >= actors {
                engine.cut_for_inject(e.at);
            }
            engine.pending.entry(e.at).or_default().push(e);
        }
        for (pass, e) in state.reentries {
            engine.reentries.entry((e.at, pass)).or_default().push(e);
        }
        engine.collector = state.collector;
        engine.stats = state.stats;
        engine.sources = state.sources;
        engine.injects = state.injects;
        engine.failed = state.failed;
        Ok(engine)
    }

    async fn start(
        assembly: Assembly,
        seqs: Vec<u64>,
        window_secs: SimTime,
        clock: C,
    ) -> Result<Self, EngineError> {
        let (tx, rx) = mpsc::unbounded_channel::<StepReply>();
        let sink: Arc<dyn ReplySink> = Arc::new(tx);
        let n = assembly.agents.len();
        let (supervisor, supervisor_join) = Actor::spawn(None, Supervisor, sink.clone())
            .await
            .map_err(|e| EngineError::Spawn {
                name: "supervisor".into(),
                message: e.to_string(),
            })?;
        let mut hosts = Vec::with_capacity(n);
        let mut joins = Vec::with_capacity(n);
        let mut due = BinaryHeap::new();
        let mut actor_due = Vec::with_capacity(n);
        for (i, (mut agent, seq)) in assembly.agents.into_iter().zip(seqs).enumerate() {
            let first = agent.next_due();
            actor_due.push(first);
            if let Some(t) = first {
                due.push(Reverse((t, i as u32)));
            }
            let state = HostState {
                id: ActorId(i as u32),
                agent,
                seq,
                replies: sink.clone(),
            };
            let (r, j) = Actor::spawn_linked(None, Host, state, supervisor.get_cell())
                .await
                .map_err(|e| EngineError::Spawn {
                    name: assembly.names[i].clone(),
                    message: e.to_string(),
                })?;
            let _ = supervisor.cast(SupervisorMsg::Watch(r.get_id(), ActorId(i as u32)));
            hosts.push(r);
            joins.push(j);
        }
        let (control_tx, control_rx) = mpsc::channel(INTAKE_CAPACITY);
        let handle = EngineHandle {
            tx: control_tx,
            capacity: INTAKE_CAPACITY,
            refused: Arc::new(AtomicU64::new(0)),
        };
        Ok(Engine {
            clock,
            window: window_secs.max(1),
            now: 0,
            hosts,
            joins,
            supervisor,
            supervisor_join,
            names: assembly.names,
            directory: assembly.directory,
            due,
            actor_due,
            pending: BTreeMap::new(),
            cuts: BTreeSet::new(),
            reentries: BTreeMap::new(),
            last_window: None,
            replies: rx,
            collector: Collector::default(),
            stats: EngineStats {
                actors: n as u64,
                ..EngineStats::default()
            },
            policy: FailurePolicy::Stop,
            failed: vec![false; n],
            own_events: Vec::new(),
            sources: Vec::new(),
            injects: Vec::new(),
            handle,
            control_rx,
            stopped: false,
            stream: None,
            active: Vec::new(),
            got: Vec::new(),
        })
    }

    /// Sets what happens when a behaviour fails (default: stop the run).
    pub fn on_failure(&mut self, policy: FailurePolicy) {
        self.policy = policy;
    }

    /// Window length (s).
    pub fn window(&self) -> SimTime {
        self.window
    }

    /// Registers an outside source; its injects are ordered after every actor's at the
    /// same time and priority, and among sources by order of registration. A name
    /// registered before (also in the run a checkpoint came from) is the same source.
    pub fn source(&mut self, name: &str) -> SourceId {
        if let Some(i) = self.sources.iter().position(|(n, _)| n == name) {
            return SourceId(i as u32);
        }
        self.sources.push((name.to_string(), 0));
        SourceId(self.sources.len() as u32 - 1)
    }

    /// A handle through which another task injects as source `name`.
    pub fn injector(&mut self, name: &str) -> Injector {
        Injector {
            source: self.source(name),
            handle: self.handle.clone(),
        }
    }

    /// A handle any task can hold while the engine runs: inject, subscribe, checkpoint,
    /// stop ([`EngineHandle`]).
    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    /// Sets how many requests the intake holds (default
    /// [`INTAKE_CAPACITY`](crate::inject::INTAKE_CAPACITY)); handles taken before keep
    /// the old intake, which nobody serves any more.
    pub fn set_intake_capacity(&mut self, capacity: usize) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        self.handle = EngineHandle {
            tx,
            capacity: capacity.max(1),
            refused: Arc::new(AtomicU64::new(0)),
        };
        self.control_rx = rx;
    }

    /// Whether a handle has stopped the run.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Injects `what` for `to` at simulated second `at`, from `source`. Accepted only
    /// from the next window on ([`InjectError::InvalidDeadline`] names both times).
    pub fn inject(
        &mut self,
        source: SourceId,
        at: SimTime,
        to: Address,
        what: Inject,
    ) -> Result<(), InjectError> {
        self.inject_pass(source, at, 0, to, what)
    }

    /// [`Self::inject`] in pass `pass` of the one-second window at `at` (0: the window
    /// itself; above 0: a re-entry after it, see [`InjectRecord::pass`]).
    fn inject_pass(
        &mut self,
        source: SourceId,
        at: SimTime,
        pass: u32,
        to: Address,
        what: Inject,
    ) -> Result<(), InjectError> {
        // A re-entry is due after its second's own window: it may name the second the
        // engine has just processed, if that was the window `[at, at + 1)` and no later
        // one has run.
        let reenterable = pass > 0
            && (at >= self.now
                || matches!(self.last_window, Some((s, e, p)) if s == at && e == at + 1 && p < pass));
        if at < self.now && !reenterable {
            return Err(InjectError::InvalidDeadline { at, next: self.now });
        }
        let dst = self.directory.resolve(to, &what)?;
        let (name, seq) = self
            .sources
            .get_mut(source.0 as usize)
            .ok_or_else(|| InjectError::Log(format!("unknown source {}", source.0)))?;
        *seq += 1;
        let record = InjectRecord {
            at,
            source: source.0,
            source_name: name.clone(),
            seq: *seq,
            to,
            inject: what,
            pass,
        };
        let env = Envelope {
            at,
            src: ActorId(self.hosts.len() as u32 + source.0),
            seq: *seq,
            dst,
            payload: Payload::Inject(what),
        };
        self.injects.push(record);
        if pass == 0 {
            self.pending.entry(at).or_default().push(env);
            self.cut_for_inject(at);
        } else {
            // Its second is cut already, by the pass-0 inject it re-enters.
            self.reentries.entry((at, pass)).or_default().push(env);
        }
        Ok(())
    }

    /// An inject at `at` gets a one-second window of its own.
    fn cut_for_inject(&mut self, at: SimTime) {
        self.cuts.insert(at);
        self.cuts.insert(at + 1);
    }

    /// Replays an inject log: registers its sources under the same ids and injects
    /// every record again.
    pub fn replay(&mut self, log: &[InjectRecord]) -> Result<(), InjectError> {
        for r in log {
            let id = if r.source == crate::inject::UNASSIGNED {
                self.source(&r.source_name)
            } else {
                self.source_numbered(r.source, &r.source_name)?
            };
            self.inject_pass(id, r.at, r.pass, r.to, r.inject)?;
        }
        Ok(())
    }

    /// The source with id `id`, registering it (and placeholders for ids never used
    /// below it) if it is new; an id already held by another name is an error.
    fn source_numbered(&mut self, id: u32, name: &str) -> Result<SourceId, InjectError> {
        let i = id as usize;
        let unused = |k: usize| format!("(unused source {k})");
        while self.sources.len() <= i {
            let k = self.sources.len();
            self.sources.push((unused(k), 0));
        }
        if self.sources[i].0 == unused(i) {
            self.sources[i].0 = name.to_string();
        }
        match &self.sources[i].0 {
            n if n == name => Ok(SourceId(id)),
            n => Err(InjectError::Log(format!(
                "source {name:?} has id {id} in the log but that id is {n:?} here: replay a log before registering other sources"
            ))),
        }
    }

    /// Every inject accepted so far.
    pub fn inject_log(&self) -> &[InjectRecord] {
        &self.injects
    }

    /// A bounded subscription to the stream of windows (see [`crate::observe`] for
    /// what happens when it falls behind).
    pub fn subscribe(&mut self, capacity: usize) -> Subscription {
        let rx = match &self.stream {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(capacity.max(1));
                self.stream = Some(tx);
                rx
            }
        };
        Subscription::new(rx)
    }

    /// Simulated time the engine has reached.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Counters so far.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::testing::{Faulty, assembly};
    use crate::clock::{SimClock, WallClock};
    use crate::observe::NoObserver;
    use civitas_twin::kinds::EstateAge;
    use civitas_twin::params::Parameters;
    use civitas_twin::time::{DAY, HOUR};

    /// A small community with a faulty actor appended (so the others keep their ids).
    fn with_fault(at: SimTime) -> Assembly {
        let mut a = assembly(400, EstateAge::Old, &Parameters::default());
        a.agents.push(Agent::Faulty(Faulty::at(at)));
        a.names.push("faulty".into());
        a
    }

    #[tokio::test]
    async fn a_behaviour_that_panics_in_a_simulation_stops_the_run_naming_the_actor_and_window() {
        let e = Engine::spawn(with_fault(3 * HOUR + 20), 60, SimClock)
            .await
            .unwrap();
        let err = e.run(DAY, &mut NoObserver).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "actor faulty failed at simulated second 10800: injected fault"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn on_the_wall_clock_a_failed_component_is_isolated_and_the_others_keep_running() {
        let mut e = Engine::spawn(with_fault(3 * HOUR), 60, WallClock::new(3600.0))
            .await
            .unwrap();
        e.on_failure(FailurePolicy::Isolate);
        let mut failures = Vec::new();
        let mut observer = |w: &Window| {
            failures.extend(
                w.events
                    .iter()
                    .filter(|e| matches!(e, Event::ComponentFailed { .. }))
                    .cloned(),
            )
        };
        let r = e.run(2 * DAY, &mut observer).await.unwrap();
        assert_eq!(
            failures,
            [Event::ComponentFailed {
                at: 3 * HOUR,
                actor: "faulty".into(),
                message: "injected fault".into()
            }]
        );
        // The others ran as they do without the faulty actor.
        let plain = assembly(400, EstateAge::Old, &Parameters::default());
        let p = Engine::spawn(plain, 60, SimClock)
            .await
            .unwrap()
            .run(2 * DAY, &mut NoObserver)
            .await
            .unwrap();
        assert!(!r.incidents.is_empty());
        assert_eq!(r.incidents, p.incidents);
        assert_eq!(r.transfers, p.transfers);
    }
}
