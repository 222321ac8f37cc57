//! A behaviour's own future: timed events ordered by (time, insertion sequence), so
//! ties resolve the same way every run.

use civitas_twin::time::SimTime;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

#[derive(Serialize, Deserialize)]
struct Entry<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A min-queue of timed events.
#[derive(Serialize, Deserialize)]
pub(crate) struct Timers<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    seq: u64,
}

impl<E> Default for Timers<E> {
    fn default() -> Self {
        Timers {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<E> Timers<E> {
    /// Schedules `event` at `at`.
    pub(crate) fn push(&mut self, at: SimTime, event: E) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            event,
        }));
    }

    /// Time of the earliest event.
    pub(crate) fn next_at(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.0.at)
    }

    /// Removes and returns the earliest event if it is due before `end`.
    pub(crate) fn pop_before(&mut self, end: SimTime) -> Option<(SimTime, E)> {
        if self.next_at()? < end {
            self.heap.pop().map(|Reverse(e)| (e.at, e.event))
        } else {
            None
        }
    }
}
