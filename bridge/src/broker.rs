//! The embedded MQTT broker (rumqttd), configured so that it works out of the box:
//! clients are accepted (rumqttd's default `max_connections = 0` refuses them all), one
//! MQTT 3.1.1 listener on a port chosen at run time and reported back, payloads up to
//! [`BROKER_MAX_PAYLOAD`] (larger than the schema's limit, so that the twin sees an
//! oversized payload and counts it instead of the broker dropping the client), offline
//! queues sized for long outages. It runs on its own thread (its `start()` blocks) and
//! lives until the process exits: rumqttd 0.20 has no shutdown (NOTES).

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Largest packet the embedded broker accepts (bytes).
pub const BROKER_MAX_PAYLOAD: usize = 2 * 1024 * 1024;

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// No port could be chosen, or the one asked for is taken.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The broker's thread stopped before it accepted a connection.
    #[error("the embedded broker did not start: {0}")]
    Start(String),
}

/// A running embedded broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedBroker {
    /// Where clients connect.
    pub addr: SocketAddr,
}

impl EmbeddedBroker {
    /// Starts a broker on `ip` and `port` (0: a free port chosen now), and returns once
    /// it accepts connections (within 5 s).
    pub fn start(ip: IpAddr, port: u16) -> Result<EmbeddedBroker, BrokerError> {
        let asked = SocketAddr::new(ip, port);
        // rumqttd cannot report a port bound to 0: choose one, free it, hand it over.
        let addr = TcpListener::bind(asked)
            .and_then(|l| l.local_addr())
            .map_err(|source| BrokerError::Bind {
                addr: asked,
                source,
            })?;
        let config = config(addr);
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("civitas-broker".into())
            .spawn(move || {
                let mut broker = Broker::new(config);
                let message = match broker.start() {
                    Ok(()) => "the broker stopped".to_string(),
                    Err(e) => e.to_string(),
                };
                let _ = tx.send(message);
            })
            .map_err(|e| BrokerError::Start(e.to_string()))?;
        let target = if ip.is_unspecified() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        } else {
            addr
        };
        // Poll until it accepts (about 10 ms here), or its thread reports a failure.
        for _ in 0..500 {
            if let Ok(message) = rx.try_recv() {
                return Err(BrokerError::Start(message));
            }
            if TcpStream::connect_timeout(&target, Duration::from_millis(100)).is_ok() {
                return Ok(EmbeddedBroker { addr: target });
            }
            if let Ok(message) = rx.recv_timeout(Duration::from_millis(10)) {
                return Err(BrokerError::Start(message));
            }
        }
        Err(BrokerError::Start(format!(
            "it did not accept connections on {target} within 5 s"
        )))
    }

    /// The broker's URL for clients (`mqtt://host:port`).
    pub fn url(&self) -> String {
        format!("mqtt://{}", self.addr)
    }
}

fn config(addr: SocketAddr) -> Config {
    let server = ServerSettings {
        name: "v4-1".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 0,
        connections: ConnectionSettings {
            connection_timeout_ms: 5_000,
            max_payload_size: BROKER_MAX_PAYLOAD,
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 100_000,
            max_outgoing_packet_count: 200,
            // Offline queues: 100 MB × 10 per filter lost nothing in NOTES' outage test.
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_string(), server)])),
        ..Config::default()
    }
}

/// Where a broker is and how to log in: `mqtt://[user[:password]@]host[:port]` (port
/// 1883 by default), or `mqtts://…` over TLS (port 8883 by default), its certificate
/// checked against the system's roots or a CA file ([`BrokerUrl::with_ca`]).
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User name, if the broker asks for one.
    pub username: Option<String>,
    /// Password (never printed: `Debug` and `Display` hide it).
    pub password: Option<String>,
    /// TLS, if `mqtts://`.
    pub tls: Option<Tls>,
}

/// A TLS client configuration and what its roots are (for messages).
#[derive(Clone)]
pub struct Tls {
    config: std::sync::Arc<rustls::ClientConfig>,
    /// "the system's roots" or "the CA in FILE".
    pub roots: String,
}

impl PartialEq for Tls {
    fn eq(&self, other: &Tls) -> bool {
        self.roots == other.roots
    }
}

impl Eq for Tls {}

impl Tls {
    /// A client configuration trusting `roots` (ring as the crypto provider).
    // rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange;
    // aws-lc-rs has it but builds a large C library. Classical TLS 1.2/1.3 is what MQTT
    // brokers offer today; revisit when brokers negotiate post-quantum groups.
    #[allow(deprecated)]
    fn trusting(roots: rustls::RootCertStore, what: String) -> Result<Tls, String> {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls {
            config: std::sync::Arc::new(config),
            roots: what,
        })
    }

    /// Trusting the system's roots (those it can read; a broker signed by none of them
    /// fails at connection, with the reason).
    fn system() -> Result<Tls, String> {
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(c);
        }
        Tls::trusting(roots, "the system's roots".into())
    }
}

impl std::fmt::Debug for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BrokerUrl({self})")
    }
}

impl std::fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls.is_some() { "mqtts" } else { "mqtt" };
        write!(f, "{scheme}://")?;
        if let Some(u) = &self.username {
            write!(f, "{u}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl BrokerUrl {
    /// A broker at `host:port`, no login, no TLS.
    pub fn plain(host: impl Into<String>, port: u16) -> BrokerUrl {
        BrokerUrl {
            host: host.into(),
            port,
            username: None,
            password: None,
            tls: None,
        }
    }

    /// Reads `mqtt[s]://[user[:password]@]host[:port]`, or says what is wrong.
    pub fn parse(url: &str) -> Result<BrokerUrl, String> {
        let bad = |why: &str| format!("broker URL {url:?}: {why}");
        let (rest, tls, default_port) = if let Some(r) = url.strip_prefix("mqtt://") {
            (r, false, 1883)
        } else if let Some(r) = url.strip_prefix("mqtts://") {
            (r, true, 8883)
        } else {
            return Err(bad("expected mqtt://host[:port] or mqtts://host[:port]"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(bad("a broker URL has no path"));
        }
        let (login, hostport) = match rest.rsplit_once('@') {
            Some((l, h)) => (Some(l), h),
            None => (None, rest),
        };
        let (username, password) = match login {
            None => (None, None),
            Some(l) => match l.split_once(':') {
                Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
                None => (Some(l.to_string()), None),
            },
        };
        if username.as_deref() == Some("") {
            return Err(bad("empty user name before '@'"));
        }
        let (host, port) = match hostport.rsplit_once(':') {
            // An IPv6 address in brackets keeps its colons.
            Some((h, p)) if !p.contains(']') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| bad(&format!("port {p:?} is not a number from 0 to 65535")))?,
            ),
            _ => (hostport, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(BrokerUrl {
            host: host.to_string(),
            port,
            username,
            password,
            tls: if tls {
                Some(Tls::system().map_err(|e| bad(&e))?)
            } else {
                None
            },
        })
    }

    /// The same broker, its TLS certificate checked against the CA certificates in
    /// `pem` (read from `file`) instead of the system's roots.
    pub fn with_ca(mut self, pem: &[u8], file: &str) -> Result<BrokerUrl, String> {
        if self.tls.is_none() {
            return Err(format!(
                "--ca {file}: {self} is not TLS; a CA file goes with mqtts://"
            ));
        }
        let mut roots = rustls::RootCertStore::empty();
        let mut reader = pem;
        for c in rustls_pemfile::certs(&mut reader) {
            let c = c.map_err(|e| format!("--ca {file}: {e}"))?;
            roots
                .add(c)
                .map_err(|e| format!("--ca {file}: a certificate is not usable: {e}"))?;
        }
        if roots.is_empty() {
            return Err(format!(
                "--ca {file}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
            ));
        }
        self.tls = Some(Tls::trusting(roots, format!("the CA in {file}"))?);
        Ok(self)
    }

    /// rumqttc options for a client `client_id` of this broker.
    pub fn options(&self, client_id: String, keep_alive: Duration) -> rumqttc::MqttOptions {
        let mut o = rumqttc::MqttOptions::new(client_id, self.host.clone(), self.port);
        o.set_keep_alive(keep_alive);
        if let Some(u) = &self.username {
            o.set_credentials(u.clone(), self.password.clone().unwrap_or_default());
        }
        if let Some(t) = &self.tls {
            o.set_transport(rumqttc::Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(t.config.clone()),
            ));
        }
        o
    }
}

impl EmbeddedBroker {
    /// The broker as clients of this process reach it.
    pub fn endpoint(&self) -> BrokerUrl {
        BrokerUrl::plain(self.addr.ip().to_string(), self.addr.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_url_reads_with_its_login_and_every_fault_says_what_is_wrong() {
        let u = BrokerUrl::parse("mqtt://ops:s3cret@broker.example:8883").unwrap();
        assert_eq!(
            (
                u.host.as_str(),
                u.port,
                u.username.as_deref(),
                u.password.as_deref()
            ),
            ("broker.example", 8883, Some("ops"), Some("s3cret"))
        );
        assert_eq!(
            u.to_string(),
            "mqtt://ops@broker.example:8883",
            "no password shown"
        );
        assert!(!format!("{u:?}").contains("s3cret"));
        assert_eq!(
            BrokerUrl::parse("mqtt://10.0.0.5").unwrap(),
            BrokerUrl::plain("10.0.0.5", 1883)
        );
        assert_eq!(
            BrokerUrl::parse("mqtt://[::1]:1884/").unwrap(),
            BrokerUrl::plain("::1", 1884)
        );
        for (url, why) in [
            ("tcp://h:1", "expected mqtt://host[:port]"),
            ("mqtt://h:99999", "port \"99999\" is not a number"),
            ("mqtt://h:1/topic", "no path"),
            ("mqtt://:1883", "no host"),
            ("mqtt://@h", "empty user name"),
        ] {
            let e = BrokerUrl::parse(url).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
    }
}
