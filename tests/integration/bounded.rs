//! Bounded inputs and work from the command line: files that are devices, FIFOs or too
//! large, and worlds too big for the memory, are refused before anything is read or
//! generated, with the file, the limit or the estimate in the message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `civitas args` with `CIVITAS_MEMORY_LIMIT` set to `limit` (or unset).
fn civitas_with(limit: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_civitas"));
    // No pictures from a viewer that happens to be built beside the binary.
    c.env("CIVITAS_VIZ", "off");
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

const HUGE: &str = "schema_version = 1\nextends = \"haishu-district\"\nname = \"huge\"\n[district]\nstreet_offices = 800\ncommunities = 10000\nresidents = 50000000\n";

#[test]
fn a_world_too_big_for_the_memory_is_refused_before_anything_is_generated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let huge = dir.path().join("huge.toml");
    std::fs::write(&huge, HUGE).expect("write");
    let huge = huge.to_str().expect("utf-8 path");
    let out = dir.path().join("out");
    let hint = "run a smaller world, or set CIVITAS_MEMORY_LIMIT (e.g. CIVITAS_MEMORY_LIMIT=64G, or unlimited) to override";
    let check = civitas_with(Some("8G"), &["scenario", "check", huge]);
    fails_with(
        &check,
        &format!(
            "error: a run of \"huge\" (30 days) needs about 14.9 GiB of memory at its peak (estimated from the world's size), but 8.0 GiB is available; {hint}"
        ),
    );
    let run = civitas_with(
        Some("8G"),
        &[
            "run",
            huge,
            "--days",
            "1",
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    fails_with(
        &run,
        "error: a run of \"huge\" (1 day) needs about 14.3 GiB of memory at its peak",
    );
    assert!(!out.exists(), "nothing is written before the refusal");
    let compare = civitas_with(
        Some("8G"),
        &[
            "compare", huge, "--years", "1", "--seeds", "2", "--jobs", "2",
        ],
    );
    fails_with(
        &compare,
        "error: 2 runs at a time of \"huge\" (365 days each) needs about",
    );
    // The default community fits in 8 GiB, and check prints the estimate.
    let batch = dir.path().join("b.toml");
    std::fs::write(
        &batch,
        "schema_version = 1\nname = \"b\"\nbase = \"huge.toml\"\nyears = 1\nmaster_seed = 1\nreplications = 1\n[design]\nkind = \"grid\"\n[[parameters]]\npath = \"district.residents\"\nvalues = [40000000, 50000000]\n",
    )
    .expect("write");
    fails_with(
        &civitas_with(
            Some("8G"),
            &[
                "batch",
                batch.to_str().expect("utf-8"),
                "--jobs",
                "1",
                "--out",
                out.to_str().expect("utf-8"),
            ],
        ),
        "error: a run of \"huge\" (365 days) needs about 22.4 GiB of memory at its peak",
    );
    assert!(!out.exists(), "nothing is written before the refusal");
    let ok = civitas_with(Some("unlimited"), &["scenario", "check", huge]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout),
        format!(
            "{huge}: ok — \"huge\", district of 10000 communities, 50000000 residents, 30 days, about 14.9 GiB of memory at its peak\n"
        )
    );
    fails_with(
        &civitas_with(Some("lots"), &["scenario", "check", huge]),
        "CIVITAS_MEMORY_LIMIT: expected a number of bytes such as 8G or 512M, or `unlimited`, found \"lots\"",
    );
}
