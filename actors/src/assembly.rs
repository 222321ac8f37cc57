//! Assembly: from a district of communities and the parameters, the set of behaviours and
//! who talks to whom. One building host per building, one platform, committee and property firm
//! per community, one actor per street office and per district department.

pub(crate) use crate::agents::addresses::{Addresses, CommunityAddresses};
use crate::agents::building::BuildingHost;
use crate::agents::finance::{Finance, Funded};
use crate::agents::platform::Platform;
use crate::agents::responder::{Responder, Staffing};
use crate::agents::{Agent, Shared};
use crate::inject::InjectError;
use crate::message::ActorId;
use civitas_twin::calendar::Calendar;
use civitas_twin::economy::{Payer, cents, payroll};
use civitas_twin::kinds::{Department, InvestmentModel};
use civitas_twin::model::District;
use civitas_twin::params::Parameters;
use civitas_twin::vocab::action::{Organisation, Refusal};
use std::sync::Arc;

/// The assembled actors of a district, ready for the engine.
pub struct Assembly {
    /// Behaviours, indexed by [`ActorId`].
    pub(crate) agents: Vec<Agent>,
    /// Display name per actor (for logs and errors).
    pub(crate) names: Vec<String>,
    /// Where outside injects go.
    pub(crate) directory: Directory,
}

/// What the engine needs to route outside injects: each community's buildings (host
/// actor and the households they hold) and which building hosts each device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Directory {
    pub(crate) communities: Vec<CommunityDirectory>,
    /// Every organisation's actor.
    pub(crate) addresses: Arc<Addresses>,
}

/// One community's part of the [`Directory`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CommunityDirectory {
    /// Per building: its host and its households' ids.
    pub(crate) buildings: Vec<(ActorId, std::ops::Range<u32>)>,
    /// Per device id: the building hosting it.
    pub(crate) device_building: Vec<u32>,
}

impl Directory {
    /// The actor an inject to `to` goes to, checking that the inject names something
    /// hosted there: an action goes to an organisation, anything else to a building or
    /// a device.
    pub(crate) fn resolve(
        &self,
        to: crate::inject::Address,
        what: &crate::inject::Inject,
    ) -> Result<ActorId, InjectError> {
        use crate::inject::Inject;
        match (to.organisation(), what) {
            (Some(org), Inject::Act { incident, action }) => {
                (action.fits_loop_of(*incident, org)).map_err(InjectError::Refused)?;
                self.organisation(org)
            }
            (None, Inject::Act { .. }) | (Some(_), _) => {
                let what = match what {
                    Inject::Act { .. } => "an action on an incident".to_string(),
                    other => format!("an {} inject", other.as_str()),
                };
                let to = to.to_string();
                Err(InjectError::Refused(Refusal::WrongDestination { what, to }))
            }
            (None, _) => self.place(to, what).map_err(InjectError::UnknownAddress),
        }
    }

    /// An organisation's actor.
    fn organisation(&self, org: Organisation) -> Result<ActorId, InjectError> {
        let a = &self.addresses;
        let n = a.communities.len();
        let found = match org {
            Organisation::Committee { community } => {
                a.communities.get(community as usize).map(|c| c.committee)
            }
            Organisation::PropertyFirm { community } => {
                a.communities.get(community as usize).map(|c| c.property)
            }
            Organisation::StreetOffice { street } => a.street_offices.get(street as usize).copied(),
            Organisation::Department { department } => {
                a.departments.get(department.index()).copied()
            }
        };
        found.ok_or_else(|| {
            InjectError::UnknownAddress(match org {
                Organisation::StreetOffice { street } => {
                    format!(
                        "street office {street} (there are {})",
                        a.street_offices.len()
                    )
                }
                other => format!("{other} (there are {n} communities)"),
            })
        })
    }

    /// The building host an inject to a building or device goes to.
    fn place(
        &self,
        to: crate::inject::Address,
        what: &crate::inject::Inject,
    ) -> Result<ActorId, String> {
        use crate::inject::{Address, Inject};
        let n = self.communities.len();
        let community_of = |community: u32| {
            self.communities
                .get(community as usize)
                .ok_or_else(|| format!("community {community} (there are {n})"))
        };
        if let (
            Address::Device {
                device: to_device, ..
            },
            Inject::Device { device, .. }
            | Inject::Alarm { device, .. }
            | Inject::CommandOutcome { device, .. },
        ) = (to, what)
            && to_device != *device
        {
            return Err(format!(
                "the record goes to device {to_device} (`to.device`) but reports the state of device {device} (`inject.device`); they must name the same device"
            ));
        }
        let (community, building) = match to {
            Address::Building {
                community,
                building,
            } => (community, building),
            Address::Device { community, device } => {
                let c = community_of(community)?;
                let b = c.device_building.get(device as usize).ok_or_else(|| {
                    let m = c.device_building.len();
                    format!("device {device} in community {community} (it has {m})")
                })?;
                (community, *b)
            }
            Address::Committee { .. }
            | Address::PropertyFirm { .. }
            | Address::StreetOffice { .. }
            | Address::Department { .. } => unreachable!("organisations resolve above"),
        };
        let c = community_of(community)?;
        let (host, households) = c.buildings.get(building as usize).ok_or_else(|| {
            let m = c.buildings.len();
            format!("building {building} in community {community} (it has {m})")
        })?;
        match *what {
            Inject::Incident {
                household: Some(h), ..
            } if !households.contains(&h) => Err(format!(
                "household {h} in building {building} of community {community} (it holds {}..{})",
                households.start, households.end
            )),
            Inject::Device { device, .. }
            | Inject::Alarm { device, .. }
            | Inject::CommandOutcome { device, .. }
                if c.device_building.get(device as usize) != Some(&building) =>
            {
                Err(format!(
                    "device {device} in building {building} of community {community}"
                ))
            }
            _ => Ok(*host),
        }
    }
}

impl Assembly {
    /// Number of actors (one ractor actor each).
    pub fn actors(&self) -> usize {
        self.agents.len()
    }
}

impl Assembly {
    /// Assembles the actors of `district` under `params` and investment `model`, seeded
    /// with `seed`, on the default calendar (midnight, 1 January 2026, Shanghai time).
    /// Devices are expected to have their investors set by the model
    /// ([`civitas_twin::economy::apply_model`]).
    pub fn build(
        district: &District,
        params: &Parameters,
        seed: u64,
        model: InvestmentModel,
    ) -> Assembly {
        Assembly::build_at(district, params, &Calendar::default(), seed, model)
    }

    /// [`Assembly::build`] on `calendar`: shifts, months and years follow its local time.
    pub fn build_at(
        district: &District,
        params: &Parameters,
        calendar: &Calendar,
        seed: u64,
        model: InvestmentModel,
    ) -> Assembly {
        let params = Arc::new(params.clone());
        let calendar = Arc::new(calendar.clone());
        // Assign ids first: communities (building hosts, platform, committee, property),
        // then street offices, then departments.
        let mut next = 0u32;
        let mut take = || {
            next += 1;
            ActorId(next - 1)
        };
        let mut comm_ids = Vec::new();
        for c in &district.communities {
            let buildings: Vec<ActorId> = c.buildings.iter().map(|_| take()).collect();
            comm_ids.push((buildings, take(), take(), take()));
        }
        let street_offices: Vec<ActorId> = district.street_offices.iter().map(|_| take()).collect();
        let departments: Vec<ActorId> = Department::ALL.iter().map(|_| take()).collect();
        let communities = district
            .communities
            .iter()
            .zip(comm_ids)
            .map(
                |(c, (buildings, platform, committee, property))| CommunityAddresses {
                    platform,
                    committee,
                    property,
                    street_office: street_offices[c.street_office as usize],
                    street: c.street_office,
                    buildings,
                },
            )
            .collect();
        let finance = take();
        let addresses = Arc::new(Addresses {
            communities,
            street_offices,
            departments,
            finance,
        });
        let outreach = params.economy.models[&model].outreach;
        let shared = Shared::new(params.clone(), calendar.clone(), addresses.clone());
        let payroll = payroll(district, &params);

        let mut agents = Vec::new();
        let mut names = Vec::new();
        for c in &district.communities {
            let a = &addresses.communities[c.index as usize];
            let by_building = c.devices_by_building();
            for b in &c.buildings {
                agents.push(Agent::Building(Box::new(BuildingHost::new(
                    c,
                    b.id,
                    a.platform,
                    shared.clone(),
                    seed,
                    outreach,
                    &by_building[b.id as usize],
                ))));
                names.push(format!("{} building {}", c.name, b.id));
            }
            let property_payroll = payroll
                .iter()
                .filter(|l| l.payer == Payer::PropertyFirm(c.index))
                .map(|l| cents(l.yearly))
                .sum();
            agents.push(Agent::Platform(Box::new(Platform::new(
                c,
                model,
                property_payroll,
                addresses.finance,
                shared.clone(),
                seed,
            ))));
            names.push(format!("{} platform", c.name));
            let st = c.staffing;
            let community = c.index;
            for (org, id, day, night, what) in [
                (
                    Organisation::Committee { community },
                    a.committee,
                    st.committee_day.saturating_add(st.grid_day),
                    st.committee_night,
                    "residents committee",
                ),
                (
                    Organisation::PropertyFirm { community },
                    a.property,
                    st.property_day,
                    st.property_night,
                    "property firm",
                ),
            ] {
                agents.push(Agent::Responder(Box::new(Responder::new(
                    org,
                    id,
                    Staffing::shifts(day, night, &params),
                    Some(params.staffing.micro_queue_capacity as usize),
                    shared.clone(),
                    seed,
                ))));
                names.push(format!("{} {what}", c.name));
            }
        }
        for (i, name) in district.street_offices.iter().enumerate() {
            agents.push(Agent::Responder(Box::new(Responder::new(
                Organisation::StreetOffice { street: i as u32 },
                addresses.street_offices[i],
                Staffing::shifts(
                    params.staffing.street_day,
                    params.staffing.street_night,
                    &params,
                ),
                Some(params.staffing.street_queue_capacity as usize),
                shared.clone(),
                seed,
            ))));
            names.push(name.clone());
        }
        for d in Department::ALL {
            let crews = district.department_crews.get(d).copied().unwrap_or(1);
            agents.push(Agent::Responder(Box::new(Responder::new(
                Organisation::Department { department: *d },
                addresses.department(*d),
                Staffing::constant(crews),
                None,
                shared.clone(),
                seed,
            ))));
            names.push(format!("district {}", d.as_str().replace('_', " ")));
        }
        let funded = district
            .communities
            .iter()
            .map(|c| Funded {
                platform: addresses.communities[c.index as usize].platform,
                residents: c.residents.len() as u64,
                region: c.region,
            })
            .collect();
        let government_payroll = payroll
            .iter()
            .filter(|l| l.payer == Payer::Government)
            .map(|l| (l.role, cents(l.yearly)))
            .collect();
        agents.push(Agent::Finance(Box::new(Finance::new(
            funded,
            government_payroll,
            shared.clone(),
            seed,
        ))));
        names.push("district finance".to_string());
        debug_assert_eq!(agents.len(), next as usize);
        let directory = Directory {
            addresses: addresses.clone(),
            communities: district
                .communities
                .iter()
                .map(|c| {
                    let a = &addresses.communities[c.index as usize];
                    let mut device_building = vec![u32::MAX; c.devices.len()];
                    for (b, devs) in c.devices_by_building().iter().enumerate() {
                        for &d in devs {
                            if let Some(slot) = device_building.get_mut(d as usize) {
                                *slot = b as u32;
                            }
                        }
                    }
                    CommunityDirectory {
                        buildings: c
                            .buildings
                            .iter()
                            .map(|b| (a.buildings[b.id as usize], b.households.clone()))
                            .collect(),
                        device_building,
                    }
                })
                .collect(),
        };
        Assembly {
            agents,
            names,
            directory,
        }
    }
}
