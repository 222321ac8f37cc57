//! Fixtures for the behaviours' unit tests: a tiny generated community assembled with
//! default parameters, a hand-built address book, envelopes, and a driver that steps a
//! behaviour window by window as the engine does.

use super::{Behaviour, StepOutput, step};
use crate::agents::addresses::{Addresses, CommunityAddresses};
use crate::assembly::Assembly;
use crate::incident::IncidentRecord;
use crate::message::{ActorId, Envelope, Payload};
use civitas_twin::generate::single_community_district;
use civitas_twin::kinds::{
    Department, DeviceKind, EstateAge, IncidentKind, InvestmentModel, Region,
};
use civitas_twin::model::District;
use civitas_twin::params::Parameters;
use civitas_twin::spec::CommunitySpec;
use civitas_twin::time::SimTime;
use std::sync::Arc;

/// The engine's window in these tests (the default `engine.window_secs`).
pub(crate) const WINDOW: SimTime = 60;

/// A community of `residents` (a quarter of them 60+, in an estate of age `age`) with
/// smoke detectors in every household and wearables for half the elderly.
pub(crate) fn district(residents: u32, age: EstateAge, params: &Parameters) -> District {
    let spec = CommunitySpec {
        name: "t".into(),
        residents,
        elderly_share: 0.25,
        age,
        region: Region::Developed,
        devices: [
            (DeviceKind::SmokeDetector, 1.0),
            (DeviceKind::ElderlyWearable, 0.5),
        ]
        .into_iter()
        .collect(),
        investors: Default::default(),
        shared_platform: false,
    };
    single_community_district(&spec, params, 1)
}

/// The actors of [`district`] under the hybrid model, and the addresses they use.
pub(crate) fn assembly(residents: u32, age: EstateAge, params: &Parameters) -> Assembly {
    let d = district(residents, age, params);
    Assembly::build(&d, params, 1, InvestmentModel::Hybrid)
}

/// One community's address book, by hand: buildings are actors 0 and 1, then platform
/// 10, committee 11, property firm 12, street office 13, departments 20…25, finance 30.
/// A run context for behaviours built in tests: `p`, the default calendar and
/// [`addresses`].
pub(crate) fn context(p: &Parameters) -> crate::agents::Shared {
    crate::agents::Shared::new(
        Arc::new(p.clone()),
        Arc::new(civitas_twin::calendar::Calendar::default()),
        addresses(),
    )
}

pub(crate) fn addresses() -> Arc<Addresses> {
    Arc::new(Addresses {
        communities: vec![CommunityAddresses {
            platform: ActorId(10),
            committee: ActorId(11),
            property: ActorId(12),
            street_office: ActorId(13),
            street: 0,
            buildings: vec![ActorId(0), ActorId(1)],
        }],
        street_offices: vec![ActorId(13)],
        departments: (0..Department::ALL.len() as u32)
            .map(|i| ActorId(20 + i))
            .collect(),
        finance: ActorId(30),
    })
}

/// A detected incident of `kind` in building 0, created at `at`.
pub(crate) fn incident(
    id: u64,
    kind: IncidentKind,
    params: &Parameters,
    at: SimTime,
) -> Box<IncidentRecord> {
    let mut rec = IncidentRecord::new(id, kind, params.incident(kind).severity, at);
    rec.detected = Some(at);
    Box::new(rec)
}

/// An envelope from `src` to `dst` at `at`; `seq` orders envelopes from one sender.
pub(crate) fn envelope(
    at: SimTime,
    src: ActorId,
    seq: u64,
    dst: ActorId,
    payload: Payload,
) -> Envelope {
    Envelope {
        at,
        src,
        seq,
        dst,
        payload,
    }
}

/// Steps `b` (actor `me`) over the windows from `from` up to `to`, delivering each of
/// `inbox` in its window (sorted by the engine's key), and gathers what it wrote.
pub(crate) fn run<B: Behaviour>(
    b: &mut B,
    me: ActorId,
    mut inbox: Vec<Envelope>,
    from: SimTime,
    to: SimTime,
) -> StepOutput {
    inbox.sort_by_key(|e| e.key());
    let mut seq = 0;
    let mut all = StepOutput::default();
    let mut start = from - from % WINDOW;
    while start < to {
        let end = start + WINDOW;
        let (now, later): (Vec<Envelope>, Vec<Envelope>) =
            inbox.into_iter().partition(|e| e.at < end);
        inbox = later;
        let out = step(b, me, &mut seq, end, now);
        all.out.extend(out.out);
        all.journal.append(out.journal);
        all.events += out.events;
        all.next_due = out.next_due;
        start = end;
    }
    all
}

/// A behaviour that panics when its one timer fires.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Faulty {
    timers: crate::timers::Timers<()>,
}

impl Faulty {
    /// Panics at `at`.
    pub(crate) fn at(at: SimTime) -> Self {
        let mut f = Faulty::default();
        f.timers.push(at, ());
        f
    }
}

impl Behaviour for Faulty {
    type Timer = ();

    fn timers(&mut self) -> &mut crate::timers::Timers<()> {
        &mut self.timers
    }

    fn on_message(&mut self, _ctx: &mut super::Ctx<'_>, _src: ActorId, _payload: Payload) {}

    fn on_timer(&mut self, _ctx: &mut super::Ctx<'_>, _timer: ()) {
        panic!("injected fault");
    }

    fn finish(&mut self, _now: SimTime) -> super::Final {
        super::Final::default()
    }
}
