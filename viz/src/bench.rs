//! `civitas-viz bench`: what the viewer costs on this machine's renderer — time to the
//! first frame, frames per second while the simulation runs, peak memory — for a
//! community and a district, headless at a window's size.

use crate::playback::{DEFAULT_SPEED, Playback};
use crate::snapshot::{capture, seek};
use crate::source::{DataSource, Subject};
use crate::{Options, Output, build_app};
use civitas_twin::time::SimTime;
use std::time::{Duration, Instant};

/// One measured scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// What was shown.
    pub title: String,
    /// Communities, buildings and devices in the scene.
    pub communities: usize,
    /// Buildings.
    pub buildings: usize,
    /// Device markers.
    pub devices: usize,
    /// From building the app to the first frame read back.
    pub first_frame: Duration,
    /// Frames rendered while measuring.
    pub frames: u32,
    /// Their wall time.
    pub frames_time: Duration,
    /// Simulated time shown at the end.
    pub reached: SimTime,
    /// Peak resident memory of the process so far (MiB), where the OS says.
    pub peak_mib: Option<f64>,
}

impl Measured {
    /// Frames per second.
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.frames_time.as_secs_f64().max(1e-9)
    }
}

/// Renders `subject` from `source` headless at `width`×`height`: the first frame at
/// `start`, then `frames` frames with the clock running at the default speed.
pub fn measure(
    subject: Subject,
    source: Box<dyn DataSource>,
    (width, height): (u32, u32),
    start: SimTime,
    frames: u32,
    shading: crate::scene::Shading,
) -> anyhow::Result<Measured> {
    #[allow(clippy::disallowed_methods)] // a benchmark reads the wall clock
    let began = Instant::now();
    let title = subject.title.clone();
    let communities = subject.district.communities.len();
    let buildings = subject
        .district
        .communities
        .iter()
        .map(|c| c.buildings.len())
        .sum();
    let devices = subject
        .district
        .communities
        .iter()
        .map(|c| c.devices.len())
        .sum();
    let mut app = build_app(
        subject,
        source,
        &Output::Image { width, height },
        &Options {
            shading,
            ..Options::default()
        },
    );
    seek(&mut app, start);
    capture(&mut app)?;
    let first_frame = began.elapsed();
    {
        let mut p = app.world_mut().resource_mut::<Playback>();
        p.paused = false;
        p.still = false;
        p.speed = DEFAULT_SPEED;
    }
    #[allow(clippy::disallowed_methods)] // a benchmark reads the wall clock
    let t0 = Instant::now();
    for _ in 0..frames {
        app.update();
    }
    let frames_time = t0.elapsed();
    let reached = app.world().resource::<Playback>().second();
    Ok(Measured {
        title,
        communities,
        buildings,
        devices,
        first_frame,
        frames,
        frames_time,
        reached,
        peak_mib: peak_rss_mib(),
    })
}

/// The process's peak resident memory (Linux: `VmHWM` in `/proc/self/status`).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
