//! A building host: one actor hosting the building's residents, households, devices, the
//! building itself and any site points near it.
//!
//! Hosted entities keep actor semantics — private state, their own random stream, and
//! messages in and out — but share one ractor actor, because a ractor actor costs about
//! 8 KB and a message about a microsecond (see docs/ARCHITECTURE.md). The host's concerns
//! each have a file: [`incidents`] (incident sources and how each incident becomes
//! known), [`devices`] (failures, heartbeats, false alarms, repairs), [`services`] (each
//! month's service requests and what was served) and [`year`] (app adoption and the
//! yearly report). This file holds the state, its construction and the message and timer
//! dispatch.

mod commands;
mod devices;
mod incidents;
mod outside;
mod services;
mod year;

use super::{Behaviour, Ctx, DeviceTally, Final};
use crate::incident::IncidentRecord;
use crate::ledger::BuildingYear;
use crate::message::{ActorId, Payload, SERVICES};
use crate::timers::Timers;
use civitas_twin::kinds::{DeviceKind, EstateAge, Region};
use civitas_twin::model::{Community, DeviceStatus, Place, site_host};
use civitas_twin::rng::{self, EntityRng, Stream};
use civitas_twin::time::{DAY, HOUR, SimTime, hours};
use devices::DeviceState;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An incident source hosted here (indices are local to the building host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Timer {
    /// The next incident of a source happens.
    Arrival(Source),
    /// A pending incident becomes known; tell the platform.
    Detect(u64),
    /// A device breaks.
    Fail(u32),
    /// A device reaches the end of its service life (if it is still at its end then).
    WearOut(u32),
    /// A broken device misses its heartbeat.
    Offline(u32),
    /// A device raises a false alarm.
    FalseAlarm(u32),
    /// Month `m` (1-based) ends: send its service requests; every twelfth, the year's
    /// adoption and report.
    MonthEnd(u32),
    /// The simulated device answers command `id`.
    CommandAnswer(u64, civitas_twin::kinds::CommandOutcome),
    /// Command `id`'s timeout passes.
    CommandTimeout(u64),
}

/// A hosted resident.
#[derive(Serialize, Deserialize)]
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

/// A hosted household.
#[derive(Serialize, Deserialize)]
struct HouseholdState {
    id: u32,
    residents: std::ops::Range<u32>,
    elderly: bool,
    rng: EntityRng,
}

/// A hosted site point.
#[derive(Serialize, Deserialize)]
struct SiteState {
    id: u32,
    rng: EntityRng,
}

/// One building and everything in it.
#[derive(Serialize, Deserialize)]
pub(crate) struct BuildingHost {
    community: u32,
    building: u32,
    platform: ActorId,
    /// The run's parameters, calendar and addresses (not state; see [`crate::agents::Shared`]).
    #[serde(skip, default = "crate::agents::Shared::detached")]
    pub(crate) context: crate::agents::Shared,
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
    /// Commands to its devices waiting for their outcome, by correlation id.
    commands: BTreeMap<u64, commands::Outstanding>,
    timers: Timers<Timer>,
}

impl BuildingHost {
    /// The host for building `building` of community `c`.
    // Its own configuration plus the run's shared context (parameters, calendar…).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        c: &Community,
        building: u32,
        platform: ActorId,
        shared: crate::agents::Shared,
        seed: u64,
        outreach: bool,
        devices_here: &[u32],
    ) -> Self {
        let params = shared.params.clone();

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
            commands: BTreeMap::new(),
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
            context: shared,
        };
        for &id in devices_here {
            let d = &c.devices[id as usize];
            let local = host.devices.len() as u32;
            let mut drng = rng::stream(seed, ci, Stream::Device, d.id as u64);
            let hb = hours(host.context.params.device(d.kind).heartbeat_hours).max(1);
            let phase = drng.random_range(0..hb);
            host.devices.push(DeviceState {
                id: d.id,
                kind: d.kind,
                status: DeviceStatus::Working,
                rng: drng,
                heartbeat_phase: phase,
                failed_at: 0,
                worn_out_at: 0,
                tally: DeviceTally {
                    count: 1,
                    ..DeviceTally::default()
                },
                marketable: host.context.params.device(d.kind).marketable,
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
        // Patrols pass this building at a fixed local time of the day shift (the phase
        // counts from the start, which need not be midnight).
        let day_start = host.context.params.staffing.day_start_hour as SimTime * HOUR;
        let day_len = (host.context.params.staffing.day_end_hour
            - host.context.params.staffing.day_start_hour)
            .max(1) as SimTime
            * HOUR;
        let local = day_start + (rng::mix64(building as u64) % day_len);
        host.patrol_phase = (local + DAY - host.context.calendar.second_of_day(0)) % DAY;
        host.schedule_all();
        host
    }

    fn schedule_all(&mut self) {
        self.timers
            .push(self.context.calendar.month_start(1), Timer::MonthEnd(1));
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
            self.schedule_wear_out(i, 0);
        }
    }
}

impl Behaviour for BuildingHost {
    type Timer = Timer;

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, _src: ActorId, payload: Payload) {
        match payload {
            Payload::DeviceRepaired { device, replaced } => self.repaired(ctx, device, replaced),
            Payload::Outcome { household, score } => self.outcome(household, score),
            Payload::PlatformStatus {
                operating,
                prices,
                offered,
            } => self.platform_status(ctx, operating, prices, offered),
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
            p @ (Payload::Detected(_)
            | Payload::Assign(_)
            | Payload::DeviceOffline { .. }
            | Payload::FundingRequest { .. }
            | Payload::Funding { .. }
            | Payload::ServiceDemand(_)) => {
                let by = format!("building {} of community {}", self.building, self.community);
                ctx.unexpected(by, &p);
            }
            Payload::Inject(i) => self.injected(ctx, i),
            Payload::Command { id, device, action } => self.command(ctx, id, device, action),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Timer) {
        match timer {
            Timer::Arrival(src) => self.arrival(ctx, src),
            Timer::MonthEnd(m) => self.month_end(ctx, m),
            Timer::Detect(id) => self.detect(ctx, id),
            Timer::Fail(dev) => self.fail(ctx, dev),
            Timer::WearOut(dev) => self.wear_out(ctx, dev),
            Timer::Offline(dev) => self.offline(ctx, dev),
            Timer::FalseAlarm(dev) => self.false_alarm(ctx, dev),
            Timer::CommandAnswer(id, outcome) => self.end_command(ctx, id, outcome),
            Timer::CommandTimeout(id) => self.command_timed_out(ctx, id),
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
