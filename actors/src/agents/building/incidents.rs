//! Incidents: every hosted resident, household, the building and its site points are
//! incident sources — Poisson processes whose rates follow from who they are (a
//! resident's age and whether they live alone, a building's lifts and basement, the
//! estate's age). When an incident happens the host works out when and how it becomes
//! known — the earliest of a working device that covers the place and catches it, a
//! resident who notices and reports through their channel, a grid patrol, or, for a
//! victim living alone, being found — and tells the platform then. Outcomes of closed
//! incidents move residents' satisfaction.

use super::{BuildingHost, ResidentState, Source, Timer};
use crate::agents::Ctx;
use crate::incident::IncidentRecord;
use crate::message::{ActorId, Payload};
use crate::observe::Stage;
use civitas_twin::kinds::{DetectedBy, DeviceKind, IncidentKind, RateBasis, Scope};
use civitas_twin::model::DeviceStatus;
use civitas_twin::rng::{self, EntityRng};
use civitas_twin::time::{HOUR, MINUTE, SimTime, YEAR, hours, secs};
use rand::Rng;

/// Number of incident kinds (the size of a source's rate table).
const KINDS: usize = IncidentKind::ALL.len();

impl Source {
    /// The scope of the source: which rate bases apply to it ([`RateBasis::scope`]).
    pub(super) fn scope(self) -> Scope {
        match self {
            Source::Resident(_) => Scope::Resident,
            Source::Household(_) => Scope::Household,
            Source::Building => Scope::Building,
            Source::Site(_) => Scope::Site,
        }
    }
}

impl BuildingHost {
    /// Incident rates (per year) of a source, by kind, in kind order. Only kinds whose
    /// basis belongs to the source's scope can arise from it.
    pub(super) fn rates(&self, src: Source) -> ([(IncidentKind, f64); KINDS], usize) {
        let mut out = [(IncidentKind::Fire, 0.0); KINDS];
        let mut n = 0;
        let resident = match src {
            // Residents under 60 are the source of nothing (most residents: return early).
            Source::Resident(i) if self.residents[i as usize].age < 60 => return (out, 0),
            Source::Resident(i) => Some(&self.residents[i as usize]),
            Source::Household(_) | Source::Building | Source::Site(_) => None,
        };
        let scope = src.scope();
        for (&kind, p) in &self.context.params.incidents {
            if p.basis.scope() != scope {
                continue;
            }
            let alone = |r: &ResidentState| {
                if r.lives_alone {
                    p.living_alone_factor
                } else {
                    1.0
                }
            };
            let base = match p.basis {
                RateBasis::Elderly => resident.map_or(0.0, |r| {
                    let rate = match (r.age, p.rate_older) {
                        (0..=59, _) => 0.0,
                        (60..=69, _) | (_, None) => p.rate,
                        (70..=79, Some([a, _])) => a,
                        (_, Some([_, b])) => b,
                    };
                    rate * alone(r)
                }),
                RateBasis::Elderly80 => {
                    resident.map_or(0.0, |r| if r.age >= 80 { p.rate * alone(r) } else { 0.0 })
                }
                RateBasis::Household | RateBasis::Building => p.rate,
                RateBasis::Lift => p.rate * self.lifts as f64,
                RateBasis::Basement => {
                    if self.basement {
                        p.rate
                    } else {
                        0.0
                    }
                }
                RateBasis::Site => p.rate * self.site_rate_scale,
            };
            let rate = base * if self.old { p.old_factor } else { 1.0 };
            if rate > 0.0 {
                out[n] = (kind, rate);
                n += 1;
            }
        }
        (out, n)
    }

    fn source_rng(&mut self, src: Source) -> &mut EntityRng {
        match src {
            Source::Resident(i) => &mut self.residents[i as usize].rng,
            Source::Household(i) => &mut self.households[i as usize].rng,
            Source::Building => &mut self.building_rng,
            Source::Site(i) => &mut self.sites[i as usize].rng,
        }
    }

    pub(super) fn schedule_arrival(&mut self, src: Source, now: SimTime) {
        let (rates, n) = self.rates(src);
        let total: f64 = rates[..n].iter().map(|r| r.1).sum();
        self.schedule_arrival_at(src, now, total);
    }

    /// Schedules the source's next arrival given its total rate per year.
    fn schedule_arrival_at(&mut self, src: Source, now: SimTime, total: f64) {
        if total <= 0.0 {
            return;
        }
        let wait = rng::exp(self.source_rng(src), YEAR as f64 / total);
        self.timers
            .push(now + secs(wait).max(1), Timer::Arrival(src));
    }

    pub(super) fn new_id(&mut self, me: ActorId) -> u64 {
        self.next_incident += 1;
        ((me.0 as u64) << 40) | self.next_incident
    }

    pub(super) fn arrival(&mut self, ctx: &mut Ctx<'_>, src: Source) {
        let (rates, n) = self.rates(src);
        let total: f64 = rates[..n].iter().map(|r| r.1).sum();
        let mut pick = self.source_rng(src).random::<f64>() * total;
        let mut kind = rates[n.saturating_sub(1)].0;
        for &(k, r) in &rates[..n] {
            if pick < r {
                kind = k;
                break;
            }
            pick -= r;
        }
        self.raise(ctx, src, kind);
        // Raising an incident changes nothing the rates read (age, living alone).
        self.schedule_arrival_at(src, ctx.now, total);
    }

    /// Creates an incident and works out when and how it becomes known.
    pub(super) fn raise(&mut self, ctx: &mut Ctx<'_>, src: Source, kind: IncidentKind) {
        let now = ctx.now;
        let p = self.context.params.incident(kind).clone();
        let id = self.new_id(ctx.me());
        let mut rec = IncidentRecord::new(id, kind, p.severity, now);
        rec.community = self.community;
        rec.building = self.building;
        // Who is concerned, and which devices watch the place.
        let (victim, household) = match src {
            Source::Resident(i) => (
                Some(i),
                Some(self.residents[i as usize].household - self.hh_base),
            ),
            Source::Household(h) => (None, Some(h)),
            Source::Building | Source::Site(_) => (None, None),
        };
        if let Some(v) = victim {
            rec.resident = Some(self.residents[v as usize].id);
            rec.elderly = self.residents[v as usize].age >= 60;
        }
        if let Some(h) = household {
            let hh = &self.households[h as usize];
            rec.household = Some(hh.id);
            rec.elderly |= hh.elderly;
        }
        let mut watchers: Vec<u32> = Vec::new();
        match src {
            Source::Resident(i) => {
                let r = &self.residents[i as usize];
                watchers.extend(self.cover_resident.get(&r.id).into_iter().flatten());
                watchers.extend(self.cover_household.get(&r.household).into_iter().flatten());
            }
            // A home is also watched by its building's entrance and stairwell devices.
            Source::Household(h) => {
                let id = self.households[h as usize].id;
                watchers.extend(self.cover_household.get(&id).into_iter().flatten());
                watchers.extend(&self.cover_building);
            }
            Source::Building => watchers.extend(&self.cover_building),
            // A site point lies beside its host building, whose cameras and entrance
            // devices see it too.
            Source::Site(s) => {
                let id = self.sites[s as usize].id;
                watchers.extend(self.cover_site.get(&id).into_iter().flatten());
                watchers.extend(&self.cover_building);
            }
        }
        let mut best: Option<(SimTime, DetectedBy, Option<DeviceKind>)> = None;
        let mut consider = |t: SimTime, by: DetectedBy, dev: Option<DeviceKind>| {
            if best.is_none_or(|(bt, _, _)| t < bt) {
                best = Some((t, by, dev));
            }
        };
        // Devices: each working watcher of a detecting kind catches it with its chance.
        for w in watchers {
            let d = &mut self.devices[w as usize];
            let dp = &self.context.params.devices[&d.kind];
            if d.status == DeviceStatus::Working
                && self.platform_operating
                && dp.detects.contains(&kind)
                && rng::chance(&mut d.rng, dp.detect_prob)
            {
                let lat = secs(rng::exp(&mut d.rng, dp.latency_secs));
                consider(now + lat, DetectedBy::Device, Some(d.kind));
            }
        }
        // People.
        let notice = |rng: &mut EntityRng, h: f64| secs(rng::exp(rng, h * HOUR as f64));
        match (src, victim) {
            (Source::Resident(i), Some(_)) => {
                let r = &self.residents[i as usize];
                let can_call = !r.impaired_mobility && p.victim_can_call > 0.0;
                let (lives_alone, hh) = (r.lives_alone, r.household - self.hh_base);
                let rr = &mut self.residents[i as usize];
                if can_call && rng::chance(&mut rr.rng, p.victim_can_call) {
                    let t = now + notice(&mut rr.rng, p.notice_hours);
                    if let Some((delay, by)) = self.channel(i) {
                        consider(t + delay, by, None);
                    }
                } else if !lives_alone {
                    // Someone at home finds them and reports.
                    let t = now + notice(&mut self.residents[i as usize].rng, p.notice_hours);
                    if let Some(other) = self.pick_reporter(Source::Household(hh), Some(i))
                        && let Some((delay, by)) = self.channel(other)
                    {
                        consider(t + delay, by, None);
                    }
                } else {
                    let t = now + notice(&mut self.residents[i as usize].rng, p.found_alone_hours);
                    consider(t, DetectedBy::Found, None);
                }
            }
            _ => {
                let t = now + notice(self.source_rng(src), p.notice_hours);
                if let Some(reporter) = self.pick_reporter(src, None)
                    && let Some((delay, by)) = self.channel(reporter)
                {
                    consider(t + delay, by, None);
                }
            }
        }
        // Patrols pass the building once per interval and may notice.
        let interval = hours(self.context.params.patrol.interval_hours);
        if p.patrol_detect > 0.0 && interval > 0 && victim.is_none() && household.is_none() {
            let phase = self.patrol_phase % interval;
            let mut t = if now < phase {
                phase
            } else {
                phase + ((now - phase) / interval + 1) * interval
            };
            let rng = self.source_rng(src);
            let mut found = false;
            for _ in 0..1000 {
                if rng::chance(rng, p.patrol_detect) {
                    found = true;
                    break;
                }
                t += interval;
            }
            if found {
                consider(t, DetectedBy::Patrol, None);
            }
        }
        if let Some((t, by, dev)) = best {
            rec.detected = Some(t);
            rec.detected_by = Some(by);
            rec.device = dev;
            self.timers.push(t, Timer::Detect(id));
        }
        ctx.journal.incident(now, &rec, Stage::Created);
        self.pending.insert(id, rec);
    }

    /// A resident aged 10+, other than `except`: from the household for a household
    /// incident (a neighbour if nobody at home can report), else from the building.
    fn pick_reporter(&mut self, src: Source, except: Option<u32>) -> Option<u32> {
        let able = |s: &Self, i: u32| Some(i) != except && s.residents[i as usize].age >= 10;
        let mut eligible: Vec<u32> = match src {
            Source::Household(h) => {
                let r = self.households[h as usize].residents.clone();
                (r.start - self.res_base..r.end - self.res_base)
                    .filter(|&i| able(self, i))
                    .collect()
            }
            _ => Vec::new(),
        };
        if eligible.is_empty() {
            eligible = (0..self.residents.len() as u32)
                .filter(|&i| able(self, i))
                .collect();
        }
        if eligible.is_empty() {
            return None;
        }
        let k = self.source_rng(src).random_range(0..eligible.len());
        Some(eligible[k])
    }

    /// The channel a resident uses and how long the report takes to reach the platform.
    fn channel(&mut self, i: u32) -> Option<(SimTime, DetectedBy)> {
        let ch = &self.context.params.channels;
        let r = &mut self.residents[i as usize];
        let by = if ch.app && r.uses_app && self.platform_operating {
            DetectedBy::App
        } else {
            let prefers_phone = rng::chance(&mut r.rng, ch.phone_share_of_non_app);
            match (ch.phone, ch.hotline) {
                (true, true) if prefers_phone => DetectedBy::Phone,
                (_, true) => DetectedBy::Hotline,
                (true, false) => DetectedBy::Phone,
                (false, false) => return None,
            }
        };
        let mean = match by {
            DetectedBy::App => ch.app_delay_mins,
            DetectedBy::Phone => ch.phone_delay_mins,
            _ => ch.hotline_delay_mins,
        };
        Some((secs(rng::exp(&mut r.rng, mean * MINUTE as f64)), by))
    }

    pub(super) fn detect(&mut self, ctx: &mut Ctx<'_>, id: u64) {
        if let Some(rec) = self.pending.remove(&id) {
            if let Some(by) = rec.detected_by {
                ctx.journal.incident(ctx.now, &rec, Stage::Detected { by });
            }
            ctx.send(self.platform, 0, Payload::Detected(Box::new(rec)));
        }
    }

    /// How a closed incident ended moves satisfaction: fully for its household, by the
    /// neighbour weight for everyone else in the building.
    pub(super) fn outcome(&mut self, household: Option<u32>, score: f32) {
        let lr = self.context.params.satisfaction.learning_rate as f32;
        let nw = lr * self.context.params.satisfaction.neighbour_weight as f32;
        for r in &mut self.residents {
            let w = if Some(r.household) == household {
                lr
            } else {
                nw
            };
            r.satisfaction += w * (score - r.satisfaction);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Source;
    use crate::agents::Agent;
    use crate::agents::testing::assembly;
    use civitas_twin::kinds::{EstateAge, IncidentKind};
    use civitas_twin::params::Parameters;
    use std::collections::BTreeSet;

    #[test]
    fn every_incident_kind_arises_at_a_positive_rate_from_a_source_of_its_basis() {
        let p = Parameters::default();
        let mut arising = BTreeSet::new();
        for a in assembly(3000, EstateAge::New, &p).agents {
            let Agent::Building(host) = a else { continue };
            let sources = (0..host.residents.len() as u32)
                .map(Source::Resident)
                .chain((0..host.households.len() as u32).map(Source::Household))
                .chain([Source::Building])
                .chain((0..host.sites.len() as u32).map(Source::Site));
            for src in sources {
                let (rates, n) = host.rates(src);
                for &(kind, rate) in &rates[..n] {
                    assert!(rate > 0.0);
                    assert_eq!(
                        p.incident(kind).basis.scope(),
                        src.scope(),
                        "{kind} from {src:?}"
                    );
                    arising.insert(kind);
                }
            }
        }
        // Every kind but `command_failed`, which arises only from a command's outcome.
        let all: BTreeSet<IncidentKind> = (IncidentKind::ALL.iter().copied())
            .filter(|&k| k != IncidentKind::CommandFailed)
            .collect();
        assert_eq!(arising, all);
        assert_eq!(p.incident(IncidentKind::CommandFailed).rate, 0.0);
    }
}
