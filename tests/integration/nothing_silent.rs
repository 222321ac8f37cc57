//! Nothing silently wrong (issue 23): every case here once ran to exit 0 with a wrong or
//! lost result. Each is now refused with its reason and exit 2, or warned about.

use crate::cli::{civitas, day_one_checkpoint, stderr};

/// A fire in building 3 of community 0 at simulated second `at`, as an inject record.
fn fire_at(at: u64) -> String {
    format!(
        r#"{{"at":{at},"to":{{"building":{{"community":0,"building":3}}}},"inject":{{"incident":{{"kind":"fire","household":null}}}}}}"#
    )
}

/// Runs `args`, expects exit 2 and stderr to be exactly `error: {message}`.
fn refused<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S], message: &str) {
    let o = civitas(args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
    assert_eq!(e.trim_end(), format!("error: {message}"), "{args:?}");
}

#[test]
fn the_event_stream_never_overwrites_an_input_or_another_output() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let log = p("same.jsonl");
    std::fs::write(&log, fire_at(600) + "\n").unwrap();
    let scenario = p("s.toml");
    let o = civitas(&["scenario", "show", "old-small"]);
    std::fs::write(&scenario, &o.stdout).unwrap();
    fn run<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["run", "old-small", "--days", "2", "-q"];
        a.extend_from_slice(extra);
        a
    }
    refused(
        &run(&["--injects", &log, "--events", &log]),
        &format!(
            "--events {log}: that is the inject log given by --injects; write the event stream to a file of its own"
        ),
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        fire_at(600) + "\n",
        "the inject log is untouched"
    );
    // Another spelling of an output that does not exist yet.
    let o_dir = p("o");
    let summary = format!("{}/./summary.json", o_dir);
    refused(
        &run(&["--out", &o_dir, "--events", &summary]),
        &format!(
            "--events {summary}: that is the run's summary.json; write the event stream to a file of its own"
        ),
    );
    refused(
        &[
            "run", &scenario, "--days", "2", "-q", "--out", &o_dir, "--events", &scenario,
        ],
        &format!(
            "--events {scenario}: that is the scenario file; write the event stream to a file of its own"
        ),
    );
    let ck_dir = p("ck");
    let inside = format!("{ck_dir}/events.jsonl");
    refused(
        &run(&[
            "--checkpoint-every",
            "1d",
            "--checkpoint-dir",
            &ck_dir,
            "--events",
            &inside,
        ]),
        &format!(
            "--events {inside}: that is in the run's checkpoint directory; write the event stream to a file of its own"
        ),
    );
    let d = dir.path().to_str().unwrap();
    refused(
        &run(&["--out", &o_dir, "--events", d]),
        &format!("{d}: cannot write the event stream: it is a directory"),
    );
    // Resume: the checkpoint it reads.
    let o = civitas(&run(&["--out", &o_dir, "--checkpoint-every", "1d"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let ck = format!("{o_dir}/checkpoints/checkpoint-day-00001.ckpt");
    let before = std::fs::read(&ck).unwrap();
    refused(
        &["resume", &ck, "--out", &p("r"), "-q", "--events", &ck],
        &format!(
            "--events {ck}: that is the checkpoint being resumed; write the event stream to a file of its own"
        ),
    );
    assert_eq!(
        std::fs::read(&ck).unwrap(),
        before,
        "the checkpoint is untouched"
    );
}

#[test]
fn an_event_stream_into_a_fifo_without_a_reader_is_refused_instead_of_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("events.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let f = fifo.to_str().unwrap();
    let out = dir.path().join("o");
    refused(
        &[
            "run",
            "old-small",
            "--days",
            "1",
            "-q",
            "--out",
            out.to_str().unwrap(),
            "--events",
            f,
        ],
        &format!(
            "{f}: cannot write the event stream: it is a FIFO with no reader; start its reader first"
        ),
    );
}

#[test]
fn injects_after_the_horizon_are_counted_in_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let log = p("late.jsonl");
    // Day 1 (delivered), then day 5 and day 9 of a 5-day run (not delivered).
    let text = [
        fire_at(86_400),
        String::new(),
        fire_at(5 * 86_400),
        fire_at(9 * 86_400),
    ]
    .join("\n");
    std::fs::write(&log, text).unwrap();
    let o = civitas(&[
        "run",
        "old-small",
        "--days",
        "5",
        "--injects",
        &log,
        "--out",
        &p("o"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "warning: {log}: 2 injects at or after the horizon (simulated day 5) are not delivered (first on line 3)"
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn inject_records_are_refused_with_their_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |log: &str| {
        vec![
            "run".to_string(),
            "old-small".into(),
            "--days".into(),
            "3".into(),
            "--injects".into(),
            log.into(),
            "-q".into(),
            "--out".into(),
            p("o"),
        ]
    };
    let check = |name: &str, lines: &[String], message: &str| {
        let log = p(name);
        std::fs::write(&log, lines.join("\n")).unwrap();
        refused(&run(&log), &format!("{log}: {message}"));
    };
    check(
        "typo.jsonl",
        &[fire_at(600).replace("\"at\"", "\"sorce_name\":\"x\",\"at\"")],
        "line 1: unknown field `sorce_name`, expected one of `at`, `source`, `source_name`, `seq`, `to`, `inject`, `pass` at line 1 column 13",
    );
    check(
        "nowhere.jsonl",
        &[
            fire_at(600),
            String::new(),
            fire_at(700).replace("\"building\":3", "\"building\":99999"),
        ],
        "line 3: no such destination: building 99999 in community 0 (it has 14)",
    );
    check(
        "two_devices.jsonl",
        &[r#"{"at":600,"to":{"device":{"community":0,"device":5}},"inject":{"device":{"device":7,"state":"failed"}}}"#.to_string()],
        "line 1: no such destination: the record goes to device 5 (`to.device`) but reports the state of device 7 (`inject.device`); they must name the same device",
    );
}

#[test]
fn a_fork_refuses_by_name_what_it_cannot_change() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let ck = day_one_checkpoint(&p("o"));
    let fork = |set: &str| {
        vec![
            "fork".to_string(),
            ck.clone(),
            "--set".into(),
            set.into(),
            "--out".into(),
            p("f"),
            "-q".into(),
        ]
    };
    for (set, message) in [
        (
            "seed=7",
            "--set: seed cannot be changed by a fork (it fixes the world; start a new run)",
        ),
        (
            "days=30",
            "--set: days cannot be changed by a fork (the checkpoint's run fixes it; give the new horizon with --days or --years)",
        ),
        (
            "community.residents=9000",
            "--set: community.residents cannot be changed by a fork (it changes the world built at the run's start: its residents, buildings, devices or staff; start a new run)",
        ),
        (
            "parameters.staffing.committee_day=9",
            "--set: parameters.staffing.committee_day cannot be changed by a fork (it changes the world built at the run's start: its residents, buildings, devices or staff; start a new run)",
        ),
        (
            "community.elderly_share=7",
            "--set community.elderly_share=7: expected a share between 0 and 1, found 7",
        ),
    ] {
        refused(&fork(set), message);
    }
    assert!(!dir.path().join("f").exists(), "nothing was written");
}

#[test]
fn a_merge_of_missing_foreign_or_incomplete_shards_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let batch = p("small.toml");
    std::fs::write(&batch, crate::cli::SMALL_BATCH).unwrap();
    let other = p("other.toml");
    std::fs::write(
        &other,
        crate::cli::SMALL_BATCH.replace("master_seed = 1", "master_seed = 2"),
    )
    .unwrap();
    for (file, out) in [(&batch, "s1"), (&other, "o1")] {
        let o = civitas(&["batch", file, "--shard", "1/2", "--out", &p(out), "-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let merged = p("m");
    let merge = |dirs: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["batch", "merge", "--batch", &batch, "--out", &merged]
            .map(String::from)
            .to_vec();
        a.extend(dirs.iter().map(|d| d.to_string()));
        a
    };
    let missing = p("nowhere");
    refused(
        &merge(&[&p("s1"), &missing]),
        &format!("{missing}: not a batch directory: no such directory"),
    );
    let o1 = p("o1");
    let o = civitas(&merge(&[&p("s1"), &o1]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!(
            "error: {o1}: a shard of another batch (batch_hash "
        )),
        "{}",
        stderr(&o)
    );
    refused(
        &merge(&[&p("s1")]),
        &format!(
            "{merged}: 1 of 2 runs are missing from the directories given (the first is p000001-r0000); merge every shard"
        ),
    );
    assert!(
        !dir.path().join("m").exists(),
        "a refused merge writes nothing"
    );
}

#[test]
fn an_over_long_scenario_name_is_refused_by_the_scenario_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.toml");
    let text = String::from_utf8(civitas(&["scenario", "show", "old-small"]).stdout).unwrap();
    let long = "x".repeat(300);
    let text = text.replacen("name = \"old-small\"", &format!("name = \"{long}\""), 1);
    assert!(text.contains(&long), "the preset names itself");
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    for cmd in [vec!["scenario", "check", f], vec!["run", f, "--days", "1"]] {
        let o = civitas(&cmd);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "{f}:6: name: expected a name of at most 60 characters (it names the output directory), found 300"
            )),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn a_resumed_run_writes_checkpoints_too_identical_to_the_uninterrupted_runs() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let o = civitas(&[
        "run",
        "old-small",
        "--days",
        "4",
        "--checkpoint-every",
        "1d",
        "--out",
        &p("whole"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Resume from day 1, writing checkpoints again; then resume the resumed run's day 2.
    let o = civitas(&[
        "resume",
        &p("whole/checkpoints/checkpoint-day-00001.ckpt"),
        "--checkpoint-every",
        "1d",
        "--out",
        &p("again"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for day in ["00002", "00003"] {
        let name = format!("checkpoints/checkpoint-day-{day}.ckpt");
        assert_eq!(
            std::fs::read(dir.path().join("whole").join(&name)).unwrap(),
            std::fs::read(dir.path().join("again").join(&name)).unwrap(),
            "{name}"
        );
    }
    let o = civitas(&[
        "fork",
        &p("again/checkpoints/checkpoint-day-00002.ckpt"),
        "--out",
        &p("last"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["summary.json", "incidents.csv", "injects.jsonl"] {
        assert_eq!(
            std::fs::read(dir.path().join("whole").join(f)).unwrap(),
            std::fs::read(dir.path().join("last").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_batch_with_a_bad_value_anywhere_is_refused_before_its_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let file = p("bad.toml");
    std::fs::write(
        &file,
        crate::cli::SMALL_BATCH.replace("values = [0.0005, 0.001]", "values = [0.0005, -2]"),
    )
    .unwrap();
    let out = p("o");
    refused(
        &["batch", &file, "--out", &out, "-q"],
        &format!("{file}: parameters[0].values[1]: expected a number from 0 to 10000, found -2"),
    );
    assert!(
        !dir.path().join("o").join("runs").exists(),
        "no run was made"
    );
    let twice = p("twice.toml");
    std::fs::write(
        &twice,
        format!(
            "{}\n[[parameters]]\npath = \"parameters.incidents.fire.rate\"\nvalues = [0.001]\n",
            crate::cli::SMALL_BATCH
        ),
    )
    .unwrap();
    refused(
        &["batch", &twice, "--out", &out, "-q"],
        &format!(
            "{twice}: parameters[1].path: `parameters.incidents.fire.rate` is already varied by parameters[0]; each path may be varied once"
        ),
    );
}
