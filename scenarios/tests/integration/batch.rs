//! Batches: outputs, determinism, resume after interruption, shards, bad batch files.

use civitas_scenarios::batch::{Batch, BatchRuns, Shard, merge, point_summary, run_batch};
use std::path::Path;

const GRID: &str = r#"
schema_version = 1
name = "openness"
base = "old-small"
model = "hybrid"
years = 1
master_seed = 42
replications = 2
kpis = ["served_share", "satisfaction", "gov_net"]

[design]
kind = "grid"

[[parameters]]
path = "parameters.economy.models.hybrid.market_openness"
values = [0.3, 1.0]

[[parameters]]
path = "parameters.economy.adoption.outreach_60plus"
values = [0.0, 0.2]
"#;

fn batch(text: &str) -> Batch {
    Batch::from_str(text, Path::new("test-batch.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn read(dir: &Path, f: &str) -> Vec<u8> {
    std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
}

#[test]
fn a_grid_batch_writes_runs_series_and_a_manifest_and_is_reproducible() {
    let b = batch(GRID);
    assert_eq!(b.points.len(), 4);
    assert_eq!(b.runs().len(), 8);
    let t = tempfile::tempdir().unwrap();
    let (a, c) = (t.path().join("a"), t.path().join("c"));
    let p = run_batch(&b, &a, Shard::ALL, 2, false, |_, _| {}).unwrap();
    assert_eq!((p.total, p.skipped, p.ran), (8, 0, 8));
    run_batch(&b, &c, Shard::ALL, 1, false, |_, _| {}).unwrap();
    for f in [
        "runs.csv",
        "series.csv",
        "runs.parquet",
        "series.parquet",
        "batch.json",
    ] {
        assert_eq!(read(&a, f), read(&c, f), "{f} is identical on 2 and 1 jobs");
    }
    let runs = String::from_utf8(read(&a, "runs.csv")).unwrap();
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(
        lines[0],
        "run,point,replication,seed,parameters.economy.models.hybrid.market_openness,parameters.economy.adoption.outreach_60plus,served_share,satisfaction,gov_net"
    );
    assert_eq!(lines.len(), 9);
    // Replications of a point differ (their own seeds), and no seed is used twice.
    let seeds: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    let mut unique = seeds.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8);
    let sat = |l: &str| l.split(',').nth(7).unwrap().to_string();
    assert_ne!(sat(lines[1]), sat(lines[2]), "replications differ");
    let manifest: serde_json::Value = serde_json::from_slice(&read(&a, "batch.json")).unwrap();
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["runs"], 8);
    assert!(manifest["shard"].is_null());
    assert!(
        !String::from_utf8(read(&a, "batch.json"))
            .unwrap()
            .contains("wall")
    );
}

#[test]
fn an_interrupted_batch_resumes_and_gives_the_same_outputs() {
    let b = batch(GRID);
    let t = tempfile::tempdir().unwrap();
    let (whole, cut) = (t.path().join("whole"), t.path().join("cut"));
    run_batch(&b, &whole, Shard::ALL, 2, false, |_, _| {}).unwrap();
    run_batch(&b, &cut, Shard::ALL, 2, false, |_, _| {}).unwrap();
    // Interrupt: three runs never finished, one was half written, outputs not assembled.
    for id in ["p000000-r0001", "p000002-r0000", "p000003-r0001"] {
        std::fs::remove_file(cut.join("runs").join(format!("{id}.json"))).unwrap();
    }
    std::fs::write(
        cut.join("runs").join("p000002-r0000.tmp"),
        "{\"run\": \"p0000",
    )
    .unwrap();
    for f in [
        "runs.csv",
        "series.csv",
        "runs.parquet",
        "series.parquet",
        "batch.json",
    ] {
        std::fs::remove_file(cut.join(f)).unwrap();
    }
    let p = run_batch(&b, &cut, Shard::ALL, 2, false, |_, _| {}).unwrap();
    assert_eq!((p.skipped, p.ran), (5, 3));
    for f in [
        "runs.csv",
        "series.csv",
        "runs.parquet",
        "series.parquet",
        "batch.json",
    ] {
        assert_eq!(read(&whole, f), read(&cut, f), "{f} after resuming");
    }
}

#[test]
fn the_union_of_shards_equals_the_whole_batch_byte_for_byte() {
    let b = batch(GRID);
    let t = tempfile::tempdir().unwrap();
    let whole = t.path().join("whole");
    run_batch(&b, &whole, Shard::ALL, 2, false, |_, _| {}).unwrap();
    let shards: Vec<_> = (1..=3).map(|i| t.path().join(format!("s{i}"))).collect();
    let mut held = 0;
    for (i, d) in shards.iter().enumerate() {
        let p = run_batch(
            &b,
            d,
            Shard {
                i: i as u32 + 1,
                n: 3,
            },
            1,
            false,
            |_, _| {},
        )
        .unwrap();
        held += p.total;
        let m: serde_json::Value = serde_json::from_slice(&read(d, "batch.json")).unwrap();
        assert_eq!(m["shard"], format!("{}/3", i + 1));
    }
    assert_eq!(held, 8);
    let merged = t.path().join("merged");
    merge(&b, &shards, &merged).unwrap();
    for f in [
        "runs.csv",
        "series.csv",
        "runs.parquet",
        "series.parquet",
        "batch.json",
    ] {
        assert_eq!(read(&whole, f), read(&merged, f), "{f}");
    }
}

#[test]
fn a_latin_hypercube_and_a_sobol_design_have_the_documented_sizes() {
    let lhs = GRID
        .replace("kind = \"grid\"", "kind = \"lhs\"\npoints = 5")
        .replace("values = [0.3, 1.0]", "min = 0.2\nmax = 1.0")
        .replace("values = [0.0, 0.2]", "min = 0.0\nmax = 0.3");
    let b = batch(&lhs);
    assert_eq!(b.points.len(), 5);
    assert!(
        b.points
            .iter()
            .all(|p| (0.2..1.0).contains(&p[0]) && (0.0..0.3).contains(&p[1]))
    );
    let b = batch(&lhs.replace("kind = \"lhs\"", "kind = \"sobol\""));
    assert_eq!(b.points.len(), 5 * (2 + 2));
}

fn error_of(text: &str) -> String {
    match Batch::from_str(text, Path::new("bad-batch.toml")) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_batch_files_get_clear_errors() {
    let e = error_of(&GRID.replace(
        "parameters.economy.adoption.outreach_60plus",
        "parameters.economy.adoption.outreech",
    ));
    assert!(e.starts_with("bad-batch.toml: parameters[1].path: `parameters.economy.adoption.outreech` = 0 is not valid in old-small: parameters.economy.adoption.outreech: unknown field `outreech`"), "{e}");
    let cites_a_line = e
        .split("old-small:")
        .skip(1)
        .any(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    assert!(!cites_a_line, "no line of a text the user never sees: {e}");
    assert!(e.contains("unknown field `outreech`"), "{e}");
    let lhs = GRID
        .replace("kind = \"grid\"", "kind = \"lhs\"\npoints = 5")
        .replace("values = [0.3, 1.0]", "min = 1.0\nmax = 0.5");
    let e = error_of(&lhs);
    assert!(
        e.contains("parameters[0]: empty range: expected min < max, found min = 1, max = 0.5"),
        "{e}"
    );
    let e = error_of(&GRID.replace("kind = \"grid\"", "kind = \"lhs\"\npoints = 0"));
    assert!(
        e.contains("design.points: expected a design size of at least 1"),
        "{e}"
    );
    let e = error_of(&GRID.replace("values = [0.3, 1.0]", "values = []"));
    assert!(
        e.contains("parameters[0].values: expected at least one finite value"),
        "{e}"
    );
    let e = error_of(&GRID.replace("\"gov_net\"", "\"gov_nett\""));
    assert!(e.contains("kpis[2]: unknown KPI \"gov_nett\""), "{e}");
    let e = error_of(&GRID.replace("base = \"old-small\"", "base = \"nowhere\""));
    assert!(
        e.contains(
            "base: \"nowhere\" is neither a scenario file nor a preset; the presets are: default, old-small,"
        ),
        "{e}"
    );
    for (s, expect) in [
        ("3/2", "expected 1 ≤ i ≤ n ≤ 4294967295 in i/n"),
        ("0/4", "expected 1 ≤ i ≤ n ≤ 4294967295 in i/n"),
        ("1/4294967296", "expected 1 ≤ i ≤ n ≤ 4294967295 in i/n"),
        ("-1/4", "expected 1 ≤ i ≤ n ≤ 4294967295 in i/n"),
        ("2", "expected i/n"),
        ("a/b", "whole numbers"),
    ] {
        let err = s.parse::<Shard>().unwrap_err();
        assert!(err.contains(expect), "{s}: {err}");
    }
}

#[test]
fn a_sobol_batch_summarizes_into_first_and_total_indices() {
    let text = GRID
        .replace("kind = \"grid\"", "kind = \"sobol\"\npoints = 4")
        .replace("replications = 2", "replications = 1")
        .replace("values = [0.3, 1.0]", "min = 0.2\nmax = 1.0")
        .replace("values = [0.0, 0.2]", "min = 0.0\nmax = 0.3");
    let b = batch(&text);
    assert_eq!(b.points.len(), 16);
    let t = tempfile::tempdir().unwrap();
    run_batch(&b, t.path(), Shard::ALL, 2, false, |_, _| {}).unwrap();
    let runs = BatchRuns::read(&b, t.path()).unwrap();
    assert!(runs.warnings.is_empty(), "{:?}", runs.warnings);
    let (name, csv) = civitas_scenarios::batch::sensitivity_summary(&b, &runs).unwrap();
    assert_eq!(name, "sobol.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "kpi,parameter,first,first_lo,first_hi,total,total_lo,total_hi,note"
    );
    assert_eq!(lines.len(), 1 + 3 * 2, "{csv}");
    // Market openness drives the share of services served on the platform.
    let row = lines
        .iter()
        .find(|l| l.starts_with("served_share,parameters.economy.models.hybrid.market_openness"))
        .unwrap();
    let total: f64 = row.split(',').nth(5).unwrap().parse().unwrap();
    assert!(total > 0.3, "{row}");
    let points = civitas_scenarios::batch::point_summary(&b, &runs);
    assert_eq!(points.lines().count(), 17);
    let plots = civitas_scenarios::batch::write_plots(&b, &runs, t.path()).unwrap();
    // 3 KPIs × 2 parameters scatter charts and 3 index charts, each PNG and SVG.
    assert_eq!(plots.len(), (3 * 2 + 3) * 2, "{plots:?}");
    assert!(t.path().join("plots/sobol-served_share.svg").is_file());
    let png = std::fs::read(t.path().join("plots/served_share-vs-market_openness.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
}

#[test]
fn the_first_batch_in_the_researchers_guide_runs_as_written() {
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/guide-researcher.md"),
    )
    .unwrap();
    let start = guide.find("```toml\n").expect("a TOML block") + "```toml\n".len();
    let end = start + guide[start..].find("```").unwrap();
    let b = batch(&guide[start..end]);
    assert!(
        b.runs().len() <= 30,
        "the first batch stays small: {} runs",
        b.runs().len()
    );
    let t = tempfile::tempdir().unwrap();
    let p = run_batch(&b, t.path(), Shard::ALL, 2, false, |_, _| {}).unwrap();
    assert_eq!(p.ran, b.runs().len());
    assert!(t.path().join("runs.csv").is_file());
}

/// The grid with its first value changed (0.3 → 0.4): the guide's "change one value".
fn changed_grid() -> Batch {
    batch(&GRID.replace("values = [0.3, 1.0]", "values = [0.4, 1.0]"))
}

#[test]
fn a_changed_batch_file_on_an_old_directory_is_refused_with_what_changed() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("o");
    run_batch(&batch(GRID), &out, Shard::ALL, 2, false, |_, _| {}).unwrap();
    let before = read(&out, "runs.csv");
    let b = changed_grid();
    let err = run_batch(&b, &out, Shard::ALL, 2, false, |_, _| {}).unwrap_err();
    let o = out.display();
    assert_eq!(
        err.to_string(),
        format!(
            "{o}: 4 run file(s) there were made from other inputs ({o}/runs/p000000-r0000.json: parameters.economy.models.hybrid.market_openness was 0.3, the batch file now says 0.4); use a new --out, or --force to discard them"
        )
    );
    assert_eq!(read(&out, "runs.csv"), before, "nothing was touched");

    // Summarizing the old runs with the new file is refused the same way.
    let err = BatchRuns::read(&b, &out).unwrap_err().to_string();
    assert!(
        err.contains("made from other inputs (parameters.economy.models.hybrid.market_openness was 0.3, the batch file now says 0.4)"),
        "{err}"
    );

    // --force discards the 4 stale runs, keeps the 4 still valid, and the result is
    // what a fresh directory gives.
    let p = run_batch(&b, &out, Shard::ALL, 2, true, |_, _| {}).unwrap();
    assert_eq!((p.skipped, p.ran), (4, 4));
    let fresh = t.path().join("fresh");
    run_batch(&b, &fresh, Shard::ALL, 2, false, |_, _| {}).unwrap();
    for f in ["runs.csv", "series.csv", "batch.json"] {
        assert_eq!(read(&out, f), read(&fresh, f), "{f}");
    }
    let runs = String::from_utf8(read(&out, "runs.csv")).unwrap();
    assert!(!runs.contains(",0.3,"), "no 0.3 run is left: {runs}");
}

#[test]
fn a_run_file_from_another_version_or_damaged_is_never_reused() {
    let b = batch(GRID);
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("o");
    run_batch(&b, &out, Shard::ALL, 2, false, |_, _| {}).unwrap();
    let one = out.join("runs/p000001-r0000.json");
    let text = std::fs::read_to_string(&one).unwrap();
    let v = env!("CARGO_PKG_VERSION");
    // As another version writes it: its own version, hence another identity.
    let f: serde_json::Value = serde_json::from_str(&text).unwrap();
    let old = text
        .replace(&format!("\"{v}\""), "\"0.0.1\"")
        .replace(f["identity"].as_str().unwrap(), "0123456789abcdef");
    std::fs::write(&one, old).unwrap();
    let err = run_batch(&b, &out, Shard::ALL, 2, false, |_, _| {}).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "it was made by civitas 0.0.1, this is civitas {v}"
        )),
        "{err}"
    );
    std::fs::write(&one, "{\"run\": \"p0000").unwrap();
    let err = run_batch(&b, &out, Shard::ALL, 2, false, |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("not a run file"), "{err}");
    let err = BatchRuns::read(&b, &out).unwrap_err().to_string();
    assert!(err.contains("p000001-r0000.json: not a run file"), "{err}");
    // A run file of no run of this batch.
    std::fs::write(&one, text).unwrap();
    std::fs::copy(&one, out.join("runs/p000099-r0000.json")).unwrap();
    let err = run_batch(&b, &out, Shard::ALL, 2, false, |_, _| {}).unwrap_err();
    assert!(
        err.to_string().contains("it is not a run of this batch"),
        "{err}"
    );
}

#[test]
fn summarize_says_what_it_covers_and_refuses_what_it_cannot() {
    let b = batch(GRID);
    let t = tempfile::tempdir().unwrap();
    // A directory that does not exist, and one with no runs.
    let nowhere = t.path().join("nowhere");
    let err = BatchRuns::read(&b, &nowhere).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: no such batch directory (run `civitas batch FILE --out DIR` first)",
            nowhere.display()
        )
    );
    let empty = t.path().join("empty");
    std::fs::create_dir_all(empty.join("runs")).unwrap();
    let err = BatchRuns::read(&b, &empty).unwrap_err().to_string();
    assert!(
        err.ends_with("no run of batch openness here yet: run it first"),
        "{err}"
    );

    // One shard of two: a warning for the missing runs and one for the shard.
    let half = t.path().join("half");
    run_batch(&b, &half, Shard { i: 1, n: 2 }, 2, false, |_, _| {}).unwrap();
    let runs = BatchRuns::read(&b, &half).unwrap();
    assert_eq!((runs.present, runs.total), (4, 8));
    assert_eq!(runs.warnings.len(), 2, "{:?}", runs.warnings);
    assert!(
        runs.warnings[0].starts_with("4 of 8 runs have no run file yet"),
        "{:?}",
        runs.warnings
    );
    assert!(
        runs.warnings[1].contains("holds shard 1/2 of the batch only"),
        "{:?}",
        runs.warnings
    );
    // Each point keeps only its present replications (one of two here), never others'.
    let points = point_summary(&b, &runs);
    assert_eq!(points.lines().count(), 1 + 4, "{points}");

    // A batch file with other KPIs than the runs': refused, not a panic.
    let other = batch(&GRID.replace(
        r#"kpis = ["served_share", "satisfaction", "gov_net"]"#,
        r#"kpis = ["served_share"]"#,
    ));
    let err = BatchRuns::read(&other, &half).unwrap_err().to_string();
    assert!(err.contains("made from other inputs"), "{err}");
}

#[test]
fn integer_fields_sweep_with_integers_in_every_design() {
    // Fields the base scenario does not spell out, each an integer.
    let grid = r#"
schema_version = 1
name = "integers"
base = "small-shared"
years = 1
master_seed = 5
replications = 1
kpis = ["served_share"]
[design]
kind = "grid"
[[parameters]]
path = "parameters.economy.models.ppp.ppp.term_years"
values = [10, 15]
[[parameters]]
path = "parameters.economy.market.initial_enterprises"
values = [2, 4]
[[parameters]]
path = "parameters.engine.window_secs"
values = [60]
"#;
    let b = batch(grid);
    assert_eq!(b.points.len(), 4);
    let s = b.scenario(3).unwrap();
    assert_eq!(s.parameters.engine.window_secs, 60);
    let lhs = r#"
schema_version = 1
name = "residents"
base = "small-shared"
years = 1
master_seed = 5
replications = 1
kpis = ["served_share"]
[design]
kind = "lhs"
points = 5
[[parameters]]
path = "community.residents"
min = 2000
max = 5000
"#;
    let b = batch(lhs);
    for p in &b.points {
        assert_eq!(
            p[0],
            p[0].round(),
            "residents sampled as a whole number: {p:?}"
        );
        assert!((2000.0..=5000.0).contains(&p[0]));
    }
    let t = tempfile::tempdir().unwrap();
    run_batch(&b, t.path(), Shard::ALL, 2, false, |_, _| {}).unwrap();
    let runs = String::from_utf8(read(t.path(), "runs.csv")).unwrap();
    for line in runs.lines().skip(1) {
        let residents = line.split(',').nth(4).unwrap();
        assert!(!residents.contains('.'), "recorded as an integer: {line}");
    }
}

/// `GRID` with each parameter's values replaced by `n` values in its range.
fn grid_of(n: usize) -> String {
    let spread = |lo: f64, hi: f64| -> String {
        let v: Vec<String> = (0..n)
            .map(|k| format!("{}", lo + (hi - lo) * k as f64 / n as f64))
            .collect();
        format!("values = [{}]", v.join(", "))
    };
    GRID.replace("values = [0.3, 1.0]", &spread(0.3, 1.0))
        .replace("values = [0.0, 0.2]", &spread(0.0, 0.2))
}

#[test]
fn a_design_over_the_run_limit_is_refused_with_its_size_before_any_point_is_made() {
    // 6 parameters × 20 values: 64 million points, refused without making them.
    let values: Vec<String> = (0..20)
        .map(|k| format!("{}", 0.3 + k as f64 * 0.035))
        .collect();
    let mut six = GRID
        .split("[[parameters]]")
        .next()
        .unwrap_or_default()
        .to_string();
    for path in [
        "parameters.economy.models.gov.market_openness",
        "parameters.economy.models.market.market_openness",
        "parameters.economy.models.hybrid.market_openness",
        "parameters.economy.models.caict.market_openness",
        "parameters.economy.models.ppp.market_openness",
        "parameters.economy.adoption.outreach_60plus",
    ] {
        six.push_str(&format!(
            "[[parameters]]\npath = \"{path}\"\nvalues = [{}]\n",
            values.join(", ")
        ));
    }
    assert_eq!(
        error_of(&six),
        "bad-batch.toml: design: the design has 64,000,000 points × 2 replications = 128,000,000 runs, over the most a batch may have (1,000,000 runs, even with `max_runs`); split the study into several batch files"
    );
    let lhs = GRID
        .replace("kind = \"grid\"", "kind = \"lhs\"\npoints = 4294967295")
        .replace("values = [0.3, 1.0]", "min = 0.2\nmax = 1.0")
        .replace("values = [0.0, 0.2]", "min = 0.0\nmax = 0.3");
    assert_eq!(
        error_of(&lhs),
        "bad-batch.toml: design: the design has 4,294,967,295 points × 2 replications = 8,589,934,590 runs, over the most a batch may have (1,000,000 runs, even with `max_runs`); split the study into several batch files"
    );
    let sobol = lhs.replace(
        "kind = \"lhs\"\npoints = 4294967295",
        "kind = \"sobol\"\npoints = 100000000",
    );
    assert_eq!(
        error_of(&sobol),
        "bad-batch.toml: design: the design has 400,000,000 points × 2 replications = 800,000,000 runs, over the most a batch may have (1,000,000 runs, even with `max_runs`); split the study into several batch files"
    );
}

#[test]
fn max_runs_raises_the_limit_up_to_the_ceiling() {
    // 225 × 225 points × 2 replications = 101,250 runs: over the default 100,000.
    let big = grid_of(225);
    assert_eq!(
        error_of(&big),
        "bad-batch.toml: design: the design has 50,625 points × 2 replications = 101,250 runs, over the limit of 100,000 runs; set `max_runs = 101250` in the batch file to run it"
    );
    let b = batch(&format!("max_runs = 101250\n{big}"));
    assert_eq!(b.points.len(), 50_625);
    assert_eq!(b.runs().len(), 101_250);
    assert_eq!(
        error_of(&format!("max_runs = 101249\n{big}")),
        "bad-batch.toml: design: the design has 50,625 points × 2 replications = 101,250 runs, over the limit of 101,249 runs; set `max_runs = 101250` in the batch file to run it"
    );
    for m in ["0", "1000001"] {
        let e = error_of(&format!("max_runs = {m}\n{GRID}"));
        assert!(
            e.starts_with("bad-batch.toml: max_runs: expected from 1 to 1,000,000 runs, found "),
            "{e}"
        );
    }
}

#[test]
fn every_value_of_a_design_is_checked_before_the_first_run_at_its_position() {
    // The second value of a grid, not only the first.
    assert_eq!(
        error_of(&GRID.replace("values = [0.0, 0.2]", "values = [0.0, 0.2, 7]")),
        "bad-batch.toml: parameters[1].values[2]: expected a share between 0 and 1, found 7"
    );
    // A list design's values, and an lhs design's bounds.
    let list = GRID.replace("kind = \"grid\"", "kind = \"list\"");
    assert_eq!(
        error_of(&list.replace("values = [0.3, 1.0]", "values = [0.3, -1.0]")),
        "bad-batch.toml: parameters[0].values[1]: expected a share between 0 and 1, found -1"
    );
    let lhs = GRID
        .replace("kind = \"grid\"", "kind = \"lhs\"\npoints = 5")
        .replace("values = [0.3, 1.0]", "min = 0.2\nmax = 1.5")
        .replace("values = [0.0, 0.2]", "min = 0.0\nmax = 0.3");
    assert_eq!(
        error_of(&lhs),
        "bad-batch.toml: parameters[0].max: expected a share between 0 and 1, found 1.5"
    );
    // The same path twice.
    let twice = GRID.replace(
        "parameters.economy.adoption.outreach_60plus",
        "parameters.economy.models.hybrid.market_openness",
    );
    assert_eq!(
        error_of(&twice),
        "bad-batch.toml: parameters[1].path: `parameters.economy.models.hybrid.market_openness` is already varied by parameters[0]; each path may be varied once"
    );
}
