//! Golden checksums of the result files for one small run of each command. A
//! restructuring must leave every byte of these files as it was; a deliberate change of
//! the model updates the checksums here in the same commit, with the reason.

use std::path::Path;
use std::process::Command;

/// FNV-1a, 64 bits: stable across platforms and Rust versions, no dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn civitas(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_civitas"))
        // No pictures from a viewer that happens to be built beside the binary.
        .env("CIVITAS_VIZ", "off")
        .args(args)
        .output()
        .expect("civitas runs");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Compares each file's checksum with the expected one and names every file that differs.
fn check(dir: &Path, expected: &[(&str, u64)]) {
    let differ: Vec<String> = expected
        .iter()
        .filter_map(|&(file, want)| {
            let got =
                fnv1a(&std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}")));
            (got != want).then(|| format!("(\"{file}\", 0x{got:016x}),  // expected 0x{want:016x}"))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "result files changed:\n{}",
        differ.join("\n")
    );
}

#[test]
fn a_run_writes_the_same_bytes_as_before() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("run");
    civitas(&[
        "run",
        "default",
        "--days",
        "30",
        "--seed",
        "3",
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    check(
        &out,
        &[
            // summary.json: the command tallies gained `expired` (the live twin's queue).
            ("summary.json", 0x4e60c3126c6d1705),
            ("incidents.csv", 0xa5eaaf4b5d7b8df5),
        ],
    );
}

/// Changed with the calendar (issue 8): months have their calendar lengths (31 days for
/// January, not 30.4), so the monthly market closes at other times; the 30-day run
/// above, which ends before the first month end, kept its bytes. Changed in issue 23: a
/// year's satisfaction is taken at its last moment (before December's service outcome),
/// intervals are cut to each KPI's range, and `-0.000` is written `0.000`; the run's
/// `summary.json` gained `undetected` per kind. Changed in issue 27: the government's
/// income counts every flow into its account (its platform's commission and data sales
/// too), so that net = capital + O&M + purchases − income; `gov_income`'s label says so.
/// Changed again in issue 27: staff are paid (MODEL §13.1) — a new KPI, `gov_staff`, and
/// every model's `gov_net` and `gov_npv` higher by it; then the PPP partner borrows 70%
/// of its construction, which lowers the availability payment and adds its interest
/// (MODEL §19); then the government pays interest on the bonds that finance its
/// construction, a new KPI `gov_interest` (MODEL §16). Changed in issue 28 (with the run
/// above and the batch below): an organisation draws each case's handling time and
/// outcome from a stream of its own per case (so that a person's action on one case
/// never shifts another's draws), instead of one stream in arrival order; then a fire
/// or a basement flood commands its building's doors or pump, and a command that does not
/// succeed raises a `command_failed` incident (MODEL §7.4); `summary.json` gained
/// `commands`.
#[test]
fn a_comparison_writes_the_same_bytes_as_before() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("compare");
    civitas(&[
        "compare",
        "small-shared",
        "--seeds",
        "2",
        "--years",
        "2",
        "--jobs",
        "2",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    check(
        &out,
        &[
            ("compare.json", 0xe69d0441fd5de208),
            ("compare.csv", 0xcfe292447db28aa8),
        ],
    );
}

/// Changed with the calendar, with staff wages and with per-case draws, as the comparison
/// above.
#[test]
fn a_batch_and_its_summary_write_the_same_bytes_as_before() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("b.toml");
    std::fs::write(
        &file,
        r#"schema_version = 1
name = "golden"
base = "small-shared"
model = "hybrid"
years = 2
master_seed = 7
replications = 2
kpis = ["served_share", "satisfaction_elderly", "gov_net", "detection_p50"]

[design]
kind = "lhs"
points = 4

[[parameters]]
path = "parameters.economy.models.hybrid.market_openness"
min = 0.2
max = 1.0

[[parameters]]
path = "parameters.economy.adoption.outreach_60plus"
min = 0.0
max = 0.3
"#,
    )
    .unwrap();
    let out = t.path().join("batch");
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    civitas(&["batch", f, "--jobs", "2", "--out", o]);
    civitas(&["batch", "summarize", "--batch", f, o]);
    check(
        &out,
        &[
            ("runs.csv", 0xdeec0e9cf930193f),
            ("series.csv", 0xa203fd14ae73a5ad),
            ("runs.parquet", 0x05adfd8193c55704),
            ("series.parquet", 0x175c0c88ad0c7934),
            ("batch.json", 0xf12eb88014d7e8c3),
            ("points.csv", 0x7158f86c23c7e16e),
            ("src.csv", 0xa7b4da0230bb84fb),
        ],
    );
}
