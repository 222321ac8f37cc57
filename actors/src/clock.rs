//! One clock trait, two clocks: simulated time runs as fast as the events allow; wall
//! time waits for each window to come. Behaviour never sees which one drives it.

use civitas_twin::time::SimTime;
use std::future::Future;
use std::time::Duration;

/// Decides when the engine may process the window starting at a given time.
pub trait Clock: Send {
    /// Waits until the window starting at `t` may be processed.
    fn wait_until(&mut self, t: SimTime) -> impl Future<Output = ()> + Send;
}

/// As fast as possible: never waits. Deterministic.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimClock;

impl Clock for SimClock {
    async fn wait_until(&mut self, _t: SimTime) {}
}

/// Wall time: simulated second `t` happens `t / speed` real seconds after the clock was
/// created. Uses tokio's clock, so tests can run it on paused time.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    start: tokio::time::Instant,
    speed: f64,
}

impl WallClock {
    /// A clock whose time 0 is now, running `speed` simulated seconds per real second.
    #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
    pub fn new(speed: f64) -> Self {
        WallClock {
            start: tokio::time::Instant::now(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }
}

impl Clock for WallClock {
    async fn wait_until(&mut self, t: SimTime) {
        let at = self.start + Duration::from_secs_f64(t as f64 / self.speed);
        tokio::time::sleep_until(at).await;
    }
}
