//! civitas-twin: the community model.
//!
//! What a smart community *is*, independent of how it is simulated or mirrored:
//! buildings on a site plan, households and residents, devices of the kinds the sources
//! name, the organizations that handle incidents, and the parameters that describe them.
//!
//! Main types:
//! - [`model::Community`] and [`model::District`]: the built world, plain data;
//! - [`spec::CommunitySpec`] and [`spec::DistrictSpec`]: the compact description a
//!   planner writes, turned into a world by [`generate`];
//! - [`kinds::DeviceKind`], [`kinds::IncidentKind`], [`kinds::Severity`],
//!   [`kinds::Level`], [`kinds::Department`]: the domain vocabulary;
//! - [`params::Parameters`]: every mechanism's parameters, with embedded, sourced
//!   defaults (`twin/parameters.toml`);
//! - [`rng`]: one reproducible random stream per entity;
//! - [`calendar::Calendar`]: the local date and hour of a simulated time;
//! - [`vocab`]: what the outside world and a run say to each other — injects, the
//!   observe stream's events and windows, incident records, transfers;
//! - [`mirror::Mirror`]: the live twin's state of real devices (reported, desired,
//!   last seen, availability), ordered by each device's own stamps;
//! - [`view::TwinView`]: the community as a watcher sees it from the observe stream
//!   (devices by state, open incidents by the loop that holds them);
//! - [`palette`]: the colours of device states and incident holders, the same in the 3D
//!   viewer and the web console.
//!
//! This crate does no I/O and never reads a clock. The spec and parameter types derive
//! serde because they *are* the scenario file format, and [`vocab`] because it is the
//! stream and file format of runs; the built world does not.

pub mod calendar;
pub mod economy;
pub mod generate;
pub mod kinds;
pub mod mirror;
pub mod model;
pub mod palette;
pub mod params;
pub mod rng;
pub mod spec;
pub mod time;
pub mod view;
pub mod vocab;

pub use generate::{generate_community, generate_district};
pub use model::{Community, District};
pub use params::Parameters;
