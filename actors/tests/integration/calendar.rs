//! The calendar drives the actors: shifts follow the local hour of a live twin started
//! in the afternoon, and monthly and yearly settlements fall on local calendar dates.

use crate::{camera, district};
use civitas_actors::ledger::{Purpose, YearReport};
use civitas_actors::observe::{DeviceState, Window};
use civitas_actors::{Address, Assembly, Engine, Event, Inject, SimClock, Stage, WallClock};
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::{IncidentKind, InvestmentModel, Level};
use civitas_twin::time::{DAY, HOUR, MINUTE, SimTime};
use std::time::Duration;

/// A camera alarm a minute in: an intrusion, known at once, for the residents committee.
const ALARM_AT: SimTime = MINUTE;

/// What happened to the alarm's intrusion on a live twin started at the scenario's own
/// start (`late` after it): when the committee took it, if it did in the first
/// `hours`, and the lag of the first window.
async fn live_alarm(start: &str, late: Duration, hours: u64) -> (Option<SimTime>, u64) {
    let calendar = Calendar::new(start, "Asia/Shanghai").unwrap();
    let (mut d, p) = district(1500, 4);
    // Nobody on the committee's night shift: only the day shift can take the case.
    d.communities[0].staffing.committee_night = 0;
    let camera = camera(&d);
    let assembly = Assembly::build_at(&d, &p, &calendar, 4, InvestmentModel::Hybrid);
    let origin = calendar.origin();
    let clock = WallClock::starting_at(origin, origin + late, 1.0);
    let mut e = Engine::spawn(assembly, p.engine.window_secs, clock)
        .await
        .unwrap();
    let s = e.source("cameras");
    let to = Address::Device {
        community: 0,
        device: camera,
    };
    let alarm = Inject::Device {
        device: camera,
        state: DeviceState::Alarm,
    };
    e.inject(s, ALARM_AT, to, alarm).unwrap();
    let mut taken = None;
    let mut first_lag = None;
    let mut observer = |w: &Window| {
        first_lag.get_or_insert(w.counters.lag_ms);
        for ev in &w.events {
            if let Event::Incident {
                at,
                kind: IncidentKind::Intrusion,
                stage:
                    Stage::Acknowledged {
                        level: Level::Micro,
                    },
                ..
            } = ev
                && taken.is_none()
            {
                taken = Some(*at);
            }
        }
    };
    let r = e.run(hours * HOUR, &mut observer).await.unwrap();
    let alarm = r
        .incidents
        .iter()
        .find(|i| i.created == ALARM_AT && i.kind == IncidentKind::Intrusion)
        .expect("the alarm's intrusion");
    assert_eq!(
        alarm.detected,
        Some(ALARM_AT),
        "a camera alarm is known at once"
    );
    (taken, first_lag.expect("a window ran"))
}

#[tokio::test(start_paused = true)]
async fn a_live_clock_run_started_at_14_37_local_time_staffs_the_day_shift_at_14_37() {
    let (taken, lag) = live_alarm("2026-12-02T14:37", Duration::ZERO, 3).await;
    let taken = taken.expect("the committee's day shift took the intrusion");
    assert!(taken < ALARM_AT + 15 * MINUTE, "taken at {taken}");
    assert_eq!(lag, 0, "on time");

    // Started at 02:37, the same alarm waits for the day shift at 08:00 (5 h 23 min in).
    let (taken, _) = live_alarm("2026-12-02T02:37", Duration::ZERO, 7).await;
    let day_shift = 5 * HOUR + 23 * MINUTE;
    assert!(
        taken.is_none_or(|t| t >= day_shift),
        "nobody on the night shift, yet taken at {taken:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_live_clock_made_after_the_scenario_start_reports_how_far_behind_it_is() {
    // The twin comes up 37 minutes after the scenario's start: the first window (the
    // alarm's, a minute in) is 36 minutes late, in the observe stream's counters.
    let (_, lag) = live_alarm("2026-12-02T14:37", Duration::from_secs(37 * 60), 1).await;
    assert_eq!(lag, 36 * 60 * 1000);
}

#[tokio::test]
async fn a_run_across_the_end_of_a_month_and_a_year_settles_on_the_calendar_dates() {
    let calendar = Calendar::new("2026-12-20T00:00", "Asia/Shanghai").unwrap();
    let (d, p) = district(1500, 4);
    let assembly = Assembly::build_at(&d, &p, &calendar, 4, InvestmentModel::Hybrid);
    let e = Engine::spawn(assembly, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let mut sales = Vec::new();
    let mut reports = Vec::new();
    let mut observer = |w: &Window| {
        for ev in &w.events {
            match ev {
                Event::Payment(t)
                    if matches!(t.purpose, Purpose::Service(_)) && sales.last() != Some(&t.at) =>
                {
                    sales.push(t.at)
                }
                Event::Report { at, report } => reports.push((*at, report.clone())),
                _ => {}
            }
        }
    };
    e.run(45 * DAY, &mut observer).await.unwrap();

    let new_year = 12 * DAY; // 2027-01-01 00:00 local
    let february = new_year + 31 * DAY; // 2027-02-01 00:00 local
    assert_eq!(calendar.month_start(1), new_year);
    assert_eq!(calendar.year_start(1), new_year);
    assert_eq!(calendar.month_start(2), february);
    let local = |t: SimTime| calendar.datetime(t).strftime("%Y-%m-%d %H:%M").to_string();
    // Services sell at the monthly market close, an hour after each local month start.
    let sold: Vec<String> = sales.iter().map(|&t| local(t)).collect();
    assert_eq!(sold, ["2027-01-01 01:00", "2027-02-01 01:00"]);
    // The year (a partial one: 12 days) is reported once, on 1 January.
    assert!(!reports.is_empty());
    for (at, report) in &reports {
        assert!(
            (new_year..new_year + DAY).contains(at),
            "reported at {}",
            local(*at)
        );
        let year = match report {
            YearReport::Building(b) => b.year,
            YearReport::Platform(p) => p.year,
        };
        assert_eq!(year, 0);
    }
    assert!(
        reports
            .iter()
            .any(|(at, r)| matches!(r, YearReport::Platform(_)) && *at == new_year + 2 * HOUR),
        "the platform's year closes at 02:00 on 1 January"
    );
}
