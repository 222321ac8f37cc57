//! `civitas run --live`: a community in real time (or faster), incidents printed as they
//! happen, Ctrl-C leaving a checkpoint that resumes. These tests read the wall clock:
//! a live run's pacing is what they check (a lower bound only), and a deadline keeps a
//! run that would not stop from hanging the suite.
#![allow(clippy::disallowed_methods)]

use crate::cli::{civitas, stderr};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn a_live_run_keeps_pace_with_real_time_and_prints_incidents_as_they_happen() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let started = Instant::now();
    // A day at 36,000×: 2.4 s of real time.
    let o = civitas(&[
        "run",
        "default",
        "--live",
        "--speed",
        "36000",
        "--days",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let took = started.elapsed();
    assert!(o.status.success(), "{}", stderr(&o));
    // The run's day starts at the last whole second (its calendar's start), so it ends
    // 2.4 s after that: at least 1.4 s after the command started. Unpaced, it takes 0.1 s.
    assert!(
        took >= Duration::from_millis(1400),
        "a day at 36000× must keep pace with real time: {took:?}"
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let opened = text.lines().filter(|l| l.contains(" opened ")).count();
    assert!(opened >= 1, "incidents are printed as they open:\n{text}");
    assert!(text.contains("incidents "), "then the summary:\n{text}");
    assert!(stderr(&o).contains("live: default from "), "{}", stderr(&o));
    assert!(out.join("summary.json").is_file());
}

#[test]
fn ctrl_c_leaves_a_checkpoint_that_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args([
            "run",
            "old-small",
            "--live",
            "--speed",
            "3600",
            "--days",
            "30",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("civitas starts");
    // Wait for the banner (the run is under way), then send SIGINT.
    let (tx, rx) = mpsc::channel();
    let stderr_pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let banner = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the live banner");
    assert!(banner.starts_with("live: old-small from "), "{banner}");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        // The child writes its checkpoint and results; its stderr says so.
        if rx.recv_timeout(Duration::from_millis(200)).is_err() && Instant::now() > deadline {
            let _ = child.kill();
            panic!("civitas did not stop within 60 s of SIGINT");
        }
    };
    assert_eq!(code, Some(0), "a stopped live run is a success");
    assert!(out.join("summary.json").is_file(), "results as of the stop");
    resume_the_one_checkpoint(&out.join("checkpoints"), "2", &dir.path().join("r"));
}

/// `dir` holds exactly one checkpoint, and `civitas resume` carries it on for `days`
/// into `out`.
fn resume_the_one_checkpoint(dir: &std::path::Path, days: &str, out: &std::path::Path) {
    let written: Vec<_> = std::fs::read_dir(dir)
        .expect("a checkpoint directory")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let o = civitas(&[
        "resume",
        written[0].to_str().unwrap(),
        "--days",
        days,
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn the_live_latency_benchmark_times_every_alarm_it_sends() {
    let o = civitas(&["bench", "--live", "--rate", "20", "--seconds", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("detected 20 of 20 (0 refused by a full intake)"),
        "{text}"
    );
    assert!(text.contains("inject → detected, ms: p50 "), "{text}");
    let o = civitas(&["bench", "--rate", "20"]);
    assert_eq!(o.status.code(), Some(2), "--rate needs --live");
}

/// `civitas twin bench --commands` confirms every command it times and every one of its
/// burst; bad figures are refused.
#[test]
fn the_command_benchmark_confirms_every_command_it_sends() {
    let o = civitas(&[
        "twin",
        "bench",
        "--commands",
        "--scenario",
        "old-small",
        "--rate",
        "100",
        "--seconds",
        "1",
        "--doors",
        "20",
        "--hold-ms",
        "500",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("(100 of 100 commands)"), "{text}");
    assert!(
        text.contains("20 commands at once to 20 doors (each answer held 500 ms): 20 succeeded, at most 20 open together"),
        "{text}"
    );
    let o = civitas(&["twin", "bench", "--commands", "--doors", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--doors from 1 to 100000"),
        "{}",
        stderr(&o)
    );
}

/// Lines of a child's stdout, as they come.
pub(crate) fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The port of a `broker: mqtt://127.0.0.1:PORT …` line.
pub(crate) fn broker_port(line: &str) -> u16 {
    line["broker: mqtt://127.0.0.1:".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The first device of `kind` in the generated registry of `scenario`.
fn first_device(
    scenario: &str,
    kind: civitas_twin::kinds::DeviceKind,
) -> civitas_twin::mirror::Placement {
    let s = civitas_scenarios::library::load(scenario).unwrap();
    let district = civitas_scenarios::runner::build_district_for(&s, s.seed, s.model);
    civitas_bridge::registry::generate(&district)
        .into_iter()
        .find(|p| p.kind == kind)
        .unwrap()
}

/// Publishes a raised alarm of `device` to the broker on `port`; returns the client
/// (its connection thread delivers it).
fn publish_alarm(port: u16, device: &civitas_twin::mirror::Placement) -> rumqttc::Client {
    let (client, mut connection) =
        rumqttc::Client::new(rumqttc::MqttOptions::new("smoke", "127.0.0.1", port), 10);
    std::thread::spawn(move || for _ in connection.iter() {});
    #[allow(clippy::disallowed_methods)] // a device stamps its messages with its clock
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let topic = format!(
        "civitas/v1/c0/b{}/{}/alarm",
        device.building, device.wire_id
    );
    client
        .publish(
            topic,
            rumqttc::QoS::AtLeastOnce,
            false,
            format!(r#"{{"seq":1,"ts_ms":{ts},"active":true}}"#),
        )
        .unwrap();
    client
}

/// The next line, until the child's stdout closes.
fn until_end(rx: &mpsc::Receiver<String>) -> Option<String> {
    rx.recv_timeout(Duration::from_secs(60)).ok()
}

/// `civitas twin` with no setup: the embedded broker, the simulated fleet and the twin;
/// every device of the community is mirrored.
#[test]
fn civitas_twin_alone_mirrors_its_simulated_fleet_whole() {
    // Its audit log and checkpoints go where it runs.
    let here = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .current_dir(here.path())
        .args([
            "twin",
            "old-small",
            "--port",
            "0",
            "--console",
            "127.0.0.1:0",
            "--stop-after",
            "120",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("civitas twin starts");
    let rx = lines_of(&mut child);
    let mut seen = Vec::new();
    let found = loop {
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) if line.starts_with("devices heard 146/146, online 146") => break line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("{e}: not mirrored whole in {seen:#?}"),
        }
    };
    assert!(found.contains("refused: none"), "{found}");
    assert!(
        seen.iter()
            .any(|l| l.starts_with("fleet: 146 simulated devices through ")),
        "{seen:#?}"
    );
    // Its API answers where it said.
    let api = seen
        .iter()
        .find_map(|l| l.strip_prefix("api: http://"))
        .and_then(|l| l.split('/').next())
        .expect("the API's address is printed")
        .to_string();
    let status = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&api).unwrap();
        s.write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(
        status.starts_with("HTTP/1.1 200") && status.contains("\"devices\":146"),
        "{status}"
    );
    // An operator commands a door through it: authorized, delivered, confirmed by the
    // simulated door, audited.
    let port = broker_port(seen.iter().find(|l| l.starts_with("broker: ")).unwrap());
    let door = first_device("old-small", civitas_twin::kinds::DeviceKind::AccessControl);
    let broker = format!("mqtt://127.0.0.1:{port}");
    let command = |seat: &str, action: &str| {
        Command::new(env!("CARGO_BIN_EXE_civitas"))
            .args(["twin", "command", &door.wire_id, action, "--as", seat])
            .args(["--broker", &broker, "--wait", "30"])
            .output()
            .unwrap()
    };
    let o = command("property_firm@community:0", "release_doors");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let states: Vec<&str> = out.lines().filter_map(|l| l.rsplit(": ").next()).collect();
    assert_eq!(
        states,
        ["queued", "sent", "delivered", "succeeded"],
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "release_doors → {} as property_firm@community:0: queued",
            door.wire_id
        )),
        "{out}"
    );
    let o = command("committee@community:0", "release_doors");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not allowed: committee may not command access_control devices"),
        "{}",
        stderr(&o)
    );
    let o = command("property_firm@community:0", "open_sesame");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown action \"open_sesame\"; actions: release_doors"));
    let o = command("janitor@community:0", "release_doors");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown role \"janitor\""),
        "{}",
        stderr(&o)
    );
    // The twin says so, and the audit has the command's steps and the refusal.
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(l) if l.starts_with("twin: command ") && l.ends_with(": succeeded") => break,
            Ok(l) => seen.push(l),
            Err(e) => panic!("{e}: {seen:#?}"),
        }
    }
    let audit = std::fs::read_to_string(here.path().join("twin-audit.jsonl")).unwrap();
    let events: Vec<String> = (audit.lines())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].to_string())
        .collect();
    assert_eq!(
        events,
        [
            "\"queued\"",
            "\"sent\"",
            "\"delivered\"",
            "\"succeeded\"",
            "\"refused\""
        ],
        "{audit}"
    );
    child.kill().ok();
    child.wait().ok();
}

/// `civitas fleet` publishes every device of its community to a broker it is given.
#[test]
fn civitas_fleet_publishes_every_device_to_the_broker_it_is_given() {
    use civitas_bridge::broker::EmbeddedBroker;
    let broker = EmbeddedBroker::start([127, 0, 0, 1].into(), 0).unwrap();
    let opts = rumqttc::MqttOptions::new("watch", "127.0.0.1", broker.addr.port());
    let (client, mut connection) = rumqttc::Client::new(opts, 10);
    client
        .subscribe("civitas/v1/+/+/+/availability", rumqttc::QoS::AtLeastOnce)
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for e in connection.iter() {
            match e {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    if tx.send(p.topic).is_err() {
                        break;
                    }
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                    let _ = tx.send("subscribed".into());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap(),
        "subscribed"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["fleet", "old-small", "--broker"])
        .arg(broker.url())
        .args(["--stop-after", "120"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("civitas fleet starts");
    let mut devices = std::collections::BTreeSet::new();
    while devices.len() < 146 {
        let topic = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{e}: {} devices of 146 published", devices.len()));
        devices.insert(topic);
    }
    child.kill().ok();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("146 devices through ") && stdout.contains(&broker.url()),
        "{stdout}"
    );
}

/// `civitas twin policy` prints the defaults; a policy file with faults is refused with
/// each fault.
#[test]
fn the_twin_prints_its_default_policy_and_refuses_a_faulty_one() {
    let o = civitas(&["twin", "policy"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text, civitas_bridge::policy::DEFAULT);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("policy.toml");
    std::fs::write(&bad, "version = 1\n[delivery.toaster]\nanswer = \"1s\"\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .current_dir(dir.path())
        .args([
            "twin",
            "old-small",
            "--port",
            "0",
            "--console",
            "127.0.0.1:0",
            "--policy",
        ])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("policy.toml: delivery.toaster: no device kind \"toaster\""),
        "{}",
        stderr(&o)
    );
}

/// `civitas twin rules` prints the defaults; a rules file with faults is refused with
/// each fault and its rule.
#[test]
fn the_twin_prints_its_default_rules_and_refuses_a_faulty_rules_file() {
    let o = civitas(&["twin", "rules"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("version = 1") && text.contains("[[geofence]]"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("rules.toml");
    std::fs::write(
        &bad,
        "version = 1\n[[threshold]]\nkind = \"smart_bin\"\nvalue = \"fill_ratio\"\nabove = 0.9\nraise = \"fire\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args([
            "twin",
            "old-small",
            "--port",
            "0",
            "--console",
            "127.0.0.1:0",
            "--rules",
        ])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "threshold 1 (smart_bin fill_ratio): a smart_bin cannot raise fire (it detects garbage_overflow"
        ),
        "{}",
        stderr(&o)
    );
}

/// Ctrl-C stops the twin with a checkpoint that `civitas resume` continues, and
/// `--events` has streamed what happened, headed by the run.
#[test]
fn ctrl_c_stops_the_twin_with_a_checkpoint_and_its_events_file_names_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (ck, events) = (dir.path().join("ck"), dir.path().join("twin.jsonl"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args([
            "twin",
            "old-small",
            "--port",
            "0",
            "--console",
            "127.0.0.1:0",
            "--no-fleet",
        ])
        .arg("--checkpoints")
        .arg(&ck)
        .arg("--audit")
        .arg(dir.path().join("audit.jsonl"))
        .arg("--events")
        .arg(&events)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("civitas twin starts");
    let rx = lines_of(&mut child);
    let mut seen = Vec::new();
    let mut until = |want: &dyn Fn(&str) -> bool| loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if want(&l) => return l,
            Ok(l) => seen.push(l),
            Err(e) => panic!("{e}: {seen:#?}"),
        }
    };
    let broker = until(&|l| l.starts_with("broker: mqtt://"));
    let port = broker_port(&broker);
    // A smoke alarm: an incident opens (its window is in the events file by then).
    let smoke = first_device("old-small", civitas_twin::kinds::DeviceKind::SmokeDetector);
    publish_alarm(port, &smoke);
    until(&|l| {
        l.starts_with("devices heard 1/146") && !l.contains("community 0, street 0, district 0")
    });
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rest: Vec<String> = std::iter::from_fn(|| until_end(&rx)).collect();
    assert!(
        rest.iter()
            .any(|l| l.starts_with("twin: checkpoint written to ")),
        "{rest:#?}"
    );
    resume_the_one_checkpoint(&ck, "1", &dir.path().join("r"));
    let text = std::fs::read_to_string(&events).unwrap();
    let (run, windows) =
        civitas_twin::vocab::events::read_stream_with_run(&text).expect("the events file reads");
    let run = run.expect("its header names the run");
    assert_eq!((run.seed, run.model.as_str()), (1, "hybrid"));
    assert!(!windows.is_empty(), "windows as they happened");
}

/// An audit log the twin cannot write is refused before anything starts: commands are
/// never sent unaudited.
#[test]
fn an_audit_log_that_cannot_be_written_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .current_dir(dir.path())
        .args([
            "twin",
            "old-small",
            "--port",
            "0",
            "--console",
            "127.0.0.1:0",
            "--audit",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(the audit log of commands must be writable)"),
        "{}",
        stderr(&o)
    );
}

/// The operator API on an address that is not loopback is refused, saying why.
#[test]
fn the_console_is_refused_on_an_address_that_is_not_loopback() {
    let o = civitas(&[
        "twin",
        "old-small",
        "--port",
        "0",
        "--console",
        "0.0.0.0:8080",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--console: the console listens on loopback only (0.0.0.0:8080 is not): it has no authentication yet"),
        "{}",
        stderr(&o)
    );
}

/// A broker URL that cannot be used is refused with what is wrong.
#[test]
fn a_bad_broker_url_is_refused_with_the_reason() {
    for (args, why) in [
        (
            &["twin", "--broker", "tcp://h:1"][..],
            "expected mqtt://host[:port]",
        ),
        (
            &["fleet", "--broker", "mqtt://h", "--ca", "Cargo.toml"][..],
            "is not TLS",
        ),
        (
            &["twin", "--broker", "mqtt://h", "--port", "1"][..],
            "cannot be used with",
        ),
    ] {
        let o = civitas(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
}

/// `civitas twin`: an operator starts it, a device publishes an alarm over MQTT, the
/// status line shows the incident open in the loops.
#[test]
fn civitas_twin_shows_an_alarm_published_over_mqtt_as_an_open_incident() {
    use std::io::BufRead;
    let here = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .current_dir(here.path())
        .args([
            "twin",
            "old-small",
            "--port",
            "0",
            "--console",
            "127.0.0.1:0",
            "--no-fleet",
            "--stop-after",
            "120",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("civitas twin starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait = std::time::Duration::from_secs(30);
    let mut seen = Vec::new();
    let mut until = |want: &dyn Fn(&str) -> bool| -> String {
        loop {
            match rx.recv_timeout(wait) {
                Ok(line) if want(&line) => return line,
                Ok(line) => seen.push(line),
                Err(e) => panic!("{e}: nothing expected in {seen:#?}"),
            }
        }
    };
    let broker = until(&|l| l.starts_with("broker: mqtt://"));
    let port = broker_port(&broker);
    // The first status line: nothing heard yet.
    until(&|l| l.starts_with("devices heard 0/"));
    // A smoke detector of the generated registry raises an alarm.
    let smoke = first_device("old-small", civitas_twin::kinds::DeviceKind::SmokeDetector);
    let client = publish_alarm(port, &smoke);
    let line =
        until(&|l| l.contains("messages 1 ") && !l.contains("community 0, street 0, district 0"));
    assert!(line.contains("devices heard 1/146"), "{line}");
    assert!(line.contains("refused: none"), "{line}");
    // A malformed message: counted on the status line, logged once on stderr.
    let bad = format!("civitas/v1/c0/b{}/{}/state", smoke.building, smoke.wire_id);
    for _ in 0..3 {
        client
            .publish(bad.as_str(), rumqttc::QoS::AtLeastOnce, false, "{not json")
            .unwrap();
    }
    until(&|l| l.contains("refused: malformed_json 3"));
    child.kill().ok();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("twin: refused (malformed_json)").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("twin: refused (malformed_json): {bad}")),
        "{stderr}"
    );
}

#[test]
fn civitas_twin_bench_counts_every_message_it_publishes() {
    let o = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args([
            "twin",
            "bench",
            "--messages",
            "2000",
            "--devices",
            "50",
            "--publishers",
            "2",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("ingest: 2000 telemetry messages at QoS 1 from 50 devices (2 publishers)")
            && out.contains("2000 applied, 0 refused"),
        "{out}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["twin", "bench", "--messages", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("must be above 0"));
}

/// `civitas twin bench --latency` times every alarm it sends, under load, to the stream.
#[test]
fn the_twin_latency_benchmark_times_every_alarm_through_mqtt_to_the_stream() {
    let o = civitas(&[
        "twin",
        "bench",
        "--latency",
        "--rate",
        "1000",
        "--seconds",
        "2",
        "--scenario",
        "old-small",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}{out}", stderr(&o));
    assert!(
        out.contains("alarm latency while 1000 telemetry messages a second flow (2000 published"),
        "{out}"
    );
    assert!(
        out.contains("publish → detected in the stream, ms: p50 ")
            && out.contains("(20 of 20 alarms)"),
        "{out}"
    );
    for (args, why) in [
        (
            &["twin", "bench", "--latency", "--rate", "0"][..],
            "--rate must be above 0",
        ),
        (&["twin", "bench", "--rate", "10"][..], "--latency"),
    ] {
        let o = civitas(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
    }
}

/// A person at `civitas run --live`'s prompt: told what a line it cannot read should be,
/// acts on a case as the organisation holding it (accepted, or refused with the reason),
/// and the actions go into `injects.jsonl`, which with the live run's `scenario.toml`
/// replays on the simulated clock to the same incidents.
#[test]
fn at_the_live_prompt_a_person_acts_through_the_organisations_and_the_run_replays() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    // A day at 7,200×: 12 s; a case's handling (an hour or more) takes half a second.
    let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["run", "default", "--live", "--speed", "7200", "--days", "1"])
        .args(["--out", out.to_str().unwrap()])
        .env("CIVITAS_VIZ", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("civitas starts");
    let mut stdin = child.stdin.take().unwrap();
    let rx = lines_of(&mut child);
    writeln!(stdin, "ack 999999999\nfly to the moon\nlist").unwrap();
    let (mut answers, mut escalated) = (Vec::new(), 0);
    while let Some(line) = until_end(&rx) {
        if let Some(answer) = line.strip_prefix("operator: ") {
            if answer.starts_with("escalate #") {
                escalated += 1;
            }
            answers.push(answer.to_string());
        } else if line.contains("dispatched to the ") && escalated == 0 {
            // Escalate the first cases dispatched until one is accepted.
            let id = line
                .split('#')
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            writeln!(stdin, "escalate {id} beyond_capacity").unwrap();
        }
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(
        answers[..2],
        [
            "no open incident's id ends in 999999999 (`list` shows them)".to_string(),
            "unknown command `fly`: `help` lists them".to_string(),
        ]
    );
    assert!(answers[2].starts_with("open incidents: "), "{answers:?}");
    // Each escalation was accepted or refused with its reason, never silently.
    for a in &answers[3..] {
        assert!(
            a.starts_with("escalate #")
                || a.starts_with("refused: ")
                || a.contains("not been dispatched yet"),
            "{a}"
        );
    }
    assert!(escalated >= 1, "an escalation was accepted: {answers:?}");
    let log = std::fs::read_to_string(out.join("injects.jsonl")).unwrap();
    let acts: Vec<&str> = log.lines().filter(|l| l.contains("\"act\"")).collect();
    assert_eq!(acts.len(), escalated, "{log}");
    assert!(
        acts.iter()
            .all(|l| l.contains("\"source_name\":\"operator\"")),
        "{log}"
    );
    // The same run on the simulated clock, from the live run's scenario and log.
    let replay = dir.path().join("r");
    let o = civitas(&[
        "run",
        out.join("scenario.toml").to_str().unwrap(),
        "--days",
        "1",
        "--injects",
        out.join("injects.jsonl").to_str().unwrap(),
        "--out",
        replay.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |d: &std::path::Path| std::fs::read_to_string(d.join("incidents.csv")).unwrap();
    assert_eq!(read(&replay), read(&out));
}
