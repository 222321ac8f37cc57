//! What happened to one incident: [`IncidentRecord`], defined with the rest of the
//! outside vocabulary in [`civitas_twin::vocab`] and re-exported here.

pub use civitas_twin::vocab::incident::*;
