//! Simulated time: whole seconds since the start of a scenario.
//!
//! The same unit serves the simulated clock and the wall clock (where it counts seconds
//! since the twin started), so behaviour never depends on which clock drives it.

/// Seconds since the scenario started.
pub type SimTime = u64;

/// One minute in [`SimTime`] units.
pub const MINUTE: SimTime = 60;
/// One hour in [`SimTime`] units.
pub const HOUR: SimTime = 3_600;
/// One day in [`SimTime`] units.
pub const DAY: SimTime = 86_400;
/// One (365-day) year in [`SimTime`] units.
pub const YEAR: SimTime = 365 * DAY;
/// One month (a twelfth of a year) in [`SimTime`] units: the period of the service market.
pub const MONTH: SimTime = YEAR / 12;

/// Hour of the day (0–23) at time `t`, taking the scenario start as midnight (the
/// behaviours ask [`crate::calendar::Calendar::hour`] instead, which follows local time).
pub fn hour_of_day(t: SimTime) -> u32 {
    ((t % DAY) / HOUR) as u32
}

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
