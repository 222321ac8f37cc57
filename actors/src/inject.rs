//! The outside world's way into a run: injects.
//!
//! A sensor reading, an operator's action or a drill's situation reaches the actors as an
//! [`Inject`] sent to an [`Address`] at a simulated time, from a named outside source.
//! The engine accepts it only from the next unprocessed window on (so nothing already
//! computed changes), gives it the source's own id and sequence number, orders it with
//! every other delivery by (time, priority, source, sequence), and writes it to the
//! run's [`InjectRecord`] log. Replaying a run with its log reproduces it byte for byte.

pub use civitas_twin::vocab::inject::{
    Address, Inject, InjectError, InjectRecord, UNASSIGNED, read_log, read_log_lines, write_log,
};

use civitas_twin::time::SimTime;
use tokio::sync::{mpsc, oneshot};

/// An outside source's id: index among outside sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub(crate) u32);

pub(crate) struct Request {
    pub(crate) source: SourceId,
    pub(crate) at: SimTime,
    pub(crate) to: Address,
    pub(crate) inject: Inject,
    pub(crate) reply: oneshot::Sender<Result<(), InjectError>>,
}

/// A handle for one outside source, usable from any task: the live twin's telemetry,
/// an operator API, a drill controller. Its injects are accepted by the engine between
/// windows (on the wall clock, while the engine waits for the next one).
#[derive(Debug, Clone)]
pub struct Injector {
    pub(crate) source: SourceId,
    pub(crate) tx: mpsc::UnboundedSender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("at", &self.at)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
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
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request {
                source: self.source,
                at,
                to,
                inject,
                reply,
            })
            .map_err(|_| InjectError::EngineGone)?;
        answer.await.map_err(|_| InjectError::EngineGone)?
    }

    /// This source's id.
    pub fn source(&self) -> SourceId {
        self.source
    }
}
