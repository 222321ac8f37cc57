use crate::{community, run, scenario};

/// Only garbage overflows, handled by a property firm of one, with no time limits that
/// would pass cases upward and a queue that never fills.
fn garbage_only(rate_per_building: f64) -> civitas_scenarios::Scenario {
    let body = "name = \"q\"\nresidents = 2000\nelderly_share = 0.2\nage = \"new\"\nregion = \"developed\"";
    let mut params = String::new();
    for k in civitas_twin::kinds::IncidentKind::ALL {
        let rate = if k.as_str() == "garbage_overflow" {
            rate_per_building
        } else {
            0.0
        };
        params.push_str(&format!(
            "[parameters.incidents.{}]\nrate = {rate}\n",
            k.as_str()
        ));
        if k.as_str() == "garbage_overflow" {
            params.push_str("micro_resolve = 1.0\nmicro_service_hours = 2.0\n");
        }
    }
    params.push_str(
        "[parameters.staffing]\nproperty_day_per_1000_households = 0.0\nproperty_night_per_1000_households = 0.0\nmicro_queue_capacity = 1000000\n",
    );
    params.push_str("[parameters.severity.low]\nmicro_limit_hours = 100000.0\n");
    scenario(&community(body, &params))
}

#[test]
fn arrivals_above_capacity_make_the_backlog_grow() {
    // 2,000 residents in new high-rises make 8 buildings: 8 × 1,000 a year ≈ 22 a day,
    // against one worker (the minimum) handling 24 h / 2 h = 12 a day.
    let s = garbage_only(1000.0);
    let o = run(&s, 1, 60, 2);
    let d = &o.summary.backlog.daily;
    let early = d[9] as f64;
    let late = d[59] as f64;
    assert!(
        late > early * 2.0 && late > 50.0,
        "backlog day 10 {early}, day 60 {late}"
    );
    // and it keeps growing: the last ten days are above the ten before them
    let a: u64 = d[40..50].iter().sum();
    let b: u64 = d[50..60].iter().sum();
    assert!(b > a);
}

#[test]
fn arrivals_below_capacity_keep_the_backlog_bounded() {
    // 8 × 100 a year ≈ 2.2 a day against 12 a day.
    let s = garbage_only(100.0);
    let o = run(&s, 1, 60, 2);
    let d = &o.summary.backlog.daily;
    let max = *d.iter().max().unwrap();
    assert!(max < 15, "backlog peaked at {max}");
    assert!(o.summary.incidents.share_closed > 0.95);
}

#[test]
fn a_zero_queue_limit_only_refuses_cases_that_would_have_to_wait() {
    let body = "name = \"z\"\nresidents = 2000\nelderly_share = 0.2\nage = \"new\"\nregion = \"developed\"";
    let params = format!(
        "{}[parameters.staffing]\nmicro_queue_capacity = 0\ncommittee_day = 1000\ncommittee_night = 1000\nproperty_day_per_1000_households = 1000.0\nproperty_night_per_1000_households = 1000.0\n",
        crate::only_kinds(&[("garbage_overflow", 20.0), ("neighbour_dispute", 0.5)])
    );
    let s = scenario(&community(body, &params));
    let o = run(&s, 1, 60, 2);
    assert!(o.summary.incidents.total > 50);
    assert_eq!(o.summary.escalation.street_reasons.get("queue_full"), None);
}
