//! The engine's intake: serving what handles send (injects now or at a time, subscribe,
//! checkpoint, stop), where an inject "now" lands, and waiting on the wall clock while
//! listening to the intake.

use super::*;

impl<C: Clock> Engine<C> {
    /// Serves one request from the intake.
    pub(super) async fn serve(&mut self, c: Control) -> Result<(), EngineError> {
        match c {
            Control::Inject {
                source,
                when,
                to,
                inject,
                reply,
            } => {
                let (mut at, mut pass) = match when {
                    When::At(t) => (t, 0),
                    When::Now => self.now_for_inject(),
                };
                // An action now is checked against who holds the case now, and waits for
                // a case still on its way to its holder; one for later is checked when it
                // arrives, by the organisation itself.
                if let (When::Now, Inject::Act { incident, action }, Some(org)) =
                    (when, inject, to.organisation())
                {
                    let holdings = &self.collector.holdings;
                    if let Err(r) = holdings.check(incident, org, action) {
                        let _ = reply.send(Err(InjectError::Refused(r)));
                        return Ok(());
                    }
                    let arrives = holdings.open[&incident].arrives;
                    if arrives > at {
                        (at, pass) = (arrives, 0);
                    }
                }
                let source = match source {
                    Source::Id(id) => id,
                    Source::Name(n) => self.source(&n),
                };
                let answer = self.inject_pass(source, at, pass, to, inject).map(|()| at);
                let _ = reply.send(answer);
            }
            Control::Subscribe { capacity, reply } => {
                let _ = reply.send(self.subscribe(capacity));
            }
            Control::Checkpoint { reply } => {
                let _ = reply.send(self.snapshot().await);
            }
            Control::Holdings { reply } => {
                let _ = reply.send(self.collector.holdings.clone());
            }
            Control::Stop { reply } => {
                self.stopped = true;
                let _ = reply.send(self.now);
            }
        }
        Ok(())
    }

    /// Where an inject "now" goes: the simulated second real time has reached. When the
    /// engine has just run that very second for an earlier inject (it runs an inject's
    /// window at once, so it stands one second ahead), a re-entry into it: the pass after
    /// the last one run, or the one already waiting. Otherwise the next window.
    pub(super) fn now_for_inject(&self) -> (SimTime, u32) {
        let Some(real) = self.clock.now() else {
            return (self.now, 0);
        };
        match self.last_window {
            Some((s, e, p)) if s == real && e == real + 1 && e == self.now => {
                let waiting = self.reentries.range((s, p + 1)..(s + 1, 0)).next();
                (s, waiting.map_or(p + 1, |((_, q), _)| *q))
            }
            _ => (real.max(self.now), 0),
        }
    }

    /// Serves every request the intake holds now.
    pub(super) async fn drain_intake(&mut self) -> Result<(), EngineError> {
        while let Ok(c) = self.control_rx.try_recv() {
            self.serve(c).await?;
        }
        Ok(())
    }

    /// Waits until real time reaches simulated `t` (on the wall clock), serving the
    /// intake meanwhile; `false` if a request came first (it may have added an earlier
    /// window or stopped the run).
    pub(super) async fn wait_for(&mut self, t: SimTime) -> Result<bool, EngineError> {
        if !self.clock.waits() {
            return Ok(true);
        }
        let got = tokio::select! {
            biased;
            c = self.control_rx.recv() => c,
            _ = self.clock.wait_until(t) => None,
        };
        match got {
            Some(c) => {
                self.serve(c).await?;
                Ok(false)
            }
            None => Ok(true),
        }
    }
}
