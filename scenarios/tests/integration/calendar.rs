//! A scenario's start and time zone drive the run, survive a checkpoint, and set the
//! comparison's calendar years.

use crate::scenario;
use civitas_scenarios::checkpoint::{Checkpoint, file_name};
use civitas_scenarios::runner::{RunOptions, Session, build_district_for, run, run_session};
use civitas_twin::time::DAY;

const DECEMBER: &str = "schema_version = 1\nname = \"december\"\nstart = \"2026-12-20T14:37\"\ntime_zone = \"Asia/Shanghai\"\n[community]\nname = \"c\"\nresidents = 800\nelderly_share = 0.2\nage = \"old\"\nregion = \"developed\"\n";

#[test]
fn a_run_resumed_from_a_checkpoint_keeps_its_calendar_across_the_new_year() {
    let s = scenario(DECEMBER);
    let opts = RunOptions {
        seed: 2,
        horizon: 20 * DAY,
        workers: 1,
        model: s.model,
    };
    let dir = tempfile::tempdir().unwrap();
    let district = build_district_for(&s, opts.seed, opts.model);
    let session = Session {
        checkpoints: Some((5 * DAY, dir.path().to_path_buf())),
        ..Session::default()
    };
    let whole = run_session(&district, &s, opts, session, |_| {}).unwrap();
    // The checkpoint of day 10 is before the local new year (day 11, 09:23 in).
    let ck = Checkpoint::read(&dir.path().join(file_name(10 * DAY))).unwrap();
    assert_eq!(ck.scenario.calendar, s.calendar);
    assert_eq!(ck.scenario.calendar.start_text(), "2026-12-20T14:37");
    let session = Session {
        resume: Some(ck.engine),
        ..Session::default()
    };
    let resumed = run_session(&district, &ck.scenario, opts, session, |_| {}).unwrap();
    assert_eq!(resumed, whole);
    // The year (11 days and a few hours) closed on local 1 January.
    let new_year = s.calendar.year_start(1);
    assert_eq!(new_year, 11 * DAY + 9 * 3600 + 23 * 60);
    assert!(!whole.reports.is_empty());
    assert!(whole.transfers.iter().any(|t| t.at == new_year + 2 * 3600));
}

#[test]
fn the_same_community_started_in_the_afternoon_is_another_run() {
    let s = scenario(DECEMBER);
    let midnight = scenario(&DECEMBER.replace("14:37", "00:00"));
    let opts = |s: &civitas_scenarios::Scenario| RunOptions {
        seed: 2,
        horizon: 3 * DAY,
        workers: 1,
        model: s.model,
    };
    let a = run(&s, opts(&s), |_| {}).unwrap();
    let b = run(&midnight, opts(&midnight), |_| {}).unwrap();
    // The same incidents arise (arrivals do not depend on the hour) but are handled by
    // other shifts.
    assert_eq!(a.incidents.len(), b.incidents.len());
    assert_ne!(a, b);
}

#[test]
fn a_comparison_started_in_july_has_a_half_first_year() {
    use civitas_scenarios::compare::run_one;
    use civitas_scenarios::metrics::K;
    let s = scenario(&DECEMBER.replace("2026-12-20T14:37", "2026-07-01T00:00"));
    let (kpis, _) = run_one(&s, s.model, 3, 2).unwrap();
    assert_eq!(kpis.yearly.len(), 2);
    // Year 0 is July to December (184 days, 6 monthly markets), year 1 all of 2027.
    let used = |y: usize| kpis.yearly[y][K::ServicesUsed as usize];
    let ratio = used(0) / used(1);
    assert!(
        (0.4..0.6).contains(&ratio),
        "services used {} then {}",
        used(0),
        used(1)
    );
    assert_eq!(s.calendar.year_start(1), 184 * DAY);
}
