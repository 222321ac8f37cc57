//! Integration tests of civitas-actors: the engine over generated communities.

mod act;
mod calendar;
mod clocks;
mod commands;
mod engine;
mod fuzz;
mod live;
mod open;

use civitas_actors::Assembly;
use civitas_twin::generate::single_community_district;
use civitas_twin::kinds::{DeviceKind, EstateAge, Region};
use civitas_twin::model::District;
use civitas_twin::params::Parameters;
use civitas_twin::spec::CommunitySpec;

pub(crate) fn district(residents: u32, seed: u64) -> (District, Parameters) {
    let devices = [
        (DeviceKind::SmokeDetector, 1.0),
        (DeviceKind::VideoSurveillance, 1.0),
        (DeviceKind::ElderlyWearable, 0.5),
    ];
    district_with(residents, seed, &devices, Parameters::default())
}

/// An old estate of `residents` with the device plan `devices` (kind, coverage), under
/// `p` with money enough that the platform runs in these small test communities.
pub(crate) fn district_with(
    residents: u32,
    seed: u64,
    devices: &[(DeviceKind, f64)],
    mut p: Parameters,
) -> (District, Parameters) {
    p.economy.fiscal.capacity_per_resident_developed = 1000.0;
    let spec = CommunitySpec {
        name: "t".into(),
        residents,
        elderly_share: 0.25,
        age: EstateAge::Old,
        region: Region::Developed,
        devices: devices.iter().copied().collect(),
        investors: Default::default(),
        shared_platform: false,
    };
    (single_community_district(&spec, &p, seed), p)
}

/// The id of a camera (video surveillance) of the test community `d`.
pub(crate) fn camera(d: &District) -> u32 {
    d.communities[0]
        .devices
        .iter()
        .find(|dev| dev.kind == DeviceKind::VideoSurveillance)
        .expect("a camera")
        .id
}

pub(crate) fn assembly(residents: u32, seed: u64) -> (Assembly, Parameters) {
    let (d, p) = district(residents, seed);
    (
        Assembly::build(&d, &p, seed, civitas_twin::kinds::InvestmentModel::Hybrid),
        p,
    )
}
