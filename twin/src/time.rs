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

/// Reads a duration written as a whole number with a unit — `d` (days), `h` (hours) or
/// `y` (years of 365 days) — between `min` and `max` seconds; the command lines' form
/// (`--checkpoint-every 30d`, the viewer's `--at 180d`). Errors say what was expected and
/// quote what was found.
pub fn parse_duration(s: &str, min: SimTime, max: SimTime) -> Result<SimTime, String> {
    let t = s.trim();
    let expected = "expected a duration such as 30d, 12h or 1y";
    let (n, unit) = t.split_at(t.len().saturating_sub(1));
    let scale = match unit {
        "d" => DAY,
        "h" => HOUR,
        "y" => YEAR,
        _ => return Err(format!("{expected}, found {t:?}")),
    };
    match n.parse::<u64>() {
        Ok(n) if n <= max / scale && n * scale >= min => Ok(n * scale),
        _ => Err(format!(
            "{expected} (at most {}), found {t:?}",
            written(max)
        )),
    }
}

/// `max` as the duration errors write it: whole years, else days, else hours.
fn written(max: SimTime) -> String {
    match max {
        m if m.is_multiple_of(YEAR) => format!("{} years", m / YEAR),
        m if m.is_multiple_of(DAY) => format!("{} days", m / DAY),
        m => format!("{} hours", m / HOUR),
    }
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
