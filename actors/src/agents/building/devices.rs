//! Devices: each hosted device fails at random, is missed at its next heartbeat (the
//! host then tells the platform it is offline), comes back when the platform's crew
//! repairs it, and raises false alarms while it works and the platform hears it. At the
//! end of its service life (`economy.platform.device_life_years`) a device wears out: it
//! breaks like any failure, and only a replacement (the owner's decision, at the platform)
//! brings it back with a new life. Device time is tallied for the yearly report: working,
//! and in use while the platform operates.

use super::{BuildingHost, Timer};
use crate::agents::{Ctx, DeviceTally};
use crate::incident::IncidentRecord;
use crate::message::Payload;
use crate::observe::{DeviceState as Seen, Stage};
use civitas_twin::kinds::{DetectedBy, DeviceKind};
use civitas_twin::model::DeviceStatus;
use civitas_twin::rng::{self, EntityRng};
use civitas_twin::time::{SimTime, YEAR, hours, secs};
use serde::{Deserialize, Serialize};

/// A hosted device.
#[derive(Serialize, Deserialize)]
pub(super) struct DeviceState {
    pub(super) id: u32,
    pub(super) kind: DeviceKind,
    pub(super) status: DeviceStatus,
    pub(super) rng: EntityRng,
    pub(super) heartbeat_phase: SimTime,
    pub(super) failed_at: SimTime,
    /// When its service life ends.
    pub(super) worn_out_at: SimTime,
    pub(super) tally: DeviceTally,
    pub(super) marketable: bool,
    /// Start of the stretch being tallied for this year.
    pub(super) mark: SimTime,
    pub(super) working_secs: u64,
    pub(super) used_secs: u64,
}

impl BuildingHost {
    pub(super) fn schedule_failure(&mut self, dev: u32, now: SimTime) {
        let d = &mut self.devices[dev as usize];
        let f = self.context.params.devices[&d.kind].failures_per_year;
        if f > 0.0 {
            let wait = rng::exp(&mut d.rng, YEAR as f64 / f);
            self.timers.push(now + secs(wait).max(1), Timer::Fail(dev));
        }
    }

    /// The device installed (or replaced) at `now` wears out a service life later.
    pub(super) fn schedule_wear_out(&mut self, dev: u32, now: SimTime) {
        let life = self.context.params.economy.platform.device_life_years as SimTime * YEAR;
        let d = &mut self.devices[dev as usize];
        d.worn_out_at = now + life;
        self.timers.push(d.worn_out_at, Timer::WearOut(dev));
    }

    /// A device reaches the end of its life: it breaks if it works (a broken one stays
    /// broken; whoever repairs it will have to replace it).
    pub(super) fn wear_out(&mut self, ctx: &mut Ctx<'_>, dev: u32) {
        if ctx.now >= self.devices[dev as usize].worn_out_at {
            self.fail(ctx, dev);
        }
    }

    pub(super) fn schedule_false_alarm(&mut self, dev: u32, now: SimTime) {
        let d = &mut self.devices[dev as usize];
        let p = &self.context.params.devices[&d.kind];
        if p.false_alarms_per_year > 0.0 && !p.detects.is_empty() {
            let wait = rng::exp(&mut d.rng, YEAR as f64 / p.false_alarms_per_year);
            self.timers
                .push(now + secs(wait).max(1), Timer::FalseAlarm(dev));
        }
    }

    /// The first heartbeat of a device after `after`.
    fn next_heartbeat(&self, dev: u32, after: SimTime) -> SimTime {
        let d = &self.devices[dev as usize];
        let hb = hours(self.context.params.devices[&d.kind].heartbeat_hours).max(1);
        let phase = d.heartbeat_phase;
        if after < phase {
            phase
        } else {
            phase + ((after - phase) / hb + 1) * hb
        }
    }

    /// A device breaks; it is missed at its next heartbeat.
    pub(super) fn fail(&mut self, ctx: &mut Ctx<'_>, dev: u32) {
        self.settle_device(dev, ctx.now);
        let d = &mut self.devices[dev as usize];
        if d.status == DeviceStatus::Working {
            d.status = DeviceStatus::Failed;
            d.failed_at = ctx.now;
            d.tally.failures += 1;
            let (id, kind) = (d.id, d.kind);
            self.device_event(ctx, id, kind, Seen::Failed);
            let at = self.next_heartbeat(dev, ctx.now);
            self.timers.push(at, Timer::Offline(dev));
        }
    }

    /// A broken device misses its heartbeat: the platform hears it is offline.
    pub(super) fn offline(&mut self, ctx: &mut Ctx<'_>, dev: u32) {
        let d = &mut self.devices[dev as usize];
        if d.status == DeviceStatus::Failed {
            d.status = DeviceStatus::Offline;
            let (device, kind) = (d.id, d.kind);
            self.device_event(ctx, device, kind, Seen::Offline);
            ctx.send(self.platform, 0, Payload::DeviceOffline { device, kind });
        }
    }

    /// The platform's crew repaired `device` (its id in the community), or `replaced` it
    /// with a new one. A repair that lands after the device's life ended (the crew left
    /// before it did) wears it out again at once.
    pub(super) fn repaired(&mut self, ctx: &mut Ctx<'_>, device: u32, replaced: bool) {
        if let Some(&local) = self.device_index.get(&device) {
            self.settle_device(local, ctx.now);
            let d = &mut self.devices[local as usize];
            if d.status != DeviceStatus::Working {
                d.status = DeviceStatus::Working;
                d.tally.repairs += 1;
                d.tally.downtime_secs += ctx.now - d.failed_at;
                let (kind, worn) = (d.kind, ctx.now >= d.worn_out_at);
                self.device_event(ctx, device, kind, Seen::Working);
                self.schedule_failure(local, ctx.now);
                if replaced {
                    self.schedule_wear_out(local, ctx.now);
                } else if worn {
                    self.timers.push(ctx.now + 1, Timer::WearOut(local));
                }
            }
        }
    }

    /// A device raises a false alarm, if it works and the platform hears it.
    pub(super) fn false_alarm(&mut self, ctx: &mut Ctx<'_>, dev: u32) {
        // A stopped platform hears no alarms, real or false.
        let working =
            self.devices[dev as usize].status == DeviceStatus::Working && self.platform_operating;
        let kind = self.devices[dev as usize].kind;
        if working {
            let detects = self.context.params.devices[&kind].detects.clone();
            if let Some(&k) = detects.first() {
                let id = self.new_id(ctx.me());
                let mut rec =
                    IncidentRecord::new(id, k, self.context.params.incident(k).severity, ctx.now);
                rec.false_alarm = true;
                rec.community = self.community;
                rec.building = self.building;
                rec.detected = Some(ctx.now);
                rec.detected_by = Some(DetectedBy::Device);
                rec.device = Some(kind);
                self.devices[dev as usize].tally.false_alarms += 1;
                let device = self.devices[dev as usize].id;
                self.device_event(ctx, device, kind, Seen::Alarm);
                ctx.journal.incident(ctx.now, &rec, Stage::Created);
                ctx.journal.incident(
                    ctx.now,
                    &rec,
                    Stage::Detected {
                        by: DetectedBy::Device,
                    },
                );
                ctx.send(self.platform, 0, Payload::Detected(Box::new(rec)));
            }
        }
        self.schedule_false_alarm(dev, ctx.now);
    }

    /// Records a device's new state in the window's events.
    fn device_event(&self, ctx: &mut Ctx<'_>, device: u32, kind: DeviceKind, state: Seen) {
        let (c, b) = (self.community, self.building);
        ctx.journal.device(ctx.now, c, b, device, kind, state);
    }

    /// Adds the time since a device's mark to its tallies.
    pub(super) fn settle_device(&mut self, dev: u32, now: SimTime) {
        let operating = self.platform_operating;
        let d = &mut self.devices[dev as usize];
        let span = now.saturating_sub(d.mark);
        if d.status == DeviceStatus::Working {
            d.working_secs += span;
            if operating {
                d.used_secs += span;
            }
        }
        d.mark = now;
    }

    /// Adds the time since each device's mark to its tallies.
    pub(super) fn settle_devices(&mut self, now: SimTime) {
        for i in 0..self.devices.len() as u32 {
            self.settle_device(i, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::agents::testing::{WINDOW, assembly, envelope, run};
    use crate::agents::{Agent, building::Timer};
    use crate::message::{ActorId, Payload};
    use crate::timers::Timers;
    use civitas_twin::kinds::EstateAge;
    use civitas_twin::model::DeviceStatus;
    use civitas_twin::params::Parameters;
    use civitas_twin::time::hours;

    #[test]
    fn a_failed_device_is_missed_at_its_next_heartbeat_and_works_again_when_the_platform_repairs_it()
     {
        let p = Parameters::default();
        let (mut host, mut platform) = (None, None);
        for (i, a) in assembly(60, EstateAge::New, &p)
            .agents
            .into_iter()
            .enumerate()
        {
            match a {
                Agent::Building(b) if host.is_none() && !b.devices.is_empty() => {
                    host = Some((ActorId(i as u32), b))
                }
                Agent::Platform(pl) => platform = Some((ActorId(i as u32), pl)),
                _ => {}
            }
        }
        let ((host_id, mut host), (platform_id, mut platform)) = (
            host.expect("a building with devices"),
            platform.expect("a platform"),
        );
        // Only this device's life: it breaks at t = 1000 s; its heartbeats are at
        // 600 s + k · heartbeat.
        host.timers = Timers::default();
        host.devices[0].heartbeat_phase = 600;
        host.timers.push(1_000, Timer::Fail(0));
        let (device, kind) = (host.devices[0].id, host.devices[0].kind);
        let heartbeat = hours(p.device(kind).heartbeat_hours).max(1);
        assert!(heartbeat > 400);
        let missed = 600 + heartbeat;

        let out = run(host.as_mut(), host_id, Vec::new(), 0, missed);
        assert_eq!(host.devices[0].status, DeviceStatus::Failed);
        assert!(out.out.is_empty(), "not noticed before its heartbeat");
        let out = run(host.as_mut(), host_id, Vec::new(), missed, missed + WINDOW);
        assert_eq!(host.devices[0].status, DeviceStatus::Offline);
        let offline = envelope(
            missed - missed % WINDOW + WINDOW,
            host_id,
            1,
            platform_id,
            Payload::DeviceOffline { device, kind },
        );
        assert_eq!(out.out.len(), 1);
        assert_eq!(
            (out.out[0].at, out.out[0].dst, &out.out[0].payload),
            (offline.at, offline.dst, &offline.payload)
        );

        // The platform sends a crew (its investor maintains it this year).
        let at = offline.at;
        let out = run(
            platform.as_mut(),
            platform_id,
            vec![offline],
            at,
            at + WINDOW,
        );
        let repairs: Vec<_> = out
            .out
            .into_iter()
            .filter(|e| matches!(e.payload, Payload::DeviceRepaired { .. }))
            .collect();
        assert_eq!(repairs.len(), 1);
        let repair = &repairs[0];
        assert_eq!(
            (repair.dst, &repair.payload),
            (
                host_id,
                &Payload::DeviceRepaired {
                    device,
                    replaced: false
                }
            )
        );
        assert!(repair.at > at);

        let back = repair.at;
        run(host.as_mut(), host_id, repairs, back, back + WINDOW);
        let d = &host.devices[0];
        assert_eq!(d.status, DeviceStatus::Working);
        assert_eq!((d.tally.failures, d.tally.repairs), (1, 1));
        assert_eq!(d.tally.downtime_secs, back - 1_000);
        assert!(
            host.timers.next_at().is_some_and(|t| t > back),
            "its next failure is scheduled"
        );
    }
}
