//! The calendar of a run: which local date and hour a [`SimTime`] is.
//!
//! A run starts at a local civil date-time in an IANA time zone (scenario fields `start`
//! and `time_zone`, default `2026-01-01T00:00` in `Asia/Shanghai`). [`Calendar`] maps
//! simulated seconds to local time — the hour (shifts, night), the weekday — and gives
//! the [`SimTime`]s of the local month and year starts after the start, where monthly and
//! yearly settlements fall. Time zone rules come from the tz database bundled into the
//! binary, so a machine without `/usr/share/zoneinfo` computes the same dates.
//!
//! The hot path (a responder asks the hour on every dispatch) is arithmetic when the
//! zone's offset does not change after the start (`Asia/Shanghai` has had none since
//! 1991); zones with daylight saving time look the offset up per call.

use crate::time::{DAY, HOUR, SimTime};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use std::fmt;

pub use jiff::civil::Weekday;

/// The default start: midnight of 1 January 2026, local time.
pub const DEFAULT_START: &str = "2026-01-01T00:00";
/// The default time zone (the sources' communities are in Ningbo).
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// The years a run may start in: any horizon the CLI allows (200 years) stays within the
/// calendar's range.
const YEARS: std::ops::RangeInclusive<i16> = 1900..=2500;

/// A start or time zone that cannot make a calendar. Recoverable: fix the input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalendarError {
    /// `start` is not a local date-time like `2026-01-01T00:00`.
    Start {
        /// The value given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// `time_zone` is not an IANA time zone name like `Asia/Shanghai`.
    TimeZone {
        /// The value given.
        value: String,
    },
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarError::Start { value, reason } => write!(
                f,
                "expected a local date and time like \"2026-01-01T00:00\", found {value:?} ({reason})"
            ),
            CalendarError::TimeZone { value } => write!(
                f,
                "expected an IANA time zone name like \"Asia/Shanghai\" or \"Europe/Berlin\", found {value:?}"
            ),
        }
    }
}

impl std::error::Error for CalendarError {}

/// Local time of a run: its start (a local date-time in a time zone) and the zone's rules.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// The local date-time at `SimTime` 0, as given.
    start: DateTime,
    /// The zone's name, as given.
    zone_name: String,
    zone: TimeZone,
    /// The instant of `SimTime` 0, in Unix seconds.
    origin: i64,
    /// The zone's UTC offset in seconds, when it never changes after the start.
    fixed: Option<i64>,
}

impl PartialEq for Calendar {
    fn eq(&self, other: &Self) -> bool {
        self.start == other.start && self.zone_name == other.zone_name
    }
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::new(DEFAULT_START, DEFAULT_TIME_ZONE).expect("the default calendar is valid")
    }
}

impl Calendar {
    /// A calendar starting at local date-time `start` (`2026-01-01T00:00`, seconds
    /// optional) in IANA time zone `time_zone`. A start in a daylight-saving gap moves
    /// forward by the gap; an ambiguous one takes the earlier instant.
    pub fn new(start: &str, time_zone: &str) -> Result<Calendar, CalendarError> {
        let zone = TimeZone::get(time_zone).map_err(|_| CalendarError::TimeZone {
            value: time_zone.to_string(),
        })?;
        let bad = |reason: String| CalendarError::Start {
            value: start.to_string(),
            reason,
        };
        let dt: DateTime = start.parse().map_err(|e: jiff::Error| bad(e.to_string()))?;
        if dt.subsec_nanosecond() != 0 {
            return Err(bad("whole seconds only".into()));
        }
        if !YEARS.contains(&dt.year()) {
            return Err(bad(format!(
                "a year from {} to {}",
                YEARS.start(),
                YEARS.end()
            )));
        }
        let origin = zone
            .to_ambiguous_timestamp(dt)
            .compatible()
            .map_err(|e| bad(e.to_string()))?;
        let fixed = match zone.following(origin).next() {
            None => Some(zone.to_offset(origin).seconds() as i64),
            Some(_) => None,
        };
        Ok(Calendar {
            start: dt,
            zone_name: time_zone.to_string(),
            zone,
            origin: origin.as_second(),
            fixed,
        })
    }

    /// A calendar whose `SimTime` 0 is the real instant `at` (to the whole second) in
    /// `time_zone`: a live run's, started now. The caller reads the clock; this does not.
    pub fn starting_at(
        at: std::time::SystemTime,
        time_zone: &str,
    ) -> Result<Calendar, CalendarError> {
        let zone = TimeZone::get(time_zone).map_err(|_| CalendarError::TimeZone {
            value: time_zone.to_string(),
        })?;
        let secs = match at.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        };
        let bad = |reason: String| CalendarError::Start {
            value: format!("{secs} s after 1970-01-01T00:00Z"),
            reason,
        };
        let ts = jiff::Timestamp::from_second(secs).map_err(|e| bad(e.to_string()))?;
        let local = zone.to_datetime(ts);
        Calendar::new(&local.strftime("%Y-%m-%dT%H:%M:%S").to_string(), time_zone)
    }

    /// The start as written in a scenario file (`2026-01-01T00:00`, seconds only when
    /// they are not zero).
    pub fn start_text(&self) -> String {
        if self.start.second() == 0 {
            self.start.strftime("%Y-%m-%dT%H:%M").to_string()
        } else {
            self.start.strftime("%Y-%m-%dT%H:%M:%S").to_string()
        }
    }

    /// The time zone's name, as given.
    pub fn time_zone(&self) -> &str {
        &self.zone_name
    }

    /// The real instant of `SimTime` 0.
    pub fn origin(&self) -> std::time::SystemTime {
        let since = std::time::Duration::from_secs(self.origin.unsigned_abs());
        if self.origin >= 0 {
            std::time::SystemTime::UNIX_EPOCH + since
        } else {
            std::time::SystemTime::UNIX_EPOCH - since
        }
    }

    /// Local civil date-time at `t`.
    pub fn datetime(&self, t: SimTime) -> DateTime {
        self.zone.to_datetime(self.timestamp(t))
    }

    /// Local hour of the day (0–23) at `t`.
    pub fn hour(&self, t: SimTime) -> u32 {
        (self.local_secs(t).rem_euclid(DAY as i64) / HOUR as i64) as u32
    }

    /// Seconds since local midnight at `t`.
    pub fn second_of_day(&self, t: SimTime) -> SimTime {
        self.local_secs(t).rem_euclid(DAY as i64) as SimTime
    }

    /// Local weekday at `t`.
    pub fn weekday(&self, t: SimTime) -> Weekday {
        self.datetime(t).weekday()
    }

    /// Whether `t` falls outside the local hours `[day_start, day_end)`: night-time.
    pub fn is_night(&self, t: SimTime, day_start: u32, day_end: u32) -> bool {
        let h = self.hour(t);
        !(h >= day_start && h < day_end)
    }

    /// The first time after `t` at which the local clock shows `hour`:00 (`hour` taken
    /// modulo 24). On a day whose `hour`:00 does not exist (a daylight-saving gap) it is
    /// the instant the clock jumps past it.
    pub fn next_local_hour(&self, t: SimTime, hour: u32) -> SimTime {
        let hour = (hour % 24) as i64;
        if let Some(offset) = self.fixed {
            let local = self.origin + t as i64 + offset;
            let midnight = local - local.rem_euclid(DAY as i64);
            let mut at = midnight + hour * HOUR as i64;
            if at <= local {
                at += DAY as i64;
            }
            return (at - offset - self.origin) as SimTime;
        }
        let mut day = self.datetime(t).date();
        loop {
            let at = self.sim_time_of(day.at(hour as i8, 0, 0, 0));
            if at > t {
                return at;
            }
            day = day.tomorrow().expect("dates far from the end of time");
        }
    }

    /// The `k`-th local month start after the start (`k` ≥ 1; 0 gives 0): where the
    /// `k`-th monthly settlement falls. The first month is partial unless the run starts
    /// at midnight on the 1st.
    pub fn month_start(&self, k: u32) -> SimTime {
        if k == 0 {
            return 0;
        }
        let months = self.start.year() as i64 * 12 + self.start.month() as i64 - 1 + k as i64;
        let date = Date::new((months / 12) as i16, (months % 12 + 1) as i8, 1)
            .expect("a first of the month within jiff's range");
        self.sim_time_of(date.at(0, 0, 0, 0))
    }

    /// The `k`-th local 1 January after the start (`k` ≥ 1; 0 gives 0): where the
    /// `k`-th yearly settlement falls. The first year is partial unless the run starts at
    /// midnight on 1 January.
    pub fn year_start(&self, k: u32) -> SimTime {
        if k == 0 {
            return 0;
        }
        let date =
            Date::new(self.start.year() + k as i16, 1, 1).expect("a 1 January within jiff's range");
        self.sim_time_of(date.at(0, 0, 0, 0))
    }

    /// How many local month starts lie in `(0, t]`: 0 in the first (calendar) month.
    pub fn month_index(&self, t: SimTime) -> u32 {
        let now = self.datetime(t);
        let months = |d: &DateTime| d.year() as i64 * 12 + d.month() as i64;
        (months(&now) - months(&self.start)).max(0) as u32
    }

    /// How many local 1 Januaries lie in `(0, t]`: the run's year index (0 in the first
    /// calendar year).
    pub fn year_index(&self, t: SimTime) -> u32 {
        (self.datetime(t).year() as i64 - self.start.year() as i64).max(0) as u32
    }

    /// The `SimTime` of local date-time `dt` (the later instant across a gap, the earlier
    /// in a fold), saturating at 0 before the start.
    fn sim_time_of(&self, dt: DateTime) -> SimTime {
        let ts = self
            .zone
            .to_ambiguous_timestamp(dt)
            .compatible()
            .expect("a local time within jiff's range");
        (ts.as_second() - self.origin).max(0) as SimTime
    }

    fn timestamp(&self, t: SimTime) -> Timestamp {
        Timestamp::from_second(self.origin + t as i64).expect("a time within jiff's range")
    }

    /// Local seconds since the Unix epoch's local midnight at `t`.
    fn local_secs(&self, t: SimTime) -> i64 {
        let utc = self.origin + t as i64;
        match self.fixed {
            Some(offset) => utc + offset,
            None => utc + self.zone.to_offset(self.timestamp(t)).seconds() as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(start: &str, zone: &str) -> Calendar {
        Calendar::new(start, zone).unwrap()
    }

    fn local(c: &Calendar, t: SimTime) -> String {
        c.datetime(t).strftime("%Y-%m-%d %H:%M").to_string()
    }

    #[test]
    fn a_live_calendar_starts_at_the_given_instant_in_local_time() {
        // 2026-12-07T02:21:05Z is 10:21:05 in Shanghai.
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_610_065);
        let c = Calendar::starting_at(at, "Asia/Shanghai").unwrap();
        assert_eq!(c.start_text(), "2026-12-07T10:21:05");
        assert_eq!(c.origin(), at);
        assert!(Calendar::starting_at(at, "Mars/Olympus").is_err());
    }

    #[test]
    fn the_default_starts_at_midnight_on_new_year_in_shanghai() {
        let c = Calendar::default();
        assert_eq!(c.start_text(), "2026-01-01T00:00");
        assert_eq!(c.time_zone(), "Asia/Shanghai");
        assert_eq!(c.hour(0), 0);
        assert_eq!(c.hour(14 * HOUR + 59 * 60), 14);
        assert_eq!(c.weekday(0), Weekday::Thursday);
        assert!(c.fixed.is_some(), "Shanghai takes the fast path");
        // Years of 365 days until the leap year 2028.
        assert_eq!(c.year_start(1), 365 * DAY);
        assert_eq!(c.year_start(2), 730 * DAY);
        assert_eq!(c.year_start(3), (730 + 366) * DAY);
        assert_eq!(c.month_start(1), 31 * DAY);
        assert_eq!(c.month_start(12), 365 * DAY);
    }

    #[test]
    fn february_has_28_days_and_29_in_a_leap_year() {
        let c = cal("2027-01-01T00:00", "Asia/Shanghai");
        assert_eq!(c.month_start(2) - c.month_start(1), 28 * DAY);
        let c = cal("2028-01-01T00:00", "Asia/Shanghai");
        assert_eq!(c.month_start(2) - c.month_start(1), 29 * DAY);
        assert_eq!(local(&c, c.month_start(2)), "2028-03-01 00:00");
    }

    #[test]
    fn a_start_in_the_afternoon_keeps_local_hours_and_a_partial_first_month() {
        let c = cal("2026-12-02T14:37", "Asia/Shanghai");
        assert_eq!(c.hour(0), 14);
        assert_eq!(c.second_of_day(0), 14 * HOUR + 37 * 60);
        assert_eq!(c.hour(22 * 60 + 59), 14);
        assert_eq!(c.hour(23 * 60), 15);
        assert_eq!(c.next_local_hour(0, 20), 5 * HOUR + 23 * 60);
        assert_eq!(c.next_local_hour(0, 8), 17 * HOUR + 23 * 60);
        assert!(!c.is_night(0, 8, 20));
        assert!(c.is_night(c.next_local_hour(0, 20), 8, 20));
        assert_eq!(local(&c, c.month_start(1)), "2027-01-01 00:00");
        assert_eq!(c.month_start(1), c.year_start(1));
        assert_eq!(local(&c, c.month_start(2)), "2027-02-01 00:00");
        assert_eq!(local(&c, c.year_start(2)), "2028-01-01 00:00");
        assert_eq!(c.month_index(c.month_start(1) - 1), 0);
        assert_eq!(c.month_index(c.month_start(1)), 1);
        assert_eq!(c.year_index(c.year_start(1) - 1), 0);
        assert_eq!(c.year_index(c.year_start(1)), 1);
        assert_eq!(c.year_index(c.year_start(2)), 2);
    }

    #[test]
    fn a_daylight_saving_zone_has_days_of_23_and_25_hours() {
        // Berlin: clocks go forward on 29 March 2026 and back on 25 October 2026.
        let c = cal("2026-03-28T00:00", "Europe/Berlin");
        assert!(c.fixed.is_none());
        let d1 = c.next_local_hour(0, 0);
        let d2 = c.next_local_hour(d1, 0);
        assert_eq!(d1, 24 * HOUR);
        assert_eq!(d2 - d1, 23 * HOUR);
        // 02:00 does not exist that night: the clock jumps to 03:00.
        assert_eq!(c.next_local_hour(d1, 2), d1 + 2 * HOUR);
        assert_eq!(c.hour(d1 + 2 * HOUR), 3);
        assert_eq!(c.hour(d1 + 8 * HOUR), 9);
        let c = cal("2026-10-25T00:00", "Europe/Berlin");
        assert_eq!(c.next_local_hour(0, 0), 25 * HOUR);
        assert_eq!(c.hour(4 * HOUR), 3);
        assert_eq!(local(&c, c.month_start(1)), "2026-11-01 00:00");
        assert_eq!(c.month_start(1), (7 * 24 + 1) * HOUR);
    }

    #[test]
    fn bad_starts_and_zones_are_refused_naming_the_value() {
        let e = Calendar::new("2026-13-01T00:00", "Asia/Shanghai").unwrap_err();
        assert!(matches!(e, CalendarError::Start { .. }));
        assert!(e.to_string().contains("\"2026-13-01T00:00\""), "{e}");
        let e = Calendar::new("2026-01-01T00:00", "Mars/Olympus").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected an IANA time zone name like \"Asia/Shanghai\" or \"Europe/Berlin\", found \"Mars/Olympus\""
        );
        assert!(Calendar::new("2026-01-01T00:00:30.5", "UTC").is_err());
        let e = Calendar::new("9990-01-01T00:00", "UTC").unwrap_err();
        assert!(e.to_string().contains("a year from 1900 to 2500"), "{e}");
        let c = cal("1960-01-01T08:00", "UTC");
        let epoch = std::time::SystemTime::UNIX_EPOCH;
        assert_eq!(
            epoch.duration_since(c.origin()).unwrap().as_secs(),
            3653 * DAY - 8 * HOUR
        );
        assert_eq!(
            cal("2026-06-01T10:00:30", "UTC").start_text(),
            "2026-06-01T10:00:30"
        );
    }
}
