//! What happened, window by window: the one way to look inside a run.
//!
//! Behaviours record [`Event`]s while they handle a window (incident lifecycle, device
//! states, payments, yearly reports); the engine gathers them into one [`Window`] per
//! processed window, in a deterministic order, with its own [`Counters`]. Everything
//! that reads a run reads these windows: the engine's [`Collector`] folds them into the
//! [`RunResult`](crate::RunResult) (so the summary and KPIs come from the stream), and
//! [`Subscription`]s hand them to the live twin's operator API, the viewer and drill
//! scoring.
//!
//! **A slow subscriber never blocks the engine.** Each subscription is a bounded ring of
//! the last `capacity` windows; when a subscriber falls further behind, its oldest
//! windows are dropped for it alone and counted in [`Subscription::missed`]. The run, its
//! results and every other subscriber are unaffected.

pub use civitas_twin::vocab::events::{Counters, DeviceState, Event, Stage, Window};

use crate::incident::IncidentRecord;
use crate::ledger::{Account, Purpose, Transfer, YearReport};
use civitas_twin::kinds::{CommandAction, DeviceKind};
use civitas_twin::time::SimTime;
use civitas_twin::vocab::action::Holdings;
use civitas_twin::vocab::events::CommandTally;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A synchronous, lossless reader of the stream, called on the engine's task after each
/// window. Keep it cheap: the engine waits for it.
pub trait Observer {
    /// One window.
    fn window(&mut self, w: &Window);
}

impl<F: FnMut(&Window)> Observer for F {
    fn window(&mut self, w: &Window) {
        self(w)
    }
}

/// Reads nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn window(&mut self, _w: &Window) {}
}

/// An asynchronous reader of the stream (bounded; see the module docs for the policy).
#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Window>>,
    missed: u64,
}

impl Subscription {
    pub(crate) fn new(rx: broadcast::Receiver<Arc<Window>>) -> Self {
        Subscription { rx, missed: 0 }
    }

    /// The next window, waiting for it; `None` once the run has finished and every
    /// window still held has been read. Windows dropped because this subscriber fell
    /// behind are skipped and counted in [`Self::missed`].
    pub async fn recv(&mut self) -> Option<Arc<Window>> {
        loop {
            match self.rx.recv().await {
                Ok(w) => return Some(w),
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next window if one is ready, without waiting.
    pub fn try_recv(&mut self) -> Option<Arc<Window>> {
        loop {
            match self.rx.try_recv() {
                Ok(w) => return Some(w),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.missed += n,
                Err(_) => return None,
            }
        }
    }

    /// Windows this subscriber missed because it fell behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

/// Folds the stream into what a run reports at its end — closed incidents, payments and
/// yearly reports — and who holds each open incident now. The engine keeps one, so [`RunResult`](crate::RunResult) is built from
/// the same windows every subscriber sees.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Collector {
    /// Incidents closed so far.
    pub closed: Vec<IncidentRecord>,
    /// Payments so far.
    pub transfers: Vec<Transfer>,
    /// Yearly reports so far.
    pub reports: Vec<YearReport>,
    /// Who holds each open incident.
    pub holdings: Holdings,
    /// Device commands by action: sent, and how they ended.
    pub commands: BTreeMap<CommandAction, CommandTally>,
}

impl Observer for Collector {
    fn window(&mut self, w: &Window) {
        self.holdings.window(w);
        for e in &w.events {
            match e {
                Event::Incident {
                    stage: Stage::Closed { record },
                    ..
                } => self.closed.push((**record).clone()),
                Event::Payment(t) => self.transfers.push(*t),
                Event::Command { action, .. } => {
                    self.commands.entry(*action).or_default().sent += 1
                }
                Event::CommandEnded {
                    action, outcome, ..
                } => self.commands.entry(*action).or_default().ended(*outcome),
                Event::Report { report, .. } => self.reports.push(report.clone()),
                _ => {}
            }
        }
    }
}

/// What one actor recorded while handling one window, in the order it happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Journal {
    /// The events.
    pub(crate) events: Vec<Event>,
}

impl Journal {
    /// Records a payment (zero amounts are dropped).
    pub(crate) fn pay(
        &mut self,
        at: SimTime,
        from: Account,
        to: Account,
        cents: i64,
        purpose: Purpose,
    ) {
        if cents > 0 {
            self.events.push(Event::Payment(Transfer {
                at,
                from,
                to,
                cents,
                purpose,
            }));
        }
    }

    /// Records a yearly report.
    pub(crate) fn report(&mut self, at: SimTime, report: YearReport) {
        self.events.push(Event::Report { at, report });
    }

    /// Records a stage of an incident's life.
    pub(crate) fn incident(&mut self, at: SimTime, rec: &IncidentRecord, stage: Stage) {
        self.events.push(Event::Incident {
            at,
            id: rec.id,
            kind: rec.kind,
            community: rec.community,
            building: rec.building,
            stage,
        });
    }

    /// Records that an incident closed, with its whole record.
    pub(crate) fn closed(&mut self, at: SimTime, rec: IncidentRecord) {
        self.events.push(Event::Incident {
            at,
            id: rec.id,
            kind: rec.kind,
            community: rec.community,
            building: rec.building,
            stage: Stage::Closed {
                record: Box::new(rec),
            },
        });
    }

    /// Records a device's new state.
    pub(crate) fn device(
        &mut self,
        at: SimTime,
        community: u32,
        building: u32,
        device: u32,
        kind: DeviceKind,
        state: DeviceState,
    ) {
        self.events.push(Event::Device {
            at,
            community,
            building,
            device,
            kind,
            state,
        });
    }

    /// The payments recorded.
    #[cfg(test)]
    pub(crate) fn transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.events.iter().filter_map(|e| match e {
            Event::Payment(t) => Some(t),
            _ => None,
        })
    }

    /// Appends another journal.
    #[cfg(test)]
    pub(crate) fn append(&mut self, other: Journal) {
        self.events.extend(other.events);
    }
}
