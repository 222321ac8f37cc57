//! civitas-viz's integration tests: one binary (`cargo test -p civitas-viz`).
//!
//! `pixels` renders headless through Vulkan (Mesa's lavapipe on a machine without a GPU:
//! `scripts/setup-viewer`); `systems` needs no graphics driver; `cli` runs the binary.

mod cli;
mod pixels;
mod systems;

use bevy::prelude::*;
use civitas_scenarios::file::Scenario;
use civitas_twin::kinds::{DeviceKind, IncidentKind, InvestmentModel};
use civitas_twin::time::SimTime;
use civitas_twin::vocab::events::{Counters, DeviceState, Event, Stage, Window};
use civitas_viz::scene::Shading;
use civitas_viz::source::{Replay, Subject};
use civitas_viz::{Options, Output, build_app};

/// A small fixed community: one tall building of a new estate, one site point with its
/// vehicle-recognition camera, no other device.
pub const SMALL: &str = r#"
schema_version = 1
name = "small"
days = 10

[community]
name = "A small fixed community"
residents = 150
elderly_share = 0.2
age = "new"
region = "developed"

[community.devices]
video_surveillance = 0.0
access_control = 0.0
face_recognition = 0.0
vehicle_recognition = 1.0
smoke_detector = 0.0
water_level = 0.0
hydrant_monitor = 0.0
elevator_monitor = 0.0
smart_bin = 0.0
elderly_wearable = 0.0
emergency_button = 0.0
smart_meter = 0.0
info_display = 0.0
"#;

/// The small community's subject, up to `horizon`.
pub fn small_subject(horizon: SimTime) -> Subject {
    let s = Scenario::from_str(SMALL, "small").expect("the small scenario is valid");
    Subject::new(&s, 1, InvestmentModel::Hybrid, horizon)
}

/// One event in a window of its own second.
pub fn window(events: Vec<Event>) -> Window {
    let at = events.first().map_or(0, Event::at);
    Window {
        start: at,
        end: at + 1,
        events,
        counters: Counters::default(),
    }
}

/// Device `device` of community 0 changing to `state` at `at`.
pub fn device(at: SimTime, device: u32, state: DeviceState) -> Event {
    Event::Device {
        at,
        community: 0,
        building: 0,
        device,
        kind: DeviceKind::VehicleRecognition,
        state,
    }
}

/// Incident `id` in building 0 of community 0 reaching `stage` at `at`.
pub fn incident(at: SimTime, id: u64, stage: Stage) -> Event {
    Event::Incident {
        at,
        id,
        kind: IncidentKind::Fire,
        community: 0,
        building: 0,
        stage,
    }
}

/// The app showing the small community fed by `windows`.
pub fn small_app(windows: Vec<Window>, horizon: SimTime, output: Output, shading: Shading) -> App {
    let options = Options {
        shading,
        speed: 1.0,
        panel: false,
        vulkan_only: true,
        ..Options::default()
    };
    let source = Replay::from_windows(windows, horizon, "test");
    build_app(small_subject(horizon), Box::new(source), &output, &options)
}
