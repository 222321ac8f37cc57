//! The engine open to the outside: injects and their log, the observe stream and its
//! bounded subscriptions.

use crate::{assembly, district};
use civitas_actors::observe::{DeviceState, NoObserver};
use civitas_actors::{
    Address, Assembly, Engine, Event, Inject, InjectError, RunResult, SimClock, Stage, WallClock,
    Window,
};
use civitas_twin::kinds::{IncidentKind, InvestmentModel};
use civitas_twin::time::{DAY, HOUR};

async fn run_with(injects: &[(&str, u64, Address, Inject)], days: u64) -> RunResult {
    let (w, p) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    for (source, at, to, what) in injects {
        let s = e.source(source);
        e.inject(s, *at, *to, *what).unwrap();
    }
    e.run(days * DAY, &mut NoObserver).await.unwrap()
}

fn fire(at: u64) -> (&'static str, u64, Address, Inject) {
    (
        "drill",
        at,
        Address::Building {
            community: 0,
            building: 2,
        },
        Inject::Incident {
            kind: IncidentKind::Fire,
            household: None,
        },
    )
}

fn device(at: u64, device: u32, state: DeviceState) -> (&'static str, u64, Address, Inject) {
    (
        "sensors",
        at,
        Address::Device {
            community: 0,
            device,
        },
        Inject::Device { device, state },
    )
}

#[tokio::test]
async fn injects_take_effect_and_replaying_the_log_gives_the_same_run() {
    let injects = [
        fire(2 * DAY + 3 * HOUR + 17),
        device(3 * DAY, 5, DeviceState::Alarm),
        device(4 * DAY, 6, DeviceState::Failed),
    ];
    let a = run_with(&injects, 8).await;
    let plain = run_with(&[], 8).await;
    assert_ne!(a, plain);
    assert_eq!(a.injects.len(), 3);
    assert_eq!(a.stats.injects, 3);
    // The injected fire happened where and when it was injected.
    let fire = a
        .incidents
        .iter()
        .find(|i| i.created == 2 * DAY + 3 * HOUR + 17 && i.kind == IncidentKind::Fire)
        .expect("the injected fire");
    assert_eq!((fire.community, fire.building), (0, 2));
    assert!(fire.closed.is_some(), "it was handled: {fire:?}");

    // A fresh run replaying the log is the same run, byte for byte.
    let (w, p) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    e.replay(&a.injects).unwrap();
    let b = e.run(8 * DAY, &mut NoObserver).await.unwrap();
    assert_eq!(a, b);
}

#[tokio::test]
async fn an_inject_for_a_past_window_or_a_missing_place_is_refused_with_what_was_asked() {
    let (w, p) = assembly(1000, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    e.step_until(DAY + 30, &mut NoObserver).await.unwrap();
    let s = e.source("operator");
    let (_, at, to, what) = fire(DAY);
    let err = e.inject(s, at, to, what).unwrap_err();
    assert_eq!(
        err.to_string(),
        "an inject at simulated second 86400 comes too late: the next window starts at simulated second 86460"
    );
    assert_eq!(
        err,
        InjectError::InvalidDeadline {
            at: DAY,
            next: DAY + 60
        }
    );
    let nowhere = Address::Building {
        community: 0,
        building: 999,
    };
    let err = e.inject(s, 2 * DAY, nowhere, what).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no such destination: building 999 in community 0 (it has "),
        "{err}"
    );
    let err = e
        .inject(
            s,
            2 * DAY,
            Address::Device {
                community: 3,
                device: 0,
            },
            what,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no such destination: community 3 (there are 1)"
    );
    // Refused injects are not in the log.
    assert!(e.inject_log().is_empty());
}

/// Two tasks inject at the same instants, in the order given; the engine waits on a
/// (paused) wall clock meanwhile.
async fn two_tasks(first_a: bool) -> RunResult {
    let (w, p) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, WallClock::new(600.0))
        .await
        .unwrap();
    let a = e.injector("a");
    let b = e.injector("b");
    let (_, at, to, what) = fire(DAY + 600);
    let (_, at2, to2, what2) = device(DAY + 600, 5, DeviceState::Alarm);
    let go = |i: civitas_actors::Injector, at, to, what| async move {
        i.inject(at, to, what).await.unwrap();
    };
    let (ta, tb) = if first_a {
        let ta = tokio::spawn(go(a, at, to, what));
        tokio::task::yield_now().await;
        (ta, tokio::spawn(go(b, at2, to2, what2)))
    } else {
        let tb = tokio::spawn(go(b, at2, to2, what2));
        tokio::task::yield_now().await;
        (tokio::spawn(go(a, at, to, what)), tb)
    };
    let run = tokio::spawn(async move { e.run(2 * DAY, &mut NoObserver).await.unwrap() });
    ta.await.unwrap();
    tb.await.unwrap();
    let mut r = run.await.unwrap();
    r.injects.sort_by_key(|i| (i.at, i.source, i.seq));
    r
}

#[tokio::test(start_paused = true)]
async fn injects_from_two_tasks_in_either_order_give_the_same_run() {
    let x = two_tasks(true).await;
    let y = two_tasks(false).await;
    assert_eq!(x.injects.len(), 2);
    assert_eq!(x, y);
}

#[tokio::test]
async fn the_stream_tells_each_incidents_life_in_order_and_each_device_failure() {
    let (w, p) = assembly(2000, 7);
    let e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let mut events = Vec::new();
    let mut windows = 0u64;
    let mut observer = |w: &Window| {
        windows += 1;
        assert_eq!(w.counters.window, windows);
        assert!(w.events.windows(2).all(|p| p[0].at() <= p[1].at()));
        assert!(w.events.iter().all(|e| (w.start..w.end).contains(&e.at())));
        events.extend(w.events.iter().cloned());
    };
    let r = e.run(20 * DAY, &mut observer).await.unwrap();
    assert_eq!(windows, r.stats.windows);
    let closed: Vec<_> = r.incidents.iter().filter(|i| i.closed.is_some()).collect();
    assert!(closed.len() > 20);
    for rec in closed {
        let stages: Vec<&Stage> = events
            .iter()
            .filter_map(|e| match e {
                Event::Incident { id, stage, .. } if *id == rec.id => Some(stage),
                _ => None,
            })
            .collect();
        assert!(matches!(stages.first(), Some(Stage::Created)), "{stages:?}");
        assert!(
            matches!(stages.get(1), Some(Stage::Detected { .. })),
            "{stages:?}"
        );
        assert!(
            matches!(stages.get(2), Some(Stage::Dispatched { .. })),
            "{stages:?}"
        );
        assert!(
            stages
                .iter()
                .any(|s| matches!(s, Stage::Acknowledged { .. }))
        );
        assert_eq!(
            stages.iter().any(|s| matches!(s, Stage::Escalated { .. })),
            rec.to_street.is_some()
        );
        assert_eq!(
            stages.iter().any(|s| matches!(s, Stage::Whistled { .. })),
            rec.to_district.is_some()
        );
        match stages.last() {
            Some(Stage::Closed { record }) => assert_eq!(**record, *rec),
            other => panic!("ends with {other:?}"),
        }
    }
    let failed = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Device {
                    state: DeviceState::Failed,
                    ..
                }
            )
        })
        .count() as u64;
    let failures: u64 = r.devices.values().map(|d| d.failures).sum();
    assert!(failures > 0);
    assert_eq!(failed, failures);
    let paid = events
        .iter()
        .filter(|e| matches!(e, Event::Payment(_)))
        .count();
    assert_eq!(paid, r.transfers.len());
}

#[tokio::test]
async fn a_slow_subscriber_misses_the_oldest_windows_counted_and_changes_nothing() {
    let (w, p) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let mut slow = e.subscribe(8);
    let r = e.run(10 * DAY, &mut NoObserver).await.unwrap();
    let mut got = Vec::new();
    while let Some(w) = slow.recv().await {
        got.push(w.counters.window);
    }
    // It holds the last 8 windows; every one before was missed, and counted.
    assert_eq!(got.len(), 8);
    assert_eq!(*got.last().unwrap(), r.stats.windows);
    assert_eq!(slow.missed(), r.stats.windows - 8);
    let (w, _) = assembly(1500, 4);
    let plain = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap()
        .run(10 * DAY, &mut NoObserver)
        .await
        .unwrap();
    assert_eq!(r, plain);
}

#[tokio::test]
async fn a_checkpoint_restored_into_a_fresh_assembly_carries_on_identically() {
    let (w, p) = assembly(1500, 4);
    let whole = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap()
        .run(12 * DAY, &mut NoObserver)
        .await
        .unwrap();
    let (w, p) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    e.step_until(5 * DAY, &mut NoObserver).await.unwrap();
    let state = e.checkpoint().await.unwrap();
    drop(e);
    let (d, p) = district(1500, 4);
    let fresh = Assembly::build(&d, &p, 4, InvestmentModel::Hybrid);
    let resumed = Engine::restore(fresh, state.clone(), SimClock)
        .await
        .unwrap()
        .run(12 * DAY, &mut NoObserver)
        .await
        .unwrap();
    assert_eq!(whole, resumed);
    // A checkpoint of another community is refused.
    let (other, _) = assembly(600, 4);
    let err = Engine::restore(other, state, SimClock).await.err().unwrap();
    assert!(err.to_string().contains("this scenario has"), "{err}");
}

#[tokio::test]
async fn a_log_replays_under_its_own_source_ids_whatever_order_the_sources_first_injected() {
    let (w, p) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let _unused = e.source("console");
    let a = e.source("drill");
    let b = e.source("sensors");
    let (_, at, to, what) = device(DAY, 5, DeviceState::Alarm);
    e.inject(b, at, to, what).unwrap();
    let (_, at, to, what) = fire(DAY);
    e.inject(a, at, to, what).unwrap();
    let original = e.run(3 * DAY, &mut NoObserver).await.unwrap();
    assert_eq!(original.injects[0].source, 2, "sensors first, with id 2");

    let (w, _) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    e.replay(&original.injects).unwrap();
    let replayed = e.run(3 * DAY, &mut NoObserver).await.unwrap();
    assert_eq!(original, replayed);

    // A log that gives an id another name already holds is refused by name.
    let (w, _) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let _ = e.source("operator");
    let mut log = original.injects.clone();
    log[0].source = 0;
    assert_eq!(
        e.replay(&log[..1]).unwrap_err().to_string(),
        "inject log: source \"sensors\" has id 0 in the log but that id is \"operator\" here: replay a log before registering other sources"
    );
}
