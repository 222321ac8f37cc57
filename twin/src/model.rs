//! The built world: plain data, produced by [`crate::generate`] and read by the actors.
//!
//! Indices are dense `u32`s local to a community; a household's residents and a
//! building's households are contiguous ranges, so building hosts can own slices.

use crate::kinds::{Department, DeviceKind, EstateAge, Party, Region};
use std::collections::BTreeMap;
use std::ops::Range;

/// A building on the site plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// Index within the community.
    pub id: u32,
    /// Position of the footprint's corner on the site plan (m).
    pub x_m: f32,
    /// Position of the footprint's corner on the site plan (m).
    pub y_m: f32,
    /// Footprint width (m).
    pub width_m: f32,
    /// Footprint depth (m).
    pub depth_m: f32,
    /// Floors above ground.
    pub floors: u32,
    /// Year built.
    pub year_built: u32,
    /// Number of lifts.
    pub lifts: u32,
    /// Whether it has a basement.
    pub basement: bool,
    /// Its households.
    pub households: Range<u32>,
}

/// A household (one home).
#[derive(Debug, Clone, PartialEq)]
pub struct Household {
    /// Index within the community.
    pub id: u32,
    /// Building it lives in.
    pub building: u32,
    /// Floor (1 = ground).
    pub floor: u32,
    /// Its members.
    pub residents: Range<u32>,
}

/// A resident.
#[derive(Debug, Clone, PartialEq)]
pub struct Resident {
    /// Index within the community.
    pub id: u32,
    /// Household.
    pub household: u32,
    /// Age in years.
    pub age: u8,
    /// Lives alone (household of one).
    pub lives_alone: bool,
    /// Uses apps (digital literacy enough for the community app).
    pub uses_app: bool,
    /// Impaired mobility (could not reach a phone after a fall).
    pub impaired_mobility: bool,
}

impl Resident {
    /// Aged 60 or over.
    pub fn is_elderly(&self) -> bool {
        self.age >= 60
    }

    /// The special population the sources single out: elderly and living alone (004).
    pub fn is_elderly_alone(&self) -> bool {
        self.is_elderly() && self.lives_alone
    }
}

/// Where a device is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// Site point `n` (gate, car-park section), hosted with building 0.
    Site(u32),
    /// A building (its lifts, entrances, basement, common areas).
    Building(u32),
    /// A household's home.
    Household(u32),
    /// Worn by a resident.
    Resident(u32),
}

/// Operating state of a device.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum DeviceStatus {
    /// Works and detects.
    Working,
    /// Broken; detects nothing; the platform does not know yet.
    Failed,
    /// Broken and known to the platform (missed heartbeat); awaiting repair.
    Offline,
}

/// A device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Index within the community.
    pub id: u32,
    /// Kind.
    pub kind: DeviceKind,
    /// Where it is installed.
    pub place: Place,
    /// Who invested in it.
    pub investor: Party,
    /// State at generation (always working).
    pub status: DeviceStatus,
}

/// Staff on duty in a community's micro-loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MicroStaffing {
    /// Committee members on the day shift.
    pub committee_day: u32,
    /// Grid workers on the day shift (they work beside the committee, as one responder).
    pub grid_day: u32,
    /// Committee members on call at night.
    pub committee_night: u32,
    /// Property staff on the day shift.
    pub property_day: u32,
    /// Property staff at night.
    pub property_night: u32,
}

/// One community: the unit a residents committee and a platform serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    /// Index within the district (0 for a single community).
    pub index: u32,
    /// Display name.
    pub name: String,
    /// New or old estate.
    pub age: EstateAge,
    /// Region.
    pub region: Region,
    /// Street office it belongs to.
    pub street_office: u32,
    /// Buildings.
    pub buildings: Vec<Building>,
    /// Households.
    pub households: Vec<Household>,
    /// Residents.
    pub residents: Vec<Resident>,
    /// Devices.
    pub devices: Vec<Device>,
    /// Number of site points (gates, car-park sections).
    pub site_points: u32,
    /// Micro-loop staffing.
    pub staffing: MicroStaffing,
    /// Rents a shared cloud platform instead of running its own.
    pub shared_platform: bool,
    /// Device kinds whose investor the scenario fixed explicitly.
    pub fixed_investors: Vec<DeviceKind>,
}

impl Community {
    /// Residents aged 60+.
    pub fn elderly(&self) -> usize {
        self.residents.iter().filter(|r| r.is_elderly()).count()
    }

    /// The building each device is in (site devices: the building hosting the site
    /// point), as device ids per building.
    pub fn devices_by_building(&self) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); self.buildings.len()];
        let n = self.buildings.len() as u32;
        for d in &self.devices {
            let b = match d.place {
                Place::Building(b) => b,
                Place::Household(h) => self.households[h as usize].building,
                Place::Resident(r) => {
                    self.households[self.residents[r as usize].household as usize].building
                }
                Place::Site(s) => site_host(s, self.site_points, n),
            };
            if let Some(v) = out.get_mut(b as usize) {
                v.push(d.id);
            }
        }
        out
    }

    /// Devices of each kind, in kind order.
    pub fn device_counts(&self) -> BTreeMap<DeviceKind, usize> {
        let mut m = BTreeMap::new();
        for d in &self.devices {
            *m.entry(d.kind).or_insert(0) += 1;
        }
        m
    }
}

/// The building hosting site point `s` of a community with `buildings` buildings.
pub fn site_host(s: u32, site_points: u32, buildings: u32) -> u32 {
    ((s as u64 * buildings as u64) / site_points.max(1) as u64) as u32
}

/// A district: communities under street offices, and the district departments.
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    /// Display name.
    pub name: String,
    /// Street office names; a community's `street_office` indexes this.
    pub street_offices: Vec<String>,
    /// Communities.
    pub communities: Vec<Community>,
    /// Crews per department.
    pub department_crews: BTreeMap<Department, u32>,
}

impl District {
    /// Total residents.
    pub fn residents(&self) -> usize {
        self.communities.iter().map(|c| c.residents.len()).sum()
    }
}
