//! Commands to the building's devices: the platform's command arrives here, where the
//! device is. In a simulation the built-in device model answers (`commands.device_model`):
//! a working device confirms after a random delay, or answers that it failed; a broken or
//! offline device, or a lost message, gives no answer and the command times out. On the
//! live twin the device's own answer arrives as an inject instead. Every command ends
//! once, in the stream; a safety command that did not succeed raises a `command_failed`
//! incident at once, so that people do by hand what the device did not.

use super::{BuildingHost, Timer};
use crate::agents::Ctx;
use crate::incident::IncidentRecord;
use crate::observe::{Event, Stage};
use civitas_twin::kinds::{CommandAction, CommandOutcome, DetectedBy, IncidentKind};
use civitas_twin::model::DeviceStatus;
use civitas_twin::rng;
use civitas_twin::time::secs;
use civitas_twin::vocab::action::Refusal;
use serde::{Deserialize, Serialize};

/// A command waiting for its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Outstanding {
    /// The device (its id within the community).
    device: u32,
    /// What it is to do.
    action: CommandAction,
}

impl BuildingHost {
    /// The platform's command `id` to `device`: wait for its outcome until the timeout,
    /// and in a simulation draw the device's answer.
    pub(super) fn command(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: u64,
        device: u32,
        action: CommandAction,
    ) {
        let Some(&local) = self.device_index.get(&device) else {
            let to = format!("building {} of community {}", self.building, self.community);
            let what = format!("command {id} for device {device}");
            return ctx.refuse(None, Refusal::WrongDestination { what, to });
        };
        let k = &self.context.params.commands;
        self.commands.insert(id, Outstanding { device, action });
        self.timers
            .push(ctx.now + k.timeout_secs, Timer::CommandTimeout(id));
        if !k.device_model {
            return;
        }
        let d = &mut self.devices[local as usize];
        if d.status != DeviceStatus::Working || rng::chance(&mut d.rng, k.loss_prob) {
            return; // no answer: it times out
        }
        let delay = secs(rng::exp(&mut d.rng, k.delay_secs)).max(1);
        let outcome = if rng::chance(&mut d.rng, k.failure_prob) {
            CommandOutcome::Failed
        } else {
            CommandOutcome::Succeeded
        };
        if delay < k.timeout_secs {
            self.timers
                .push(ctx.now + delay, Timer::CommandAnswer(id, outcome));
        }
    }

    /// A device's answer to command `id` (from the device model, or an inject on the live
    /// twin); one for a command that has ended or was never sent is refused.
    pub(super) fn command_answered(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: u64,
        device: u32,
        outcome: CommandOutcome,
    ) {
        match self.commands.get(&id) {
            Some(c) if c.device == device => self.end_command(ctx, id, outcome),
            _ => {
                let to = format!("building {} of community {}", self.building, self.community);
                let what = format!(
                    "an outcome for command {id} (not waiting for one from device {device})"
                );
                ctx.refuse(None, Refusal::WrongDestination { what, to });
            }
        }
    }

    /// Command `id` has waited its timeout: if it is still open, it timed out.
    pub(super) fn command_timed_out(&mut self, ctx: &mut Ctx<'_>, id: u64) {
        if self.commands.contains_key(&id) {
            self.end_command(ctx, id, CommandOutcome::TimedOut);
        }
    }

    /// Command `id` ended with `outcome`, if it is still open (an answer after its
    /// timeout finds it ended and does nothing).
    pub(super) fn end_command(&mut self, ctx: &mut Ctx<'_>, id: u64, outcome: CommandOutcome) {
        let Some(c) = self.commands.remove(&id) else {
            return;
        };
        ctx.journal.events.push(Event::CommandEnded {
            at: ctx.now,
            id,
            community: self.community,
            building: self.building,
            device: c.device,
            action: c.action,
            outcome,
        });
        if outcome != CommandOutcome::Succeeded {
            self.raise_command_failure(ctx, c.device);
        }
    }

    /// A safety command did not succeed: an incident, known at once through the device.
    fn raise_command_failure(&mut self, ctx: &mut Ctx<'_>, device: u32) {
        let kind = IncidentKind::CommandFailed;
        let id = self.new_id(ctx.me());
        let severity = self.context.params.incident(kind).severity;
        let mut rec = IncidentRecord::new(id, kind, severity, ctx.now);
        rec.community = self.community;
        rec.building = self.building;
        rec.detected = Some(ctx.now);
        rec.detected_by = Some(DetectedBy::Device);
        rec.device = self
            .device_index
            .get(&device)
            .map(|&l| self.devices[l as usize].kind);
        ctx.journal.incident(ctx.now, &rec, Stage::Created);
        self.pending.insert(id, rec);
        self.timers.push(ctx.now, Timer::Detect(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::building::BuildingHost;
    use crate::agents::testing::{assembly, envelope, run};
    use crate::agents::{Agent, StepOutput};
    use crate::inject::Inject;
    use crate::message::{ActorId, Payload};
    use crate::timers::Timers;
    use civitas_twin::kinds::EstateAge;
    use civitas_twin::params::Parameters;
    use civitas_twin::time::SimTime;

    /// A building host with devices, alone (no timers of its own), under `p`.
    fn host(p: &Parameters) -> (ActorId, Box<BuildingHost>) {
        let (id, mut b) = assembly(60, EstateAge::New, p)
            .agents
            .into_iter()
            .enumerate()
            .find_map(|(i, a)| match a {
                Agent::Building(b) if !b.devices.is_empty() => Some((ActorId(i as u32), b)),
                _ => None,
            })
            .expect("a building with devices");
        b.timers = Timers::default();
        (id, b)
    }

    fn command(at: SimTime, to: ActorId, id: u64, device: u32) -> crate::message::Envelope {
        let action = CommandAction::ReleaseDoors;
        envelope(
            at,
            ActorId(500),
            1,
            to,
            Payload::Command { id, device, action },
        )
    }

    fn ended(out: &StepOutput) -> Vec<(u64, SimTime, CommandOutcome)> {
        (out.journal.events.iter())
            .filter_map(|e| match e {
                Event::CommandEnded {
                    id, at, outcome, ..
                } => Some((*id, *at, *outcome)),
                _ => None,
            })
            .collect()
    }

    fn failures_raised(out: &StepOutput) -> usize {
        (out.journal.events.iter())
            .filter(|e| {
                matches!(
                    e,
                    Event::Incident {
                        kind: IncidentKind::CommandFailed,
                        stage: Stage::Created,
                        ..
                    }
                )
            })
            .count()
    }

    #[test]
    fn a_working_device_confirms_a_command_and_one_that_fails_raises_an_incident() {
        for (failure_prob, outcome, raised) in [
            (0.0, CommandOutcome::Succeeded, 0),
            (1.0, CommandOutcome::Failed, 1),
        ] {
            let mut p = Parameters::default();
            (p.commands.failure_prob, p.commands.loss_prob) = (failure_prob, 0.0);
            let (me, mut h) = host(&p);
            let device = h.devices[0].id;
            let out = run(h.as_mut(), me, vec![command(60, me, 7, device)], 60, 600);
            let e = ended(&out);
            assert_eq!(e.len(), 1, "{e:?}");
            assert_eq!((e[0].0, e[0].2), (7, outcome));
            assert!(
                e[0].1 > 60 && e[0].1 < 60 + p.commands.timeout_secs,
                "answered in time"
            );
            assert_eq!(failures_raised(&out), raised);
            assert!(h.commands.is_empty(), "nothing left waiting");
        }
    }

    #[test]
    fn a_broken_device_gives_no_answer_and_the_command_times_out() {
        let p = Parameters::default();
        let (me, mut h) = host(&p);
        h.devices[0].status = DeviceStatus::Failed;
        let device = h.devices[0].id;
        let out = run(h.as_mut(), me, vec![command(60, me, 7, device)], 60, 600);
        let timeout = 60 + p.commands.timeout_secs;
        assert_eq!(ended(&out), vec![(7, timeout, CommandOutcome::TimedOut)]);
        assert_eq!(
            failures_raised(&out),
            1,
            "a door not released is an incident"
        );
    }

    #[test]
    fn on_the_live_twin_the_devices_answer_arrives_as_an_inject_and_a_late_one_is_refused() {
        let mut p = Parameters::default();
        p.commands.device_model = false;
        let (me, mut h) = host(&p);
        let device = h.devices[0].id;
        let answer = |at: SimTime, command: u64| {
            let outcome = CommandOutcome::Succeeded;
            let inject = Inject::CommandOutcome {
                command,
                device,
                outcome,
            };
            envelope(at, ActorId(900), at, me, Payload::Inject(inject))
        };
        let inbox = vec![
            command(60, me, 7, device),
            command(60, me, 8, device),
            answer(65, 7),
        ];
        let out = run(h.as_mut(), me, inbox, 60, 200);
        // 7 confirmed by its device; 8 has no answer and times out.
        assert_eq!(
            ended(&out),
            vec![
                (7, 65, CommandOutcome::Succeeded),
                (8, 60 + p.commands.timeout_secs, CommandOutcome::TimedOut)
            ]
        );
        let out = run(h.as_mut(), me, vec![answer(300, 8)], 300, 360);
        assert!(ended(&out).is_empty());
        let refused: Vec<String> = (out.journal.events.iter())
            .filter_map(|e| match e {
                Event::Refused { reason, .. } => Some(reason.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0].starts_with(&format!(
                "an outcome for command 8 (not waiting for one from device {device}) cannot go to building"
            )),
            "{refused:?}"
        );
    }
}
