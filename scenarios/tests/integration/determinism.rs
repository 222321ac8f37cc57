use crate::{run, scenario};
use civitas_scenarios::library::preset;

fn default_scenario() -> civitas_scenarios::Scenario {
    scenario(preset("default").unwrap().text)
}

#[test]
fn same_seed_twice_gives_byte_identical_outputs() {
    let s = default_scenario();
    let a = run(&s, 7, 90, 2);
    let b = run(&s, 7, 90, 2);
    assert_eq!(a.summary.to_json(), b.summary.to_json());
    assert_eq!(a.incidents_csv, b.incidents_csv);
    assert!(
        a.summary.incidents.total > 100,
        "the run must have something in it"
    );
}

#[test]
fn one_worker_and_two_workers_give_byte_identical_outputs() {
    let s = default_scenario();
    let a = run(&s, 11, 90, 1);
    let b = run(&s, 11, 90, 2);
    assert_eq!(a.summary.to_json(), b.summary.to_json());
    assert_eq!(a.incidents_csv, b.incidents_csv);
}

#[test]
fn a_district_is_identical_on_one_and_two_workers() {
    let text = r#"
schema_version = 1
name = "small district"
[district]
name = "d"
street_offices = 3
communities = 9
residents = 20000
old_share = 0.5
elderly_share_old = 0.3
elderly_share_new = 0.15
region = "developed"
[district.devices]
smoke_detector = 0.5
video_surveillance = 1.0
"#;
    let s = scenario(text);
    let a = run(&s, 3, 20, 1);
    let b = run(&s, 3, 20, 2);
    assert_eq!(a.summary.to_json(), b.summary.to_json());
    assert_eq!(a.incidents_csv, b.incidents_csv);
    assert_eq!(a.summary.communities, 9);
}

#[test]
fn a_different_seed_gives_different_outputs() {
    let s = default_scenario();
    let a = run(&s, 1, 60, 2);
    let b = run(&s, 2, 60, 2);
    assert_ne!(a.incidents_csv, b.incidents_csv);
    assert_ne!(a.summary.to_json(), b.summary.to_json());
}

#[test]
fn summary_carries_its_schema_version_and_no_wall_clock() {
    let s = default_scenario();
    let a = run(&s, 1, 10, 1);
    let v: serde_json::Value = serde_json::from_str(&a.summary.to_json()).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["seed"], 1);
    assert_eq!(v["days"], 10.0);
    let text = a.summary.to_json();
    assert!(
        !text.contains("wall"),
        "summary.json must not hold wall-clock values"
    );
}

#[test]
fn every_incident_is_accounted_for_exactly_once() {
    let s = default_scenario();
    let a = run(&s, 5, 120, 2);
    let ids: Vec<u64> = a.result.incidents.iter().map(|i| i.id).collect();
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(ids.len(), sorted.len(), "no incident appears twice");
    let c = &a.summary.incidents;
    assert_eq!(c.closed + c.open + c.undetected, c.total);
    let by_level: u64 = a.summary.closed_by_level.values().sum();
    assert_eq!(by_level, c.closed);
    // CSV: header + one row per record.
    let rows = a.incidents_csv.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(rows, a.result.incidents.len() + 1);
}

#[test]
fn compare_output_is_identical_on_one_and_two_jobs() {
    use civitas_scenarios::compare::{CompareOptions, compare};
    use civitas_twin::kinds::InvestmentModel::{Gov, Market};
    let s = crate::scenario(
        civitas_scenarios::library::preset("old-small")
            .unwrap()
            .text,
    );
    let o = |jobs| CompareOptions {
        models: vec![Gov, Market],
        years: 2,
        seeds: vec![4, 9],
        jobs,
    };
    let a = compare(&s, &o(1), |_, _| {}).unwrap();
    let b = compare(&s, &o(2), |_, _| {}).unwrap();
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.to_csv(), b.to_csv());
    let c = compare(
        &s,
        &CompareOptions {
            seeds: vec![4, 10],
            ..o(2)
        },
        |_, _| {},
    )
    .unwrap();
    assert_ne!(
        a.to_json(),
        c.to_json(),
        "another seed list gives other results"
    );
}
