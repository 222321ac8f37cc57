//! Simulated time: whole seconds since the start of a scenario.
//!
//! The same unit serves the simulated clock and the wall clock (where it counts seconds
//! since the scenario's start instant), so behaviour never depends on which clock drives
//! it. Local dates and hours are in [`crate::calendar`].

/// Seconds since the scenario started.
pub type SimTime = u64;

/// One minute in [`SimTime`] units.
pub const MINUTE: SimTime = 60;
/// One hour in [`SimTime`] units.
pub const HOUR: SimTime = 3_600;
/// One day in [`SimTime`] units.
pub const DAY: SimTime = 86_400;
/// A 365-day year in [`SimTime`] units: a duration (rates per year, `--years`). Where
/// calendar years and months fall is the [`crate::calendar::Calendar`]'s business.
pub const YEAR: SimTime = 365 * DAY;

/// Converts a duration in (possibly fractional) hours to seconds, rounding to the
/// nearest second and saturating at zero.
pub fn hours(h: f64) -> SimTime {
    secs(h * 3600.0)
}

/// Converts a duration in (possibly fractional) seconds to whole seconds, rounding and
/// saturating at zero and at `u64::MAX / 4` (far beyond any horizon).
pub fn secs(s: f64) -> SimTime {
    if s.is_nan() || s <= 0.0 {
        0
    } else {
        s.round().min((u64::MAX / 4) as f64) as SimTime
    }
}
