//! Fuzzing the inject log reader ([`read_log`]) with proptest: mutations of valid log
//! lines — byte flips, truncations, huge and negative numbers, NaN, deep nesting, long
//! strings, duplicated keys — never panic, and every error names the line.
//!
//! `cargo test` runs a few cases; a longer search is
//! `PROPTEST_CASES=1000000 cargo test --release -p civitas-actors --test integration fuzz`.

use civitas_actors::inject::{read_log, write_log};
use proptest::prelude::*;
use proptest::sample::Index;

/// Valid records: a fire at a building, written by hand and as the engine writes them.
const LOG: &str = concat!(
    r#"{"at":172800,"to":{"building":{"community":0,"building":3}},"inject":{"incident":{"kind":"fire","household":null}}}"#,
    "\n",
    r#"{"at":600,"source":0,"source_name":"drill","seq":1,"to":{"building":{"community":0,"building":1}},"inject":{"incident":{"kind":"elderly_fall","household":2}}}"#,
    "\n",
);

const HOSTILE: &[&str] = &[
    "-1",
    "1e309",
    "NaN",
    "18446744073709551616",
    "18446744073709551615",
    "4294967296",
    "99999999999999999999999999",
    "-0",
    "0.5",
    "null",
    "\"\"",
    "[]",
    "{}",
    ",\"at\":5",
    "\"kind\":\"fire\",",
];

fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// `LOG` with `edits` applied: (kind, where, what).
fn mutate(edits: &[(u8, Index, Index)]) -> Vec<u8> {
    let mut s = LOG.as_bytes().to_vec();
    for (kind, at, what) in edits {
        let k = at.index(s.len() + 1);
        match kind % 6 {
            0 if k < s.len() => s[k] = what.index(256) as u8,
            1 => s.truncate(k),
            2 => {
                s.splice(k..k, what.get(HOSTILE).bytes());
            }
            3 => {
                // Replace the number literal starting at or after k.
                if let Some(a) = (k..s.len()).find(|&i| s[i].is_ascii_digit()) {
                    let b = (a..s.len())
                        .find(|&i| !s[i].is_ascii_digit())
                        .unwrap_or(s.len());
                    s.splice(a..b, what.get(HOSTILE).bytes());
                }
            }
            4 => {
                let n = what.index(5000);
                let nest = format!("{}{}", "[".repeat(n), "]".repeat(n));
                s.splice(k..k, nest.into_bytes());
            }
            _ => {
                let long = format!("\"{}\"", "x".repeat(what.index(60_000)));
                s.splice(k..k, long.into_bytes());
            }
        }
        s.truncate(64 * 1024);
    }
    s
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_inject_log_reader_never_panics_and_names_the_line(
        edits in prop::collection::vec((any::<u8>(), any::<Index>(), any::<Index>()), 1..5),
    ) {
        let text = String::from_utf8_lossy(&mutate(&edits)).into_owned();
        match read_log(&text) {
            Ok(records) => {
                // What reads writes back and reads again the same.
                prop_assert_eq!(read_log(&write_log(&records)).unwrap(), records);
            }
            Err(e) => prop_assert!(e.starts_with("line ") && e.len() > 8, "{}", e),
        }
    }
}

#[test]
fn the_unmutated_log_of_the_fuzzing_reads() {
    assert_eq!(read_log(LOG).unwrap().len(), 2);
}
