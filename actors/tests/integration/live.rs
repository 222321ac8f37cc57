//! The engine serving a live world: an alarm injected from another task becomes an
//! incident at once; a handle held by another task injects, subscribes, checkpoints and
//! stops the running engine; the live run's inject log replays on the simulated clock to
//! the same run.

use crate::{assembly, camera, district};
use civitas_actors::observe::{DeviceState, NoObserver, Window};
use civitas_actors::{
    Address, Engine, EngineError, Event, Inject, InjectError, RunResult, SimClock, Stage,
    WallClock, When,
};
use civitas_twin::kinds::IncidentKind;
use civitas_twin::time::{DAY, HOUR, MINUTE, SimTime};
use std::time::Duration;

/// A camera of the test community of `residents` and its alarm.
fn camera_alarm(residents: u32, seed: u64) -> (Address, Inject) {
    let (d, _) = district(residents, seed);
    let camera = camera(&d);
    (
        Address::Device {
            community: 0,
            device: camera,
        },
        Inject::Device {
            device: camera,
            state: DeviceState::Alarm,
        },
    )
}

/// The stages of incidents created at `at` that a window reports.
fn stages_at(w: &Window, at: SimTime) -> Vec<String> {
    w.events
        .iter()
        .filter_map(|e| match e {
            Event::Incident {
                at: t,
                kind: IncidentKind::Intrusion,
                stage,
                ..
            } if *t == at => Some(match stage {
                Stage::Created => "created".to_string(),
                Stage::Detected { .. } => "detected".to_string(),
                other => format!("{other:?}"),
            }),
            _ => None,
        })
        .collect()
}

/// Waits (with a timeout) for the window that reports the alarm's incident as created
/// and detected; returns it.
async fn alarm_window(sub: &mut civitas_actors::Subscription, at: SimTime) -> Window {
    let wait = async {
        while let Some(w) = sub.recv().await {
            let s = stages_at(&w, at);
            if s.contains(&"created".to_string()) && s.contains(&"detected".to_string()) {
                return (*w).clone();
            }
        }
        panic!("the run ended without the alarm's incident");
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the alarm's incident within 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_wall_clock_an_alarm_from_another_task_is_an_incident_at_once() {
    // Real time at the speed of life: a window is 60 s, so an alarm that waited for the
    // next window boundary would take up to a minute.
    let (a, p) = assembly(1500, 4);
    let e = Engine::spawn(a, p.engine.window_secs, WallClock::new(1.0))
        .await
        .unwrap();
    let handle = e.handle();
    let run = tokio::spawn(async move { e.run(DAY, &mut NoObserver).await });
    let mut sub = handle.subscribe(1024).await.unwrap();
    let (to, alarm) = camera_alarm(1500, 4);
    let at = handle
        .inject("cameras", When::Now, to, alarm)
        .await
        .unwrap();
    assert!(at < 10, "now is the first seconds of the run, found {at}");
    let w = tokio::time::timeout(Duration::from_secs(5), alarm_window(&mut sub, at))
        .await
        .expect("created and detected within 5 s of real time, not at the next window");
    assert_eq!(
        (w.start, w.end),
        (at, at + 1),
        "a one-second window of its own"
    );
    assert_eq!(w.counters.injects, 1);
    let stopped_at = handle.stop().await.unwrap();
    let r = run.await.unwrap().unwrap();
    assert_eq!(r.horizon, stopped_at, "a stopped run ends where it stopped");
    assert_eq!(r.injects.len(), 1);
    assert_eq!(
        r.injects[0].at, at,
        "the log keeps the time it was applied at"
    );
}

/// A live run at 3,600× on paused time: a task injects three alarms "now" as the run goes
/// (each when a window shows the run has reached a given hour), takes a checkpoint at
/// hour 5 and lets the run end at hour 10.
async fn live_run() -> (RunResult, civitas_actors::EngineState) {
    let (a, p) = assembly(1500, 4);
    let mut e = Engine::spawn(a, p.engine.window_secs, WallClock::new(3600.0))
        .await
        .unwrap();
    let handle = e.handle();
    // Subscribed before the run starts (a handle's subscription is served by the running
    // engine, from the next window on).
    let mut sub = e.subscribe(100_000);
    let run = tokio::spawn(async move { e.run(10 * HOUR, &mut NoObserver).await });
    let (to, alarm) = camera_alarm(1500, 4);
    let mut state = None;
    let mut next = [HOUR, 3 * HOUR, 7 * HOUR].into_iter().peekable();
    while let Some(w) = sub.recv().await {
        if let Some(&h) = next.peek()
            && w.end >= h
        {
            next.next();
            handle
                .inject("cameras", When::Now, to, alarm)
                .await
                .unwrap();
        }
        if state.is_none() && w.end >= 5 * HOUR {
            state = Some(handle.checkpoint().await.unwrap());
        }
    }
    let r = run.await.unwrap().unwrap();
    (r, state.expect("a checkpoint was taken"))
}

#[tokio::test(start_paused = true)]
async fn a_live_runs_inject_log_replays_on_the_simulated_clock_to_the_same_run() {
    let (live, _) = live_run().await;
    assert_eq!(live.injects.len(), 3);
    let (a, p) = assembly(1500, 4);
    let mut e = Engine::spawn(a, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    e.replay(&live.injects).unwrap();
    let replayed = e.run(10 * HOUR, &mut NoObserver).await.unwrap();
    assert_eq!(replayed.incidents, live.incidents);
    assert_eq!(replayed.transfers, live.transfers);
    assert_eq!(replayed.injects, live.injects);
    let alarms = live
        .incidents
        .iter()
        .filter(|i| live.injects.iter().any(|j| j.at == i.created) && i.detected == Some(i.created))
        .count();
    assert_eq!(
        alarms, 3,
        "each alarm is an incident detected when it arrived"
    );
}

#[tokio::test(start_paused = true)]
async fn a_checkpoint_taken_through_the_handle_while_live_resumes_as_the_run_went_on() {
    let (live, state) = live_run().await;
    // Taken at the first barrier from hour 5 on (empty windows are skipped, so it may be
    // a while after), before the alarm at hour 7.
    assert!(
        state.now >= 5 * HOUR && state.now < 7 * HOUR,
        "{}",
        state.now
    );
    let (a, p) = assembly(1500, 4);
    assert_eq!(p.engine.window_secs, 60);
    let now = state.now;
    // Through the checkpoint file's binary encoding: the inject log's records survive it.
    assert!(!state.injects.is_empty() && state.injects.iter().any(|r| r.pass == 0));
    let bytes = postcard::to_stdvec(&state).unwrap();
    let state: civitas_actors::EngineState = postcard::from_bytes(&bytes).unwrap();
    let mut e = Engine::restore(a, state, SimClock).await.unwrap();
    // The alarms the task sent after the checkpoint, from the live run's log.
    let later: Vec<_> = live
        .injects
        .iter()
        .filter(|r| r.at >= now)
        .cloned()
        .collect();
    assert_eq!(
        later.len(),
        1,
        "the alarm at hour 7 came after the checkpoint"
    );
    e.replay(&later).unwrap();
    let resumed = e.run(10 * HOUR, &mut NoObserver).await.unwrap();
    assert_eq!(resumed.incidents, live.incidents);
    assert_eq!(resumed.transfers, live.transfers);
    assert_eq!(resumed.injects, live.injects);
}

#[tokio::test]
async fn a_full_intake_refuses_with_a_count_and_a_stopped_engine_says_so() {
    let (a, p) = assembly(400, 4);
    let mut e = Engine::spawn(a, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    e.set_intake_capacity(2);
    let handle = e.handle();
    let (to, alarm) = camera_alarm(400, 4);
    // Two injects wait in the intake (the engine is not running yet) ...
    let waiting: Vec<_> = (0..2)
        .map(|k| {
            let h = handle.clone();
            tokio::spawn(async move { h.inject("flood", When::At(HOUR + k), to, alarm).await })
        })
        .collect();
    tokio::task::yield_now().await;
    // ... so the next two are refused at once, counted.
    for refused in 1..=2 {
        assert_eq!(
            handle.inject("flood", When::At(2 * HOUR), to, alarm).await,
            Err(InjectError::IntakeFull {
                capacity: 2,
                refused
            })
        );
    }
    assert_eq!(handle.refused(), 2);
    assert_eq!(
        InjectError::IntakeFull {
            capacity: 2,
            refused: 2
        }
        .to_string(),
        "the engine's intake is full (2 requests waiting); 2 refused so far: retry later or send less"
    );
    let r = e.run(DAY, &mut NoObserver).await.unwrap();
    for w in waiting {
        assert!(w.await.unwrap().is_ok(), "the waiting injects were taken");
    }
    assert_eq!(r.injects.len(), 2);
    // The engine is gone: every use of its handle says so.
    assert_eq!(
        handle.inject("late", When::Now, to, alarm).await,
        Err(InjectError::EngineGone)
    );
    assert!(matches!(
        handle.checkpoint().await,
        Err(EngineError::Stopped)
    ));
    assert!(matches!(handle.stop().await, Err(EngineError::Stopped)));
    assert_eq!(EngineError::Stopped.to_string(), "the engine has stopped");
}

#[tokio::test(start_paused = true)]
async fn a_stop_through_the_handle_ends_a_live_run_cleanly_where_it_stood() {
    let (a, p) = assembly(400, 4);
    let mut e = Engine::spawn(a, p.engine.window_secs, WallClock::new(600.0))
        .await
        .unwrap();
    let handle = e.handle();
    let mut sub = e.subscribe(1024);
    let run = tokio::spawn(async move { e.run(30 * DAY, &mut NoObserver).await });
    let mut last_end = 0;
    while let Some(w) = sub.recv().await {
        last_end = w.end;
        if w.end >= 2 * HOUR + 30 * MINUTE {
            break;
        }
    }
    let at = handle.stop().await.unwrap();
    let r = run.await.unwrap().unwrap();
    assert!(at >= last_end && at < 30 * DAY, "stopped at {at}");
    assert_eq!(r.horizon, at, "the run ends where it stopped");
    // The stream holds the windows up to the stop, then ends with the run.
    while let Some(w) = sub.recv().await {
        assert!(w.end <= at, "a window after the stop: {}", w.end);
    }
}

#[tokio::test(start_paused = true)]
async fn alarms_within_one_second_each_get_a_pass_of_their_own_and_replay_the_same() {
    let (a, p) = assembly(1500, 4);
    let mut e = Engine::spawn(a, p.engine.window_secs, WallClock::new(1.0))
        .await
        .unwrap();
    let handle = e.handle();
    let mut sub = e.subscribe(1024);
    let run = tokio::spawn(async move { e.run(DAY, &mut NoObserver).await });
    let (to, alarm) = camera_alarm(1500, 4);
    // Five alarms while real (paused) time stands still: one second, five passes.
    let mut ats = Vec::new();
    for _ in 0..5 {
        ats.push(
            handle
                .inject("cameras", When::Now, to, alarm)
                .await
                .unwrap(),
        );
    }
    assert!(ats.iter().all(|&t| t == ats[0]), "{ats:?}");
    // Each is created and detected at that second, in a window [at, at + 1) of its own.
    let mut windows = 0;
    while windows < 5 {
        let w = tokio::time::timeout(Duration::from_secs(30), sub.recv())
            .await
            .expect("a window")
            .expect("the run goes on");
        if (w.start, w.end) == (ats[0], ats[0] + 1) {
            let s = stages_at(&w, ats[0]);
            assert_eq!(
                s,
                ["created", "detected"],
                "window {windows} holds one alarm's incident"
            );
            windows += 1;
        }
    }
    handle.stop().await.unwrap();
    let live = run.await.unwrap().unwrap();
    let passes: Vec<u32> = live.injects.iter().map(|r| r.pass).collect();
    assert_eq!(passes, [0, 1, 2, 3, 4]);
    let log = civitas_actors::inject::write_log(&live.injects);
    assert!(log.lines().next().is_some_and(|l| !l.contains("pass")));
    assert!(log.lines().nth(1).is_some_and(|l| l.contains("\"pass\":1")));
    // The log replays on the simulated clock to the same run.
    let (a, p) = assembly(1500, 4);
    let mut e = Engine::spawn(a, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    e.replay(&civitas_actors::inject::read_log(&log).unwrap())
        .unwrap();
    let replayed = e.run(live.horizon, &mut NoObserver).await.unwrap();
    assert_eq!(replayed.incidents, live.incidents);
    assert_eq!(replayed.injects, live.injects);
}
