//! The assumptions a comparison's ranking depends on, stated from the parameters in force.
//!
//! [`assumptions`] gives one line per compared model, then the platform's cost, the
//! district's fiscal capacity and the discount rate, for the report's "Assumptions"
//! section (`report.md`, `report.html`; never a result file). Each statement names a
//! parameter only where the model's mechanisms read it (`actors/src/agents/platform.rs`,
//! `actors/src/agents/finance.rs`, `twin/src/economy.rs`; `docs/MODEL.md` §15–§23): a
//! value with no effect for that model is left out, and a value that matters for it is
//! added — the commission and its caps, the lease share, the data revenue, outreach
//! adoption rates, the PPP payment and its revenue offset.

use crate::file::{Scenario, World};
use civitas_twin::economy::{EconomyParams, ModelParams};
use civitas_twin::kinds::{InvestmentModel, Party};

/// The inputs the ranking depends on, one line each: every compared model's definition
/// (in the order given), the platform's cost, the fiscal capacity of the scenario's region
/// and the discount rate.
pub fn assumptions(s: &Scenario, models: &[InvestmentModel]) -> Vec<String> {
    let e = &s.parameters.economy;
    let mut lines: Vec<String> = models
        .iter()
        .map(|m| match e.models.get(m) {
            Some(p) => format!("{m}: {}", model_clauses(p, e).join("; ")),
            None => format!("{m}: no parameters for this model"),
        })
        .collect();
    lines.push(platform_cost(s, e));
    let region = match &s.world {
        World::Community(c) => c.region,
        World::District(d) => d.region,
    };
    let f = &e.fiscal;
    let capacity = f.capacity_per_resident(region);
    lines.push(format!(
        "fiscal capacity: {capacity} yuan per resident per year ({} region), less competing \
         demands drawn each year between {} and {} of it (mean {} ± {})",
        region.as_str().replace('_', " "),
        pct((f.competing_demand_mean - f.competing_demand_spread).clamp(0.0, 1.0)),
        pct((f.competing_demand_mean + f.competing_demand_spread).clamp(0.0, 1.0)),
        pct(f.competing_demand_mean),
        pct(f.competing_demand_spread),
    ));
    lines.push(format!(
        "discount rate: {} a year, for the NPVs and for recovering a device's cost over its \
         {}-year life (whether private devices pay for themselves; purchase of service)",
        pct(e.discount_rate),
        e.platform.device_life_years
    ));
    lines
}

/// What one model does, as the mechanisms read its parameters.
fn model_clauses(p: &ModelParams, e: &EconomyParams) -> Vec<String> {
    let mut out = Vec::new();
    let r = &e.regulation;
    let m = &e.market;

    // Platform: who builds and runs it, and its commission (§16, §17, §22).
    let start = if p.regulator {
        m.commission.min(r.commission_cap)
    } else {
        m.commission
    };
    if p.platform == Party::Operator {
        let ceiling = m.commission.max(0.5);
        let ceiling = if p.regulator {
            ceiling.min(r.commission_cap)
        } else {
            ceiling
        };
        if ceiling > start && m.monopoly_commission_step > 0.0 {
            out.push(format!(
                "platform built and run by the operator, whose commission rises from {} by {} \
                 points a year up to {}{}",
                pct(start),
                points(m.monopoly_commission_step),
                pct(ceiling),
                if p.regulator {
                    " (the regulator's cap)"
                } else {
                    ""
                }
            ));
        } else {
            out.push(format!(
                "platform built and run by the operator, commission {}",
                pct(start)
            ));
        }
    } else {
        out.push(format!(
            "platform built and run by {}, commission {}",
            party(p.platform),
            pct(start)
        ));
    }

    // Devices (§15, §18).
    let private = |inv: Party| inv != Party::Government && p.ppp.is_none();
    out.push(format!(
        "marketable devices invested by {}{}",
        party(p.marketable_devices),
        if private(p.marketable_devices) {
            " where their user fees repay them"
        } else {
            ""
        }
    ));
    match p.non_marketable_devices {
        Some(inv) => out.push(format!("non-marketable devices by {}", party(inv))),
        None => out.push("non-marketable devices by nobody: not deployed".to_string()),
    }
    if p.purchase_of_service {
        out.push(format!(
            "the government buys the service of non-marketable devices others invested in \
             (their O&M plus their cost recovered over {} years)",
            e.platform.device_life_years
        ));
    } else if p.non_marketable_devices.is_some_and(private) {
        out.push("no purchase of service: investors pay non-marketable devices' O&M".into());
    }

    // The market (§21, §22).
    if p.market_openness > 0.0 {
        out.push(format!(
            "{} of app users' service demand open to providers",
            pct(p.market_openness)
        ));
    } else {
        out.push("no service demand open to providers, so there are none".to_string());
    }
    if p.regulator {
        out.push(format!(
            "a regulator caps prices at {}× the reference price, fines providers below \
             quality {} by {} of their revenue and decommissions devices left broken for a year",
            r.price_cap,
            r.quality_floor,
            pct(r.penalty_share)
        ));
    } else {
        out.push(
            "no regulator: prices and the commission are not capped, nor quality fined".into(),
        );
    }

    // Adoption (§23).
    let a = &e.adoption;
    if p.outreach {
        out.push(format!(
            "government outreach: non-users take up the app with a yearly chance of {} under \
             60 and {} at 60 and over",
            pct(a.outreach_under60),
            pct(a.outreach_60plus)
        ));
    } else {
        out.push(format!(
            "no outreach: non-users take up the app with a yearly chance of {}",
            pct(a.background)
        ));
    }

    // Who earns the platform's revenue (§20, §21.5).
    let earner = match (p.platform, p.leasing) {
        (Party::Government, false) => "the government",
        (Party::Government, true) => {
            "the operator that leases the platform (the government's again if the lessee \
             goes insolvent)"
        }
        _ => "the operator",
    };
    if p.data_operations {
        out.push(format!(
            "commission and de-identified data sales ({} yuan per resident a year at \
             developed incomes) earned by {earner}",
            e.platform.data_revenue_per_resident
        ));
    } else {
        out.push(format!("commission earned by {earner}; no data sales"));
    }
    if p.leasing {
        out.push(format!(
            "leasing: the operator pays the government {} of the platform revenue",
            pct(e.platform.lease_share)
        ));
    }

    // PPP (§15, §19).
    if let Some(c) = &p.ppp {
        let mut s = format!(
            "PPP concession of {} years: each year of it the government owes the partner an \
             availability payment repaying its investment at {} over the term plus its O&M",
            c.term_years,
            pct(c.target_return)
        );
        if c.revenue_share > 0.0 {
            s.push_str(&format!(
                ", less {} of its platform revenue of the year before (commissions, its \
                 devices' fees, data sales)",
                pct(c.revenue_share)
            ));
        }
        s.push_str(if c.performance_based {
            ", cut in proportion to devices out of service"
        } else {
            ", not cut for devices out of service"
        });
        s.push_str("; the partner deploys marketable devices whether or not their fees repay them");
        out.push(s);
    }
    out
}

/// The platform's cost, as `platform_capex` and `platform_om` charge it.
fn platform_cost(s: &Scenario, e: &EconomyParams) -> String {
    let p = &e.platform;
    let built = format!(
        "construction {} yuan and O&M {} of that a year",
        p.capex,
        pct(p.om_share)
    );
    let rent = format!(
        "a shared cloud platform rented at {} yuan per resident a year",
        p.cloud_rent_per_resident
    );
    match &s.world {
        World::Community(c) if c.shared_platform => format!("platform: {rent}"),
        World::Community(_) => format!("platform: {built}"),
        World::District(d) if d.share_platform_below > 0 => format!(
            "platform: {built} per community; communities under {} residents use {rent} instead",
            d.share_platform_below
        ),
        World::District(_) => format!("platform: {built} per community"),
    }
}

/// Who a party is, in a sentence.
fn party(p: Party) -> &'static str {
    match p {
        Party::Government => "the government",
        Party::Operator => "the operator",
        Party::PropertyFirm => "the property firm",
        Party::Enterprise => "enterprises",
    }
}

/// A share as a percentage, with one decimal only where it has one: 0.13 → "13%",
/// 0.075 → "7.5%".
fn pct(x: f64) -> String {
    let s = format!("{:.1}", x * 100.0);
    format!("{}%", s.strip_suffix(".0").unwrap_or(&s))
}

/// A difference of shares in percentage points: 0.02 → "2".
fn points(x: f64) -> String {
    pct(x).trim_end_matches('%').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library;
    use civitas_twin::kinds::Region;

    fn default() -> Scenario {
        library::load("default").expect("the default preset loads")
    }

    fn line(s: &Scenario, m: InvestmentModel) -> String {
        assumptions(s, &[m]).remove(0)
    }

    #[test]
    fn every_compared_model_gets_a_line_in_order_then_platform_fiscal_and_discount() {
        let s = default();
        let models = [InvestmentModel::Ppp, InvestmentModel::Gov];
        let lines = assumptions(&s, &models);
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(lines[0].starts_with("ppp: "));
        assert!(lines[1].starts_with("gov: "));
        assert!(lines[2].starts_with("platform: "));
        assert!(lines[3].starts_with("fiscal capacity: "));
        assert!(lines[4].starts_with("discount rate: 8% a year"));
    }

    #[test]
    fn the_ppp_line_offsets_platform_revenue_not_market_revenue() {
        let mut s = default();
        let ppp = line(&s, InvestmentModel::Ppp);
        assert!(!ppp.contains("market revenue"), "{ppp}");
        assert!(
            ppp.contains("less 50% of its platform revenue of the year before"),
            "{ppp}"
        );
        assert!(ppp.contains("concession of 15 years"), "{ppp}");
        assert!(ppp.contains("investment at 7%"), "{ppp}");
        assert!(
            ppp.contains("cut in proportion to devices out of service"),
            "{ppp}"
        );
        // A share of nothing has no effect: the offset is not mentioned.
        let terms = s.parameters.economy.models.get_mut(&InvestmentModel::Ppp);
        terms
            .and_then(|p| p.ppp.as_mut())
            .expect("PPP terms")
            .revenue_share = 0.0;
        let ppp = line(&s, InvestmentModel::Ppp);
        assert!(!ppp.contains("revenue of the year before"), "{ppp}");
        assert!(!ppp.contains("shared"), "{ppp}");
    }

    #[test]
    fn only_the_ppp_model_mentions_availability_payments() {
        let s = default();
        for m in InvestmentModel::ALL {
            let l = line(&s, *m);
            assert_eq!(
                l.contains("availability payment"),
                *m == InvestmentModel::Ppp,
                "{l}"
            );
        }
    }

    #[test]
    fn a_model_with_no_parameters_is_reported() {
        let mut s = default();
        s.parameters.economy.models.remove(&InvestmentModel::Caict);
        let lines = assumptions(&s, &[InvestmentModel::Caict, InvestmentModel::Gov]);
        assert_eq!(lines[0], "caict: no parameters for this model");
        assert!(lines[1].starts_with("gov: platform built and run by the government"));
    }

    #[test]
    fn the_fiscal_line_uses_the_scenarios_region() {
        let in_region = |region| {
            let mut s = default();
            if let World::Community(c) = &mut s.world {
                c.region = region;
            }
            assumptions(&s, &[]).remove(1)
        };
        assert_eq!(
            in_region(Region::LessDeveloped),
            "fiscal capacity: 60 yuan per resident per year (less developed region), less \
             competing demands drawn each year between 10% and 50% of it (mean 30% ± 20%)"
        );
        assert!(
            in_region(Region::Developed)
                .starts_with("fiscal capacity: 150 yuan per resident per year (developed region)")
        );
    }

    #[test]
    fn the_market_model_states_what_is_missing_and_what_drifts() {
        let s = default();
        let market = line(&s, InvestmentModel::Market);
        for part in [
            "commission rises from 10% by 2 points a year up to 50%",
            "marketable devices invested by the operator where their user fees repay them",
            "non-marketable devices by nobody: not deployed",
            "no regulator",
            "no outreach: non-users take up the app with a yearly chance of 3%",
            "earned by the operator",
        ] {
            assert!(market.contains(part), "{part:?} not in {market}");
        }
        assert!(!market.contains("leasing"), "{market}");
    }

    #[test]
    fn regulated_and_leased_models_state_their_caps_and_rent() {
        let s = default();
        let hybrid = line(&s, InvestmentModel::Hybrid);
        for part in [
            "platform built and run by the government, commission 10%",
            "a regulator caps prices at 1.1× the reference price",
            "leasing: the operator pays the government 50% of the platform revenue",
            "earned by the operator that leases the platform (the government's again if the \
             lessee goes insolvent)",
            "yearly chance of 15% under 60 and 8% at 60 and over",
        ] {
            assert!(hybrid.contains(part), "{part:?} not in {hybrid}");
        }
        let gov = line(&s, InvestmentModel::Gov);
        assert!(gov.contains("30% of app users' service demand"), "{gov}");
        assert!(
            gov.contains("commission earned by the government; no data sales"),
            "{gov}"
        );
        let caict = line(&s, InvestmentModel::Caict);
        assert!(caict.contains("the government buys the service"), "{caict}");
        let ppp = line(&s, InvestmentModel::Ppp);
        assert!(ppp.contains("up to 13% (the regulator's cap)"), "{ppp}");
    }

    #[test]
    fn shares_print_as_percentages_without_a_needless_decimal() {
        assert_eq!(pct(0.13), "13%");
        assert_eq!(pct(0.075), "7.5%");
        assert_eq!(pct(1.0), "100%");
        assert_eq!(points(0.02), "2");
    }
}
