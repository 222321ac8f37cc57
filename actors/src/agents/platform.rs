//! The community platform, run by the platform operator: it receives every detection
//! (device alarm or resident report), dispatches it to the micro-loop organization that
//! handles that kind, and sends repair crews to devices that stopped reporting.

use super::{Behaviour, Ctx, Final};
use crate::message::{ActorId, Payload};
use crate::timers::Timers;
use crate::world::Addresses;
use civitas_twin::params::Parameters;
use civitas_twin::rng::{self, EntityRng, Stream};
use civitas_twin::time::{SimTime, hours};
use std::sync::Arc;

/// One community's platform.
pub struct Platform {
    community: u32,
    params: Arc<Parameters>,
    addresses: Arc<Addresses>,
    rng: EntityRng,
    timers: Timers<()>,
}

impl Platform {
    /// The platform of community `community`.
    pub fn new(
        community: u32,
        params: Arc<Parameters>,
        addresses: Arc<Addresses>,
        seed: u64,
    ) -> Self {
        Platform {
            community,
            params,
            addresses,
            rng: rng::stream(seed, community, Stream::Organization, 0),
            timers: Timers::default(),
        }
    }
}

impl Behaviour for Platform {
    type Timer = ();

    fn timers(&mut self) -> &mut Timers<()> {
        &mut self.timers
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, src: ActorId, payload: Payload) {
        match payload {
            Payload::Detected(rec) => {
                let handler = self.params.incident(rec.kind).handler;
                let dst = self.addresses.communities[self.community as usize].handler(handler);
                ctx.send(
                    dst,
                    self.params.engine.dispatch_latency_secs,
                    Payload::Assign(rec),
                );
            }
            Payload::DeviceOffline { device, kind } => {
                // A maintenance crew repairs it in its kind's repair time; crews are not a
                // finite resource in this version (docs/MODEL.md).
                let mean = self.params.device(kind).repair_hours;
                let delay = hours(rng::exp(&mut self.rng, mean));
                ctx.send(src, delay, Payload::DeviceRepaired { device });
            }
            Payload::Assign(_) | Payload::Outcome { .. } | Payload::DeviceRepaired { .. } => {}
        }
    }

    fn on_timer(&mut self, _ctx: &mut Ctx<'_>, _timer: ()) {}

    fn finish(&mut self, _now: SimTime) -> Final {
        Final::default()
    }
}
