//! Peak memory of a run, estimated from the world's size before anything is built, and
//! the check that refuses a world the machine cannot hold.
//!
//! [`estimate`] is a linear model of the peak resident set of one run (`civitas run`)
//! in the number of residents, resident-years simulated and communities (and residents
//! again while checkpoints are written), fitted to
//! measurements of the presets (`docs/PERFORMANCE.md`, "Memory"). Households and
//! devices are not separate terms: in every preset they are proportional to the
//! residents, and the coefficients include them. [`available`] is what the machine can
//! give (`CIVITAS_MEMORY_LIMIT`, else Linux's `MemAvailable`); [`check`] refuses an
//! estimate above it with both figures in the message.

use crate::file::{Scenario, World};
use crate::input::human_bytes;

/// Fixed cost of a run (the binary, the runtime, the parameters), bytes.
const BASE_BYTES: f64 = 10.0e6;
/// Bytes per resident (with their household and devices) for the world itself.
const PER_RESIDENT: f64 = 300.0;
/// Bytes per resident and simulated year (incident records kept until the run ends).
const PER_RESIDENT_YEAR: f64 = 175.0;
/// Bytes per resident more while a run writes checkpoints (the state gathered and
/// encoded next to the live one: 231 B for the district, 230 B for the city, measured).
const PER_RESIDENT_CHECKPOINTING: f64 = 230.0;
/// Bytes per community (its actors: committee, property firm, platform, building hosts).
const PER_COMMUNITY: f64 = 30.0e3;

/// The environment variable that sets the memory available to civitas, in bytes or with
/// a unit (`512M`, `8G`, `1.5T`), or `unlimited` to skip the check.
pub const LIMIT_VAR: &str = "CIVITAS_MEMORY_LIMIT";

/// The estimated peak memory of one run of `s` over `days`, in bytes; `checkpointing`
/// when the run writes checkpoints.
pub fn estimate(s: &Scenario, days: u64, checkpointing: bool) -> u64 {
    let (residents, communities) = match &s.world {
        World::Community(c) => (c.residents as f64, 1.0),
        World::District(d) => (d.residents as f64, d.communities as f64),
    };
    let years = days as f64 / 365.0;
    (BASE_BYTES
        + PER_RESIDENT * residents
        + PER_RESIDENT_YEAR * residents * years
        + PER_COMMUNITY * communities
        + if checkpointing {
            PER_RESIDENT_CHECKPOINTING * residents
        } else {
            0.0
        }) as u64
}

/// Memory that may be used, in bytes: [`LIMIT_VAR`] if set (`None` for `unlimited`),
/// else `MemAvailable` from `/proc/meminfo`, else `None` (unknown: nothing is refused).
pub fn available() -> Result<Option<u64>, String> {
    match std::env::var(LIMIT_VAR) {
        Ok(v) => parse_limit(&v).map_err(|e| format!("{LIMIT_VAR}: {e}")),
        Err(_) => Ok(std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| mem_available(&t))),
    }
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
pub fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// A memory figure: bytes, or a number with `K`, `M`, `G` or `T` (powers of 1024, an
/// optional `B` or `iB` after it); `unlimited` is `None`.
pub fn parse_limit(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    let expected =
        || format!("expected a number of bytes such as 8G or 512M, or `unlimited`, found {t:?}");
    let upper = t.to_ascii_uppercase();
    let body = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (num, unit) = match body.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&body[..i], Some(c)),
        _ => (body, None),
    };
    let scale: f64 = match unit {
        None => 1.0,
        Some('K') => 1024.0,
        Some('M') => 1024.0 * 1024.0,
        Some('G') => 1024.0 * 1024.0 * 1024.0,
        Some('T') => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        Some(_) => return Err(expected()),
    };
    match num.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x * scale < u64::MAX as f64 => {
            Ok(Some((x * scale) as u64))
        }
        _ => Err(expected()),
    }
}

/// Refuses `estimate` bytes (for `what`: "a run of city-3m", "2 runs at a time of …")
/// when more than `available`; `None` available refuses nothing.
pub fn check(estimate: u64, available: Option<u64>, what: &str) -> Result<(), String> {
    match available {
        Some(a) if estimate > a => Err(format!(
            "{what} needs about {} of memory at its peak (estimated from the world's size), but {} is available; run a smaller world, or set {LIMIT_VAR} (e.g. {LIMIT_VAR}=64G, or unlimited) to override",
            human_bytes(estimate),
            human_bytes(a)
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_grows_with_residents_years_communities_and_checkpoints() {
        let city = crate::library::load("city-3m").expect("preset");
        let one_day = estimate(&city, 1, false);
        // 10 MB + 300 B × 3 M + 175 B × 3 M / 365 + 30 KB × 750.
        let near = |a: u64, b: u64| a.abs_diff(b) <= 1;
        assert!(near(one_day, 933_938_356), "{one_day}");
        assert!(near(estimate(&city, 366, false) - one_day, 525_000_000));
        assert!(near(estimate(&city, 1, true) - one_day, 690_000_000));
    }

    #[test]
    fn limits_are_read_with_units_or_unlimited() {
        assert_eq!(parse_limit("8G"), Ok(Some(8 << 30)));
        assert_eq!(parse_limit("512MiB"), Ok(Some(512 << 20)));
        assert_eq!(parse_limit("1.5g"), Ok(Some(3 << 29)));
        assert_eq!(parse_limit("4096"), Ok(Some(4096)));
        assert_eq!(parse_limit("unlimited"), Ok(None));
        for bad in ["", "-1G", "lots", "8X", "nan", "0"] {
            assert!(parse_limit(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mem_available_is_read_from_meminfo() {
        let text = "MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(mem_available(text), Some(8_000_000 * 1024));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn an_estimate_over_what_is_available_is_refused_with_both_figures() {
        assert_eq!(check(10, Some(10), "a run"), Ok(()));
        assert_eq!(check(u64::MAX, None, "a run"), Ok(()));
        let e = check(3 << 30, Some(1 << 30), "a run of x").unwrap_err();
        assert!(
            e.starts_with("a run of x needs about 3.0 GiB of memory at its peak (estimated from the world's size), but 1.0 GiB is available"),
            "{e}"
        );
    }
}
