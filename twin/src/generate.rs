//! Deterministic generator: a compact spec plus parameters and a seed give the same world
//! every time, on any machine.
//!
//! Each community draws from its own generator stream, so a district's communities do not
//! depend on each other's sizes or order of generation.

use crate::kinds::{Department, DeviceKind, EstateAge, Region, Scope};
use crate::model::{
    Building, Community, Device, DeviceStatus, District, Household, MicroStaffing, Place, Resident,
};
use crate::params::Parameters;
use crate::rng::{self, EntityRng, Stream};
use crate::spec::{CommunitySpec, DistrictSpec, default_investor};
use rand::Rng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;

/// Builds one community from its spec.
pub fn generate_community(
    spec: &CommunitySpec,
    params: &Parameters,
    seed: u64,
    index: u32,
    street_office: u32,
) -> Community {
    let mut g = rng::stream(seed, index, Stream::Generator, 0);
    let pop = &params.population;
    let n_res = spec.residents.max(1);
    let n_hh = ((n_res as f64 / pop.household_size).round() as u32).clamp(1, n_res);
    let n_elderly = ((n_res as f64 * spec.elderly_share).round() as u32).min(n_res);
    // Elderly living alone are single-person households; the rest of the households
    // share the remaining residents as evenly as the totals allow.
    let n_alone = ((n_elderly as f64 * pop.elderly_living_alone).round() as u32)
        .min(n_hh.saturating_sub(1))
        .min(n_elderly);
    let rest_hh = n_hh - n_alone;
    let rest_res = n_res - n_alone;
    let mut sizes: Vec<u32> = vec![rest_res / rest_hh.max(1); rest_hh as usize];
    for s in sizes.iter_mut().take((rest_res % rest_hh.max(1)) as usize) {
        *s += 1;
    }
    // Spread sizes: move one member between random pairs while keeping sizes ≥ 1.
    for _ in 0..rest_hh {
        let a = g.random_range(0..rest_hh) as usize;
        let b = g.random_range(0..rest_hh) as usize;
        if sizes[a] > 1 && a != b && sizes[b] < 6 {
            sizes[a] -= 1;
            sizes[b] += 1;
        }
    }
    let mut hh_sizes: Vec<(u32, bool)> = (0..n_alone).map(|_| (1, true)).collect();
    hh_sizes.extend(sizes.into_iter().map(|s| (s, false)));
    hh_sizes.shuffle(&mut g);

    // Which of the non-alone resident slots are elderly.
    let rest_elderly = n_elderly - n_alone;
    let mut elderly_slot: Vec<bool> = (0..rest_res).map(|i| i < rest_elderly).collect();
    elderly_slot.shuffle(&mut g);
    let mut slot = elderly_slot.into_iter();

    let digital_factor = match spec.region {
        Region::Developed => 1.0,
        Region::LessDeveloped => pop.less_developed_digital_factor,
    } * match spec.age {
        EstateAge::New => 1.0,
        EstateAge::Old => pop.old_estate_digital_factor,
    };
    let mut households = Vec::with_capacity(n_hh as usize);
    let mut residents = Vec::with_capacity(n_res as usize);
    for (hid, (size, alone_elderly)) in hh_sizes.into_iter().enumerate() {
        let first = residents.len() as u32;
        for _ in 0..size {
            let elderly = alone_elderly || slot.next().unwrap_or(false);
            let age = if elderly {
                let u: f64 = g.random();
                if u < pop.share_80plus_of_60plus {
                    g.random_range(80..=99)
                } else if u < pop.share_70plus_of_60plus {
                    g.random_range(70..=79)
                } else {
                    g.random_range(60..=69)
                }
            } else if residents.len() as u32 == first {
                // Every household has an adult: its first member, unless 60+, is 18–59.
                g.random_range(18..=59)
            } else {
                g.random_range(0..=59)
            };
            let base = match age {
                0..=9 => 0.0,
                10..=59 => pop.digital_under60,
                60..=79 => pop.digital_60plus,
                _ => pop.digital_80plus,
            };
            let uses_app = rng::chance(&mut g, (base * digital_factor).min(1.0));
            let impaired_mobility = age >= 80 && rng::chance(&mut g, pop.impaired_mobility_80plus);
            residents.push(Resident {
                id: residents.len() as u32,
                household: hid as u32,
                age,
                lives_alone: size == 1,
                uses_app,
                impaired_mobility,
            });
        }
        households.push(Household {
            id: hid as u32,
            building: 0,
            floor: 1,
            residents: first..residents.len() as u32,
        });
    }

    // Buildings: fill each with floors × households_per_floor homes until all are housed.
    let shape = match spec.age {
        EstateAge::New => &params.buildings.new,
        EstateAge::Old => &params.buildings.old,
    };
    let mut buildings = Vec::new();
    let mut next_hh = 0u32;
    while next_hh < n_hh {
        let floors = g.random_range(shape.floors_min..=shape.floors_max);
        let capacity = floors * shape.households_per_floor;
        let count = capacity.min(n_hh - next_hh);
        let id = buildings.len() as u32;
        for h in next_hh..next_hh + count {
            let hh = &mut households[h as usize];
            hh.building = id;
            hh.floor = 1 + (h - next_hh) / shape.households_per_floor;
        }
        let lifts = if floors >= shape.lift_min_floors {
            ((count as f64 / 30.0) * shape.lifts_per_30_households).ceil() as u32
        } else {
            0
        };
        buildings.push(Building {
            id,
            x_m: 0.0,
            y_m: 0.0,
            width_m: shape.width_m as f32,
            depth_m: shape.depth_m as f32,
            floors,
            year_built: g.random_range(shape.year_min..=shape.year_max),
            lifts,
            basement: rng::chance(&mut g, shape.basement_share),
            households: next_hh..next_hh + count,
        });
        next_hh += count;
    }
    let cols = (buildings.len() as f64).sqrt().ceil().max(1.0) as u32;
    let spacing = params.buildings.spacing_m;
    for b in &mut buildings {
        b.x_m = ((b.id % cols) as f64 * (shape.width_m + spacing)) as f32;
        b.y_m = ((b.id / cols) as f64 * (shape.depth_m + spacing)) as f32;
    }

    let site_points = n_res
        .div_ceil(params.buildings.residents_per_site_point.max(1))
        .max(1);
    let devices = deploy_devices(
        spec,
        &buildings,
        &households,
        &residents,
        site_points,
        &mut g,
    );

    let st = &params.staffing;
    let grid = (st.grid_workers_per_10k * n_res as f64 / 10_000.0).round() as u32;
    let staffing = MicroStaffing {
        committee_day: st.committee_day,
        grid_day: grid,
        committee_night: st.committee_night,
        property_day: ((st.property_day_per_1000_households * n_hh as f64 / 1000.0).round() as u32)
            .max(1),
        property_night: ((st.property_night_per_1000_households * n_hh as f64 / 1000.0).round()
            as u32)
            .max(1),
    };

    Community {
        index,
        name: spec.name.clone(),
        age: spec.age,
        region: spec.region,
        street_office,
        buildings,
        households,
        residents,
        devices,
        site_points,
        staffing,
        shared_platform: spec.shared_platform,
        fixed_investors: spec.investors.keys().copied().collect(),
    }
}

/// Places devices by the deployment plan. Where coverage is partial, places are chosen
/// by need first (wearables and buttons go to the oldest and those living alone, as
/// source 004's elderly-care cloud targets them), then at random.
fn deploy_devices(
    spec: &CommunitySpec,
    buildings: &[Building],
    households: &[Household],
    residents: &[Resident],
    site_points: u32,
    g: &mut EntityRng,
) -> Vec<Device> {
    let mut devices = Vec::new();
    for (&kind, &coverage) in &spec.devices {
        if coverage <= 0.0 {
            continue;
        }
        // (priority, place): lower priority values are served first.
        let mut eligible: Vec<(u32, Place)> = match kind {
            DeviceKind::ElevatorMonitor => buildings
                .iter()
                .flat_map(|b| (0..b.lifts).map(move |_| (0, Place::Building(b.id))))
                .collect(),
            DeviceKind::WaterLevel => buildings
                .iter()
                .filter(|b| b.basement)
                .map(|b| (0, Place::Building(b.id)))
                .collect(),
            DeviceKind::EmergencyButton => households
                .iter()
                .filter_map(|h| {
                    let members = &residents[h.residents.start as usize..h.residents.end as usize];
                    let eldest = members.iter().map(|r| r.age).max().unwrap_or(0);
                    let alone = members.len() == 1;
                    (eldest >= 60).then(|| (need_rank(eldest, alone), Place::Household(h.id)))
                })
                .collect(),
            DeviceKind::ElderlyWearable => residents
                .iter()
                .filter(|r| r.is_elderly())
                .map(|r| (need_rank(r.age, r.lives_alone), Place::Resident(r.id)))
                .collect(),
            k => match k.scope() {
                Scope::Site => (0..site_points).map(|s| (0, Place::Site(s))).collect(),
                Scope::Building => buildings
                    .iter()
                    .map(|b| (0, Place::Building(b.id)))
                    .collect(),
                Scope::Household => households
                    .iter()
                    .map(|h| (0, Place::Household(h.id)))
                    .collect(),
                Scope::Resident => residents
                    .iter()
                    .map(|r| (0, Place::Resident(r.id)))
                    .collect(),
            },
        };
        let n = (eligible.len() as f64 * coverage.min(1.0)).round() as usize;
        eligible.shuffle(g);
        eligible.sort_by_key(|(p, _)| *p); // stable: random within a priority class
        let mut chosen: Vec<Place> = eligible.into_iter().take(n).map(|(_, p)| p).collect();
        chosen.sort();
        let investor = spec
            .investors
            .get(&kind)
            .copied()
            .unwrap_or_else(|| default_investor(kind));
        for place in chosen {
            devices.push(Device {
                id: devices.len() as u32,
                kind,
                place,
                investor,
                status: DeviceStatus::Working,
            });
        }
    }
    devices
}

fn need_rank(age: u8, alone: bool) -> u32 {
    match (age >= 80, alone) {
        (true, true) => 0,
        (true, false) | (false, true) => 1,
        (false, false) => 2,
    }
}

/// Crews per department for a district of `residents` people.
pub fn department_crews(params: &Parameters, residents: usize) -> BTreeMap<Department, u32> {
    Department::ALL
        .iter()
        .map(|d| {
            let per = params
                .staffing
                .department_crews_per_100k
                .get(d)
                .copied()
                .unwrap_or(0.0);
            (
                *d,
                ((per * residents as f64 / 100_000.0).round() as u32).max(1),
            )
        })
        .collect()
}

/// A district of one community under one street office (what `run` simulates for a
/// community scenario).
pub fn single_community_district(spec: &CommunitySpec, params: &Parameters, seed: u64) -> District {
    let c = generate_community(spec, params, seed, 0, 0);
    let crews = department_crews(params, c.residents.len());
    District {
        name: spec.name.clone(),
        street_offices: vec![format!("{} street office", spec.name)],
        communities: vec![c],
        department_crews: crews,
    }
}

/// Builds a district from its spec: community sizes, ages and street offices are drawn
/// from the district's generator stream, then each community from its own.
pub fn generate_district(spec: &DistrictSpec, params: &Parameters, seed: u64) -> District {
    let n = spec.communities.max(1) as usize;
    let mut g = rng::stream(seed, u32::MAX, Stream::Generator, 0);
    let weights: Vec<f64> = (0..n)
        .map(|_| 1.0 + spec.size_spread * (2.0 * g.random::<f64>() - 1.0))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut sizes: Vec<u32> = weights
        .iter()
        .map(|w| ((w / total) * spec.residents as f64).floor().max(1.0) as u32)
        .collect();
    // Communities have at least one resident; take any excess back from the largest.
    let mut assigned: u32 = sizes.iter().sum();
    while assigned > spec.residents {
        let big = (0..n)
            .max_by_key(|&i| (sizes[i], std::cmp::Reverse(i)))
            .expect("n ≥ 1");
        if sizes[big] <= 1 {
            break;
        }
        sizes[big] -= 1;
        assigned -= 1;
    }
    let mut short = spec.residents.saturating_sub(assigned);
    let mut i = 0;
    while short > 0 {
        sizes[i % n] += 1;
        short -= 1;
        i += 1;
    }
    let n_old = (spec.old_share * n as f64).round() as usize;
    let mut old: Vec<bool> = (0..n).map(|i| i < n_old).collect();
    old.shuffle(&mut g);
    let offices = spec.street_offices.max(1) as usize;
    let communities: Vec<Community> = (0..n)
        .map(|i| {
            let age = if old[i] {
                EstateAge::Old
            } else {
                EstateAge::New
            };
            let cs = CommunitySpec {
                name: format!("{} community {:02}", spec.name, i + 1),
                residents: sizes[i],
                elderly_share: if old[i] {
                    spec.elderly_share_old
                } else {
                    spec.elderly_share_new
                },
                age,
                region: spec.region,
                devices: spec.devices.clone(),
                investors: spec.investors.clone(),
                shared_platform: sizes[i] < spec.share_platform_below,
            };
            generate_community(&cs, params, seed, i as u32, (i * offices / n) as u32)
        })
        .collect();
    let residents: usize = communities.iter().map(|c| c.residents.len()).sum();
    District {
        name: spec.name.clone(),
        street_offices: (0..offices)
            .map(|s| format!("{} street office {}", spec.name, s + 1))
            .collect(),
        communities,
        department_crews: department_crews(params, residents),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Region;

    fn spec() -> CommunitySpec {
        CommunitySpec {
            name: "t".into(),
            residents: 4000,
            elderly_share: 0.25,
            age: EstateAge::Old,
            region: Region::Developed,
            devices: [
                (DeviceKind::SmokeDetector, 1.0),
                (DeviceKind::ElderlyWearable, 0.5),
            ]
            .into_iter()
            .collect(),
            investors: BTreeMap::new(),
            shared_platform: false,
        }
    }

    #[test]
    fn community_matches_its_spec_and_is_reproducible() {
        let p = Parameters::default();
        let a = generate_community(&spec(), &p, 9, 0, 0);
        let b = generate_community(&spec(), &p, 9, 0, 0);
        assert_eq!(a, b);
        assert_eq!(a.residents.len(), 4000);
        assert_eq!(a.elderly(), 1000);
        let hh: u32 = a.households.iter().map(|h| h.residents.len() as u32).sum();
        assert_eq!(hh, 4000);
        let counts = a.device_counts();
        assert_eq!(counts[&DeviceKind::SmokeDetector], a.households.len());
        assert_eq!(counts[&DeviceKind::ElderlyWearable], 500);
        // every household is inside its building's range
        for b in &a.buildings {
            for h in b.households.clone() {
                assert_eq!(a.households[h as usize].building, b.id);
            }
        }
        for h in &a.households {
            let members = &a.residents[h.residents.start as usize..h.residents.end as usize];
            assert!(
                members.iter().any(|r| r.age >= 18),
                "household {} has no adult",
                h.id
            );
        }
        let c = generate_community(&spec(), &p, 10, 0, 0);
        assert_ne!(a, c);
    }

    #[test]
    fn wearables_go_to_those_most_in_need_first() {
        let p = Parameters::default();
        let c = generate_community(&spec(), &p, 1, 0, 0);
        let worn: Vec<&Resident> = c
            .devices
            .iter()
            .filter_map(|d| match d.place {
                Place::Resident(r) => Some(&c.residents[r as usize]),
                _ => None,
            })
            .collect();
        let alone_80 = c
            .residents
            .iter()
            .filter(|r| r.age >= 80 && r.lives_alone)
            .count();
        let covered_alone_80 = worn.iter().filter(|r| r.age >= 80 && r.lives_alone).count();
        assert_eq!(covered_alone_80, alone_80);
    }

    #[test]
    fn district_splits_residents_exactly() {
        let p = Parameters::default();
        let d = DistrictSpec {
            name: "d".into(),
            street_offices: 8,
            communities: 75,
            residents: 300_000,
            old_share: 0.5,
            elderly_share_old: 0.3,
            elderly_share_new: 0.15,
            region: Region::Developed,
            size_spread: 0.5,
            devices: BTreeMap::new(),
            investors: BTreeMap::new(),
            share_platform_below: 0,
        };
        let w = generate_district(&d, &p, 1);
        assert_eq!(w.communities.len(), 75);
        assert_eq!(w.residents(), 300_000);
        assert_eq!(w.street_offices.len(), 8);
        assert_eq!(
            w.communities
                .iter()
                .filter(|c| c.age == EstateAge::Old)
                .count(),
            38
        );
        assert!(w.communities.iter().all(|c| c.street_office < 8));
    }

    #[test]
    fn a_tiny_district_never_gets_more_residents_than_asked() {
        let p = Parameters::default();
        for seed in 0..20 {
            let d = DistrictSpec {
                name: "d".into(),
                street_offices: 1,
                communities: 4,
                residents: 6,
                old_share: 0.5,
                elderly_share_old: 0.3,
                elderly_share_new: 0.15,
                region: Region::Developed,
                size_spread: 0.99,
                devices: BTreeMap::new(),
                investors: BTreeMap::new(),
                share_platform_below: 0,
            };
            let w = generate_district(&d, &p, seed);
            assert_eq!(w.residents(), 6, "seed {seed}");
            assert!(w.communities.iter().all(|c| !c.residents.is_empty()));
        }
    }
}
