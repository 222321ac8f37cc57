//! Money and yearly reports: what behaviours write besides messages.
//!
//! Every payment is a [`Transfer`] between two [`Account`]s, in integer cents, with a
//! [`Purpose`]. Costs paid to the outside world go to [`Account::Suppliers`]; money
//! entering from outside (fiscal allocations, the operator's equity, residents' own
//! income) comes from [`Account::Outside`]. So every cent paid by one account is received
//! by another, and the ledger sums to zero by construction; what a test checks is that
//! each behaviour's own idea of its cash agrees with the ledger.
use serde::{Deserialize, Serialize};

use crate::kinds::{DeviceKind, ServiceKind, StaffRole};
use crate::time::SimTime;

/// Who holds money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// District government (finance).
    Government,
    /// The platform operator of a community.
    Operator(u32),
    /// The property firm of a community.
    PropertyFirm(u32),
    /// The service enterprises (providers and device investors) of a community, together.
    Enterprises(u32),
    /// The residents of a community, together.
    Residents(u32),
    /// Named costs paid out of the model: construction, O&M, providers' costs.
    Suppliers,
    /// Money entering the model: fiscal allocations, equity, residents' income.
    Outside,
}

impl Account {
    /// The party name used in reports.
    pub fn party(self) -> &'static str {
        match self {
            Account::Government => "government",
            Account::Operator(_) => "operator",
            Account::PropertyFirm(_) => "property_firm",
            Account::Enterprises(_) => "enterprises",
            Account::Residents(_) => "residents",
            Account::Suppliers => "suppliers",
            Account::Outside => "outside",
        }
    }
}

/// What a payment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Building the community platform.
    PlatformCapex,
    /// Running the platform for a year.
    PlatformOm,
    /// Buying and installing devices.
    DeviceCapex(DeviceKind),
    /// Operating and maintaining devices for a year.
    DeviceOm(DeviceKind),
    /// User fees earned by marketable devices.
    DeviceFees(DeviceKind),
    /// Residents paying for a service.
    Service(ServiceKind),
    /// The platform's commission on a service.
    Commission(ServiceKind),
    /// A provider's cost per use.
    ProviderCost(ServiceKind),
    /// A new provider's entry cost.
    ProviderEntry(ServiceKind),
    /// Selling de-identified data.
    DataSale,
    /// The government buying the service of non-marketable devices.
    PurchaseOfService,
    /// PPP availability payment.
    AvailabilityPayment,
    /// The government's O&M of its own devices, paid as one sum per community.
    GovernmentDeviceOm,
    /// Capital budget for the government's construction.
    CapitalBudget,
    /// Lease of public facilities to the operator.
    Lease,
    /// A regulator's fine.
    Penalty,
    /// The district's yearly allocation to smart communities.
    FiscalAllocation,
    /// Unspent allocation returned at year end.
    FiscalReturn,
    /// Owners' capital put into an operator or enterprise.
    Equity,
    /// Property fees the property firm collects (it pays its devices' O&M and its staff
    /// from them).
    PropertyFees,
    /// Wages of the staff of one role, on-costs included, for a year.
    Wages(StaffRole),
    /// A loan to a PPP partner for its construction.
    Loan,
    /// Repaying a loan's principal.
    LoanRepayment,
    /// Interest on a loan.
    Interest,
    /// The government's personnel budget: what pays the wages of its staff, apart from the
    /// smart-community allocation (so paying staff never competes with the platform).
    StaffBudget,
}

impl Purpose {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::PlatformCapex => "platform_capex",
            Purpose::PlatformOm => "platform_om",
            Purpose::DeviceCapex(_) => "device_capex",
            Purpose::DeviceOm(_) => "device_om",
            Purpose::DeviceFees(_) => "device_fees",
            Purpose::Service(_) => "service",
            Purpose::Commission(_) => "commission",
            Purpose::ProviderCost(_) => "provider_cost",
            Purpose::ProviderEntry(_) => "provider_entry",
            Purpose::DataSale => "data_sale",
            Purpose::PurchaseOfService => "purchase_of_service",
            Purpose::AvailabilityPayment => "availability_payment",
            Purpose::GovernmentDeviceOm => "device_om",
            Purpose::CapitalBudget => "capital_budget",
            Purpose::Lease => "lease",
            Purpose::Penalty => "penalty",
            Purpose::FiscalAllocation => "fiscal_allocation",
            Purpose::FiscalReturn => "fiscal_return",
            Purpose::Equity => "equity",
            Purpose::PropertyFees => "property_fees",
            Purpose::Wages(_) => "wages",
            Purpose::StaffBudget => "staff_budget",
            Purpose::Loan => "loan",
            Purpose::LoanRepayment => "loan_repayment",
            Purpose::Interest => "interest",
        }
    }

    /// What kind of money this is, for the books and the KPIs. Every purpose has one
    /// class, so a new purpose cannot be added without saying how it counts.
    pub fn class(self) -> MoneyClass {
        match self {
            Purpose::PlatformCapex | Purpose::DeviceCapex(_) | Purpose::ProviderEntry(_) => {
                MoneyClass::Capital
            }
            Purpose::PlatformOm
            | Purpose::DeviceOm(_)
            | Purpose::GovernmentDeviceOm
            | Purpose::ProviderCost(_) => MoneyClass::OperatingCost,
            Purpose::PurchaseOfService | Purpose::AvailabilityPayment => MoneyClass::Purchase,
            Purpose::Service(_)
            | Purpose::Commission(_)
            | Purpose::DataSale
            | Purpose::PropertyFees => MoneyClass::Sales,
            Purpose::DeviceFees(_) | Purpose::Lease | Purpose::Penalty => MoneyClass::Charges,
            Purpose::Wages(_) => MoneyClass::Staff,
            Purpose::Interest => MoneyClass::FinanceCost,
            Purpose::Equity
            | Purpose::StaffBudget
            | Purpose::Loan
            | Purpose::LoanRepayment
            | Purpose::CapitalBudget
            | Purpose::FiscalAllocation
            | Purpose::FiscalReturn => MoneyClass::Financing,
        }
    }
}

/// The kind of money a [`Purpose`] is ([`Purpose::class`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoneyClass {
    /// Capital spending: building the platform, buying devices, a provider's entry.
    Capital,
    /// Running costs: O&M of the platform and devices, providers' cost per use.
    OperatingCost,
    /// The government buying a service: purchase of service, availability payments.
    Purchase,
    /// Selling services: residents paying providers, the platform's commission, data
    /// sales, the property firm's fees.
    Sales,
    /// Charges for using an asset or breaking a rule: device user fees, leases, fines.
    Charges,
    /// Wages of staff.
    Staff,
    /// Interest paid on a loan.
    FinanceCost,
    /// Money that finances rather than pays for something: owners' equity, capital
    /// budgets, the fiscal allocation and its unspent return, the personnel budget, a loan
    /// and the repayment of its principal. Not part of a party's
    /// cash flow.
    Financing,
}

/// One payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// When.
    pub at: SimTime,
    /// Payer.
    pub from: Account,
    /// Payee.
    pub to: Account,
    /// Amount (cents, ≥ 0).
    pub cents: i64,
    /// What for.
    pub purpose: Purpose,
}

/// Device time by kind over one year in one community.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceYear {
    /// Devices deployed.
    pub count: u64,
    /// Of which marketable.
    pub marketable: bool,
    /// Device-seconds working.
    pub working_secs: u64,
    /// Device-seconds working while the platform operated (in use).
    pub used_secs: u64,
}

/// Residents' side of one year in one building.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildingYear {
    /// Year (0-based).
    pub year: u32,
    /// Community.
    pub community: u32,
    /// Building.
    pub building: u32,
    /// Residents.
    pub residents: u64,
    /// Residents 60+.
    pub elderly: u64,
    /// Residents using the app at year end.
    pub app_users: u64,
    /// Of which 60+.
    pub app_users_elderly: u64,
    /// Sum of satisfaction (all).
    pub satisfaction_sum: f64,
    /// Sum of satisfaction (60+).
    pub satisfaction_elderly_sum: f64,
    /// Service uses requested.
    pub requested: u64,
    /// Service uses served.
    pub served: u64,
    /// Requested by households with someone 60+.
    pub requested_elderly: u64,
    /// Served to households with someone 60+.
    pub served_elderly: u64,
    /// Devices by kind.
    pub devices: Vec<(DeviceKind, DeviceYear)>,
}

/// The platform's side of one year in one community.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlatformYear {
    /// Year (0-based).
    pub year: u32,
    /// Community.
    pub community: u32,
    /// Share of the year the platform operated.
    pub operating: f64,
    /// Commission rate at year end.
    pub commission: f64,
    /// Demand-weighted price relative to reference prices.
    pub price_index: f64,
    /// Demand-weighted HHI of providers' shares.
    pub hhi: f64,
    /// Active providers at year end.
    pub providers: u32,
    /// Mean provider quality (0–1; NaN when there is no provider).
    pub quality: f64,
    /// Share of this year's government obligations paid.
    pub funded_share: f64,
    /// Share of their devices' O&M the enterprises could pay this year (1 when they owe
    /// none).
    pub enterprise_paid_share: f64,
    /// Devices broken and not repaired for lack of funding, at year end.
    pub unrepaired: u64,
    /// Devices removed so far by the regulator's review (broken and unused a full year).
    pub decommissioned: u64,
    /// Devices so far that their owner did not replace at the end of their life.
    pub retired: u64,
    /// PPP availability payments the government owes and has not paid, at year end
    /// (cents).
    pub arrears: i64,
    /// The PPP partner exited the concession.
    pub partner_exited: bool,
    /// Penalties levied.
    pub penalties: u32,
    /// Operator still solvent at year end.
    pub operator_solvent: bool,
    /// The operator's cash at year end, as the platform keeps it (cents).
    pub operator_cash: i64,
}

/// Something a behaviour reports once a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YearReport {
    /// A building host.
    Building(Box<BuildingYear>),
    /// A platform.
    Platform(Box<PlatformYear>),
}
