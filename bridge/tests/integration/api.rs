//! The operator API over real HTTP on a loopback port chosen at run time, against a twin
//! on the embedded broker: every route, actions and commands through it, bad input, the
//! live stream, metrics, and the OpenAPI document kept in step with the routes.

use super::live::{local_broker, publisher, registry_of, scenario, subscribed_twin};
use super::*;
use civitas_bridge::api::{OPENAPI, ROUTES};
use civitas_bridge::twin::{RunningTwin, TwinOptions};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 request; the status and the body.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut out))
        .await
        .expect("answered within the timeout")
        .unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A twin of the old estate with its API on a free loopback port.
async fn twin_with_api() -> (EmbeddedBroker, RunningTwin, std::net::SocketAddr) {
    let s = scenario();
    let reg = registry_of(&s);
    let broker = local_broker();
    let mut opts = TwinOptions::new(s, reg, broker.endpoint());
    opts.console = Some("127.0.0.1:0".parse().unwrap());
    opts.speed = 60.0;
    let tw = subscribed_twin(opts).await;
    let addr = tw.console.expect("the API listens");
    (broker, tw, addr)
}

#[test]
fn the_openapi_document_lists_exactly_the_routes_served() {
    let doc = json(OPENAPI);
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let mut served: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
    // And the router serves every one of them (not the fallback's "no such route").
    let src = include_str!("../../src/api.rs");
    for (_, path) in ROUTES {
        let axum_path = path.replace('{', ":").replace('}', "");
        assert!(
            src.contains(&format!(".route(\"{axum_path}\"")),
            "{path} is not routed in api.rs"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_listed_filtered_and_found_and_bad_queries_say_why() {
    let (broker, _tw, api) = twin_with_api().await;
    let (status, body) = http(api, "GET", "/api/v1/devices", "").await;
    assert_eq!(status, 200, "{body}");
    let all = json(&body);
    assert_eq!(all["total"], 146);
    let (_, body) = http(
        api,
        "GET",
        "/api/v1/devices?kind=smoke_detector&limit=2",
        "",
    )
    .await;
    let smoke = json(&body);
    assert!(smoke["total"].as_u64().unwrap() >= 2);
    assert_eq!(smoke["items"].as_array().unwrap().len(), 2);
    let first = smoke["items"][0]["wire_id"].as_str().unwrap().to_string();
    assert_eq!(smoke["items"][0]["kind"], "smoke_detector");
    // A device heard: online in the mirror.
    let client = publisher(&broker).await;
    client
        .publish(
            topic("c0", "b0", &first, Channel::Availability),
            QoS::AtLeastOnce,
            false,
            r#"{"state":"online"}"#,
        )
        .await
        .unwrap();
    let mut tries = 0;
    loop {
        let (status, body) = http(api, "GET", &format!("/api/v1/devices/{first}"), "").await;
        assert_eq!(status, 200);
        if json(&body)["availability"] == "online" {
            break;
        }
        tries += 1;
        assert!(tries < 1000, "never online: {body}");
        tokio::task::yield_now().await;
    }
    let (_, body) = http(api, "GET", "/api/v1/devices?availability=online", "").await;
    assert_eq!(json(&body)["total"], 1);
    // The site plan, in the 3D viewer's colours, and the console that draws it.
    let (status, body) = http(api, "GET", "/api/v1/site", "").await;
    assert_eq!(status, 200);
    let site = json(&body);
    let c0 = &site["communities"][0];
    assert!(c0["buildings"].as_array().unwrap().len() > 1, "{c0}");
    assert!(c0["buildings"][0]["width_m"].as_f64().unwrap() > 0.0);
    use civitas_twin::palette;
    use civitas_twin::vocab::events::DeviceState;
    assert_eq!(
        site["device_colours"]["alarm"],
        palette::hex(palette::device(DeviceState::Alarm))
    );
    assert_eq!(
        site["holder_colours"]["street"],
        palette::hex(palette::incident(civitas_twin::view::Holder::Street))
    );
    let (status, page) = http(api, "GET", "/", "").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<script src="/console.js">"#), "{page}");
    for asset in ["/console.js", "/console.css"] {
        let (status, body) = http(api, "GET", asset, "").await;
        assert!(status == 200 && body.len() > 500, "{asset}: {status}");
    }
    for (path, status, words) in [
        (
            "/api/v1/devices/nope",
            404,
            "no device \"nope\" in the registry",
        ),
        (
            "/api/v1/devices?kind=toaster",
            400,
            "unknown device kind \"toaster\"",
        ),
        (
            "/api/v1/devices?limit=0",
            400,
            "limit must be from 1 to 10000",
        ),
        ("/api/v1/devices?colour=red", 400, "bad query"),
        (
            "/api/v1/devices?availability=maybe",
            400,
            "availability is online",
        ),
        ("/api/v2/anything", 404, "no such route"),
    ] {
        let (got, body) = http(api, "GET", path, "").await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(
            json(&body)["error"].as_str().unwrap().contains(words),
            "{path}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_is_seen_and_acted_on_through_the_api_as_its_holder() {
    let (broker, mut tw, api) = twin_with_api().await;
    let smoke = registry_of(&scenario())
        .into_iter()
        .find(|p| p.kind == DeviceKind::SmokeDetector)
        .unwrap();
    // The live stream first, so the incident's windows reach it.
    let mut stream = tokio::net::TcpStream::connect(api).await.unwrap();
    stream
        .write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Subscribed once its headers are back.
    let mut seen = Vec::new();
    tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("text/event-stream") {
            let n = stream.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the stream's headers");
    let client = publisher(&broker).await;
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
            format!(r#"{{"seq":1,"ts_ms":{},"active":true}}"#, wall_ms()),
        )
        .await
        .unwrap();
    // Dispatched to a micro-loop organisation, in the API.
    let (id, holder) = tokio::time::timeout(WAIT, async {
        loop {
            let (_, body) = http(api, "GET", "/api/v1/incidents", "").await;
            let v = json(&body);
            if let Some(i) = v["items"].as_array().unwrap().first()
                && !i["holding"]["holder"].is_null()
            {
                return (i["id"].as_u64().unwrap(), i["holding"]["holder"].clone());
            }
            let _ = tw.events.recv().await;
        }
    })
    .await
    .expect("the incident dispatched within the timeout");
    let (status, body) = http(api, "GET", &format!("/api/v1/incidents/{id}"), "").await;
    assert_eq!(status, 200);
    // Its micro-loop holder's time limit: its severity's, from its arrival (a fire is
    // critical: none at all, it goes straight up).
    let view = json(&body);
    if view["holding"]["holder"].to_string().contains("community") {
        let p = &scenario().parameters;
        let limit = p
            .severity(p.incident(IncidentKind::Fire).severity)
            .micro_limit_hours;
        assert_eq!(
            view["deadline"].as_u64(),
            view["holding"]["arrives"]
                .as_u64()
                .map(|a| a + (limit * 3_600.0) as u64),
            "{view}"
        );
    }
    let stages: Vec<String> = json(&body)["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].to_string())
        .collect();
    assert!(stages.iter().any(|s| s.contains("detected")), "{stages:?}");
    // Someone else may not act on it; its holder acknowledges it.
    let other = serde_json::json!({"street_office": {"street": 0}});
    let act = |by: &serde_json::Value, action: &str| format!(r#"{{"by":{by},"action":{action}}}"#);
    let (status, body) = http(
        api,
        "POST",
        &format!("/api/v1/incidents/{id}/actions"),
        &act(&other, r#""acknowledge""#),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = http(
        api,
        "POST",
        &format!("/api/v1/incidents/{id}/actions"),
        &act(&holder, r#""acknowledge""#),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let at = json(&body)["at"].as_u64().unwrap();
    tokio::time::timeout(WAIT, async {
        loop {
            let (_, body) = http(api, "GET", &format!("/api/v1/incidents/{id}"), "").await;
            if body.contains("acknowledged") {
                return;
            }
            let _ = tw.events.recv().await;
        }
    })
    .await
    .expect("acknowledged in the incident's history");
    assert!(at > 0);
    // Bad actions, ids and bodies: a 4xx with the reason, nothing applied.
    for (path, body, status, words) in [
        (
            format!("/api/v1/incidents/{id}/actions"),
            "{".to_string(),
            400,
            "JSON",
        ),
        (
            format!("/api/v1/incidents/{id}/actions"),
            act(&holder, r#""dance""#),
            422,
            "unknown variant",
        ),
        (
            "/api/v1/incidents/x/actions".to_string(),
            act(&holder, r#""close""#),
            400,
            "whole number",
        ),
        (
            "/api/v1/incidents/999999/actions".to_string(),
            act(&holder, r#""close""#),
            409,
            "999999",
        ),
        (
            format!("/api/v1/incidents/{id}/actions"),
            format!(
                r#"{{"by":{holder},"action":"close","pad":"{}"}}"#,
                "x".repeat(20_000)
            ),
            413,
            "",
        ),
    ] {
        let (got, answer) = http(api, "POST", &path, &body).await;
        assert_eq!(got, status, "{path}: {answer}");
        assert!(answer.contains(words), "{path}: {answer}");
    }
    let (status, _) = http(api, "GET", "/api/v1/incidents/424242", "").await;
    assert_eq!(status, 404);
    // The stream carried the incident's windows.
    tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("\"detected\"") {
                return;
            }
        }
    })
    .await
    .expect("the stream carries the incident");
    assert!(String::from_utf8_lossy(&seen).contains("text/event-stream"));
    tw.handle.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_go_through_the_api_with_the_policy_and_metrics_count_them() {
    let (broker, mut tw, api) = twin_with_api().await;
    let door = registry_of(&scenario())
        .into_iter()
        .find(|p| p.kind == DeviceKind::AccessControl)
        .unwrap();
    // The door is online (never answering: the command stays open).
    let client = publisher(&broker).await;
    client
        .publish(
            topic(
                "c0",
                &format!("b{}", door.building),
                &door.wire_id,
                Channel::Availability,
            ),
            QoS::AtLeastOnce,
            false,
            r#"{"state":"online"}"#,
        )
        .await
        .unwrap();
    next(&mut tw.observed, |o| {
        matches!(o, Observed::Availability { .. })
    })
    .await;
    let ask = |device: &str, action: &str, seat: &str| {
        format!(r#"{{"device":"{device}","action":"{action}","seat":"{seat}"}}"#)
    };
    let (status, body) = http(
        api,
        "POST",
        "/api/v1/commands",
        &ask(&door.wire_id, "release_doors", "property_firm@community:0"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let id = json(&body)["command"].as_str().unwrap().to_string();
    let (status, body) = http(api, "GET", &format!("/api/v1/commands/{id}"), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["state"], "sent");
    for (body, status, words) in [
        (
            ask(&door.wire_id, "release_doors", "committee@community:0"),
            403,
            "committee may not command access_control",
        ),
        (
            ask("nope", "release_doors", "property_firm@community:0"),
            404,
            "no device",
        ),
        (
            ask(&door.wire_id, "start_pump", "property_firm@community:0"),
            422,
            "cannot start_pump",
        ),
        (
            ask(&door.wire_id, "open_sesame", "property_firm@community:0"),
            400,
            "unknown action",
        ),
        (
            ask(&door.wire_id, "release_doors", "mayor"),
            400,
            "expected role@area",
        ),
        (r#"{"device":"#.to_string(), 400, "EOF"),
    ] {
        let (got, answer) = http(api, "POST", "/api/v1/commands", &body).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer.contains(words), "{body}: {answer}");
    }
    let (status, _) = http(api, "GET", "/api/v1/commands/none-1", "").await;
    assert_eq!(status, 404);
    let (status, body) = http(api, "GET", "/api/v1/commands?limit=5", "").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)[0]["id"], id.as_str(), "the newest first");
    let (status, _) = http(api, "GET", "/api/v1/commands?limit=0", "").await;
    assert_eq!(status, 400);
    // The metrics say so.
    let (status, text) = http(api, "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    for line in [
        "civitas_commands_total 1",
        "civitas_mirror_devices 146",
        "civitas_mirror_devices_online 1",
        "civitas_messages_refused_total{reason=\"malformed_json\"} 0",
        "civitas_api_client_errors_total 8",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    let (_, status_body) = http(api, "GET", "/api/v1/status", "").await;
    let s = json(&status_body);
    assert_eq!(
        (s["devices"].as_u64(), s["commands_open"].as_u64()),
        (Some(146), Some(1))
    );
    let (status, doc) = http(api, "GET", "/api/v1/openapi.json", "").await;
    assert_eq!(
        (status, json(&doc)["openapi"].as_str()),
        (200, Some("3.0.3"))
    );
    tw.handle.stop().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_an_address_that_is_not_loopback() {
    let s = scenario();
    let reg = registry_of(&s);
    let broker = local_broker();
    let mut opts = TwinOptions::new(s, reg, broker.endpoint());
    opts.console = Some("0.0.0.0:0".parse().unwrap());
    let e = civitas_bridge::twin::start(opts)
        .await
        .err()
        .expect("refused");
    assert!(
        e.to_string().starts_with(
            "the console listens on loopback only (0.0.0.0:0 is not): it has no authentication yet"
        ),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_client_that_stops_reading_is_dropped_with_a_count_and_blocks_nothing() {
    let (_broker, tw, api) = twin_with_api().await;
    let state = tw.api.clone().expect("the API's state");
    // A client subscribes and then reads nothing.
    let mut slow = tokio::net::TcpStream::connect(api).await.unwrap();
    slow.write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 256];
    let n = slow.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).contains("text/event-stream"));
    // Far more windows than its 1,024 places, each 4 KiB: its socket fills, it falls behind.
    let window: Arc<str> = format!("{{\"pad\":\"{}\"}}", "x".repeat(4096)).into();
    // (Once it is dropped nobody listens and a send is refused: not counted, not retried.)
    for _ in 0..5_000 {
        let _ = state.windows.send(window.clone());
    }
    // Meanwhile the API answers everyone else at once.
    let (status, _) = http(api, "GET", "/api/v1/status", "").await;
    assert_eq!(status, 200);
    // When it reads again it is told it was dropped, and the stream ends.
    let mut all = Vec::new();
    tokio::time::timeout(WAIT, slow.read_to_end(&mut all))
        .await
        .expect("the stream ends")
        .unwrap();
    let text = String::from_utf8_lossy(&all);
    assert!(
        text.contains("event: dropped") && text.contains("windows behind"),
        "{}",
        &text[text.len().saturating_sub(300)..]
    );
    let (_, metrics) = http(api, "GET", "/metrics", "").await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "civitas_stream_subscribers_dropped_total 1"),
        "{metrics}"
    );
    tw.handle.stop().await.ok();
}
