use std::path::Path;
use std::process::{Command, Output};

/// Runs `civitas` with `args` to its end — at most 15 minutes, then it is killed and the
/// test fails naming the command (a command that never ends must not hang the suite).
pub(crate) fn civitas<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civitas"));
    // No pictures from a viewer that happens to be built beside the binary.
    cmd.env("CIVITAS_VIZ", "off").args(args);
    output_within(cmd, std::time::Duration::from_secs(15 * 60))
}

/// Runs `cmd` to its end, reading its output as it comes, within `limit`; killed and
/// failed (naming the command) after it.
pub(crate) fn output_within(mut cmd: Command, limit: std::time::Duration) -> Output {
    let what = format!("{cmd:?}");
    let child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap_or_else(|e| panic!("{what}: {e}")),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{what} did not finish within {} s", limit.as_secs());
        }
    }
}

/// Runs two days of the small old estate with a checkpoint a day into `out`; the path of
/// the day-1 checkpoint.
pub(crate) fn day_one_checkpoint(out: &str) -> String {
    let o = civitas(&[
        "run",
        "old-small",
        "--days",
        "2",
        "--checkpoint-every",
        "1d",
        "--out",
        out,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    format!("{out}/checkpoints/checkpoint-day-00001.ckpt")
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn run_prints_a_summary_and_writes_summary_json_and_incidents_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = civitas(&[
        "run",
        "default",
        "--days",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("incidents "), "{text}");
    assert!(text.contains("detection"), "{text}");
    assert!(text.contains("satisfaction"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["days"], 20.0);
    let csv = std::fs::read_to_string(out.join("incidents.csv")).unwrap();
    assert!(csv.starts_with("id,kind,severity,false_alarm,"));
    assert!(csv.lines().count() > 10);
}

#[test]
fn run_is_identical_on_one_and_two_workers_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for (d, w) in [(&a, "1"), (&b, "2")] {
        let o = civitas(&[
            "run",
            "old-small",
            "--days",
            "30",
            "--seed",
            "5",
            "--workers",
            w,
            "-q",
            "--out",
            d.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(o.stdout.is_empty(), "--quiet prints nothing");
    }
    for f in ["summary.json", "incidents.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
}

/// Every flag with a range, below and above it (and not a number), plus the other ways a
/// command line can be wrong. clap frames a value parser's message as
/// "invalid value 'V' for '--flag <FLAG>': …".
#[test]
fn bad_flags_are_rejected_with_a_clear_message() {
    let workers = "'--workers <WORKERS>': expected a number from 1 to 256";
    let jobs = "'--jobs <JOBS>': expected a number from 1 to 256";
    let days = "'--days <DAYS>': expected a whole number of days from 1 to 73000";
    let run_years = "'--years <YEARS>': expected a number of years above 0 and at most 200";
    let compare_years = "'--years <YEARS>': expected a whole number of years from 1 to 200";
    let seeds = "'--seeds <SEEDS>': expected a number of seeds from 1 to 10000";
    let models = "expected some of: gov, market, hybrid, caict, ppp";
    let shard = "'--shard <SHARD>': expected 1 ≤ i ≤ n ≤ 4294967295 in i/n";
    let seed = "'--seed <SEED>': expected a seed from 0 to 18446744073709551615";
    let big = "99999999999999999999999";
    let neither = "neither a scenario file nor a preset; the presets are: default, old-small,";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["run", "default", "--workers", "0"],
            format!("{workers}, found 0"),
        ),
        (
            vec!["run", "default", "--workers", "257"],
            format!("{workers}, found 257"),
        ),
        (
            vec!["run", "default", "--workers", "two"],
            format!("{workers}, found \"two\""),
        ),
        (
            vec!["bench", "--workers", "0"],
            format!("{workers}, found 0"),
        ),
        (
            vec!["bench", "--workers", "100000"],
            format!("{workers}, found 100000"),
        ),
        (
            vec!["run", "default", "--days", "0"],
            format!("{days}, found 0"),
        ),
        (
            vec!["run", "default", "--days", "73001"],
            format!("{days}, found 73001"),
        ),
        (
            vec!["run", "default", "--days", "-5"],
            format!("{days}, found -5"),
        ),
        (
            vec!["run", "default", "--years", "-1"],
            format!("{run_years}, found -1"),
        ),
        (
            vec!["run", "default", "--years", "0"],
            format!("{run_years}, found 0"),
        ),
        (
            vec!["run", "default", "--years", "201"],
            format!("{run_years}, found 201"),
        ),
        (
            vec!["run", "default", "--years", "nan"],
            format!("{run_years}, found NaN"),
        ),
        (
            vec!["run", "default", "--years", "inf"],
            format!("{run_years}, found inf"),
        ),
        (
            vec!["run", "default", "--days", "3", "--years", "1"],
            "cannot be used with".into(),
        ),
        (
            vec!["run", "default", "--seed", "x"],
            format!("invalid value 'x' for {seed}, found \"x\""),
        ),
        (
            vec!["run", "default", "--seed", "-1"],
            format!("{seed}, found -1"),
        ),
        (
            vec!["run", "default", "--seed", "18446744073709551616"],
            format!("{seed}, found 18446744073709551616"),
        ),
        (
            vec!["run", "default", "--workers", big],
            format!("{workers}, found {big}"),
        ),
        (
            vec!["run", "default", "--days", big],
            format!("{days}, found {big}"),
        ),
        (
            vec!["run", "default", "--years", "1e300"],
            format!("{run_years}, found 1e300"),
        ),
        (vec!["bench", "--days", "0"], format!("{days}, found 0")),
        (
            vec!["bench", "--days", "99999999999"],
            format!("{days}, found 99999999999"),
        ),
        (
            vec!["resume", "x.ckpt", "--days", "0"],
            format!("{days}, found 0"),
        ),
        (
            vec!["resume", "x.ckpt", "--workers", "0"],
            format!("{workers}, found 0"),
        ),
        (
            vec!["compare", "--seeds", "99999999999"],
            format!("{seeds}, found 99999999999"),
        ),
        (
            vec!["compare", "--years", "99999999999"],
            format!("{compare_years}, found 99999999999"),
        ),
        (
            vec!["compare", "--jobs", "99999999999"],
            format!("{jobs}, found 99999999999"),
        ),
        (
            vec!["batch", "x.toml", "--shard", "1/99999999999"],
            format!("{shard}, found \"1/99999999999\""),
        ),
        (
            vec!["batch", "x.toml", "--shard", "-1/4"],
            format!("{shard}, found \"-1/4\""),
        ),
        (
            vec!["batch", "x.toml", "--shard", "a/4"],
            "expected i/n with whole numbers, 1 ≤ i ≤ n ≤ 4294967295, found \"a/4\"".into(),
        ),
        (
            vec!["run", "no-such-scenario"],
            format!("no-such-scenario: {neither}"),
        ),
        (
            vec!["compare", "no-such-scenario"],
            format!("no-such-scenario: {neither}"),
        ),
        (
            vec!["scenario", "check", "no-such-scenario"],
            format!("no-such-scenario: {neither}"),
        ),
        (
            vec!["scenario", "show", "nope"],
            "no preset named \"nope\"; expected one of: default".into(),
        ),
        (
            vec!["compare", "--models", "gov,feudal"],
            format!("'--models <MODELS>': unknown model \"feudal\"; {models}"),
        ),
        (
            vec!["compare", "--models", "gov,,ppp"],
            format!("'--models <MODELS>': found an empty model name; {models}"),
        ),
        (
            vec!["compare", "--years", "0"],
            format!("{compare_years}, found 0"),
        ),
        (
            vec!["compare", "--years", "201"],
            format!("{compare_years}, found 201"),
        ),
        (
            vec!["compare", "--years", "1.5"],
            format!("{compare_years}, found \"1.5\""),
        ),
        (vec!["compare", "--seeds", "0"], format!("{seeds}, found 0")),
        (
            vec!["compare", "--seeds", "10001"],
            format!("{seeds}, found 10001"),
        ),
        (vec!["compare", "--jobs", "0"], format!("{jobs}, found 0")),
        (
            vec!["compare", "--jobs", "300"],
            format!("{jobs}, found 300"),
        ),
        (
            vec!["batch", "x.toml", "--jobs", "0"],
            format!("{jobs}, found 0"),
        ),
        (
            vec!["batch", "x.toml", "--jobs", "300"],
            format!("{jobs}, found 300"),
        ),
        (
            vec!["batch", "x.toml", "--shard", "3/2"],
            format!("{shard}, found \"3/2\""),
        ),
        (
            vec!["batch", "x.toml", "--shard", "0/4"],
            format!("{shard}, found \"0/4\""),
        ),
        (
            vec!["batch", "x.toml", "--shard", "1/0"],
            format!("{shard}, found \"1/0\""),
        ),
        (
            vec!["batch", "x.toml", "--shard", "4"],
            "expected i/n (for example 2/8), found \"4\"".into(),
        ),
        (
            vec!["batch"],
            "expected a batch file: civitas batch FILE".into(),
        ),
        (
            vec!["batch", "/nonexistent/b.toml"],
            "/nonexistent/b.toml: cannot read the batch file".into(),
        ),
    ];
    for (args, expect) in cases {
        let o = civitas(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&expect), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?} panicked");
    }
}

#[test]
fn scenario_default_prints_a_valid_scenario_that_check_accepts() {
    let o = civitas(&["scenario", "default"]);
    assert!(o.status.success());
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mine.toml");
    std::fs::write(&f, &o.stdout).unwrap();
    let c = civitas(&["scenario", "check", f.to_str().unwrap()]);
    assert!(c.status.success(), "{}", stderr(&c));
    assert!(stdout(&c).contains(": ok"));
    let c = civitas(&["scenario", "check", "old-small"]);
    assert!(stdout(&c).contains("old-small: ok"), "{}", stderr(&c));
    assert_eq!(
        o.stdout,
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/library/default.toml"))
            .unwrap()
    );
}

#[test]
fn scenario_check_reports_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, "schema_version = 1\nname = \"x\"\n[community]\nname = \"c\"\nresidents = -4\nelderly_share = 0.2\nage = \"old\"\nregion = \"developed\"\n").unwrap();
    let c = civitas(&["scenario", "check", f.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(2));
    let e = stderr(&c);
    assert!(
        e.contains(&format!("{}:5: community.residents:", f.display())),
        "{e}"
    );
}

#[test]
fn scenario_list_and_params_print_the_library() {
    let l = stdout(&civitas(&["scenario", "list"]));
    for name in ["default", "old-small", "new-large", "haishu-district"] {
        assert!(l.contains(name), "{l}");
    }
    let p = stdout(&civitas(&["scenario", "params"]));
    assert!(p.contains("[incidents.elderly_fall]"));
    assert!(p.contains("Kang et al. 2022"));
}

/// Runs the command a document quotes (in backticks after `intro`, "civitas" left out)
/// and returns the lines of the code block that follows it which the program no longer
/// prints (`...` stands for lines left out).
fn stale_quote(doc: &str, intro: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    let at = text
        .find(intro)
        .unwrap_or_else(|| panic!("{doc} has no {intro:?}"))
        + intro.len();
    let command = &text[at..at + text[at..].find('`').unwrap()];
    let block = &text[at + text[at..].find("```\n").unwrap() + 4..];
    let block = &block[..block.find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<&str> = command.split_whitespace().collect();
    args.extend(["--out", dir.path().to_str().unwrap()]);
    let o = civitas(&args);
    assert!(
        o.status.success(),
        "{doc}: civitas {command}: {}",
        stderr(&o)
    );
    let printed = stdout(&o);
    let printed: Vec<&str> = printed.lines().collect();
    block
        .lines()
        .filter(|l| *l != "..." && !printed.contains(l))
        .map(|l| format!("{doc}: `civitas {command}` no longer prints: {l}"))
        .collect()
}

#[test]
fn the_comparison_excerpt_in_the_planners_guide_is_what_the_program_prints() {
    let stale = stale_quote("docs/guide-planner.md", "An excerpt of `civitas ");
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn the_run_excerpt_in_the_readme_is_what_the_program_prints() {
    let stale = stale_quote("README.md", "From `civitas ");
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn resume_from_a_checkpoint_writes_what_the_uninterrupted_run_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let o = civitas(&[
        "run",
        "default",
        "--days",
        "30",
        "--checkpoint-every",
        "10d",
        "--checkpoint-dir",
        &p("ck"),
        "--events",
        &p("events.jsonl"),
        "--out",
        &p("whole"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ckpt = dir.path().join("ck/checkpoint-day-00010.ckpt");
    let head = std::fs::read(&ckpt).unwrap();
    let head = String::from_utf8_lossy(&head[..200]);
    assert!(
        head.starts_with("civitas checkpoint\n{\"schema_version\":13,"),
        "{head}"
    );
    assert!(dir.path().join("ck/checkpoint-day-00020.ckpt").exists());
    let events = std::fs::read_to_string(p("events.jsonl")).unwrap();
    // A header line naming the format and the run, then one line per window that had
    // anything in it, in order, up to the horizon.
    assert!(
        events
            .lines()
            .next()
            .unwrap()
            .starts_with("{\"schema\":\"civitas-events\",\"schema_version\":3,\"run\":{")
    );
    let (run, windows) =
        civitas_twin::vocab::events::read_stream_with_run(&events).expect("the file reads");
    let run = run.expect("the header names its run");
    assert_eq!(run.seed, 1);
    assert!(
        run.scenario_toml.contains("name = \"default\""),
        "{}",
        run.scenario_toml
    );
    let starts: Vec<u64> = windows.iter().map(|w| w.start).collect();
    assert!(starts.len() > 100, "{} windows", starts.len());
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "windows in order");
    assert!(*starts.last().unwrap() < 30 * 86_400);

    let o = civitas(&[
        "resume",
        ckpt.to_str().unwrap(),
        "--out",
        &p("resumed"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["summary.json", "incidents.csv", "injects.jsonl"] {
        assert_eq!(
            std::fs::read(dir.path().join("whole").join(file)).unwrap(),
            std::fs::read(dir.path().join("resumed").join(file)).unwrap(),
            "{file} differs"
        );
    }

    // A fork with more garbage from day 10 on: the summary differs, the run succeeds.
    let o = civitas(&[
        "fork",
        ckpt.to_str().unwrap(),
        "--set",
        "parameters.incidents.garbage_overflow.rate=80",
        "--out",
        &p("fork"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(
        std::fs::read(dir.path().join("whole/summary.json")).unwrap(),
        std::fs::read(dir.path().join("fork/summary.json")).unwrap()
    );

    // Bad uses of resume and fork, each with its reason.
    std::fs::write(p("junk.ckpt"), "not a checkpoint at all\n").unwrap();
    let junk = p("junk.ckpt");
    let ck = ckpt.to_str().unwrap();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["resume", ck, "--days", "5"],
            "the checkpoint is at simulated day 10.00; resume to a later day than that (found 5.00)"
                .into(),
        ),
        (
            vec!["resume", &junk],
            format!("{junk}: not a civitas checkpoint"),
        ),
        (
            vec!["resume", "/nonexistent/x.ckpt"],
            "/nonexistent/x.ckpt: ".into(),
        ),
        (
            vec!["fork", ck, "--set", "parameters.incidents.fire.rate"],
            "expected PATH=NUMBER, found \"parameters.incidents.fire.rate\"".into(),
        ),
        (
            vec!["fork", ck, "--set", "parameters.incidents.fire.rate=lots"],
            "expected a number after '=', found \"lots\"".into(),
        ),
        (
            vec!["fork", ck, "--set", "parameters.no_such_table.x=1", "-q"],
            "parameters.no_such_table".into(),
        ),
        (
            vec!["run", "default", "--checkpoint-every", "30"],
            "expected a duration such as 30d, 12h or 1y, found \"30\"".into(),
        ),
    ];
    for (args, expect) in cases {
        let o = civitas(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&expect), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?} panicked");
    }
}

#[test]
fn a_run_replayed_from_its_inject_log_writes_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // A fire injected in building 3 on day 2, written by hand (no source or sequence).
    std::fs::write(
        p("mine.jsonl"),
        concat!(
            r#"{"at":172800,"to":{"building":{"community":0,"building":3}},"inject":{"incident":{"kind":"fire","household":null}}}"#,
            "\n"
        ),
    )
    .unwrap();
    let o = civitas(&[
        "run",
        "default",
        "--days",
        "5",
        "--injects",
        &p("mine.jsonl"),
        "--out",
        &p("a"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = std::fs::read_to_string(dir.path().join("a/injects.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    let o = civitas(&[
        "run",
        "default",
        "--days",
        "5",
        "--injects",
        &p("a/injects.jsonl"),
        "--out",
        &p("b"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["summary.json", "incidents.csv", "injects.jsonl"] {
        assert_eq!(
            std::fs::read(dir.path().join("a").join(file)).unwrap(),
            std::fs::read(dir.path().join("b").join(file)).unwrap(),
            "{file} differs"
        );
    }
    let plain = civitas(&["run", "default", "--days", "5", "--out", &p("c"), "-q"]);
    assert!(plain.status.success());
    let fires = |d: &str| {
        std::fs::read_to_string(dir.path().join(d).join("incidents.csv"))
            .unwrap()
            .lines()
            .filter(|l| l.contains(",fire,"))
            .count()
    };
    assert_eq!(
        fires("a"),
        fires("c") + 1,
        "the injected fire is in the run"
    );

    // Bad logs are refused with the line and the reason.
    std::fs::write(p("bad.jsonl"), "{\"at\":5}\n").unwrap();
    let o = civitas(&[
        "run",
        "default",
        "--days",
        "5",
        "--injects",
        &p("bad.jsonl"),
    ]);
    assert_eq!(o.status.code(), Some(2), "a bad inject log is bad input");
    assert!(
        stderr(&o).contains("line 1: missing field"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        p("nowhere.jsonl"),
        r#"{"at":600,"to":{"building":{"community":0,"building":99999}},"inject":{"incident":{"kind":"fire","household":null}}}"#,
    )
    .unwrap();
    let o = civitas(&[
        "run",
        "default",
        "--days",
        "5",
        "--injects",
        &p("nowhere.jsonl"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an inject log that does not fit the run is bad input"
    );
    assert!(stderr(&o).contains("99999"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

/// A small batch file: two runs of a year of the small old estate.
pub(crate) const SMALL_BATCH: &str = r#"schema_version = 1
name = "small"
base = "old-small"
years = 1
master_seed = 1
replications = 1
kpis = ["served_share"]

[design]
kind = "grid"

[[parameters]]
path = "parameters.incidents.fire.rate"
values = [0.0005, 0.001]
"#;

#[test]
fn an_out_that_is_a_file_is_named_as_a_file_not_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(p("afile"), "").unwrap();
    std::fs::write(p("b.toml"), SMALL_BATCH).unwrap();
    let ckpt = day_one_checkpoint(&p("ck"));
    let afile = p("afile");
    let below = p("afile/sub");
    let (batch, ck) = (p("b.toml"), p("ck"));
    let is_a_file =
        format!("cannot create output directory {afile}: it is a file, not a directory");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["run", "old-small", "--days", "1", "--out", &afile],
            is_a_file.clone(),
        ),
        (
            vec!["run", "old-small", "--days", "1", "--out", &below],
            format!("cannot create output directory {below}: {afile} is a file, not a directory"),
        ),
        (vec!["resume", &ckpt, "--out", &afile], is_a_file.clone()),
        (
            vec![
                "compare",
                "old-small",
                "--years",
                "1",
                "--seeds",
                "1",
                "--out",
                &afile,
            ],
            is_a_file.clone(),
        ),
        (vec!["batch", &batch, "--out", &afile], is_a_file.clone()),
        (
            vec!["batch", "merge", "--batch", &batch, &ck, "--out", &afile],
            is_a_file.clone(),
        ),
    ];
    for (args, expect) in cases {
        let o = civitas(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&expect), "{args:?}: {}", stderr(&o));
    }
}

/// Every path argument takes any file name the system allows, as `scenario check` always
/// did: `run` and `compare` read a scenario whose name is not UTF-8 too, and a missing one
/// gets the same answer from all three.
#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_are_accepted_by_every_command() {
    use std::ffi::{OsStr, OsString};
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes(b"sc\xe9nario.toml");
    let file = dir.path().join(name);
    let civitas_os = |args: &[&OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_civitas"))
            // No pictures from a viewer that happens to be built beside the binary.
            .env("CIVITAS_VIZ", "off")
            .args(args)
            .output()
            .expect("civitas runs")
    };
    let os = |s: &str| OsString::from(s);
    let out = dir.path().join(OsStr::from_bytes(b"out\xff"));
    let checks: [Vec<OsString>; 3] = [
        vec![os("scenario"), os("check"), file.clone().into()],
        vec![
            os("run"),
            file.clone().into(),
            os("--days"),
            os("2"),
            os("-q"),
            os("--out"),
            out.clone().into(),
        ],
        vec![
            os("compare"),
            file.clone().into(),
            os("--years"),
            os("1"),
            os("--seeds"),
            os("1"),
            os("--models"),
            os("gov"),
            os("-q"),
            os("--out"),
            out.clone().into(),
        ],
    ];
    // Missing: the same message from each, with the name shown lossily.
    for args in &checks {
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let o = civitas_os(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(
            e.contains("sc\u{fffd}nario.toml: neither a scenario file nor a preset"),
            "{args:?}: {e}"
        );
    }
    std::fs::write(
        &file,
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/library/old-small.toml"),
        )
        .unwrap(),
    )
    .unwrap();
    for args in &checks {
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let o = civitas_os(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    assert!(out.join("summary.json").exists());
    assert!(out.join("compare.json").exists());
}

/// 0 success, 1 a run failed (here: its event stream cannot be written), 2 bad usage
/// (clap's own errors) or input; `--help` says so.
#[test]
fn exit_codes_are_0_on_success_1_when_a_run_fails_and_2_for_bad_usage_or_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "old-small", "--days", "1", "-q", "--out"];
        let out = p("o");
        args.push(&out);
        args.extend_from_slice(extra);
        civitas(&args).status.code()
    };
    assert_eq!(run(&[]), Some(0));
    // The stream's device is full: the run fails while writing results.
    assert_eq!(run(&["--events", "/dev/full"]), Some(1));
    assert_eq!(run(&["--events", &p("no/such/dir/e.jsonl")]), Some(2));
    assert_eq!(run(&["--no-such-flag"]), Some(2));
    assert_eq!(run(&["--days", "0"]), Some(2));
    assert_eq!(civitas(&["frobnicate"]).status.code(), Some(2));
    let help = civitas(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(
        stdout(&help).contains(
            "Exit status: 0 success; 1 a run failed (the engine stopped, or results could not be written); 2 bad usage or input"
        ),
        "{}",
        stdout(&help)
    );
}

/// A damaged checkpoint is refused by its checksum (before the checksum, fuzzing found
/// damaged ones that read, then failed to restore, naming neither the file nor bad
/// input); a whole checkpoint that does not fit its scenario names the file as bad input.
#[test]
fn a_damaged_checkpoint_is_refused_by_its_checksum_and_a_foreign_state_does_not_restore() {
    use civitas_scenarios::checkpoint::Checkpoint;
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let good_path = day_one_checkpoint(&p("ck"));
    let good = std::fs::read(&good_path).unwrap();
    // A flipped bit in the body: refused by its checksum, before anything runs.
    let damaged = p("damaged.ckpt");
    let mut bytes = good.clone();
    let at = good.len() * 2 / 3;
    bytes[at] ^= 0x10;
    std::fs::write(&damaged, &bytes).unwrap();
    let o = civitas(&["resume", &damaged, "--out", &p("r"), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).trim(),
        format!("error: {damaged}: damaged checkpoint (checksum mismatch)")
    );
    assert!(!dir.path().join("r").exists(), "nothing is written");
    // A whole, well-formed checkpoint whose state is not of its scenario's world (the
    // small estate's state under the default community): it reads, and does not restore.
    let mut ck = Checkpoint::read(std::path::Path::new(&good_path)).unwrap();
    ck.scenario = civitas_scenarios::Scenario::from_str(
        civitas_scenarios::library::preset("default").unwrap().text,
        "default",
    )
    .unwrap();
    let foreign = p("foreign.ckpt");
    ck.write(std::path::Path::new(&foreign)).unwrap();
    let o = civitas(&["resume", &foreign, "--out", &p("r2"), "-q"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert_eq!(
        e.trim_end(),
        format!(
            "error: {foreign}: the checkpoint does not restore: checkpoint: it holds 25 actors, this scenario has 57: it is from another community"
        )
    );
}

#[test]
fn the_planners_guide_error_example_is_what_the_program_prints() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/guide-planner.md"),
    )
    .unwrap();
    let at = text
        .find("setting only `services = 0.5`")
        .expect("the example");
    let rest = &text[at..];
    let toml = &rest[rest.find("```toml\n").unwrap() + 8..];
    let toml = &toml[..toml.find("```").unwrap()];
    let quote = &rest[rest
        .find("$ civitas scenario check bad-weights.toml\n")
        .unwrap()..];
    let expected = quote.lines().nth(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad-weights.toml"), toml).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["scenario", "check", "bad-weights.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim_end(), expected);
}

#[test]
fn the_event_count_in_performance_md_is_what_a_default_year_prints() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/PERFORMANCE.md"))
            .unwrap();
    let intro = "a default year has ";
    let at = text.find(intro).expect("the figure") + intro.len();
    let figure: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let o = civitas(&["run", "default", "--out", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(" {figure} events (")),
        "PERFORMANCE.md says {figure} events; the run printed: {e}"
    );
}

/// A stand-in for the 3D viewer: records its arguments beside itself, writes a PNG
/// signature where `--out` says, or fails like a viewer without a graphics driver.
fn fake_viewer(dir: &Path, fail: bool) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("civitas-viz");
    let body = if fail {
        "echo 'error: no graphics adapter found (backends VULKAN)' >&2\nexit 1\n"
    } else {
        "while [ $# -gt 0 ]; do if [ \"$1\" = --out ]; then printf '\\211PNG\\r\\n\\032\\n' > \"$2\"; fi; shift; done\n"
    };
    let text = format!("#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/args.txt\"\n{body}");
    std::fs::write(&script, text).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn compare_draws_each_models_community_with_the_viewer_or_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let compare = |viewer: &str, out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_civitas"))
            .args([
                "compare",
                "old-small",
                "--models",
                "gov,ppp",
                "--seeds",
                "1",
            ])
            .args(["--years", "1", "--quiet", "--out"])
            .arg(out)
            .env("CIVITAS_VIZ", viewer)
            .output()
            .unwrap()
    };
    // With the viewer: one snapshot per model at the horizon, into the report.
    let viewer = fake_viewer(dir.path(), false);
    let out = dir.path().join("drawn");
    let o = compare(viewer.to_str().unwrap(), &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let args = std::fs::read_to_string(dir.path().join("args.txt")).unwrap();
    let scenario = out.join("scenario.toml");
    for m in ["gov", "ppp"] {
        let png = out.join(format!("view-{m}.png"));
        assert!(
            args.contains(&format!(
                "snapshot --scenario {} --model {m} --seed 1 --at 1y --size 960x540 --out {}",
                scenario.display(),
                png.display()
            )),
            "{args}"
        );
        assert!(png.is_file());
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains(
            "### gov (seed 1, end of year 1)\n\n![gov (seed 1, end of year 1)](view-gov.png)"
        ),
        "{md}"
    );
    // The scenario handed to the viewer is the one compared.
    let written = civitas_scenarios::file::Scenario::from_path(&scenario).unwrap();
    assert_eq!(written.name, "old-small");

    // A viewer that fails: the comparison still succeeds and the report says why.
    let failing = tempfile::tempdir().unwrap();
    let viewer = fake_viewer(failing.path(), true);
    let out = dir.path().join("failed");
    let o = compare(viewer.to_str().unwrap(), &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("could not draw the gov model: error: no graphics adapter found"),
        "{md}"
    );

    // No viewer: how to get one.
    let out = dir.path().join("none");
    let o = compare("/nonexistent/civitas-viz", &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("CIVITAS_VIZ names /nonexistent/civitas-viz, which is not a file"),
        "{md}"
    );
}

#[test]
fn twin_registry_lists_every_device_of_the_community_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("registry.csv");
    let o = civitas(&[
        "twin",
        "registry",
        "old-small",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = civitas_scenarios::library::load("old-small").unwrap();
    let district = civitas_scenarios::runner::build_district_for(&s, 3, s.model);
    let text = std::fs::read_to_string(&out).unwrap();
    let reg = civitas_bridge::registry::read(&text, &district).expect("it reads back");
    assert_eq!(reg.len(), district.communities[0].devices.len());
    assert!(stderr(&o).contains(&format!(
        "wrote {} devices of \"old-small\" (seed 3, hybrid model)",
        reg.len()
    )));
    let o = civitas(&[
        "twin",
        "registry",
        "old-small",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("a directory; name the CSV file to write"),
        "{}",
        stderr(&o)
    );
}
