//! Bounded input: scenario, batch and checkpoint files that are devices, FIFOs or too
//! large are refused before they are read, with the file and the limit in the message.

use civitas_scenarios::Scenario;
use civitas_scenarios::batch::Batch;
use civitas_scenarios::checkpoint::Checkpoint;
use std::path::{Path, PathBuf};

fn scenario_error(path: &Path) -> String {
    match Scenario::from_path(path) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(e) => e.to_string(),
    }
}

/// A FIFO in `dir`, made with `mkfifo` (nothing ever writes to it: a reader that
/// opened and read it would get nothing, so a test of it cannot hang either way).
fn fifo(dir: &Path) -> PathBuf {
    let p = dir.join("pipe.toml");
    let ok = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo made {}", p.display());
    p
}

/// A sparse file of `bytes` bytes (nothing is written, so it is quick however large).
fn sized(dir: &Path, name: &str, bytes: u64) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .and_then(|f| f.set_len(bytes))
        .expect("sparse file");
    p
}

#[test]
fn a_device_is_refused_as_a_scenario_file_before_it_is_read() {
    for dev in ["/dev/zero", "/dev/urandom"] {
        assert_eq!(
            scenario_error(Path::new(dev)),
            format!(
                "{dev}: cannot read the scenario file: it is a character device, not a regular file"
            )
        );
    }
}

#[test]
fn a_fifo_is_refused_as_a_scenario_file_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = fifo(dir.path());
    assert_eq!(
        scenario_error(&p),
        format!(
            "{}: cannot read the scenario file: it is a FIFO, not a regular file",
            p.display()
        )
    );
}

#[test]
fn a_scenario_file_over_4_mib_is_refused_with_its_size_and_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = sized(dir.path(), "big.toml", 50 << 20);
    assert_eq!(
        scenario_error(&p),
        format!(
            "{}: cannot read the scenario file: it holds 50.0 MiB, over the limit of 4.0 MiB",
            p.display()
        )
    );
    // At the limit it is read (and then rejected for what it says, not for its size).
    let p = sized(dir.path(), "at-limit.toml", 4 << 20);
    assert!(
        !scenario_error(&p).contains("over the limit"),
        "{}",
        scenario_error(&p)
    );
}

#[test]
fn a_file_that_reads_longer_than_its_metadata_says_stops_at_the_limit() {
    // /proc files report a length of 0 and hold more: the read itself is bounded.
    let limit = civitas_scenarios::input::FileLimit {
        what: "test file",
        max_bytes: 16,
    };
    let e = civitas_scenarios::input::read_text(Path::new("/proc/self/status"), limit)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "/proc/self/status: cannot read the test file: it holds more than 16 bytes, over the limit of 16 bytes"
    );
}

#[test]
fn batch_files_and_their_base_are_bounded_like_scenario_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = Batch::from_path(Path::new("/dev/zero"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "/dev/zero: cannot read the batch file: it is a character device, not a regular file"
    );
    let p = sized(dir.path(), "big-batch.toml", 5 << 20);
    let e = Batch::from_path(&p).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}: cannot read the batch file: it holds 5.0 MiB, over the limit of 4.0 MiB",
            p.display()
        )
    );
    let base = fifo(dir.path());
    let text = "schema_version = 1\nname = \"b\"\nbase = \"pipe.toml\"\nyears = 1\nmaster_seed = 1\nreplications = 1\n[design]\nkind = \"grid\"\n[[parameters]]\npath = \"days\"\nvalues = [1]\n";
    let e = Batch::from_str(text, &dir.path().join("b.toml"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{}: cannot read the scenario file: it is a FIFO, not a regular file",
            base.display()
        )
    );
}

#[test]
fn a_checkpoint_that_is_a_device_or_a_fifo_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = Checkpoint::read(Path::new("/dev/zero"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "/dev/zero: cannot read the checkpoint: it is a character device, not a regular file"
    );
    let p = fifo(dir.path());
    let e = Checkpoint::read(&p).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}: cannot read the checkpoint: it is a FIFO, not a regular file",
            p.display()
        )
    );
}
