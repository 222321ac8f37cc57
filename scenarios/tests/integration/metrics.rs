//! One name, one computation: `summary.json` and the comparison's yearly metrics agree
//! where they measure the same period.

use civitas_scenarios::Summary;
use civitas_scenarios::kpi::{planned_devices, run_kpis};
use civitas_scenarios::library;
use civitas_scenarios::metrics::{K, Period, Span, percentile_hours, real_in, spans};
use civitas_scenarios::runner::{RunOptions, build_district_for, build_plan, run_district};
use civitas_twin::time::HOUR;

/// The comparison's KPIs of a one-year run `r` of `s` on `district`.
fn one_year_kpis(
    s: &civitas_scenarios::Scenario,
    seed: u64,
    district: &civitas_twin::model::District,
    r: &civitas_actors::RunResult,
) -> civitas_scenarios::kpi::RunKpis {
    let households = district
        .communities
        .iter()
        .map(|c| c.households.len() as u64)
        .sum();
    let planned = planned_devices(&build_plan(s, seed), &s.parameters);
    run_kpis(
        r,
        &s.parameters,
        &s.calendar,
        1,
        district.residents() as u64,
        households,
        planned,
    )
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[test]
fn a_one_year_summary_and_the_first_year_of_the_comparison_report_the_same_metrics() {
    let s = library::load("small-shared").unwrap();
    let seed = 4;
    let district = build_district_for(&s, seed, s.model);
    let opts = RunOptions {
        seed,
        horizon: s.calendar.year_start(1) + 3 * HOUR,
        workers: 1,
        model: s.model,
    };
    let r = run_district(&district, &s, opts, |_| {}).unwrap();
    let kpis = one_year_kpis(&s, seed, &district, &r);
    let year = &kpis.yearly[0];

    // The summary of the same run, restricted to the incidents that happened in year 0.
    let mut first_year = r.clone();
    first_year
        .incidents
        .retain(|i| Period::year(0, &s.calendar).contains(i.created));
    let summary = Summary::from_run(
        "t",
        seed,
        1,
        district.residents() as u64,
        &s.parameters,
        &first_year,
    );

    let p50 = summary.detection.p50.expect("incidents were detected");
    assert_eq!(p50, round4(year[K::DetectionP50 as usize]));
    let p50 = summary.resolution.p50.expect("incidents were closed");
    assert_eq!(p50, round4(year[K::ResolutionP50 as usize]));
    // Both go through the registry's span and percentile.
    let direct = percentile_hours(
        &spans(
            real_in(&r.incidents, Period::year(0, &s.calendar)),
            Span::Detection,
        ),
        0.5,
    );
    assert_eq!(direct, Some(year[K::DetectionP50 as usize]));
    // Satisfaction is of a moment, the year's last: see the next test, which ends the
    // run there (this run goes on for the hours the books take to close).
    let micro = summary.closed_by_level["micro"] as f64 / summary.incidents.closed as f64;
    assert!(
        (micro - year[K::MicroShare as usize]).abs() < 1e-12,
        "{micro}"
    );
}

/// `civitas run` for 365 days ends at the year's last moment, before December's service
/// outcome is in; the comparison runs on until the year's books close. Both report the
/// satisfaction of that last moment.
#[test]
fn a_run_of_one_year_reports_the_satisfaction_of_the_comparisons_first_year() {
    for (preset, seed) in [("old-small", 1), ("default", 2)] {
        let s = library::load(preset).unwrap();
        let district = build_district_for(&s, seed, s.model);
        let run = |horizon| {
            let opts = RunOptions {
                seed,
                horizon,
                workers: 1,
                model: s.model,
            };
            run_district(&district, &s, opts, |_| {}).unwrap()
        };
        let year_end = s.calendar.year_start(1);
        let r = run(year_end);
        let summary =
            Summary::from_run("t", seed, 1, district.residents() as u64, &s.parameters, &r);
        let r = run(year_end + 3 * HOUR);
        let kpis = one_year_kpis(&s, seed, &district, &r);
        let year = &kpis.yearly[0];
        assert_eq!(
            summary.satisfaction.all,
            Some(round4(year[K::Satisfaction as usize])),
            "{preset}"
        );
        assert_eq!(
            summary.satisfaction.elderly,
            Some(round4(year[K::SatisfactionElderly as usize])),
            "{preset}"
        );
    }
}
