//! Money is conserved: every cent paid by one account is received by another or spent
//! on a named cost, and what each behaviour believes it holds agrees with the ledger.

use civitas_actors::ledger::{Account, YearReport};
use civitas_scenarios::library::load;
use civitas_scenarios::runner::{RunOptions, run};
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::time::HOUR;
use std::collections::BTreeMap;

#[test]
fn every_cent_paid_is_received_and_the_operator_books_agree_with_the_ledger() {
    let s = load("default").unwrap();
    for model in InvestmentModel::ALL {
        let opts = RunOptions {
            seed: 3,
            horizon: s.calendar.year_start(3) + 3 * HOUR,
            workers: 2,
            model: *model,
        };
        let r = run(&s, opts, |_| {}).unwrap();
        assert!(!r.transfers.is_empty());
        let mut balance: BTreeMap<Account, i64> = BTreeMap::new();
        for t in &r.transfers {
            assert!(t.cents > 0, "{t:?}");
            assert_ne!(t.from, t.to, "{t:?}");
            *balance.entry(t.from).or_default() -= t.cents;
            *balance.entry(t.to).or_default() += t.cents;
        }
        assert_eq!(
            balance.values().sum::<i64>(),
            0,
            "{model}: the ledger sums to zero"
        );
        // The operator's own books, reported each year, match the ledger up to that time.
        for rep in &r.reports {
            let YearReport::Platform(p) = rep else {
                continue;
            };
            let at = s.calendar.year_start(p.year + 1) + 2 * HOUR;
            let ledger: i64 = r
                .transfers
                .iter()
                .filter(|t| t.at <= at)
                .map(|t| match (t.from, t.to) {
                    (Account::Operator(_), _) => -t.cents,
                    (_, Account::Operator(_)) => t.cents,
                    _ => 0,
                })
                .sum();
            assert_eq!(ledger, p.operator_cash, "{model}, year {}", p.year);
        }
    }
}

/// The government's books are an identity for every preset and model: in every year,
/// net spending = capital + O&M + purchases + staff + interest − income (its platform's
/// commission and data sales included when it runs the platform). The district presets are scaled down to
/// four communities of the same size and parameters, so the test runs in seconds.
#[test]
fn the_governments_net_spending_is_capital_plus_om_plus_purchases_staff_and_interest_less_income() {
    use civitas_scenarios::compare::run_one;
    use civitas_scenarios::file::World;
    use civitas_scenarios::library::PRESETS;
    use civitas_scenarios::metrics::K;
    for preset in PRESETS {
        let mut s = load(preset.name).unwrap();
        if let World::District(d) = &mut s.world {
            let per_community = d.residents / d.communities.max(1);
            (d.street_offices, d.communities) = (2, 4);
            d.residents = per_community * 4;
        }
        for model in InvestmentModel::ALL {
            let (k, _) = run_one(&s, *model, 1, 2).unwrap();
            for (y, row) in k.yearly.iter().enumerate() {
                let books = row[K::GovCapital as usize]
                    + row[K::GovOm as usize]
                    + row[K::GovPurchases as usize]
                    + row[K::GovStaff as usize]
                    + row[K::GovInterest as usize]
                    - row[K::GovIncome as usize];
                let net = row[K::GovNet as usize];
                assert!(
                    (books - net).abs() <= 1e-6 * net.abs().max(1.0),
                    "{} under {model}, year {}: capital + O&M + purchases + staff + interest − income = {books}, net = {net}",
                    preset.name,
                    y + 1
                );
            }
        }
    }
}

/// Every member of staff the rosters need is paid, every year, by the account that employs
/// them: the committee, grid workers, the street office and department crews by the
/// government, the property firm's staff by the property firm out of property fees — and
/// nobody else is paid a wage. The first year is partial (the run starts in the middle of
/// a calendar year) and is paid in proportion.
#[test]
fn every_member_of_staff_is_paid_by_the_account_that_employs_them() {
    use civitas_actors::ledger::Purpose;
    use civitas_scenarios::runner::build_district_for;
    use civitas_twin::economy::{Payer, cents, payroll};
    use civitas_twin::kinds::StaffRole;
    use civitas_twin::time::YEAR;
    let mut s = load("default").unwrap();
    s.calendar =
        civitas_twin::calendar::Calendar::new("2026-07-01T00:00", "Asia/Shanghai").unwrap();
    let model = InvestmentModel::Hybrid;
    let district = build_district_for(&s, 5, model);
    let lines = payroll(&district, &s.parameters);
    let roles: Vec<StaffRole> = lines.iter().map(|l| l.role).collect();
    assert_eq!(
        roles,
        [
            StaffRole::Committee,
            StaffRole::Grid,
            StaffRole::StreetOffice,
            StaffRole::DepartmentCrew,
            StaffRole::Property
        ],
        "every role the default community staffs is on the payroll"
    );
    // Two booked years: the government pays each year at its start, the property firm
    // at its end.
    let cal = &s.calendar;
    let opts = RunOptions {
        seed: 5,
        horizon: cal.year_start(2) + 5 * HOUR / 2,
        workers: 2,
        model,
    };
    let r = run(&s, opts, |_| {}).unwrap();
    let share =
        |y: u32| ((cal.year_start(y + 1) - cal.year_start(y)) as f64 / YEAR as f64).min(1.0);
    assert!(share(0) < 1.0 && share(1) == 1.0, "the run starts mid-year");
    let mut paid: BTreeMap<(Account, StaffRole), i64> = BTreeMap::new();
    for t in &r.transfers {
        if let Purpose::Wages(role) = t.purpose {
            if role == StaffRole::PlatformStaff {
                continue;
            }
            assert_eq!(t.to, Account::Suppliers, "{t:?}");
            *paid.entry((t.from, role)).or_default() += t.cents;
        }
    }
    let mut expected: BTreeMap<(Account, StaffRole), i64> = BTreeMap::new();
    for l in &lines {
        let payer = match l.payer {
            Payer::Government => Account::Government,
            Payer::PropertyFirm(c) => Account::PropertyFirm(c),
        };
        for y in 0..2 {
            *expected.entry((payer, l.role)).or_default() +=
                (cents(l.yearly) as f64 * share(y)).round() as i64;
        }
    }
    assert_eq!(paid, expected);
    // The platform's operations staff, 0.5 per 1,000 of its 4,000 residents, are the
    // lessee's under hybrid.
    let operations: Vec<(Account, i64)> = r
        .transfers
        .iter()
        .filter(|t| t.purpose == Purpose::Wages(StaffRole::PlatformStaff))
        .map(|t| (t.from, t.cents))
        .collect();
    let people = 2.0 * 68_340.0 * 1.35 * 100.0;
    assert_eq!(
        operations,
        vec![
            (Account::Operator(0), (people * share(0)).round() as i64),
            (Account::Operator(0), (people * share(1)).round() as i64)
        ]
    );
    // The property firm's wages are covered by property fees, not by anyone's savings.
    let fees: i64 = r
        .transfers
        .iter()
        .filter(|t| t.purpose == Purpose::PropertyFees && t.to == Account::PropertyFirm(0))
        .map(|t| t.cents)
        .sum();
    assert!(fees >= expected[&(Account::PropertyFirm(0), StaffRole::Property)]);
    // A full year of the default community's committee: 3 members by day and 1 by night
    // on 12-hour shifts every day need (3 × 12 + 1 × 12) × 7 / 40 = 8.4 people at
    // 68,340 yuan plus 35%.
    let committee = lines
        .iter()
        .find(|l| l.role == StaffRole::Committee)
        .unwrap();
    assert!((committee.people - 8.4).abs() < 1e-9, "{committee:?}");
    assert!(
        (committee.yearly - 8.4 * 68_340.0 * 1.35).abs() < 1e-6,
        "{committee:?}"
    );
}

/// What a run of `model` to two months past the end of its devices' first life paid for
/// them: (capital spent on devices after construction, by payer; devices their owner did
/// not replace; construction's capital on devices).
fn a_device_life(
    model: InvestmentModel,
    edit: impl Fn(&mut civitas_twin::params::Parameters),
) -> (BTreeMap<Account, i64>, u64, i64) {
    use civitas_actors::ledger::Purpose;
    use civitas_twin::economy::cents;
    use civitas_twin::time::DAY;
    let mut s = load("default").unwrap();
    edit(&mut s.parameters);
    let life = s.parameters.economy.platform.device_life_years;
    let opts = RunOptions {
        seed: 2,
        horizon: s.calendar.year_start(life) + 60 * DAY,
        workers: 2,
        model,
    };
    let r = run(&s, opts, |_| {}).unwrap();
    let mut later: BTreeMap<Account, i64> = BTreeMap::new();
    let mut built = 0;
    for t in &r.transfers {
        if let Purpose::DeviceCapex(_) = t.purpose {
            if t.at <= 3 * HOUR {
                built += t.cents;
            } else {
                *later.entry(t.from).or_default() += t.cents;
            }
        }
    }
    let district = civitas_scenarios::runner::build_district_for(&s, 2, model);
    let deployed: i64 = district.communities[0]
        .devices
        .iter()
        .map(|d| cents(s.parameters.economy.device_costs[&d.kind].capex))
        .sum();
    assert_eq!(
        built, deployed,
        "construction pays for every deployed device"
    );
    let retired = r
        .reports
        .iter()
        .filter_map(|rep| match rep {
            YearReport::Platform(p) => Some(p.retired),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    (later, retired, built)
}

/// At the end of its service life (8 years) a device wears out, and its owner pays for a
/// new one: the government from a capital budget (given the money to maintain its
/// devices), the PPP partner and the hybrid model's enterprises from their own cash. Each
/// buys its part of the network again, once. (An owner without the cash retires the
/// device instead: the platform's unit test.)
#[test]
fn each_owner_pays_to_replace_its_devices_at_the_end_of_their_life() {
    let funded = |p: &mut civitas_twin::params::Parameters| {
        p.economy.fiscal.capacity_per_resident_developed = 1_000.0;
    };
    let (later, retired, built) = a_device_life(InvestmentModel::Gov, funded);
    assert_eq!(
        (later, retired),
        (BTreeMap::from([(Account::Government, built)]), 0)
    );
    let (later, retired, built) = a_device_life(InvestmentModel::Ppp, funded);
    assert_eq!(
        (later, retired),
        (BTreeMap::from([(Account::Operator(0), built)]), 0)
    );
    let (later, retired, built) = a_device_life(InvestmentModel::Hybrid, funded);
    assert_eq!(retired, 0);
    assert_eq!(
        later.keys().copied().collect::<Vec<_>>(),
        [Account::Government, Account::Enterprises(0)]
    );
    assert_eq!(later.values().sum::<i64>(), built);
}

/// All PPP payments in a year stay within the fiscal red line (10% of the general public
/// budget's spending, less what other PPPs take): at default, and where other projects
/// leave this concession almost no room — there the government falls into arrears and
/// the partner exits.
#[test]
fn ppp_payments_never_pass_the_red_line_and_a_starved_partner_exits() {
    use civitas_actors::ledger::Purpose;
    use civitas_scenarios::compare::run_one;
    use civitas_scenarios::kpi::FailureCause;
    let paid_by_year = |s: &civitas_scenarios::Scenario| {
        let opts = RunOptions {
            seed: 1,
            horizon: s.calendar.year_start(4) + 5 * HOUR,
            workers: 2,
            model: InvestmentModel::Ppp,
        };
        let r = run(s, opts, |_| {}).unwrap();
        let mut by_year: BTreeMap<u32, i64> = BTreeMap::new();
        for t in &r.transfers {
            if t.purpose == Purpose::AvailabilityPayment {
                *by_year.entry(s.calendar.year_index(t.at)).or_default() += t.cents;
            }
        }
        let exited = r
            .reports
            .iter()
            .any(|rep| matches!(rep, YearReport::Platform(p) if p.partner_exited));
        (by_year, exited)
    };
    let room = |s: &civitas_scenarios::Scenario| {
        let f = &s.parameters.economy.fiscal;
        (f.general_budget_per_resident_developed
            * 4_000.0
            * (f.ppp_red_line - f.other_ppp_share)
            * 100.0)
            .round() as i64
    };
    let s = load("default").unwrap();
    let (paid, exited) = paid_by_year(&s);
    assert!(!paid.is_empty() && !exited);
    assert!(
        paid.values().all(|&v| v <= room(&s)),
        "{paid:?} within {}",
        room(&s)
    );

    let mut starved = load("default").unwrap();
    starved.parameters.economy.fiscal.other_ppp_share = 0.0995;
    let (paid, exited) = paid_by_year(&starved);
    let cap = room(&starved);
    assert_eq!(cap, 1_600_000, "16,000 yuan a year");
    assert!(paid.values().all(|&v| v <= cap), "{paid:?} within {cap}");
    assert!(exited, "the partner exits");
    let (k, _) = run_one(&starved, InvestmentModel::Ppp, 1, 3).unwrap();
    let failure = k.failure.expect("not sustained");
    // The first failure is the government's: it paid 2% of year 0's payment.
    assert_eq!(failure.year, 0);
    assert!(
        matches!(failure.cause, FailureCause::GovernmentUnderpaid(x) if x < 0.05),
        "{failure:?}"
    );
}

/// The government borrows what it builds: a year after construction it has paid a
/// year's interest on all of it (3%), and repays nothing before the bonds mature.
#[test]
fn the_government_pays_interest_on_the_bonds_that_built_its_platform_and_devices() {
    use civitas_actors::ledger::{MoneyClass, Purpose};
    let s = load("default").unwrap();
    let opts = RunOptions {
        seed: 1,
        horizon: s.calendar.year_start(1) + 3 * HOUR,
        workers: 2,
        model: InvestmentModel::Gov,
    };
    let r = run(&s, opts, |_| {}).unwrap();
    let built: i64 = r
        .transfers
        .iter()
        .filter(|t| t.from == Account::Government && t.purpose.class() == MoneyClass::Capital)
        .map(|t| t.cents)
        .sum();
    let sum = |p: Purpose| -> i64 {
        r.transfers
            .iter()
            .filter(|t| t.from == Account::Government && t.purpose == p)
            .map(|t| t.cents)
            .sum()
    };
    assert!(built > 300_000_000, "the platform and devices: {built}");
    // Issued at construction (2 h in), held the rest of 2026.
    let held = (s.calendar.year_start(1) - 2 * HOUR) as f64 / civitas_twin::time::YEAR as f64;
    assert_eq!(
        sum(Purpose::Interest),
        (built as f64 * 0.03 * held).round() as i64
    );
    assert_eq!(sum(Purpose::LoanRepayment), 0);
}

/// With `debt_service_in_allocation`, the bonds' interest is the first call on the
/// year's smart-community allocation: the same interest is paid, out of the same
/// budget, and what is left for the platform's and devices' O&M is that much smaller.
#[test]
fn debt_service_in_the_allocation_is_paid_first_and_leaves_less_for_om() {
    use civitas_actors::ledger::Purpose;
    let year_one = |in_allocation: bool| {
        let mut s = load("default").unwrap();
        s.parameters.economy.fiscal.debt_service_in_allocation = in_allocation;
        let from = s.calendar.year_start(1);
        let opts = RunOptions {
            seed: 1,
            horizon: from + 4 * HOUR,
            workers: 2,
            model: InvestmentModel::Gov,
        };
        let r = run(&s, opts, |_| {}).unwrap();
        let sum = |p: &dyn Fn(Purpose) -> bool| -> i64 {
            r.transfers
                .iter()
                .filter(|t| t.at >= from && p(t.purpose))
                .map(|t| t.cents)
                .sum()
        };
        (
            sum(&|p| p == Purpose::FiscalAllocation),
            sum(&|p| p == Purpose::Interest),
            sum(&|p| matches!(p, Purpose::PlatformOm | Purpose::GovernmentDeviceOm)),
            sum(&|p| p == Purpose::FiscalReturn),
        )
    };
    let (budget_off, interest_off, om_off, _) = year_one(false);
    let (budget, interest, om, returned) = year_one(true);
    assert_eq!(budget, budget_off, "the same budget (the same draw)");
    assert_eq!(interest, interest_off, "the same bonds, the same interest");
    assert!(interest > 9_000_000, "≈ 96,000 yuan: {interest}");
    assert_eq!(
        interest + om + returned,
        budget,
        "all of it out of the budget"
    );
    assert!(
        om < om_off && om <= budget - interest,
        "O&M {om} with, {om_off} without"
    );
}
