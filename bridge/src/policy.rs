//! Who may command which devices where, and how commands reach each kind of device: the
//! command policy, a TOML file (`civitas twin --policy FILE`; the defaults, [`DEFAULT`],
//! are printed by `civitas twin policy`), checked when it is read: every fault with its
//! place.
//!
//! An operator acts from a [`Seat`]: a [`Role`] over an [`Area`] of the hierarchy
//! building ⊂ community ⊂ street ⊂ district. A command is allowed when an `[[allow]]`
//! entry gives the role the device's kind, the seat's area is no wider than the entry's
//! `widest`, and the device lies inside the area. Nothing else is allowed. Every
//! decision is audited by the caller ([`crate::forward`]).

use crate::commands::{Deliveries, Delivery};
use civitas_twin::kinds::DeviceKind;
use civitas_twin::mirror::{Millis, Placement};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The default policy file.
pub const DEFAULT: &str = include_str!("../policy/default.toml");

/// The policy file format version this build reads.
pub const VERSION: u32 = 1;

/// What an operator does in the community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The property firm (物业) of an estate.
    PropertyFirm,
    /// The residents committee (居委会).
    Committee,
    /// The street office (街道办).
    StreetOffice,
    /// A district department.
    Department,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [
        Role::PropertyFirm,
        Role::Committee,
        Role::StreetOffice,
        Role::Department,
    ];

    /// Its name in seats and files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PropertyFirm => "property_firm",
            Role::Committee => "committee",
            Role::StreetOffice => "street_office",
            Role::Department => "department",
        }
    }
}

/// A level of the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// One building.
    Building,
    /// One community (an estate).
    Community,
    /// The communities under one street office.
    Street,
    /// The whole district.
    District,
}

impl Level {
    /// Its name in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Building => "building",
            Level::Community => "community",
            Level::Street => "street",
            Level::District => "district",
        }
    }
}

/// An area of the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Building `building` of community `community`.
    Building {
        /// Community index.
        community: u32,
        /// Building index within it.
        building: u32,
    },
    /// Community `0`.
    Community(u32),
    /// Street office `0`'s communities.
    Street(u32),
    /// Everything.
    District,
}

impl Area {
    /// Its level.
    pub fn level(self) -> Level {
        match self {
            Area::Building { .. } => Level::Building,
            Area::Community(_) => Level::Community,
            Area::Street(_) => Level::Street,
            Area::District => Level::District,
        }
    }

    /// Whether `device` lies inside it; `street_of` gives a community's street office.
    pub fn contains(self, device: &Placement, street_of: impl Fn(u32) -> Option<u32>) -> bool {
        match self {
            Area::Building {
                community,
                building,
            } => device.community == community && device.building == building,
            Area::Community(c) => device.community == c,
            Area::Street(s) => street_of(device.community) == Some(s),
            Area::District => true,
        }
    }
}

impl std::fmt::Display for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Area::Building {
                community,
                building,
            } => write!(f, "building:{community}/{building}"),
            Area::Community(c) => write!(f, "community:{c}"),
            Area::Street(s) => write!(f, "street:{s}"),
            Area::District => write!(f, "district"),
        }
    }
}

/// Where an operator acts from: a role over an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seat {
    /// The role.
    pub role: Role,
    /// The area.
    pub area: Area,
}

impl std::fmt::Display for Seat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.role.as_str(), self.area)
    }
}

impl std::str::FromStr for Seat {
    type Err = String;

    /// `role@area`: `property_firm@community:0`, `street_office@street:1`,
    /// `department@district`, `property_firm@building:0/12`.
    fn from_str(s: &str) -> Result<Seat, String> {
        let expected = "expected role@area, such as property_firm@community:0, street_office@street:1, department@district or property_firm@building:0/12";
        let (role, area) = s
            .trim()
            .split_once('@')
            .ok_or_else(|| format!("{expected}; found {s:?}"))?;
        let role = Role::ALL
            .into_iter()
            .find(|r| r.as_str() == role)
            .ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {role:?}; roles: {}", names.join(", "))
            })?;
        let number = |n: &str| {
            n.parse::<u32>()
                .map_err(|_| format!("{expected}; found {s:?}"))
        };
        let area = match area.split_once(':') {
            None if area == "district" => Area::District,
            Some(("community", c)) => Area::Community(number(c)?),
            Some(("street", st)) => Area::Street(number(st)?),
            Some(("building", cb)) => {
                let (c, b) = cb
                    .split_once('/')
                    .ok_or_else(|| format!("{expected}; found {s:?}"))?;
                Area::Building {
                    community: number(c)?,
                    building: number(b)?,
                }
            }
            _ => return Err(format!("{expected}; found {s:?}")),
        };
        Ok(Seat { role, area })
    }
}

/// Why a command was not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The role may not command this kind anywhere.
    #[error("{role} may not command {kind} devices (the policy allows it {allowed})")]
    Kind {
        /// The role.
        role: &'static str,
        /// The device's kind.
        kind: DeviceKind,
        /// What it may command, in words.
        allowed: String,
    },
    /// The seat's area is wider than the role can hold.
    #[error("{role} cannot hold a seat over a {} (at most a {})", .level.as_str(), .widest.as_str())]
    TooWide {
        /// The role.
        role: &'static str,
        /// The seat's level.
        level: Level,
        /// The widest the policy gives it.
        widest: Level,
    },
    /// The device lies outside the seat's area.
    #[error("{device} (c{community}/b{building}) is outside {area}")]
    Outside {
        /// The device's wire id.
        device: String,
        /// Its community.
        community: u32,
        /// Its building.
        building: u32,
        /// The seat's area.
        area: Area,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    allow: Vec<Allow>,
    #[serde(default)]
    delivery: BTreeMap<String, DeliveryText>,
}

/// One `[[allow]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// The role.
    pub role: Role,
    /// Device kinds it may command.
    pub kinds: Vec<DeviceKind>,
    /// The widest area it can hold a seat over.
    pub widest: Level,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryText {
    answer: Option<String>,
    retries: Option<u32>,
    backoff: Option<String>,
    expiry: Option<String>,
    awake: Option<String>,
    one_at_a_time: Option<bool>,
}

/// A policy read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// What each role may command, and how wide its seat can be.
    pub allow: Vec<Allow>,
    /// How commands reach each kind of device.
    pub deliveries: Deliveries,
}

impl Policy {
    /// The default policy.
    pub fn defaults() -> Policy {
        match Policy::parse(DEFAULT) {
            Ok(p) => p,
            // The default file is tested to parse (`the_default_policy_reads`).
            Err(e) => unreachable!("the default policy does not read: {e:?}"),
        }
    }

    /// Reads a policy file: every fault with its place.
    pub fn parse(text: &str) -> Result<Policy, Vec<String>> {
        let f: File = toml::from_str(text).map_err(|e| vec![e.to_string().trim().to_string()])?;
        let mut errors = Vec::new();
        if f.version != VERSION {
            errors.push(format!(
                "version {}: this build reads policy version {VERSION}",
                f.version
            ));
        }
        for (i, a) in f.allow.iter().enumerate() {
            if a.kinds.is_empty() {
                errors.push(format!("allow {} ({}): no kinds", i + 1, a.role.as_str()));
            }
        }
        let default_text = f.delivery.get("default").cloned().unwrap_or_default();
        let default = delivery(&default_text, Delivery::default(), "delivery.default")
            .unwrap_or_else(|e| {
                errors.extend(e);
                Delivery::default()
            });
        let mut by_kind = BTreeMap::new();
        for (name, text) in f.delivery.iter().filter(|(n, _)| *n != "default") {
            let at = format!("delivery.{name}");
            match DeviceKind::parse(name) {
                None => errors.push(format!("{at}: no device kind {name:?}")),
                Some(kind) => match delivery(text, default, &at) {
                    Ok(d) => {
                        by_kind.insert(kind, d);
                    }
                    Err(e) => errors.extend(e),
                },
            }
        }
        if errors.is_empty() {
            Ok(Policy {
                allow: f.allow,
                deliveries: Deliveries { default, by_kind },
            })
        } else {
            Err(errors)
        }
    }

    /// Whether `seat` may command `device`; `street_of` gives a community's street office.
    pub fn authorize(
        &self,
        seat: Seat,
        device: &Placement,
        street_of: impl Fn(u32) -> Option<u32>,
    ) -> Result<(), Denied> {
        let role = seat.role.as_str();
        let entries: Vec<&Allow> = self.allow.iter().filter(|a| a.role == seat.role).collect();
        let Some(entry) = entries.iter().find(|a| a.kinds.contains(&device.kind)) else {
            let allowed: Vec<String> = (entries.iter())
                .flat_map(|a| a.kinds.iter().map(|k| k.as_str().to_string()))
                .collect();
            return Err(Denied::Kind {
                role,
                kind: device.kind,
                allowed: if allowed.is_empty() {
                    "nothing".to_string()
                } else {
                    allowed.join(", ")
                },
            });
        };
        if seat.area.level() > entry.widest {
            return Err(Denied::TooWide {
                role,
                level: seat.area.level(),
                widest: entry.widest,
            });
        }
        if !seat.area.contains(device, street_of) {
            return Err(Denied::Outside {
                device: device.wire_id.clone(),
                community: device.community,
                building: device.building,
                area: seat.area,
            });
        }
        Ok(())
    }
}

fn delivery(t: &DeliveryText, base: Delivery, at: &str) -> Result<Delivery, Vec<String>> {
    let mut errors = Vec::new();
    let mut d = base;
    let mut ms = |field: &str, v: &Option<String>, min: Millis, max: Millis| -> Option<Millis> {
        let v = v.as_ref()?;
        match parse_ms(v, min, max) {
            Ok(x) => Some(x),
            Err(e) => {
                errors.push(format!("{at}.{field}: {e}"));
                None
            }
        }
    };
    const HOUR: Millis = 3_600_000;
    if let Some(x) = ms("answer", &t.answer, 100, HOUR) {
        d.answer_ms = x;
    }
    if let Some(x) = ms("backoff", &t.backoff, 0, HOUR) {
        d.backoff_ms = x;
    }
    if let Some(x) = ms("expiry", &t.expiry, 0, 7 * 24 * HOUR) {
        d.expiry_ms = x;
    }
    if let Some(x) = ms("awake", &t.awake, 0, HOUR) {
        d.awake_ms = Some(x);
    }
    if let Some(r) = t.retries {
        if r > 20 {
            errors.push(format!("{at}.retries: at most 20, found {r}"));
        } else {
            d.retries = r;
        }
    }
    if let Some(b) = t.one_at_a_time {
        d.one_at_a_time = b;
    }
    if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    }
}

/// A duration such as `500ms`, `5s`, `10m` or `1h`, in milliseconds within `min..=max`.
pub fn parse_ms(s: &str, min: Millis, max: Millis) -> Result<Millis, String> {
    let t = s.trim();
    let expected = "expected a duration such as 500ms, 5s, 10m or 1h";
    let (n, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        return Err(format!("{expected}, found {t:?}"));
    };
    match n.parse::<Millis>() {
        Ok(n)
            if n.checked_mul(scale)
                .is_some_and(|x| (min..=max).contains(&x)) =>
        {
            Ok(n * scale)
        }
        _ => Err(format!(
            "{expected}, from {min} ms to {max} ms, found {t:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn device(kind: DeviceKind, community: u32, building: u32) -> Placement {
        Placement {
            wire_id: format!("d-{community}-{building}"),
            community,
            building,
            device: 1,
            kind,
        }
    }

    fn seat(s: &str) -> Seat {
        s.parse().unwrap()
    }

    #[test]
    fn the_default_policy_reads_and_gives_each_role_its_devices_in_its_area() {
        let p = Policy::defaults();
        assert_eq!(p.deliveries, Deliveries::default());
        // Streets: communities 0 and 1 under street 0, community 2 under street 1.
        let street_of = |c: u32| [0, 0, 1].get(c as usize).copied();
        let door = device(DeviceKind::AccessControl, 0, 3);
        let ok = |s: &str, d: &Placement| p.authorize(seat(s), d, street_of);
        assert_eq!(ok("property_firm@community:0", &door), Ok(()));
        assert_eq!(ok("property_firm@building:0/3", &door), Ok(()));
        assert_eq!(ok("street_office@street:0", &door), Ok(()));
        assert_eq!(
            ok("property_firm@community:1", &door)
                .unwrap_err()
                .to_string(),
            "d-0-3 (c0/b3) is outside community:1"
        );
        assert_eq!(
            ok("street_office@street:1", &door).unwrap_err().to_string(),
            "d-0-3 (c0/b3) is outside street:1"
        );
        assert_eq!(
            ok("property_firm@street:0", &door).unwrap_err().to_string(),
            "property_firm cannot hold a seat over a street (at most a community)"
        );
        assert_eq!(
            ok("committee@community:0", &door).unwrap_err().to_string(),
            "committee may not command access_control devices (the policy allows it info_display)"
        );
        assert_eq!(
            ok("department@district", &door).unwrap_err().to_string(),
            "department may not command access_control devices (the policy allows it nothing)"
        );
        let smoke = device(DeviceKind::SmokeDetector, 2, 0);
        assert!(ok("property_firm@community:2", &smoke).is_err());
        assert_eq!(ok("street_office@street:1", &smoke), Ok(()));
    }

    #[test]
    fn seats_read_back_and_bad_ones_say_what_is_expected() {
        for s in [
            "property_firm@community:0",
            "street_office@street:12",
            "department@district",
            "property_firm@building:0/12",
        ] {
            assert_eq!(seat(s).to_string(), s);
        }
        for (bad, why) in [
            ("property_firm", "expected role@area"),
            (
                "janitor@community:0",
                "unknown role \"janitor\"; roles: property_firm",
            ),
            ("committee@community:x", "expected role@area"),
            ("committee@city", "expected role@area"),
            ("committee@building:3", "expected role@area"),
        ] {
            let e = bad.parse::<Seat>().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_policy_file_with_faults_names_each() {
        let bad = r#"
version = 2
[[allow]]
role = "committee"
kinds = []
widest = "community"
[delivery.default]
answer = "5 parsecs"
retries = 99
[delivery.toaster]
answer = "1s"
[delivery.smoke_detector]
awake = "2s"
"#;
        let e = Policy::parse(bad).unwrap_err();
        assert_eq!(
            e,
            [
                "version 2: this build reads policy version 1",
                "allow 1 (committee): no kinds",
                "delivery.default.answer: expected a duration such as 500ms, 5s, 10m or 1h, from 100 ms to 3600000 ms, found \"5 parsecs\"",
                "delivery.default.retries: at most 20, found 99",
                "delivery.toaster: no device kind \"toaster\"",
            ]
        );
        let e = Policy::parse("version = 1\n[[allow]]\nrole = \"mayor\"\n").unwrap_err();
        assert!(e[0].contains("unknown variant `mayor`"), "{e:?}");
        let p = Policy::parse("version = 1\n[delivery.smoke_detector]\nawake = \"2s\"\n").unwrap();
        assert_eq!(p.allow, vec![], "nothing allowed unless an entry says so");
        assert_eq!(
            p.deliveries.of(DeviceKind::SmokeDetector).awake_ms,
            Some(2_000)
        );
        assert_eq!(p.deliveries.of(DeviceKind::AccessControl).awake_ms, None);
    }

    proptest! {
        /// Over random hierarchies and seats: whatever is allowed lies inside the seat's
        /// area, and a street office never reaches another street's devices.
        #[test]
        fn nothing_is_allowed_outside_the_seats_area(
            streets in proptest::collection::vec(0u32..4, 1..12),
            role in 0usize..4,
            level in 0usize..4,
            seat_community in 0u32..12,
            seat_building in 0u32..5,
            seat_street in 0u32..4,
            community in 0u32..12,
            building in 0u32..5,
            kind in 0usize..DeviceKind::ALL.len(),
        ) {
            let p = Policy::defaults();
            let street_of = |c: u32| streets.get(c as usize).copied();
            let area = match level {
                0 => Area::Building { community: seat_community, building: seat_building },
                1 => Area::Community(seat_community),
                2 => Area::Street(seat_street),
                _ => Area::District,
            };
            let seat = Seat { role: Role::ALL[role], area };
            let d = device(DeviceKind::ALL[kind], community, building);
            if p.authorize(seat, &d, street_of).is_ok() {
                prop_assert!(area.contains(&d, street_of));
                if let Area::Street(s) = area {
                    prop_assert_eq!(street_of(community), Some(s));
                }
                prop_assert!(p.allow.iter().any(|a| a.role == seat.role && a.kinds.contains(&d.kind)));
            }
            if seat.role == Role::StreetOffice && street_of(community) != Some(seat_street) {
                let other = Seat { role: Role::StreetOffice, area: Area::Street(seat_street) };
                prop_assert!(p.authorize(other, &d, street_of).is_err());
            }
        }
    }
}
