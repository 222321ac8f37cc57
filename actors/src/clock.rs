//! One clock trait, two clocks: simulated time runs as fast as the events allow; wall
//! time waits for each window to come, and says what simulated second real time has
//! reached (where an inject "now" lands). Behaviour never sees which one drives it.

use civitas_twin::time::SimTime;
use std::future::Future;
use std::time::{Duration, SystemTime};

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

    /// The simulated second real time has reached, for a clock that follows real time
    /// (`None` for one that does not: injects "now" then go to the next window).
    fn now(&self) -> Option<SimTime> {
        None
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

/// Wall time: simulated second `t` is due at a fixed real instant, `t / speed` real
/// seconds after the real instant of simulated time 0. Uses tokio's clock, so tests can
/// run it on paused time.
///
/// When real time is past a window's instant the engine is behind (nexosim's
/// `SyncStatus::OutOfSync`): the window runs at once and [`Clock::lag`] says by how much,
/// which the engine exports per window as the `lag_ms` counter of the observe stream.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    /// The tokio instant at which the clock was made.
    start: tokio::time::Instant,
    /// Simulated seconds at `start` (negative when simulated time 0 is still to come).
    offset: f64,
    speed: f64,
}

impl WallClock {
    /// A clock whose time 0 is now, running `speed` simulated seconds per real second.
    pub fn new(speed: f64) -> Self {
        WallClock::at(0.0, speed)
    }

    /// A clock on which simulated time 0 is the real instant `origin` (a live twin's
    /// scenario start, [`civitas_twin::calendar::Calendar::origin`]), made when real time
    /// is `now`: started at 14:37 for a scenario starting at 14:37, its time 0 is now; for
    /// a scenario that started at 14:00 the engine begins 37 minutes behind and catches up
    /// (`lag` reports it); for one that starts later, the first window waits for it.
    pub fn starting_at(origin: SystemTime, now: SystemTime, speed: f64) -> Self {
        let speed = valid_speed(speed);
        let since = match now.duration_since(origin) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        WallClock::at(since * speed, speed)
    }

    #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
    fn at(offset: f64, speed: f64) -> Self {
        WallClock {
            start: tokio::time::Instant::now(),
            offset,
            speed: valid_speed(speed),
        }
    }

    /// Real seconds from `start` to the instant window `t` is due (negative if it was
    /// due before the clock was made).
    fn due_after_start(&self, t: SimTime) -> f64 {
        (t as f64 - self.offset) / self.speed
    }
}

fn valid_speed(speed: f64) -> f64 {
    if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    }
}

impl Clock for WallClock {
    async fn wait_until(&mut self, t: SimTime) {
        let s = self.due_after_start(t);
        if s > 0.0 {
            tokio::time::sleep_until(self.start + Duration::from_secs_f64(s)).await;
        }
    }

    #[allow(clippy::disallowed_methods)] // the simulated time of the wall clock
    fn now(&self) -> Option<SimTime> {
        let elapsed = tokio::time::Instant::now()
            .saturating_duration_since(self.start)
            .as_secs_f64();
        Some((self.offset + elapsed * self.speed).max(0.0).floor() as SimTime)
    }

    #[allow(clippy::disallowed_methods)] // lag is measured against the wall clock
    fn lag(&self, t: SimTime) -> Duration {
        let elapsed = tokio::time::Instant::now()
            .saturating_duration_since(self.start)
            .as_secs_f64();
        Duration::from_secs_f64((elapsed - self.due_after_start(t)).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_started_at_the_scenario_start_is_on_time_at_zero() {
        let mut c = WallClock::starting_at(at(1_000), at(1_000), 1.0);
        assert_eq!(c.lag(0), Duration::ZERO);
        c.wait_until(60).await;
        assert_eq!(c.lag(60), Duration::ZERO);
        assert_eq!(c.lag(0), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_made_after_the_scenario_start_reports_the_lag_and_catches_up() {
        // The scenario started at 14:00; the twin starts at 14:37.
        let mut c = WallClock::starting_at(at(50_400), at(50_400 + 37 * 60), 1.0);
        assert_eq!(c.lag(0), Duration::from_secs(37 * 60));
        assert_eq!(c.lag(37 * 60), Duration::ZERO);
        // Windows already due run at once: waiting does not advance (paused) time.
        let before = c.lag(0);
        c.wait_until(30 * 60).await;
        assert_eq!(c.lag(0), before);
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_made_before_the_scenario_start_waits_for_it() {
        let mut c = WallClock::starting_at(at(2_000), at(1_000), 2.0);
        c.wait_until(0).await;
        assert_eq!(c.lag(0), Duration::ZERO);
        // 1,000 real seconds went by before simulated time 0.
        assert_eq!(c.lag(2 * 100), Duration::ZERO);
        tokio::time::advance(Duration::from_secs(100)).await;
        assert_eq!(c.lag(0), Duration::from_secs(100));
        assert_eq!(c.lag(100), Duration::from_secs(50));
    }
}
