//! civitas-actors: the actors of a smart community and the engine that runs them.
//!
//! - [`agents`]: the behaviours, as plain state machines with no I/O — a building
//!   [`agents::shard`] hosting its residents, households and devices; the community
//!   [`agents::platform`]; and [`agents::responder`] for every organization that
//!   handles incidents (residents committee, property firm, street office, district
//!   departments).
//! - [`engine::Engine`]: hosts each behaviour in a ractor actor and drives them in
//!   conservative time windows on a [`clock::Clock`], with `step`, `step_until` and `run`.
//! - [`world::World`]: assembles the actors for a district from the community model.
//! - [`incident::IncidentRecord`]: what happened to one incident, carried with it from
//!   actor to actor.
//!
//! Determinism: each behaviour draws only from its entities' own streams and reads only
//! the messages the engine hands it, sorted by (time, priority, source, sequence).
//! Results are therefore identical on any number of worker threads.

pub mod agents;
pub mod clock;
pub mod engine;
pub mod incident;
pub mod ledger;
pub mod message;
pub mod timers;
pub mod world;

pub use clock::{Clock, SimClock, WallClock};
pub use engine::{Engine, EngineError, EngineStats, RunResult};
pub use incident::{EscalationReason, IncidentRecord};
pub use world::World;
