//! The camera: an orbit around a focus point, framing one community or the whole
//! district. Mouse: left drag orbits, right (or middle) drag pans, the wheel zooms.
//! Keys: arrows or WASD pan, Q/E turn, Z/X zoom, Tab shows the next community alone,
//! Escape shows them all.

use crate::scene::{CommunityRoot, Model};
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll};
use bevy::prelude::*;

/// Where the camera looks from.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Orbit {
    /// The point looked at.
    pub focus: Vec3,
    /// Distance from it (m).
    pub distance: f32,
    /// Turn around the vertical (radians).
    pub yaw: f32,
    /// Angle above the ground (radians).
    pub pitch: f32,
}

impl Orbit {
    /// Framing a sphere of `radius` around `center`, with a little room to spare.
    pub fn framing(center: Vec3, radius: f32) -> Orbit {
        // The default 45° vertical field of view holds a sphere at radius / sin(22.5°).
        let fit = radius / (std::f32::consts::FRAC_PI_8).sin();
        Orbit {
            focus: center,
            distance: (fit * 0.85).max(30.0),
            yaw: 0.6,
            pitch: 0.75,
        }
    }

    /// The camera's transform.
    pub fn transform(&self) -> Transform {
        let dir = Vec3::new(
            self.pitch.cos() * self.yaw.sin(),
            self.pitch.sin(),
            self.pitch.cos() * self.yaw.cos(),
        );
        Transform::from_translation(self.focus + dir * self.distance)
            .looking_at(self.focus, Vec3::Y)
    }
}

/// Which communities are shown.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// All of them at a glance.
    #[default]
    All,
    /// Only the community at this position in the layout.
    One(usize),
}

/// The orbit camera and its controls.
pub struct CameraPlugin;

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Focus>()
            .add_systems(Startup, spawn_camera)
            .add_systems(Update, (controls, show_focus).chain());
    }
}

/// The camera's settings that make pixels equal material colours (no tone mapping, no
/// dithering, no multisampling).
pub fn exact_pixels() -> impl Bundle {
    (Tonemapping::None, DebandDither::Disabled, Msaa::Off)
}

fn spawn_camera(
    model: Res<Model>,
    focus: Res<Focus>,
    target: Option<Res<crate::ImageTarget>>,
    mut commands: Commands,
) {
    let orbit = frame(&model, *focus);
    let mut camera = commands.spawn((
        Camera3d::default(),
        orbit.transform(),
        orbit,
        exact_pixels(),
        // The status line draws on this camera's picture, a window's or an image's.
        IsDefaultUiCamera,
    ));
    if let Some(target) = target {
        camera.insert(bevy::camera::RenderTarget::Image(target.0.clone().into()));
    }
}

/// The orbit that frames `focus`.
pub fn frame(model: &Model, focus: Focus) -> Orbit {
    let layout = &model.layout;
    match focus {
        Focus::One(i) if i < layout.communities.len() => {
            let (center, radius) = layout.communities[i].bounding_sphere();
            Orbit::framing(center, radius)
        }
        _ => {
            let (lo, hi) = layout.bounds();
            let c = (lo + hi) / 2.0;
            let tallest = layout
                .communities
                .iter()
                .map(|c| c.tallest())
                .fold(0.0, f32::max);
            let half = tallest / 2.0;
            Orbit::framing(
                Vec3::new(c.x, half, c.y),
                ((hi - lo).length() / 2.0).hypot(half),
            )
        }
    }
}

// A bevy system: its parameters are what it reads and writes.
#[allow(clippy::too_many_arguments)]
fn controls(
    keys: Option<Res<ButtonInput<KeyCode>>>,
    buttons: Option<Res<ButtonInput<MouseButton>>>,
    motion: Option<Res<AccumulatedMouseMotion>>,
    scroll: Option<Res<AccumulatedMouseScroll>>,
    time: Res<Time<Real>>,
    model: Res<Model>,
    mut focus: ResMut<Focus>,
    mut cameras: Query<(&mut Orbit, &mut Transform)>,
) {
    let Ok((mut orbit, mut transform)) = cameras.single_mut() else {
        return;
    };
    let before = *orbit;
    let dt = time.delta_secs().min(0.1);
    let right = Vec3::new(orbit.yaw.cos(), 0.0, -orbit.yaw.sin());
    let forward = Vec3::new(-orbit.yaw.sin(), 0.0, -orbit.yaw.cos());
    let pan_speed = orbit.distance * 0.8;
    if let Some(keys) = keys {
        let held = |a: KeyCode, b: KeyCode| keys.pressed(a) || keys.pressed(b);
        let mut pan = Vec3::ZERO;
        if held(KeyCode::ArrowLeft, KeyCode::KeyA) {
            pan -= right;
        }
        if held(KeyCode::ArrowRight, KeyCode::KeyD) {
            pan += right;
        }
        if held(KeyCode::ArrowUp, KeyCode::KeyW) {
            pan += forward;
        }
        if held(KeyCode::ArrowDown, KeyCode::KeyS) {
            pan -= forward;
        }
        orbit.focus += pan * pan_speed * dt;
        if keys.pressed(KeyCode::KeyQ) {
            orbit.yaw += 1.2 * dt;
        }
        if keys.pressed(KeyCode::KeyE) {
            orbit.yaw -= 1.2 * dt;
        }
        if keys.pressed(KeyCode::KeyZ) {
            orbit.distance *= 1.0 - 1.5 * dt;
        }
        if keys.pressed(KeyCode::KeyX) {
            orbit.distance *= 1.0 + 1.5 * dt;
        }
        let n = model.layout.communities.len();
        if keys.just_pressed(KeyCode::Tab) && n > 0 {
            *focus = match *focus {
                Focus::All => Focus::One(0),
                Focus::One(i) => Focus::One((i + 1) % n),
            };
            *orbit = frame(&model, *focus);
        }
        if keys.just_pressed(KeyCode::Escape) {
            *focus = Focus::All;
            *orbit = frame(&model, *focus);
        }
    }
    if let (Some(buttons), Some(motion)) = (buttons, motion) {
        let d = motion.delta;
        if buttons.pressed(MouseButton::Left) {
            orbit.yaw -= d.x * 0.005;
            orbit.pitch = (orbit.pitch + d.y * 0.005).clamp(0.1, 1.5);
        }
        if buttons.pressed(MouseButton::Right) || buttons.pressed(MouseButton::Middle) {
            let scale = orbit.distance * 0.0015;
            orbit.focus += (-right * d.x + forward * d.y) * scale;
        }
    }
    if let Some(scroll) = scroll {
        orbit.distance *= (1.0 - scroll.delta.y * 0.1).clamp(0.5, 1.5);
    }
    orbit.distance = orbit.distance.clamp(10.0, 50_000.0);
    if *orbit != before {
        *transform = orbit.transform();
    }
}

fn show_focus(
    focus: Res<Focus>,
    model: Res<Model>,
    mut shown: Query<(&CommunityRoot, &mut Visibility)>,
) {
    if !focus.is_changed() {
        return;
    }
    let only = match *focus {
        Focus::One(i) => model.layout.communities.get(i).map(|c| c.index),
        Focus::All => None,
    };
    for (c, mut v) in &mut shown {
        *v = match only {
            Some(i) if c.0 != i => Visibility::Hidden,
            _ => Visibility::Inherited,
        };
    }
}
