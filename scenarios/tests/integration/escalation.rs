use crate::{community, run, scenario};

const BODY: &str = r#"name = "e"
residents = 3000
elderly_share = 0.25
age = "old"
region = "developed"
[community.devices]
video_surveillance = 1.0
smoke_detector = 1.0"#;

#[test]
fn an_overwhelmed_micro_loop_escalates_to_the_street_and_the_district() {
    // Nobody in the committee, one property worker, and five times the usual load.
    let mut params = String::from(
        "[parameters.staffing]\ncommittee_day = 0\ncommittee_night = 0\ngrid_workers_per_10k = 0.0\nproperty_day_per_1000_households = 0.0\nproperty_night_per_1000_households = 0.0\n",
    );
    for (k, r) in [
        ("garbage_overflow", 150.0),
        ("facility_broken", 80.0),
        ("parking_chaos", 400.0),
    ] {
        params.push_str(&format!("[parameters.incidents.{k}]\nrate = {r}\n"));
    }
    let s = scenario(&community(BODY, &params));
    let o = run(&s, 1, 60, 2);
    let sum = &o.summary;
    let micro = sum.closed_by_level["micro"] as f64 / sum.incidents.total as f64;
    assert!(
        micro < 0.3,
        "micro-loop closed {micro:.2}, expected a minority"
    );
    assert!(sum.escalation.to_street as f64 > 0.5 * sum.incidents.total as f64);
    assert!(sum.escalation.to_district > 0);
    assert!(sum.closed_by_level["district"] > 0);
    // For lack of staff: nobody free before the time limit, or no room in the queue.
    let reasons = &sum.escalation.street_reasons;
    let short_staffed = reasons.get("unanswered").copied().unwrap_or(0)
        + reasons.get("queue_full").copied().unwrap_or(0);
    assert!(
        short_staffed as f64 > 0.3 * sum.incidents.total as f64,
        "{reasons:?}"
    );
}

#[test]
fn ample_staff_closes_nearly_everything_in_the_micro_loop() {
    let params = "[parameters.staffing]\ncommittee_day = 40\ncommittee_night = 20\nproperty_day_per_1000_households = 40.0\nproperty_night_per_1000_households = 20.0\n";
    let s = scenario(&community(BODY, params));
    let o = run(&s, 1, 60, 2);
    let sum = &o.summary;
    let micro = sum.closed_by_level["micro"] as f64 / sum.incidents.closed as f64;
    assert!(
        micro > 0.8,
        "micro-loop closed {micro:.2} of closed incidents, expected nearly all"
    );
    // What does go up is beyond the micro-loop's powers, critical, or slow to handle —
    // never for lack of staff.
    let r = &sum.escalation.street_reasons;
    assert_eq!(r.get("queue_full"), None, "{r:?}");
    assert_eq!(r.get("unanswered"), None, "{r:?}");
    assert!(r.get("beyond_capacity").copied().unwrap_or(0) > 0, "{r:?}");
}
