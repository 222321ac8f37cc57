//! The claims of DOMAIN §7, each checked in direction with its 95% interval over seeds.
//! They are outcomes of the model's mechanisms; none is written in. Where a claim holds
//! only in part, the test checks what the model reproduces and docs/MODEL.md says why.

use crate::scenario;
use civitas_scenarios::compare::{CompareOptions, Comparison, compare};
use civitas_scenarios::library::load;
use civitas_scenarios::metrics::kpi_index;
use civitas_scenarios::stats::Stat;
use civitas_twin::kinds::InvestmentModel::{self, Gov, Hybrid, Market, Ppp};

fn run(
    s: &civitas_scenarios::Scenario,
    models: &[InvestmentModel],
    seeds: u64,
    years: u32,
) -> Comparison {
    let o = CompareOptions {
        models: models.to_vec(),
        years,
        seeds: (1..=seeds).collect(),
        jobs: 2,
    };
    compare(s, &o, |_, _| {}).expect("comparison runs")
}

fn preset(name: &str, models: &[InvestmentModel], seeds: u64, years: u32) -> Comparison {
    run(&load(name).expect("preset"), models, seeds, years)
}

fn fin(c: &Comparison, m: InvestmentModel, kpi: &str) -> Stat {
    let k = kpi_index(kpi).unwrap_or_else(|| panic!("no KPI {kpi}"));
    c.models
        .iter()
        .find(|r| r.model == m)
        .expect("model compared")
        .finals[k]
}

fn series(c: &Comparison, m: InvestmentModel, kpi: &str) -> Vec<Stat> {
    let k = kpi_index(kpi).expect("kpi");
    c.models
        .iter()
        .find(|r| r.model == m)
        .expect("model")
        .series[k]
        .clone()
}

/// `a` is below `b` and their intervals do not overlap.
#[track_caller]
fn clearly_below(a: Stat, b: Stat, what: &str) {
    assert!(a.hi < b.lo, "{what}: expected {a:?} clearly below {b:?}");
}

#[test]
fn claim1_government_led_costs_the_government_most_and_covers_public_services() {
    let c = preset("default", &[Gov, Market, Hybrid, Ppp], 3, 5);
    for other in [Market, Hybrid, Ppp] {
        clearly_below(
            fin(&c, other, "gov_npv"),
            fin(&c, Gov, "gov_npv"),
            "government NPV",
        );
    }
    clearly_below(
        fin(&c, Market, "coverage_non_marketable"),
        fin(&c, Gov, "coverage_non_marketable"),
        "public coverage",
    );
    // Hybrid also funds public-service devices from the budget; government-led covers
    // them as well within two points (MODEL.md: claim 1 holds against market-led).
    assert!(
        fin(&c, Gov, "coverage_non_marketable").mean
            > fin(&c, Hybrid, "coverage_non_marketable").mean - 0.02
    );
}

#[test]
fn claim2_government_led_on_a_tight_budget_decays_into_an_image_project() {
    let tight = preset("tight-budget", &[Gov], 3, 5);
    let funded = preset("default", &[Gov], 3, 5);
    clearly_below(
        fin(&tight, Gov, "utilization"),
        fin(&funded, Gov, "utilization"),
        "utilization",
    );
    // The platform runs while its O&M money lasts (about 112,000 of 180,000 yuan a year:
    // some 60% of the year), not all year (MODEL.md §17, claim 2).
    clearly_below(
        fin(&tight, Gov, "platform_up"),
        fin(&funded, Gov, "platform_up"),
        "platform up",
    );
    assert!(fin(&tight, Gov, "platform_up").mean < 0.8);
    // The review removes what stood broken and unused for a year.
    let removed = series(&tight, Gov, "decommissioned");
    assert!(removed.last().unwrap().mean > 0.0, "{removed:?}");
    clearly_below(
        fin(&tight, Gov, "coverage"),
        fin(&funded, Gov, "coverage"),
        "coverage",
    );
}

#[test]
fn claim3_market_led_serves_paying_residents_but_not_public_goods() {
    let c = preset("default", &[Gov, Market], 3, 5);
    clearly_below(
        fin(&c, Gov, "services_used"),
        fin(&c, Market, "services_used"),
        "services used",
    );
    assert_eq!(fin(&c, Market, "coverage_non_marketable").mean, 0.0);
    assert!(fin(&c, Gov, "coverage_non_marketable").mean > 0.9);
}

#[test]
fn claim4_an_unregulated_dominant_platform_raises_prices_and_commission() {
    // Market power builds up over years: a decade shows it.
    let c = preset("default", &[Market, Hybrid], 3, 10);
    let p = series(&c, Market, "price_index");
    assert!(
        p.last().unwrap().mean > p[0].mean + 0.1,
        "prices drift up: {p:?}"
    );
    let k = series(&c, Market, "commission");
    assert!(
        k.last().unwrap().mean > k[0].mean,
        "commission drifts up: {k:?}"
    );
    let q = series(&c, Market, "quality");
    assert!(q.last().unwrap().mean < q[0].mean, "quality slips: {q:?}");
    clearly_below(
        fin(&c, Market, "quality"),
        fin(&c, Hybrid, "quality"),
        "quality",
    );
    // Regulated, the same market stays at or below its caps.
    clearly_below(
        fin(&c, Hybrid, "price_index"),
        fin(&c, Market, "price_index"),
        "price level",
    );
    assert!(
        series(&c, Hybrid, "commission")
            .iter()
            .all(|s| s.mean <= 0.13 + 1e-9)
    );
    assert!(
        series(&c, Hybrid, "price_index")
            .iter()
            .all(|s| s.mean <= 1.1 + 1e-9)
    );
}

#[test]
fn claim5_hybrid_and_ppp_cost_the_government_less_and_cover_public_services_better_than_market() {
    let c = preset("default", &[Gov, Market, Hybrid, Ppp], 3, 5);
    clearly_below(
        fin(&c, Hybrid, "gov_npv"),
        fin(&c, Gov, "gov_npv"),
        "hybrid vs government-led",
    );
    clearly_below(
        fin(&c, Ppp, "gov_npv"),
        fin(&c, Gov, "gov_npv"),
        "PPP vs government-led",
    );
    for m in [Hybrid, Ppp] {
        clearly_below(
            fin(&c, Market, "coverage_non_marketable"),
            fin(&c, m, "coverage_non_marketable"),
            "coverage",
        );
    }
    // Prices: regulation caps what market power does, which shows over a decade.
    let d = preset("default", &[Market, Hybrid, Ppp], 3, 10);
    for m in [Hybrid, Ppp] {
        clearly_below(
            fin(&d, m, "price_index"),
            fin(&d, Market, "price_index"),
            "prices under regulation",
        );
    }
}

#[test]
fn claim6_market_led_sustains_in_developed_regions_and_fails_in_less_developed_ones() {
    let years = 5;
    let dev = preset("default", &[Market], 3, years);
    let less = preset("less-developed", &[Market], 3, years);
    assert_eq!(fin(&dev, Market, "sustained").mean, years as f64);
    // Since the operator pays the people who run its platform (MODEL §13.1), it stays
    // solvent in a developed region without earning its construction back within the
    // horizon: it sustains, it does not profit (MODEL.md, claim 6). It does far better
    // than where incomes are half.
    clearly_below(
        fin(&less, Market, "operator_npv"),
        fin(&dev, Market, "operator_npv"),
        "operator NPV",
    );
    clearly_below(
        fin(&less, Market, "sustained"),
        fin(&dev, Market, "sustained"),
        "years sustained",
    );
    assert!(fin(&less, Market, "operator_npv").hi < 0.0);
}

#[test]
fn claim7_small_communities_pay_far_more_per_resident_unless_they_share() {
    // The claim is about the platform: staff, who cost more per resident in a small
    // community too (a committee whatever its size), are left out.
    let unpaid = |name: &str| {
        let mut s = load(name).expect("preset");
        let w = &mut s.parameters.economy.wages;
        (
            w.committee,
            w.grid,
            w.property,
            w.street_office,
            w.department_crew,
        ) = (0.0, 0.0, 0.0, 0.0, 0.0);
        run(&s, &[Hybrid], 3, 5)
    };
    let (small, large, shared) = (
        unpaid("old-small"),
        unpaid("default"),
        unpaid("small-shared"),
    );
    let (s, l) = (
        fin(&small, Hybrid, "gov_npv"),
        fin(&large, Hybrid, "gov_npv"),
    );
    assert!(s.lo > 1.5 * l.hi, "small {s:?} vs large {l:?} per resident");
    clearly_below(fin(&shared, Hybrid, "gov_npv"), s, "shared platform");
}

#[test]
fn claim8_sensors_shorten_detection_most_in_old_communities() {
    // The same community and device plan, as an old estate and as a new one.
    let old = load("default").unwrap();
    let new = scenario(
        "schema_version = 1\nextends = \"default\"\nname = \"new\"\n[community]\nage = \"new\"\n",
    );
    let bare = |s: &civitas_scenarios::Scenario| {
        let mut b = s.clone();
        if let civitas_scenarios::file::World::Community(c) = &mut b.world {
            c.devices.clear();
        }
        b
    };
    let gain = |s: &civitas_scenarios::Scenario| {
        let with = run(s, &[Hybrid], 3, 2);
        let without = run(&bare(s), &[Hybrid], 3, 2);
        let (a, b) = (
            fin(&with, Hybrid, "detection_p50"),
            fin(&without, Hybrid, "detection_p50"),
        );
        clearly_below(a, b, &s.name);
        (
            b.mean - a.mean,
            fin(&with, Hybrid, "adoption").mean,
            fin(&with, Hybrid, "resolution_p50").mean,
        )
    };
    let (old_gain, old_adoption, _) = gain(&old);
    let (new_gain, new_adoption, _) = gain(&new);
    assert!(
        old_gain > new_gain,
        "old estates gain {old_gain:.2} h, new {new_gain:.2} h"
    );
    assert!(old_adoption < new_adoption);
}

#[test]
fn claim9_closing_traditional_channels_leaves_the_elderly_under_served() {
    let kept = preset("default", &[Hybrid], 3, 3);
    let closed = run(
        &scenario(
            "schema_version = 1\nextends = \"default\"\nname = \"digital only\"\n[parameters.economy.adoption]\ntraditional_channels = false\n",
        ),
        &[Hybrid],
        3,
        3,
    );
    clearly_below(
        fin(&closed, Hybrid, "served_share_elderly"),
        fin(&kept, Hybrid, "served_share_elderly"),
        "elderly served",
    );
    clearly_below(
        fin(&closed, Hybrid, "satisfaction_elderly"),
        fin(&kept, Hybrid, "satisfaction_elderly"),
        "elderly satisfaction",
    );
}
