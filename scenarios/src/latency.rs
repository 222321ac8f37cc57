//! The live engine's latency: device alarms injected "now" at a steady rate from another
//! task while a community runs on the wall clock, each timed from the moment it was sent
//! to the moment the observe stream reports its incident `detected` (what an operator's
//! screen would show). `civitas bench --live` prints the result.

use crate::file::Scenario;
use crate::runner::{RunError, build_district_for};
use civitas_actors::observe::DeviceState;
use civitas_actors::{
    Address, Assembly, Engine, Event, FailurePolicy, Inject, Stage, WallClock, When,
};
use civitas_twin::kinds::{DetectedBy, DeviceKind};
use civitas_twin::time::DAY;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// What [`inject_latency`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    /// Alarms sent.
    pub sent: u64,
    /// Alarms whose incident was reported detected.
    pub detected: u64,
    /// Alarms refused (a full intake).
    pub refused: u64,
    /// Send → detected, sorted, in milliseconds.
    pub millis: Vec<f64>,
}

impl Latency {
    /// The `q` quantile (nearest rank) of send → detected, ms.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.millis.len();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(self.millis[rank - 1])
    }
}

/// Runs `s` live (real time, speed 1) and sends `rate` camera alarms a second for
/// `seconds` seconds, spread over the community's cameras, each `When::Now`.
#[allow(clippy::disallowed_methods)] // a latency benchmark measures real time
pub fn inject_latency(s: &Scenario, rate: u32, seconds: u32) -> Result<Latency, RunError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()?;
    let district = build_district_for(s, s.seed, s.model);
    let cameras: Vec<Address> = district
        .communities
        .iter()
        .flat_map(|c| {
            c.devices
                .iter()
                .filter(|d| d.kind == DeviceKind::VideoSurveillance)
                .map(move |d| Address::Device {
                    community: c.index,
                    device: d.id,
                })
        })
        .collect();
    if cameras.is_empty() {
        // Nothing to alarm: nothing measured.
        return Ok(Latency {
            sent: 0,
            detected: 0,
            refused: 0,
            millis: Vec::new(),
        });
    }
    let assembly = Assembly::build_at(&district, &s.parameters, &s.calendar, s.seed, s.model);
    let window = s.parameters.engine.window_secs;
    rt.block_on(async move {
        let mut engine = Engine::spawn(assembly, window, WallClock::new(1.0)).await?;
        engine.on_failure(FailurePolicy::Isolate);
        let handle = engine.handle();
        let mut sub = engine.subscribe(1 << 16);
        let horizon = (seconds as u64 + 60).max(DAY);
        let run = tokio::spawn(async move {
            let mut never = |_: &civitas_actors::Window| {};
            engine.run(horizon, &mut never).await
        });
        // Send times by (simulated second, address), in order: an alarm is matched to the
        // first `detected` of an incident at its address and second.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let sender = {
            let handle = handle.clone();
            tokio::spawn(async move {
                let total = rate as u64 * seconds as u64;
                let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let mut refused = 0;
                for k in 0..total {
                    tick.tick().await;
                    let to = cameras[k as usize % cameras.len()];
                    let Address::Device { community, device } = to else {
                        continue;
                    };
                    let alarm = Inject::Device {
                        device,
                        state: DeviceState::Alarm,
                    };
                    let sent = std::time::Instant::now();
                    match handle.inject("bench", When::Now, to, alarm).await {
                        Ok(at) => {
                            let _ = tx.send((at, community, sent));
                        }
                        Err(_) => refused += 1,
                    }
                }
                refused
            })
        };
        // Send times and detection times by (simulated second, community), oldest first;
        // either may come first (the stream can report a detection before the sender
        // task hears its inject was accepted). Each pair is one alarm's latency.
        let mut sends: Times = HashMap::new();
        let mut seen: Times = HashMap::new();
        let mut millis = Vec::new();
        let mut sender_done = None;
        let mut sender = sender;
        let total = rate as u64 * seconds as u64;
        loop {
            tokio::select! {
                r = &mut sender, if sender_done.is_none() => {
                    sender_done = Some(r.map_err(|e| RunError::Join(e.to_string()))?);
                }
                Some((at, community, sent)) = rx.recv() => {
                    sends.entry((at, community)).or_default().push_back(sent);
                    pair((at, community), &mut sends, &mut seen, &mut millis);
                }
                w = sub.recv() => {
                    let Some(w) = w else { break };
                    let got = std::time::Instant::now();
                    for e in &w.events {
                        if let Event::Incident {
                            at,
                            community,
                            stage: Stage::Detected { by: DetectedBy::Device },
                            ..
                        } = e
                        {
                            seen.entry((*at, *community)).or_default().push_back(got);
                            pair((*at, *community), &mut sends, &mut seen, &mut millis);
                        }
                    }
                }
                // Alarms still unmatched 5 s after the last was sent are not coming.
                _ = tokio::time::sleep(Duration::from_secs(5)), if sender_done.is_some() => break,
            }
            if sender_done.is_some() && millis.len() as u64 + sender_done.unwrap_or(0) >= total {
                break;
            }
        }
        let refused = sender_done.unwrap_or(0);
        handle.stop().await.ok();
        run.await.map_err(|e| RunError::Join(e.to_string()))??;
        millis.sort_by(f64::total_cmp);
        Ok(Latency {
            sent: total,
            detected: millis.len() as u64,
            refused,
            millis,
        })
    })
}

type Times = HashMap<(u64, u32), VecDeque<std::time::Instant>>;

/// Pairs the oldest send with the oldest detection at `key` while both have one.
fn pair(key: (u64, u32), sends: &mut Times, seen: &mut Times, millis: &mut Vec<f64>) {
    loop {
        let ready = sends.get(&key).is_some_and(|v| !v.is_empty())
            && seen.get(&key).is_some_and(|v| !v.is_empty());
        if !ready {
            return;
        }
        let s = sends.get_mut(&key).and_then(VecDeque::pop_front);
        let d = seen.get_mut(&key).and_then(VecDeque::pop_front);
        if let (Some(s), Some(d)) = (s, d) {
            millis.push(d.saturating_duration_since(s).as_secs_f64() * 1e3);
        }
    }
}
