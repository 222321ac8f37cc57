//! Commands to devices through the live twin, end to end over the embedded broker: the
//! actors' door release confirmed by the simulated doors, retries and timeouts, the queue
//! for sleeping devices, never retained, bad answers counted. Nothing sleeps to wait.

use super::live::{event, local_broker, publisher, registry_of, scenario, subscribed_twin};
use super::*;
use civitas_bridge::commands::{Deliveries, Delivery, Origin, Rejected, State};
use civitas_bridge::fleet::{self, Answers, FleetOptions, Sleep};
use civitas_bridge::forward::Report;
use civitas_bridge::policy::Seat;
use civitas_bridge::twin::{RunningTwin, TwinOptions};
use civitas_twin::kinds::{CommandAction, CommandOutcome, DetectedBy};
use civitas_twin::vocab::events::{Event, Stage};
use std::collections::BTreeMap;

/// The next command report matching `want`, within [`WAIT`].
async fn report(tw: &mut RunningTwin, want: impl Fn(&Report) -> bool) -> Report {
    tokio::time::timeout(WAIT, async {
        loop {
            let r = tw.command_reports.recv().await.expect("the twin runs");
            if want(&r) {
                return r;
            }
        }
    })
    .await
    .expect("reported within the timeout")
}

/// A building of `reg` with a smoke detector and at least one door.
fn building_with_doors(reg: &[Placement]) -> (Placement, Vec<Placement>) {
    reg.iter()
        .filter(|p| p.kind == DeviceKind::SmokeDetector)
        .find_map(|smoke| {
            let doors: Vec<Placement> = (reg.iter())
                .filter(|p| p.kind == DeviceKind::AccessControl && p.building == smoke.building)
                .cloned()
                .collect();
            (!doors.is_empty()).then(|| (smoke.clone(), doors))
        })
        .expect("a building with a smoke detector and doors")
}

fn operator() -> Seat {
    "property_firm@community:0".parse().unwrap()
}

/// Quick deliveries for tests: an answer within `answer_ms`, two retries.
fn quick(answer_ms: i64) -> Deliveries {
    Deliveries {
        default: Delivery {
            answer_ms,
            retries: 2,
            backoff_ms: 100,
            expiry_ms: 5_000,
            ..Delivery::default()
        },
        by_kind: BTreeMap::new(),
    }
}

/// A client subscribed to `filter`, passing on every message it gets.
async fn watcher(
    broker: &EmbeddedBroker,
    id: &str,
    filter: &str,
) -> (AsyncClient, mpsc::Receiver<rumqttc::Publish>) {
    let opts = MqttOptions::new(id, broker.addr.ip().to_string(), broker.addr.port());
    let (client, mut events) = AsyncClient::new(opts, 100);
    let (tx, rx) = mpsc::channel(1024);
    let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
    let mut subscribed_tx = Some(subscribed_tx);
    client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    tokio::spawn(async move {
        while let Ok(e) = events.poll().await {
            match e {
                rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) => {
                    let _ = tx.send(p).await;
                }
                rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)) => {
                    if let Some(s) = subscribed_tx.take() {
                        let _ = s.send(());
                    }
                }
                _ => {}
            }
        }
    });
    tokio::time::timeout(WAIT, subscribed)
        .await
        .expect("subscribed within the timeout")
        .unwrap();
    (client, rx)
}

async fn received(rx: &mut mpsc::Receiver<rumqttc::Publish>) -> rumqttc::Publish {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a message within the timeout")
        .expect("the watcher runs")
}

/// `device` says it is online (so the twin can reach it).
async fn online(client: &AsyncClient, device: &Placement) {
    let topic = topic(
        &format!("c{}", device.community),
        &format!("b{}", device.building),
        &device.wire_id,
        Channel::Availability,
    );
    client
        .publish(topic, QoS::AtLeastOnce, false, r#"{"state":"online"}"#)
        .await
        .unwrap();
}

fn command_topic(device: &Placement) -> String {
    topic(
        &format!("c{}", device.community),
        &format!("b{}", device.building),
        &device.wire_id,
        Channel::Command,
    )
}

fn ack_topic(device: &Placement) -> String {
    topic(
        &format!("c{}", device.community),
        &format!("b{}", device.building),
        &device.wire_id,
        Channel::Ack,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_alarm_releases_the_buildings_doors_and_the_simulated_doors_confirm() {
    let s = scenario();
    let reg = registry_of(&s);
    let (smoke, doors) = building_with_doors(&reg);
    let broker = local_broker();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut opts = TwinOptions::new(s.clone(), reg.clone(), broker.endpoint());
    opts.speed = 60.0;
    opts.audit = Some(audit.clone());
    let mut tw = subscribed_twin(opts).await;
    let mut f = FleetOptions::new(s, reg, broker.endpoint());
    f.answers.delay = Duration::from_millis(50);
    let fleet = fleet::start(f).await.expect("the fleet starts");
    // The smoke detector is born (its state, seq 1), then it raises the alarm: a reading
    // stamped after the device's own newest.
    let wire = smoke.wire_id.clone();
    next(
        &mut tw.observed,
        |o| matches!(o, Observed::Applied { placement, .. } if placement.wire_id == wire),
    )
    .await;
    let client = publisher(&broker).await;
    let alarm = format!(
        r#"{{"seq":1000000,"ts_ms":{},"active":true}}"#,
        wall_ms() + 1
    );
    client
        .publish(
            topic(
                "c0",
                &format!("b{}", smoke.building),
                &smoke.wire_id,
                Channel::Alarm,
            ),
            QoS::AtLeastOnce,
            false,
            alarm,
        )
        .await
        .unwrap();
    // The actors command every door of the building, each door confirms, and the actors
    // hear it.
    let (mut commands, mut confirmed) = (Vec::new(), Vec::new());
    let done = tokio::time::timeout(WAIT, async {
        while confirmed.len() < doors.len() {
            let w = tw.events.recv().await.expect("the engine runs");
            for e in &w.events {
                match e {
                    Event::Command {
                        id,
                        action: CommandAction::ReleaseDoors,
                        building,
                        ..
                    } if *building == smoke.building => commands.push(*id),
                    Event::CommandEnded { id, outcome, .. } => {
                        assert_eq!(*outcome, CommandOutcome::Succeeded, "command {id}");
                        confirmed.push(*id);
                    }
                    _ => {}
                }
            }
        }
    })
    .await;
    if done.is_err() {
        let mut reports = Vec::new();
        while let Ok(r) = tw.command_reports.try_recv() {
            reports.push(r);
        }
        panic!(
            "not every door confirmed within the timeout: doors {doors:?}, commands {commands:?}, confirmed {confirmed:?}, reports {reports:#?}"
        );
    }
    confirmed.sort_unstable();
    commands.sort_unstable();
    assert_eq!(confirmed, commands);
    // The whole lifecycle of one, in the twin's record and in the audit.
    let r = report(&mut tw, |r| r.state == Some(State::Succeeded)).await;
    let c = tw.commands.get(&r.id).await.expect("the twin keeps it");
    let lifecycle: Vec<State> = c.history.iter().map(|h| h.0).collect();
    assert_eq!(
        lifecycle,
        [
            State::Queued,
            State::Sent,
            State::Delivered,
            State::Succeeded
        ]
    );
    assert!(matches!(c.origin, Origin::Actors { command, .. } if commands.contains(&command)));
    let text = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> = (text.lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &serde_json::Value| l["command"] == r.id.as_str())
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["queued", "sent", "delivered", "succeeded"]);
    assert_eq!(lines[0]["origin"]["by"], "actors");
    assert_eq!(lines[0]["action"], "release_doors");
    assert_eq!(lines[1]["attempt"], 1);
    assert_eq!(
        lines[0]["area"],
        format!("c{}/b{}", smoke.community, smoke.building)
    );
    assert!(
        fleet
            .stats
            .carried_out
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    fleet.handle.stop().await.ok();
    tw.handle.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_command_is_retried_with_backoff_then_times_out_into_an_incident() {
    let s = scenario();
    let reg = registry_of(&s);
    let (_, doors) = building_with_doors(&reg);
    let door = doors[0].clone();
    let broker = local_broker();
    let mut opts = TwinOptions::new(s, reg, broker.endpoint());
    opts.policy.deliveries = quick(300);
    opts.speed = 60.0;
    let mut tw = subscribed_twin(opts).await;
    // The test is the door: online, listening, never answering.
    let (device, mut heard) = watcher(&broker, "door", &command_topic(&door)).await;
    online(&device, &door).await;
    next(&mut tw.observed, |o| {
        matches!(o, Observed::Availability { .. })
    })
    .await;
    let id = tw
        .commands
        .submit(&door.wire_id, CommandAction::ReleaseDoors, operator())
        .await
        .expect("taken");
    let mut at = Vec::new();
    for attempt in 1..=3 {
        let p = received(&mut heard).await;
        assert!(!p.retain, "a command is never retained");
        let c: civitas_bridge::wire::CommandPayload = serde_json::from_slice(&p.payload).unwrap();
        assert_eq!((c.id.as_str(), c.attempt), (id.as_str(), attempt));
        at.push(c.ts_ms);
    }
    // Each retry waits for the answer (300 ms), then a backoff of 100, then 200 ms (the
    // twin's send times).
    assert!(at[1] - at[0] >= 400 && at[2] - at[1] >= 500, "{at:?}");
    report(&mut tw, |r| r.id == id && r.state == Some(State::TimedOut)).await;
    // A safety command that did not succeed: an incident at once, through the door.
    let e = event(&mut tw.events, |e| {
        matches!(
            e,
            Event::Incident {
                kind: IncidentKind::CommandFailed,
                stage: Stage::Detected {
                    by: DetectedBy::Device
                },
                ..
            }
        )
    })
    .await;
    assert!(matches!(e, Event::Incident { building, .. } if building == door.building));
    // The door's confirmation comes late: recorded, not counted again.
    let late = format!(
        r#"{{"id":"{id}","status":"succeeded","ts_ms":{}}}"#,
        wall_ms()
    );
    device
        .publish(ack_topic(&door), QoS::AtLeastOnce, false, late)
        .await
        .unwrap();
    let r = report(&mut tw, |r| r.id == id).await;
    assert_eq!(r.state, None, "a late answer, not a new state");
    let c = tw.commands.get(&id).await.unwrap();
    assert_eq!((c.state, c.attempts, c.late.len()), (State::TimedOut, 3, 1));
    tw.handle.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleeping_device_gets_its_command_when_it_wakes_and_one_asleep_too_long_expires() {
    // The default community: the old estate has no water-level stations.
    let s = civitas_scenarios::library::load("default").unwrap();
    let reg = registry_of(&s);
    let (_, doors) = building_with_doors(&reg);
    let door = doors[0].clone();
    let pump = reg
        .iter()
        .find(|p| p.kind == DeviceKind::WaterLevel)
        .expect("the default community has water-level stations")
        .clone();
    let broker = local_broker();
    let mut opts = TwinOptions::new(s.clone(), reg.clone(), broker.endpoint());
    // The twin knows doors and pumps sleep: it sends only the moment one is heard; a pump
    // command waits a fifth of a second at most.
    let asleep = Delivery {
        awake_ms: Some(0),
        ..Delivery::default()
    };
    opts.policy.deliveries.by_kind = BTreeMap::from([
        (DeviceKind::AccessControl, asleep),
        (
            DeviceKind::WaterLevel,
            Delivery {
                expiry_ms: 200,
                ..asleep
            },
        ),
    ]);
    opts.speed = 60.0;
    let mut tw = subscribed_twin(opts).await;
    let mut f = FleetOptions::new(s, reg, broker.endpoint());
    f.answers = Answers {
        delay: Duration::from_millis(20),
        sleep: BTreeMap::from([
            (
                DeviceKind::AccessControl,
                Sleep {
                    every: Duration::from_millis(500),
                    awake: Duration::from_millis(300),
                },
            ),
            (
                DeviceKind::WaterLevel,
                Sleep {
                    every: Duration::from_secs(3_600),
                    awake: Duration::from_millis(300),
                },
            ),
        ]),
        ..Answers::default()
    };
    let fleet = fleet::start(f).await.expect("the fleet starts");
    // Both heard at the fleet's birth, asleep since (the mirror asked at each report).
    let mirror = tw.ingest.mirror.clone();
    let (d, p) = (door.wire_id.clone(), pump.wire_id.clone());
    let heard = move || {
        let m = mirror.lock().unwrap();
        [&d, &p]
            .iter()
            .all(|w| m.get(w).is_some_and(|x| x.last_seen.is_some()))
    };
    if !heard() {
        next(&mut tw.observed, |_| heard()).await;
    }
    let id = tw
        .commands
        .submit(&door.wire_id, CommandAction::ReleaseDoors, operator())
        .await
        .unwrap();
    report(&mut tw, |r| r.id == id && r.state == Some(State::Succeeded)).await;
    let c = tw.commands.get(&id).await.unwrap();
    assert_eq!(c.attempts, 1, "sent once, when it woke");
    assert_eq!(
        fleet
            .stats
            .unheard
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "nothing was sent to a sleeping device"
    );
    // The pump sleeps an hour: its command expires unsent, and raises an incident.
    let id = tw
        .commands
        .submit(&pump.wire_id, CommandAction::StartPump, operator())
        .await
        .unwrap();
    report(&mut tw, |r| r.id == id && r.state == Some(State::Expired)).await;
    assert_eq!(tw.commands.get(&id).await.unwrap().attempts, 0);
    event(&mut tw.events, |e| {
        matches!(e, Event::Incident { kind: IncidentKind::CommandFailed, building, .. } if *building == pump.building)
    })
    .await;
    assert!(
        tw.ingest
            .mirror
            .lock()
            .unwrap()
            .get(&pump.wire_id)
            .unwrap()
            .desired
            .is_empty(),
        "an expired command's desired value is withdrawn"
    );
    fleet.handle.stop().await.ok();
    tw.handle.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retained_command_is_cleared_and_a_device_that_subscribes_later_gets_none() {
    let s = scenario();
    let reg = registry_of(&s);
    let (_, doors) = building_with_doors(&reg);
    let door = doors[0].clone();
    let broker = local_broker();
    // A command published by mistake as retained, before the twin starts…
    let (client, mut own) = watcher(&broker, "mistaken-tool", "nothing/here").await;
    let ghost = r#"{"id":"x-1","action":"release_doors","ts_ms":1,"expires_ms":2,"attempt":1}"#;
    client
        .publish(command_topic(&door), QoS::AtLeastOnce, true, ghost)
        .await
        .unwrap();
    // (on the broker once a later publish of the same client is delivered back to it)
    client.subscribe("probe", QoS::AtLeastOnce).await.unwrap();
    client
        .publish("probe", QoS::AtLeastOnce, false, "x")
        .await
        .unwrap();
    while received(&mut own).await.topic != "probe" {}
    // …is refused when the twin subscribes, and cleared.
    let mut tw = subscribed_twin(TwinOptions::new(s, reg, broker.endpoint())).await;
    let o = next(&mut tw.observed, |o| matches!(o, Observed::Refused { .. })).await;
    assert!(
        matches!(&o, Observed::Refused { why: Refusal::RetainedCommand, topic } if *topic == command_topic(&door)),
        "{o:?}"
    );
    // The twin's clearing goes by (an empty payload on the topic).
    next(&mut tw.observed, |o| {
        matches!(o, Observed::CommandHeard { id: None, .. })
    })
    .await;
    // One published retained while the twin runs reaches it without the retain flag (as
    // MQTT says): a command the twin did not send is cleared too.
    let ghost2 = r#"{"id":"x-2","action":"release_doors","ts_ms":1,"expires_ms":2,"attempt":1}"#;
    client
        .publish(command_topic(&door), QoS::AtLeastOnce, true, ghost2)
        .await
        .unwrap();
    next(
        &mut tw.observed,
        |o| matches!(o, Observed::CommandHeard { id: Some(id), .. } if id == "x-2"),
    )
    .await;
    next(&mut tw.observed, |o| {
        matches!(o, Observed::CommandHeard { id: None, .. })
    })
    .await;
    // A device subscribing now gets its retained availability and no command: retained
    // messages come on subscription, before anything published later.
    let base = command_topic(&door).replace("/command", "");
    client
        .publish(
            format!("{base}/availability"),
            QoS::AtLeastOnce,
            true,
            r#"{"state":"online"}"#,
        )
        .await
        .unwrap();
    // The marker is on the broker once the twin has seen it.
    next(&mut tw.observed, |o| {
        matches!(o, Observed::Availability { .. })
    })
    .await;
    let (_, mut rx) = watcher(&broker, "reconnecting-door", &format!("{base}/+")).await;
    let first = received(&mut rx).await;
    client
        .publish(
            format!("{base}/telemetry"),
            QoS::AtLeastOnce,
            false,
            format!(r#"{{"seq":1,"ts_ms":{},"values":{{}}}}"#, wall_ms()),
        )
        .await
        .unwrap();
    let mut got = vec![first];
    while !got.last().unwrap().topic.ends_with("/telemetry") {
        got.push(received(&mut rx).await);
    }
    let commands: Vec<_> = (got.iter())
        .filter(|p| p.topic.ends_with("/command") && !p.payload.is_empty())
        .collect();
    assert!(commands.is_empty(), "a stale command: {commands:?}");
    tw.handle.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_commands_and_answers_are_refused_by_reason_and_the_twin_carries_on() {
    let s = scenario();
    let reg = registry_of(&s);
    let (smoke, doors) = building_with_doors(&reg);
    let door = doors[0].clone();
    let broker = local_broker();
    let mut opts = TwinOptions::new(s, reg, broker.endpoint());
    opts.policy.deliveries = quick(2_000);
    let mut tw = subscribed_twin(opts).await;
    assert_eq!(
        tw.commands
            .submit("no-such-door", CommandAction::ReleaseDoors, operator())
            .await,
        Err(Rejected::UnknownDevice("no-such-door".into()))
    );
    let wrong = tw
        .commands
        .submit(&smoke.wire_id, CommandAction::StartPump, operator())
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("cannot start_pump"), "{wrong}");
    let (device, mut heard) = watcher(&broker, "door", &command_topic(&door)).await;
    online(&device, &door).await;
    // A flood of answers nobody asked for, and malformed ones.
    for n in 0..500 {
        let body = format!(r#"{{"id":"nobody-{n}","status":"succeeded","ts_ms":1}}"#);
        device
            .publish(ack_topic(&door), QoS::AtLeastOnce, false, body)
            .await
            .unwrap();
    }
    for bad in [r#"{"id":"x""#, r#"{"id":"x","status":"done","ts_ms":1}"#] {
        device
            .publish(ack_topic(&door), QoS::AtLeastOnce, false, bad)
            .await
            .unwrap();
    }
    next(&mut tw.observed, |o| {
        matches!(
            o,
            Observed::Refused {
                why: Refusal::WrongType,
                ..
            }
        )
    })
    .await;
    // Every answer before the malformed ones is with the twin's commands by now; one
    // question to them waits behind the rest.
    assert!(tw.commands.get("nobody-1").await.is_none());
    {
        let m = tw.ingest.mirror.lock().unwrap();
        let refused = m.refused();
        assert_eq!(refused.get(&Refusal::UnknownCommand), Some(&500));
        assert_eq!(refused.get(&Refusal::MalformedJson), Some(&1));
    }
    // The twin still works: a real command goes out and the door's answer ends it.
    let id = tw
        .commands
        .submit(&door.wire_id, CommandAction::ReleaseDoors, operator())
        .await
        .unwrap();
    received(&mut heard).await;
    for status in ["received", "succeeded"] {
        let body = format!(r#"{{"id":"{id}","status":"{status}","ts_ms":1}}"#);
        device
            .publish(ack_topic(&door), QoS::AtLeastOnce, false, body)
            .await
            .unwrap();
    }
    report(&mut tw, |r| r.id == id && r.state == Some(State::Succeeded)).await;
    tw.handle.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_without_the_right_is_refused_and_audited() {
    // A small district: four communities under two street offices.
    let text = civitas_scenarios::library::preset("haishu-district")
        .unwrap()
        .text
        .replace("street_offices = 8", "street_offices = 2")
        .replace("communities = 75", "communities = 4")
        .replace("residents = 300000", "residents = 8000");
    let s = civitas_scenarios::file::Scenario::from_str(&text, "small-district").unwrap();
    let district = civitas_scenarios::runner::build_district_for(&s, s.seed, s.model);
    let reg = civitas_bridge::registry::generate(&district);
    let street_of = |c: u32| district.communities[c as usize].street_office;
    let door = reg
        .iter()
        .find(|p| p.kind == DeviceKind::AccessControl)
        .expect("doors")
        .clone();
    let other_street = (0..district.street_offices.len() as u32)
        .find(|s| *s != street_of(door.community))
        .expect("a second street");
    let broker = local_broker();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut opts = TwinOptions::new(s, reg, broker.endpoint());
    opts.audit = Some(audit.clone());
    let tw = subscribed_twin(opts).await;
    let seat = |s: String| s.parse::<Seat>().unwrap();
    for (who, why) in [
        (
            format!("committee@community:{}", door.community),
            "committee may not command access_control devices",
        ),
        (
            format!("street_office@street:{other_street}"),
            "is outside street:",
        ),
        (
            format!("property_firm@street:{}", street_of(door.community)),
            "property_firm cannot hold a seat over a street",
        ),
    ] {
        let e = tw
            .commands
            .submit(
                &door.wire_id,
                CommandAction::ReleaseDoors,
                seat(who.clone()),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, Rejected::Denied(_)) && e.to_string().contains(why),
            "{who}: {e}"
        );
    }
    // The right seat is taken.
    let own = format!("street_office@street:{}", street_of(door.community));
    tw.commands
        .submit(&door.wire_id, CommandAction::ReleaseDoors, seat(own))
        .await
        .expect("its own street's door");
    // Every refusal is in the audit: who, what, where, when, why.
    let text = std::fs::read_to_string(&audit).unwrap();
    let refused: Vec<serde_json::Value> = (text.lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &serde_json::Value| l["event"] == "refused")
        .collect();
    assert_eq!(refused.len(), 3, "{text}");
    for l in &refused {
        assert_eq!(l["origin"]["by"], "operator");
        assert_eq!(l["device"], door.wire_id.as_str());
        assert_eq!(l["action"], "release_doors");
        assert_eq!(l["area"], format!("c{}/b{}", door.community, door.building));
        assert!(l["at_ms"].as_i64().unwrap() > 0 && l["reason"].is_string());
    }
    assert!(
        text.contains(r#""event":"queued""#),
        "the allowed one goes on"
    );
    tw.handle.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_request_over_mqtt_is_answered_with_each_step_of_its_command() {
    use civitas_bridge::ops::{self, ErrorKind, Request};
    let s = scenario();
    let reg = registry_of(&s);
    let (_, doors) = building_with_doors(&reg);
    let door = doors[0].clone();
    let broker = local_broker();
    let mut tw = subscribed_twin(TwinOptions::new(s, reg, broker.endpoint())).await;
    // The test is the door: it answers every command it gets.
    let (device, mut heard) = watcher(&broker, "door", &command_topic(&door)).await;
    online(&device, &door).await;
    next(&mut tw.observed, |o| {
        matches!(o, Observed::Availability { .. })
    })
    .await;
    let door_topic = ack_topic(&door);
    tokio::spawn(async move {
        while let Some(p) = heard.recv().await {
            let c: civitas_bridge::wire::CommandPayload =
                serde_json::from_slice(&p.payload).unwrap();
            for status in ["received", "succeeded"] {
                let body = format!(r#"{{"id":"{}","status":"{status}","ts_ms":1}}"#, c.id);
                device
                    .publish(&door_topic, QoS::AtLeastOnce, false, body)
                    .await
                    .unwrap();
            }
        }
    });
    let ask = |request: &str, action: &str, seat: &str| Request {
        request: request.into(),
        device: door.wire_id.clone(),
        action: action.into(),
        seat: seat.into(),
    };
    let mut states = Vec::new();
    let last = ops::ask(
        &broker.endpoint(),
        &ask("r-1", "release_doors", "property_firm@community:0"),
        WAIT,
        |r| states.push(r.state),
    )
    .await
    .expect("answered");
    assert_eq!(
        states,
        [
            Some(State::Queued),
            Some(State::Sent),
            Some(State::Delivered),
            Some(State::Succeeded)
        ]
    );
    assert!(last.command.is_some());
    for (id, action, seat, kind, words) in [
        (
            "r-2",
            "release_doors",
            "committee@community:0",
            ErrorKind::Denied,
            "committee may not command access_control",
        ),
        (
            "r-3",
            "open_sesame",
            "property_firm@community:0",
            ErrorKind::BadRequest,
            "unknown action \"open_sesame\"; actions: release_doors",
        ),
        (
            "r-4",
            "start_pump",
            "property_firm@community:0",
            ErrorKind::Rejected,
            "cannot start_pump",
        ),
        (
            "r-5",
            "release_doors",
            "mayor@city",
            ErrorKind::BadRequest,
            "unknown role \"mayor\"",
        ),
    ] {
        let r = ops::ask(&broker.endpoint(), &ask(id, action, seat), WAIT, |_| {})
            .await
            .expect("answered");
        let e = r.error.expect("an error");
        assert_eq!(e.kind, kind, "{id}: {}", e.message);
        assert!(e.message.contains(words), "{id}: {}", e.message);
    }
    // Nobody answers on a broker without a twin.
    let empty = local_broker();
    let e = ops::ask(
        &empty.endpoint(),
        &ask("r-6", "release_doors", "property_firm@community:0"),
        Duration::from_millis(500),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().starts_with("no twin answered on mqtt://"),
        "{e}"
    );
    tw.handle.stop().await.ok();
}
