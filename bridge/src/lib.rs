//! civitas-bridge: the live twin's edge, the only crate that knows MQTT.
//!
//! - [`broker`]: an embedded MQTT broker (rumqttd) that accepts clients out of the box,
//!   on a port chosen at run time;
//! - [`wire`]: the native schema `civitas/v1/<community>/<building>/<device>/<channel>`
//!   with JSON payloads, read into the twin's types at the edge;
//! - [`ingest`]: one client subscribed to the schema, every message validated and
//!   applied to the twin's [`civitas_twin::mirror::Mirror`], refusals counted by reason.
//!
//! Still to come (issue 26's later steps): the device registry file, rules that turn
//! alarms and silences into injects through the engine's handle, the fleet simulator,
//! `civitas twin`, external brokers by URL with TLS.

pub mod broker;
pub mod ingest;
pub mod wire;
