//! What the outside world tells a building: injected incidents and device telemetry
//! (see [`crate::inject`]). The engine has checked that the household or device is
//! hosted here.

use super::{BuildingHost, Source};
use crate::agents::Ctx;
use crate::incident::IncidentRecord;
use crate::inject::Inject;
use crate::message::Payload;
use crate::observe::{DeviceState as Seen, Stage};
use civitas_twin::kinds::{DetectedBy, IncidentKind};
use civitas_twin::model::DeviceStatus;
use civitas_twin::vocab::action::Refusal;

impl BuildingHost {
    /// Handles one accepted inject.
    pub(super) fn injected(&mut self, ctx: &mut Ctx<'_>, inject: Inject) {
        match inject {
            Inject::Incident { kind, household } => {
                let local = household
                    .and_then(|h| h.checked_sub(self.hh_base))
                    .filter(|&h| (h as usize) < self.households.len());
                let src = local.map_or(Source::Building, Source::Household);
                self.raise(ctx, src, kind);
            }
            Inject::Device { device, state } => {
                let Some(&local) = self.device_index.get(&device) else {
                    return self.not_here(ctx, device);
                };
                match state {
                    Seen::Failed => self.fail(ctx, local),
                    Seen::Offline => {
                        if self.devices[local as usize].status == DeviceStatus::Working {
                            self.fail(ctx, local);
                        }
                        self.offline(ctx, local);
                    }
                    Seen::Working => self.repaired(ctx, device, false),
                    Seen::Alarm => self.alarm(ctx, local, None),
                }
            }
            Inject::Alarm { device, kind } => match self.device_index.get(&device) {
                Some(&local) => self.alarm(ctx, local, Some(kind)),
                None => self.not_here(ctx, device),
            },
            Inject::CommandOutcome {
                command,
                device,
                outcome,
            } => self.command_answered(ctx, command, device, outcome),
            // The engine sends actions to organisations only.
            Inject::Act { incident, .. } => {
                let to = format!("building {} of community {}", self.building, self.community);
                let reason = Refusal::WrongDestination {
                    what: "an action on an incident".into(),
                    to,
                };
                ctx.refuse(Some(incident), reason);
            }
        }
    }

    /// Telemetry of a device this building does not host (the engine routes by its
    /// directory, so this is a wiring fault): refused, never silent.
    fn not_here(&mut self, ctx: &mut Ctx<'_>, device: u32) {
        let to = format!("building {} of community {}", self.building, self.community);
        let what = format!("device {device}'s telemetry");
        ctx.refuse(None, Refusal::WrongDestination { what, to });
    }

    /// A device reports an alarm: an incident of `what` kind (by default the first kind
    /// it detects), known at once through the device if the platform operates and hears
    /// it.
    fn alarm(&mut self, ctx: &mut Ctx<'_>, dev: u32, what: Option<IncidentKind>) {
        let (device, kind) = (
            self.devices[dev as usize].id,
            self.devices[dev as usize].kind,
        );
        let first = self.context.params.devices[&kind].detects.first().copied();
        let Some(k) = what.or(first) else {
            return;
        };
        let (c, b) = (self.community, self.building);
        ctx.journal.device(ctx.now, c, b, device, kind, Seen::Alarm);
        let id = self.new_id(ctx.me());
        let mut rec = IncidentRecord::new(id, k, self.context.params.incident(k).severity, ctx.now);
        rec.community = c;
        rec.building = b;
        rec.device = Some(kind);
        ctx.journal.incident(ctx.now, &rec, Stage::Created);
        let heard =
            self.devices[dev as usize].status == DeviceStatus::Working && self.platform_operating;
        if heard {
            rec.detected = Some(ctx.now);
            rec.detected_by = Some(DetectedBy::Device);
            let by = DetectedBy::Device;
            ctx.journal.incident(ctx.now, &rec, Stage::Detected { by });
            ctx.send(self.platform, 0, Payload::Detected(Box::new(rec)));
        } else {
            self.pending.insert(id, rec);
        }
    }
}
