//! The behaviours: plain state machines that read sorted messages and their own timers,
//! change their state, and say what to send. They never do I/O, read a clock or share
//! state; the engine hosts each in a ractor actor.
//!
//! Every behaviour implements [`Behaviour`]; [`step`] runs one window of it: timers and
//! messages interleaved in time order (messages first on a tie).

pub(crate) mod addresses;
pub(crate) mod building;
pub(crate) mod finance;
pub(crate) mod platform;
pub(crate) mod responder;
#[cfg(test)]
pub(crate) mod testing;

use crate::incident::IncidentRecord;
use crate::message::{ActorId, Envelope, Payload};
use crate::observe::Journal;
use addresses::Addresses;
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::DeviceKind;
use civitas_twin::params::Parameters;
use civitas_twin::time::SimTime;
use civitas_twin::vocab::action::Refusal;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, LazyLock};

/// What a behaviour can do while handling one event.
pub(crate) struct Ctx<'a> {
    /// Time of the event being handled.
    pub(crate) now: SimTime,
    /// End of the current window (exclusive); nothing sent arrives before it.
    pub(crate) window_end: SimTime,
    me: ActorId,
    seq: &'a mut u64,
    out: &'a mut Vec<Envelope>,
    /// Incidents closed, payments made and reports written in this window.
    pub(crate) journal: &'a mut Journal,
}

impl Ctx<'_> {
    /// Sends `payload` to `dst`, arriving `delay` seconds from now but never before the
    /// next window (the conservative lookahead, [`Self::arrival`]).
    pub(crate) fn send(&mut self, dst: ActorId, delay: SimTime, payload: Payload) {
        *self.seq += 1;
        let at = self.arrival(delay);
        self.out.push(Envelope {
            at,
            src: self.me,
            seq: *self.seq,
            dst,
            payload,
        });
    }

    /// When a message sent now with `delay` arrives.
    pub(crate) fn arrival(&self, delay: SimTime) -> SimTime {
        (self.now + delay).max(self.window_end)
    }

    /// This actor's id.
    pub(crate) fn me(&self) -> ActorId {
        self.me
    }

    /// Records that something was refused and changed nothing (counted in the
    /// window's [`crate::observe::Counters::refused`]).
    pub(crate) fn refuse(&mut self, incident: Option<u64>, reason: Refusal) {
        self.journal.events.push(crate::observe::Event::Refused {
            at: self.now,
            incident,
            reason,
        });
    }

    /// Refuses a message `by` has no use for: a wiring fault, counted and never silent.
    pub(crate) fn unexpected(&mut self, by: impl Into<String>, payload: &Payload) {
        let reason = Refusal::Unexpected {
            by: by.into(),
            what: payload.name(),
        };
        self.refuse(None, reason);
    }
}

/// A behaviour hosted by one actor.
pub(crate) trait Behaviour {
    /// Its timer events.
    type Timer;
    /// Its timers.
    fn timers(&mut self) -> &mut crate::timers::Timers<Self::Timer>;
    /// Handles one delivered message.
    fn on_message(&mut self, ctx: &mut Ctx<'_>, src: ActorId, payload: Payload);
    /// Handles one due timer.
    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Self::Timer);
    /// Everything still open at the end, and the tallies of its residents and devices.
    fn finish(&mut self, now: SimTime) -> Final;
}

/// Satisfaction sums over a group of residents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Sum of satisfaction.
    pub sum: f64,
    /// Residents counted.
    pub count: u64,
}

impl Tally {
    /// Adds one resident.
    pub(crate) fn add(&mut self, v: f64) {
        self.sum += v;
        self.count += 1;
    }

    /// Merges another tally.
    pub(crate) fn merge(&mut self, o: &Tally) {
        self.sum += o.sum;
        self.count += o.count;
    }

    /// Mean, or `None` for an empty group.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

/// Device counts and downtime for one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceTally {
    /// Devices.
    pub count: u64,
    /// Working at the end.
    pub working: u64,
    /// Failures over the run.
    pub failures: u64,
    /// Repairs over the run.
    pub repairs: u64,
    /// Seconds spent not working, summed over devices.
    pub downtime_secs: u64,
    /// False alarms raised.
    pub false_alarms: u64,
}

impl DeviceTally {
    /// Merges another tally.
    pub(crate) fn merge(&mut self, o: &DeviceTally) {
        self.count += o.count;
        self.working += o.working;
        self.failures += o.failures;
        self.repairs += o.repairs;
        self.downtime_secs += o.downtime_secs;
        self.false_alarms += o.false_alarms;
    }
}

/// What a behaviour hands back at the end of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Final {
    /// Incidents still open (including never detected).
    pub(crate) open: Vec<IncidentRecord>,
    /// Satisfaction of all residents.
    pub(crate) all: Tally,
    /// Satisfaction of residents aged 60+.
    pub(crate) elderly: Tally,
    /// Satisfaction of residents aged 60+ living alone.
    pub(crate) elderly_alone: Tally,
    /// Devices by kind.
    pub(crate) devices: Vec<(DeviceKind, DeviceTally)>,
}

/// The result of one window of one actor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StepOutput {
    /// Messages sent, each arriving in a later window.
    pub(crate) out: Vec<Envelope>,
    /// Incidents closed, payments, reports.
    pub(crate) journal: Journal,
    /// Events handled (timers + messages).
    pub(crate) events: u64,
    /// Next own timer, if any.
    pub(crate) next_due: Option<SimTime>,
}

/// Runs one window `[start, end)` of a behaviour over its sorted inbox.
pub(crate) fn step<B: Behaviour>(
    b: &mut B,
    me: ActorId,
    seq: &mut u64,
    end: SimTime,
    inbox: Vec<Envelope>,
) -> StepOutput {
    let mut out = StepOutput::default();
    let mut inbox = inbox.into_iter().peekable();
    loop {
        let t_timer = b.timers().next_at().filter(|&t| t < end);
        let t_msg = inbox.peek().map(|e| e.at);
        let take_msg = match (t_msg, t_timer) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(m), Some(t)) => m <= t,
        };
        out.events += 1;
        if take_msg {
            let env = inbox.next().expect("peeked");
            let mut ctx = Ctx {
                now: env.at,
                window_end: end,
                me,
                seq,
                out: &mut out.out,
                journal: &mut out.journal,
            };
            b.on_message(&mut ctx, env.src, env.payload);
        } else {
            let (at, timer) = b.timers().pop_before(end).expect("peeked");
            let mut ctx = Ctx {
                now: at,
                window_end: end,
                me,
                seq,
                out: &mut out.out,
                journal: &mut out.journal,
            };
            b.on_timer(&mut ctx, timer);
        }
    }
    out.next_due = b.timers().next_at();
    out
}

/// The placeholder parameters of [`Shared::detached`].
fn no_params() -> Arc<Parameters> {
    static NONE: LazyLock<Arc<Parameters>> = LazyLock::new(|| Arc::new(Parameters::default()));
    NONE.clone()
}

/// The placeholder calendar of [`Shared::detached`].
fn no_calendar() -> Arc<Calendar> {
    static NONE: LazyLock<Arc<Calendar>> = LazyLock::new(|| Arc::new(Calendar::default()));
    NONE.clone()
}

/// The placeholder addresses of [`Shared::detached`].
fn no_addresses() -> Arc<Addresses> {
    static NONE: LazyLock<Arc<Addresses>> = LazyLock::new(|| Arc::new(Addresses::default()));
    NONE.clone()
}

/// What every behaviour reads and none owns: the parameters, the calendar and who is
/// who. It is not part of a behaviour's state — a checkpoint does not carry it — and
/// [`Agent::adopt`] re-attaches the running assembly's in one place, so a restored
/// behaviour can never run on the placeholder it was decoded with.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    /// Every mechanism's parameters.
    pub(crate) params: Arc<Parameters>,
    /// Local time.
    pub(crate) calendar: Arc<Calendar>,
    /// Who is who.
    pub(crate) addresses: Arc<Addresses>,
    /// False for the placeholder a behaviour is decoded with.
    attached: bool,
}

impl Shared {
    /// The context of a run.
    pub(crate) fn new(
        params: Arc<Parameters>,
        calendar: Arc<Calendar>,
        addresses: Arc<Addresses>,
    ) -> Shared {
        Shared {
            params,
            calendar,
            addresses,
            attached: true,
        }
    }

    /// The placeholder a behaviour holds while it is decoded from a checkpoint, until
    /// [`Agent::adopt`] gives it the run's own.
    pub(crate) fn detached() -> Shared {
        Shared {
            params: no_params(),
            calendar: no_calendar(),
            addresses: no_addresses(),
            attached: false,
        }
    }
}

/// Any behaviour, so one actor type can host them all.
#[derive(Serialize, Deserialize)]
pub(crate) enum Agent {
    /// A building with its residents, households and devices.
    Building(Box<building::BuildingHost>),
    /// A community platform and its market.
    Platform(Box<platform::Platform>),
    /// District finance.
    Finance(Box<finance::Finance>),
    /// An organization that handles incidents.
    Responder(Box<responder::Responder>),
    /// A behaviour that panics at a chosen time (tests of supervision).
    #[cfg(test)]
    Faulty(testing::Faulty),
}

impl Agent {
    /// Runs one window.
    pub(crate) fn step(
        &mut self,
        me: ActorId,
        seq: &mut u64,
        end: SimTime,
        inbox: Vec<Envelope>,
    ) -> StepOutput {
        match self {
            Agent::Building(s) => step(s.as_mut(), me, seq, end, inbox),
            Agent::Platform(p) => step(p.as_mut(), me, seq, end, inbox),
            Agent::Finance(f) => step(f.as_mut(), me, seq, end, inbox),
            Agent::Responder(r) => step(r.as_mut(), me, seq, end, inbox),
            #[cfg(test)]
            Agent::Faulty(f) => step(f, me, seq, end, inbox),
        }
    }

    /// First timer, before any window has run.
    pub(crate) fn next_due(&mut self) -> Option<SimTime> {
        match self {
            Agent::Building(s) => s.timers().next_at(),
            Agent::Platform(p) => p.timers().next_at(),
            Agent::Finance(f) => f.timers().next_at(),
            Agent::Responder(r) => r.timers().next_at(),
            #[cfg(test)]
            Agent::Faulty(f) => f.timers().next_at(),
        }
    }

    /// Takes the state of `restored` (decoded from a checkpoint) and keeps what is not
    /// state — parameters, calendar and addresses — from `self` (built for this run). Fails if
    /// `restored` is another kind of behaviour.
    /// The run's context this behaviour reads (a test behaviour has none).
    fn shared(&self) -> Option<&Shared> {
        match self {
            Agent::Building(a) => Some(&a.context),
            Agent::Platform(a) => Some(&a.context),
            Agent::Finance(a) => Some(&a.context),
            Agent::Responder(a) => Some(&a.context),
            #[cfg(test)]
            Agent::Faulty(_) => None,
        }
    }

    pub(crate) fn adopt(&mut self, restored: Agent) -> Result<(), String> {
        let Some(shared) = self.shared().filter(|s| s.attached).cloned() else {
            return Err("this actor has no run context to give a restored state".into());
        };
        match (self, restored) {
            (Agent::Building(a), Agent::Building(mut b)) => {
                b.context = shared;
                *a = b;
            }
            (Agent::Platform(a), Agent::Platform(mut b)) => {
                b.context = shared;
                b.model = a.model.clone();
                *a = b;
            }
            (Agent::Finance(a), Agent::Finance(mut b)) => {
                b.context = shared;
                *a = b;
            }
            (Agent::Responder(a), Agent::Responder(mut b)) => {
                b.context = shared;
                *a = b;
            }
            _ => return Err("it is another kind of actor in the checkpoint".into()),
        }
        Ok(())
    }

    /// Ends the run.
    pub(crate) fn finish(&mut self, now: SimTime) -> Final {
        match self {
            Agent::Building(s) => s.finish(now),
            Agent::Platform(p) => p.finish(now),
            Agent::Finance(f) => f.finish(now),
            Agent::Responder(r) => r.finish(now),
            #[cfg(test)]
            Agent::Faulty(f) => f.finish(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_twin::kinds::EstateAge;

    #[test]
    fn a_restored_behaviour_takes_the_runs_context_and_a_placeholder_cannot_give_one() {
        let mut p = Parameters::default();
        p.satisfaction.initial = 0.5;
        let mut a = testing::assembly(400, EstateAge::Old, &p);
        // Every kind of behaviour, encoded as a checkpoint does and decoded again: it
        // comes back with the placeholder context, and adopting gives it the run's.
        for agent in &mut a.agents {
            let bytes = postcard::to_stdvec(&*agent).unwrap();
            let decoded: Agent = postcard::from_bytes(&bytes).unwrap();
            assert!(!decoded.shared().unwrap().attached);
            let mut placeholder: Agent = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(
                placeholder.adopt(postcard::from_bytes(&bytes).unwrap()),
                Err("this actor has no run context to give a restored state".to_string())
            );
            let run = agent.shared().unwrap().clone();
            agent.adopt(decoded).unwrap();
            let now = agent.shared().unwrap();
            assert!(now.attached);
            assert!(Arc::ptr_eq(&now.params, &run.params));
            assert_eq!(now.params.satisfaction.initial, 0.5);
        }
    }
}
