#![allow(missing_docs)] // criterion_group! generates an undocumented function
//! Criterion bench for the live twin's ingest without MQTT: one telemetry message parsed
//! from its topic and JSON, validated and applied to a mirror of 100,000 devices
//! (`civitas_bridge::ingest::handle`) — the twin's own share of a message's cost.
//! `cargo bench -p civitas-benches --bench ingest`.

use civitas_bridge::ingest::handle;
use civitas_bridge::wire::{Channel, topic};
use civitas_twin::kinds::DeviceKind;
use civitas_twin::mirror::{Mirror, MirrorLimits, Placement};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const DEVICES: usize = 100_000;

fn ingest(c: &mut Criterion) {
    let placements = (0..DEVICES).map(|i| Placement {
        wire_id: format!("bench-{i:06}"),
        community: 0,
        building: 0,
        device: i as u32,
        kind: DeviceKind::SmartMeter,
    });
    let mut mirror = Mirror::new(placements, MirrorLimits::default());
    let topics: Vec<String> = (0..DEVICES)
        .map(|i| topic("c0", "b0", &format!("bench-{i:06}"), Channel::Telemetry))
        .collect();
    let now = 1_765_000_000_000;
    let mut k: u64 = 0;
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(1));
    g.bench_function("telemetry_message_into_100k_mirror", |b| {
        b.iter(|| {
            let d = (k % DEVICES as u64) as usize;
            let seq = k / DEVICES as u64 + 1;
            k += 1;
            let payload = format!(
                r#"{{"seq":{seq},"ts_ms":{now},"values":{{"energy_kwh":{}.5}}}}"#,
                k % 1000
            );
            handle(&mut mirror, &topics[d], payload.as_bytes(), false, now)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = ingest
}
criterion_main!(benches);
