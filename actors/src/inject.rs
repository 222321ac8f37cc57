//! The outside world's way into a running engine: its bounded intake and the
//! [`EngineHandle`] any task can hold.
//!
//! A sensor reading, an operator's action or a drill's situation reaches the actors as an
//! [`Inject`] sent to an [`Address`] at a simulated time, from a named outside source
//! (the vocabulary is in [`civitas_twin::vocab::inject`], re-exported here). The engine
//! accepts it only from the next unprocessed window on (so nothing already computed
//! changes), gives it the source's own id and sequence number, orders it with every other
//! delivery by (time, priority, source, sequence), and writes it to the run's
//! [`InjectRecord`] log. Replaying a run with its log reproduces it byte for byte.
//!
//! Other tasks talk to a running engine through an [`EngineHandle`] (`Clone + Send`):
//! inject (now or at a time), subscribe to the stream, see who holds each open incident,
//! take a checkpoint, stop. Requests
//! go through one bounded intake, served between windows and, on the wall clock, while
//! the engine waits for the next window. A full intake refuses an inject at once
//! ([`InjectError::IntakeFull`], with the count refused so far) instead of growing
//! without limit; a handle used after the engine stopped gets
//! [`InjectError::EngineGone`] or [`crate::EngineError::Stopped`].

pub use civitas_twin::vocab::action::{Action, Holding, Holdings, Organisation, Refusal};
pub use civitas_twin::vocab::inject::{
    Address, Inject, InjectError, InjectRecord, UNASSIGNED, read_log, read_log_lines, write_log,
};

use crate::engine::{EngineError, EngineState};
use crate::observe::Subscription;
use civitas_twin::time::SimTime;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// An outside source's id: index among outside sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub(crate) u32);

/// When an inject is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// As soon as possible: on the wall clock, the simulated time real time has reached
    /// (or the engine's, if it is ahead); on the simulated clock, the next window.
    Now,
    /// At this simulated second (refused if that window has been processed).
    At(SimTime),
}

/// Which source an inject comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Registered already.
    Id(SourceId),
    /// By name, registered on first use.
    Name(String),
}

/// A request to the engine.
pub(crate) enum Control {
    Inject {
        source: Source,
        when: When,
        to: Address,
        inject: Inject,
        reply: oneshot::Sender<Result<SimTime, InjectError>>,
    },
    Subscribe {
        capacity: usize,
        reply: oneshot::Sender<Subscription>,
    },
    Checkpoint {
        reply: oneshot::Sender<Result<EngineState, EngineError>>,
    },
    Holdings {
        reply: oneshot::Sender<Holdings>,
    },
    Stop {
        reply: oneshot::Sender<SimTime>,
    },
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Control::Inject { .. } => "Inject",
            Control::Subscribe { .. } => "Subscribe",
            Control::Checkpoint { .. } => "Checkpoint",
            Control::Holdings { .. } => "Holdings",
            Control::Stop { .. } => "Stop",
        })
    }
}

/// Requests the intake holds by default.
pub const INTAKE_CAPACITY: usize = 4096;

/// A handle on a running engine, usable from any tokio task while the engine runs:
/// the live twin's telemetry, an operator API, a drill controller, the viewer.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    pub(crate) tx: mpsc::Sender<Control>,
    pub(crate) capacity: usize,
    pub(crate) refused: Arc<AtomicU64>,
}

impl EngineHandle {
    /// Injects `inject` for `to` from the outside source `source` (registered on first
    /// use), due `when`; resolves to the simulated time it was accepted for once the
    /// engine has taken it, or why it was refused. A full intake refuses at once.
    pub async fn inject(
        &self,
        source: &str,
        when: When,
        to: Address,
        inject: Inject,
    ) -> Result<SimTime, InjectError> {
        self.send_inject(Source::Name(source.to_string()), when, to, inject)
            .await
    }

    pub(crate) async fn send_inject(
        &self,
        source: Source,
        when: When,
        to: Address,
        inject: Inject,
    ) -> Result<SimTime, InjectError> {
        let (reply, answer) = oneshot::channel();
        let request = Control::Inject {
            source,
            when,
            to,
            inject,
            reply,
        };
        match self.tx.try_send(request) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
                return Err(InjectError::IntakeFull {
                    capacity: self.capacity,
                    refused,
                });
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(InjectError::EngineGone),
        }
        answer.await.map_err(|_| InjectError::EngineGone)?
    }

    /// A bounded subscription to the stream of windows from the next one on (see
    /// [`crate::observe`] for what happens when it falls behind).
    pub async fn subscribe(&self, capacity: usize) -> Result<Subscription, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.control(Control::Subscribe { capacity, reply }).await?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// The engine's complete state at its next window barrier (as
    /// [`crate::Engine::checkpoint`]), without stopping it.
    pub async fn checkpoint(&self) -> Result<EngineState, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.control(Control::Checkpoint { reply }).await?;
        answer.await.map_err(|_| EngineError::Stopped)?
    }

    /// Who holds each open incident, as of the last window processed (the same fold of
    /// the stream a subscriber can make with [`Holdings::apply`]).
    pub async fn holdings(&self) -> Result<Holdings, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.control(Control::Holdings { reply }).await?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// Stops the engine at its next window barrier; resolves to the simulated time it
    /// stops at. The run then finishes as if that were its horizon.
    pub async fn stop(&self) -> Result<SimTime, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.control(Control::Stop { reply }).await?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// Injects refused so far because the intake was full.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Control requests wait for room in the intake (they are few and must not be lost).
    async fn control(&self, c: Control) -> Result<(), EngineError> {
        self.tx.send(c).await.map_err(|_| EngineError::Stopped)
    }
}

/// A handle for one registered outside source (see [`crate::Engine::injector`]).
#[derive(Debug, Clone)]
pub struct Injector {
    pub(crate) source: SourceId,
    pub(crate) handle: EngineHandle,
}

impl Injector {
    /// Sends `inject` to `to`, due at simulated second `at`; resolves once the engine
    /// has accepted or refused it.
    pub async fn inject(
        &self,
        at: SimTime,
        to: Address,
        inject: Inject,
    ) -> Result<(), InjectError> {
        self.handle
            .send_inject(Source::Id(self.source), When::At(at), to, inject)
            .await
            .map(|_| ())
    }

    /// This source's id.
    pub fn source(&self) -> SourceId {
        self.source
    }
}
