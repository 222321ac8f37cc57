//! The government's construction capital is borrowed: each time it builds (the platform
//! and its devices at the start) or replaces a device (§17.1 of MODEL.md), it issues a
//! bond for the amount, pays interest on it every year at the settlement, and repays it
//! at maturity. The interest is paid from the general budget, or — with
//! `economy.fiscal.debt_service_in_allocation` — asked of district finance as the first
//! call on the smart-community allocation ([`Obligation::DebtService`]), so that
//! building competes with running.

use super::Platform;
use crate::agents::Ctx;
use crate::ledger::{Account, Obligations, Purpose};
use civitas_twin::kinds::Obligation;
use civitas_twin::time::{SimTime, YEAR};
use serde::{Deserialize, Serialize};

/// One bond the government issued for this community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Bond {
    /// When it was issued.
    issued: SimTime,
    /// The year (0-based) at whose start it is repaid.
    maturity: u32,
    /// Principal (cents).
    cents: i64,
}

impl Platform {
    /// The government borrows `cents` now for its construction: the bond's proceeds
    /// arrive as its capital budget, and the bond is serviced from the next settlement.
    pub(super) fn borrow_for_construction(&mut self, ctx: &mut Ctx<'_>, cents: i64) {
        if cents <= 0 {
            return;
        }
        let now = ctx.now;
        ctx.journal.pay(
            now,
            Account::Outside,
            Account::Government,
            cents,
            Purpose::CapitalBudget,
        );
        let years = self.context.params.economy.fiscal.bond_years;
        let maturity = self.context.calendar.year_index(now) + years;
        self.bonds.push(Bond {
            issued: now,
            maturity,
            cents,
        });
    }

    /// At the settlement of the year that just ended (year `y − 1`, settled at the start
    /// of `y`): interest on every bond for the part of that year it was outstanding, and
    /// the principal of those maturing now.
    pub(super) fn service_bonds(&mut self, ctx: &mut Ctx<'_>) {
        if self.bonds.is_empty() {
            return;
        }
        let cal = &self.context.calendar;
        let y = cal.year_index(ctx.now);
        let (from, to) = (cal.year_start(y.saturating_sub(1)), cal.year_start(y));
        let rate = self.context.params.economy.fiscal.bond_rate;
        let interest: f64 = self
            .bonds
            .iter()
            .map(|b| {
                let held = to.saturating_sub(b.issued.max(from)) as f64 / YEAR as f64;
                b.cents as f64 * rate * held.min(1.0)
            })
            .sum();
        let now = ctx.now;
        let interest = interest.round() as i64;
        if self
            .context
            .params
            .economy
            .fiscal
            .debt_service_in_allocation
        {
            self.interest_due = interest;
        } else {
            ctx.journal.pay(
                now,
                Account::Government,
                Account::Outside,
                interest,
                Purpose::Interest,
            );
        }
        let due: i64 = self
            .bonds
            .iter()
            .filter(|b| b.maturity <= y)
            .map(|b| b.cents)
            .sum();
        ctx.journal.pay(
            now,
            Account::Government,
            Account::Outside,
            due,
            Purpose::LoanRepayment,
        );
        self.bonds.retain(|b| b.maturity > y);
    }

    /// When finance has paid out of the allocation: a bond is never in default, so any
    /// interest the allocation could not cover is paid from the general budget.
    pub(super) fn settle_debt_service(&mut self, ctx: &mut Ctx<'_>, paid: &Obligations) {
        let short = self.owed[Obligation::DebtService] - paid[Obligation::DebtService];
        self.interest_due = 0;
        ctx.journal.pay(
            ctx.now,
            Account::Government,
            Account::Outside,
            short.max(0),
            Purpose::Interest,
        );
    }
}
