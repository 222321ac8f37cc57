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
