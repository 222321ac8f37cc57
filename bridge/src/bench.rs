//! Ingest throughput: telemetry published at QoS 1 through the embedded broker, validated
//! and mirrored, timed from the first publish until ingest has handled the last
//! (`civitas twin bench`). The figures are in `docs/PERFORMANCE.md`.

use crate::broker::EmbeddedBroker;
use crate::ingest::{self, IngestOptions};
use crate::wire::{Channel, topic};
use civitas_twin::kinds::DeviceKind;
use civitas_twin::mirror::{Mirror, MirrorLimits, Placement};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// One measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    /// Messages published.
    pub messages: u64,
    /// Devices they came from (each its own wire id in the mirror).
    pub devices: usize,
    /// From the first publish to the last message handled.
    pub elapsed: Duration,
    /// Messages applied to the mirror (the rest refused: none expected).
    pub applied: u64,
}

impl Throughput {
    /// Messages per second.
    pub fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Publishes `messages` telemetry readings at QoS 1, round-robin over `devices` devices,
/// from `publishers` clients, and times ingest handling all of them.
#[allow(clippy::disallowed_methods)] // a benchmark reads the wall clock
pub async fn ingest_throughput(
    messages: u64,
    devices: usize,
    publishers: usize,
) -> Result<Throughput, String> {
    let broker =
        EmbeddedBroker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0).map_err(|e| e.to_string())?;
    let placements: Vec<Placement> = (0..devices)
        .map(|i| Placement {
            wire_id: format!("bench-{i:06}"),
            community: 0,
            building: 0,
            device: i as u32,
            kind: DeviceKind::SmartMeter,
        })
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    // Reports are not needed: drain them.
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let mut ing = ingest::start(
        IngestOptions {
            broker: broker.endpoint(),
            client_id: "bench-twin".into(),
            keep_alive: Duration::from_secs(30),
        },
        Mirror::new(placements, MirrorLimits::default()),
        tx,
        ingest::wall_ms,
    );
    tokio::time::timeout(Duration::from_secs(10), ing.subscribed.wait_for(|s| *s))
        .await
        .map_err(|_| "ingest did not subscribe within 10 s".to_string())?
        .map_err(|e| e.to_string())?;
    let ts = ingest::wall_ms();
    let start = Instant::now();
    let publishers = publishers.max(1);
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let mut opts = MqttOptions::new(
            format!("bench-pub-{p}"),
            broker.addr.ip().to_string(),
            broker.addr.port(),
        );
        opts.set_inflight(1000);
        let (client, mut events) = AsyncClient::new(opts, 10_000);
        tokio::spawn(async move { while events.poll().await.is_ok() {} });
        // Each device publishes through one client, so its readings arrive in order.
        tasks.push(tokio::spawn(async move {
            for k in 0..messages {
                let d = (k % devices as u64) as usize;
                if d % publishers != p {
                    continue;
                }
                let seq = k / devices as u64 + 1;
                let payload = format!(
                    r#"{{"seq":{seq},"ts_ms":{ts},"values":{{"energy_kwh":{}.5}}}}"#,
                    k % 1000
                );
                let t = topic("c0", "b0", &format!("bench-{d:06}"), Channel::Telemetry);
                if client
                    .publish(t, QoS::AtLeastOnce, false, payload)
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())?;
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while ing.handled.load(Ordering::Relaxed) < messages {
        if Instant::now() > deadline {
            return Err(format!(
                "ingest handled {} of {messages} messages in 600 s",
                ing.handled.load(Ordering::Relaxed)
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = start.elapsed();
    let refused: u64 = ing
        .mirror
        .lock()
        .map(|m| m.refused().values().sum())
        .unwrap_or(0);
    Ok(Throughput {
        messages,
        devices,
        elapsed,
        applied: messages - refused,
    })
}

/// Alarm latency under load: alarms timed from their publish until the twin's observe
/// stream says the device raised them, while telemetry flows at a steady rate.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmLatency {
    /// Telemetry messages published per second (the load).
    pub rate: u64,
    /// Telemetry messages published in all.
    pub telemetry: u64,
    /// Alarms sent.
    pub alarms: usize,
    /// Publish → applied to the mirror (ingest), each alarm, sorted (µs).
    pub ingest_us: Vec<u64>,
    /// Publish → the device's alarm in the observe stream, each alarm, sorted (µs).
    pub detected_us: Vec<u64>,
    /// Telemetry handled by ingest by the end (of `telemetry` published).
    pub handled: u64,
}

/// Telemetry from `meters` at `rate` messages a second for `seconds`, in 1 ms ticks,
/// through `client`; resolves to the number published.
#[allow(clippy::disallowed_methods)] // a benchmark reads the wall clock
fn load(
    client: AsyncClient,
    meters: Vec<Placement>,
    rate: u64,
    seconds: u64,
) -> tokio::task::JoinHandle<u64> {
    let total = rate * seconds;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let start = Instant::now();
        let mut sent = 0u64;
        while sent < total {
            tick.tick().await;
            let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
            while sent < due {
                let m = &meters[(sent % meters.len() as u64) as usize];
                let seq = sent / meters.len() as u64 + 1;
                let payload = format!(
                    r#"{{"seq":{seq},"ts_ms":{},"values":{{"energy_kwh":{}.5}}}}"#,
                    ingest::wall_ms(),
                    sent % 1000
                );
                let t = topic(
                    "c0",
                    &format!("b{}", m.building),
                    &m.wire_id,
                    Channel::Telemetry,
                );
                if client
                    .publish(t, QoS::AtLeastOnce, false, payload)
                    .await
                    .is_err()
                {
                    return sent;
                }
                sent += 1;
            }
        }
        sent
    })
}

/// The twin started with `opts`, once subscribed to its broker (within 10 s).
async fn subscribed(opts: crate::twin::TwinOptions) -> Result<crate::twin::RunningTwin, String> {
    let mut tw = crate::twin::start(opts).await.map_err(|e| e.to_string())?;
    tokio::time::timeout(
        Duration::from_secs(10),
        tw.ingest.subscribed.wait_for(|s| *s),
    )
    .await
    .map_err(|_| "the twin did not subscribe within 10 s".to_string())?
    .map_err(|e| e.to_string())?;
    Ok(tw)
}

/// The `q` quantile of sorted microseconds, in milliseconds.
pub fn quantile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    sorted_us[i] as f64 / 1000.0
}

/// The twin of `scenario` on an embedded broker; telemetry from its devices at
/// `rate` messages a second for `seconds`, and meanwhile an alarm from a different smoke
/// detector every `alarm_every`; each alarm timed to ingest and to the observe stream.
#[allow(clippy::disallowed_methods)] // a benchmark reads the wall clock
pub async fn alarm_latency(
    scenario: civitas_scenarios::file::Scenario,
    rate: u64,
    seconds: u64,
    alarm_every: Duration,
) -> Result<AlarmLatency, String> {
    use crate::registry;
    use crate::twin::TwinOptions;
    use civitas_twin::mirror::Applied;
    use civitas_twin::vocab::events::{DeviceState, Event};
    use std::collections::HashMap;
    let broker =
        EmbeddedBroker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0).map_err(|e| e.to_string())?;
    let district =
        civitas_scenarios::runner::build_district_for(&scenario, scenario.seed, scenario.model);
    let reg = registry::generate(&district);
    // The load comes from every device but the smoke detectors (which raise the alarms).
    let meters: Vec<Placement> = reg
        .iter()
        .filter(|p| p.kind != DeviceKind::SmokeDetector)
        .cloned()
        .collect();
    let smoke: Vec<Placement> = reg
        .iter()
        .filter(|p| p.kind == DeviceKind::SmokeDetector)
        .cloned()
        .collect();
    let alarms = ((seconds as f64 / alarm_every.as_secs_f64()) as usize).min(smoke.len());
    if meters.is_empty() || alarms == 0 {
        return Err(format!(
            "{} has {} devices besides its {} smoke detectors: the benchmark needs both",
            scenario.name,
            meters.len(),
            smoke.len()
        ));
    }
    let mut tw = subscribed(TwinOptions::new(scenario, reg, broker.endpoint())).await?;
    let client = |id: &str| {
        let mut o = MqttOptions::new(id, broker.addr.ip().to_string(), broker.addr.port());
        o.set_inflight(1000);
        let (c, mut events) = AsyncClient::new(o, 10_000);
        let mut network = rumqttc::NetworkOptions::new();
        network.set_tcp_nodelay(true);
        events.set_network_options(network);
        tokio::spawn(async move { while events.poll().await.is_ok() {} });
        c
    };
    let loader = load(client("bench-load"), meters, rate, seconds);
    // The alarms, each from its own detector, timed at publish.
    let alarm_client = client("bench-alarms");
    let sent: std::sync::Arc<std::sync::Mutex<HashMap<u32, Instant>>> = Default::default();
    let sender = {
        let sent = sent.clone();
        let smoke = smoke.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(alarm_every);
            tick.tick().await;
            for p in smoke.iter().take(alarms) {
                tick.tick().await;
                let t = topic(
                    "c0",
                    &format!("b{}", p.building),
                    &p.wire_id,
                    Channel::Alarm,
                );
                let payload = format!(
                    r#"{{"seq":1,"ts_ms":{},"active":true,"kind":"fire"}}"#,
                    ingest::wall_ms()
                );
                if let Ok(mut s) = sent.lock() {
                    s.insert(p.device, Instant::now());
                }
                if alarm_client
                    .publish(t, QoS::AtLeastOnce, false, payload)
                    .await
                    .is_err()
                {
                    return;
                }
            }
        })
    };
    let (mut ingest_us, mut detected_us) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(seconds + 30);
    let since = |device: u32| {
        sent.lock()
            .ok()
            .and_then(|s| s.get(&device).map(|t| t.elapsed().as_micros() as u64))
    };
    while detected_us.len() < alarms && Instant::now() < deadline {
        tokio::select! {
            o = tw.observed.recv() => {
                if let Some(ingest::Observed::Applied { placement, applied: Applied::AlarmRaised(_) }) = o
                    && let Some(us) = since(placement.device)
                {
                    ingest_us.push(us);
                }
            }
            w = tw.events.recv() => {
                let Some(w) = w else { break };
                for e in &w.events {
                    if let Event::Device { device, state: DeviceState::Alarm, .. } = e
                        && let Some(us) = since(*device)
                    {
                        detected_us.push(us);
                    }
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => break,
        }
    }
    sender.abort();
    let telemetry = loader.await.map_err(|e| e.to_string())?;
    let handled = tw.ingest.handled.load(Ordering::Relaxed);
    tw.handle.stop().await.ok();
    ingest_us.sort_unstable();
    detected_us.sort_unstable();
    Ok(AlarmLatency {
        rate,
        telemetry,
        alarms,
        ingest_us,
        detected_us,
        handled,
    })
}

/// Command round trips under load, and many commands in flight at once.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandBench {
    /// Telemetry messages published per second meanwhile (the load).
    pub rate: u64,
    /// Telemetry messages published in all.
    pub telemetry: u64,
    /// Telemetry handled by the twin's ingest by the end.
    pub handled: u64,
    /// Commands timed one by one under the load.
    pub timed: usize,
    /// Each one's taken → `succeeded` (µs), sorted.
    pub round_trip_us: Vec<u64>,
    /// Commands sent at once, to as many devices.
    pub in_flight: usize,
    /// How many of those succeeded.
    pub in_flight_succeeded: usize,
    /// The most that were open at the same time.
    pub most_open: usize,
    /// From the first taken to the last succeeded.
    pub in_flight_elapsed: Duration,
}

/// The twin of `scenario` with `doors` access-control devices and 10,000 meters of its
/// own on `broker` (None: an embedded one); a device simulator that answers every command `received`
/// and `succeeded` at once (for the burst, after holding each answer `hold`); telemetry
/// from the meters at `rate` a second for `seconds` while a command goes to the next
/// door every 10 ms, each timed from taken to succeeded; then `doors` commands at once,
/// one to each door.
#[allow(clippy::disallowed_methods)] // a benchmark reads the wall clock
pub async fn command_round_trip(
    scenario: civitas_scenarios::file::Scenario,
    rate: u64,
    seconds: u64,
    doors: usize,
    hold: Duration,
    broker: Option<crate::broker::BrokerUrl>,
) -> Result<CommandBench, String> {
    use crate::commands::State;
    use crate::policy::Seat;
    use crate::twin::TwinOptions;
    use civitas_twin::kinds::CommandAction;
    use std::collections::HashMap;
    let broker = match broker {
        Some(b) => b,
        None => EmbeddedBroker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)
            .map_err(|e| e.to_string())?
            .endpoint(),
    };
    let place = |wire_id: String, i: usize, kind| Placement {
        wire_id,
        community: 0,
        building: (i % 50) as u32,
        device: 1_000_000 + i as u32,
        kind,
    };
    let door_ids: Vec<Placement> = (0..doors)
        .map(|i| place(format!("bench-door-{i:05}"), i, DeviceKind::AccessControl))
        .collect();
    let meters: Vec<Placement> = (0..10_000)
        .map(|i| place(format!("bench-meter-{i:05}"), i, DeviceKind::SmartMeter))
        .collect();
    let registry: Vec<Placement> = door_ids.iter().chain(&meters).cloned().collect();
    let mut tw = subscribed(TwinOptions::new(scenario, registry, broker.clone())).await?;
    let client = |id: &str| {
        let mut o = broker.options(id.to_string(), Duration::from_secs(30));
        o.set_inflight(1000);
        o.set_max_packet_size(64 * 1024, 64 * 1024);
        let (c, events) = AsyncClient::new(o, 10_000);
        (c, events)
    };
    // The doors: one gateway answering for all of them.
    let (gateway, mut gateway_events) = client("bench-doors");
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    gateway_events.set_network_options(network.clone());
    gateway
        .subscribe("civitas/v1/+/+/+/command", QoS::AtLeastOnce)
        .await
        .map_err(|e| e.to_string())?;
    let holding = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let hold_ms = holding.clone();
    let answerer = gateway.clone();
    let (subscribed_tx, subscribed_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut subscribed_tx = Some(subscribed_tx);
        loop {
            match gateway_events.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                    if let Some(s) = subscribed_tx.take() {
                        let _ = s.send(());
                    }
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let Ok(c) = serde_json::from_slice::<crate::wire::CommandPayload>(&p.payload)
                    else {
                        continue;
                    };
                    let ack = p.topic.replace("/command", "/ack");
                    let answer = answerer.clone();
                    let hold = Duration::from_millis(hold_ms.load(Ordering::Relaxed));
                    let send = async move {
                        for status in ["received", "succeeded"] {
                            if status == "succeeded" && !hold.is_zero() {
                                tokio::time::sleep(hold).await;
                            }
                            let body = format!(
                                r#"{{"id":"{}","status":"{status}","ts_ms":{}}}"#,
                                c.id,
                                ingest::wall_ms()
                            );
                            let _ = answer.publish(&ack, QoS::AtLeastOnce, false, body).await;
                        }
                    };
                    if hold.is_zero() {
                        send.await;
                    } else {
                        tokio::spawn(send);
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), subscribed_rx)
        .await
        .map_err(|_| "the doors did not subscribe within 10 s".to_string())?
        .map_err(|e| e.to_string())?;
    // Every door says it is online, and the twin hears it.
    for d in &door_ids {
        let t = topic(
            "c0",
            &format!("b{}", d.building),
            &d.wire_id,
            Channel::Availability,
        );
        gateway
            .publish(t, QoS::AtLeastOnce, false, r#"{"state":"online"}"#)
            .await
            .map_err(|e| e.to_string())?;
    }
    let heard = || {
        tw.ingest.mirror.lock().map_or(0, |m| {
            (door_ids.iter())
                .filter(|d| m.get(&d.wire_id).is_some_and(|x| x.last_seen.is_some()))
                .count()
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while heard() < doors {
        if Instant::now() > deadline {
            return Err(format!(
                "the twin heard {} of {doors} doors in 30 s",
                heard()
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The load.
    let (load_client, mut load_events) = client("bench-load");
    load_events.set_network_options(network);
    tokio::spawn(async move { while load_events.poll().await.is_ok() {} });
    let loader = load(load_client, meters, rate, seconds);
    let seat: Seat = "property_firm@community:0"
        .parse()
        .map_err(|e: String| e.to_string())?;
    // Round trips, one every 10 ms, each to the next door (alternately released and
    // locked, so a door is never asked twice for the same).
    let started: std::sync::Arc<std::sync::Mutex<HashMap<String, Instant>>> = Default::default();
    let submitter = {
        let (commands, started, door_ids) =
            (tw.commands.clone(), started.clone(), door_ids.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let n = (seconds * 100) as usize;
            for k in 0..n {
                tick.tick().await;
                let d = &door_ids[k % door_ids.len()];
                let action = if (k / door_ids.len()) % 2 == 0 {
                    CommandAction::ReleaseDoors
                } else {
                    CommandAction::LockDoors
                };
                let t = Instant::now();
                if let Ok(id) = commands.submit(&d.wire_id, action, seat).await
                    && let Ok(mut s) = started.lock()
                {
                    s.insert(id, t);
                }
            }
            n
        })
    };
    let mut round_trip_us = Vec::new();
    let wanted = (seconds * 100) as usize;
    let deadline = Instant::now() + Duration::from_secs(seconds + 30);
    while round_trip_us.len() < wanted && Instant::now() < deadline {
        tokio::select! {
            r = tw.command_reports.recv() => {
                let Some(r) = r else { break };
                if r.state == Some(State::Succeeded)
                    && let Some(t) = started.lock().ok().and_then(|mut s| s.remove(&r.id))
                {
                    round_trip_us.push(t.elapsed().as_micros() as u64);
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => break,
        }
    }
    let timed = submitter.await.map_err(|e| e.to_string())?;
    let telemetry = loader.await.map_err(|e| e.to_string())?;
    round_trip_us.sort_unstable();
    // The burst: one command to every door at once, each answer held.
    holding.store(hold.as_millis() as u64, Ordering::Relaxed);
    let burst_start = Instant::now();
    let mut ids = std::collections::HashSet::new();
    for (k, d) in door_ids.iter().enumerate() {
        let action = if k % 2 == 0 {
            CommandAction::ReleaseDoors
        } else {
            CommandAction::LockDoors
        };
        if let Ok(id) = tw.commands.submit(&d.wire_id, action, seat).await {
            ids.insert(id);
        }
    }
    let (mut succeeded, mut open, mut most_open) = (0usize, 0usize, 0usize);
    let deadline = Instant::now() + Duration::from_secs(60);
    while succeeded < ids.len() && Instant::now() < deadline {
        tokio::select! {
            r = tw.command_reports.recv() => {
                let Some(r) = r else { break };
                if !ids.contains(&r.id) {
                    continue;
                }
                match r.state {
                    Some(State::Queued) => {
                        open += 1;
                        most_open = most_open.max(open);
                    }
                    Some(State::Succeeded) => {
                        succeeded += 1;
                        open = open.saturating_sub(1);
                    }
                    Some(s) if s.terminal() => open = open.saturating_sub(1),
                    _ => {}
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => break,
        }
    }
    let in_flight_elapsed = burst_start.elapsed();
    let handled = tw.ingest.handled.load(Ordering::Relaxed);
    tw.handle.stop().await.ok();
    Ok(CommandBench {
        rate,
        telemetry,
        handled,
        timed,
        round_trip_us,
        in_flight: doors,
        in_flight_succeeded: succeeded,
        most_open,
        in_flight_elapsed,
    })
}
