#![allow(missing_docs)] // criterion_group! generates an undocumented function
//! Criterion benches for the engine: the window loop over a whole community and the
//! delivery of messages between actors. `cargo bench -p civitas-benches`.

use civitas_actors::observe::NoObserver;
use civitas_actors::{Engine, SimClock};
use civitas_benches::{assembly, message_heavy, preset};
use civitas_twin::time::DAY;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("runtime")
}

/// Events a run of `s` for `days` handles (to set criterion's throughput).
fn events_of(s: &civitas_scenarios::Scenario, days: u64) -> u64 {
    let rt = runtime(1);
    let w = assembly(s, 1);
    let window = s.parameters.engine.window_secs;
    rt.block_on(async move {
        tokio::spawn(async move {
            let e = Engine::spawn(w, window, SimClock).await.unwrap();
            e.run(days * DAY, &mut NoObserver)
                .await
                .unwrap()
                .stats
                .events
        })
        .await
        .unwrap()
    })
}

fn bench_run(c: &mut Criterion, group: &str, s: civitas_scenarios::Scenario, days: u64) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.throughput(Throughput::Elements(events_of(&s, days)));
    for workers in [1, 2] {
        let rt = runtime(workers);
        let window = s.parameters.engine.window_secs;
        g.bench_function(format!("{days}d_{workers}w"), |b| {
            b.iter_batched(
                || assembly(&s, 1),
                |w| {
                    rt.block_on(async move {
                        tokio::spawn(async move {
                            let e = Engine::spawn(w, window, SimClock).await.unwrap();
                            e.run(days * DAY, &mut NoObserver).await.unwrap()
                        })
                        .await
                        .unwrap()
                    })
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn window_loop(c: &mut Criterion) {
    bench_run(c, "window_loop/default_community", preset("default"), 365);
}

fn message_delivery(c: &mut Criterion) {
    bench_run(c, "message_delivery/false_alarm_storm", message_heavy(), 30);
}

fn district(c: &mut Criterion) {
    bench_run(
        c,
        "window_loop/haishu_district",
        preset("haishu-district"),
        7,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = window_loop, message_delivery, district
}
criterion_main!(benches);
