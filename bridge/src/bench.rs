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
