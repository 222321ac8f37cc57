//! District finance: the government as funder. Once a year it receives what each
//! community's platform says the government owes (platform O&M, O&M of government
//! devices, purchase of service, PPP availability payments), sets the year's budget from
//! its fiscal capacity less competing demands, and pays in that priority order; when the
//! budget falls short, every community gets the same share of each obligation.
//!
//! It also pays the government's staff (committee, grid, street office, department
//! crews; `economy::payroll`) for the coming year, from a personnel budget of their own
//! ([`Purpose::StaffBudget`]): wages are committed spending, so they never compete with
//! the platform for the smart-community allocation.

use super::{Behaviour, Ctx, Final};
use crate::ledger::{Account, Obligations, Purpose};
use crate::message::{ActorId, Payload};
use crate::timers::Timers;
use civitas_twin::economy::cents;
use civitas_twin::kinds::{Obligation, Region, StaffRole};
use civitas_twin::rng::{self, EntityRng, Stream};
use civitas_twin::time::{HOUR, SimTime, YEAR};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A community as finance sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Funded {
    /// Its platform.
    pub(crate) platform: ActorId,
    /// Residents.
    pub(crate) residents: u64,
    /// Region.
    pub(crate) region: Region,
}

/// Time after the local start of the year (and after the start of the run) at which
/// finance decides, after platforms have asked.
pub(crate) const DECIDE_AT: SimTime = 3 * HOUR;

/// The district's finance office.
#[derive(Serialize, Deserialize)]
pub(crate) struct Finance {
    /// The run's parameters, calendar and addresses (not state; see [`crate::agents::Shared`]).
    #[serde(skip, default = "crate::agents::Shared::detached")]
    pub(crate) context: crate::agents::Shared,
    communities: Vec<Funded>,
    /// What the government's staff cost a full year, by role (cents).
    payroll: Vec<(StaffRole, i64)>,
    requests: BTreeMap<u32, Obligations>,
    rng: EntityRng,
    timers: Timers<u32>,
}

impl Finance {
    /// Finance for `communities` (indexed by community), paying `payroll` (cents a full
    /// year, by role) for the government's staff.
    pub(crate) fn new(
        communities: Vec<Funded>,
        payroll: Vec<(StaffRole, i64)>,
        shared: crate::agents::Shared,
        seed: u64,
    ) -> Self {
        let mut timers = Timers::default();
        timers.push(DECIDE_AT, 0);
        Finance {
            context: shared,
            communities,
            payroll,
            requests: BTreeMap::new(),
            rng: rng::stream(seed, u32::MAX - 2, Stream::Organization, 0),
            timers,
        }
    }

    /// This year's budget (cents): capacity less a draw of competing demands.
    fn budget(&mut self) -> i64 {
        let f = &self.context.params.economy.fiscal;
        let capacity: f64 = self
            .communities
            .iter()
            .map(|c| f.capacity_per_resident(c.region) * c.residents as f64)
            .sum();
        let u: f64 = self.rng.random::<f64>() * 2.0 - 1.0;
        let competing = (f.competing_demand_mean + u * f.competing_demand_spread).clamp(0.0, 1.0);
        cents(capacity * (1.0 - competing))
    }

    /// Pays the government's staff for `year`, in proportion to its length (the first
    /// may be partial).
    fn pay_staff(&mut self, ctx: &mut Ctx<'_>, year: u32) {
        let cal = &self.context.calendar;
        let span = cal.year_start(year + 1) - cal.year_start(year);
        let share = (span as f64 / YEAR as f64).min(1.0);
        let due: Vec<(StaffRole, i64)> = self
            .payroll
            .iter()
            .map(|&(role, full)| (role, (full as f64 * share).round() as i64))
            .collect();
        let total: i64 = due.iter().map(|(_, v)| v).sum();
        if total == 0 {
            return;
        }
        let now = ctx.now;
        ctx.journal.pay(
            now,
            Account::Outside,
            Account::Government,
            total,
            Purpose::StaffBudget,
        );
        for (role, v) in due {
            ctx.journal.pay(
                now,
                Account::Government,
                Account::Suppliers,
                v,
                Purpose::Wages(role),
            );
        }
    }

    /// What the fiscal red line leaves for this concession's payments in a year (cents):
    /// the red line's share of the general public budget's spending, less what the
    /// district's other PPP projects take.
    fn ppp_room(&self) -> i64 {
        let f = &self.context.params.economy.fiscal;
        let spending: f64 = self
            .communities
            .iter()
            .map(|c| f.general_budget_per_resident(c.region) * c.residents as f64)
            .sum();
        cents(spending * (f.ppp_red_line - f.other_ppp_share).max(0.0))
    }

    fn decide(&mut self, ctx: &mut Ctx<'_>, year: u32) {
        self.pay_staff(ctx, year);
        let budget = self.budget();
        let now = ctx.now;
        ctx.journal.pay(
            now,
            Account::Outside,
            Account::Government,
            budget,
            Purpose::FiscalAllocation,
        );
        let mut left = budget;
        let mut paid: BTreeMap<u32, Obligations> = BTreeMap::new();
        for &o in Obligation::ALL {
            let total: i64 = self.requests.values().map(|owed| owed[o]).sum();
            if total <= 0 {
                continue;
            }
            // Everyone gets the same share of this obligation; PPP payments within the
            // fiscal red line.
            let available = match o {
                Obligation::AvailabilityPayment => left.min(self.ppp_room()),
                _ => left,
            };
            let share = (available as f64 / total as f64).min(1.0);
            for (&c, owed) in &self.requests {
                let amount = ((owed[o] as f64) * share).floor() as i64;
                let (to, purpose) = match o {
                    Obligation::DebtService => (Account::Outside, Purpose::Interest),
                    Obligation::PlatformOm => (Account::Suppliers, Purpose::PlatformOm),
                    Obligation::DeviceOm => (Account::Suppliers, Purpose::GovernmentDeviceOm),
                    Obligation::PurchaseOfService => {
                        (Account::Enterprises(c), Purpose::PurchaseOfService)
                    }
                    Obligation::AvailabilityPayment => {
                        (Account::Operator(c), Purpose::AvailabilityPayment)
                    }
                };
                ctx.journal
                    .pay(now, Account::Government, to, amount, purpose);
                left -= amount;
                paid.entry(c).or_default()[o] = amount;
            }
        }
        ctx.journal.pay(
            now,
            Account::Government,
            Account::Outside,
            left,
            Purpose::FiscalReturn,
        );
        for c in std::mem::take(&mut self.requests).into_keys() {
            let dst = self.communities[c as usize].platform;
            ctx.send(
                dst,
                0,
                Payload::Funding {
                    paid: paid.get(&c).copied().unwrap_or_default(),
                },
            );
        }
        self.timers.push(
            self.context.calendar.year_start(year + 1) + DECIDE_AT,
            year + 1,
        );
    }
}

impl Behaviour for Finance {
    type Timer = u32;

    fn timers(&mut self) -> &mut Timers<u32> {
        &mut self.timers
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, _src: ActorId, payload: Payload) {
        match payload {
            Payload::FundingRequest { community, owed } => {
                self.requests.insert(community, owed);
            }
            p @ (Payload::DeviceRepaired { .. }
            | Payload::Detected(_)
            | Payload::DeviceOffline { .. }
            | Payload::Assign(_)
            | Payload::Outcome { .. }
            | Payload::Funding { .. }
            | Payload::PlatformStatus { .. }
            | Payload::ServiceDemand(_)
            | Payload::Inject(_)
            | Payload::Command { .. }
            | Payload::ServiceOutcome { .. }) => ctx.unexpected("district finance", &p),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, year: u32) {
        self.decide(ctx, year);
    }

    fn finish(&mut self, _now: SimTime) -> Final {
        Final::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::testing::{WINDOW, envelope, run};

    fn owed(items: &[(Obligation, i64)]) -> Obligations {
        let mut o = Obligations::default();
        for &(k, v) in items {
            o[k] = v;
        }
        o
    }

    #[test]
    fn a_short_budget_pays_obligations_in_priority_order_and_everyone_the_same_share() {
        use civitas_twin::params::Parameters;
        // Two communities of 1,000 residents, 1 yuan each of fiscal capacity and no
        // competing demands: a budget of 2,000 yuan.
        let mut p = Parameters::default();
        let f = &mut p.economy.fiscal;
        (
            f.capacity_per_resident_developed,
            f.competing_demand_mean,
            f.competing_demand_spread,
        ) = (1.0, 0.0, 0.0);
        let funded = |platform| Funded {
            platform: ActorId(platform),
            residents: 1000,
            region: Region::Developed,
        };
        let me = ActorId(30);
        let mut finance = Finance::new(
            vec![funded(10), funded(11)],
            Vec::new(),
            crate::agents::testing::context(&p),
            1,
        );
        let a = owed(&[
            (Obligation::PlatformOm, 100_000),
            (Obligation::DeviceOm, 60_000),
            (Obligation::PurchaseOfService, 40_000),
        ]);
        let b = owed(&[
            (Obligation::PlatformOm, 50_000),
            (Obligation::DeviceOm, 40_000),
            (Obligation::AvailabilityPayment, 100_000),
        ]);
        let request = |src, community, owed| {
            envelope(
                2 * HOUR,
                ActorId(src),
                1,
                me,
                Payload::FundingRequest { community, owed },
            )
        };
        let inbox = vec![request(10, 0, a), request(11, 1, b)];
        let out = run(&mut finance, me, inbox, 2 * HOUR, DECIDE_AT + WINDOW);

        // Platform O&M in full (1,500 yuan), then half of each device O&M; nothing left.
        let paid: Vec<(ActorId, Obligations)> = out
            .out
            .iter()
            .map(|e| match e.payload {
                Payload::Funding { paid } => (e.dst, paid),
                ref other => panic!("expected funding, got {other:?}"),
            })
            .collect();
        assert_eq!(
            paid,
            vec![
                (
                    ActorId(10),
                    owed(&[
                        (Obligation::PlatformOm, 100_000),
                        (Obligation::DeviceOm, 30_000)
                    ])
                ),
                (
                    ActorId(11),
                    owed(&[
                        (Obligation::PlatformOm, 50_000),
                        (Obligation::DeviceOm, 20_000)
                    ])
                ),
            ]
        );
        let booked: Vec<(Account, i64, Purpose)> = out
            .journal
            .transfers()
            .map(|t| (t.to, t.cents, t.purpose))
            .collect();
        assert_eq!(
            booked,
            vec![
                (Account::Government, 200_000, Purpose::FiscalAllocation),
                (Account::Suppliers, 100_000, Purpose::PlatformOm),
                (Account::Suppliers, 50_000, Purpose::PlatformOm),
                (Account::Suppliers, 30_000, Purpose::GovernmentDeviceOm),
                (Account::Suppliers, 20_000, Purpose::GovernmentDeviceOm),
            ]
        );
    }

    #[test]
    fn ppp_payments_stay_within_the_fiscal_red_line() {
        use civitas_twin::params::Parameters;
        // 1,000 residents with a general budget of 1,000 yuan each (1 M yuan): the red
        // line of 10% less 9.5% taken by other PPPs leaves 5,000 yuan, however much the
        // smart-community budget could pay.
        let mut p = Parameters::default();
        let f = &mut p.economy.fiscal;
        (
            f.capacity_per_resident_developed,
            f.competing_demand_mean,
            f.competing_demand_spread,
        ) = (100.0, 0.0, 0.0);
        (
            f.general_budget_per_resident_developed,
            f.ppp_red_line,
            f.other_ppp_share,
        ) = (1_000.0, 0.10, 0.095);
        let me = ActorId(30);
        let mut finance = Finance::new(
            vec![Funded {
                platform: ActorId(10),
                residents: 1000,
                region: Region::Developed,
            }],
            Vec::new(),
            crate::agents::testing::context(&p),
            1,
        );
        let owed = owed(&[(Obligation::AvailabilityPayment, 2_000_000)]);
        let inbox = vec![envelope(
            2 * HOUR,
            ActorId(10),
            1,
            me,
            Payload::FundingRequest { community: 0, owed },
        )];
        let out = run(&mut finance, me, inbox, 2 * HOUR, DECIDE_AT + WINDOW);
        let paid: i64 = out
            .journal
            .transfers()
            .filter(|t| t.purpose == Purpose::AvailabilityPayment)
            .map(|t| t.cents)
            .sum();
        assert_eq!(paid, 500_000, "5,000 yuan of the 20,000 owed");
    }
}
