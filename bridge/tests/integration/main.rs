//! civitas-bridge's integration tests: one binary (`cargo test -p civitas-bridge`), real
//! MQTT through the embedded broker on a port chosen at run time. Nothing sleeps to wait:
//! each test waits for what ingest reports, with a timeout.

use civitas_bridge::broker::EmbeddedBroker;
use civitas_bridge::ingest::{self, IngestOptions, Observed};
use civitas_bridge::wire::{Channel, topic};
use civitas_twin::kinds::{DeviceKind, IncidentKind};
use civitas_twin::mirror::{Applied, Availability, Mirror, MirrorLimits, Placement, Refusal};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

use civitas_bridge::ingest::wall_ms;

fn placements() -> Vec<Placement> {
    vec![
        Placement {
            wire_id: "smoke-0007".into(),
            community: 0,
            building: 2,
            device: 7,
            kind: DeviceKind::SmokeDetector,
        },
        Placement {
            wire_id: "water-0003".into(),
            community: 0,
            building: 1,
            device: 3,
            kind: DeviceKind::WaterLevel,
        },
    ]
}

/// Ingest of the test devices, connected to `broker`, and its reports.
fn start_ingest(broker: &EmbeddedBroker) -> (ingest::Ingest, mpsc::Receiver<Observed>) {
    let (tx, rx) = mpsc::channel(1024);
    let ing = ingest::start(
        IngestOptions {
            broker: broker.endpoint(),
            client_id: "civitas-twin-test".into(),
            keep_alive: Duration::from_secs(5),
        },
        Mirror::new(placements(), MirrorLimits::default()),
        tx,
        wall_ms,
    );
    (ing, rx)
}

/// A broker, ingest subscribed to it, and a plain client to publish with.
async fn setup() -> (ingest::Ingest, mpsc::Receiver<Observed>, AsyncClient) {
    let broker = EmbeddedBroker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0).expect("broker");
    let (ing, mut rx) = start_ingest(&broker);
    next(&mut rx, |o| matches!(o, Observed::Subscribed)).await;
    let mut opts = MqttOptions::new(
        "device-sim",
        broker.addr.ip().to_string(),
        broker.addr.port(),
    );
    opts.set_max_packet_size(4 * 1024 * 1024, 4 * 1024 * 1024);
    let (client, mut events) = AsyncClient::new(opts, 100);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    (ing, rx, client)
}

/// The first report matching `want`, within [`WAIT`].
async fn next(rx: &mut mpsc::Receiver<Observed>, want: impl Fn(&Observed) -> bool) -> Observed {
    tokio::time::timeout(WAIT, async {
        loop {
            let o = rx.recv().await.expect("ingest is running");
            if want(&o) {
                return o;
            }
        }
    })
    .await
    .expect("reported within the timeout")
}

fn t(device: &str, channel: Channel) -> String {
    topic("c0", "b2", device, channel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_smoke_alarm_published_by_a_plain_client_is_mirrored_as_raised() {
    let (ing, mut rx, client) = setup().await;
    let payload = format!(
        r#"{{"seq":1,"ts_ms":{},"active":true,"kind":"fire"}}"#,
        wall_ms()
    );
    client
        .publish(
            t("smoke-0007", Channel::Alarm),
            QoS::AtLeastOnce,
            false,
            payload,
        )
        .await
        .unwrap();
    let o = next(&mut rx, |o| matches!(o, Observed::Applied { .. })).await;
    let Observed::Applied { placement, applied } = o else {
        unreachable!()
    };
    assert_eq!((placement.community, placement.device), (0, 7));
    assert_eq!(applied, Applied::AlarmRaised(Some(IncidentKind::Fire)));
    client
        .publish(
            t("smoke-0007", Channel::Availability),
            QoS::AtLeastOnce,
            true,
            r#"{"state":"online"}"#,
        )
        .await
        .unwrap();
    next(&mut rx, |o| matches!(o, Observed::Availability { .. })).await;
    let m = ing.mirror.lock().unwrap();
    let d = m.get("smoke-0007").unwrap();
    assert_eq!(d.availability, Availability::Online);
    assert!(d.alarm.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_counted_by_reason_and_ingest_keeps_running() {
    let (ing, mut rx, client) = setup().await;
    let now = wall_ms();
    let cases: Vec<(String, Vec<u8>, Refusal)> = vec![
        (
            t("smoke-0007", Channel::State),
            b"{not json".to_vec(),
            Refusal::MalformedJson,
        ),
        (
            t("smoke-0007", Channel::State),
            br#"{"seq":"one","ts_ms":1,"state":"failed"}"#.to_vec(),
            Refusal::WrongType,
        ),
        (
            t("smoke-0007", Channel::Telemetry),
            vec![b' '; 1024 * 1024],
            Refusal::TooLarge,
        ),
        (
            "civitas/v1/c0/b2/smoke-0007/siren".into(),
            b"{}".to_vec(),
            Refusal::TopicOutsideSchema,
        ),
        (
            "civitas/v1/elsewhere".into(),
            b"{}".to_vec(),
            Refusal::TopicOutsideSchema,
        ),
        (
            t("ghost-9", Channel::State),
            format!(r#"{{"seq":1,"ts_ms":{now},"state":"failed"}}"#).into_bytes(),
            Refusal::UnknownDevice,
        ),
    ];
    for (topic, payload, _) in &cases {
        client
            .publish(topic, QoS::AtLeastOnce, false, payload.clone())
            .await
            .unwrap();
    }
    for (_, _, why) in &cases {
        let o = next(&mut rx, |o| matches!(o, Observed::Refused { .. })).await;
        assert!(
            matches!(o, Observed::Refused { why: w, .. } if w == *why),
            "{o:?}, expected {why:?}"
        );
    }
    // Still running: a good reading after all that is applied.
    let good = format!(r#"{{"seq":2,"ts_ms":{now},"state":"failed"}}"#);
    client
        .publish(
            t("water-0003", Channel::State),
            QoS::AtLeastOnce,
            false,
            good,
        )
        .await
        .unwrap();
    next(&mut rx, |o| matches!(o, Observed::Applied { .. })).await;
    let m = ing.mirror.lock().unwrap();
    for why in [
        Refusal::MalformedJson,
        Refusal::WrongType,
        Refusal::TooLarge,
        Refusal::UnknownDevice,
    ] {
        assert_eq!(m.refused().get(&why), Some(&1), "{why:?}");
    }
    assert_eq!(m.refused().get(&Refusal::TopicOutsideSchema), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retained_alarm_replayed_on_subscription_is_not_a_new_alarm() {
    let broker = EmbeddedBroker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0).expect("broker");
    // A device left a retained alarm before the twin started.
    let opts = MqttOptions::new(
        "old-device",
        broker.addr.ip().to_string(),
        broker.addr.port(),
    );
    let (client, mut events) = AsyncClient::new(opts, 10);
    let payload = format!(r#"{{"seq":1,"ts_ms":{},"active":true}}"#, wall_ms());
    client
        .publish(
            t("smoke-0007", Channel::Alarm),
            QoS::AtLeastOnce,
            true,
            payload,
        )
        .await
        .unwrap();
    // Until the broker acknowledges it.
    tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) = events.poll().await {
                return;
            }
        }
    })
    .await
    .expect("the retained alarm is stored");
    let (ing, mut rx) = start_ingest(&broker);
    let o = next(&mut rx, |o| {
        matches!(o, Observed::Refused { .. } | Observed::Applied { .. })
    })
    .await;
    assert!(
        matches!(
            o,
            Observed::Refused {
                why: Refusal::RetainedAlarm,
                ..
            }
        ),
        "{o:?}"
    );
    assert!(
        ing.mirror
            .lock()
            .unwrap()
            .get("smoke-0007")
            .unwrap()
            .alarm
            .is_none()
    );
}

mod api;
mod commands;

mod live {
    //! The live twin end to end: MQTT in, the same actors, the observe stream out.

    use super::*;
    use civitas_bridge::registry;
    use civitas_bridge::twin::{self, TwinOptions};
    use civitas_twin::kinds::{Department, DetectedBy};
    use civitas_twin::vocab::events::{DeviceState, Event, Stage};
    use civitas_twin::vocab::incident::EscalationReason;

    pub(super) fn scenario() -> civitas_scenarios::file::Scenario {
        civitas_scenarios::library::load("old-small").unwrap()
    }

    pub(super) async fn publisher(broker: &EmbeddedBroker) -> AsyncClient {
        let opts = MqttOptions::new("fleet", broker.addr.ip().to_string(), broker.addr.port());
        let (client, mut events) = AsyncClient::new(opts, 100);
        tokio::spawn(async move { while events.poll().await.is_ok() {} });
        client
    }

    /// `device` raises an alarm (no kind named) on its native topic.
    async fn raise_alarm(client: &AsyncClient, device: &Placement) {
        let topic = topic(
            "c0",
            &format!("b{}", device.building),
            &device.wire_id,
            Channel::Alarm,
        );
        let payload = format!(r#"{{"seq":1,"ts_ms":{},"active":true}}"#, wall_ms());
        client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }

    /// The generated registry of `s` (its own seed and model).
    pub(super) fn registry_of(s: &civitas_scenarios::file::Scenario) -> Vec<Placement> {
        let district = civitas_scenarios::runner::build_district_for(s, s.seed, s.model);
        registry::generate(&district)
    }

    /// An embedded broker on a free port of the loopback.
    pub(super) fn local_broker() -> EmbeddedBroker {
        EmbeddedBroker::start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0).expect("the broker starts")
    }

    /// A twin started with `opts` and subscribed, within [`WAIT`].
    pub(super) async fn subscribed_twin(opts: TwinOptions) -> twin::RunningTwin {
        let tw = twin::start(opts).await.expect("the twin starts");
        let mut sub = tw.ingest.subscribed.clone();
        tokio::time::timeout(WAIT, sub.wait_for(|s| *s))
            .await
            .expect("subscribed within the timeout")
            .expect("ingest runs");
        tw
    }

    /// The first event of the stream matching `want`, within [`WAIT`].
    pub(super) async fn event(
        events: &mut civitas_actors::Subscription,
        want: impl Fn(&Event) -> bool,
    ) -> Event {
        tokio::time::timeout(WAIT, async {
            loop {
                let w = events.recv().await.expect("the engine runs");
                if let Some(e) = w.events.iter().find(|e| want(e)) {
                    return e.clone();
                }
            }
        })
        .await
        .expect("in the stream within the timeout")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_smoke_alarm_over_mqtt_becomes_an_incident_detected_by_the_device() {
        let s = scenario();
        let reg = registry_of(&s);
        let smoke = reg
            .iter()
            .find(|p| p.kind == DeviceKind::SmokeDetector)
            .expect("the old estate has smoke detectors")
            .clone();
        let broker = local_broker();
        let opts = TwinOptions::new(s, reg, broker.endpoint());
        let mut tw = subscribed_twin(opts).await;
        let client = publisher(&broker).await;
        raise_alarm(&client, &smoke).await;
        let e = event(&mut tw.events, |e| {
            matches!(e, Event::Incident { community: 0, building, stage: Stage::Detected { by: DetectedBy::Device }, .. } if *building == smoke.building)
        })
        .await;
        let Event::Incident { kind, .. } = e else {
            unreachable!()
        };
        assert_eq!(
            kind,
            IncidentKind::Fire,
            "a smoke detector's alarm is a fire"
        );
        tw.handle.stop().await.ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_alarm_naming_its_kind_becomes_an_incident_of_that_kind_and_an_undetectable_one_is_refused()
     {
        let s = civitas_scenarios::library::load("default").unwrap();
        let reg = registry_of(&s);
        let camera = reg
            .iter()
            .find(|p| p.kind == DeviceKind::VideoSurveillance)
            .expect("the default community has cameras")
            .clone();
        let broker = local_broker();
        let mut tw = subscribed_twin(TwinOptions::new(s, reg, broker.endpoint())).await;
        let client = publisher(&broker).await;
        let topic = topic(
            "c0",
            &format!("b{}", camera.building),
            &camera.wire_id,
            Channel::Alarm,
        );
        let alarm = |seq: u64, kind: &str| {
            format!(
                r#"{{"seq":{seq},"ts_ms":{},"active":true,"kind":"{kind}"}}"#,
                wall_ms()
            )
        };
        // A camera cannot smell smoke: refused, counted, no incident.
        client
            .publish(&topic, QoS::AtLeastOnce, false, alarm(1, "fire"))
            .await
            .unwrap();
        let refused = next(&mut tw.observed, |o| matches!(o, Observed::Refused { .. })).await;
        assert!(
            matches!(
                refused,
                Observed::Refused {
                    why: Refusal::UndetectableAlarm,
                    ..
                }
            ),
            "{refused:?}"
        );
        // It can see an overflowing bin (not its first kind): an incident of that kind.
        client
            .publish(
                &topic,
                QoS::AtLeastOnce,
                false,
                alarm(2, "garbage_overflow"),
            )
            .await
            .unwrap();
        let e = event(&mut tw.events, |e| {
            matches!(
                e,
                Event::Incident {
                    stage: Stage::Detected {
                        by: DetectedBy::Device
                    },
                    ..
                }
            )
        })
        .await;
        assert!(
            matches!(e, Event::Incident { kind: IncidentKind::GarbageOverflow, building, .. } if building == camera.building),
            "{e:?}"
        );
        tw.handle.stop().await.ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn telemetry_past_a_threshold_or_outside_a_geofence_becomes_an_incident_of_its_rule() {
        let s = civitas_scenarios::library::load("default").unwrap();
        let reg = registry_of(&s);
        let find = |k| reg.iter().find(|p| p.kind == k).unwrap().clone();
        let (water, wearable) = (
            find(DeviceKind::WaterLevel),
            find(DeviceKind::ElderlyWearable),
        );
        let broker = local_broker();
        let mut tw = subscribed_twin(TwinOptions::new(s, reg, broker.endpoint())).await;
        let client = publisher(&broker).await;
        let send = |p: &Placement, seq: u64, values: &str| {
            let topic = topic(
                "c0",
                &format!("b{}", p.building),
                &p.wire_id,
                Channel::Telemetry,
            );
            let body = format!(r#"{{"seq":{seq},"ts_ms":{},"values":{values}}}"#, wall_ms());
            let client = client.clone();
            async move {
                client
                    .publish(topic, QoS::AtLeastOnce, false, body)
                    .await
                    .unwrap()
            }
        };
        let detected = |kind: IncidentKind, building: u32| move |e: &Event| matches!(e, Event::Incident { kind: k, building: b, stage: Stage::Detected { by: DetectedBy::Device }, .. } if *k == kind && *b == building);
        // 42 cm of water in the basement (the default rule: above 10 cm).
        send(&water, 1, r#"{"water_level_m":0.02}"#).await;
        send(&water, 2, r#"{"water_level_m":0.42}"#).await;
        event(
            &mut tw.events,
            detected(IncidentKind::BasementFlooding, water.building),
        )
        .await;
        // A wearable 1.1 km from the fence's centre (radius 500 m).
        send(&wearable, 1, r#"{"lat":29.871,"lon":121.554}"#).await;
        event(
            &mut tw.events,
            detected(IncidentKind::ElderlyWandering, wearable.building),
        )
        .await;
        tw.handle.stop().await.ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_subscription_that_goes_quiet_is_connected_but_silent_and_subscribed_again() {
        let s = scenario();
        let reg = registry_of(&s);
        let device = reg[0].clone();
        let broker = local_broker();
        let mut opts = TwinOptions::new(s, reg, broker.endpoint());
        opts.quiet_after = Some(Duration::from_millis(300));
        opts.check_every = Duration::from_millis(50);
        let mut tw = subscribed_twin(opts).await;
        let client = publisher(&broker).await;
        let topic = topic(
            "c0",
            &format!("b{}", device.building),
            &device.wire_id,
            Channel::State,
        );
        let state =
            |seq: u64| format!(r#"{{"seq":{seq},"ts_ms":{},"state":"working"}}"#, wall_ms());
        client
            .publish(&topic, QoS::AtLeastOnce, false, state(1))
            .await
            .unwrap();
        let quiet = next(&mut tw.observed, |o| {
            matches!(o, Observed::ConnectedButSilent { .. })
        })
        .await;
        let Observed::ConnectedButSilent { for_ms } = quiet else {
            unreachable!()
        };
        assert!(for_ms > 300, "{for_ms}");
        // It subscribes again (a broker that lost the session would otherwise leave the
        // twin connected to nothing).
        next(&mut tw.observed, |o| matches!(o, Observed::Subscribed)).await;
        client
            .publish(&topic, QoS::AtLeastOnce, false, state(2))
            .await
            .unwrap();
        next(&mut tw.observed, |o| matches!(o, Observed::Flowing)).await;
        tw.handle.stop().await.ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_alarm_nobody_in_the_community_answers_goes_up_the_three_loops_on_its_time_limits() {
        // Nobody on duty in the micro-loop (committee, grid, property firm), the twin's
        // clock at an hour a second: an elderly resident's emergency button (a fall, high
        // severity: an hour's limit in the micro-loop) must reach the street office when
        // that hour is up. (A fire goes up at once, by severity: not this path.)
        let mut s = civitas_scenarios::library::load("default").unwrap();
        let st = &mut s.parameters.staffing;
        (
            st.committee_day,
            st.committee_night,
            st.grid_workers_per_10k,
        ) = (0, 0, 0.0);
        (
            st.property_day_per_1000_households,
            st.property_night_per_1000_households,
        ) = (0.0, 0.0);
        let reg = registry_of(&s);
        let button = reg
            .iter()
            .find(|p| p.kind == DeviceKind::EmergencyButton)
            .expect("the default community has emergency buttons")
            .clone();
        let broker = local_broker();
        let mut opts = TwinOptions::new(s, reg, broker.endpoint());
        opts.speed = 3_600.0;
        let mut tw = subscribed_twin(opts).await;
        let client = publisher(&broker).await;
        raise_alarm(&client, &button).await;
        let fall = |e: &Event| {
            matches!(
                e,
                Event::Incident {
                    kind: IncidentKind::ElderlyFall,
                    ..
                }
            )
        };
        let e = event(&mut tw.events, |e| {
            fall(e)
                && matches!(
                    e,
                    Event::Incident {
                        stage: Stage::Escalated { .. },
                        ..
                    }
                )
        })
        .await;
        assert!(
            matches!(
                e,
                Event::Incident {
                    stage: Stage::Escalated {
                        reason: EscalationReason::Unanswered,
                        street: 0,
                        ..
                    },
                    ..
                }
            ),
            "nobody took it within the micro-loop's hour: {e:?}"
        );
        // The street office takes it, and whistles the department when its half hour is up.
        let e = event(&mut tw.events, |e| {
            fall(e)
                && matches!(
                    e,
                    Event::Incident {
                        stage: Stage::Whistled { .. },
                        ..
                    }
                )
        })
        .await;
        assert!(
            matches!(
                e,
                Event::Incident {
                    stage: Stage::Whistled {
                        department: Department::Health,
                        reason: EscalationReason::TimeLimit,
                        ..
                    },
                    ..
                }
            ),
            "{e:?}"
        );
        tw.handle.stop().await.ok();
    }

    /// A TLS front for `broker` on a port chosen now, with a self-signed certificate
    /// for `localhost`: its port and the certificate (PEM).
    async fn tls_front(broker: &EmbeddedBroker) -> (u16, String) {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.key_pair.serialize_der()));
        #[allow(deprecated)] // ring, as the bridge uses it
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![key.cert.der().clone()], der)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = broker.addr;
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(tcp).await
                        && let Ok(mut up) = tokio::net::TcpStream::connect(target).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                    }
                });
            }
        });
        (port, key.cert.pem())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_twin_reaches_a_broker_over_tls_and_refuses_a_certificate_it_cannot_trust() {
        use civitas_bridge::broker::BrokerUrl;
        let s = scenario();
        let reg = registry_of(&s);
        let smoke = reg
            .iter()
            .find(|p| p.kind == DeviceKind::SmokeDetector)
            .unwrap()
            .clone();
        let broker = local_broker();
        let (port, ca) = tls_front(&broker).await;
        let url = format!("mqtts://localhost:{port}");
        // Trusting only the system's roots: the self-signed broker is refused, and said why.
        let (tx, mut rx) = mpsc::channel(64);
        let _untrusting = ingest::start(
            IngestOptions {
                broker: BrokerUrl::parse(&url).unwrap(),
                client_id: "untrusting".into(),
                keep_alive: Duration::from_secs(5),
            },
            Mirror::new(placements(), MirrorLimits::default()),
            tx,
            wall_ms,
        );
        let refused = next(&mut rx, |o| matches!(o, Observed::Disconnected(_))).await;
        assert!(
            format!("{refused:?}")
                .to_lowercase()
                .contains("certificate"),
            "{refused:?}"
        );
        // Trusting its CA: the twin runs over TLS; an alarm published in plain to the
        // broker behind it becomes an incident.
        let over_tls = BrokerUrl::parse(&url)
            .unwrap()
            .with_ca(ca.as_bytes(), "ca.pem")
            .unwrap();
        let mut tw = subscribed_twin(TwinOptions::new(s, reg, over_tls)).await;
        let client = publisher(&broker).await;
        raise_alarm(&client, &smoke).await;
        event(&mut tw.events, |e| {
            matches!(e, Event::Incident { stage: Stage::Detected { by: DetectedBy::Device }, building, .. } if *building == smoke.building)
        })
        .await;
        tw.handle.stop().await.ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_gateway_that_dies_takes_its_devices_offline_through_its_last_will() {
        use civitas_bridge::wire::GATEWAY;
        let s = scenario();
        let reg = registry_of(&s);
        let device = reg[0].clone();
        let building = format!("b{}", device.building);
        let broker = local_broker();
        let mut tw = subscribed_twin(TwinOptions::new(s, reg, broker.endpoint())).await;
        // A building gateway: its own connection, `offline` as its last will.
        let mut o = MqttOptions::new("gateway", broker.addr.ip().to_string(), broker.addr.port());
        o.set_last_will(rumqttc::LastWill::new(
            topic("c0", &building, GATEWAY, Channel::Availability),
            r#"{"state":"offline"}"#,
            QoS::AtLeastOnce,
            true,
        ));
        let (gateway, mut connection) = AsyncClient::new(o, 10);
        let link = tokio::spawn(async move { while connection.poll().await.is_ok() {} });
        let state = format!(r#"{{"seq":1,"ts_ms":{},"state":"working"}}"#, wall_ms());
        gateway
            .publish(
                topic("c0", &building, &device.wire_id, Channel::State),
                QoS::AtLeastOnce,
                false,
                state,
            )
            .await
            .unwrap();
        next(&mut tw.observed, |o| matches!(o, Observed::Applied { .. })).await;
        // The gateway dies (its connection dropped without a goodbye): the broker
        // publishes its will, and its device goes offline in the actors.
        link.abort();
        let o = next(&mut tw.observed, |o| matches!(o, Observed::Gateway { .. })).await;
        let Observed::Gateway {
            route,
            availability,
            devices,
        } = o
        else {
            unreachable!()
        };
        assert_eq!(
            (route, availability, devices),
            (
                format!("c0/{building}"),
                Availability::Offline,
                vec![device.clone()]
            )
        );
        event(&mut tw.events, |e| {
            matches!(e, Event::Device { device: d, state: DeviceState::Offline, .. } if *d == device.device)
        })
        .await;
        tw.handle.stop().await.ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_device_that_falls_silent_goes_offline_and_comes_back_when_heard() {
        let s = scenario();
        let reg = registry_of(&s);
        let device = reg[0].clone();
        let broker = local_broker();
        let mut opts = TwinOptions::new(s, reg, broker.endpoint());
        opts.stale_after
            .insert(device.kind, Duration::from_millis(300));
        opts.check_every = Duration::from_millis(50);
        let mut tw = subscribed_twin(opts).await;
        let client = publisher(&broker).await;
        let reading = |seq: u64| {
            format!(
                r#"{{"seq":{seq},"ts_ms":{},"values":{{"battery_v":3.6}}}}"#,
                wall_ms()
            )
        };
        let topic = topic(
            "c0",
            &format!("b{}", device.building),
            &device.wire_id,
            Channel::Telemetry,
        );
        client
            .publish(&topic, QoS::AtLeastOnce, false, reading(1))
            .await
            .unwrap();
        let is = |state: DeviceState| {
            let device = device.device;
            move |e: &Event| matches!(e, Event::Device { device: d, state: s, .. } if *d == device && *s == state)
        };
        event(&mut tw.events, is(DeviceState::Offline)).await;
        client
            .publish(&topic, QoS::AtLeastOnce, false, reading(2))
            .await
            .unwrap();
        event(&mut tw.events, is(DeviceState::Working)).await;
        tw.handle.stop().await.ok();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_fleet_is_mirrored_whole_and_its_alarms_become_incidents_in_the_twin() {
        use civitas_actors::{Address, Inject, When};
        use civitas_bridge::fleet::{self, FleetOptions};
        let s = civitas_scenarios::library::load("default").unwrap();
        let reg = registry_of(&s);
        let broker = local_broker();
        let mut tw =
            subscribed_twin(TwinOptions::new(s.clone(), reg.clone(), broker.endpoint())).await;
        let f = fleet::start(FleetOptions::new(s, reg.clone(), broker.endpoint()))
            .await
            .expect("the fleet starts");
        assert_eq!(f.devices, reg.len());
        // Every device heard and online, within a timeout: waiting on what ingest saw.
        let whole = |tw: &twin::RunningTwin| {
            let m = tw.ingest.mirror.lock().unwrap();
            m.devices()
                .iter()
                .all(|d| d.last_seen.is_some() && d.availability == Availability::Online)
        };
        tokio::time::timeout(Duration::from_secs(60), async {
            while !whole(&tw) {
                tw.observed.recv().await.expect("ingest runs");
            }
        })
        .await
        .expect("every device of the default community mirrored within 60 s");
        // An alarm in the fleet's own model (as a drill would raise it there) is published
        // by the fleet and becomes an incident in the twin's actors.
        let smoke = reg
            .iter()
            .find(|p| p.kind == DeviceKind::SmokeDetector)
            .unwrap()
            .clone();
        let to = Address::Device {
            community: smoke.community,
            device: smoke.device,
        };
        let alarm = Inject::Device {
            device: smoke.device,
            state: DeviceState::Alarm,
        };
        f.handle
            .inject("test", When::Now, to, alarm)
            .await
            .expect("the fleet's engine takes the inject");
        let e = event(&mut tw.events, |e| {
            matches!(e, Event::Incident { stage: Stage::Detected { by: DetectedBy::Device }, building, .. } if *building == smoke.building)
        })
        .await;
        assert!(
            matches!(
                e,
                Event::Incident {
                    kind: IncidentKind::Fire,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            tw.ingest
                .mirror
                .lock()
                .unwrap()
                .get(&smoke.wire_id)
                .is_some_and(|d| d.alarm == Some(Some(IncidentKind::Fire))),
            "the mirror shows the alarm"
        );
        f.handle.stop().await.ok();
        tw.handle.stop().await.ok();
    }
}
