use crate::assembly;
use civitas_actors::observe::NoObserver;
use civitas_actors::{Engine, SimClock, Window};
use civitas_twin::time::{DAY, HOUR};

#[tokio::test]
async fn empty_windows_are_skipped_and_idle_actors_are_not_woken() {
    let (w, p) = assembly(2000, 1);
    let actors = w.actors() as u64;
    let e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let r = e.run(30 * DAY, &mut NoObserver).await.unwrap();
    let all_windows = 30 * DAY / p.engine.window_secs;
    assert!(r.stats.windows > 0);
    assert!(
        r.stats.windows < all_windows / 4,
        "{} of {all_windows} windows processed",
        r.stats.windows
    );
    // Far fewer activations than waking every actor every processed window.
    assert!(
        r.stats.activations < r.stats.windows * actors / 4,
        "{} activations, {actors} actors",
        r.stats.activations
    );
}

#[tokio::test]
async fn step_until_stops_before_the_given_time_and_run_continues_from_there() {
    let (w, p) = assembly(1500, 3);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    e.step_until(5 * DAY, &mut NoObserver).await.unwrap();
    assert_eq!(e.now(), 5 * DAY);
    let next = e.next_window().expect("more to come");
    assert!(next >= 5 * DAY);
    let stepped = e.step(&mut NoObserver).await.unwrap().unwrap();
    assert_eq!(stepped, next);
    let r = e.run(10 * DAY, &mut NoObserver).await.unwrap();
    assert_eq!(r.horizon, 10 * DAY);
    // Same as one uninterrupted run.
    let (w2, _) = assembly(1500, 3);
    let e2 = Engine::spawn(w2, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let r2 = e2.run(10 * DAY, &mut NoObserver).await.unwrap();
    assert_eq!(r, r2);
}

#[tokio::test]
async fn nothing_is_lost_when_a_run_stops_mid_flight() {
    let (w, p) = assembly(3000, 9);
    let e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    // Stop at an odd time so incidents are pending, queued, in service and in flight.
    let r = e.run(7 * DAY + 13 * HOUR, &mut NoObserver).await.unwrap();
    let open = r.incidents.iter().filter(|i| i.closed.is_none()).count();
    assert!(open > 0, "the horizon should cut some incidents short");
    for i in &r.incidents {
        assert!(i.created < r.horizon);
        // What had not come to light by the horizon is reported as undetected.
        assert!(i.detected.is_none_or(|d| d < r.horizon), "{i:?}");
        if let Some(c) = i.closed {
            assert!(c >= i.created && c < r.horizon);
            assert!(i.detected.unwrap() <= c);
        }
    }
    // Ids are unique.
    let mut ids: Vec<u64> = r.incidents.iter().map(|i| i.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), r.incidents.len());
}

#[tokio::test]
async fn windows_are_observed_in_increasing_simulated_time() {
    let (w, p) = assembly(1000, 5);
    let e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut observer = |w: &Window| seen.push(w.end);
    e.run(3 * DAY, &mut observer).await.unwrap();
    assert!(!seen.is_empty());
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert!(*seen.last().unwrap() <= 3 * DAY);
}
