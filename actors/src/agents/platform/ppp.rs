//! A PPP concession as its partner lives it: construction financed by a loan and equity;
//! an availability payment that repays both, cut for unavailable devices; arrears when the
//! government pays less, which the partner answers by maintaining only what it is paid
//! for, and by exiting when they pass a limit; the loan's instalments every year.

use super::Platform;
use crate::agents::Ctx;
use crate::ledger::{Account, Purpose};
use civitas_twin::economy::{PppParams, capital_recovery};
use civitas_twin::kinds::Party;

impl Platform {
    /// The concession's terms, if the model has one.
    fn concession(&self) -> Option<PppParams> {
        self.model.ppp.clone()
    }

    /// Finances the partner's construction of `capex` cents: the loan share as a loan,
    /// the rest as its equity (both from outside). Returns the equity.
    pub(super) fn finance_construction(&mut self, ctx: &mut Ctx<'_>, capex: i64) -> i64 {
        let Some(ppp) = self.concession() else {
            return capex;
        };
        let loan = (capex as f64 * ppp.debt_share).round() as i64;
        let acct = Account::Operator(self.community);
        ctx.journal
            .pay(ctx.now, Account::Outside, acct, loan, Purpose::Loan);
        self.loan = loan;
        self.loan_instalment =
            (loan as f64 * capital_recovery(ppp.loan_rate, ppp.term_years)).round() as i64;
        capex - loan
    }

    /// This year's availability payment (cents, before arrears): the recovery of the
    /// partner's construction — its loan at the loan rate and its equity at the target
    /// return, over the term — plus its O&M, less its share of the partner's revenue,
    /// cut for devices that are unavailable. Nothing after the term.
    pub(super) fn availability_due(&self, year: u32) -> i64 {
        let Some(ppp) = self.concession() else {
            return 0;
        };
        if year >= ppp.term_years {
            return 0;
        }
        let capex = self.capex_of(Party::Operator) as f64;
        let capital = capex
            * (ppp.debt_share * capital_recovery(ppp.loan_rate, ppp.term_years)
                + (1.0 - ppp.debt_share) * capital_recovery(ppp.target_return, ppp.term_years));
        let om: i64 = self.device_om(Party::Operator).values().sum::<i64>() + self.platform_om();
        let offset = ppp.revenue_share * self.platform_revenue_year as f64;
        let mut payment = capital + om as f64 - offset;
        // Devices waiting for repair, and worn-out devices the partner did not replace,
        // are unavailable.
        let had = self.devices.len() as u64 + self.retired;
        if ppp.performance_based && had > 0 {
            let missing = self.unrepaired.len() as u64 + self.retired;
            payment *= 1.0 - missing as f64 / had as f64;
        }
        payment.max(0.0).round() as i64
    }

    /// The government paid `paid` of the `owed` availability payment (this year's and
    /// the arrears before it). What it did not pay becomes arrears. The partner maintains
    /// the share of its devices it was paid for; when the arrears exceed
    /// `exit_arrears_years` of the concession's mean yearly payment so far, it exits: its
    /// platform stops and it maintains nothing more.
    pub(super) fn settle_availability(&mut self, ctx: &mut Ctx<'_>, owed: i64, paid: i64) {
        let Some(ppp) = self.concession() else {
            return;
        };
        self.operator_cash += paid;
        if self.partner_exited || owed <= 0 {
            return;
        }
        self.arrears = (owed - paid).max(0);
        self.availability_due_total += self.availability_owed_this_year;
        self.availability_years += 1;
        let mean = self.availability_due_total as f64 / f64::from(self.availability_years);
        if self.arrears > 0 && self.arrears as f64 > ppp.exit_arrears_years * mean {
            self.partner_exited = true;
            self.operator_solvent = false;
            self.maintained.insert(Party::Operator, 0.0);
            self.set_operating(ctx, false);
        } else if self.operator_solvent {
            let share = (paid as f64 / owed as f64).clamp(0.0, 1.0);
            self.maintained.insert(Party::Operator, share);
        }
    }

    /// The loan's yearly instalment, at the year's settlement: interest on what is
    /// outstanding, the rest repays principal.
    pub(super) fn service_debt(&mut self, ctx: &mut Ctx<'_>) {
        let Some(ppp) = self.concession() else {
            return;
        };
        if self.loan <= 0 || self.partner_exited {
            return;
        }
        let interest = (self.loan as f64 * ppp.loan_rate).round() as i64;
        let principal = (self.loan_instalment - interest).clamp(0, self.loan);
        let acct = Account::Operator(self.community);
        ctx.journal
            .pay(ctx.now, acct, Account::Outside, interest, Purpose::Interest);
        ctx.journal.pay(
            ctx.now,
            acct,
            Account::Outside,
            principal,
            Purpose::LoanRepayment,
        );
        self.operator_cash -= interest + principal;
        self.loan -= principal;
    }
}
