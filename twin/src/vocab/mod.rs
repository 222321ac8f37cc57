//! The vocabulary the outside world speaks with a run, free of any runtime: where an
//! inject goes and what it says ([`inject`]), what people in the loops can do
//! with a case and who holds it ([`action`]), what the run reports back window by window
//! ([`events`]), the life of an incident ([`incident`]) and money ([`ledger`]).
//!
//! The engine (`civitas-actors`, with ractor and tokio) produces and consumes these
//! types; the scenario runner, the `--events` file, and the live half — the MQTT bridge,
//! the console and the viewer — read and write them without depending on the engine.
//! They derive serde because they are a file and stream format: the `--events` file
//! carries [`events::EVENTS_SCHEMA_VERSION`] on its first line, inject logs and
//! checkpoints carry their own versions.
//!
//! The enums are not `#[non_exhaustive]`: the engine and the summary must handle every
//! variant with an exhaustive match (a new event or stage that nobody handles must not
//! compile), which `#[non_exhaustive]` would forbid across crates. Outside readers are
//! protected by the schema version instead.

pub mod action;
pub mod events;
pub mod incident;
pub mod inject;
pub mod ledger;
