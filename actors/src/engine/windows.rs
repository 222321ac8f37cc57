//! The window loop: which window runs next (the multiples of the window length, cut
//! around injects, and re-entry passes), when it is due on the clock, and processing it —
//! one step request per actor with anything due, the replies gathered into one
//! [`Window`] of the observe stream.

use super::*;

/// A window to process: `[start, end)`, and for a re-entry into a second already run,
/// its pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: SimTime,
    pub(super) end: SimTime,
    pub(super) reentry: Option<u32>,
}

impl<C: Clock> Engine<C> {
    /// Start of the next window that has anything in it.
    pub fn next_window(&mut self) -> Option<SimTime> {
        self.next_span().map(|s| s.start)
    }

    /// The next window that has anything in it: a re-entry whose second has been run,
    /// else `[start, end)` bounded by the multiples of the window length and by the cuts
    /// around injects.
    pub(super) fn next_span(&mut self) -> Option<Span> {
        if let Some(&(t, pass)) = self.reentries.keys().next()
            && t < self.now
        {
            return Some(Span {
                start: t,
                end: t + 1,
                reentry: Some(pass),
            });
        }
        while let Some(&Reverse((t, i))) = self.due.peek() {
            if self.actor_due[i as usize] == Some(t) {
                break;
            }
            self.due.pop();
        }
        while self.cuts.first().is_some_and(|&c| c < self.now) {
            self.cuts.pop_first();
        }
        let a = self.due.peek().map(|Reverse((t, _))| *t);
        let b = self.pending.keys().next().copied();
        let t = match (a, b) {
            (Some(a), Some(b)) => a.min(b),
            (x, None) | (None, x) => x?,
        };
        let cut_before = self.cuts.range(..=t).next_back().copied().unwrap_or(0);
        let start = (t - t % self.window).max(cut_before).max(self.now);
        let grid_end = (start / self.window + 1) * self.window;
        let end = self
            .cuts
            .range(start + 1..)
            .next()
            .map_or(grid_end, |&c| c.min(grid_end));
        Some(Span {
            start,
            end,
            reentry: None,
        })
    }

    /// Whether the window delivers an inject (it then runs as soon as the inject is in,
    /// not when its end is due): a re-entry always does.
    pub(super) fn holds_inject(&self, span: Span) -> bool {
        let actors = self.hosts.len() as u32;
        span.reentry.is_some()
            || self
                .pending
                .range(span.start..span.end)
                .any(|(_, v)| v.iter().any(|e| e.src.0 >= actors))
    }

    /// Processes the next window with anything in it before `limit`, if any; returns
    /// its start. On the wall clock, waits for it (accepting injects meanwhile) and, if
    /// nothing is due before `limit`, waits for `limit` or an inject.
    ///
    /// On the wall clock a window runs when real time reaches its end, so the run is
    /// never ahead of real time and an inject lands at the moment it arrives; a window
    /// that delivers an inject runs at once. A stop request ends the loop.
    pub(super) async fn step_before(
        &mut self,
        limit: SimTime,
        observer: &mut (dyn Observer + Send),
    ) -> Result<Option<SimTime>, EngineError> {
        loop {
            self.drain_intake().await?;
            if self.stopped {
                return Ok(None);
            }
            match self.next_span().filter(|s| s.start < limit) {
                Some(span) => {
                    // (On the simulated clock nothing waits: skip the look.)
                    let due = if self.clock.waits() && self.holds_inject(span) {
                        span.start
                    } else {
                        span.end
                    };
                    if self.wait_for(due).await? {
                        self.process(span, due, observer).await?;
                        self.now = self.now.max(span.end);
                        return Ok(Some(span.start));
                    }
                }
                None => {
                    if self.wait_for(limit).await? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Processes the next non-empty window; returns its start, or `None` if nothing
    /// will ever happen again.
    pub async fn step(
        &mut self,
        observer: &mut (dyn Observer + Send),
    ) -> Result<Option<SimTime>, EngineError> {
        self.drain_intake().await?;
        let Some(start) = self.next_window() else {
            return Ok(None);
        };
        self.step_before(start + 1, observer).await
    }

    /// Processes every window that starts before `t`; simulated time then stands at the
    /// first window boundary at or after `t`.
    pub async fn step_until(
        &mut self,
        t: SimTime,
        observer: &mut (dyn Observer + Send),
    ) -> Result<(), EngineError> {
        let t = t.div_ceil(self.window) * self.window;
        while self.step_before(t, observer).await?.is_some() {}
        if !self.stopped {
            self.now = self.now.max(t);
        }
        Ok(())
    }

    /// Runs to `horizon` (rounded up to a whole window), handing each window to
    /// `observer`, then stops every actor and returns the results.
    pub async fn run(
        mut self,
        horizon: SimTime,
        observer: &mut (dyn Observer + Send),
    ) -> Result<RunResult, EngineError> {
        self.step_until(horizon, observer).await?;
        self.finish().await
    }

    pub(super) async fn process(
        &mut self,
        span: Span,
        due: SimTime,
        observer: &mut (dyn Observer + Send),
    ) -> Result<(), EngineError> {
        let Span {
            start,
            end,
            reentry,
        } = span;
        let mut msgs = Vec::new();
        match reentry {
            // A re-entry: its injects alone (every timer and message of the second was
            // handled in the second's own window).
            Some(pass) => msgs = self.reentries.remove(&(start, pass)).unwrap_or_default(),
            None => {
                while let Some(e) = self.pending.first_entry() {
                    if *e.key() >= end {
                        break;
                    }
                    msgs.append(&mut e.remove());
                }
            }
        }
        self.last_window = Some((start, end, reentry.unwrap_or(0)));
        let n_msgs = msgs.len() as u64;
        let n_actors = self.hosts.len() as u32;
        let injects = msgs.iter().filter(|m| m.src.0 >= n_actors).count() as u64;
        msgs.sort_unstable_by_key(|m| (m.dst, m.key()));
        self.active.clear();
        while let Some(&Reverse((t, i))) = self.due.peek() {
            if t >= end {
                break;
            }
            self.due.pop();
            if self.actor_due[i as usize] == Some(t) {
                self.actor_due[i as usize] = None;
                self.active.push(i);
            }
        }
        self.active.extend(msgs.iter().map(|m| m.dst.0));
        self.active.sort_unstable();
        self.active.dedup();
        let mut msgs = msgs.into_iter().peekable();
        let mut sent = 0usize;
        let mut dropped = 0u64;
        for &i in &self.active {
            let mut inbox = Vec::new();
            while let Some(m) = msgs.next_if(|m| m.dst.0 == i) {
                inbox.push(m);
            }
            if self.failed[i as usize] {
                dropped += inbox.len() as u64;
                continue;
            }
            let msg = HostMsg::Step(StepRequest { start, end, inbox });
            if self.hosts[i as usize].send_message(msg).is_err() {
                return Err(EngineError::ActorGone {
                    name: self.names[i as usize].clone(),
                });
            }
            sent += 1;
        }
        // Collect one reply per actor stepped; a supervisor's report of a host that
        // stopped counts as that host's reply if it was still owed one.
        self.got.clear();
        let mut owed = sent;
        while owed > 0 {
            let Some(reply) = self.replies.recv().await else {
                return Err(EngineError::ActorGone {
                    name: "all actors".into(),
                });
            };
            let i = reply.actor.0;
            let was_owed = self.active.binary_search(&i).is_ok()
                && !self.failed[i as usize]
                && !self.got.iter().any(|r| r.actor.0 == i);
            if was_owed {
                owed -= 1;
                self.got.push(reply);
            } else if let Err(StepFailure::Gone(why)) = reply.result {
                self.fail(i, start, why)?;
            }
        }
        self.got.sort_unstable_by_key(|r| r.actor);
        let mut events = std::mem::take(&mut self.own_events);
        let mut n_events = 0;
        for reply in std::mem::take(&mut self.got) {
            let i = reply.actor.0 as usize;
            let out = match reply.result {
                Ok(out) => out,
                Err(StepFailure::Panicked(m) | StepFailure::Gone(m)) => {
                    self.fail(i as u32, start, m)?;
                    events.append(&mut self.own_events);
                    continue;
                }
            };
            n_events += out.events;
            self.actor_due[i] = out.next_due;
            if let Some(t) = out.next_due {
                self.due.push(Reverse((t, i as u32)));
            }
            for e in out.out {
                debug_assert!(e.at >= end, "a message must arrive in a later window");
                self.pending.entry(e.at).or_default().push(e);
            }
            events.extend(out.journal.events);
        }
        // Actors in id order, each in the order it recorded: order by time alone.
        events.sort_by_key(|e| e.at());
        self.stats.windows += 1;
        self.stats.activations += sent as u64;
        self.stats.events += n_events;
        self.stats.messages += n_msgs;
        self.stats.injects += injects;
        self.stats.dropped += dropped;
        let refused = events
            .iter()
            .filter(|e| matches!(e, Event::Refused { .. }))
            .count() as u64;
        self.stats.refused += refused;
        let window = Window {
            start,
            end,
            events,
            counters: Counters {
                window: self.stats.windows,
                activations: sent as u64,
                events: n_events,
                messages: n_msgs,
                injects,
                refused,
                lag_ms: self.clock.lag(due).as_millis() as u64,
            },
        };
        self.collector.window(&window);
        observer.window(&window);
        if let Some(tx) = &self.stream {
            // No receiver left is not an error: the run goes on.
            let _ = tx.send(Arc::new(window));
        }
        Ok(())
    }

    /// A behaviour failed in the window at `at`: stop, or isolate it (by policy).
    pub(super) fn fail(&mut self, i: u32, at: SimTime, message: String) -> Result<(), EngineError> {
        let name = self.names[i as usize].clone();
        match self.policy {
            FailurePolicy::Stop => Err(EngineError::ActorFailed { name, at, message }),
            FailurePolicy::Isolate => {
                if !self.failed[i as usize] {
                    self.failed[i as usize] = true;
                    self.actor_due[i as usize] = None;
                    self.own_events.push(Event::ComponentFailed {
                        at,
                        actor: name,
                        message,
                    });
                }
                Ok(())
            }
        }
    }
}
