//! Money and yearly reports: the public types ([`Transfer`], [`Account`], [`Purpose`],
//! [`YearReport`], …) are part of the outside vocabulary in [`civitas_twin::vocab::ledger`]
//! and re-exported here; what only the behaviours use stays here.

pub use civitas_twin::vocab::ledger::*;

use civitas_twin::kinds::Obligation;
use serde::{Deserialize, Serialize};
use std::ops::{Index, IndexMut};

/// An amount of money (cents) for each of the government's [`Obligation`]s: what a
/// platform asks district finance for, and what finance pays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Obligations([i64; Obligation::ALL.len()]);

impl Obligations {
    /// The sum over all obligations.
    pub(crate) fn total(&self) -> i64 {
        self.0.iter().sum()
    }
}

impl Index<Obligation> for Obligations {
    type Output = i64;

    fn index(&self, o: Obligation) -> &i64 {
        &self.0[o.index()]
    }
}

impl IndexMut<Obligation> for Obligations {
    fn index_mut(&mut self, o: Obligation) -> &mut i64 {
        &mut self.0[o.index()]
    }
}
