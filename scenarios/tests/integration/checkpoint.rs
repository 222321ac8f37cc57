//! Checkpoint, resume and fork: a run checkpointed at day 100 and resumed to the year's end is
//! the uninterrupted run byte for byte (summary, incidents, KPIs); a checkpoint of
//! another schema version is refused by name; a fork with a changed parameter keeps
//! everything before the fork point and diverges after it.

use civitas_scenarios::Scenario;
use civitas_scenarios::checkpoint::{Checkpoint, file_name};
use civitas_scenarios::kpi::{RunKpis, planned_devices, run_kpis};
use civitas_scenarios::library::preset;
use civitas_scenarios::runner::{
    Outputs, RunOptions, Session, build_plan, run_outputs, run_outputs_with,
};
use civitas_twin::time::{DAY, HOUR, SimTime, YEAR};

fn load(name: &str) -> Scenario {
    Scenario::from_str(preset(name).expect("preset exists").text, name).expect("preset parses")
}

fn options(s: &Scenario, days: u64) -> RunOptions {
    RunOptions {
        horizon: days * DAY,
        ..RunOptions::from_scenario(s, 2)
    }
}

/// A year as compare runs it: 365 days and the hours the year's books take to close.
fn year(s: &Scenario) -> RunOptions {
    RunOptions {
        horizon: YEAR + 3 * HOUR,
        ..RunOptions::from_scenario(s, 2)
    }
}

/// The year's KPIs, as compare computes them from a run.
fn kpis(s: &Scenario, o: &Outputs) -> RunKpis {
    let plan = build_plan(s, s.seed);
    let households = plan.communities.iter().map(|c| c.households.len() as u64);
    run_kpis(
        &o.result,
        &s.parameters,
        &s.calendar,
        1,
        plan.residents() as u64,
        households.sum(),
        planned_devices(&plan, &s.parameters),
    )
}

/// Runs `s` for a year writing a checkpoint every 100 days, reads the day-100 one back
/// from its file and resumes it to day 365: returns (uninterrupted, resumed).
fn checkpointed_then_resumed(s: &Scenario) -> (Outputs, Outputs, Checkpoint) {
    let dir = tempfile::tempdir().unwrap();
    let opts = year(s);
    let whole = run_outputs_with(
        s,
        opts,
        Session {
            checkpoints: Some((100 * DAY, dir.path().to_path_buf())),
            ..Session::default()
        },
        |_| {},
    )
    .expect("the checkpointed run succeeds");
    let ck = Checkpoint::read(&dir.path().join(file_name(100 * DAY))).expect("checkpoint reads");
    assert_eq!(ck.engine.now, 100 * DAY);
    assert_eq!(ck.options, opts);
    let resumed = run_outputs_with(
        &ck.scenario,
        ck.options,
        Session {
            resume: Some(ck.engine.clone()),
            ..Session::default()
        },
        |_| {},
    )
    .expect("the resumed run succeeds");
    (whole, resumed, ck)
}

fn assert_identical(s: &Scenario, a: &Outputs, b: &Outputs) {
    assert_eq!(a.summary.to_json(), b.summary.to_json());
    assert_eq!(a.incidents_csv, b.incidents_csv);
    assert_eq!(kpis(s, a), kpis(s, b));
}

#[test]
fn the_default_community_resumed_from_day_100_equals_the_uninterrupted_year() {
    let s = load("default");
    let plain = run_outputs(&s, year(&s), |_| {}).unwrap();
    let (checkpointed, resumed, ck) = checkpointed_then_resumed(&s);
    // Writing checkpoints does not change the run, and resuming reproduces it.
    assert_identical(&s, &plain, &checkpointed);
    assert_identical(&s, &plain, &resumed);
    assert_eq!(ck.scenario, s, "the checkpoint carries the scenario whole");
    assert!(plain.summary.incidents.total > 500, "a year has incidents");
}

#[test]
fn the_district_resumed_from_day_100_equals_the_uninterrupted_year() {
    let s = load("haishu-district");
    let (checkpointed, resumed, _) = checkpointed_then_resumed(&s);
    assert_identical(&s, &checkpointed, &resumed);
    assert!(checkpointed.summary.incidents.total > 10_000);
}

#[test]
fn a_checkpoint_of_another_schema_version_is_refused_naming_both_versions() {
    let s = load("default");
    let dir = tempfile::tempdir().unwrap();
    run_outputs_with(
        &s,
        options(&s, 20),
        Session {
            checkpoints: Some((10 * DAY, dir.path().to_path_buf())),
            ..Session::default()
        },
        |_| {},
    )
    .unwrap();
    let path = dir.path().join(file_name(10 * DAY));
    let text = std::fs::read(&path).unwrap();
    // The header is the second line (JSON); the body after it is binary.
    let header_end = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .expect("a magic line and a header line")
        .0;
    let head = String::from_utf8(text[..=header_end].to_vec()).unwrap();
    assert!(head.contains("\"schema_version\":1"), "{head}");
    let mut bytes = head
        .replacen("\"schema_version\":1", "\"schema_version\":2", 1)
        .into_bytes();
    bytes.extend_from_slice(&text[header_end + 1..]);
    let err = Checkpoint::from_bytes(&bytes, "old.ckpt").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "old.ckpt: checkpoint schema_version 2 (written by civitas {v}); this build (civitas {v}) reads schema_version 1: resume it with the version that wrote it",
            v = env!("CARGO_PKG_VERSION")
        )
    );
    let err = Checkpoint::from_bytes(b"hello\n", "x.ckpt").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("x.ckpt: not a civitas checkpoint"),
        "{err}"
    );
    // A truncated body is refused too, never half-loaded.
    let err = Checkpoint::from_bytes(&text[..text.len() / 2], "cut.ckpt").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cut.ckpt: not a civitas checkpoint"),
        "{err}"
    );
}

#[test]
fn a_fork_with_a_changed_parameter_keeps_the_past_and_diverges_after_the_fork() {
    let s = load("default");
    let dir = tempfile::tempdir().unwrap();
    let fork_at: SimTime = 60 * DAY;
    let base = run_outputs_with(
        &s,
        options(&s, 120),
        Session {
            checkpoints: Some((fork_at, dir.path().to_path_buf())),
            ..Session::default()
        },
        |_| {},
    )
    .unwrap();
    let ck = Checkpoint::read(&dir.path().join(file_name(fork_at))).unwrap();
    let what_if = ck
        .scenario
        .with_overrides(&[("parameters.incidents.garbage_overflow.rate".into(), 80.0)])
        .expect("the override applies");
    let fork = run_outputs_with(
        &what_if,
        ck.options,
        Session {
            resume: Some(ck.engine),
            ..Session::default()
        },
        |_| {},
    )
    .unwrap();
    let before = |o: &Outputs| {
        o.result
            .incidents
            .iter()
            .filter(|i| i.closed.is_some_and(|c| c < fork_at))
            .cloned()
            .collect::<Vec<_>>()
    };
    let past = before(&base);
    assert!(past.len() > 100, "the past has incidents");
    assert_eq!(
        past,
        before(&fork),
        "the fork keeps every incident before it"
    );
    let garbage = |o: &Outputs| {
        o.result
            .incidents
            .iter()
            .filter(|i| i.created >= fork_at && format!("{:?}", i.kind) == "GarbageOverflow")
            .count()
    };
    let (b, f) = (garbage(&base), garbage(&fork));
    assert!(
        f > 5 * b.max(1),
        "ten times the garbage rate after the fork: {b} in the base, {f} in the fork"
    );
}
