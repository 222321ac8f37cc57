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
    use crate::twin::{self, TwinOptions};
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
    let mut tw = twin::start(TwinOptions::new(scenario, reg, broker.endpoint()))
        .await
        .map_err(|e| e.to_string())?;
    tokio::time::timeout(
        Duration::from_secs(10),
        tw.ingest.subscribed.wait_for(|s| *s),
    )
    .await
    .map_err(|_| "the twin did not subscribe within 10 s".to_string())?
    .map_err(|e| e.to_string())?;
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
    // The load: `rate` a second in 1 ms ticks.
    let load = client("bench-load");
    let total = rate * seconds;
    let loader = tokio::spawn(async move {
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
                if load
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
    });
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
