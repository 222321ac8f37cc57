//! The community platform, run by the platform operator: one actor per community that
//! dispatches incidents ([`dispatch`]), keeps the books of the platform and its devices
//! and asks district finance for what the government owes ([`funding`]), and runs the
//! service market ([`market`]).
//!
//! Incidents: it receives every detection (device alarm or resident report) and
//! dispatches it to the micro-loop organization that handles that kind; it sends repair
//! crews to devices that stopped reporting — if whoever invested in the device pays for
//! its O&M this year. A device nobody maintains stays broken: the "image project".
//!
//! Economy (DOMAIN §4): at the start it books the construction of the platform and the
//! devices to their investors; every year it books O&M, device user fees, data
//! operations and leasing, asks district finance for what the government owes, and lets
//! the platform stop if its payer cannot pay. Every month its [`market::Market`] matches
//! residents' service requests to providers, and the platform tells the buildings what
//! share was served; every year the market closes its year (entry, exit, market power,
//! regulation).

mod bonds;
mod dispatch;
mod funding;
mod market;
mod ppp;

use super::{Behaviour, Ctx, Final};
use crate::ledger::{Account, Obligations, PlatformYear, Purpose, YearReport};
use crate::message::{ActorId, Payload, SERVICES};
use crate::timers::Timers;
use civitas_twin::economy::ModelParams;
use civitas_twin::kinds::{DeviceKind, InvestmentModel, Party, ServiceKind};
use civitas_twin::model::Community;
use civitas_twin::rng::{self, EntityRng, Stream};
use civitas_twin::time::{HOUR, SimTime, YEAR};
use market::{Market, Payee, Payment, Served};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// When, after a month boundary, the platform closes the month's market (the buildings'
/// requests, sent at the boundary, have arrived by then).
pub(crate) const MARKET_CLOSE: SimTime = HOUR;
/// When, after a year boundary, the platform settles the year and asks for funding.
pub(crate) const YEAR_END: SimTime = 2 * HOUR;

/// Timer events of a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Timer {
    /// Book construction and ask for the first year's funding.
    Open,
    /// Close month `m` (1-based count of months since the start).
    MarketClose(u32),
    /// Settle year `y - 1` and ask for year `y`'s funding.
    YearEnd(u32),
    /// The money for year `y`'s O&M of a government platform runs out.
    FundsOut(u32),
}

/// A device as the platform knows it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct DeviceInfo {
    kind: DeviceKind,
    investor: Party,
    /// The building hosting it.
    building: u32,
    /// When it was installed (or last replaced).
    installed: SimTime,
}

/// One community's platform.
#[derive(Serialize, Deserialize)]
pub(crate) struct Platform {
    community: u32,
    /// The run's parameters, calendar and addresses (not state; see [`crate::agents::Shared`]).
    #[serde(skip, default = "crate::agents::Shared::detached")]
    pub(crate) context: crate::agents::Shared,
    pub(crate) model: ModelParams,
    finance: ActorId,
    rng: EntityRng,
    timers: Timers<Timer>,
    residents: u64,
    shared: bool,
    income_factor: f64,
    devices: BTreeMap<u32, DeviceInfo>,
    device_counts: BTreeMap<DeviceKind, u32>,
    /// Broken devices waiting for someone to pay for their repair: device → its building
    /// host and when it went offline.
    unrepaired: BTreeMap<u32, (ActorId, SimTime)>,
    decommissioned: u64,
    /// Devices their owner did not replace at the end of their life, so far.
    retired: u64,
    /// Share of each investor's devices maintained this year.
    maintained: BTreeMap<Party, f64>,
    operating: bool,
    operating_since: SimTime,
    operating_secs: SimTime,
    market: Market,
    owed: Obligations,
    funded_share: f64,
    operator_cash: i64,
    operator_solvent: bool,
    device_business_cash: i64,
    platform_revenue_year: i64,
    /// What the property firm's staff cost a full year (cents; `economy::payroll`).
    property_payroll: i64,
    /// A PPP partner's loan still outstanding (cents).
    loan: i64,
    /// Its yearly instalment (cents).
    loan_instalment: i64,
    /// Availability payments the government owes and has not paid (cents).
    arrears: i64,
    /// This year's availability payment before arrears (cents).
    availability_owed_this_year: i64,
    /// Availability payments due so far, before arrears (cents), and over how many years.
    availability_due_total: i64,
    availability_years: u32,
    /// The PPP partner exited the concession.
    partner_exited: bool,
    /// Bonds the government issued for its construction here, not yet repaid.
    bonds: Vec<bonds::Bond>,
    /// Device commands sent so far (the correlation ids' counter).
    commands_sent: u64,
    /// Bond interest for the year just settled that district finance is to pay out of
    /// the allocation (`debt_service_in_allocation`; cents).
    interest_due: i64,
}

impl Platform {
    /// The platform of community `c` under `model`; its property firm's staff cost
    /// `property_payroll` cents a full year.
    pub(crate) fn new(
        c: &Community,
        model: InvestmentModel,
        property_payroll: i64,
        finance: ActorId,
        shared: crate::agents::Shared,
        seed: u64,
    ) -> Self {
        let params = shared.params.clone();
        let calendar = shared.calendar.clone();

        let mp = params.economy.models[&model].clone();
        let mut building_of = BTreeMap::new();
        for (b, ids) in c.devices_by_building().iter().enumerate() {
            for &d in ids {
                building_of.insert(d, b as u32);
            }
        }
        let devices: BTreeMap<u32, DeviceInfo> = c
            .devices
            .iter()
            .map(|d| {
                let info = DeviceInfo {
                    kind: d.kind,
                    investor: d.investor,
                    building: building_of.get(&d.id).copied().unwrap_or(u32::MAX),
                    installed: 0,
                };
                (d.id, info)
            })
            .collect();
        let mut device_counts = BTreeMap::new();
        for d in devices.values() {
            *device_counts.entry(d.kind).or_insert(0) += 1;
        }
        let income_factor = civitas_twin::economy::income_factor(&params, c.region);
        let mut timers = Timers::default();
        timers.push(YEAR_END, Timer::Open);
        timers.push(
            calendar.month_start(1) + MARKET_CLOSE,
            Timer::MarketClose(1),
        );
        let mut platform = Platform {
            community: c.index,
            market: Market::new(c.index, &params.economy, &mp, &[false; SERVICES]),
            context: shared,
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
            retired: 0,
            maintained: Party::ALL.iter().map(|p| (*p, 1.0)).collect(),
            operating: true,
            operating_since: 0,
            operating_secs: 0,
            owed: Obligations::default(),
            funded_share: 1.0,
            operator_cash: 0,
            operator_solvent: true,
            device_business_cash: 0,
            platform_revenue_year: 0,
            property_payroll,
            loan: 0,
            loan_instalment: 0,
            arrears: 0,
            availability_owed_this_year: 0,
            availability_due_total: 0,
            availability_years: 0,
            partner_exited: false,
            bonds: Vec::new(),
            commands_sent: 0,
            interest_due: 0,
        };
        platform.market = Market::new(
            c.index,
            &platform.context.params.economy,
            &platform.model,
            &platform.offered_services(),
        );
        platform
    }

    fn acct(&self, p: Party) -> Account {
        match p {
            Party::Government => Account::Government,
            Party::Operator => Account::Operator(self.community),
            Party::PropertyFirm => Account::PropertyFirm(self.community),
            Party::Enterprise => Account::Enterprises(self.community),
        }
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
        for (i, k) in ServiceKind::ALL.iter().enumerate() {
            prices[i] = self.market.price_factor(&self.context.params.economy, *k) as f32;
        }
        let offered = self.offered_services();
        for &s in &self.context.addresses.communities[self.community as usize].buildings {
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
        self.context.params.economy.services[&k]
            .needs_device
            .is_none_or(|d| self.device_counts.get(&d).copied().unwrap_or(0) > 0)
    }

    /// [`Self::offered`] for every service kind, in [`ServiceKind::ALL`] order.
    fn offered_services(&self) -> [bool; SERVICES] {
        let mut offered = [false; SERVICES];
        for (i, k) in ServiceKind::ALL.iter().enumerate() {
            offered[i] = self.offered(*k);
        }
        offered
    }

    /// Who earns the platform's commission and data revenue: its owner, or under leasing
    /// the operator that rents it (and pays rent to the government) while it is solvent.
    pub(super) fn revenue_account(&self) -> Account {
        if self.model.platform == Party::Government && !self.leased() {
            Account::Government
        } else {
            Account::Operator(self.community)
        }
    }

    /// Whether a lessee runs this government platform's market: under leasing, until the
    /// lessee goes insolvent and the government takes the platform back (§20).
    pub(super) fn leased(&self) -> bool {
        self.model.leasing && self.operator_solvent
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

    /// Books what the market asked for, in order; the platform's share goes to its
    /// earner.
    fn book(&mut self, ctx: &mut Ctx<'_>, payments: Vec<Payment>) {
        for p in payments {
            match p.to {
                Payee::Platform => self.earn(ctx, p.from, p.cents, p.purpose),
                Payee::Account(to) => ctx.journal.pay(ctx.now, p.from, to, p.cents, p.purpose),
            }
        }
    }

    /// Closes the month's market and tells the buildings what share was served.
    fn close_month(&mut self, ctx: &mut Ctx<'_>) {
        let offered = self.offered_services();
        let close = self
            .market
            .close_month(&self.context.params.economy, &offered, self.operating);
        self.book(ctx, close.payments);
        let Served {
            app,
            traditional,
            app_quality,
            traditional_quality,
        } = close.served;
        for &s in &self.context.addresses.communities[self.community as usize].buildings {
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
        if self.operating {
            self.operating_secs += now - self.operating_since;
            self.operating_since = now;
        }
        // The share of the calendar year just ended (the first may be partial).
        let span =
            self.context.calendar.year_start(year) - self.context.calendar.year_start(year - 1);
        let operating_share = (self.operating_secs as f64 / span.max(1) as f64).min(1.0);
        self.operating_secs = 0;
        let year_share = (span as f64 / YEAR as f64).min(1.0);
        self.settle_books(ctx, operating_share, year_share);
        if self.model.regulator {
            self.decommission_stale(now);
        }
        let offered = self.offered_services();
        let market = self
            .market
            .close_year(&self.context.params.economy, &offered);
        self.book(ctx, market.payments);
        let report = PlatformYear {
            year: year - 1,
            community: self.community,
            operating: operating_share,
            commission: market.commission,
            price_index: market.price_index,
            hhi: market.hhi,
            providers: market.providers,
            quality: market.quality,
            funded_share: self.funded_share,
            enterprise_paid_share: self
                .maintained
                .get(&Party::Enterprise)
                .copied()
                .unwrap_or(1.0),
            unrepaired: self.unrepaired.len() as u64,
            decommissioned: self.decommissioned,
            retired: self.retired,
            arrears: self.arrears,
            partner_exited: self.partner_exited,
            penalties: market.penalties,
            operator_solvent: self.operator_solvent,
            operator_cash: self.operator_cash,
        };
        ctx.journal
            .report(ctx.now, YearReport::Platform(Box::new(report)));
        // The request uses the year's revenue (PPP offset) before it is reset.
        self.request_funding(ctx);
        self.platform_revenue_year = 0;
        self.broadcast_status(ctx);
        self.timers.push(
            self.context.calendar.year_start(year + 1) + YEAR_END,
            Timer::YearEnd(year + 1),
        );
    }
}

impl Behaviour for Platform {
    type Timer = Timer;

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, src: ActorId, payload: Payload) {
        match payload {
            Payload::Detected(rec) => self.dispatch(ctx, rec),
            Payload::DeviceOffline { device, .. } => self.on_offline(ctx, device, src),
            Payload::Funding { paid } => self.on_funding(ctx, paid),
            Payload::ServiceDemand(d) => self.market.add_demand(&d),
            p @ (Payload::Assign(_)
            | Payload::Outcome { .. }
            | Payload::DeviceRepaired { .. }
            | Payload::FundingRequest { .. }
            | Payload::PlatformStatus { .. }
            | Payload::ServiceOutcome { .. }
            | Payload::Command { .. }
            | Payload::Inject(_)) => {
                let by = format!("the platform of community {}", self.community);
                ctx.unexpected(by, &p);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Timer) {
        match timer {
            Timer::Open => self.open(ctx),
            Timer::MarketClose(m) => {
                self.close_month(ctx);
                self.timers.push(
                    self.context.calendar.month_start(m + 1) + MARKET_CLOSE,
                    Timer::MarketClose(m + 1),
                );
            }
            Timer::YearEnd(y) => self.year_end(ctx, y),
            Timer::FundsOut(y) => {
                if self.context.calendar.year_index(ctx.now) == y {
                    self.set_operating(ctx, false);
                }
            }
        }
    }

    fn finish(&mut self, _now: SimTime) -> Final {
        Final::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Agent;
    use crate::agents::testing::{WINDOW, envelope, run};
    use crate::message::Demand;
    use civitas_twin::kinds::EstateAge;
    use civitas_twin::time::DAY;

    /// January 2026 (the default start): the first market close falls on 1 February.
    const MONTH: SimTime = 31 * DAY;

    /// The platform of a 400-resident new estate under `model`, and its address.
    fn platform_of(
        model: InvestmentModel,
        p: &civitas_twin::params::Parameters,
    ) -> (ActorId, Box<Platform>) {
        let d = crate::agents::testing::district(400, EstateAge::New, p);
        crate::assembly::Assembly::build(&d, p, 1, model)
            .agents
            .into_iter()
            .enumerate()
            .find_map(|(i, a)| match a {
                Agent::Platform(pl) => Some((ActorId(i as u32), pl)),
                _ => None,
            })
            .expect("a platform")
    }

    /// Month 1's close of a hybrid platform whose lessee is `solvent`, with 30 app and 10
    /// traditional requests for food from the first building.
    fn close_month_one(solvent: bool) -> (Box<Platform>, crate::agents::StepOutput) {
        let p = civitas_twin::params::Parameters::default();
        let (me, mut platform) = platform_of(InvestmentModel::Hybrid, &p);
        platform.operator_solvent = solvent;
        let buildings = platform.context.addresses.communities[0].buildings.clone();
        // Only month 1's close; the requests arrive at the month's end.
        platform.timers = Timers::default();
        platform
            .timers
            .push(MONTH + MARKET_CLOSE, Timer::MarketClose(1));
        let mut d = Demand::default();
        d.app[ServiceKind::Food.index()] = 30;
        d.traditional[ServiceKind::Food.index()] = 10;
        let inbox = vec![envelope(
            MONTH,
            buildings[0],
            1,
            me,
            Payload::ServiceDemand(Box::new(d)),
        )];
        let out = run(
            platform.as_mut(),
            me,
            inbox,
            MONTH,
            MONTH + MARKET_CLOSE + WINDOW,
        );
        (platform, out)
    }

    fn commission(out: &crate::agents::StepOutput) -> Vec<(Account, i64)> {
        out.journal
            .transfers()
            .filter(|t| matches!(t.purpose, Purpose::Commission(ServiceKind::Food)))
            .map(|t| (t.to, t.cents))
            .collect()
    }

    #[test]
    fn the_monthly_close_books_the_sales_and_tells_every_building_the_shares_served() {
        let (platform, out) = close_month_one(true);
        let buildings = platform.context.addresses.communities[0].buildings.clone();
        let end = MONTH + MARKET_CLOSE + WINDOW;
        let told: Vec<ActorId> = out.out.iter().map(|e| e.dst).collect();
        assert_eq!(told, buildings);
        for e in &out.out {
            assert_eq!(e.at, end);
            let Payload::ServiceOutcome {
                app, traditional, ..
            } = e.payload
            else {
                panic!("expected a service outcome, got {:?}", e.payload)
            };
            assert!(app > 0.0 && app <= 1.0 && traditional > 0.0 && traditional <= 1.0);
            assert_eq!(
                e.payload, out.out[0].payload,
                "the same shares for every building"
            );
        }
        // The platform's commission goes to the operator leasing the government's platform.
        let commission = commission(&out);
        assert!(!commission.is_empty());
        assert!(
            commission
                .iter()
                .all(|&(to, v)| to == Account::Operator(0) && v > 0)
        );
        let total: i64 = commission.iter().map(|(_, v)| v).sum();
        assert_eq!(platform.operator_cash, total, "its cash started at 0");
        assert_eq!(platform.platform_revenue_year, total);
        // February 2026 has 28 days.
        assert_eq!(
            platform.timers.next_at(),
            Some(MONTH + 28 * DAY + MARKET_CLOSE)
        );
    }

    #[test]
    fn an_insolvent_lessee_hands_the_platform_back_and_the_government_earns_its_commission() {
        let (platform, out) = close_month_one(false);
        let commission = commission(&out);
        assert!(!commission.is_empty());
        assert!(
            commission
                .iter()
                .all(|&(to, v)| to == Account::Government && v > 0)
        );
        assert_eq!(platform.operator_cash, 0, "the lessee earns nothing more");
        assert!(!platform.leased());
        assert_eq!(platform.revenue_account(), Account::Government);
    }

    #[test]
    fn a_government_platform_paid_part_of_its_om_runs_for_that_part_of_the_year() {
        use crate::ledger::Obligations;
        use civitas_twin::kinds::Obligation;
        let p = civitas_twin::params::Parameters::default();
        let (me, mut platform) = platform_of(InvestmentModel::Hybrid, &p);
        assert_eq!(platform.model.platform, Party::Government, "hybrid");
        platform.timers = Timers::default();
        platform.owed = Obligations::default();
        platform.owed[Obligation::PlatformOm] = 1_000;
        let mut paid = Obligations::default();
        paid[Obligation::PlatformOm] = 250;
        let at = 3 * HOUR;
        let finance = platform.finance;
        let inbox = vec![envelope(at, finance, 1, me, Payload::Funding { paid })];
        let out = run(platform.as_mut(), me, inbox, at, at + WINDOW);
        assert!(platform.operating, "it runs while the money lasts");
        assert!(out.out.is_empty(), "no change to announce: {:?}", out.out);
        // A quarter of 2026 (365 days) from its start.
        let until = 365 * DAY / 4;
        assert_eq!(platform.timers.next_at(), Some(until));
        let out = run(platform.as_mut(), me, Vec::new(), until, until + WINDOW);
        assert!(!platform.operating);
        let buildings = platform.context.addresses.communities[0].buildings.clone();
        let told: Vec<ActorId> = out
            .out
            .iter()
            .filter(|e| {
                matches!(
                    e.payload,
                    Payload::PlatformStatus {
                        operating: false,
                        ..
                    }
                )
            })
            .map(|e| e.dst)
            .collect();
        assert_eq!(told, buildings, "every building hears it stopped");
    }

    #[test]
    fn a_ppp_partner_paid_half_maintains_half_and_exits_when_arrears_pass_a_year_of_payments() {
        use crate::ledger::Obligations;
        use civitas_twin::kinds::Obligation;
        let p = civitas_twin::params::Parameters::default();
        let (me, mut platform) = platform_of(InvestmentModel::Ppp, &p);
        platform.timers = Timers::default();
        let finance = platform.finance;
        let fund = |platform: &mut Platform, at: SimTime, due: i64, owed: i64, paid: i64| {
            platform.availability_owed_this_year = due;
            platform.owed = Obligations::default();
            platform.owed[Obligation::AvailabilityPayment] = owed;
            let mut p = Obligations::default();
            p[Obligation::AvailabilityPayment] = paid;
            let inbox = vec![envelope(at, finance, 1, me, Payload::Funding { paid: p })];
            run(platform, me, inbox, at, at + WINDOW)
        };
        // Year 0: half of 1,000 paid. The partner keeps going on half its maintenance.
        let cash = platform.operator_cash;
        fund(platform.as_mut(), 3 * HOUR, 1_000, 1_000, 500);
        assert_eq!(platform.operator_cash - cash, 500);
        assert_eq!(platform.arrears, 500);
        assert_eq!(platform.maintained[&Party::Operator], 0.5);
        assert!(platform.operating && !platform.partner_exited);
        // Year 1: 1,000 due and 500 in arrears; 250 paid leaves 1,250 owed, more than a
        // year of payments: the partner exits and its platform stops.
        let at = platform.context.calendar.year_start(1) + 3 * HOUR;
        let out = fund(platform.as_mut(), at, 1_000, 1_500, 250);
        assert_eq!(platform.arrears, 1_250);
        assert!(platform.partner_exited && !platform.operator_solvent);
        assert_eq!(platform.maintained[&Party::Operator], 0.0);
        assert!(!platform.operating);
        assert!(
            out.out.iter().any(|e| matches!(
                e.payload,
                Payload::PlatformStatus {
                    operating: false,
                    ..
                }
            )),
            "the buildings hear the platform stopped"
        );
    }

    /// A worn-out device of an enterprise that goes offline: the platform sends a
    /// replacement its owner pays for if the owner has `cash` for it, else retires it.
    fn wear_out(cash: i64) -> (Box<Platform>, crate::agents::StepOutput, u32, i64) {
        let p = civitas_twin::params::Parameters::default();
        let (me, mut platform) = platform_of(InvestmentModel::Hybrid, &p);
        platform.timers = Timers::default();
        let (&device, info) = platform
            .devices
            .iter()
            .find(|(_, d)| d.investor == Party::Enterprise)
            .expect("hybrid: enterprises own the marketable devices");
        let capex = civitas_twin::economy::cents(p.economy.device_costs[&info.kind].capex);
        let kind = info.kind;
        platform.device_business_cash = cash;
        let at = p.economy.platform.device_life_years as SimTime * civitas_twin::time::YEAR + 3600;
        let host = platform.context.addresses.communities[0].buildings[0];
        let inbox = vec![envelope(
            at,
            host,
            1,
            me,
            Payload::DeviceOffline { device, kind },
        )];
        let out = run(platform.as_mut(), me, inbox, at, at + WINDOW);
        (platform, out, device, capex)
    }

    #[test]
    fn an_owner_with_the_cash_replaces_a_worn_out_device_and_one_without_retires_it() {
        let (platform, out, device, capex) = wear_out(1_000_000_000);
        assert!(
            matches!(
                out.out.as_slice(),
                [e] if e.payload == Payload::DeviceRepaired { device, replaced: true }
            ),
            "{:?}",
            out.out
        );
        let paid: Vec<(Account, i64)> = out
            .journal
            .transfers()
            .filter(|t| matches!(t.purpose, Purpose::DeviceCapex(_)))
            .map(|t| (t.from, t.cents))
            .collect();
        assert_eq!(paid, vec![(Account::Enterprises(0), capex)]);
        assert_eq!(platform.device_business_cash, 1_000_000_000 - capex);
        assert!(platform.devices[&device].installed > 0, "a new life");
        assert_eq!(platform.retired, 0);

        let (platform, out, device, _) = wear_out(0);
        assert!(out.out.is_empty(), "no crew: {:?}", out.out);
        assert_eq!(out.journal.transfers().count(), 0);
        assert!(!platform.devices.contains_key(&device));
        assert_eq!(platform.retired, 1);
    }
}
