//! Parameters of the economy: money, investment and operation models, the value-added
//! service market, regulation and digital adoption (DOMAIN §4). Amounts are written in
//! yuan in files and held in integer cents ([`cents`]) in the model.

use crate::kinds::{DeviceKind, InvestmentModel, Party, Region, ServiceKind, StaffRole};
use crate::model::{Community, District};
use crate::params::Checker;
use crate::params::Parameters;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Yuan to integer cents, rounded; negative and non-finite amounts give 0.
pub fn cents(yuan: f64) -> i64 {
    if yuan.is_finite() && yuan > 0.0 {
        (yuan * 100.0).round() as i64
    } else {
        0
    }
}

/// The economy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomyParams {
    /// Discount rate for NPVs.
    pub discount_rate: f64,
    /// District finance.
    pub fiscal: FiscalParams,
    /// The community platform's costs and revenues.
    pub platform: PlatformCostParams,
    /// Residents' money.
    pub residents: ResidentMoneyParams,
    /// The service market.
    pub market: MarketParams,
    /// The regulator.
    pub regulation: RegulationParams,
    /// Digital adoption.
    pub adoption: AdoptionParams,
    /// The investment and operation models.
    pub models: BTreeMap<InvestmentModel, ModelParams>,
    /// Value-added services.
    pub services: BTreeMap<ServiceKind, ServiceParams>,
    /// Device costs and user-fee revenues.
    pub device_costs: BTreeMap<DeviceKind, DeviceCostParams>,
    /// Wages of the staff in the three loops.
    pub wages: WageParams,
}

/// Wages of the staff who work the three loops, and how a roster on duty becomes people
/// on the payroll ([`payroll`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WageParams {
    /// Yearly wage of a residents committee member (yuan per full-time person).
    pub committee: f64,
    /// Yearly wage of a grid worker.
    pub grid: f64,
    /// Yearly wage of a property firm's staff member.
    pub property: f64,
    /// Yearly wage of a street office coordinator.
    pub street_office: f64,
    /// Yearly wage of a member of a department's crew.
    pub department_crew: f64,
    /// Yearly wage of a platform's operations staff.
    pub platform_staff: f64,
    /// The employer's social insurance and housing fund contributions, as a share of the
    /// wage, paid on top of it.
    pub employer_on_costs: f64,
    /// Hours a full-time person works in a week.
    pub hours_per_week: f64,
    /// People in one department crew.
    pub crew_size: u32,
    /// Residents one street office serves: a street office whose modelled communities
    /// have fewer pays that share of its staff to them (the rest serves communities
    /// outside the model).
    pub street_office_residents: f64,
}

impl WageParams {
    /// The yearly wage of `role` (yuan per full-time person, before on-costs).
    pub fn wage(&self, role: StaffRole) -> f64 {
        match role {
            StaffRole::Committee => self.committee,
            StaffRole::Grid => self.grid,
            StaffRole::Property => self.property,
            StaffRole::StreetOffice => self.street_office,
            StaffRole::DepartmentCrew => self.department_crew,
            StaffRole::PlatformStaff => self.platform_staff,
        }
    }

    /// What one full-time person of `role` costs a year, on-costs included (yuan).
    pub fn cost_per_person(&self, role: StaffRole) -> f64 {
        self.wage(role) * (1.0 + self.employer_on_costs)
    }
}

/// Who pays a line of the payroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Payer {
    /// The government's budget (the street and district tiers, one account).
    Government,
    /// The property firm of a community, out of its property fees.
    PropertyFirm(u32),
}

/// One line of the payroll: the people of one role, and who pays them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PayrollLine {
    /// Role.
    pub role: StaffRole,
    /// Who pays.
    pub payer: Payer,
    /// Full-time people needed to keep the roster on duty.
    pub people: f64,
    /// What they cost a year, on-costs included (yuan).
    pub yearly: f64,
}

/// The people a district must employ to keep its responders' rosters on duty, and what
/// they cost a year. A position on duty for `h` hours a week needs
/// `h / hours_per_week` full-time people: a committee member on every day shift of
/// 12 hours needs 84 / 40 = 2.1. Government lines are summed over the district; the
/// property firm has a line per community. Roles nobody staffs are left out.
///
/// Offices that also serve people outside the model are paid in proportion: a street
/// office by its modelled residents over `street_office_residents` (at most all of it),
/// and department crews at their per-capita rate (`department_crews_per_100k` × the
/// district's residents, unrounded) rather than the at-least-one crew on duty.
pub fn payroll(district: &District, params: &Parameters) -> Vec<PayrollLine> {
    let st = &params.staffing;
    let w = &params.economy.wages;
    let day_hours = st.day_end_hour.saturating_sub(st.day_start_hour).min(24) as f64;
    let night_hours = 24.0 - day_hours;
    let people = |day: f64, night: f64| {
        if w.hours_per_week > 0.0 {
            (day * day_hours + night * night_hours) * 7.0 / w.hours_per_week
        } else {
            0.0
        }
    };
    let line = |role, payer, people: f64| PayrollLine {
        role,
        payer,
        people,
        yearly: people * w.cost_per_person(role),
    };
    let mut lines = Vec::new();
    let (mut committee, mut grid) = (0.0, 0.0);
    for c in &district.communities {
        let s = &c.staffing;
        committee += people(s.committee_day as f64, s.committee_night as f64);
        grid += people(s.grid_day as f64, 0.0);
    }
    let mut served = vec![0usize; district.street_offices.len()];
    for c in &district.communities {
        if let Some(n) = served.get_mut(c.street_office as usize) {
            *n += c.residents.len();
        }
    }
    let streets: f64 = served
        .iter()
        .map(|&n| {
            if w.street_office_residents > 0.0 {
                (n as f64 / w.street_office_residents).min(1.0)
            } else {
                1.0
            }
        })
        .sum();
    let street = people(
        streets * st.street_day as f64,
        streets * st.street_night as f64,
    );
    let per_100k: f64 = st.department_crews_per_100k.values().sum();
    let crew_people = per_100k * district.residents() as f64 / 100_000.0 * w.crew_size as f64;
    let department = people(crew_people, crew_people);
    for (role, n) in [
        (StaffRole::Committee, committee),
        (StaffRole::Grid, grid),
        (StaffRole::StreetOffice, street),
        (StaffRole::DepartmentCrew, department),
    ] {
        if n > 0.0 {
            lines.push(line(role, Payer::Government, n));
        }
    }
    for c in &district.communities {
        let s = &c.staffing;
        let n = people(s.property_day as f64, s.property_night as f64);
        if n > 0.0 {
            lines.push(line(StaffRole::Property, Payer::PropertyFirm(c.index), n));
        }
    }
    lines
}

/// District finance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiscalParams {
    /// Yearly money the district can put into smart communities, per resident, developed
    /// region (yuan).
    pub capacity_per_resident_developed: f64,
    /// Same, less-developed region (yuan).
    pub capacity_per_resident_less_developed: f64,
    /// Mean share of that capacity claimed by competing demands in a year.
    pub competing_demand_mean: f64,
    /// Competing demands vary uniformly by ± this share from year to year.
    pub competing_demand_spread: f64,
    /// The district's general public budget spending per resident a year, developed
    /// region (yuan): what the PPP red line is a share of.
    pub general_budget_per_resident_developed: f64,
    /// Same, less-developed region (yuan).
    pub general_budget_per_resident_less_developed: f64,
    /// The PPP fiscal red line: all PPP payments from the general budget in a year are at
    /// most this share of its spending.
    pub ppp_red_line: f64,
    /// The share of the general budget the district's other PPP projects already take.
    pub other_ppp_share: f64,
    /// Yearly interest on the bonds that finance the government's construction.
    pub bond_rate: f64,
    /// Years after issue at which such a bond is repaid.
    pub bond_years: u32,
    /// Whether the bonds' interest is paid out of the smart-community allocation (first,
    /// before O&M), so that building competes with running; otherwise it is paid from
    /// the general budget, outside the allocation. Principal at maturity is always
    /// refinanced or repaid outside it.
    pub debt_service_in_allocation: bool,
}

impl FiscalParams {
    /// The general public budget's spending per resident (yuan) in a region.
    pub fn general_budget_per_resident(&self, region: Region) -> f64 {
        match region {
            Region::Developed => self.general_budget_per_resident_developed,
            Region::LessDeveloped => self.general_budget_per_resident_less_developed,
        }
    }

    /// The yearly capacity per resident (yuan) in a region.
    pub fn capacity_per_resident(&self, region: Region) -> f64 {
        match region {
            Region::Developed => self.capacity_per_resident_developed,
            Region::LessDeveloped => self.capacity_per_resident_less_developed,
        }
    }
}

/// The community platform's costs and revenues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformCostParams {
    /// Construction cost of one community platform (yuan): the fixed part, whatever its
    /// size.
    pub capex: f64,
    /// Construction cost of a platform per resident it serves (yuan), beside the fixed part.
    pub capex_per_resident: f64,
    /// Yearly operation and maintenance, as a share of construction cost.
    pub om_share: f64,
    /// Yearly rent per resident of a shared cloud platform instead (yuan).
    pub cloud_rent_per_resident: f64,
    /// Yearly revenue from de-identified data operations per resident (yuan).
    pub data_revenue_per_resident: f64,
    /// People who run a community platform's operations (its market, providers,
    /// residents' accounts), beside its technical O&M, per 1,000 residents it serves;
    /// none on a shared cloud platform, whose rent includes them.
    pub operations_staff_per_1000: f64,
    /// Under leasing, the share of the operator's platform revenue paid to the government
    /// as rent for public facilities.
    pub lease_share: f64,
    /// Service life of a device (years): it then wears out and is replaced or retired;
    /// also the period over which private investors and purchase of service recover its
    /// cost.
    pub device_life_years: u32,
}

/// Residents' money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidentMoneyParams {
    /// Monthly disposable income per resident, developed region (yuan).
    pub income_developed: f64,
    /// Same, less-developed region (yuan).
    pub income_less_developed: f64,
    /// Most of a household's income it will spend on value-added services.
    pub max_service_share: f64,
    /// Income elasticity of demand for value-added services (and of the value of their
    /// data): demand scales with (income / developed income) to this power.
    pub income_elasticity: f64,
}

/// The service market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// The platform's starting commission on service revenue.
    pub commission: f64,
    /// Enterprises per service kind when the market opens.
    pub initial_enterprises: u32,
    /// Most enterprises per service kind in one community.
    pub max_enterprises: u32,
    /// An enterprise enters when the kind's incumbents earned at least this margin.
    pub entry_margin: f64,
    /// An enterprise leaves after this many loss-making years in a row.
    pub exit_after_loss_years: u32,
    /// Price elasticity of demand.
    pub price_elasticity: f64,
    /// Without regulation, a dominant platform raises its commission by this much a year.
    pub monopoly_commission_step: f64,
    /// Without competition or regulation, providers raise prices by this share a year.
    pub monopoly_price_step: f64,
    /// …and let quality fall by this share a year.
    pub monopoly_quality_step: f64,
    /// HHI above which a kind's providers have market power.
    pub dominance_hhi: f64,
    /// Share of a kind's demand that offline providers serve through traditional channels
    /// when residents do not use the app.
    pub traditional_service_share: f64,
}

/// The regulator (DOMAIN §4: evaluates quality, caps prices, penalizes violators).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulationParams {
    /// Commission cap.
    pub commission_cap: f64,
    /// Price cap as a multiple of the reference price.
    pub price_cap: f64,
    /// Quality floor; providers below it are penalized.
    pub quality_floor: f64,
    /// Penalty as a share of the violator's yearly revenue.
    pub penalty_share: f64,
}

/// Digital adoption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptionParams {
    /// Yearly chance a non-user under 60 starts using the app, with outreach.
    pub outreach_under60: f64,
    /// Same for 60+.
    pub outreach_60plus: f64,
    /// Yearly chance without outreach (word of mouth), any age.
    pub background: f64,
    /// Keep traditional (phone, in person) service channels open.
    pub traditional_channels: bool,
}

/// One investment and operation model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelParams {
    /// Who builds and runs the platform.
    pub platform: Party,
    /// Who invests in marketable devices.
    pub marketable_devices: Party,
    /// Who invests in non-marketable devices; absent means nobody: they are not deployed.
    #[serde(default)]
    pub non_marketable_devices: Option<Party>,
    /// The government buys the service of non-marketable devices invested by others
    /// (their O&M plus capital recovery) (source 002).
    pub purchase_of_service: bool,
    /// A regulator evaluates, caps and penalizes.
    pub regulator: bool,
    /// The government runs digital outreach and training.
    pub outreach: bool,
    /// Share of residents' service demand the platform opens to the market (a government
    /// control platform opens little: "management over service", source 001).
    pub market_openness: f64,
    /// The government leases its public facilities to operators; revenue is reinvested.
    pub leasing: bool,
    /// Data operations on de-identified data.
    pub data_operations: bool,
    /// PPP concession, if any.
    #[serde(default)]
    pub ppp: Option<PppParams>,
}

/// A PPP concession (source 004; terms from PARAMETERS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PppParams {
    /// Concession term (years).
    pub term_years: u32,
    /// The partner's target return on its investment.
    pub target_return: f64,
    /// Share of the partner's market revenue that reduces the availability payment.
    pub revenue_share: f64,
    /// Availability payments are cut in proportion to unavailable devices.
    pub performance_based: bool,
    /// Share of the partner's construction financed by a loan (the rest is its equity).
    pub debt_share: f64,
    /// Interest rate of that loan, repaid in equal yearly instalments over the term.
    pub loan_rate: f64,
    /// The partner exits when the government's arrears exceed this many years of the
    /// availability payment.
    pub exit_arrears_years: f64,
}

/// One value-added service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// Price per use (yuan).
    pub price: f64,
    /// Provider's cost per use (yuan).
    pub unit_cost: f64,
    /// Uses per household per month, household without anyone 60+.
    pub demand_young: f64,
    /// Uses per household per month, household with someone 60+.
    pub demand_elderly: f64,
    /// Uses one provider can serve per month.
    pub capacity: f64,
    /// Provider's fixed cost per year (yuan).
    pub fixed_cost: f64,
    /// Starting quality (0–1).
    pub quality: f64,
    /// Needs a device kind to exist in the community (e.g. EV charging piles).
    #[serde(default)]
    pub needs_device: Option<DeviceKind>,
}

/// Costs and user-fee revenue of one device kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceCostParams {
    /// Purchase and installation (yuan per device).
    pub capex: f64,
    /// Yearly operation and maintenance (yuan per device).
    pub om: f64,
    /// Yearly user-fee revenue to its investor (yuan per device; 0 if not marketable).
    pub revenue: f64,
}

impl EconomyParams {
    /// Checks ranges, appending to `c` under `economy`.
    pub fn check(&self, c: &mut Checker) {
        c.at("economy", |c| {
            c.share("discount_rate", self.discount_rate);
            c.at("fiscal", |c| {
                let f = &self.fiscal;
                c.money(
                    "capacity_per_resident_developed",
                    f.capacity_per_resident_developed,
                );
                c.money(
                    "capacity_per_resident_less_developed",
                    f.capacity_per_resident_less_developed,
                );
                c.share("competing_demand_mean", f.competing_demand_mean);
                c.share("competing_demand_spread", f.competing_demand_spread);
                c.money(
                    "general_budget_per_resident_developed",
                    f.general_budget_per_resident_developed,
                );
                c.money(
                    "general_budget_per_resident_less_developed",
                    f.general_budget_per_resident_less_developed,
                );
                c.share("ppp_red_line", f.ppp_red_line);
                c.share("other_ppp_share", f.other_ppp_share);
                c.share("bond_rate", f.bond_rate);
                c.int_range("bond_years", f.bond_years as u64, 1, 50);
            });
            c.at("platform", |c| {
                let p = &self.platform;
                c.money("capex", p.capex);
                c.money("capex_per_resident", p.capex_per_resident);
                c.non_negative("om_share", p.om_share);
                c.money("cloud_rent_per_resident", p.cloud_rent_per_resident);
                c.range(
                    "operations_staff_per_1000",
                    p.operations_staff_per_1000,
                    0.0,
                    1_000.0,
                );
                c.money("data_revenue_per_resident", p.data_revenue_per_resident);
                c.share("lease_share", p.lease_share);
                c.int_range("device_life_years", p.device_life_years as u64, 1, 100);
            });
            c.at("residents", |c| {
                let r = &self.residents;
                c.money("income_developed", r.income_developed);
                c.money("income_less_developed", r.income_less_developed);
                c.share("max_service_share", r.max_service_share);
                c.range("income_elasticity", r.income_elasticity, 0.0, 5.0);
            });
            c.at("market", |c| {
                let m = &self.market;
                c.share("commission", m.commission);
                c.int_range("max_enterprises", m.max_enterprises as u64, 1, 100);
                c.int_range(
                    "initial_enterprises",
                    m.initial_enterprises as u64,
                    0,
                    m.max_enterprises as u64,
                );
                c.non_negative("entry_margin", m.entry_margin);
                c.int_range(
                    "exit_after_loss_years",
                    m.exit_after_loss_years as u64,
                    1,
                    100,
                );
                c.non_negative("price_elasticity", m.price_elasticity);
                c.share("monopoly_commission_step", m.monopoly_commission_step);
                c.share("monopoly_price_step", m.monopoly_price_step);
                c.share("monopoly_quality_step", m.monopoly_quality_step);
                c.share("dominance_hhi", m.dominance_hhi);
                c.share("traditional_service_share", m.traditional_service_share);
            });
            c.at("regulation", |c| {
                let r = &self.regulation;
                c.share("commission_cap", r.commission_cap);
                c.positive("price_cap", r.price_cap);
                c.share("quality_floor", r.quality_floor);
                c.share("penalty_share", r.penalty_share);
            });
            c.at("adoption", |c| {
                let a = &self.adoption;
                c.share("outreach_under60", a.outreach_under60);
                c.share("outreach_60plus", a.outreach_60plus);
                c.share("background", a.background);
            });
            c.at("models", |c| {
                for m in InvestmentModel::ALL {
                    match self.models.get(m) {
                        None => c.fail(m.as_str(), "missing: every model needs its parameters"),
                        Some(p) => c.at(m.as_str(), |c| {
                            c.share("market_openness", p.market_openness);
                            if let Some(ppp) = &p.ppp {
                                c.at("ppp", |c| {
                                    c.int_range("term_years", ppp.term_years as u64, 1, 100);
                                    c.share("target_return", ppp.target_return);
                                    c.share("revenue_share", ppp.revenue_share);
                                    c.share("debt_share", ppp.debt_share);
                                    c.share("loan_rate", ppp.loan_rate);
                                    c.range(
                                        "exit_arrears_years",
                                        ppp.exit_arrears_years,
                                        0.0,
                                        100.0,
                                    );
                                });
                            }
                        }),
                    }
                }
            });
            c.at("services", |c| {
                for k in ServiceKind::ALL {
                    match self.services.get(k) {
                        None => c.fail(k.as_str(), "missing: every service needs its parameters"),
                        Some(s) => c.at(k.as_str(), |c| {
                            c.positive("price", s.price);
                            if s.price > crate::params::MAX_YUAN {
                                c.money("price", s.price);
                            }
                            c.money("unit_cost", s.unit_cost);
                            c.non_negative("demand_young", s.demand_young);
                            c.non_negative("demand_elderly", s.demand_elderly);
                            c.positive("capacity", s.capacity);
                            c.money("fixed_cost", s.fixed_cost);
                            c.share("quality", s.quality);
                        }),
                    }
                }
            });
            c.at("wages", |c| {
                let w = &self.wages;
                for role in StaffRole::ALL {
                    c.money(role.as_str(), w.wage(*role));
                }
                c.range("employer_on_costs", w.employer_on_costs, 0.0, 1.0);
                c.range("hours_per_week", w.hours_per_week, 1.0, 168.0);
                c.int_range("crew_size", w.crew_size as u64, 1, 100);
                c.range(
                    "street_office_residents",
                    w.street_office_residents,
                    1.0,
                    10_000_000.0,
                );
            });
            c.at("device_costs", |c| {
                for k in DeviceKind::ALL {
                    match self.device_costs.get(k) {
                        None => c.fail(k.as_str(), "missing: every device kind needs its costs"),
                        Some(d) => c.at(k.as_str(), |c| {
                            c.money("capex", d.capex);
                            c.money("om", d.om);
                            c.money("revenue", d.revenue);
                        }),
                    }
                }
            });
        });
    }
}

/// Residents' income relative to a developed region's (scales what they pay).
pub fn income_factor(params: &Parameters, region: crate::kinds::Region) -> f64 {
    let r = &params.economy.residents;
    let income = match region {
        crate::kinds::Region::Developed => r.income_developed,
        crate::kinds::Region::LessDeveloped => r.income_less_developed,
    };
    if r.income_developed > 0.0 {
        income / r.income_developed
    } else {
        1.0
    }
}

/// Whether a private investor expects a device of `kind` to pay for itself here: its
/// yearly user fees (scaled by residents' income) cover its O&M and the recovery of its
/// cost over its life at the discount rate.
pub fn pays_for_itself(
    kind: DeviceKind,
    params: &Parameters,
    region: crate::kinds::Region,
) -> bool {
    let e = &params.economy;
    let c = &e.device_costs[&kind];
    let crf = capital_recovery(e.discount_rate, e.platform.device_life_years);
    c.revenue * income_factor(params, region) >= c.om + c.capex * crf
}

/// Applies an investment model to a generated community: each device's investor follows
/// the model (marketable devices by `marketable_devices`, the rest by
/// `non_marketable_devices`), unless the scenario fixed it. Devices nobody funds are not
/// deployed, and a private investor deploys a marketable device only if it pays for
/// itself ([`pays_for_itself`]) — unless a PPP concession pays for availability. Device
/// ids are renumbered densely.
pub fn apply_model(c: &mut Community, model: InvestmentModel, params: &Parameters) {
    let mp = &params.economy.models[&model];
    let mut kept = Vec::with_capacity(c.devices.len());
    let mut profitable: std::collections::BTreeMap<DeviceKind, bool> = Default::default();
    for mut d in std::mem::take(&mut c.devices) {
        if !c.fixed_investors.contains(&d.kind) {
            let marketable = params.device(d.kind).marketable;
            let investor = if marketable {
                Some(mp.marketable_devices)
            } else {
                mp.non_marketable_devices
            };
            let Some(p) = investor else { continue };
            let private = p != Party::Government && mp.ppp.is_none();
            if private && marketable {
                let pays = *profitable
                    .entry(d.kind)
                    .or_insert_with(|| pays_for_itself(d.kind, params, c.region));
                if !pays {
                    continue;
                }
            }
            d.investor = p;
        }
        d.id = kept.len() as u32;
        kept.push(d);
    }
    c.devices = kept;
}

/// Capital recovery factor: the yearly payment that repays 1 over `years` at `rate`.
pub fn capital_recovery(rate: f64, years: u32) -> f64 {
    let n = years.max(1) as f64;
    if rate <= 0.0 {
        1.0 / n
    } else {
        rate / (1.0 - (1.0 + rate).powf(-n))
    }
}

/// The evaluation index (DOMAIN §6: Haishu's four first-level indicators): pillar weights
/// and, within each pillar, the weights of its sub-indicators. Each set sums to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationParams {
    /// Pillar weights.
    pub weights: PillarWeights,
    /// Smart infrastructure.
    pub infrastructure: InfrastructureWeights,
    /// Smart governance.
    pub governance: GovernanceWeights,
    /// Smart services.
    pub services: ServicesWeights,
    /// Safeguards.
    pub safeguards: SafeguardsWeights,
    /// What counts as a sustained year.
    pub sustained: SustainedParams,
}

/// A year is sustained when every party that owes money for the platform and its devices
/// paid at least `min_paid` of it (none went insolvent or exited), and the platform
/// operated at least `min_operating` of the year — the same rule for every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SustainedParams {
    /// Least share of what a party owed that it must pay.
    pub min_paid: f64,
    /// Least share of the year the platform must operate.
    pub min_operating: f64,
}

/// Pillar weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PillarWeights {
    /// Smart infrastructure.
    pub infrastructure: f64,
    /// Smart governance.
    pub governance: f64,
    /// Smart services.
    pub services: f64,
    /// Safeguards.
    pub safeguards: f64,
}

/// Smart infrastructure sub-indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfrastructureWeights {
    /// Working non-marketable (public-service) devices / planned.
    pub coverage_non_marketable: f64,
    /// Working marketable devices / planned.
    pub coverage_marketable: f64,
    /// Share of the year the platform operated.
    pub platform_up: f64,
}

/// Smart governance sub-indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceWeights {
    /// Share of incidents closed in the micro-loop.
    pub micro_share: f64,
    /// 1 / (1 + median detection hours).
    pub fast_detection: f64,
    /// target / max(target, median resolution hours).
    pub fast_resolution: f64,
    /// The resolution target for `fast_resolution` (h).
    pub resolution_target_hours: f64,
}

/// Smart services sub-indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesWeights {
    /// Share of service requests served.
    pub served_share: f64,
    /// Same, households with someone 60+.
    pub served_share_elderly: f64,
    /// 1 / max(1, price index).
    pub affordability: f64,
    /// Share of residents using the app.
    pub adoption: f64,
}

/// Safeguards sub-indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeguardsWeights {
    /// Years sustained / horizon.
    pub sustainability: f64,
    /// 1 − HHI of service providers.
    pub competition: f64,
    /// Satisfaction of residents 60+.
    pub satisfaction_elderly: f64,
}

fn check_sum(c: &mut Checker, name: &str, parts: &[(&str, f64)]) {
    c.at(name, |c| {
        for (f, v) in parts {
            c.share(f, *v);
        }
        let sum: f64 = parts.iter().map(|p| p.1).sum();
        if (sum - 1.0).abs() > 1e-6 {
            let names: Vec<&str> = parts.iter().map(|p| p.0).collect();
            c.fail(
                "",
                format!(
                    "expected weights summing to 1 ({}), found a sum of {sum}",
                    names.join(" + ")
                ),
            );
        }
    });
}

impl EvaluationParams {
    /// Checks that each set of weights is made of shares summing to 1.
    pub fn check(&self, c: &mut Checker) {
        c.at("evaluation", |c| {
            c.at("sustained", |c| {
                c.share("min_paid", self.sustained.min_paid);
                c.share("min_operating", self.sustained.min_operating);
            });
            let w = &self.weights;
            check_sum(
                c,
                "weights",
                &[
                    ("infrastructure", w.infrastructure),
                    ("governance", w.governance),
                    ("services", w.services),
                    ("safeguards", w.safeguards),
                ],
            );
            let i = &self.infrastructure;
            check_sum(
                c,
                "infrastructure",
                &[
                    ("coverage_non_marketable", i.coverage_non_marketable),
                    ("coverage_marketable", i.coverage_marketable),
                    ("platform_up", i.platform_up),
                ],
            );
            let g = &self.governance;
            check_sum(
                c,
                "governance",
                &[
                    ("micro_share", g.micro_share),
                    ("fast_detection", g.fast_detection),
                    ("fast_resolution", g.fast_resolution),
                ],
            );
            c.at("governance", |c| {
                c.positive("resolution_target_hours", g.resolution_target_hours)
            });
            let s = &self.services;
            check_sum(
                c,
                "services",
                &[
                    ("served_share", s.served_share),
                    ("served_share_elderly", s.served_share_elderly),
                    ("affordability", s.affordability),
                    ("adoption", s.adoption),
                ],
            );
            let f = &self.safeguards;
            check_sum(
                c,
                "safeguards",
                &[
                    ("sustainability", f.sustainability),
                    ("competition", f.competition),
                    ("satisfaction_elderly", f.satisfaction_elderly),
                ],
            );
        });
    }
}
