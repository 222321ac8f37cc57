//! One clock trait, two clocks: simulated time runs as fast as the events allow; wall
//! time waits for each window to come. Behaviour never sees which one drives it.

use civitas_twin::time::SimTime;
use std::future::Future;
use std::time::Duration;

/// Decides when the engine may process the window starting at a given time.
pub trait Clock: Send {
    /// Waits until the window starting at `t` may be processed.
    fn wait_until(&mut self, t: SimTime) -> impl Future<Output = ()> + Send;

    /// Whether [`Self::wait_until`] ever waits (the engine then listens for injects
    /// while it waits).
    fn waits(&self) -> bool {
        true
    }

    /// How far real time is past the instant the window at `t` was due (zero for a
    /// clock that does not follow real time).
    fn lag(&self, _t: SimTime) -> Duration {
        Duration::ZERO
    }
}

/// As fast as possible: never waits. Deterministic.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimClock;

impl Clock for SimClock {
    async fn wait_until(&mut self, _t: SimTime) {}

    fn waits(&self) -> bool {
        false
    }
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

    #[allow(clippy::disallowed_methods)] // lag is measured against the wall clock
    fn lag(&self, t: SimTime) -> Duration {
        let at = self.start + Duration::from_secs_f64(t as f64 / self.speed);
        tokio::time::Instant::now().saturating_duration_since(at)
    }
}
