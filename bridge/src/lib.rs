//! civitas-bridge: the live twin's edge, the only crate that knows MQTT.
//!
//! - [`api`]: the operator API over HTTP (axum) on loopback: devices, incidents and
//!   actions, commands, a live stream, metrics, its OpenAPI document;
//! - [`broker`]: an embedded MQTT broker (rumqttd) that accepts clients out of the box,
//!   on a port chosen at run time;
//! - [`wire`]: the native schema `civitas/v1/<community>/<building>/<device>/<channel>`
//!   with JSON payloads, read into the twin's types at the edge;
//! - [`ingest`]: one client subscribed to the schema, every message validated and
//!   applied to the twin's [`civitas_twin::mirror::Mirror`], refusals counted by reason;
//! - [`registry`]: which wire id is which device of the twin (a CSV file);
//! - [`commands`]: every command to a device tracked from queued to a terminal state,
//!   confirmed only by the device;
//! - [`forward`]: the twin's task that publishes commands, reads the devices' answers,
//!   tells the actors and writes the audit;
//! - [`ops`]: operators' command requests to the running twin over MQTT, and the client;
//! - [`policy`]: who may command which devices where (a role over an area), and how
//!   commands reach each kind of device, as a TOML file;
//! - [`rules`]: thresholds, geofences and silence limits as a TOML file;
//! - [`fleet`]: the device fleet simulator — a generated community's devices on the
//!   native schema, driven by the model;
//! - [`twin`]: the live twin — the engine on the wall clock, ingest, and the rules that
//!   turn alarms, failures and silences into injects through the engine's handle.

pub mod api;
pub mod bench;
pub mod broker;
pub mod commands;
pub mod fleet;
pub mod forward;
pub mod ingest;
pub mod ops;
pub mod policy;
pub mod registry;
pub mod rules;
pub mod twin;
pub mod wire;
