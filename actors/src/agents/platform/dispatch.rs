//! Incidents and repairs: the platform dispatches every detection to the micro-loop
//! organization that handles its kind, sends a repair crew to a device that stopped
//! reporting if its investor maintains it this year (else keeps it waiting), and under a
//! regulator removes devices that stood broken a whole year. An incident that calls for
//! it commands its building's safety devices (a fire releases the doors, a basement flood
//! starts the pump; `agents::building::commands` carries the command out).

use super::Platform;
use crate::agents::Ctx;
use crate::incident::IncidentRecord;
use crate::ledger::{Account, Purpose};
use crate::message::{ActorId, Payload};
use crate::observe::{Event, Stage};
use civitas_twin::economy::cents;
use civitas_twin::kinds::{CommandAction, Party};
use civitas_twin::rng;
use civitas_twin::time::{SimTime, YEAR, hours};

impl Platform {
    /// Sends a detection to the micro-loop organization that handles its kind.
    pub(super) fn dispatch(&mut self, ctx: &mut Ctx<'_>, rec: Box<IncidentRecord>) {
        let handler = self.context.params.incident(rec.kind).handler;
        let dst = self.context.addresses.communities[self.community as usize].handler(handler);
        let latency = self.context.params.engine.dispatch_latency_secs;
        let arrives = ctx.arrival(latency);
        let stage = Stage::Dispatched {
            to: handler,
            arrives,
        };
        ctx.journal.incident(ctx.now, &rec, stage);
        if let Some(action) = CommandAction::for_incident(rec.kind) {
            self.command(ctx, &rec, action);
        }
        ctx.send(dst, latency, Payload::Assign(rec));
    }

    /// The incident `rec` calls for `action` at its building: a command to every device
    /// of the kind that carries it out there, if the platform operates (a stopped
    /// platform commands nothing) and commands are sent at all (`commands.send`).
    fn command(&mut self, ctx: &mut Ctx<'_>, rec: &IncidentRecord, action: CommandAction) {
        if !self.operating || !self.context.params.commands.send {
            return;
        }
        let kind = action.device();
        let targets: Vec<u32> = (self.devices.iter())
            .filter(|(_, d)| d.kind == kind && d.building == rec.building)
            .map(|(&id, _)| id)
            .collect();
        let host = self.context.addresses.communities[self.community as usize].buildings
            [rec.building as usize];
        for device in targets {
            self.commands_sent += 1;
            let id = ((ctx.me().0 as u64) << 40) | self.commands_sent;
            ctx.journal.events.push(Event::Command {
                at: ctx.now,
                id,
                community: self.community,
                building: rec.building,
                device,
                action,
                incident: rec.id,
            });
            ctx.send(host, 0, Payload::Command { id, device, action });
        }
    }

    /// A device of building host `host` missed its heartbeat.
    pub(super) fn on_offline(&mut self, ctx: &mut Ctx<'_>, device: u32, host: ActorId) {
        if self.is_maintained(device) {
            self.send_repair(ctx, device, host);
        } else {
            self.unrepaired.insert(device, (host, ctx.now));
        }
    }

    /// Whether device `id` is among the maintained share of its investor's devices.
    pub(super) fn is_maintained(&self, id: u32) -> bool {
        let Some(d) = self.devices.get(&id) else {
            return false;
        };
        let share = self.maintained.get(&d.investor).copied().unwrap_or(1.0);
        // A fixed, seed-independent ranking decides which devices keep their O&M.
        (rng::mix64(id as u64 ^ 0x5eed) % 10_000) < (share * 10_000.0).round() as u64
    }

    pub(super) fn repair_backlog(&mut self, ctx: &mut Ctx<'_>) {
        let ready: Vec<u32> = self
            .unrepaired
            .keys()
            .copied()
            .filter(|&d| self.is_maintained(d))
            .collect();
        for d in ready {
            if let Some((host, _)) = self.unrepaired.remove(&d) {
                self.send_repair(ctx, d, host);
            }
        }
    }

    /// Sends a crew to `device`: a repair, or — past the end of its service life — a
    /// replacement its owner pays for ([`Platform::replace`]); a device its owner will
    /// not replace is retired and stays broken.
    pub(super) fn send_repair(&mut self, ctx: &mut Ctx<'_>, device: u32, host: ActorId) {
        let Some(info) = self.devices.get(&device) else {
            return;
        };
        let kind = info.kind;
        let life = self.context.params.economy.platform.device_life_years as SimTime * YEAR;
        let replaced = ctx.now.saturating_sub(info.installed) >= life;
        if replaced && !self.replace(ctx, device) {
            self.retire(device);
            return;
        }
        let delay = hours(rng::exp(
            &mut self.rng,
            self.context.params.device(kind).repair_hours,
        ));
        ctx.send(host, delay, Payload::DeviceRepaired { device, replaced });
    }

    /// The owner of a worn-out device buys a new one, if it will: the government from a
    /// capital budget, as it built the first; the property firm from property fees; the
    /// operator and an enterprise from their own cash, only if they have it (an operator
    /// only while solvent). Returns whether it did.
    pub(super) fn replace(&mut self, ctx: &mut Ctx<'_>, device: u32) -> bool {
        let Some(info) = self.devices.get(&device).copied() else {
            return false;
        };
        let capex = cents(self.context.params.economy.device_costs[&info.kind].capex);
        let now = ctx.now;
        let acct = self.acct(info.investor);
        match info.investor {
            Party::Government => self.borrow_for_construction(ctx, capex),
            Party::PropertyFirm => {
                ctx.journal
                    .pay(now, Account::Outside, acct, capex, Purpose::PropertyFees)
            }
            Party::Operator if self.operator_solvent && self.operator_cash >= capex => {
                self.operator_cash -= capex
            }
            Party::Enterprise if self.device_business_cash >= capex => {
                self.device_business_cash -= capex
            }
            Party::Operator | Party::Enterprise => return false,
        }
        ctx.journal.pay(
            now,
            acct,
            Account::Suppliers,
            capex,
            Purpose::DeviceCapex(info.kind),
        );
        if let Some(d) = self.devices.get_mut(&device) {
            d.installed = now;
        }
        true
    }

    /// Takes a worn-out device nobody replaces out of service for good: nobody owes its
    /// O&M any more, and it counts against coverage.
    fn retire(&mut self, device: u32) {
        if let Some(info) = self.devices.remove(&device) {
            if let Some(n) = self.device_counts.get_mut(&info.kind) {
                *n = n.saturating_sub(1);
            }
            self.retired += 1;
        }
    }

    /// Survival of the fittest (source 003): where a regulator evaluates, facilities
    /// that stood broken and unused for a whole year are removed, and nobody owes their
    /// O&M any more.
    pub(super) fn decommission_stale(&mut self, now: SimTime) {
        let stale: Vec<u32> = self
            .unrepaired
            .iter()
            .filter(|(_, (_, since))| now.saturating_sub(*since) >= YEAR)
            .map(|(d, _)| *d)
            .collect();
        for d in stale {
            self.unrepaired.remove(&d);
            if let Some(info) = self.devices.remove(&d) {
                if let Some(n) = self.device_counts.get_mut(&info.kind) {
                    *n = n.saturating_sub(1);
                }
                self.decommissioned += 1;
            }
        }
    }
}
