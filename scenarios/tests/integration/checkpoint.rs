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
    let header_end = body_start(&text) - 1;
    let head = String::from_utf8(text[..=header_end].to_vec()).unwrap();
    assert!(head.contains("\"schema_version\":13"), "{head}");
    let mut bytes = head
        .replacen("\"schema_version\":13", "\"schema_version\":14", 1)
        .into_bytes();
    bytes.extend_from_slice(&text[header_end + 1..]);
    let err = Checkpoint::from_bytes(&bytes, "old.ckpt").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "old.ckpt: checkpoint schema_version 14 (written by civitas {v}); this build (civitas {v}) reads schema_version 13: resume it with the version that wrote it",
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
            .starts_with("cut.ckpt: damaged checkpoint (the body is "),
        "{err}"
    );
}

/// The day-1 checkpoint of a two-day run of the small old estate, and where its body
/// starts.
fn small_checkpoint(seed: u64) -> (Vec<u8>, usize) {
    let s = load("old-small");
    let dir = tempfile::tempdir().unwrap();
    run_outputs_with(
        &s,
        RunOptions {
            seed,
            ..options(&s, 2)
        },
        Session {
            checkpoints: Some((DAY, dir.path().to_path_buf())),
            ..Session::default()
        },
        |_| {},
    )
    .unwrap();
    let bytes = std::fs::read(dir.path().join(file_name(DAY))).unwrap();
    let body = body_start(&bytes);
    (bytes, body)
}

/// Where a checkpoint's binary body starts: after the magic line and the header line.
fn body_start(bytes: &[u8]) -> usize {
    1 + bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .expect("a magic line and a header line")
        .0
}

#[test]
fn every_flipped_bit_of_a_checkpoint_is_refused_or_reads_as_the_same_state() {
    let (good, body) = small_checkpoint(1);
    let original =
        Checkpoint::from_bytes(&good, "good.ckpt").expect("the undamaged checkpoint reads");
    let mut slack = 0;
    // Every bit of the magic and header lines, and 4,000 bits of the body spread over all
    // of it (the body is hundreds of kilobytes; a checksum failure costs a hash of it).
    let header_bits = 0..body * 8;
    let body_bits = body * 8..good.len() * 8;
    let stride = (body_bits.len() / 4000).max(1);
    let mut refused = [0usize; 2];
    for (i, bit) in header_bits.chain(body_bits.step_by(stride)).enumerate() {
        let mut bytes = good.clone();
        bytes[bit / 8] ^= 1 << (bit % 8);
        let in_body = bit >= body * 8;
        match Checkpoint::from_bytes(&bytes, "flip.ckpt") {
            Err(e) => {
                let e = e.to_string();
                assert!(e.starts_with("flip.ckpt: "), "{e}");
                if in_body {
                    assert_eq!(e, "flip.ckpt: damaged checkpoint (checksum mismatch)");
                }
                refused[usize::from(in_body)] += 1;
            }
            // Slack: a byte nothing depends on (the informative civitas_version). It
            // must read as exactly the same state.
            Ok(ck) => {
                assert!(!in_body, "flip {i} (bit {bit}) in the body was read");
                assert!(
                    ck == original,
                    "flip {i} (bit {bit}) was read as another state"
                );
                slack += 1;
            }
        }
    }
    assert!(refused[1] >= 4000, "{refused:?}");
    assert!(
        slack <= 5 * 8,
        "only the version string is slack: {slack} bits"
    );
}

#[test]
fn a_header_from_another_run_is_refused_with_the_body() {
    let (one, body_one) = small_checkpoint(1);
    let (two, body_two) = small_checkpoint(2);
    // Run 1's header on run 2's body: the checksum names the body it was written with.
    let mut swapped = one[..body_one].to_vec();
    swapped.extend_from_slice(&two[body_two..]);
    let err = Checkpoint::from_bytes(&swapped, "swap.ckpt").unwrap_err();
    let e = err.to_string();
    assert!(e.starts_with("swap.ckpt: damaged checkpoint ("), "{e}");
    // A header edited to another seed but keeping the body's checksum: the body's own
    // copy of the run's identity disagrees.
    let head = String::from_utf8(one[..body_one].to_vec()).unwrap();
    assert!(head.contains("\"seed\":1,"), "{head}");
    let mut edited = head.replacen("\"seed\":1,", "\"seed\":7,", 1).into_bytes();
    edited.extend_from_slice(&one[body_one..]);
    let err = Checkpoint::from_bytes(&edited, "seed.ckpt").unwrap_err();
    let e = err.to_string();
    assert_eq!(
        e,
        "seed.ckpt: damaged checkpoint (the header is of another run than the body: seed 7 in the header, 1 in the body)"
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

/// Checkpoints encode the same vocabulary as the window protocol (postcard, variants by
/// index): when the encoding changes, this fails until `CHECKPOINT_SCHEMA_VERSION` is
/// bumped and the new fingerprint pinned, so an old checkpoint is refused by its version
/// instead of being read as other kinds.
#[test]
fn the_checkpoint_encoding_is_pinned_to_its_schema_version() {
    use civitas_scenarios::checkpoint::CHECKPOINT_SCHEMA_VERSION;
    assert_eq!(
        (
            CHECKPOINT_SCHEMA_VERSION,
            format!("{:016x}", civitas_actors::protocol::encoding_fingerprint())
        ),
        (13, "c84f39647624d177".to_string()),
        "the encoding checkpoints use changed: bump CHECKPOINT_SCHEMA_VERSION and pin the new fingerprint"
    );
}
