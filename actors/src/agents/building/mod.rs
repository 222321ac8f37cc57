//! A building host: one actor hosting the building's residents, households, devices, the
//! building itself and any site points near it.
//!
//! Hosted entities keep actor semantics — private state, their own random stream, and
//! messages in and out — but share one ractor actor, because a ractor actor costs about
//! 8 KB and a message about a microsecond (see docs/ARCHITECTURE.md). Each entity is an
//! incident source: a Poisson process whose rate follows from who it is (a resident's
//! age and whether they live alone, a building's lifts and basement, the estate's age).
//! An incident is detected by the earliest of: a working device that covers the place
//! and catches it; a resident who notices it and reports through the channel they use;
//! a grid patrol; or, for a victim living alone, being found. Devices fail, are noticed
//! at their next missed heartbeat, and come back when the platform's crew repairs them.

use super::{Behaviour, Ctx, DeviceTally, Final};
use crate::incident::IncidentRecord;
use crate::ledger::{BuildingYear, DeviceYear, YearReport};
use crate::message::{ActorId, Payload};
use crate::message::{Demand, SERVICES};
use crate::timers::Timers;
use civitas_twin::kinds::{DetectedBy, DeviceKind, EstateAge, IncidentKind, RateBasis};
use civitas_twin::kinds::{Region, ServiceKind};
use civitas_twin::model::{Community, DeviceStatus, Place, site_host};
use civitas_twin::params::Parameters;
use civitas_twin::rng::{self, EntityRng, Stream};
use civitas_twin::time::{HOUR, MINUTE, MONTH, SimTime, YEAR, hours, secs};
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

/// An incident source hosted here (indices are local to the building host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A resident.
    Resident(u32),
    /// A household.
    Household(u32),
    /// The building.
    Building,
    /// A site point.
    Site(u32),
}

/// Timer events of a building host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The next incident of a source happens.
    Arrival(Source),
    /// A pending incident becomes known; tell the platform.
    Detect(u64),
    /// A device breaks.
    Fail(u32),
    /// A broken device misses its heartbeat.
    Offline(u32),
    /// A device raises a false alarm.
    FalseAlarm(u32),
    /// Month `m` (1-based) ends: send its service requests; every twelfth, the year's
    /// adoption and report.
    MonthEnd(u32),
}

struct ResidentState {
    id: u32,
    household: u32,
    age: u8,
    lives_alone: bool,
    uses_app: bool,
    impaired_mobility: bool,
    satisfaction: f32,
    rng: EntityRng,
}

struct HouseholdState {
    id: u32,
    residents: std::ops::Range<u32>,
    elderly: bool,
    rng: EntityRng,
}

struct SiteState {
    id: u32,
    rng: EntityRng,
}

struct DeviceState {
    id: u32,
    kind: DeviceKind,
    status: DeviceStatus,
    rng: EntityRng,
    heartbeat_phase: SimTime,
    failed_at: SimTime,
    tally: DeviceTally,
    marketable: bool,
    /// Start of the stretch being tallied for this year.
    mark: SimTime,
    working_secs: u64,
    used_secs: u64,
}

/// One building and everything in it.
pub(crate) struct BuildingHost {
    community: u32,
    building: u32,
    platform: ActorId,
    params: Arc<Parameters>,
    old: bool,
    lifts: u32,
    basement: bool,
    site_rate_scale: f64,
    res_base: u32,
    hh_base: u32,
    residents: Vec<ResidentState>,
    households: Vec<HouseholdState>,
    sites: Vec<SiteState>,
    building_rng: EntityRng,
    devices: Vec<DeviceState>,
    device_index: BTreeMap<u32, u32>,
    cover_resident: BTreeMap<u32, Vec<u32>>,
    cover_household: BTreeMap<u32, Vec<u32>>,
    cover_building: Vec<u32>,
    cover_site: BTreeMap<u32, Vec<u32>>,
    patrol_phase: SimTime,
    pending: BTreeMap<u64, IncidentRecord>,
    outreach: bool,
    platform_operating: bool,
    prices: [f32; SERVICES],
    offered: [bool; SERVICES],
    year_end_due: Option<u32>,
    /// Households that asked for services this month: (household, by app, uses asked).
    asked: Vec<(u32, bool, u32)>,
    region: Region,
    year: BuildingYear,
    next_incident: u64,
    timers: Timers<Timer>,
}

/// Number of incident kinds (the size of a source's rate table).
const KINDS: usize = IncidentKind::ALL.len();

impl BuildingHost {
    /// The host for building `building` of community `c`.
    pub(crate) fn new(
        c: &Community,
        building: u32,
        platform: ActorId,
        params: Arc<Parameters>,
        seed: u64,
        outreach: bool,
        devices_here: &[u32],
    ) -> Self {
        let b = &c.buildings[building as usize];
        let ci = c.index;
        let hh_range = b.households.clone();
        let res_start = c
            .households
            .get(hh_range.start as usize)
            .map_or(0, |h| h.residents.start);
        let res_end = if hh_range.is_empty() {
            res_start
        } else {
            c.households[hh_range.end as usize - 1].residents.end
        };
        let residents: Vec<ResidentState> = (res_start..res_end)
            .map(|i| {
                let r = &c.residents[i as usize];
                ResidentState {
                    id: r.id,
                    household: r.household,
                    age: r.age,
                    lives_alone: r.lives_alone,
                    uses_app: r.uses_app,
                    impaired_mobility: r.impaired_mobility,
                    satisfaction: params.satisfaction.initial as f32,
                    rng: rng::stream(seed, ci, Stream::Resident, r.id as u64),
                }
            })
            .collect();
        let households: Vec<HouseholdState> = hh_range
            .clone()
            .map(|h| {
                let hh = &c.households[h as usize];
                HouseholdState {
                    id: hh.id,
                    residents: hh.residents.clone(),
                    elderly: hh
                        .residents
                        .clone()
                        .any(|r| c.residents[r as usize].age >= 60),
                    rng: rng::stream(seed, ci, Stream::Household, h as u64),
                }
            })
            .collect();
        let n_buildings = c.buildings.len() as u32;
        let sites: Vec<SiteState> = (0..c.site_points)
            .filter(|&s| site_host(s, c.site_points, n_buildings) == building)
            .map(|s| SiteState {
                id: s,
                rng: rng::stream(seed, ci, Stream::Site, s as u64),
            })
            .collect();
        let mut host = BuildingHost {
            community: ci,
            building,
            platform,
            old: c.age == EstateAge::Old,
            lifts: b.lifts,
            basement: b.basement,
            site_rate_scale: c.residents.len() as f64 / 1000.0 / c.site_points.max(1) as f64,
            res_base: res_start,
            hh_base: hh_range.start,
            residents,
            households,
            sites,
            building_rng: rng::stream(seed, ci, Stream::Building, building as u64),
            devices: Vec::new(),
            device_index: BTreeMap::new(),
            cover_resident: BTreeMap::new(),
            cover_household: BTreeMap::new(),
            cover_building: Vec::new(),
            cover_site: BTreeMap::new(),
            patrol_phase: 0,
            pending: BTreeMap::new(),
            next_incident: 0,
            timers: Timers::default(),
            outreach,
            platform_operating: true,
            prices: [1.0; SERVICES],
            offered: [true; SERVICES],
            year_end_due: None,
            asked: Vec::new(),
            region: c.region,
            year: BuildingYear {
                community: ci,
                building,
                ..BuildingYear::default()
            },
            params,
        };
        for &id in devices_here {
            let d = &c.devices[id as usize];
            let local = host.devices.len() as u32;
            let mut drng = rng::stream(seed, ci, Stream::Device, d.id as u64);
            let hb = hours(host.params.device(d.kind).heartbeat_hours).max(1);
            let phase = drng.random_range(0..hb);
            host.devices.push(DeviceState {
                id: d.id,
                kind: d.kind,
                status: DeviceStatus::Working,
                rng: drng,
                heartbeat_phase: phase,
                failed_at: 0,
                tally: DeviceTally {
                    count: 1,
                    ..DeviceTally::default()
                },
                marketable: host.params.device(d.kind).marketable,
                mark: 0,
                working_secs: 0,
                used_secs: 0,
            });
            host.device_index.insert(d.id, local);
            match d.place {
                Place::Building(_) => host.cover_building.push(local),
                Place::Household(h) => host.cover_household.entry(h).or_default().push(local),
                Place::Resident(r) => host.cover_resident.entry(r).or_default().push(local),
                Place::Site(s) => host.cover_site.entry(s).or_default().push(local),
            }
        }
        // Patrols pass this building at a fixed time of the day shift.
        let day_start = host.params.staffing.day_start_hour as SimTime * HOUR;
        let day_len = (host.params.staffing.day_end_hour - host.params.staffing.day_start_hour)
            .max(1) as SimTime
            * HOUR;
        host.patrol_phase = day_start + (rng::mix64(building as u64) % day_len);
        host.schedule_all();
        host
    }

    fn schedule_all(&mut self) {
        self.timers.push(MONTH, Timer::MonthEnd(1));
        for i in 0..self.residents.len() as u32 {
            self.schedule_arrival(Source::Resident(i), 0);
        }
        for i in 0..self.households.len() as u32 {
            self.schedule_arrival(Source::Household(i), 0);
        }
        self.schedule_arrival(Source::Building, 0);
        for i in 0..self.sites.len() as u32 {
            self.schedule_arrival(Source::Site(i), 0);
        }
        for i in 0..self.devices.len() as u32 {
            self.schedule_failure(i, 0);
            self.schedule_false_alarm(i, 0);
        }
    }

    /// Incident rates (per year) of a source, by kind, in kind order.
    fn rates(&self, src: Source) -> ([(IncidentKind, f64); KINDS], usize) {
        let mut out = [(IncidentKind::Fire, 0.0); KINDS];
        let mut n = 0;
        // Residents under 60 are the source of nothing (most residents: return early).
        if let Source::Resident(i) = src
            && self.residents[i as usize].age < 60
        {
            return (out, 0);
        }
        for (&kind, p) in &self.params.incidents {
            let base = match (src, p.basis) {
                (Source::Resident(i), RateBasis::Elderly) => {
                    let r = &self.residents[i as usize];
                    let rate = match (r.age, p.rate_older) {
                        (0..=59, _) => 0.0,
                        (60..=69, _) | (_, None) => p.rate,
                        (70..=79, Some([a, _])) => a,
                        (_, Some([_, b])) => b,
                    };
                    rate * if r.lives_alone {
                        p.living_alone_factor
                    } else {
                        1.0
                    }
                }
                (Source::Resident(i), RateBasis::Elderly80) => {
                    let r = &self.residents[i as usize];
                    if r.age >= 80 {
                        p.rate
                            * if r.lives_alone {
                                p.living_alone_factor
                            } else {
                                1.0
                            }
                    } else {
                        0.0
                    }
                }
                (Source::Household(_), RateBasis::Household) => p.rate,
                (Source::Building, RateBasis::Building) => p.rate,
                (Source::Building, RateBasis::Lift) => p.rate * self.lifts as f64,
                (Source::Building, RateBasis::Basement) if self.basement => p.rate,
                (Source::Site(_), RateBasis::Site) => p.rate * self.site_rate_scale,
                _ => 0.0,
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

    fn schedule_arrival(&mut self, src: Source, now: SimTime) {
        let (rates, n) = self.rates(src);
        let total: f64 = rates[..n].iter().map(|r| r.1).sum();
        if total <= 0.0 {
            return;
        }
        let wait = rng::exp(self.source_rng(src), YEAR as f64 / total);
        self.timers
            .push(now + secs(wait).max(1), Timer::Arrival(src));
    }

    fn schedule_failure(&mut self, dev: u32, now: SimTime) {
        let d = &mut self.devices[dev as usize];
        let f = self.params.devices[&d.kind].failures_per_year;
        if f > 0.0 {
            let wait = rng::exp(&mut d.rng, YEAR as f64 / f);
            self.timers.push(now + secs(wait).max(1), Timer::Fail(dev));
        }
    }

    fn schedule_false_alarm(&mut self, dev: u32, now: SimTime) {
        let d = &mut self.devices[dev as usize];
        let p = &self.params.devices[&d.kind];
        if p.false_alarms_per_year > 0.0 && !p.detects.is_empty() {
            let wait = rng::exp(&mut d.rng, YEAR as f64 / p.false_alarms_per_year);
            self.timers
                .push(now + secs(wait).max(1), Timer::FalseAlarm(dev));
        }
    }

    fn new_id(&mut self, me: ActorId) -> u64 {
        self.next_incident += 1;
        ((me.0 as u64) << 40) | self.next_incident
    }

    fn arrival(&mut self, ctx: &mut Ctx<'_>, src: Source) {
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
        self.schedule_arrival(src, ctx.now);
    }

    /// Creates an incident and works out when and how it becomes known.
    fn raise(&mut self, ctx: &mut Ctx<'_>, src: Source, kind: IncidentKind) {
        let now = ctx.now;
        let p = self.params.incident(kind).clone();
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
            let dp = &self.params.devices[&d.kind];
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
        let interval = hours(self.params.patrol.interval_hours);
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
        let ch = &self.params.channels;
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

    fn detect(&mut self, ctx: &mut Ctx<'_>, id: u64) {
        if let Some(rec) = self.pending.remove(&id) {
            ctx.send(self.platform, 0, Payload::Detected(Box::new(rec)));
        }
    }

    fn next_heartbeat(&self, dev: u32, after: SimTime) -> SimTime {
        let d = &self.devices[dev as usize];
        let hb = hours(self.params.devices[&d.kind].heartbeat_hours).max(1);
        let phase = d.heartbeat_phase;
        if after < phase {
            phase
        } else {
            phase + ((after - phase) / hb + 1) * hb
        }
    }

    fn outcome(&mut self, household: Option<u32>, score: f32) {
        let lr = self.params.satisfaction.learning_rate as f32;
        let nw = lr * self.params.satisfaction.neighbour_weight as f32;
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

impl BuildingHost {
    /// Adds the time since a device's mark to its tallies.
    fn settle_device(&mut self, dev: u32, now: SimTime) {
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

    fn settle_devices(&mut self, now: SimTime) {
        for i in 0..self.devices.len() as u32 {
            self.settle_device(i, now);
        }
    }

    /// A month ends: each household's service requests, by channel.
    fn month_end(&mut self, ctx: &mut Ctx<'_>, m: u32) {
        let e = &self.params.economy;
        let income = match self.region {
            Region::Developed => e.residents.income_developed,
            Region::LessDeveloped => e.residents.income_less_developed,
        };
        let income_factor =
            (income / e.residents.income_developed.max(1e-9)).powf(e.residents.income_elasticity);
        let mut demand = Demand::default();
        self.asked.clear();
        for h in 0..self.households.len() {
            let (elderly, members) = {
                let hh = &self.households[h];
                (hh.elderly, hh.residents.len() as f64)
            };
            let range = self.households[h].residents.clone();
            let app = self.platform_operating
                && (range.start..range.end)
                    .any(|r| self.residents[(r - self.res_base) as usize].uses_app);
            let budget = e.residents.max_service_share * income * members;
            let mut counts = [0u32; SERVICES];
            let mut spend = 0.0;
            for (i, k) in ServiceKind::ALL.iter().enumerate() {
                if !self.offered[i] {
                    continue;
                }
                let s = &e.services[k];
                let base = if elderly {
                    s.demand_elderly
                } else {
                    s.demand_young
                };
                let lambda =
                    base * income_factor * (self.prices[i] as f64).powf(-e.market.price_elasticity);
                let n = poisson(&mut self.households[h].rng, lambda);
                counts[i] = n;
                spend += n as f64 * s.price * self.prices[i] as f64;
            }
            if spend > budget && spend > 0.0 {
                let scale = budget / spend;
                for c in &mut counts {
                    *c = (*c as f64 * scale).floor() as u32;
                }
            }
            let total: u32 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            self.asked.push((h as u32, app, total));
            let (all, old) = if app {
                (&mut demand.app, &mut demand.app_elderly)
            } else {
                (&mut demand.traditional, &mut demand.traditional_elderly)
            };
            for (i, n) in counts.iter().enumerate() {
                all[i] += n;
                if elderly {
                    old[i] += n;
                }
            }
            self.year.requested += total as u64;
            if elderly {
                self.year.requested_elderly += total as u64;
            }
        }
        ctx.send(self.platform, 0, Payload::ServiceDemand(Box::new(demand)));
        if m.is_multiple_of(12) {
            // The year closes once December's outcome is in.
            self.year_end_due = Some(m / 12);
        }
        self.timers
            .push((m as SimTime + 1) * MONTH, Timer::MonthEnd(m + 1));
    }

    /// The platform says what share of this month's requests were served.
    fn service_outcome(
        &mut self,
        app: f32,
        traditional: f32,
        app_quality: f32,
        traditional_quality: f32,
    ) {
        let w = self.params.satisfaction.service_weight as f32;
        let asked = std::mem::take(&mut self.asked);
        for (h, by_app, uses) in asked {
            let (share, quality) = if by_app {
                (app, app_quality)
            } else {
                (traditional, traditional_quality)
            };
            let (range, elderly) = {
                let hh = &self.households[h as usize];
                (hh.residents.clone(), hh.elderly)
            };
            // The platform reports shares; a household's served uses follow from them.
            let served = (share as f64 * uses as f64).round() as u64;
            self.year.served += served;
            if elderly {
                self.year.served_elderly += served;
            }
            for r in range {
                let rs = &mut self.residents[(r - self.res_base) as usize];
                // Satisfied by what was served, as well as it was served.
                rs.satisfaction += w * (share * quality - rs.satisfaction);
            }
        }
    }

    /// Year `y` (1-based) ends: adoption, then the year's report.
    fn year_end(&mut self, ctx: &mut Ctx<'_>, y: u32) {
        let a = &self.params.economy.adoption;
        let (young, old) = if self.outreach {
            (a.outreach_under60, a.outreach_60plus)
        } else {
            (a.background, a.background)
        };
        for r in &mut self.residents {
            if !r.uses_app && r.age >= 10 {
                let p = if r.age >= 60 { old } else { young };
                r.uses_app = rng::chance(&mut r.rng, p);
            }
        }
        self.settle_devices(ctx.now);
        let mut report = std::mem::replace(
            &mut self.year,
            BuildingYear {
                community: self.community,
                building: self.building,
                ..BuildingYear::default()
            },
        );
        report.year = y - 1;
        for r in &self.residents {
            report.residents += 1;
            report.satisfaction_sum += r.satisfaction as f64;
            if r.uses_app {
                report.app_users += 1;
            }
            if r.age >= 60 {
                report.elderly += 1;
                report.satisfaction_elderly_sum += r.satisfaction as f64;
                if r.uses_app {
                    report.app_users_elderly += 1;
                }
            }
        }
        let mut by_kind: BTreeMap<DeviceKind, DeviceYear> = BTreeMap::new();
        for d in &mut self.devices {
            let e = by_kind.entry(d.kind).or_default();
            e.count += 1;
            e.marketable = d.marketable;
            e.working_secs += std::mem::take(&mut d.working_secs);
            e.used_secs += std::mem::take(&mut d.used_secs);
        }
        report.devices = by_kind.into_iter().collect();
        ctx.journal
            .reports
            .push(YearReport::Building(Box::new(report)));
    }
}

/// A Poisson draw (Knuth's method; means here are small).
fn poisson(rng: &mut EntityRng, lambda: f64) -> u32 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        // Normal approximation for large means.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        return (lambda + z * lambda.sqrt()).round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= limit {
            return k;
        }
        k += 1;
    }
}

impl Behaviour for BuildingHost {
    type Timer = Timer;

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, _src: ActorId, payload: Payload) {
        match payload {
            Payload::DeviceRepaired { device } => {
                if let Some(&local) = self.device_index.get(&device) {
                    self.settle_device(local, ctx.now);
                    let d = &mut self.devices[local as usize];
                    if d.status != DeviceStatus::Working {
                        d.status = DeviceStatus::Working;
                        d.tally.repairs += 1;
                        d.tally.downtime_secs += ctx.now - d.failed_at;
                        self.schedule_failure(local, ctx.now);
                    }
                }
            }
            Payload::Outcome { household, score } => self.outcome(household, score),
            Payload::PlatformStatus {
                operating,
                prices,
                offered,
            } => {
                self.offered = offered;
                if operating != self.platform_operating {
                    self.settle_devices(ctx.now);
                    self.platform_operating = operating;
                }
                self.prices = prices;
            }
            Payload::ServiceOutcome {
                app,
                traditional,
                app_quality,
                traditional_quality,
            } => {
                self.service_outcome(app, traditional, app_quality, traditional_quality);
                if let Some(y) = self.year_end_due.take() {
                    self.year_end(ctx, y);
                }
            }
            Payload::Detected(_)
            | Payload::Assign(_)
            | Payload::DeviceOffline { .. }
            | Payload::FundingRequest { .. }
            | Payload::Funding { .. }
            | Payload::ServiceDemand(_) => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Timer) {
        match timer {
            Timer::Arrival(src) => self.arrival(ctx, src),
            Timer::MonthEnd(m) => self.month_end(ctx, m),
            Timer::Detect(id) => self.detect(ctx, id),
            Timer::Fail(dev) => {
                self.settle_device(dev, ctx.now);
                let d = &mut self.devices[dev as usize];
                if d.status == DeviceStatus::Working {
                    d.status = DeviceStatus::Failed;
                    d.failed_at = ctx.now;
                    d.tally.failures += 1;
                    let at = self.next_heartbeat(dev, ctx.now);
                    self.timers.push(at, Timer::Offline(dev));
                }
            }
            Timer::Offline(dev) => {
                let d = &mut self.devices[dev as usize];
                if d.status == DeviceStatus::Failed {
                    d.status = DeviceStatus::Offline;
                    let payload = Payload::DeviceOffline {
                        device: d.id,
                        kind: d.kind,
                    };
                    ctx.send(self.platform, 0, payload);
                }
            }
            Timer::FalseAlarm(dev) => {
                // A stopped platform hears no alarms, real or false.
                let working = self.devices[dev as usize].status == DeviceStatus::Working
                    && self.platform_operating;
                let kind = self.devices[dev as usize].kind;
                if working {
                    let detects = self.params.devices[&kind].detects.clone();
                    if let Some(&k) = detects.first() {
                        let id = self.new_id(ctx.me());
                        let mut rec =
                            IncidentRecord::new(id, k, self.params.incident(k).severity, ctx.now);
                        rec.false_alarm = true;
                        rec.community = self.community;
                        rec.building = self.building;
                        rec.detected = Some(ctx.now);
                        rec.detected_by = Some(DetectedBy::Device);
                        rec.device = Some(kind);
                        self.devices[dev as usize].tally.false_alarms += 1;
                        ctx.send(self.platform, 0, Payload::Detected(Box::new(rec)));
                    }
                }
                self.schedule_false_alarm(dev, ctx.now);
            }
        }
    }

    fn finish(&mut self, now: SimTime) -> Final {
        // Detection was worked out when each incident happened; at the horizon, those
        // not yet known are undetected.
        let open = std::mem::take(&mut self.pending)
            .into_values()
            .map(|mut r| {
                if r.detected.is_some_and(|t| t >= now) {
                    r.detected = None;
                    r.detected_by = None;
                    r.device = None;
                }
                r
            })
            .collect();
        let mut f = Final {
            open,
            ..Final::default()
        };
        for r in &self.residents {
            let s = r.satisfaction as f64;
            f.all.add(s);
            if r.age >= 60 {
                f.elderly.add(s);
                if r.lives_alone {
                    f.elderly_alone.add(s);
                }
            }
        }
        let mut by_kind: BTreeMap<DeviceKind, DeviceTally> = BTreeMap::new();
        for d in &self.devices {
            let mut t = d.tally;
            if d.status == DeviceStatus::Working {
                t.working = 1;
            } else {
                t.downtime_secs += now.saturating_sub(d.failed_at);
            }
            by_kind.entry(d.kind).or_default().merge(&t);
        }
        f.devices = by_kind.into_iter().collect();
        f
    }
}
