//! The domain vocabulary: device kinds, incident kinds, severities, loop levels,
//! departments, parties and the government's obligations. Each enum lists its members in a fixed order (`ALL`) so
//! reports and files never depend on hash order.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The snake_case name used in files and reports.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// Parses the snake_case name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }

            /// Position in [`Self::ALL`], for dense per-kind tables.
            pub fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// Kinds of device in a community's sensing network (DOMAIN §2, sources 001, 002, 004).
    DeviceKind {
        /// Video surveillance camera covering a building's common areas.
        VideoSurveillance => "video_surveillance",
        /// Face-recognition terminal at a building entrance.
        FaceRecognition => "face_recognition",
        /// Vehicle (number-plate) recognition at the site gates.
        VehicleRecognition => "vehicle_recognition",
        /// Smart access control at a building entrance.
        AccessControl => "access_control",
        /// Person–ID verification terminal at the site gate.
        IdVerification => "id_verification",
        /// Smart EV charging pile in the car park.
        EvCharger => "ev_charger",
        /// Smart water/power/gas meter of a household.
        SmartMeter => "smart_meter",
        /// Smart ground lock on a parking space.
        GroundLock => "ground_lock",
        /// Smart trash bin reporting its fill level.
        SmartBin => "smart_bin",
        /// Networked smoke detector in a household.
        SmokeDetector => "smoke_detector",
        /// Water-level sensor in a basement.
        WaterLevel => "water_level",
        /// Water-quality sensor on a building's supply.
        WaterQuality => "water_quality",
        /// Environment (air, noise) sensor on the site.
        Environment => "environment",
        /// Elevator remote-monitoring unit, one per lift.
        ElevatorMonitor => "elevator_monitor",
        /// Fire hydrant box monitor (pressure, door, hose).
        HydrantMonitor => "hydrant_monitor",
        /// Elderly wearable: location, heart rate, SOS, fall detection, electronic fence.
        ElderlyWearable => "elderly_wearable",
        /// Emergency call button in an elderly household.
        EmergencyButton => "emergency_button",
        /// Burglar alarm in a household.
        BurglarAlarm => "burglar_alarm",
        /// Information display and emergency broadcast on the site.
        InfoDisplay => "info_display",
    }
}

vocabulary! {
    /// Kinds of incident the sources name (DOMAIN §3, sources 001, 002, 004).
    IncidentKind {
        /// Fire or smoke in a home.
        Fire => "fire",
        /// An older resident falls at home.
        ElderlyFall => "elderly_fall",
        /// An older resident with impaired orientation leaves the electronic fence.
        ElderlyWandering => "elderly_wandering",
        /// People trapped in a lift.
        ElevatorEntrapment => "elevator_entrapment",
        /// A basement floods.
        BasementFlooding => "basement_flooding",
        /// Garbage not collected in time; bins overflow.
        GarbageOverflow => "garbage_overflow",
        /// Parking chaos: blocked lanes, fire access obstructed.
        ParkingChaos => "parking_chaos",
        /// Intrusion into a building or home.
        Intrusion => "intrusion",
        /// Disorderly entry and exit at the gates.
        DisorderlyEntry => "disorderly_entry",
        /// A dispute between neighbours.
        NeighbourDispute => "neighbour_dispute",
        /// Broken public facilities (lights, doors, railings).
        FacilityBroken => "facility_broken",
        /// A fire hydrant box that would not work (no pressure, hose missing).
        HydrantFault => "hydrant_fault",
        /// Water supply contaminated or discoloured.
        WaterContamination => "water_contamination",
        /// A safety device did not carry out a command (doors not released in a fire, a
        /// basement pump not started): people must do by hand what it should have done.
        /// It arises only from a command's outcome, never by itself.
        CommandFailed => "command_failed",
    }
}

vocabulary! {
    /// What the platform tells a device to do when an incident calls for it.
    CommandAction {
        /// Access control: release the building's doors (a fire: the way out stays open).
        ReleaseDoors => "release_doors",
        /// The basement's water-level station: start its drainage pump (a flood).
        StartPump => "start_pump",
        /// Access control: lock the building's doors again (an operator, after the
        /// danger).
        LockDoors => "lock_doors",
        /// The basement's water-level station: stop its drainage pump (an operator).
        StopPump => "stop_pump",
    }
}

vocabulary! {
    /// How a device command ended.
    CommandOutcome {
        /// The device confirmed it carried it out.
        Succeeded => "succeeded",
        /// The device answered that it could not.
        Failed => "failed",
        /// No answer within the command's timeout (a lost message, a broken or offline
        /// device).
        TimedOut => "timed_out",
        /// Never delivered: the device was asleep or offline until the command's expiry
        /// (the live twin's queue for sleeping devices).
        Expired => "expired",
    }
}

vocabulary! {
    /// How serious an incident is; selects its time limits (DOMAIN §3 "classified and graded").
    Severity {
        /// Routine: 12345's general 7-day limit.
        Low => "low",
        /// Affects daily life: 24-hour utility limit.
        Medium => "medium",
        /// Danger to life or property: 2-hour limit.
        High => "high",
        /// Emergency: whistled to the district at once.
        Critical => "critical",
    }
}

vocabulary! {
    /// The three loops (DOMAIN §3, source 002).
    Level {
        /// Community micro-loop: residents committee, property firm, grid staff.
        Micro => "micro",
        /// Street small loop: the street office.
        Street => "street",
        /// District big loop: departments.
        District => "district",
    }
}

vocabulary! {
    /// District departments that "report for duty" when the street office whistles.
    Department {
        /// Public security (police).
        PublicSecurity => "public_security",
        /// Fire and rescue.
        FireRescue => "fire_rescue",
        /// Civil affairs (elderly care).
        CivilAffairs => "civil_affairs",
        /// Urban management.
        UrbanManagement => "urban_management",
        /// Housing (and special-equipment supervision).
        Housing => "housing",
        /// Health.
        Health => "health",
    }
}

vocabulary! {
    /// The community organization in the micro-loop that first handles a kind.
    Handler {
        /// Residents committee with its grid staff.
        Committee => "committee",
        /// Property-management firm.
        PropertyFirm => "property_firm",
    }
}

vocabulary! {
    /// Who is paid a wage to staff the three loops, by the account that pays them
    /// (`economy::payroll`).
    StaffRole {
        /// Residents committee members (paid from the government budget, through the street).
        Committee => "committee",
        /// Grid workers (community workers on the committee's day shift; government budget).
        Grid => "grid",
        /// The property firm's staff (paid from property fees).
        Property => "property",
        /// The street office's coordinators (government budget).
        StreetOffice => "street_office",
        /// The district departments' crews that report when whistled (government budget).
        DepartmentCrew => "department_crew",
        /// The staff who run a platform's operations (its market, providers, residents'
        /// accounts): paid by whoever earns the platform's revenue.
        PlatformStaff => "platform_staff",
    }
}

vocabulary! {
    /// Who invested in (and maintains) a device.
    Party {
        /// District government.
        Government => "government",
        /// The platform operator.
        Operator => "operator",
        /// The property-management firm.
        PropertyFirm => "property_firm",
        /// A service enterprise.
        Enterprise => "enterprise",
    }
}

vocabulary! {
    /// How an incident first became known.
    DetectedBy {
        /// A working device of the right kind.
        Device => "device",
        /// A resident reported it through the app.
        App => "app",
        /// A resident phoned the property firm or committee.
        Phone => "phone",
        /// A resident called the 12345 hotline.
        Hotline => "hotline",
        /// Grid staff on patrol found it.
        Patrol => "patrol",
        /// Family, neighbours or passers-by found it without any channel (for example a
        /// fall of someone living alone, discovered at a visit).
        Found => "found",
    }
}

vocabulary! {
    /// Where a device is installed, which decides what it can observe; and where an
    /// incident arises (see [`RateBasis::scope`]).
    Scope {
        /// The community site (gates, car park, public space).
        Site => "site",
        /// A building (entrances, common areas, lifts, basement).
        Building => "building",
        /// One household's home.
        Household => "household",
        /// Worn by one resident.
        Resident => "resident",
    }
}

vocabulary! {
    /// Age of an estate (DOMAIN §5: new vs old community).
    EstateAge {
        /// Built recently: good facilities, lifts, complete data.
        New => "new",
        /// Old estate: walk-ups, worse facilities, many elderly.
        Old => "old",
    }
}

vocabulary! {
    /// Economic region (DOMAIN §5).
    Region {
        /// High digital skills and willingness to pay.
        Developed => "developed",
        /// Infrastructure, money and skills short.
        LessDeveloped => "less_developed",
    }
}

vocabulary! {
    /// Basis of an incident kind's rate: the unit it is counted per.
    RateBasis {
        /// Per resident aged 60+ per year (rates by age band).
        Elderly => "elderly",
        /// Per resident aged 80+ per year.
        Elderly80 => "elderly80",
        /// Per household per year.
        Household => "household",
        /// Per building per year.
        Building => "building",
        /// Per lift per year.
        Lift => "lift",
        /// Per building with a basement per year.
        Basement => "basement",
        /// Per community site per year, scaled by residents / 1,000.
        Site => "site",
    }
}

vocabulary! {
    /// What the government owes a community each year, in the order district finance
    /// pays it when the budget is short (DOMAIN §4).
    Obligation {
        /// Interest on the government's construction bonds, when it is paid from the
        /// smart-community allocation (`economy.fiscal.debt_service_in_allocation`):
        /// senior, paid before anything else.
        DebtService => "debt_service",
        /// O&M of a government-owned platform.
        PlatformOm => "platform_om",
        /// O&M of the government's own devices.
        DeviceOm => "device_om",
        /// Purchase of the service of non-marketable devices others invested in.
        PurchaseOfService => "purchase_of_service",
        /// A PPP availability payment.
        AvailabilityPayment => "availability_payment",
    }
}

vocabulary! {
    /// How a community's smart system is invested in and run (DOMAIN §4).
    InvestmentModel {
        /// Government-led, comprehensive (Beijing): the government funds platform and devices.
        Gov => "gov",
        /// Market-led, focused (Shanghai): an operator funds what it can earn from.
        Market => "market",
        /// Hybrid, co-driven (Haishu): government platform and regulation, market services.
        Hybrid => "hybrid",
        /// Hybrid, CAICT variant (source 002): enterprises invest in devices; the
        /// government buys the service of the non-marketable ones.
        Caict => "caict",
        /// Public–private partnership (Nankai proposal, source 004): a concession with
        /// availability payments and shared revenue.
        Ppp => "ppp",
    }
}

impl CommandAction {
    /// The command an incident of `kind` calls for at its building, if any (an exhaustive
    /// match: a new incident kind must say).
    pub fn for_incident(kind: IncidentKind) -> Option<CommandAction> {
        use IncidentKind::*;
        match kind {
            Fire => Some(CommandAction::ReleaseDoors),
            BasementFlooding => Some(CommandAction::StartPump),
            ElderlyFall | ElderlyWandering | ElevatorEntrapment | GarbageOverflow
            | ParkingChaos | Intrusion | DisorderlyEntry | NeighbourDispute | FacilityBroken
            | HydrantFault | WaterContamination | CommandFailed => None,
        }
    }

    /// The kind of device that carries it out.
    pub fn device(self) -> DeviceKind {
        match self {
            CommandAction::ReleaseDoors | CommandAction::LockDoors => DeviceKind::AccessControl,
            CommandAction::StartPump | CommandAction::StopPump => DeviceKind::WaterLevel,
        }
    }

    /// A safety command: one that does not succeed raises a `command_failed` incident at
    /// once (people must do by hand what it should have done). Locking the doors again or
    /// stopping the pump is not: its failure is reported to whoever asked.
    pub fn is_safety(self) -> bool {
        match self {
            CommandAction::ReleaseDoors | CommandAction::StartPump => true,
            CommandAction::LockDoors | CommandAction::StopPump => false,
        }
    }

    /// The measurement a device reports once it has carried the action out, and its
    /// value: the state echo that confirms a command on the live twin, and the desired
    /// value the mirror shows until the device reports it.
    pub fn desired(self) -> (&'static str, f64) {
        match self {
            CommandAction::ReleaseDoors => ("door_open", 1.0),
            CommandAction::LockDoors => ("door_open", 0.0),
            CommandAction::StartPump => ("pump_on", 1.0),
            CommandAction::StopPump => ("pump_on", 0.0),
        }
    }
}

impl InvestmentModel {
    /// A model named on a command line; the error lists the names there are.
    pub fn from_arg(s: &str) -> Result<InvestmentModel, String> {
        let names: Vec<&str> = InvestmentModel::ALL.iter().map(|m| m.as_str()).collect();
        match s.trim() {
            "" => Err(format!(
                "found an empty model name; expected some of: {}",
                names.join(", ")
            )),
            t => InvestmentModel::parse(t).ok_or_else(|| {
                format!(
                    "unknown model {t:?}; expected some of: {}",
                    names.join(", ")
                )
            }),
        }
    }
}

vocabulary! {
    /// Value-added services across the seven life elements (source 000: eat, live, travel,
    /// tour, shop, entertain, health; services named in 000, 002, 004).
    ServiceKind {
        /// Home elderly care (live, health).
        ElderlyCare => "elderly_care",
        /// Housekeeping (live).
        Housekeeping => "housekeeping",
        /// Meals and food delivery (eat).
        Food => "food",
        /// Parcel lockers and delivery (shop).
        Parcel => "parcel",
        /// Health services and telemedicine (health).
        Health => "health",
        /// Education and activities (entertain, tour).
        Education => "education",
        /// EV charging (travel).
        EvCharging => "ev_charging",
        /// Shared parking (travel).
        ParkingSharing => "parking_sharing",
    }
}

impl DeviceKind {
    /// Where a device of this kind is installed.
    pub fn scope(self) -> Scope {
        use DeviceKind::*;
        match self {
            VehicleRecognition | IdVerification | EvCharger | GroundLock | Environment
            | InfoDisplay => Scope::Site,
            VideoSurveillance | FaceRecognition | AccessControl | SmartBin | WaterLevel
            | WaterQuality | ElevatorMonitor | HydrantMonitor => Scope::Building,
            SmartMeter | SmokeDetector | EmergencyButton | BurglarAlarm => Scope::Household,
            ElderlyWearable => Scope::Resident,
        }
    }
}

impl RateBasis {
    /// The kind of incident source a rate on this basis is counted for: each basis
    /// belongs to exactly one (the elderly bases to residents, lifts and basements to
    /// their building).
    pub fn scope(self) -> Scope {
        match self {
            RateBasis::Elderly | RateBasis::Elderly80 => Scope::Resident,
            RateBasis::Household => Scope::Household,
            RateBasis::Building | RateBasis::Lift | RateBasis::Basement => Scope::Building,
            RateBasis::Site => Scope::Site,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_are_dense() {
        for (i, k) in DeviceKind::ALL.iter().enumerate() {
            assert_eq!(DeviceKind::parse(k.as_str()), Some(*k));
            assert_eq!(k.index(), i);
        }
        for (i, k) in IncidentKind::ALL.iter().enumerate() {
            assert_eq!(IncidentKind::parse(k.as_str()), Some(*k));
            assert_eq!(k.index(), i);
        }
    }
}
