use crate::assembly;
use civitas_actors::observe::NoObserver;
use civitas_actors::{Engine, SimClock, WallClock};
use civitas_twin::time::DAY;

#[tokio::test(start_paused = true)]
#[allow(clippy::disallowed_methods)] // reads paused tokio time to check the pacing
async fn the_wall_clock_runs_the_same_actors_to_the_same_result() {
    let (w1, p) = assembly(1500, 4);
    let (w2, _) = assembly(1500, 4);
    let sim = Engine::spawn(w1, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let a = sim.run(10 * DAY, &mut NoObserver).await.unwrap();
    // 10 simulated days at 86,400× on paused tokio time: the clock really waits, but
    // paused time advances instantly when everything is idle.
    let start = tokio::time::Instant::now();
    let wall = Engine::spawn(w2, p.engine.window_secs, WallClock::new(86_400.0))
        .await
        .unwrap();
    let b = wall.run(10 * DAY, &mut NoObserver).await.unwrap();
    assert_eq!(a, b);
    assert!(a.incidents.len() > 20);
    let waited = start.elapsed();
    assert!(
        waited.as_secs_f64() >= 9.0,
        "the wall clock must pace the windows, waited {waited:?}"
    );
}

#[tokio::test(start_paused = true)]
#[allow(clippy::disallowed_methods)] // reads paused tokio time to check the pacing
async fn the_wall_clock_waits_for_each_window() {
    let (w, p) = assembly(800, 2);
    let mut e = Engine::spawn(w, p.engine.window_secs, WallClock::new(1.0))
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    let first = e
        .step(&mut NoObserver)
        .await
        .unwrap()
        .expect("something happens");
    assert!(first > 0);
    // At speed 1 the first window cannot be processed before its simulated start.
    assert!(start.elapsed().as_secs() >= first);
    e.finish().await.unwrap();
}
