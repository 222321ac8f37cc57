//! The engine's state out and in: a checkpoint at a window barrier, and the end of a
//! run — what every actor still holds, folded into the [`RunResult`].

use super::*;

impl<C: Clock> Engine<C> {
    /// The complete state at the current window barrier: every behaviour's state (with
    /// its random streams and timers), messages in flight, the stream folded so far and
    /// the inject log. [`Engine::restore`] carries on from it byte-identically.
    pub async fn checkpoint(&mut self) -> Result<EngineState, EngineError> {
        self.drain_intake().await?;
        self.snapshot().await
    }

    /// The state now, without serving the intake first.
    pub(super) async fn snapshot(&mut self) -> Result<EngineState, EngineError> {
        let mut agents = Vec::with_capacity(self.hosts.len());
        for (i, h) in self.hosts.iter().enumerate() {
            let name = &self.names[i];
            let bytes = ractor::call!(h, |reply| HostMsg::Snapshot { reply })
                .map_err(|_| EngineError::ActorGone { name: name.clone() })?
                .map_err(|m| EngineError::Checkpoint(format!("actor {name}: {m}")))?;
            agents.push(bytes);
        }
        Ok(EngineState {
            window: self.window,
            now: self.now,
            actor_due: self.actor_due.clone(),
            pending: self.pending.values().flatten().cloned().collect(),
            reentries: (self.reentries.iter())
                .flat_map(|(&(_, pass), v)| v.iter().map(move |e| (pass, e.clone())))
                .collect(),
            collector: self.collector.clone(),
            stats: self.stats,
            sources: self.sources.clone(),
            injects: self.injects.clone(),
            failed: self.failed.clone(),
            agents,
        })
    }

    /// Stops the run now: collects what every actor still holds, and what is in flight,
    /// then stops the actors.
    pub async fn finish(mut self) -> Result<RunResult, EngineError> {
        let collector = std::mem::take(&mut self.collector);
        let mut incidents = collector.closed;
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
            transfers: collector.transfers,
            reports: collector.reports,
            injects: std::mem::take(&mut self.injects),
            commands: collector.commands,
            stats: self.stats,
        };
        let now = self.now;
        for (i, h) in self.hosts.iter().enumerate() {
            if self.failed[i] {
                continue;
            }
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
        self.stop().await;
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

    /// Stops every actor, the supervisor last (its reports of the hosts stopping go to a
    /// channel nobody reads any more).
    pub(super) async fn stop(&mut self) {
        for h in &self.hosts {
            h.stop(None);
        }
        for j in self.joins.drain(..) {
            let _ = j.await;
        }
        self.supervisor.stop(None);
        let _ = (&mut self.supervisor_join).await;
    }
}
