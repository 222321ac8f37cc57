//! Who pays for the platform and its devices: construction booked to each investor at
//! the start; every year device user fees, data sales, the lease and O&M; and the
//! government's obligations ([`Obligation`]), asked of district finance, with what a
//! shortfall means (unmaintained devices, a stopped government platform).

use super::{Platform, Timer, YEAR_END};
use crate::agents::Ctx;
use crate::ledger::{Account, Obligations, Purpose};
use crate::message::Payload;
use civitas_twin::economy::{capital_recovery, cents};
use civitas_twin::kinds::{DeviceKind, Obligation, Party, StaffRole};
use civitas_twin::time::SimTime;
use std::collections::BTreeMap;

impl Platform {
    /// What building this community's own platform costs: a fixed part and a part per
    /// resident it serves (0 on a shared cloud platform).
    fn platform_build_cost(&self) -> f64 {
        let p = &self.context.params.economy.platform;
        p.capex + p.capex_per_resident * self.residents as f64
    }

    pub(super) fn platform_capex(&self) -> i64 {
        if self.shared {
            0
        } else {
            cents(self.platform_build_cost())
        }
    }

    /// A year's O&M of the platform: a share of its build cost, or the cloud's rent.
    pub(super) fn platform_om(&self) -> i64 {
        let p = &self.context.params.economy.platform;
        if self.shared {
            cents(p.cloud_rent_per_resident * self.residents as f64)
        } else {
            cents(self.platform_build_cost() * p.om_share)
        }
    }

    pub(super) fn device_om(&self, investor: Party) -> BTreeMap<DeviceKind, i64> {
        let mut m = BTreeMap::new();
        for d in self.devices.values().filter(|d| d.investor == investor) {
            *m.entry(d.kind).or_insert(0) +=
                cents(self.context.params.economy.device_costs[&d.kind].om);
        }
        m
    }

    pub(super) fn capex_of(&self, investor: Party) -> i64 {
        let mut total = 0;
        for d in self.devices.values().filter(|d| d.investor == investor) {
            total += cents(self.context.params.economy.device_costs[&d.kind].capex);
        }
        if self.model.platform == investor {
            total += self.platform_capex();
        }
        total
    }

    /// Construction, booked to each investor at the start.
    pub(super) fn open(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        for party in Party::ALL {
            let capex = self.capex_of(*party);
            if capex == 0 {
                continue;
            }
            let acct = self.acct(*party);
            match party {
                Party::Government => self.borrow_for_construction(ctx, capex),
                Party::Operator => {
                    let equity = self.finance_construction(ctx, capex);
                    ctx.journal
                        .pay(now, Account::Outside, acct, equity, Purpose::Equity)
                }
                _ => ctx
                    .journal
                    .pay(now, Account::Outside, acct, capex, Purpose::Equity),
            }
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
                    cents(self.context.params.economy.device_costs[&d.kind].capex);
            }
            for (k, v) in by_kind {
                ctx.journal
                    .pay(now, acct, Account::Suppliers, v, Purpose::DeviceCapex(k));
            }
        }
        self.request_funding(ctx);
        self.broadcast_status(ctx);
        self.timers.push(
            self.context.calendar.year_start(1) + YEAR_END,
            Timer::YearEnd(1),
        );
    }

    /// What the government owes this community for the coming year.
    pub(super) fn request_funding(&mut self, ctx: &mut Ctx<'_>) {
        let e = &self.context.params.economy;
        let mut owed = Obligations::default();
        owed[Obligation::DebtService] = self.interest_due;
        if self.model.platform == Party::Government {
            owed[Obligation::PlatformOm] = self.platform_om();
        }
        owed[Obligation::DeviceOm] = self.device_om(Party::Government).values().sum();
        if self.model.purchase_of_service {
            let crf = capital_recovery(e.discount_rate, e.platform.device_life_years);
            for d in self.devices.values() {
                if d.investor != Party::Government && !self.context.params.device(d.kind).marketable
                {
                    let c = &e.device_costs[&d.kind];
                    owed[Obligation::PurchaseOfService] += cents(c.om + c.capex * crf);
                }
            }
        }
        if self.model.ppp.is_some() && !self.partner_exited {
            let year = self.context.calendar.year_index(ctx.now);
            self.availability_owed_this_year = self.availability_due(year);
            owed[Obligation::AvailabilityPayment] = self.availability_owed_this_year + self.arrears;
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

    pub(super) fn on_funding(&mut self, ctx: &mut Ctx<'_>, paid: Obligations) {
        self.settle_debt_service(ctx, &paid);
        let share = |o: Obligation| {
            if self.owed[o] > 0 {
                paid[o] as f64 / self.owed[o] as f64
            } else {
                1.0
            }
        };
        // What the government paid for the platform and devices (not its own debt).
        let debt = Obligation::DebtService;
        let total_owed = self.owed.total() - self.owed[debt];
        self.funded_share = if total_owed > 0 {
            (paid.total() - paid[debt]) as f64 / total_owed as f64
        } else {
            1.0
        };
        self.maintained
            .insert(Party::Government, share(Obligation::DeviceOm));
        if self.model.platform == Party::Government {
            self.run_on(ctx, share(Obligation::PlatformOm));
        }
        // Purchase of service and availability payments fund the partner's upkeep.
        self.device_business_cash += paid[Obligation::PurchaseOfService];
        self.settle_availability(
            ctx,
            self.owed[Obligation::AvailabilityPayment],
            paid[Obligation::AvailabilityPayment],
        );
        self.repair_backlog(ctx);
    }

    /// Whoever earns the platform's revenue pays the people who run its operations, for
    /// the year's share of a full year: the government from its personnel budget (as its
    /// other staff), the operator — or the lessee of a government platform — from its
    /// cash, while solvent. A shared cloud platform's rent includes them.
    fn pay_operations_staff(&mut self, ctx: &mut Ctx<'_>, year_share: f64) {
        if self.shared {
            return;
        }
        let e = &self.context.params.economy;
        let people = e.platform.operations_staff_per_1000 * self.residents as f64 / 1000.0;
        let v = cents(people * e.wages.cost_per_person(StaffRole::PlatformStaff) * year_share);
        let now = ctx.now;
        let wages = Purpose::Wages(StaffRole::PlatformStaff);
        match self.revenue_account() {
            Account::Government => {
                ctx.journal.pay(
                    now,
                    Account::Outside,
                    Account::Government,
                    v,
                    Purpose::StaffBudget,
                );
                ctx.journal
                    .pay(now, Account::Government, Account::Suppliers, v, wages);
            }
            acct if self.operator_solvent => {
                ctx.journal.pay(now, acct, Account::Suppliers, v, wages);
                self.operator_cash -= v;
            }
            _ => {}
        }
    }

    /// A government platform paid `share` of its O&M for this year runs for that share of
    /// the year, from its start, and stops when the money runs out (until the next
    /// year's funding): partial funding buys partial service.
    fn run_on(&mut self, ctx: &mut Ctx<'_>, share: f64) {
        let cal = &self.context.calendar;
        let y = cal.year_index(ctx.now);
        let (start, end) = (cal.year_start(y), cal.year_start(y + 1));
        let until = start + ((end - start) as f64 * share.clamp(0.0, 1.0)) as SimTime;
        if share >= 1.0 - 1e-9 {
            self.set_operating(ctx, true);
        } else if until <= ctx.now {
            self.set_operating(ctx, false);
        } else {
            self.set_operating(ctx, true);
            self.timers.push(until, Timer::FundsOut(y));
        }
    }

    /// Books the year's device user fees, data sales, lease and O&M, and the property
    /// firm's staff; an operator that cannot pay its O&M becomes insolvent and, if it runs
    /// the platform, stops it. `operating_share` is the share of the year the platform
    /// operated, `year_share` the year's length as a share of a full year.
    pub(super) fn settle_books(
        &mut self,
        ctx: &mut Ctx<'_>,
        operating_share: f64,
        year_share: f64,
    ) {
        let now = ctx.now;
        let c = self.community;
        let e = self.context.params.economy.clone();
        self.service_bonds(ctx);
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
        if self.leased() {
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
        self.pay_operations_staff(ctx, year_share);
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
            self.service_debt(ctx);
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
        // The property firm pays its staff and its devices out of property fees.
        let wages = (self.property_payroll as f64 * year_share).round() as i64;
        if wages > 0 {
            ctx.journal.pay(
                now,
                Account::Outside,
                Account::PropertyFirm(c),
                wages,
                Purpose::PropertyFees,
            );
            ctx.journal.pay(
                now,
                Account::PropertyFirm(c),
                Account::Suppliers,
                wages,
                Purpose::Wages(StaffRole::Property),
            );
        }
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
    }
}
