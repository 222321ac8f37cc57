//! `civitas twin`: the live twin — an embedded MQTT broker, the community's actors on the
//! wall clock fed by its devices (`civitas_bridge::twin`), and a status line; and
//! `civitas twin registry`, the device registry of a generated community.

use super::{Input, bad_input, create_dir, write_file};
use crate::cli::{FleetArgs, TwinArgs, TwinCommand};
use anyhow::{Context, Result, anyhow};
use civitas_bridge::broker::{BrokerUrl, EmbeddedBroker};
use civitas_bridge::commands::{Origin, State};
use civitas_bridge::fleet::{self, FleetOptions};
use civitas_bridge::forward::Report;
use civitas_bridge::ingest::Observed;
use civitas_bridge::registry;
use civitas_bridge::rules::Rules;
use civitas_bridge::twin::{self, TwinOptions};
use civitas_scenarios::file::Scenario;
use civitas_scenarios::library;
use civitas_scenarios::runner::build_district_for;
use civitas_twin::mirror::{Availability, Placement, Refusal};
use civitas_twin::view::{Holder, TwinView};
use civitas_twin::vocab::events::StreamRun;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest rules file read.
const RULES_FILE: civitas_scenarios::input::FileLimit = civitas_scenarios::input::FileLimit {
    what: "rules file",
    max_bytes: 1 << 20,
};

/// Largest policy file read.
const POLICY_FILE: civitas_scenarios::input::FileLimit = civitas_scenarios::input::FileLimit {
    what: "policy file",
    max_bytes: 1 << 20,
};

/// Largest registry file read (64 MiB: about a million devices).
const REGISTRY_FILE: civitas_scenarios::input::FileLimit = civitas_scenarios::input::FileLimit {
    what: "device registry",
    max_bytes: 64 << 20,
};

/// Runs `twin` or one of its subcommands.
pub(super) fn twin(a: TwinArgs) -> Result<()> {
    match a.command {
        Some(TwinCommand::Registry {
            scenario,
            seed,
            model,
            out,
        }) => write_registry(&scenario, seed, model, out),
        Some(TwinCommand::Bench {
            latency: true,
            rate,
            seconds,
            scenario,
            ..
        }) => latency_bench(&scenario, rate, seconds),
        Some(TwinCommand::Bench {
            commands: true,
            rate,
            seconds,
            scenario,
            doors,
            hold_ms,
            broker,
            ..
        }) => commands_bench(&scenario, rate, seconds, doors, hold_ms, broker),
        Some(TwinCommand::Bench {
            messages,
            devices,
            publishers,
            ..
        }) => bench(messages, devices, publishers),
        Some(TwinCommand::Rules) => {
            print!("{}", civitas_bridge::rules::DEFAULT);
            Ok(())
        }
        Some(TwinCommand::Policy) => {
            print!("{}", civitas_bridge::policy::DEFAULT);
            Ok(())
        }
        Some(TwinCommand::Command {
            device,
            action,
            seat,
            broker,
            ca,
            wait,
        }) => command(&device, action, seat, with_ca(broker, ca.as_deref())?, wait),
        None => run(a),
    }
}

/// The fleet's answers from the command line.
fn answers(a: &crate::cli::AnswerArgs) -> civitas_bridge::fleet::Answers {
    civitas_bridge::fleet::Answers {
        delay: Duration::from_millis(a.answer_delay_ms),
        loss: a.answer_loss,
        failure: a.answer_failure,
        sleep: a.sleep.iter().copied().collect(),
    }
}

/// `civitas twin command`: asks the running twin, prints each step, and exits by how the
/// command ended.
fn command(
    device: &str,
    action: civitas_twin::kinds::CommandAction,
    seat: civitas_bridge::policy::Seat,
    broker: BrokerUrl,
    wait: u64,
) -> Result<()> {
    use civitas_bridge::ops::{self, ErrorKind, Request};
    let request = Request {
        request: format!(
            "cli-{}-{:x}",
            std::process::id(),
            civitas_bridge::ingest::wall_ms()
        ),
        device: device.to_string(),
        action: action.as_str().to_string(),
        seat: seat.to_string(),
    };
    let last = runtime()?.block_on(ops::ask(
        &broker,
        &request,
        Duration::from_secs(wait),
        |r| {
            if let (Some(id), Some(state)) = (&r.command, r.state) {
                let reason = r
                    .reason
                    .as_deref()
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default();
                println!(
                    "{id} {action} → {device} as {seat}: {}{reason}",
                    state.as_str()
                );
            }
        },
    ));
    let last = last.map_err(|e| anyhow!("{e}"))?;
    match (&last.error, last.state) {
        (Some(e), _) if e.kind == ErrorKind::Denied => Err(anyhow!("{}", e.message)),
        (Some(e), _) => Err(bad_input(anyhow!("{}", e.message))),
        (None, Some(State::Succeeded)) => Ok(()),
        (None, state) => Err(anyhow!(
            "the command {} did not succeed: {}",
            last.command.as_deref().unwrap_or("?"),
            state.map_or("unknown", State::as_str)
        )),
    }
}

fn load(scenario: &Path) -> Result<Scenario> {
    let s = library::load(scenario).map_err(|e| bad_input(anyhow!("{e}")))?;
    crate::plan::check_memory(&s, 1, 1, false)?;
    Ok(s)
}

fn write_registry(
    scenario: &Path,
    seed: Option<u64>,
    model: Option<civitas_twin::kinds::InvestmentModel>,
    out: Option<PathBuf>,
) -> Result<()> {
    let s = load(scenario)?;
    let seed = seed.unwrap_or(s.seed);
    let model = model.unwrap_or(s.model);
    let placements = placements(&s, seed, model, None)?;
    let csv = registry::to_csv(&placements);
    match out {
        None => print!("{csv}"),
        Some(path) => {
            if path.is_dir() {
                return Err(bad_input(anyhow!(
                    "--out {}: a directory; name the CSV file to write",
                    path.display()
                )));
            }
            write_file(&path, csv)?;
            eprintln!(
                "wrote {} devices of {:?} (seed {seed}, {model} model) to {}",
                placements.len(),
                s.name,
                path.display()
            );
        }
    }
    Ok(())
}

/// What the status line counts.
#[derive(Debug, Default)]
struct Status {
    messages: u64,
    refused: std::collections::BTreeMap<Refusal, u64>,
    view: TwinView,
    /// Connected but silent.
    quiet: bool,
    /// Commands taken, and how many ended in each state.
    commands: u64,
    ended: std::collections::BTreeMap<State, u64>,
    /// Commands taken and not ended.
    seen_queued: std::collections::HashSet<String>,
}

impl Status {
    /// Counts a command's state change; the line to print when it was taken or ended.
    fn command(&mut self, r: &Report) -> Option<String> {
        let state = r.state?;
        if state == State::Queued && !self.seen_queued.insert(r.id.clone()) {
            // Back in the queue for a retry: not a new command.
            return None;
        }
        if state == State::Queued {
            self.commands += 1;
        } else if state.terminal() {
            self.seen_queued.remove(&r.id);
            *self.ended.entry(state).or_insert(0) += 1;
        } else {
            return None;
        }
        let who = match &r.origin {
            Origin::Actors { incident, .. } => format!("incident {incident}"),
            Origin::Operator { seat } => seat.clone(),
        };
        let what = if state == State::Queued {
            "queued"
        } else {
            state.as_str()
        };
        Some(format!(
            "twin: command {} {} → {} ({who}): {what}",
            r.id, r.action, r.device
        ))
    }

    fn line(&self, heard: usize, online: usize, devices: usize, per_sec: f64) -> String {
        let open = self.view.open_by_holder();
        let n = |h| open.get(&h).copied().unwrap_or(0);
        let refused = if self.refused.is_empty() {
            "none".to_string()
        } else {
            self.refused
                .iter()
                .map(|(r, n)| format!("{} {n}", r.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let ended: u64 = self.ended.values().sum();
        let commands = if self.commands == 0 {
            "none".to_string()
        } else {
            let mut parts = vec![format!("{} open", self.commands - ended)];
            parts.extend(
                self.ended
                    .iter()
                    .map(|(s, n)| format!("{} {n}", s.as_str())),
            );
            parts.join(", ")
        };
        format!(
            "devices heard {heard}/{devices}, online {online} | messages {} ({per_sec:.0}/s){} | refused: {refused} | open incidents: community {}, street {}, district {}, unnoticed {} | closed {} | commands: {commands}",
            self.messages,
            if self.quiet {
                ", connected but silent"
            } else {
                ""
            },
            n(Holder::Community),
            n(Holder::Street),
            n(Holder::District),
            n(Holder::Unnoticed),
            self.view.closed(),
        )
    }
}

/// The devices of `registry` (checked against the district), or every device of the
/// scenario's district with generated wire ids.
fn placements(
    s: &Scenario,
    seed: u64,
    model: civitas_twin::kinds::InvestmentModel,
    registry: Option<&Path>,
) -> Result<Vec<Placement>> {
    let district = build_district_for(s, seed, model);
    match registry {
        None => Ok(registry::generate(&district)),
        Some(path) => {
            let text = civitas_scenarios::input::read_text(path, REGISTRY_FILE)
                .map_err(|e| bad_input(anyhow!("{e}")))?;
            registry::read(&text, &district)
                .map_err(|errors| bad_input(anyhow!("{}: {}", path.display(), errors.join("; "))))
        }
    }
}

/// `broker`, its TLS checked against the CA file `ca` if given.
fn with_ca(broker: BrokerUrl, ca: Option<&Path>) -> Result<BrokerUrl> {
    let Some(path) = ca else { return Ok(broker) };
    let pem = civitas_scenarios::input::read_text(path, CA_FILE).input()?;
    broker
        .with_ca(pem.as_bytes(), &path.display().to_string())
        .map_err(|e| bad_input(anyhow!(e)))
}

/// Largest CA file read.
const CA_FILE: civitas_scenarios::input::FileLimit = civitas_scenarios::input::FileLimit {
    what: "CA certificate file",
    max_bytes: 1 << 20,
};

/// Resolves after `stop_after` seconds, or at Ctrl-C.
async fn stop_signal(stop_after: Option<u64>) {
    match stop_after {
        Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// How long the twin waits for its first subscription before starting the fleet anyway.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(10);

fn run(a: TwinArgs) -> Result<()> {
    let s = load(a.scenario.as_deref().unwrap_or(Path::new("default")))?;
    let seed = a.seed.unwrap_or(s.seed);
    let model = a.model.unwrap_or(s.model);
    let placements = placements(&s, seed, model, a.registry.as_deref())?;
    let devices = placements.len();
    let rules = match &a.rules {
        None => None,
        Some(path) => {
            let text = civitas_scenarios::input::read_text(path, RULES_FILE)
                .map_err(|e| bad_input(anyhow!("{e}")))?;
            Some(Rules::parse(&text, &s.parameters).map_err(|errors| {
                bad_input(anyhow!("{}: {}", path.display(), errors.join("; ")))
            })?)
        }
    };
    let policy = match &a.policy {
        None => civitas_bridge::policy::Policy::defaults(),
        Some(path) => {
            let text = civitas_scenarios::input::read_text(path, POLICY_FILE)
                .map_err(|e| bad_input(anyhow!("{e}")))?;
            civitas_bridge::policy::Policy::parse(&text)
                .map_err(|errors| bad_input(anyhow!("{}: {}", path.display(), errors.join("; "))))?
        }
    };
    if !a.console.ip().is_loopback() {
        return Err(bad_input(anyhow!(
            "--console: {}",
            civitas_bridge::api::ServeError::NotLoopback(a.console)
        )));
    }
    // Ctrl-C writes into it: a file in its place is refused now, not then.
    super::refuse_file_as_dir(&a.checkpoints)?;
    if let Err(e) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.audit)
    {
        return Err(bad_input(anyhow!(
            "--audit {}: {e} (the audit log of commands must be writable)",
            a.audit.display()
        )));
    }
    let mut events_out = match &a.events {
        None => None,
        Some(p) => Some(std::io::BufWriter::new(
            civitas_scenarios::input::open_stream(p, "event stream").input()?,
        )),
    };
    let (broker, embedded) = match a.broker.clone() {
        Some(url) => (with_ca(url, a.ca.as_deref())?, None),
        None => {
            let b = EmbeddedBroker::start(a.bind, a.port)
                .with_context(|| "the embedded MQTT broker could not start".to_string())?;
            (b.endpoint(), Some(b))
        }
    };
    runtime()?.block_on(async move {
        let mut opts = TwinOptions::new(s.clone(), placements.clone(), broker.clone());
        opts.seed = seed;
        opts.model = model;
        opts.rules = rules;
        opts.audit = Some(a.audit.clone());
        opts.policy = policy;
        opts.console = Some(a.console);
        opts.speed = a.speed;
        let horizon = opts.horizon;
        let mut tw = twin::start(opts).await?;
        let mut events_failed = None;
        if let Some(out) = events_out.as_mut() {
            let header = civitas_twin::vocab::events::stream_header_with(&StreamRun {
                scenario_toml: tw.scenario.to_toml(),
                seed,
                model,
            });
            if let Err(e) = writeln!(out, "{header}").and_then(|()| out.flush()) {
                events_failed = Some(e);
            }
        }
        println!(
            "twin: {} ({model} model, seed {seed}), {devices} devices in the registry; only what devices report happens",
            s.name
        );
        match &embedded {
            Some(b) => println!(
                "broker: {} (embedded) — watch it with: mosquitto_sub -h {} -p {} -v -t 'civitas/v1/#'",
                b.url(),
                b.addr.ip(),
                b.addr.port()
            ),
            None => println!("broker: {broker} (external)"),
        }
        println!("publish: civitas/v1/<community>/<building>/<device>/<telemetry|state|alarm|availability|ack> (docs/guide-operator.md)");
        if let Some(c) = tw.console {
            println!(
                "api: http://{c}/api/v1/status — devices, incidents and actions, commands, a live stream, metrics at /metrics (docs/guide-operator.md; loopback only)"
            );
        }
        println!(
            "commands: to devices on …/<device>/command, audited in {}; an operator's: civitas twin command DEVICE ACTION --as ROLE@AREA{}",
            a.audit.display(),
            match &embedded {
                Some(b) if b.addr.port() != 1883 => format!(" --broker {}", b.url()),
                Some(_) => String::new(),
                None => format!(" --broker {broker}"),
            }
        );
        if tokio::time::timeout(SUBSCRIBE_WAIT, tw.ingest.subscribed.wait_for(|s| *s)).await.is_err() {
            eprintln!("twin: not subscribed to {broker} after {} s; still trying", SUBSCRIBE_WAIT.as_secs());
        }
        let fleet = if a.no_fleet {
            None
        } else {
            let mut f = FleetOptions::new(s.clone(), placements, broker.clone());
            (f.seed, f.model, f.speed) = (seed, model, a.fleet_speed);
            f.answers = answers(&a.answers);
            let f = fleet::start(f).await?;
            println!(
                "fleet: {} simulated devices through {} gateways, the model at {}× real time (--no-fleet for real devices only)",
                f.devices,
                f.gateways,
                a.fleet_speed
            );
            Some(f)
        };
        let mut status = Status::default();
        // Refusals are counted in the status line and logged at most every 10 s per reason.
        let mut refusals = civitas_bridge::ingest::RefusalLog::new(10_000);
        #[allow(clippy::disallowed_methods)] // the log's pace and the rate are real time
        let started = std::time::Instant::now();
        let mut last = String::new();
        let mut rate = Rate::default();
        let mut tick = tokio::time::interval(STATUS_EVERY);
        let stop = stop_signal(a.stop_after);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                w = tw.events.recv() => {
                    let Some(w) = w else { break };
                    if let Some(out) = events_out.as_mut().filter(|_| events_failed.is_none())
                        && let Err(e) = serde_json::to_writer(&mut *out, &*w)
                            .map_err(std::io::Error::from)
                            .and_then(|()| out.write_all(b"\n"))
                            .and_then(|()| out.flush())
                    {
                        eprintln!("twin: the event stream could not be written ({e}); the twin carries on without it");
                        events_failed = Some(e);
                    }
                    let mut changes = Vec::new();
                    for e in &w.events {
                        status.view.apply(e, &mut changes);
                    }
                }
                o = tw.observed.recv() => {
                    match o {
                        Some(
                            Observed::Applied { .. }
                            | Observed::Availability { .. }
                            | Observed::Ack { .. }
                            | Observed::CommandHeard { .. },
                        ) => status.messages += 1,
                        Some(Observed::Gateway { route, availability, devices }) => {
                            status.messages += 1;
                            eprintln!(
                                "twin: gateway {route} is {}: {} devices with it",
                                format!("{availability:?}").to_lowercase(),
                                devices.len()
                            );
                        }
                        Some(Observed::Refused { why, topic }) => {
                            status.messages += 1;
                            *status.refused.entry(why).or_insert(0) += 1;
                            if let Some(line) = refusals.note(why, &topic, started.elapsed().as_millis() as i64) {
                                eprintln!("twin: {line}");
                            }
                        }
                        Some(Observed::Disconnected(e)) => eprintln!("twin: the broker connection failed ({e}); reconnecting"),
                        Some(Observed::ConnectedButSilent { for_ms }) => {
                            status.quiet = true;
                            eprintln!(
                                "twin: connected but silent: nothing on civitas/v1/# for {:.0} s although its devices were sending; subscribing again",
                                for_ms as f64 / 1000.0
                            );
                        }
                        Some(Observed::Flowing) => {
                            status.quiet = false;
                            eprintln!("twin: messages arrive again");
                        }
                        Some(Observed::Subscribed) => {}
                        None => break,
                    }
                }
                r = tw.command_reports.recv() => {
                    let Some(r) = r else { break };
                    if let Some(line) = status.command(&r) {
                        println!("{line}");
                    }
                }
                _ = tick.tick() => {
                    let (heard, online) = match tw.ingest.mirror.lock() {
                        Ok(m) => (
                            m.devices().iter().filter(|d| d.last_seen.is_some()).count(),
                            m.devices().iter().filter(|d| d.availability == Availability::Online).count(),
                        ),
                        Err(_) => break,
                    };
                    let per_sec = rate.per_sec(status.messages, started.elapsed());
                    let line = status.line(heard, online, devices, per_sec);
                    if line != last {
                        println!("{line}");
                        last = line;
                    }
                }
            }
        }
        if let Some(f) = fleet {
            f.handle.stop().await.ok();
        }
        if a.stop_after.is_none() {
            // Ctrl-C: the actors' state as of now, with the incidents still open.
            match checkpoint(&tw, &a.checkpoints, seed, model, horizon).await {
                Ok(path) => println!("twin: checkpoint written to {} (civitas resume continues it as a simulation)", path.display()),
                Err(e) => eprintln!("twin: no checkpoint written: {e}"),
            }
        }
        tw.handle.stop().await.ok();
        println!("twin: stopped");
        Ok::<(), anyhow::Error>(())
    })
}

/// Writes the twin's checkpoint into `dir`, named by the simulated time reached.
async fn checkpoint(
    tw: &twin::RunningTwin,
    dir: &Path,
    seed: u64,
    model: civitas_twin::kinds::InvestmentModel,
    horizon: civitas_twin::time::SimTime,
) -> Result<PathBuf> {
    use civitas_scenarios::checkpoint::{self, Checkpoint};
    let engine = tw.handle.checkpoint().await?;
    let path = dir.join(checkpoint::file_name(engine.now));
    let ck = Checkpoint {
        scenario: tw.scenario.clone(),
        options: civitas_scenarios::runner::RunOptions {
            seed,
            horizon,
            workers: 2,
            model,
        },
        engine,
    };
    create_dir(dir)?;
    ck.write(&path)?;
    Ok(path)
}

/// How often the status line is considered (printed when it changed).
const STATUS_EVERY: Duration = Duration::from_secs(2);

/// Messages per second since the last status line.
#[derive(Debug, Default)]
struct Rate {
    last: (u64, Duration),
}

impl Rate {
    fn per_sec(&mut self, count: u64, now: Duration) -> f64 {
        let (c0, t0) = std::mem::replace(&mut self.last, (count, now));
        let dt = (now - t0).as_secs_f64();
        if dt > 0.0 {
            (count - c0) as f64 / dt
        } else {
            0.0
        }
    }
}

/// `civitas fleet`: the simulated devices of a community, publishing to a broker.
pub(super) fn fleet(a: FleetArgs) -> Result<()> {
    let s = load(&a.scenario)?;
    let seed = a.seed.unwrap_or(s.seed);
    let model = a.model.unwrap_or(s.model);
    let placements = placements(&s, seed, model, a.registry.as_deref())?;
    let broker = with_ca(a.broker.clone(), a.ca.as_deref())?;
    runtime()?.block_on(async move {
        let mut opts = FleetOptions::new(s.clone(), placements, broker.clone());
        (opts.seed, opts.model, opts.speed) = (seed, model, a.speed);
        opts.answers = answers(&a.answers);
        let f = fleet::start(opts).await?;
        println!(
            "fleet: {} ({model} model, seed {seed}): {} devices through {} gateways to {}, the model at {}× real time",
            s.name, f.devices, f.gateways, broker, a.speed
        );
        let mut tick = tokio::time::interval(STATUS_EVERY);
        let stop = stop_signal(a.stop_after);
        tokio::pin!(stop);
        let mut last = String::new();
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tick.tick() => {
                    let n = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
                    let line = format!(
                        "published {} | alarms {} | devices gone offline {} | publishes failed {} | commands {} (carried out {}, unheard {})",
                        n(&f.stats.published), n(&f.stats.alarms), n(&f.stats.offline), n(&f.stats.failed),
                        n(&f.stats.commands), n(&f.stats.carried_out), n(&f.stats.unheard)
                    );
                    if line != last {
                        println!("{line}");
                        last = line;
                    }
                }
            }
        }
        f.handle.stop().await.ok();
        println!("fleet: stopped");
        Ok::<(), anyhow::Error>(())
    })
}

fn commands_bench(
    scenario: &Path,
    rate: u64,
    seconds: u64,
    doors: usize,
    hold_ms: u64,
    broker: Option<BrokerUrl>,
) -> Result<()> {
    if !(1..=3_600).contains(&seconds) || !(1..=100_000).contains(&doors) || hold_ms > 60_000 {
        return Err(bad_input(anyhow!(
            "--seconds must be from 1 to 3600, --doors from 1 to 100000 and --hold-ms at most 60000"
        )));
    }
    let s = load(scenario)?;
    let b = runtime()?
        .block_on(civitas_bridge::bench::command_round_trip(
            s,
            rate,
            seconds,
            doors,
            Duration::from_millis(hold_ms),
            broker,
        ))
        .map_err(|e| anyhow!("{e}"))?;
    let q = civitas_bridge::bench::quantile_ms;
    let v = &b.round_trip_us;
    println!(
        "command round trips while {} telemetry messages a second flow ({} published, {} handled by the twin in {seconds} s):",
        b.rate, b.telemetry, b.handled
    );
    println!(
        "  taken → confirmed by the door, ms: p50 {:.2}, p95 {:.2}, p99 {:.2}, max {:.2} ({} of {} commands)",
        q(v, 0.5),
        q(v, 0.95),
        q(v, 0.99),
        q(v, 1.0),
        v.len(),
        b.timed
    );
    println!(
        "{} commands at once to {} doors (each answer held {hold_ms} ms): {} succeeded, at most {} open together, all in {:.2} s",
        b.in_flight,
        b.in_flight,
        b.in_flight_succeeded,
        b.most_open,
        b.in_flight_elapsed.as_secs_f64()
    );
    if v.len() < b.timed || b.in_flight_succeeded < b.in_flight {
        return Err(anyhow!(
            "commands lost: {} of {} timed round trips and {} of {} in the burst did not succeed",
            b.timed - v.len(),
            b.timed,
            b.in_flight - b.in_flight_succeeded,
            b.in_flight
        ));
    }
    Ok(())
}

fn latency_bench(scenario: &Path, rate: u64, seconds: u64) -> Result<()> {
    if rate == 0 || !(1..=3_600).contains(&seconds) {
        return Err(bad_input(anyhow!(
            "--rate must be above 0 and --seconds from 1 to 3600"
        )));
    }
    let s = load(scenario)?;
    let l = runtime()?
        .block_on(civitas_bridge::bench::alarm_latency(
            s,
            rate,
            seconds,
            Duration::from_millis(100),
        ))
        .map_err(|e| anyhow!("{e}"))?;
    let q = civitas_bridge::bench::quantile_ms;
    let line = |what: &str, v: &[u64]| {
        format!(
            "{what}, ms: p50 {:.2}, p95 {:.2}, p99 {:.2}, max {:.2} ({} of {} alarms)",
            q(v, 0.5),
            q(v, 0.95),
            q(v, 0.99),
            q(v, 1.0),
            v.len(),
            l.alarms
        )
    };
    println!(
        "alarm latency while {} telemetry messages a second flow ({} published, {} handled by the twin in {seconds} s):",
        l.rate, l.telemetry, l.handled
    );
    println!("  {}", line("publish → mirrored", &l.ingest_us));
    println!(
        "  {}",
        line("publish → detected in the stream", &l.detected_us)
    );
    if l.detected_us.len() < l.alarms {
        return Err(anyhow!(
            "{} of {} alarms never reached the stream",
            l.alarms - l.detected_us.len(),
            l.alarms
        ));
    }
    Ok(())
}

fn bench(messages: u64, devices: usize, publishers: usize) -> Result<()> {
    if messages == 0 || devices == 0 || publishers == 0 {
        return Err(bad_input(anyhow!(
            "--messages, --devices and --publishers must be above 0"
        )));
    }
    let t = runtime()?
        .block_on(civitas_bridge::bench::ingest_throughput(
            messages, devices, publishers,
        ))
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "ingest: {} telemetry messages at QoS 1 from {} devices ({publishers} publishers) through the embedded broker in {:.2} s: {:.0} messages/s, {} applied, {} refused; peak memory {} MiB",
        t.messages,
        t.devices,
        t.elapsed.as_secs_f64(),
        t.rate(),
        t.applied,
        t.messages - t.applied,
        super::peak_rss().map_or("?".into(), |k| (k / 1024).to_string()),
    );
    Ok(())
}
