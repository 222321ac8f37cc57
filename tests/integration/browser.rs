//! The comparison's report as a planner sees it: rendered by headless Chromium (Debian's
//! `chromium`, installed by `scripts/setup-report`, which `scripts/test` runs), the
//! headline within the first screen. The screenshot is kept in
//! `target/tmp/report-headline.png` for a person to look at. And the live twin's web
//! console as an operator uses it, clicked through with chromedriver (Debian's
//! `chromium-driver`, installed by the same script); its screenshot is kept in
//! `target/tmp/console.png`.

use crate::cli::{civitas, output_within, stderr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Runs headless Chromium on `url` with `args` (a fresh profile in `profile`), within
/// 60 s; its stdout.
fn chromium(profile: &Path, args: &[&str], url: &str) -> String {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,800",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .arg(url);
    if which_chromium().is_none() {
        panic!("no chromium on PATH: scripts/setup-report installs it (scripts/test runs it)");
    }
    let out = output_within(cmd, Duration::from_secs(60));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Chromium's path, if it is installed.
fn which_chromium() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("chromium"))
            .find(|f| f.is_file())
    })
}

#[test]
fn the_report_opens_with_its_headline_on_the_first_screen_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let o = civitas(&[
        "compare",
        "old-small",
        "--models",
        "gov,hybrid",
        "--years",
        "2",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<section id=\"in-short\">"),
        "the headline section"
    );
    // Where the headline ends on a 1280 × 800 screen, as Chromium lays it out.
    let probe = out.join("probe.html");
    std::fs::write(
        &probe,
        html.replace(
            "</body>",
            "<script>const r = document.getElementById('in-short').getBoundingClientRect();\
             document.body.setAttribute('data-in-short-bottom', Math.round(r.bottom));</script></body>",
        ),
    )
    .unwrap();
    let dom = chromium(
        &dir.path().join("profile-1"),
        &["--dump-dom"],
        &format!("file://{}", probe.display()),
    );
    let at = dom
        .find("data-in-short-bottom=\"")
        .unwrap_or_else(|| panic!("the probe did not run: {}", &dom[..dom.len().min(500)]));
    let rest = &dom[at + "data-in-short-bottom=\"".len()..];
    let bottom: u32 = rest[..rest.find('"').unwrap()].parse().unwrap();
    assert!(
        (100..=800).contains(&bottom),
        "the headline ends {bottom} px down the page: it must fit the first 800 px"
    );
    // The screenshot, kept for a person to look at.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-headline.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &dir.path().join("profile-2"),
        &[&format!("--screenshot={}", shot.display())],
        &format!("file://{}", out.join("report.html").display()),
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

/// A minimal WebDriver client (the W3C protocol: JSON over HTTP/1.1) for chromedriver.
mod webdriver {
    use std::io::{Read, Write};

    /// The key of an element reference.
    const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

    /// One request; the answer's `value`.
    pub(super) fn call(port: u16, method: &str, path: &str, body: &str) -> serde_json::Value {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("chromedriver");
        s.set_read_timeout(Some(std::time::Duration::from_secs(90)))
            .unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        // chromedriver keeps the connection open: the headers, then Content-Length bytes.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no content-length: {head}"));
        let mut body = vec![0u8; length];
        s.read_exact(&mut body).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
        v["value"].clone()
    }

    /// The first element matching `selector` (`using`: "css selector" or "xpath"),
    /// waiting up to the session's implicit wait for it to appear.
    pub(super) fn find(
        port: u16,
        session: &str,
        using: &str,
        selector: &str,
    ) -> Result<String, serde_json::Value> {
        let v = call(
            port,
            "POST",
            &format!("/session/{session}/element"),
            &serde_json::json!({"using": using, "value": selector}).to_string(),
        );
        v.get(ELEMENT)
            .and_then(|id| id.as_str())
            .map(str::to_string)
            .ok_or(v)
    }

    /// Finds the first element matching `selector` and asks `request` of it (a method
    /// and a path under the element), until it answers without an error. The console
    /// redraws its lists on every update, so an element found may be gone a moment later
    /// ("stale element reference"): found again and asked again, at most ten times.
    fn on_element(
        port: u16,
        session: &str,
        using: &str,
        selector: &str,
        request: (&str, &str, &str),
    ) -> serde_json::Value {
        let (method, tail, body) = request;
        let mut last = serde_json::Value::Null;
        for _ in 0..10 {
            let id =
                find(port, session, using, selector).unwrap_or_else(|e| panic!("{selector}: {e}"));
            let v = call(
                port,
                method,
                &format!("/session/{session}/element/{id}/{tail}"),
                body,
            );
            if v.get("error").is_none() {
                return v;
            }
            last = v;
        }
        panic!("{selector}: {last}");
    }

    /// Clicks the first element matching `selector`.
    pub(super) fn click(port: u16, session: &str, using: &str, selector: &str) {
        on_element(port, session, using, selector, ("POST", "click", "{}"));
    }

    /// The text of the first element matching `selector`.
    pub(super) fn text(port: u16, session: &str, using: &str, selector: &str) -> String {
        on_element(port, session, using, selector, ("GET", "text", ""))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's text, its refresh count and any error (for a failure's message).
    pub(super) fn page(port: u16, session: &str) -> serde_json::Value {
        call(
            port,
            "POST",
            &format!("/session/{session}/execute/sync"),
            r#"{"script":"return [document.body.dataset.refreshes, document.body.dataset.error, document.body.innerText]","args":[]}"#,
        )
    }

    /// Decodes standard base64 (a screenshot).
    pub(super) fn base64(s: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        };
        let sextets: Vec<u8> = s.bytes().filter_map(value).collect();
        sextets
            .chunks(4)
            .flat_map(|c| {
                let n = c.iter().fold(0u32, |n, v| n << 6 | u32::from(*v)) << (6 * (4 - c.len()));
                [(n >> 16) as u8, (n >> 8) as u8, n as u8]
                    .into_iter()
                    .take(c.len().saturating_sub(1))
            })
            .collect()
    }
}

/// The console in a real browser: `civitas twin` with its simulated fleet, on an estate
/// with nobody on duty in the micro-loop (so every case waits for the person at the
/// console), a resident's wearable raising a fall over MQTT, and an operator in headless
/// Chromium (driven through chromedriver) who sees the fall appear in the community loop,
/// acknowledges it and hands it to the other micro-loop organisation by clicking, and
/// sees each change. The screenshot is kept in `target/tmp/console.png`.
#[test]
fn an_operator_sees_an_alarm_in_the_console_and_acts_on_it_by_clicking() {
    use crate::live::{broker_port, lines_of};
    use std::io::BufRead;
    use webdriver::{call, click, find, text};
    assert!(
        which_chromium().is_some(),
        "no chromium on PATH: scripts/setup-report installs it (scripts/test runs it)"
    );
    let here = tempfile::tempdir().unwrap();
    let drill = here.path().join("drill.toml");
    std::fs::write(
        &drill,
        "schema_version = 1\nextends = \"old-small\"\nname = \"console-drill\"\n\
         description = \"The old estate, nobody on duty in the micro-loop\"\n\
         [parameters.staffing]\ncommittee_day = 0\ncommittee_night = 0\n\
         grid_workers_per_10k = 0.0\nproperty_day_per_1000_households = 0.0\n\
         property_night_per_1000_households = 0.0\n",
    )
    .unwrap();
    let mut twin = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .current_dir(here.path())
        .arg("twin")
        .arg(&drill)
        .args(["--port", "0", "--console", "127.0.0.1:0"])
        // A minute a second: the platform dispatches within a second or two.
        .args(["--speed", "60", "--stop-after", "300"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("civitas twin starts");
    let rx = lines_of(&mut twin);
    let mut seen: Vec<String> = Vec::new();
    let (mut broker, mut api) = (None, None);
    while broker.is_none() || api.is_none() || !seen.iter().any(|l| l.starts_with("fleet:")) {
        let l = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{e}: {seen:#?}"));
        if l.starts_with("broker: ") {
            broker = Some(broker_port(&l));
        }
        if let Some(a) = l.strip_prefix("api: http://") {
            api = a.split('/').next().map(str::to_string);
        }
        seen.push(l);
    }
    let (broker, api) = (broker.unwrap(), api.unwrap());
    // chromedriver, on the port it says when it is ready.
    let mut driver = Command::new("chromedriver")
        .arg("--port=0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver (scripts/setup-report installs it)");
    let mut driver_out = std::io::BufReader::new(driver.stdout.take().unwrap()).lines();
    let line = driver_out
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("was started successfully on port"))
        .expect("chromedriver says its port");
    // Its later lines are read and dropped, so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in driver_out {});
    let port: u16 = line
        .rsplit("port ")
        .next()
        .and_then(|p| p.trim_end_matches('.').parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    let profile = here.path().join("profile");
    let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "binary": which_chromium().unwrap(),
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--window-size=1500,900",
                 format!("--user-data-dir={}", profile.display())]}}}});
    let s = call(port, "POST", "/session", &caps.to_string());
    let session = s["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{s}"))
        .to_string();
    // Every find waits up to 30 s for its element: the event, with a timeout.
    call(
        port,
        "POST",
        &format!("/session/{session}/timeouts"),
        r#"{"implicit": 30000}"#,
    );
    call(
        port,
        "POST",
        &format!("/session/{session}/url"),
        &serde_json::json!({"url": format!("http://{api}/")}).to_string(),
    );
    find(port, &session, "xpath", "//span[@id='conn'][text()='live']")
        .expect("the console's stream is live");
    // A resident's wearable raises a fall.
    let wearable = {
        let s = civitas_scenarios::library::load("old-small").unwrap();
        let district = civitas_scenarios::runner::build_district_for(&s, s.seed, s.model);
        civitas_bridge::registry::generate(&district)
            .into_iter()
            .rfind(|p| p.kind == civitas_twin::kinds::DeviceKind::ElderlyWearable)
            .unwrap()
    };
    let (client, mut connection) = rumqttc::Client::new(
        rumqttc::MqttOptions::new("wearable", "127.0.0.1", broker),
        10,
    );
    std::thread::spawn(move || for _ in connection.iter() {});
    #[allow(clippy::disallowed_methods)] // a device stamps its messages with its clock
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 1;
    client
        .publish(
            format!(
                "civitas/v1/c0/b{}/{}/alarm",
                wearable.building, wearable.wire_id
            ),
            rumqttc::QoS::AtLeastOnce,
            false,
            format!(r#"{{"seq":1000000,"ts_ms":{ts},"active":true,"kind":"elderly_fall"}}"#),
        )
        .unwrap();
    // It appears in the community loop, dispatched, its time limit counting down; the
    // operator selects it.
    let row = format!(
        "//div[@id='loop-micro']//button[@data-kind='elderly_fall'][@data-building='{}'][contains(., 'due in')]",
        wearable.building
    );
    find(port, &session, "xpath", &row).unwrap_or_else(|e| {
        panic!(
            "the fall does not appear in the community loop with its time limit: {e}\npage: {}",
            webdriver::page(port, &session)
        )
    });
    click(port, &session, "xpath", &row);
    let held_by = text(port, &session, "css selector", "#holder");
    assert!(
        held_by.contains("committee") || held_by.contains("property firm"),
        "{held_by}"
    );
    // Acknowledge: taken, and in its history.
    click(
        port,
        &session,
        "css selector",
        "button[data-action='acknowledge']",
    );
    find(
        port,
        &session,
        "xpath",
        "//ol[@class='history']/li[contains(., 'acknowledged')]",
    )
    .unwrap_or_else(|e| {
        panic!(
            "acknowledged in the history: {e}\npage: {}",
            webdriver::page(port, &session)
        )
    });
    // Dispatch to the other organisation: the holder changes.
    let other = if held_by.contains("committee") {
        "property firm"
    } else {
        "committee"
    };
    click(
        port,
        &session,
        "css selector",
        "button[data-action='dispatch']",
    );
    find(
        port,
        &session,
        "xpath",
        &format!("//p[@id='holder'][contains(., 'held by {other}')]"),
    )
    .unwrap_or_else(|e| {
        panic!(
            "the holder becomes the {other}: {e}\npage: {}",
            webdriver::page(port, &session)
        )
    });
    // Kept for a person to look at.
    let shot = call(port, "GET", &format!("/session/{session}/screenshot"), "");
    let png = webdriver::base64(shot.as_str().unwrap_or_default());
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("console.png"),
        &png,
    )
    .unwrap();
    call(port, "DELETE", &format!("/session/{session}"), "");
    for mut child in [driver, twin] {
        child.kill().ok();
        child.wait().ok();
    }
}
