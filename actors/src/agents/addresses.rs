//! Who is who: the actor ids of every organisation and building, fixed at assembly and
//! shared read-only by the behaviours. It lives with the behaviours, not with the
//! assembly that fills it in, so behaviours never import the assembly that builds them.

use crate::message::ActorId;
use civitas_twin::kinds::{Department, Handler};

/// The actors that serve one community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommunityAddresses {
    /// Its platform.
    pub(crate) platform: ActorId,
    /// Its residents committee (with grid staff).
    pub(crate) committee: ActorId,
    /// Its property firm.
    pub(crate) property: ActorId,
    /// Its street office.
    pub(crate) street_office: ActorId,
    /// That street office's index.
    pub(crate) street: u32,
    /// One building host per building, by building id.
    pub(crate) buildings: Vec<ActorId>,
}

impl CommunityAddresses {
    /// The micro-loop organization for a handler.
    pub(crate) fn handler(&self, h: Handler) -> ActorId {
        match h {
            Handler::Committee => self.committee,
            Handler::PropertyFirm => self.property,
        }
    }
}

/// Who is who: read-only after assembly, shared by every behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Addresses {
    /// Per community.
    pub(crate) communities: Vec<CommunityAddresses>,
    /// Street offices, by index.
    pub(crate) street_offices: Vec<ActorId>,
    /// Departments, by [`Department::index`].
    pub(crate) departments: Vec<ActorId>,
    /// District finance.
    pub(crate) finance: ActorId,
}

impl Addresses {
    /// A department's actor.
    pub(crate) fn department(&self, d: Department) -> ActorId {
        self.departments[d.index()]
    }
}
