//! Bounded inputs from the command line: files that are devices, FIFOs or too large are
//! refused before anything is read, with the file and the limit in the message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `civitas args` with `CIVITAS_MEMORY_LIMIT` set to `limit` (or unset).
fn civitas_with(limit: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_civitas"));
    c.args(args).env_remove("CIVITAS_MEMORY_LIMIT");
    if let Some(l) = limit {
        c.env("CIVITAS_MEMORY_LIMIT", l);
    }
    c.output().expect("civitas runs")
}

fn fails_with(o: &Output, expect: &str) {
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "should fail with {expect}");
    assert!(e.contains(expect), "expected {expect:?} in:\n{e}");
    assert!(!e.contains("panicked"), "{e}");
}

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let ok = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo made {}", p.display());
    p
}

#[test]
fn devices_fifos_and_oversized_files_are_refused_by_every_command_that_reads_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pipe = fifo(dir.path(), "pipe.toml");
    let pipe = pipe.to_str().expect("utf-8 path");
    let big = dir.path().join("big.jsonl");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(300 << 20))
        .expect("sparse file");
    let big = big.to_str().expect("utf-8 path");
    let out = dir.path().join("out");
    let out = out.to_str().expect("utf-8 path");
    let not_regular = |p: &str, what: &str, kind: &str| {
        format!("{p}: cannot read the {what}: it is {kind}, not a regular file")
    };
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["scenario", "check", "/dev/zero"],
            not_regular("/dev/zero", "scenario file", "a character device"),
        ),
        (
            vec!["scenario", "check", "/dev/urandom"],
            not_regular("/dev/urandom", "scenario file", "a character device"),
        ),
        (
            vec!["scenario", "check", pipe],
            not_regular(pipe, "scenario file", "a FIFO"),
        ),
        (
            vec!["run", pipe, "--out", out],
            not_regular(pipe, "scenario file", "a FIFO"),
        ),
        (
            vec![
                "run",
                "default",
                "--days",
                "1",
                "--injects",
                "/dev/zero",
                "--out",
                out,
            ],
            not_regular("/dev/zero", "inject log", "a character device"),
        ),
        (
            vec![
                "run",
                "default",
                "--days",
                "1",
                "--injects",
                pipe,
                "--out",
                out,
            ],
            not_regular(pipe, "inject log", "a FIFO"),
        ),
        (
            vec![
                "run",
                "default",
                "--days",
                "1",
                "--injects",
                big,
                "--out",
                out,
            ],
            format!(
                "{big}: cannot read the inject log: it holds 300.0 MiB, over the limit of 256.0 MiB"
            ),
        ),
        (
            vec!["resume", "/dev/zero"],
            not_regular("/dev/zero", "checkpoint", "a character device"),
        ),
        (
            vec!["resume", pipe],
            not_regular(pipe, "checkpoint", "a FIFO"),
        ),
        (
            vec!["batch", pipe, "--out", out],
            not_regular(pipe, "batch file", "a FIFO"),
        ),
    ];
    for (args, expect) in cases {
        fails_with(&civitas_with(None, &args), &expect);
    }
}
