//! The community platform, run by the platform operator.
//!
//! Incidents: it receives every detection (device alarm or resident report) and
//! dispatches it to the micro-loop organization that handles that kind; it sends repair
//! crews to devices that stopped reporting — if whoever invested in the device pays for
//! its O&M this year. A device nobody maintains stays broken: the "image project".
//!
//! Economy (DOMAIN §4): at the start it books the construction of the platform and the
//! devices to their investors; every year it books O&M, device user fees, data
//! operations and leasing, asks district finance for what the government owes, and lets
//! the platform stop if its payer cannot pay. Every month it matches residents' service
//! requests to providers (the "service-matching platform", source 000), takes its
//! commission, and tells the buildings what share was served. Every year providers enter
//! and exit on profit; without a regulator a dominant platform raises its commission and
//! concentrated providers raise prices and let quality slip; a regulator caps both and
//! fines providers below the quality floor.

use super::{Behaviour, Ctx, Final};
use crate::ledger::{Account, PlatformYear, Purpose, YearReport};
use crate::message::{ActorId, Demand, Payload, SERVICES};
use crate::timers::Timers;
use crate::world::Addresses;
use civitas_twin::economy::{ModelParams, capital_recovery, cents};
use civitas_twin::kinds::{DeviceKind, InvestmentModel, Party, ServiceKind};
use civitas_twin::model::Community;
use civitas_twin::params::Parameters;
use civitas_twin::rng::{self, EntityRng, Stream};
use civitas_twin::time::{HOUR, SimTime, YEAR, hours};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Length of a month (a twelfth of a year).
pub const MONTH: SimTime = YEAR / 12;
/// When, after a month boundary, the platform closes the month's market (the buildings'
/// requests, sent at the boundary, have arrived by then).
pub const MARKET_CLOSE: SimTime = HOUR;
/// When, after a year boundary, the platform settles the year and asks for funding.
pub const YEAR_END: SimTime = 2 * HOUR;

/// Timer events of a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Book construction and ask for the first year's funding.
    Open,
    /// Close month `m` (1-based count of months since the start).
    MarketClose(u32),
    /// Settle year `y - 1` and ask for year `y`'s funding.
    YearEnd(u32),
}

#[derive(Debug, Clone, Copy)]
struct DeviceInfo {
    kind: DeviceKind,
    investor: Party,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Provider {
    price: f64,
    quality: f64,
    cash: i64,
    loss_years: u32,
    revenue: i64,
    costs: i64,
    served: u64,
}

/// One community's platform and market.
pub struct Platform {
    community: u32,
    params: Arc<Parameters>,
    addresses: Arc<Addresses>,
    model: ModelParams,
    finance: ActorId,
    rng: EntityRng,
    timers: Timers<Timer>,
    residents: u64,
    shared: bool,
    income_factor: f64,
    devices: BTreeMap<u32, DeviceInfo>,
    device_counts: BTreeMap<DeviceKind, u32>,
    /// Broken devices waiting for someone to pay for their repair: device → its shard.
    unrepaired: BTreeMap<u32, (ActorId, SimTime)>,
    decommissioned: u64,
    /// Share of each investor's devices maintained this year.
    maintained: BTreeMap<Party, f64>,
    operating: bool,
    operating_since: SimTime,
    operating_secs: SimTime,
    commission: f64,
    providers: Vec<Vec<Provider>>,
    demand: Demand,
    served_app: u64,
    requested_app: u64,
    penalties: u32,
    owed: [i64; 4],
    funded_share: f64,
    operator_cash: i64,
    operator_solvent: bool,
    device_business_cash: i64,
    platform_revenue_year: i64,
    demand_year: [u64; SERVICES],
    app_demand_year: [u64; SERVICES],
}

fn rate(p: f64) -> f64 {
    if p.is_finite() { p } else { 0.0 }
}

impl Platform {
    /// The platform of community `c` under `model`.
    pub fn new(
        c: &Community,
        model: InvestmentModel,
        finance: ActorId,
        params: Arc<Parameters>,
        addresses: Arc<Addresses>,
        seed: u64,
    ) -> Self {
        let mp = params.economy.models[&model].clone();
        let devices: BTreeMap<u32, DeviceInfo> = c
            .devices
            .iter()
            .map(|d| {
                (
                    d.id,
                    DeviceInfo {
                        kind: d.kind,
                        investor: d.investor,
                    },
                )
            })
            .collect();
        let mut device_counts = BTreeMap::new();
        for d in devices.values() {
            *device_counts.entry(d.kind).or_insert(0) += 1;
        }
        let m = &params.economy.market;
        let providers = ServiceKind::ALL
            .iter()
            .map(|k| {
                let s = &params.economy.services[k];
                let possible = s
                    .needs_device
                    .is_none_or(|d| device_counts.get(&d).copied().unwrap_or(0) > 0);
                let n = if mp.market_openness > 0.0 && possible {
                    m.initial_enterprises
                } else {
                    0
                };
                (0..n)
                    .map(|_| Provider {
                        price: s.price,
                        quality: s.quality,
                        cash: 0,
                        loss_years: 0,
                        revenue: 0,
                        costs: 0,
                        served: 0,
                    })
                    .collect()
            })
            .collect();
        let income_factor = civitas_twin::economy::income_factor(&params, c.region);
        let mut timers = Timers::default();
        timers.push(YEAR_END, Timer::Open);
        timers.push(MONTH + MARKET_CLOSE, Timer::MarketClose(1));
        Platform {
            community: c.index,
            commission: if mp.regulator {
                m.commission.min(params.economy.regulation.commission_cap)
            } else {
                m.commission
            },
            params,
            addresses,
            model: mp,
            finance,
            rng: rng::stream(seed, c.index, Stream::Organization, 0),
            timers,
            residents: c.residents.len() as u64,
            shared: c.shared_platform,
            income_factor,
            devices,
            device_counts,
            unrepaired: BTreeMap::new(),
            decommissioned: 0,
            maintained: Party::ALL.iter().map(|p| (*p, 1.0)).collect(),
            operating: true,
            operating_since: 0,
            operating_secs: 0,
            providers,
            demand: Demand::default(),
            served_app: 0,
            requested_app: 0,
            penalties: 0,
            owed: [0; 4],
            funded_share: 1.0,
            operator_cash: 0,
            operator_solvent: true,
            device_business_cash: 0,
            platform_revenue_year: 0,
            demand_year: [0; SERVICES],
            app_demand_year: [0; SERVICES],
        }
    }

    fn acct(&self, p: Party) -> Account {
        match p {
            Party::Government => Account::Government,
            Party::Operator => Account::Operator(self.community),
            Party::PropertyFirm => Account::PropertyFirm(self.community),
            Party::Enterprise => Account::Enterprises(self.community),
        }
    }

    fn platform_capex(&self) -> i64 {
        if self.shared {
            0
        } else {
            cents(self.params.economy.platform.capex)
        }
    }

    fn platform_om(&self) -> i64 {
        let p = &self.params.economy.platform;
        if self.shared {
            cents(p.cloud_rent_per_resident * self.residents as f64)
        } else {
            cents(p.capex * p.om_share)
        }
    }

    fn device_om(&self, investor: Party) -> BTreeMap<DeviceKind, i64> {
        let mut m = BTreeMap::new();
        for d in self.devices.values().filter(|d| d.investor == investor) {
            *m.entry(d.kind).or_insert(0) += cents(self.params.economy.device_costs[&d.kind].om);
        }
        m
    }

    fn capex_of(&self, investor: Party) -> i64 {
        let mut total = 0;
        for d in self.devices.values().filter(|d| d.investor == investor) {
            total += cents(self.params.economy.device_costs[&d.kind].capex);
        }
        if self.model.platform == investor {
            total += self.platform_capex();
        }
        total
    }

    /// Whether device `id` is among the maintained share of its investor's devices.
    fn is_maintained(&self, id: u32) -> bool {
        let Some(d) = self.devices.get(&id) else {
            return false;
        };
        let share = self.maintained.get(&d.investor).copied().unwrap_or(1.0);
        // A fixed, seed-independent ranking decides which devices keep their O&M.
        (rng::mix64(id as u64 ^ 0x5eed) % 10_000) < (share * 10_000.0).round() as u64
    }

    fn set_operating(&mut self, ctx: &mut Ctx<'_>, on: bool) {
        if on == self.operating {
            return;
        }
        if self.operating {
            self.operating_secs += ctx.now - self.operating_since;
        } else {
            self.operating_since = ctx.now;
        }
        self.operating = on;
        self.broadcast_status(ctx);
    }

    fn broadcast_status(&self, ctx: &mut Ctx<'_>) {
        let mut prices = [1.0f32; SERVICES];
        let mut offered = [false; SERVICES];
        for (i, k) in ServiceKind::ALL.iter().enumerate() {
            prices[i] = self.price_factor(*k) as f32;
            offered[i] = self.offered(*k);
        }
        for &s in &self.addresses.communities[self.community as usize].shards {
            ctx.send(
                s,
                0,
                Payload::PlatformStatus {
                    operating: self.operating,
                    prices,
                    offered,
                },
            );
        }
    }

    /// Whether a service can be offered here at all (EV charging needs chargers, parking
    /// sharing needs ground locks).
    fn offered(&self, k: ServiceKind) -> bool {
        self.params.economy.services[&k]
            .needs_device
            .is_none_or(|d| self.device_counts.get(&d).copied().unwrap_or(0) > 0)
    }

    /// Mean price of active providers relative to the reference price (1 if none).
    fn price_factor(&self, k: ServiceKind) -> f64 {
        let ps = &self.providers[k.index()];
        if ps.is_empty() {
            return 1.0;
        }
        let reference = self.params.economy.services[&k].price;
        ps.iter().map(|p| p.price).sum::<f64>() / ps.len() as f64 / reference
    }

    /// Construction, booked to each investor at the start.
    fn open(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        for party in Party::ALL {
            let capex = self.capex_of(*party);
            if capex == 0 {
                continue;
            }
            let acct = self.acct(*party);
            let source = if *party == Party::Government {
                Purpose::CapitalBudget
            } else {
                Purpose::Equity
            };
            ctx.journal.pay(now, Account::Outside, acct, capex, source);
            if self.model.platform == *party {
                ctx.journal.pay(
                    now,
                    acct,
                    Account::Suppliers,
                    self.platform_capex(),
                    Purpose::PlatformCapex,
                );
            }
            let mut by_kind: BTreeMap<DeviceKind, i64> = BTreeMap::new();
            for d in self.devices.values().filter(|d| d.investor == *party) {
                *by_kind.entry(d.kind).or_insert(0) +=
                    cents(self.params.economy.device_costs[&d.kind].capex);
            }
            for (k, v) in by_kind {
                ctx.journal
                    .pay(now, acct, Account::Suppliers, v, Purpose::DeviceCapex(k));
            }
        }
        self.request_funding(ctx);
        self.broadcast_status(ctx);
        self.timers.push(YEAR + YEAR_END, Timer::YearEnd(1));
    }

    /// What the government owes this community for the coming year.
    fn request_funding(&mut self, ctx: &mut Ctx<'_>) {
        let e = &self.params.economy;
        let mut owed = [0i64; 4];
        if self.model.platform == Party::Government {
            owed[0] = self.platform_om();
        }
        owed[1] = self.device_om(Party::Government).values().sum();
        if self.model.purchase_of_service {
            let crf = capital_recovery(e.discount_rate, e.platform.device_life_years);
            for d in self.devices.values() {
                if d.investor != Party::Government && !self.params.device(d.kind).marketable {
                    let c = &e.device_costs[&d.kind];
                    owed[2] += cents(c.om + c.capex * crf);
                }
            }
        }
        if let Some(ppp) = &self.model.ppp {
            let year = ctx.now / YEAR;
            if year < ppp.term_years as u64 {
                let crf = capital_recovery(ppp.target_return, ppp.term_years);
                let capex = self.capex_of(Party::Operator) as f64;
                let om: i64 =
                    self.device_om(Party::Operator).values().sum::<i64>() + self.platform_om();
                let offset = ppp.revenue_share * self.platform_revenue_year as f64;
                let mut payment = capex * crf + om as f64 - offset;
                if ppp.performance_based && !self.devices.is_empty() {
                    let available = 1.0 - self.unrepaired.len() as f64 / self.devices.len() as f64;
                    payment *= available;
                }
                owed[3] = payment.max(0.0).round() as i64;
            }
        }
        self.owed = owed;
        ctx.send(
            self.finance,
            0,
            Payload::FundingRequest {
                community: self.community,
                owed,
            },
        );
    }

    fn on_funding(&mut self, ctx: &mut Ctx<'_>, paid: [i64; 4]) {
        let share = |i: usize| {
            if self.owed[i] > 0 {
                paid[i] as f64 / self.owed[i] as f64
            } else {
                1.0
            }
        };
        let total_owed: i64 = self.owed.iter().sum();
        self.funded_share = if total_owed > 0 {
            paid.iter().sum::<i64>() as f64 / total_owed as f64
        } else {
            1.0
        };
        self.maintained.insert(Party::Government, share(1));
        if self.model.platform == Party::Government {
            // A government platform whose O&M is not fully paid stops.
            self.set_operating(ctx, share(0) >= 1.0 - 1e-9);
        }
        // Purchase of service and availability payments fund the partner's upkeep.
        self.device_business_cash += paid[2];
        self.operator_cash += paid[3];
        self.repair_backlog(ctx);
    }

    fn repair_backlog(&mut self, ctx: &mut Ctx<'_>) {
        let ready: Vec<u32> = self
            .unrepaired
            .keys()
            .copied()
            .filter(|&d| self.is_maintained(d))
            .collect();
        for d in ready {
            if let Some((shard, _)) = self.unrepaired.remove(&d) {
                self.send_repair(ctx, d, shard);
            }
        }
    }

    fn send_repair(&mut self, ctx: &mut Ctx<'_>, device: u32, shard: ActorId) {
        let kind = self
            .devices
            .get(&device)
            .map_or(DeviceKind::SmokeDetector, |d| d.kind);
        let delay = hours(rng::exp(
            &mut self.rng,
            self.params.device(kind).repair_hours,
        ));
        ctx.send(shard, delay, Payload::DeviceRepaired { device });
    }

    /// Who earns the platform's commission and data revenue: its owner, or under leasing
    /// the operator that rents it (and pays rent to the government).
    fn revenue_account(&self) -> Account {
        if self.model.platform == Party::Government && !self.model.leasing {
            Account::Government
        } else {
            Account::Operator(self.community)
        }
    }

    /// Books platform revenue to its earner.
    fn earn(&mut self, ctx: &mut Ctx<'_>, from: Account, cents: i64, purpose: Purpose) {
        let to = self.revenue_account();
        ctx.journal.pay(ctx.now, from, to, cents, purpose);
        if to == Account::Operator(self.community) {
            self.operator_cash += cents;
        }
        self.platform_revenue_year += cents;
    }

    /// Matches a month's requests to providers. Requests the platform does not open to
    /// the market, or that no provider can take, fall back to traditional channels
    /// (offline providers reached by phone or in person), as do all requests while it
    /// is stopped.
    fn close_month(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let c = self.community;
        let e = self.params.economy.clone();
        let demand = std::mem::take(&mut self.demand);
        let mut app_req = 0.0f64;
        let mut app_served = 0.0f64;
        let mut app_quality = 0.0f64;
        let mut trad_req = 0.0f64;
        let mut trad_served = 0.0f64;
        let mut trad_quality = 0.0f64;
        for (i, k) in ServiceKind::ALL.iter().enumerate() {
            let s = &e.services[k];
            let d_app = demand.app[i] as f64;
            let d_trad_own = demand.traditional[i] as f64;
            app_req += d_app;
            trad_req += d_trad_own;
            self.demand_year[i] += (demand.app[i] + demand.traditional[i]) as u64;
            self.app_demand_year[i] += demand.app[i] as u64;
            if !self.offered(*k) {
                continue;
            }
            // On the platform: the open share of app requests, shared among providers by
            // quality and price, each up to its capacity.
            let open_demand = if self.operating {
                d_app * self.model.market_openness
            } else {
                0.0
            };
            let commission_rate = rate(self.commission);
            let ps = &mut self.providers[i];
            let weights: Vec<f64> = ps
                .iter()
                .map(|p| p.quality * (p.price / s.price).powf(-e.market.price_elasticity))
                .collect();
            let total_w: f64 = weights.iter().sum();
            let (mut revenue_k, mut commission_k, mut cost_k, mut on_platform) =
                (0i64, 0i64, 0i64, 0.0f64);
            let fixed_month = cents(s.fixed_cost / 12.0);
            for (p, w) in ps.iter_mut().zip(&weights) {
                // Households' requests already respond to price; here price and quality
                // only decide which provider gets them.
                let wanted = if total_w > 0.0 {
                    open_demand * (w / total_w)
                } else {
                    0.0
                };
                let served = wanted.min(s.capacity).floor();
                let revenue = cents(served * p.price);
                let commission = (revenue as f64 * commission_rate).round() as i64;
                let cost = cents(served * s.unit_cost) + fixed_month;
                p.revenue += revenue;
                p.costs += cost + commission;
                p.cash += revenue - commission - cost;
                p.served += served as u64;
                on_platform += served;
                app_quality += served * p.quality;
                revenue_k += revenue;
                commission_k += commission;
                cost_k += cost;
            }
            ctx.journal.pay(
                now,
                Account::Residents(c),
                Account::Enterprises(c),
                revenue_k,
                Purpose::Service(*k),
            );
            ctx.journal.pay(
                now,
                Account::Enterprises(c),
                Account::Suppliers,
                cost_k,
                Purpose::ProviderCost(*k),
            );
            self.earn(
                ctx,
                Account::Enterprises(c),
                commission_k,
                Purpose::Commission(*k),
            );
            app_served += on_platform;
            // Off the platform: what is left of app requests, and the requests of those
            // who do not use the app, at the reference price, if the channels are kept.
            let fallback = d_app - on_platform;
            if e.adoption.traditional_channels && fallback + d_trad_own > 0.0 {
                let share = e.market.traditional_service_share;
                let from_app = (fallback * share).floor();
                let own = (d_trad_own * share).floor();
                app_served += from_app;
                app_quality += from_app * s.quality;
                trad_served += own;
                trad_quality += own * s.quality;
                let served = from_app + own;
                ctx.journal.pay(
                    now,
                    Account::Residents(c),
                    Account::Enterprises(c),
                    cents(served * s.price),
                    Purpose::Service(*k),
                );
                ctx.journal.pay(
                    now,
                    Account::Enterprises(c),
                    Account::Suppliers,
                    cents(served * s.unit_cost),
                    Purpose::ProviderCost(*k),
                );
            }
        }
        self.requested_app += app_req as u64;
        self.served_app += app_served as u64;
        // Nothing asked (or nothing served) counts as fully served, at full quality.
        let ratio = |a: f64, b: f64| if b > 0.0 { (a / b) as f32 } else { 1.0 };
        let app = ratio(app_served, app_req);
        let traditional = ratio(trad_served, trad_req);
        let app_quality = ratio(app_quality, app_served);
        let traditional_quality = ratio(trad_quality, trad_served);
        for &s in &self.addresses.communities[c as usize].shards {
            ctx.send(
                s,
                0,
                Payload::ServiceOutcome {
                    app,
                    traditional,
                    app_quality,
                    traditional_quality,
                },
            );
        }
    }

    /// Settles the year that just ended and asks for the next year's funding.
    fn year_end(&mut self, ctx: &mut Ctx<'_>, year: u32) {
        let now = ctx.now;
        let c = self.community;
        let e = self.params.economy.clone();
        if self.operating {
            self.operating_secs += now - self.operating_since;
            self.operating_since = now;
        }
        let operating_share = (self.operating_secs as f64 / YEAR as f64).min(1.0);
        self.operating_secs = 0;

        // Device user fees to investors of marketable devices still working.
        let mut fees: BTreeMap<(Party, DeviceKind), i64> = BTreeMap::new();
        for (id, d) in &self.devices {
            if self.unrepaired.contains_key(id) {
                continue;
            }
            let f = cents(e.device_costs[&d.kind].revenue * self.income_factor * operating_share);
            *fees.entry((d.investor, d.kind)).or_insert(0) += f;
        }
        for ((party, kind), v) in fees {
            let to = self.acct(party);
            ctx.journal
                .pay(now, Account::Residents(c), to, v, Purpose::DeviceFees(kind));
            match party {
                Party::Operator => {
                    self.operator_cash += v;
                    self.platform_revenue_year += v;
                }
                Party::Enterprise => self.device_business_cash += v,
                _ => {}
            }
        }
        // Data operations.
        if self.model.data_operations && self.operator_solvent {
            let v = cents(
                e.platform.data_revenue_per_resident
                    * self.income_factor.powf(e.residents.income_elasticity)
                    * self.residents as f64
                    * operating_share,
            );
            self.earn(ctx, Account::Outside, v, Purpose::DataSale);
        }
        // Leasing: the operator rents public facilities; the government reinvests it.
        if self.model.leasing {
            let v = (self.platform_revenue_year as f64 * e.platform.lease_share).round() as i64;
            ctx.journal.pay(
                now,
                Account::Operator(c),
                Account::Government,
                v,
                Purpose::Lease,
            );
            self.operator_cash -= v;
        }
        // The operator pays for what it runs; if it cannot, it stops.
        if self.operator_solvent {
            let mut om = self.device_om(Party::Operator);
            if self.model.platform == Party::Operator {
                ctx.journal.pay(
                    now,
                    Account::Operator(c),
                    Account::Suppliers,
                    self.platform_om(),
                    Purpose::PlatformOm,
                );
                self.operator_cash -= self.platform_om();
            }
            for (k, v) in std::mem::take(&mut om) {
                ctx.journal.pay(
                    now,
                    Account::Operator(c),
                    Account::Suppliers,
                    v,
                    Purpose::DeviceOm(k),
                );
                self.operator_cash -= v;
            }
            if self.operator_cash < 0 {
                self.operator_solvent = false;
                self.maintained.insert(Party::Operator, 0.0);
                if self.model.platform == Party::Operator {
                    self.set_operating(ctx, false);
                }
            }
        }
        // Enterprises that invested in devices pay their O&M from fees and purchases.
        let ent_om = self.device_om(Party::Enterprise);
        let ent_total: i64 = ent_om.values().sum();
        if ent_total > 0 {
            let affordable = if self.device_business_cash >= ent_total {
                1.0
            } else {
                (self.device_business_cash.max(0) as f64 / ent_total as f64).clamp(0.0, 1.0)
            };
            for (k, v) in ent_om {
                let paid = (v as f64 * affordable).round() as i64;
                ctx.journal.pay(
                    now,
                    Account::Enterprises(c),
                    Account::Suppliers,
                    paid,
                    Purpose::DeviceOm(k),
                );
                self.device_business_cash -= paid;
            }
            self.maintained.insert(Party::Enterprise, affordable);
        }
        // The property firm pays for its devices out of property fees.
        for (k, v) in self.device_om(Party::PropertyFirm) {
            ctx.journal.pay(
                now,
                Account::Outside,
                Account::PropertyFirm(c),
                v,
                Purpose::PropertyFees,
            );
            ctx.journal.pay(
                now,
                Account::PropertyFirm(c),
                Account::Suppliers,
                v,
                Purpose::DeviceOm(k),
            );
        }
        // Survival of the fittest (source 003): where a regulator evaluates, facilities
        // that stood broken and unused for a whole year are removed, and nobody owes
        // their O&M any more.
        if self.model.regulator {
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
        let (hhi, quality, providers) = self.market_year(ctx, &e);
        let report = PlatformYear {
            year: year - 1,
            community: c,
            operating: operating_share,
            commission: self.commission,
            price_index: self.price_index(),
            hhi,
            providers,
            quality,
            funded_share: self.funded_share,
            unrepaired: self.unrepaired.len() as u64,
            decommissioned: self.decommissioned,
            penalties: std::mem::take(&mut self.penalties),
            operator_solvent: self.operator_solvent,
            operator_cash: self.operator_cash,
        };
        ctx.journal
            .reports
            .push(YearReport::Platform(Box::new(report)));
        // The request uses the year's revenue (PPP offset) before it is reset.
        self.request_funding(ctx);
        self.platform_revenue_year = 0;
        self.demand_year = [0; SERVICES];
        self.app_demand_year = [0; SERVICES];
        self.broadcast_status(ctx);
        self.timers.push(
            (year as SimTime + 1) * YEAR + YEAR_END,
            Timer::YearEnd(year + 1),
        );
    }

    /// Demand-weighted price index relative to reference prices.
    fn price_index(&self) -> f64 {
        let total: u64 = self.demand_year.iter().sum();
        if total == 0 {
            return 1.0;
        }
        ServiceKind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| self.demand_year[i] as f64 * self.price_factor(*k))
            .sum::<f64>()
            / total as f64
    }

    /// Entry, exit, market power and regulation; returns (HHI, mean quality, providers).
    fn market_year(
        &mut self,
        ctx: &mut Ctx<'_>,
        e: &civitas_twin::economy::EconomyParams,
    ) -> (f64, f64, u32) {
        let now = ctx.now;
        let c = self.community;
        let m = &e.market;
        let mut hhi_weighted = 0.0;
        let mut weight = 0.0;
        let mut quality_sum = 0.0;
        let mut count = 0u32;
        // The platform is the only one in the community; a profit-seeking owner uses
        // that power to raise its commission (source 001), unless a regulator caps it.
        let profit_seeking_platform = self.model.platform == Party::Operator;
        for (i, k) in ServiceKind::ALL.iter().enumerate() {
            let offered = self.offered(*k);
            let s = &e.services[k];
            let ps = &mut self.providers[i];
            // Concentration of this year's sales, weighted by what residents asked for; a
            // service asked for that nobody provides counts as fully concentrated.
            let served: u64 = ps.iter().map(|p| p.served).sum();
            let hhi = if served > 0 {
                ps.iter()
                    .map(|p| (p.served as f64 / served as f64).powi(2))
                    .sum()
            } else if ps.is_empty() {
                1.0
            } else {
                1.0 / ps.len() as f64
            };
            let asked = self.demand_year[i] as f64;
            if offered && asked > 0.0 {
                hhi_weighted += hhi * asked;
                weight += asked;
            }
            // Exit after consecutive losses.
            for p in ps.iter_mut() {
                if p.revenue - p.costs < 0 {
                    p.loss_years += 1
                } else {
                    p.loss_years = 0
                }
            }
            ps.retain(|p| p.loss_years < m.exit_after_loss_years);
            // Market power grows with concentration above the dominance threshold: full
            // steps for a monopoly, none at or below the threshold — in every model.
            let power =
                ((hhi - m.dominance_hhi) / (1.0 - m.dominance_hhi).max(1e-9)).clamp(0.0, 1.0);
            if power > 0.0 && served > 0 {
                for p in ps.iter_mut() {
                    p.price *= 1.0 + m.monopoly_price_step * power;
                    p.quality = (p.quality * (1.0 - m.monopoly_quality_step * power)).max(0.0);
                }
            }
            // Regulation: price caps, quality floor with fines.
            if self.model.regulator {
                for p in ps.iter_mut() {
                    p.price = p.price.min(s.price * e.regulation.price_cap);
                    if p.quality < e.regulation.quality_floor {
                        let fine = (p.revenue as f64 * e.regulation.penalty_share).round() as i64;
                        ctx.journal.pay(
                            now,
                            Account::Enterprises(c),
                            Account::Government,
                            fine,
                            Purpose::Penalty,
                        );
                        p.cash -= fine;
                        p.quality = e.regulation.quality_floor;
                        self.penalties += 1;
                    }
                }
            }
            // Entry, looking forward: a newcomer expects an equal share of last year's
            // app demand on the platform, at the lowest incumbent price less the
            // commission; it enters if that covers its costs with the entry margin.
            let volume = (self.app_demand_year[i] as f64 * self.model.market_openness
                / (ps.len() as f64 + 1.0))
                .min(s.capacity * 12.0);
            let price = ps.iter().map(|p| p.price).fold(s.price, f64::min);
            let revenue = volume * price;
            let profit =
                volume * (price * (1.0 - rate(self.commission)) - s.unit_cost) - s.fixed_cost;
            let attractive = offered && revenue > 0.0 && profit >= m.entry_margin * revenue;
            if self.model.market_openness > 0.0
                && attractive
                && (ps.len() as u32) < m.max_enterprises
            {
                let entry = cents(s.fixed_cost);
                ctx.journal.pay(
                    now,
                    Account::Outside,
                    Account::Enterprises(c),
                    entry,
                    Purpose::Equity,
                );
                ctx.journal.pay(
                    now,
                    Account::Enterprises(c),
                    Account::Suppliers,
                    entry,
                    Purpose::ProviderEntry(*k),
                );
                let price = ps.iter().map(|p| p.price).fold(s.price, f64::min);
                ps.push(Provider {
                    price,
                    quality: s.quality,
                    cash: 0,
                    loss_years: 0,
                    revenue: 0,
                    costs: 0,
                    served: 0,
                });
            }
            for p in ps.iter_mut() {
                p.revenue = 0;
                p.costs = 0;
                p.served = 0;
                quality_sum += p.quality;
                count += 1;
            }
        }
        if profit_seeking_platform {
            let ceiling = e.market.commission.max(0.5);
            self.commission = (self.commission + m.monopoly_commission_step).min(ceiling);
        }
        if self.model.regulator {
            self.commission = self.commission.min(e.regulation.commission_cap);
        }
        let hhi = if weight > 0.0 {
            hhi_weighted / weight
        } else {
            0.0
        };
        let quality = if count > 0 {
            quality_sum / count as f64
        } else {
            f64::NAN
        };
        (hhi, quality, count)
    }
}

impl Behaviour for Platform {
    type Timer = Timer;

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, src: ActorId, payload: Payload) {
        match payload {
            Payload::Detected(rec) => {
                let handler = self.params.incident(rec.kind).handler;
                let dst = self.addresses.communities[self.community as usize].handler(handler);
                ctx.send(
                    dst,
                    self.params.engine.dispatch_latency_secs,
                    Payload::Assign(rec),
                );
            }
            Payload::DeviceOffline { device, .. } => {
                if self.is_maintained(device) {
                    self.send_repair(ctx, device, src);
                } else {
                    self.unrepaired.insert(device, (src, ctx.now));
                }
            }
            Payload::Funding { paid } => self.on_funding(ctx, paid),
            Payload::ServiceDemand(d) => {
                for i in 0..SERVICES {
                    self.demand.app[i] += d.app[i];
                    self.demand.traditional[i] += d.traditional[i];
                    self.demand.app_elderly[i] += d.app_elderly[i];
                    self.demand.traditional_elderly[i] += d.traditional_elderly[i];
                }
            }
            Payload::Assign(_)
            | Payload::Outcome { .. }
            | Payload::DeviceRepaired { .. }
            | Payload::FundingRequest { .. }
            | Payload::PlatformStatus { .. }
            | Payload::ServiceOutcome { .. } => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Timer) {
        match timer {
            Timer::Open => self.open(ctx),
            Timer::MarketClose(m) => {
                self.close_month(ctx);
                self.timers.push(
                    (m as SimTime + 1) * MONTH + MARKET_CLOSE,
                    Timer::MarketClose(m + 1),
                );
            }
            Timer::YearEnd(y) => self.year_end(ctx, y),
        }
    }

    fn finish(&mut self, _now: SimTime) -> Final {
        Final::default()
    }
}
