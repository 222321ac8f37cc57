//! civitas-actors: the actors of a smart community and the engine that runs them.
//!
//! - `agents` (internal): the behaviours, as plain state machines with no I/O — a
//!   building host (`agents::building`) for each building's residents, households and
//!   devices; the community platform (`agents::platform`, with its service market); the
//!   responders (`agents::responder`) for every organization that handles incidents
//!   (residents committee, property firm, street office, district departments); and
//!   district finance (`agents::finance`).
//! - [`Engine`]: hosts each behaviour in a ractor actor and drives them in conservative
//!   time windows on a [`Clock`], with `spawn`, `step`, `step_until`, `run` and `finish`.
//! - [`Assembly`]: the actors of a district, assembled from the community model.
//! - [`IncidentRecord`]: what happened to one incident, carried with it from actor to
//!   actor.
//! - [`ledger`]: money between [`ledger::Account`]s and the yearly reports.
//!
//! Determinism: each behaviour draws only from its entities' own streams and reads only
//! the messages the engine hands it, sorted by (time, priority, source, sequence).
//! Results are therefore identical on any number of worker threads.
//!
//! # Public API
//!
//! What other crates use; everything else is `pub(crate)`.
//! - assembly and running: [`Assembly`] (`build`, `actors`), [`Engine`], [`EngineError`],
//!   [`EngineStats`], [`RunResult`], [`Clock`], [`SimClock`], [`WallClock`];
//! - results: [`IncidentRecord`], [`incident::Escalation`], [`EscalationReason`],
//!   [`Tally`], [`DeviceTally`];
//! - money and reports: [`ledger::Account`], [`ledger::Purpose`], [`ledger::MoneyClass`],
//!   [`ledger::Transfer`], [`ledger::YearReport`], [`ledger::BuildingYear`],
//!   [`ledger::PlatformYear`], [`ledger::DeviceYear`].

pub(crate) mod agents;
pub mod assembly;
pub mod clock;
pub mod engine;
pub mod incident;
pub mod inject;
pub mod ledger;
pub(crate) mod message;
pub mod observe;
pub mod protocol;
pub(crate) mod timers;

pub use agents::{DeviceTally, Tally};
pub use assembly::Assembly;
pub use clock::{Clock, SimClock, WallClock};
pub use engine::{Engine, EngineError, EngineState, EngineStats, FailurePolicy, RunResult};
pub use incident::{EscalationReason, IncidentRecord};
pub use inject::{
    Action, Address, EngineHandle, Holdings, Inject, InjectError, InjectRecord, Injector,
    Organisation, Refusal, When,
};
pub use observe::{Collector, Event, Observer, Stage, Subscription, Window};
