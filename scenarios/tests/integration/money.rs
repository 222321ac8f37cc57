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
/// net spending = capital + O&M + purchases − income (its platform's commission and data
/// sales included when it runs the platform). The district presets are scaled down to
/// four communities of the same size and parameters, so the test runs in seconds.
#[test]
fn the_governments_net_spending_is_capital_plus_om_plus_purchases_less_income() {
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
                    - row[K::GovIncome as usize];
                let net = row[K::GovNet as usize];
                assert!(
                    (books - net).abs() <= 1e-6 * net.abs().max(1.0),
                    "{} under {model}, year {}: capital + O&M + purchases − income = {books}, net = {net}",
                    preset.name,
                    y + 1
                );
            }
        }
    }
}
