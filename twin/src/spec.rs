//! The compact descriptions a planner writes: a community in about ten lines, a district
//! in about the same. [`crate::generate`] turns them into a world deterministically.

use crate::kinds::{DeviceKind, EstateAge, Party, Region, Scope};
use crate::params::{Checker, FieldError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One community, as a planner describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunitySpec {
    /// Display name.
    pub name: String,
    /// Number of residents.
    pub residents: u32,
    /// Share of residents aged 60 or over.
    pub elderly_share: f64,
    /// New or old estate.
    pub age: EstateAge,
    /// Developed or less-developed region.
    pub region: Region,
    /// Device deployment plan: for each kind, the share of eligible places that get one
    /// (households for smoke detectors, buildings for cameras, lifts for lift monitors,
    /// basements for water-level sensors, residents 60+ for wearables, elderly households
    /// for emergency buttons, site points for gate and car-park devices).
    #[serde(default)]
    pub devices: BTreeMap<DeviceKind, f64>,
    /// Who invested in each kind of device (default: the investment model's choice).
    #[serde(default)]
    pub investors: BTreeMap<DeviceKind, Party>,
    /// Rent a shared cloud platform instead of building one (sources 000, 001: small
    /// communities should share).
    #[serde(default)]
    pub shared_platform: bool,
}

/// A district: communities under street offices, described in bulk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictSpec {
    /// Display name.
    pub name: String,
    /// Number of street offices.
    pub street_offices: u32,
    /// Number of communities.
    pub communities: u32,
    /// Residents in the whole district.
    pub residents: u32,
    /// Share of communities that are old estates.
    pub old_share: f64,
    /// Share of residents aged 60+ in old estates.
    pub elderly_share_old: f64,
    /// Share of residents aged 60+ in new estates.
    pub elderly_share_new: f64,
    /// Region of the district.
    pub region: Region,
    /// How unequal community sizes are: each community's size is the mean times a factor
    /// drawn uniformly from `[1 - size_spread, 1 + size_spread]`.
    #[serde(default = "default_size_spread")]
    pub size_spread: f64,
    /// Deployment plan applied to every community (as in [`CommunitySpec::devices`]).
    #[serde(default)]
    pub devices: BTreeMap<DeviceKind, f64>,
    /// Who invested in each kind of device.
    #[serde(default)]
    pub investors: BTreeMap<DeviceKind, Party>,
    /// Communities smaller than this many residents rent a shared cloud platform
    /// (0: none do).
    #[serde(default)]
    pub share_platform_below: u32,
}

fn default_size_spread() -> f64 {
    0.5
}

/// Who invests in a device kind unless the scenario says otherwise: marketable devices
/// by the property firm, the rest by the government (source 002's split).
pub fn default_investor(kind: DeviceKind) -> Party {
    use DeviceKind::*;
    match kind {
        AccessControl | ElevatorMonitor | FaceRecognition | VehicleRecognition | GroundLock
        | SmartMeter | BurglarAlarm => Party::PropertyFirm,
        EvCharger | ElderlyWearable => Party::Enterprise,
        VideoSurveillance | IdVerification | SmartBin | SmokeDetector | WaterLevel
        | WaterQuality | Environment | HydrantMonitor | EmergencyButton | InfoDisplay => {
            Party::Government
        }
    }
}

/// Which places a device kind is deployed to, in words (for docs and errors).
pub fn eligible_places(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::ElevatorMonitor => "lifts",
        DeviceKind::WaterLevel => "buildings with a basement",
        DeviceKind::EmergencyButton => "households with someone aged 60+",
        DeviceKind::ElderlyWearable => "residents aged 60+",
        k => match k.scope() {
            Scope::Site => "site points (gates, car-park sections)",
            Scope::Building => "buildings",
            Scope::Household => "households",
            Scope::Resident => "residents",
        },
    }
}

fn check_devices(c: &mut Checker, devices: &BTreeMap<DeviceKind, f64>) {
    c.at("devices", |c| {
        for (k, v) in devices {
            c.share(k.as_str(), *v);
        }
    });
}

impl CommunitySpec {
    /// Checks ranges; paths are relative to the spec.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut c = Checker::default();
        c.int_range("residents", self.residents as u64, 1, 2_000_000);
        c.share("elderly_share", self.elderly_share);
        check_devices(&mut c, &self.devices);
        c.errors
    }
}

impl DistrictSpec {
    /// Checks ranges; paths are relative to the spec.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut c = Checker::default();
        c.int_range("communities", self.communities as u64, 1, 10_000);
        c.int_range(
            "street_offices",
            self.street_offices as u64,
            1,
            self.communities.max(1) as u64,
        );
        c.int_range(
            "residents",
            self.residents as u64,
            self.communities as u64,
            (self.communities as u64)
                .saturating_mul(2_000_000)
                .min(50_000_000),
        );
        c.share("old_share", self.old_share);
        c.share("elderly_share_old", self.elderly_share_old);
        c.share("elderly_share_new", self.elderly_share_new);
        if !(self.size_spread.is_finite() && (0.0..1.0).contains(&self.size_spread)) {
            c.fail(
                "size_spread",
                format!(
                    "expected a number from 0 up to (not including) 1, found {}",
                    self.size_spread
                ),
            );
        }
        check_devices(&mut c, &self.devices);
        c.errors
    }
}
