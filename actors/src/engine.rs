//! The engine: hosts every behaviour in a ractor actor and advances them together in
//! conservative time windows.
//!
//! In each window `[t, t + w)` the engine hands every actor that has a timer due or a
//! message to read its inbox, sorted by (time, priority, source, sequence), as one ractor
//! message; the actors run in parallel on the tokio runtime, and each replies once with
//! the messages it sent (all due in later windows), the incidents it closed, and its next
//! timer. Actors with nothing due are not woken; windows with nothing in them are skipped.
//! Because an actor's window depends only on its own state and its sorted inbox, the
//! result is the same on one worker thread or many.

use crate::agents::{Agent, DeviceTally, Final, StepOutput, Tally};
use crate::assembly::Assembly;
use crate::clock::Clock;
use crate::incident::IncidentRecord;
use crate::ledger::{Journal, Transfer, YearReport};
use crate::message::{ActorId, Envelope};
use civitas_twin::kinds::DeviceKind;
use civitas_twin::time::SimTime;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::panic::AssertUnwindSafe;
use tokio::sync::mpsc;

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
    /// An actor's behaviour panicked (fatal: a bug; the run stops and reports which).
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
}

/// Counters of what the engine did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// ractor actors hosting the behaviours.
    pub actors: u64,
    /// Windows processed (empty ones are skipped and not counted).
    pub windows: u64,
    /// Actor activations (one ractor message and one reply each).
    pub activations: u64,
    /// Events handled by behaviours: timers fired plus messages read.
    pub events: u64,
    /// Messages delivered between behaviours.
    pub messages: u64,
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
    /// Every payment, in the order the engine collected them, sorted by (time, accounts).
    pub transfers: Vec<Transfer>,
    /// Yearly reports, sorted by (year, community, kind).
    pub reports: Vec<YearReport>,
    /// Engine counters.
    pub stats: EngineStats,
}

enum HostMsg {
    Step {
        start: SimTime,
        end: SimTime,
        inbox: Vec<Envelope>,
    },
    Finish {
        now: SimTime,
        reply: RpcReplyPort<Final>,
    },
}

struct Reply {
    id: ActorId,
    start: SimTime,
    result: Result<StepOutput, String>,
}

struct Host;

struct HostState {
    id: ActorId,
    agent: Agent,
    seq: u64,
    replies: mpsc::UnboundedSender<Reply>,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

impl Actor for Host {
    type Msg = HostMsg;
    type State = HostState;
    type Arguments = HostState;

    async fn pre_start(
        &self,
        _me: ActorRef<HostMsg>,
        args: HostState,
    ) -> Result<HostState, ActorProcessingErr> {
        Ok(args)
    }

    async fn handle(
        &self,
        _me: ActorRef<HostMsg>,
        msg: HostMsg,
        st: &mut HostState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            HostMsg::Step { start, end, inbox } => {
                let (id, agent, seq) = (st.id, &mut st.agent, &mut st.seq);
                // A panic in a behaviour is a bug; report it instead of hanging the run.
                let result =
                    std::panic::catch_unwind(AssertUnwindSafe(|| agent.step(id, seq, end, inbox)))
                        .map_err(panic_message);
                // The engine may have gone (run aborted); nothing to do then.
                let _ = st.replies.send(Reply { id, start, result });
            }
            HostMsg::Finish { now, reply } => {
                let _ = reply.send(st.agent.finish(now));
            }
        }
        Ok(())
    }
}

/// The engine over one assembly and one clock.
pub struct Engine<C: Clock> {
    clock: C,
    window: SimTime,
    now: SimTime,
    hosts: Vec<ActorRef<HostMsg>>,
    joins: Vec<tokio::task::JoinHandle<()>>,
    names: Vec<String>,
    due: BinaryHeap<Reverse<(SimTime, u32)>>,
    actor_due: Vec<Option<SimTime>>,
    pending: BTreeMap<SimTime, Vec<Envelope>>,
    replies: mpsc::UnboundedReceiver<Reply>,
    journal: Journal,
    stats: EngineStats,
}

impl<C: Clock> Engine<C> {
    /// Spawns one actor per behaviour of `assembly` on the current tokio runtime.
    pub async fn spawn(
        assembly: Assembly,
        window_secs: SimTime,
        clock: C,
    ) -> Result<Self, EngineError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let n = assembly.agents.len();
        let mut hosts = Vec::with_capacity(n);
        let mut joins = Vec::with_capacity(n);
        let mut due = BinaryHeap::new();
        let mut actor_due = Vec::with_capacity(n);
        for (i, mut agent) in assembly.agents.into_iter().enumerate() {
            let first = agent.next_due();
            actor_due.push(first);
            if let Some(t) = first {
                due.push(Reverse((t, i as u32)));
            }
            let state = HostState {
                id: ActorId(i as u32),
                agent,
                seq: 0,
                replies: tx.clone(),
            };
            let (r, j) = Actor::spawn(None, Host, state)
                .await
                .map_err(|e| EngineError::Spawn {
                    name: assembly.names[i].clone(),
                    message: e.to_string(),
                })?;
            hosts.push(r);
            joins.push(j);
        }
        Ok(Engine {
            clock,
            window: window_secs.max(1),
            now: 0,
            hosts,
            joins,
            names: assembly.names,
            due,
            actor_due,
            pending: BTreeMap::new(),
            replies: rx,
            journal: Journal::default(),
            stats: EngineStats {
                actors: n as u64,
                ..EngineStats::default()
            },
        })
    }

    /// Start of the next window that has anything in it.
    pub fn next_window(&mut self) -> Option<SimTime> {
        while let Some(&Reverse((t, i))) = self.due.peek() {
            if self.actor_due[i as usize] == Some(t) {
                break;
            }
            self.due.pop();
        }
        let a = self.due.peek().map(|Reverse((t, _))| *t);
        let b = self.pending.keys().next().copied();
        let t = match (a, b) {
            (Some(a), Some(b)) => a.min(b),
            (x, None) | (None, x) => x?,
        };
        Some(t - t % self.window)
    }

    /// Simulated time the engine has reached.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Counters so far.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Processes the next non-empty window; returns its start, or `None` if nothing
    /// will ever happen again.
    pub async fn step(&mut self) -> Result<Option<SimTime>, EngineError> {
        let Some(start) = self.next_window() else {
            return Ok(None);
        };
        self.clock.wait_until(start).await;
        self.process(start).await?;
        self.now = start + self.window;
        Ok(Some(start))
    }

    /// Processes every window that starts before `t`; simulated time then stands at the
    /// first window boundary at or after `t`.
    pub async fn step_until(&mut self, t: SimTime) -> Result<(), EngineError> {
        while self.next_window().is_some_and(|w| w < t) {
            self.step().await?;
        }
        self.now = self.now.max(t.div_ceil(self.window) * self.window);
        Ok(())
    }

    /// Runs to `horizon` (rounded up to a whole window), calling `progress` with the
    /// simulated time after each window, then stops every actor and returns the results.
    pub async fn run(
        mut self,
        horizon: SimTime,
        mut progress: impl FnMut(SimTime),
    ) -> Result<RunResult, EngineError> {
        let horizon = horizon.div_ceil(self.window) * self.window;
        while self.next_window().is_some_and(|w| w < horizon) {
            self.step().await?;
            progress(self.now);
        }
        self.now = horizon;
        self.finish().await
    }

    async fn process(&mut self, start: SimTime) -> Result<(), EngineError> {
        let end = start + self.window;
        let mut msgs = self.pending.remove(&start).unwrap_or_default();
        self.stats.messages += msgs.len() as u64;
        msgs.sort_by_key(|m| (m.dst, m.key()));
        let mut inboxes: BTreeMap<u32, Vec<Envelope>> = BTreeMap::new();
        for m in msgs {
            inboxes.entry(m.dst.0).or_default().push(m);
        }
        while let Some(&Reverse((t, i))) = self.due.peek() {
            if t >= end {
                break;
            }
            self.due.pop();
            if self.actor_due[i as usize] == Some(t) {
                self.actor_due[i as usize] = None;
                inboxes.entry(i).or_default();
            }
        }
        let k = inboxes.len();
        for (i, inbox) in inboxes {
            let msg = HostMsg::Step { start, end, inbox };
            if self.hosts[i as usize].send_message(msg).is_err() {
                return Err(EngineError::ActorGone {
                    name: self.names[i as usize].clone(),
                });
            }
        }
        for _ in 0..k {
            let Some(reply) = self.replies.recv().await else {
                return Err(EngineError::ActorGone {
                    name: "all actors".into(),
                });
            };
            let i = reply.id.0 as usize;
            let out = reply.result.map_err(|message| EngineError::ActorFailed {
                name: self.names[i].clone(),
                at: reply.start,
                message,
            })?;
            self.stats.events += out.events;
            self.actor_due[i] = out.next_due;
            if let Some(t) = out.next_due {
                self.due.push(Reverse((t, i as u32)));
            }
            for e in out.out {
                debug_assert!(e.at >= end, "a message must arrive in a later window");
                self.pending
                    .entry(e.at - e.at % self.window)
                    .or_default()
                    .push(e);
            }
            self.journal.append(out.journal);
        }
        self.stats.windows += 1;
        self.stats.activations += k as u64;
        Ok(())
    }

    /// Stops the run now: collects what every actor still holds, and what is in flight,
    /// then stops the actors.
    pub async fn finish(mut self) -> Result<RunResult, EngineError> {
        let journal = std::mem::take(&mut self.journal);
        let mut incidents = journal.closed;
        for (_, msgs) in std::mem::take(&mut self.pending) {
            incidents.extend(msgs.into_iter().filter_map(|e| e.payload.into_record()));
        }
        let mut result = RunResult {
            horizon: self.now,
            incidents: Vec::new(),
            satisfaction_all: Tally::default(),
            satisfaction_elderly: Tally::default(),
            satisfaction_elderly_alone: Tally::default(),
            devices: BTreeMap::new(),
            transfers: journal.transfers,
            reports: journal.reports,
            stats: self.stats,
        };
        let now = self.now;
        for (i, h) in self.hosts.iter().enumerate() {
            let f = ractor::call!(h, |reply| HostMsg::Finish { now, reply }).map_err(|_| {
                EngineError::ActorGone {
                    name: self.names[i].clone(),
                }
            })?;
            incidents.extend(f.open);
            result.satisfaction_all.merge(&f.all);
            result.satisfaction_elderly.merge(&f.elderly);
            result.satisfaction_elderly_alone.merge(&f.elderly_alone);
            for (k, t) in f.devices {
                result.devices.entry(k).or_default().merge(&t);
            }
        }
        for h in &self.hosts {
            h.stop(None);
        }
        for j in self.joins.drain(..) {
            let _ = j.await;
        }
        incidents.sort_by_key(|r| r.id);
        result.incidents = incidents;
        // Replies arrive in any order: sort what they wrote into a total order.
        result
            .transfers
            .sort_by_key(|t| (t.at, t.from, t.to, t.purpose, t.cents));
        result.reports.sort_by_key(|r| match r {
            YearReport::Building(s) => (s.year, s.community, 0u8, s.building),
            YearReport::Platform(p) => (p.year, p.community, 1u8, 0),
        });
        Ok(result)
    }
}
