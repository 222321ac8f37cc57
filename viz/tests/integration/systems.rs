//! The app's systems without rendering (no graphics driver needed): the data source's
//! events recolour, move and remove what the scene shows, at the playback clock.

use super::*;
use bevy::time::TimeUpdateStrategy;
use civitas_twin::kinds::Level;
use civitas_twin::vocab::events::{StreamRun, stream_header_with};
use civitas_twin::vocab::incident::{EscalationReason, IncidentRecord};
use civitas_viz::playback::{Playback, View};
use civitas_viz::scene::{DeviceEntities, FADE_SECS, IncidentMarker, Palette};
use civitas_viz::source::Replay;
use civitas_viz::view::Holder;
use std::time::Duration;

/// Frames of this much viewer time each.
const FRAME: Duration = Duration::from_millis(100);

fn app(windows: Vec<Window>, speed: f64) -> App {
    let mut app = small_app(windows, 86_400, Output::Nothing, Shading::Flat);
    app.insert_resource(TimeUpdateStrategy::ManualDuration(FRAME));
    app.world_mut().resource_mut::<Playback>().speed = speed;
    app
}

/// Updates until the clock reaches `t` (simulated seconds).
fn run_until(app: &mut App, t: f64) {
    for _ in 0..10_000 {
        if app.world().resource::<Playback>().now >= t {
            return;
        }
        app.update();
    }
    panic!("the clock did not reach {t}");
}

fn device_colour(app: &mut App, device: u32) -> Handle<StandardMaterial> {
    let e = app.world().resource::<DeviceEntities>().0[&(0, device)];
    app.world()
        .get::<MeshMaterial3d<StandardMaterial>>(e)
        .expect("a marker")
        .0
        .clone()
}

fn incidents(app: &mut App) -> Vec<(IncidentMarker, Handle<StandardMaterial>)> {
    let world = app.world_mut();
    world
        .query::<(&IncidentMarker, &MeshMaterial3d<StandardMaterial>)>()
        .iter(world)
        .map(|(m, h)| (*m, h.0.clone()))
        .collect()
}

#[test]
fn a_device_state_change_recolours_its_marker_when_the_clock_gets_there() {
    let mut app = app(
        vec![
            window(vec![device(10, 0, DeviceState::Failed)]),
            window(vec![device(20, 0, DeviceState::Offline)]),
        ],
        10.0,
    );
    app.update();
    let palette = app.world().resource::<Palette>().clone();
    assert_eq!(
        device_colour(&mut app, 0),
        palette.devices[&DeviceState::Working]
    );
    run_until(&mut app, 10.0);
    app.update();
    assert_eq!(
        device_colour(&mut app, 0),
        palette.devices[&DeviceState::Failed]
    );
    run_until(&mut app, 20.0);
    app.update();
    assert_eq!(
        device_colour(&mut app, 0),
        palette.devices[&DeviceState::Offline]
    );
}

#[test]
fn an_escalation_recolours_the_incident_and_closing_fades_it_out() {
    let mut record = IncidentRecord::new(
        5,
        IncidentKind::Fire,
        civitas_twin::kinds::Severity::High,
        1,
    );
    record.closed = Some(40);
    record.closed_level = Some(Level::Street);
    let mut app = app(
        vec![
            window(vec![incident(10, 5, Stage::Created)]),
            window(vec![incident(
                20,
                5,
                Stage::Acknowledged {
                    level: Level::Micro,
                },
            )]),
            window(vec![incident(
                30,
                5,
                Stage::Escalated {
                    reason: EscalationReason::TimeLimit,
                    street: 0,
                    arrives: 90,
                },
            )]),
            window(vec![incident(
                40,
                5,
                Stage::Closed {
                    record: Box::new(record),
                },
            )]),
        ],
        10.0,
    );
    app.update();
    let palette = app.world().resource::<Palette>().clone();
    assert!(incidents(&mut app).is_empty());
    for (t, holder) in [
        (10.0, Holder::Unnoticed),
        (20.0, Holder::Community),
        (30.0, Holder::Street),
    ] {
        run_until(&mut app, t);
        app.update();
        let shown = incidents(&mut app);
        assert_eq!(shown.len(), 1, "at {t}");
        assert_eq!(shown[0].0.holder, holder, "at {t}");
        assert_eq!(shown[0].1, palette.incidents[&holder], "at {t}");
    }
    run_until(&mut app, 40.0);
    app.update();
    assert_eq!(app.world().resource::<View>().0.open().count(), 0);
    let fading = incidents(&mut app);
    assert_eq!(fading.len(), 1, "a closed incident fades before it goes");
    assert_ne!(
        fading[0].1,
        palette.incidents[&Holder::Street],
        "it has its own material"
    );
    let frames = (FADE_SECS / FRAME.as_secs_f32()).ceil() as usize + 1;
    for _ in 0..frames {
        app.update();
    }
    assert!(incidents(&mut app).is_empty(), "gone after {FADE_SECS} s");
}

#[test]
fn a_replay_at_2x_shows_at_each_frame_what_the_events_file_says_happened_by_then() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let changes = [
        (1, DeviceState::Failed),
        (2, DeviceState::Offline),
        (4, DeviceState::Working),
    ];
    let mut text = stream_header_with(&StreamRun {
        scenario_toml: SMALL.into(),
        seed: 1,
        model: InvestmentModel::Hybrid,
    });
    text.push('\n');
    for (at, state) in changes {
        text += &serde_json::to_string(&window(vec![device(at, 0, state)])).unwrap();
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    let (subject, replay) = Replay::open(&path, None).expect("the file reads");
    let options = Options {
        shading: Shading::Flat,
        speed: 2.0,
        panel: false,
        ..Options::default()
    };
    let mut app = build_app(subject, Box::new(replay), &Output::Nothing, &options);
    app.insert_resource(TimeUpdateStrategy::ManualDuration(FRAME));
    let palette = {
        app.update();
        app.world().resource::<Palette>().clone()
    };
    let mut seen = Vec::new();
    for _ in 0..30 {
        app.update();
        let now = app.world().resource::<Playback>().now;
        let expected = changes
            .iter()
            .rfind(|(at, _)| *at as f64 <= now)
            .map_or(DeviceState::Working, |(_, s)| *s);
        assert_eq!(
            device_colour(&mut app, 0),
            palette.devices[&expected],
            "at {now}"
        );
        seen.push(now);
    }
    // Each frame moves the clock on by 2 × 0.1 s.
    for pair in seen.windows(2) {
        assert!((pair[1] - pair[0] - 0.2).abs() < 1e-9, "{pair:?}");
    }
    assert!(*seen.last().unwrap() > 4.0, "the clock passed every event");
}

#[test]
fn from_afar_only_devices_that_are_not_working_are_drawn() {
    use civitas_viz::camera::Orbit;
    use civitas_viz::scene::DEVICE_DETAIL_M;
    let mut app = app(vec![window(vec![device(10, 0, DeviceState::Failed)])], 10.0);
    app.update();
    let marker = app.world().resource::<DeviceEntities>().0[&(0, 0)];
    let visibility = |app: &App| *app.world().get::<Visibility>(marker).unwrap();
    assert_eq!(visibility(&app), Visibility::Inherited);
    {
        let world = app.world_mut();
        let mut orbit = world.query::<&mut Orbit>().single_mut(world).unwrap();
        orbit.distance = DEVICE_DETAIL_M * 2.0;
    }
    app.update();
    assert_eq!(visibility(&app), Visibility::Hidden, "working, from afar");
    run_until(&mut app, 10.0);
    app.update();
    assert_eq!(
        visibility(&app),
        Visibility::Inherited,
        "failed: drawn even from afar"
    );
}
