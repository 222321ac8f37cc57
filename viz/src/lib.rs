//! civitas-viz: the community in 3D. The only crate that knows bevy; the `civitas` CLI
//! never compiles it.
//!
//! The app is a set of bevy plugins, one per feature — the site and its buildings
//! ([`scene::ScenePlugin`]), device markers ([`scene::DevicesPlugin`]), incident markers
//! ([`scene::IncidentsPlugin`]), the camera ([`camera::CameraPlugin`]), the playback
//! clock ([`playback::TimelinePlugin`]), the status line ([`panel::PanelPlugin`]) and the
//! feed from a data source ([`playback::DataSourcePlugin`]) — assembled by
//! [`build_app`]. Data sources ([`source::DataSource`]) are a simulation run in-process
//! or a run's events file played back; the scene never knows which. Tests drive the app
//! with `app.update()`; [`snapshot`] renders a frame headless into a PNG.
//!
//! Codemap: `layout` (where things stand, no renderer) → `view` (what the community is
//! like at the playback time, no renderer) → `scene`/`camera`/`panel` (bevy) ←
//! `playback` (clock and feed) ← `source`.

pub mod bench;
pub mod camera;
pub mod layout;
pub mod palette;
pub mod panel;
pub mod playback;
pub mod scene;
pub mod snapshot;
pub mod source;
/// What the viewer knows of the community at its playback time (the twin's
/// [`civitas_twin::view`]).
pub use civitas_twin::view;

use bevy::app::PluginsState;
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::settings::{Backends, WgpuSettings};
use bevy::window::{ExitCondition, WindowResolution};
use bevy::winit::WinitPlugin;
use camera::{CameraPlugin, Focus};
use layout::Layout;
use panel::PanelPlugin;
use playback::{DataSourcePlugin, Feed, Playback, TimelinePlugin};
use scene::{DevicesPlugin, IncidentsPlugin, Model, ScenePlugin, Shading};
use source::{DataSource, Subject};

/// Where the app draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A window (needs a display: a desktop, or Xvfb).
    Window {
        /// Its title.
        title: String,
    },
    /// An image of this many pixels, headless (snapshots and tests).
    Image {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// Nothing drawn and no graphics driver needed: the scene's entities and materials
    /// exist and change as they would on screen (systems tests).
    Nothing,
}

/// How the app shows the community.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Shading of surfaces.
    pub shading: Shading,
    /// Playback speed to start with (simulated seconds per second).
    pub speed: f64,
    /// Which communities are shown.
    pub focus: Focus,
    /// Show the status line.
    pub panel: bool,
    /// Render through Vulkan only (as the pixel tests do), whatever `WGPU_BACKEND` says.
    pub vulkan_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            shading: Shading::Lit,
            speed: playback::DEFAULT_SPEED,
            focus: Focus::All,
            panel: true,
            vulkan_only: false,
        }
    }
}

/// The image a headless app's camera renders into.
#[derive(Resource, Debug, Clone)]
pub struct ImageTarget(pub Handle<Image>);

/// The app showing `subject` fed by `source`: every plugin, ready for `app.run()` (a
/// window) or for `app.update()` by hand (headless).
pub fn build_app(
    subject: Subject,
    source: Box<dyn DataSource>,
    output: &Output,
    options: &Options,
) -> App {
    let mut app = App::new();
    let backends = match output {
        Output::Nothing => None,
        _ if options.vulkan_only => Some(Backends::VULKAN),
        _ => WgpuSettings::default().backends,
    };
    let render = RenderPlugin {
        // Every frame complete: a window's first frame waits for the shaders (a second or
        // two on a CPU renderer) instead of showing an empty scene, and a snapshot or a
        // window's screenshot is never taken half-drawn.
        synchronous_pipeline_compilation: true,
        render_creation: WgpuSettings {
            backends,
            ..default()
        }
        .into(),
        ..default()
    };
    match output {
        Output::Window { title } => {
            app.add_plugins(DefaultPlugins.set(render).set(WindowPlugin {
                primary_window: Some(Window {
                    title: title.clone(),
                    resolution: WindowResolution::new(1280, 720),
                    ..default()
                }),
                ..default()
            }));
        }
        Output::Image { .. } | Output::Nothing => {
            app.add_plugins(
                DefaultPlugins
                    .set(render)
                    .set(WindowPlugin {
                        primary_window: None,
                        exit_condition: ExitCondition::DontExit,
                        ..default()
                    })
                    .disable::<WinitPlugin>(),
            );
        }
    }
    let horizon = subject.horizon;
    let layout = Layout::of(&subject.district);
    app.insert_resource(Model { subject, layout })
        .insert_resource(options.shading)
        .insert_resource(options.focus)
        .insert_resource(Playback::new(horizon, options.speed))
        .insert_resource(Feed::new(source))
        .add_plugins((
            ScenePlugin,
            DevicesPlugin,
            IncidentsPlugin,
            CameraPlugin,
            TimelinePlugin,
            DataSourcePlugin,
        ));
    if options.panel {
        app.add_plugins(PanelPlugin);
    }
    if let Output::Image { width, height } = output {
        let image = Image::new_target_texture(
            *width,
            *height,
            bevy::render::render_resource::TextureFormat::Rgba8UnormSrgb,
            None,
        );
        let handle = app.world_mut().resource_mut::<Assets<Image>>().add(image);
        app.insert_resource(ImageTarget(handle));
    }
    if !matches!(output, Output::Window { .. }) {
        // What `app.run()` does before its first update, for an app pumped by hand: wait
        // for the plugins (the renderer starts asynchronously), then finish them.
        while app.plugins_state() == PluginsState::Adding {
            bevy::tasks::tick_global_task_pools_on_main_thread();
        }
        app.finish();
        app.cleanup();
    }
    app
}

/// Closes the app after some real seconds, first saving the window's frame to a PNG if
/// asked (`civitas-viz --exit-after 5 --screenshot shot.png`: demos and smoke tests of
/// the window under Xvfb).
#[derive(Debug, Clone)]
pub struct ExitAfter {
    /// Real seconds to run.
    pub seconds: f32,
    /// Where to save the last frame.
    pub screenshot: Option<std::path::PathBuf>,
}

/// Where [`ExitAfter`] is.
#[derive(Resource, Debug, Clone, Default)]
struct Exiting {
    seconds: f32,
    screenshot: Option<std::path::PathBuf>,
    /// The screenshot was asked for.
    asked: bool,
    /// The screenshot was written (or failed: the message).
    done: std::sync::Arc<std::sync::Mutex<Option<Result<(), String>>>>,
}

impl Plugin for ExitAfter {
    fn build(&self, app: &mut App) {
        app.insert_resource(Exiting {
            seconds: self.seconds,
            screenshot: self.screenshot.clone(),
            ..Exiting::default()
        })
        .add_systems(Update, exit_after);
    }
}

fn exit_after(
    time: Res<Time<bevy::time::Real>>,
    mut state: ResMut<Exiting>,
    mut exit: MessageWriter<AppExit>,
    mut commands: Commands,
) {
    if time.elapsed_secs() < state.seconds {
        return;
    }
    let Some(path) = state.screenshot.clone() else {
        exit.write(AppExit::Success);
        return;
    };
    if !state.asked {
        state.asked = true;
        let done = state.done.clone();
        commands
            .spawn(bevy::render::view::screenshot::Screenshot::primary_window())
            .observe(
                move |shot: On<bevy::render::view::screenshot::ScreenshotCaptured>| {
                    let written = shot
                        .image
                        .clone()
                        .try_into_dynamic()
                        .map_err(|e| e.to_string())
                        .and_then(|i| {
                            i.to_rgba8()
                                .save_with_format(&path, image::ImageFormat::Png)
                                .map_err(|e| format!("{}: {e}", path.display()))
                        });
                    if let Ok(mut d) = done.lock() {
                        *d = Some(written);
                    }
                },
            );
        return;
    }
    let written = state.done.lock().ok().and_then(|d| d.clone());
    match written {
        None => {}
        Some(Ok(())) => {
            exit.write(AppExit::Success);
        }
        Some(Err(e)) => {
            eprintln!("error: the screenshot could not be written: {e}");
            exit.write(AppExit::error());
        }
    }
}
