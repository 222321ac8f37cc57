//! Where everything stands in the scene, computed from the generated community and free
//! of any renderer: each community's origin in a district, its buildings' boxes, its
//! site points and one marker place per device. The scene plugins spawn from it; tests
//! and the snapshot's pixel checks project its points.
//!
//! Axes: the community's plan `(x_m, y_m)` maps to the scene's `(x, z)`; `y` is up;
//! one unit is one metre.

use bevy::math::{Vec2, Vec3};
use civitas_twin::kinds::DeviceKind;
use civitas_twin::model::{Community, District, Place};
use std::collections::BTreeMap;

/// Height of one floor (m).
pub const FLOOR_HEIGHT_M: f32 = 3.0;
/// Edge of a device marker (m).
pub const MARKER_M: f32 = 1.5;
/// Distance from a community's buildings to its ring of site points (m).
const SITE_RING_M: f32 = 12.0;
/// Gap between communities in a district (m).
const COMMUNITY_GAP_M: f32 = 80.0;
/// Space a facade marker takes along the facade (m).
const MARKER_PITCH_M: f32 = 2.0;

/// One building's box.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingBox {
    /// Building id within its community.
    pub id: u32,
    /// Centre of its footprint on the ground (x, z).
    pub center: Vec2,
    /// Along x (m).
    pub width: f32,
    /// Along z (m).
    pub depth: f32,
    /// Floors above ground.
    pub floors: u32,
    /// Lifts (drawn as machine rooms on the roof).
    pub lifts: u32,
    /// Has a basement (drawn as a dark plinth around the footprint).
    pub basement: bool,
}

impl BuildingBox {
    /// Height of its roof (m).
    pub fn height(&self) -> f32 {
        self.floors as f32 * FLOOR_HEIGHT_M
    }

    /// The centre of its roof.
    pub fn roof(&self) -> Vec3 {
        Vec3::new(self.center.x, self.height(), self.center.y)
    }
}

/// Where one device's marker stands.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicePlace {
    /// Device id within its community.
    pub device: u32,
    /// Its kind.
    pub kind: DeviceKind,
    /// Centre of its marker.
    pub at: Vec3,
}

/// One community placed in the scene.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityLayout {
    /// Its index in the district (events name it).
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Corner of its site with the smallest x and z.
    pub min: Vec2,
    /// Corner of its site with the largest x and z.
    pub max: Vec2,
    /// Its buildings, by id.
    pub buildings: Vec<BuildingBox>,
    /// Its site points (gates, car-park sections) on the ground.
    pub sites: Vec<Vec2>,
    /// One place per device, by device id.
    pub devices: Vec<DevicePlace>,
}

impl CommunityLayout {
    /// Centre of its site on the ground.
    pub fn center(&self) -> Vec3 {
        let c = (self.min + self.max) / 2.0;
        Vec3::new(c.x, 0.0, c.y)
    }

    /// Height of its tallest building (m).
    pub fn tallest(&self) -> f32 {
        self.buildings
            .iter()
            .map(BuildingBox::height)
            .fold(0.0, f32::max)
    }

    /// Centre and radius of a sphere holding its site and its tallest building.
    pub fn bounding_sphere(&self) -> (Vec3, f32) {
        let half = self.tallest() / 2.0;
        let center = self.center() + Vec3::Y * half;
        let radius = ((self.max - self.min).length() / 2.0).hypot(half);
        (center, radius)
    }

    /// The top of `building` (the site's centre for a building it does not have).
    pub fn roof(&self, building: u32) -> Vec3 {
        self.buildings
            .get(building as usize)
            .map_or(self.center(), BuildingBox::roof)
    }
}

/// Where the `slot`-th incident marker of `size` above a roof stands: one marker's height
/// clear of the roof, stacked with a fifth of a marker between them.
pub fn stacked(roof: Vec3, slot: usize, size: f32) -> Vec3 {
    roof + Vec3::Y * size * (1.0 + 1.2 * slot as f32)
}

/// A whole district placed in the scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Its communities, in a grid, in the district's order.
    pub communities: Vec<CommunityLayout>,
}

impl Layout {
    /// Places every community of `district` on a grid, each laid out as generated.
    pub fn of(district: &District) -> Layout {
        let mut communities: Vec<CommunityLayout> =
            district.communities.iter().map(community).collect();
        let cell = communities
            .iter()
            .map(|c| c.max - c.min)
            .fold(Vec2::ZERO, Vec2::max)
            + Vec2::splat(COMMUNITY_GAP_M);
        let cols = (communities.len() as f32).sqrt().ceil().max(1.0) as usize;
        for (i, c) in communities.iter_mut().enumerate() {
            let offset = Vec2::new((i % cols) as f32 * cell.x, (i / cols) as f32 * cell.y);
            shift(c, offset - c.min);
        }
        Layout { communities }
    }

    /// The community with index `index`.
    pub fn community(&self, index: u32) -> Option<&CommunityLayout> {
        self.communities
            .get(index as usize)
            .filter(|c| c.index == index)
            .or_else(|| self.communities.iter().find(|c| c.index == index))
    }

    /// Corner of the whole district with the smallest x and z, and the largest.
    pub fn bounds(&self) -> (Vec2, Vec2) {
        self.communities.iter().fold(
            (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN)),
            |(lo, hi), c| (lo.min(c.min), hi.max(c.max)),
        )
    }

    /// Devices over all communities.
    pub fn devices(&self) -> usize {
        self.communities.iter().map(|c| c.devices.len()).sum()
    }

    /// Buildings over all communities.
    pub fn buildings(&self) -> usize {
        self.communities.iter().map(|c| c.buildings.len()).sum()
    }
}

fn shift(c: &mut CommunityLayout, by: Vec2) {
    c.min += by;
    c.max += by;
    for b in &mut c.buildings {
        b.center += by;
    }
    for s in &mut c.sites {
        *s += by;
    }
    for d in &mut c.devices {
        d.at += Vec3::new(by.x, 0.0, by.y);
    }
}

/// One community at its own coordinates, its site ring included.
fn community(c: &Community) -> CommunityLayout {
    let buildings: Vec<BuildingBox> = c
        .buildings
        .iter()
        .map(|b| BuildingBox {
            id: b.id,
            center: Vec2::new(b.x_m + b.width_m / 2.0, b.y_m + b.depth_m / 2.0),
            width: b.width_m,
            depth: b.depth_m,
            floors: b.floors,
            lifts: b.lifts,
            basement: b.basement,
        })
        .collect();
    let (lo, hi) = buildings.iter().fold(
        (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN)),
        |(lo, hi), b| {
            let half = Vec2::new(b.width, b.depth) / 2.0;
            (lo.min(b.center - half), hi.max(b.center + half))
        },
    );
    let (lo, hi) = if buildings.is_empty() {
        (Vec2::ZERO, Vec2::ZERO)
    } else {
        (lo, hi)
    };
    let sites = ring(lo - SITE_RING_M, hi + SITE_RING_M, c.site_points as usize);
    let min = lo - 2.0 * SITE_RING_M;
    let max = hi + 2.0 * SITE_RING_M;
    let devices = device_places(c, &buildings, &sites);
    CommunityLayout {
        index: c.index,
        name: c.name.clone(),
        min,
        max,
        buildings,
        sites,
        devices,
    }
}

/// `n` points evenly spaced along the rectangle `lo`–`hi`, starting at `hi` (the corner
/// the default camera looks from).
fn ring(lo: Vec2, hi: Vec2, n: usize) -> Vec<Vec2> {
    let size = hi - lo;
    let perimeter = 2.0 * (size.x + size.y);
    (0..n)
        .map(|i| {
            let mut d = perimeter * i as f32 / n as f32;
            for (along, corner, dir) in [
                (size.x, hi, -Vec2::X),
                (size.y, Vec2::new(lo.x, hi.y), -Vec2::Y),
                (size.x, lo, Vec2::X),
                (size.y, Vec2::new(hi.x, lo.y), Vec2::Y),
            ] {
                if d <= along {
                    return corner + dir * d;
                }
                d -= along;
            }
            lo
        })
        .collect()
}

/// Where a device hangs: on a floor of a building's facade, on its ground floor, or at
/// a site point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Spot {
    Facade { building: u32, floor: u32 },
    Site(u32),
}

/// Markers: household and resident devices on their home's floor along the building's
/// front and back facades, building devices along its side facades on the ground
/// floor, site devices clustered at their site point.
fn device_places(c: &Community, buildings: &[BuildingBox], sites: &[Vec2]) -> Vec<DevicePlace> {
    let spot = |place: Place| -> Spot {
        let home = |h: u32| {
            c.households.get(h as usize).map_or(
                Spot::Facade {
                    building: 0,
                    floor: 0,
                },
                |h| Spot::Facade {
                    building: h.building,
                    floor: h.floor,
                },
            )
        };
        match place {
            Place::Site(n) => Spot::Site(n),
            Place::Building(b) => Spot::Facade {
                building: b,
                floor: 0,
            },
            Place::Household(h) => home(h),
            Place::Resident(r) => c
                .residents
                .get(r as usize)
                .map_or(home(u32::MAX), |r| home(r.household)),
        }
    };
    let mut groups: BTreeMap<Spot, Vec<usize>> = BTreeMap::new();
    for (i, d) in c.devices.iter().enumerate() {
        groups.entry(spot(d.place)).or_default().push(i);
    }
    let mut places: Vec<DevicePlace> = c
        .devices
        .iter()
        .map(|d| DevicePlace {
            device: d.id,
            kind: d.kind,
            at: Vec3::ZERO,
        })
        .collect();
    for (spot, members) in groups {
        let n = members.len();
        for (k, i) in members.into_iter().enumerate() {
            places[i].at = match spot {
                Spot::Site(s) => {
                    let p = sites.get(s as usize).copied().unwrap_or_default();
                    let col = (k % 4) as f32 - 1.5;
                    let row = (k / 4) as f32;
                    Vec3::new(
                        p.x + col * MARKER_PITCH_M,
                        MARKER_M / 2.0,
                        p.y + row * MARKER_PITCH_M,
                    )
                }
                Spot::Facade { building, floor } => match buildings.get(building as usize) {
                    Some(b) => on_facade(b, floor, k, n),
                    None => Vec3::ZERO,
                },
            };
        }
    }
    places
}

/// The `k`-th of `n` markers on `floor` of `b` (floor 0: the ground floor's sides).
fn on_facade(b: &BuildingBox, floor: u32, k: usize, n: usize) -> Vec3 {
    let y = (floor.max(1) as f32 - 0.5) * FLOOR_HEIGHT_M;
    let out = MARKER_M / 2.0 + 0.05;
    let (along, faces) = if floor == 0 {
        (b.depth, 2)
    } else {
        (b.width, 2)
    };
    let per_face = ((along / MARKER_PITCH_M).floor() as usize).max(1);
    let face = (k / per_face) % faces;
    let slot = k % per_face;
    let on_this_face = (n - face * per_face).min(per_face).max(1);
    // Spread evenly over the face, centred.
    let t = (slot as f32 + 0.5) / on_this_face as f32 - 0.5;
    let offset = t * on_this_face as f32 * MARKER_PITCH_M;
    let sign = if face == 0 { -1.0 } else { 1.0 };
    if floor == 0 {
        Vec3::new(
            b.center.x + sign * (b.width / 2.0 + out),
            y,
            b.center.y + offset,
        )
    } else {
        Vec3::new(
            b.center.x + offset,
            y,
            b.center.y + sign * (b.depth / 2.0 + out),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_scenarios::library;
    use civitas_scenarios::runner::build_district;

    fn default_layout() -> (District, Layout) {
        let s = library::load("default").unwrap();
        let d = build_district(&s, 1);
        let l = Layout::of(&d);
        (d, l)
    }

    #[test]
    fn every_building_and_device_of_the_community_has_a_place_inside_its_site() {
        let (d, l) = default_layout();
        let c = &d.communities[0];
        let cl = &l.communities[0];
        assert_eq!(cl.buildings.len(), c.buildings.len());
        assert_eq!(cl.devices.len(), c.devices.len());
        assert_eq!(cl.sites.len(), c.site_points as usize);
        for p in &cl.devices {
            assert!(
                p.at.x >= cl.min.x
                    && p.at.x <= cl.max.x
                    && p.at.z >= cl.min.y
                    && p.at.z <= cl.max.y,
                "device {} at {} outside {}–{}",
                p.device,
                p.at,
                cl.min,
                cl.max
            );
            assert!(p.at.y > 0.0, "device {} below ground", p.device);
        }
        // Household devices hang on their home's floor.
        for (dev, p) in c.devices.iter().zip(&cl.devices) {
            if let Place::Household(h) = dev.place {
                let floor = c.households[h as usize].floor;
                assert_eq!(p.at.y, (floor as f32 - 0.5) * FLOOR_HEIGHT_M);
            }
        }
        // No two markers overlap.
        let mut seen = std::collections::HashSet::new();
        for p in &cl.devices {
            let key = (
                (p.at.x * 10.0) as i64,
                (p.at.y * 10.0) as i64,
                (p.at.z * 10.0) as i64,
            );
            assert!(seen.insert(key), "two markers at {}", p.at);
        }
    }

    #[test]
    fn a_district_places_its_communities_apart_on_a_grid() {
        let s = library::load("haishu-district").unwrap();
        let d = build_district(&s, 1);
        let l = Layout::of(&d);
        assert_eq!(l.communities.len(), 75);
        for (i, a) in l.communities.iter().enumerate() {
            for b in &l.communities[i + 1..] {
                let apart = a.max.x <= b.min.x
                    || b.max.x <= a.min.x
                    || a.max.y <= b.min.y
                    || b.max.y <= a.min.y;
                assert!(apart, "communities {} and {} overlap", a.index, b.index);
            }
        }
        assert_eq!(l.community(42).unwrap().index, 42);
    }
}
