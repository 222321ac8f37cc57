//! Headless frames: find a renderer, move the clock to a moment, render one frame into
//! an image and write it as a PNG — with no window and no display. The app is pumped by
//! hand (`app.update()`), as bevy's headless rendering needs (`../shared/NOTES.md`).

use crate::ImageTarget;
use crate::playback::{Feed, Playback, SourceState, View};
use crate::scene::SceneChange;
use anyhow::{Context, bail};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Capturing, Screenshot, ScreenshotCaptured};
use civitas_twin::time::SimTime;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Largest edge of a snapshot in pixels (wgpu's default texture limit).
pub const MAX_EDGE: u32 = 8192;

/// Updates before the first frame is taken: pipelines compile and the first complete
/// frame arrives after 5–6 (NOTES).
const WARM_UP: usize = 6;
/// Updates a screenshot may take before giving up.
const MAX_UPDATES: usize = 200;

/// What renders here, or why nothing can: the names of the graphics adapters wgpu finds
/// (honouring `WGPU_BACKEND` and `VK_ICD_FILENAMES`), checked before bevy starts, which
/// would otherwise stop with a panic.
pub fn find_renderer() -> anyhow::Result<String> {
    let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    let backends = desc.backends;
    let instance = wgpu::Instance::new(desc);
    let adapters = bevy::tasks::block_on(instance.enumerate_adapters(backends));
    if adapters.is_empty() {
        bail!(
            "no graphics adapter found (backends {backends:?}): install a Vulkan driver — \
             `scripts/setup-viewer` installs Mesa's lavapipe, which renders on the CPU"
        );
    }
    Ok(adapters
        .iter()
        .map(|a| {
            let i = a.get_info();
            format!("{} ({:?})", i.name, i.backend)
        })
        .collect::<Vec<_>>()
        .join(", "))
}

/// Moves the clock to `t` and pauses it, after taking from the source everything up to
/// `t` (waiting for a simulation to get there).
pub fn seek(app: &mut App, t: SimTime) -> SourceState {
    let world = app.world_mut();
    let mut changes = Vec::new();
    let state = world.resource_scope(|world, mut feed: Mut<Feed>| {
        let mut view = world.resource_mut::<View>();
        feed.pump(t, true, &mut view.0, &mut changes)
    });
    {
        let mut p = world.resource_mut::<Playback>();
        p.now = t as f64;
        p.paused = true;
        p.still = true;
        p.source = state.clone();
    }
    world.write_message_batch(changes.into_iter().map(SceneChange));
    state
}

/// Renders the current moment into the app's image and reads it back.
pub fn capture(app: &mut App) -> anyhow::Result<image::RgbaImage> {
    let Some(handle) = app
        .world()
        .get_resource::<ImageTarget>()
        .map(|t| t.0.clone())
    else {
        bail!("the app renders to a window, not an image");
    };
    for _ in 0..WARM_UP {
        app.update();
    }
    let slot: Arc<Mutex<Option<Image>>> = Arc::default();
    let into = slot.clone();
    app.world_mut().spawn(Screenshot::image(handle)).observe(
        move |captured: On<ScreenshotCaptured>| {
            if let Ok(mut s) = into.lock() {
                *s = Some(captured.image.clone());
            }
        },
    );
    let mut taken = None;
    for _ in 0..MAX_UPDATES {
        app.update();
        taken = slot.lock().ok().and_then(|mut s| s.take());
        if taken.is_some() {
            break;
        }
    }
    // A screenshot still pending at exit aborts a debug build: let it finish.
    for _ in 0..MAX_UPDATES {
        let world = app.world_mut();
        let pending = world
            .query_filtered::<(), With<Capturing>>()
            .iter(world)
            .count();
        if pending == 0 {
            break;
        }
        app.update();
    }
    let image = taken.context("the renderer produced no frame")?;
    let dynamic = image
        .try_into_dynamic()
        .map_err(|e| anyhow::anyhow!("the frame cannot be read: {e}"))?;
    Ok(dynamic.to_rgba8())
}

/// Writes `image` to `path` as a PNG.
pub fn write_png(image: &image::RgbaImage, path: &Path) -> anyhow::Result<()> {
    image
        .save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("{}: cannot write the PNG", path.display()))
}

/// A size written `WIDTHxHEIGHT`, each edge 16 to [`MAX_EDGE`] pixels.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let expected = format!("expected WIDTHxHEIGHT, each 16 to {MAX_EDGE} pixels (1280x720)");
    let Some((w, h)) = s.trim().split_once(['x', 'X']) else {
        return Err(format!("{expected}, found {s:?}"));
    };
    match (w.parse::<u32>(), h.parse::<u32>()) {
        (Ok(w), Ok(h)) if (16..=MAX_EDGE).contains(&w) && (16..=MAX_EDGE).contains(&h) => {
            Ok((w, h))
        }
        _ => Err(format!("{expected}, found {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_with_what_was_found() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert_eq!(parse_size(" 64X48 "), Ok((64, 48)));
        for bad in ["0x0", "100000x100000", "1280", "x", "12.5x9", "-1x20"] {
            let e = parse_size(bad).unwrap_err();
            assert!(
                e.starts_with("expected WIDTHxHEIGHT, each 16 to 8192 pixels")
                    && e.contains(bad.trim()),
                "{bad}: {e}"
            );
        }
    }
}
