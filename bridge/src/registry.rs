//! The device registry: which real device (its wire id, the `<device>` of its topics)
//! is which device of the twin (community, building, device id, kind). A CSV file with
//! the header `wire_id,community,building,device,kind`, one device per line — easy to
//! keep in a spreadsheet. [`generate`] writes one for a generated community (the fleet
//! simulator's devices use it); [`read`] checks every line against the district.

use civitas_twin::kinds::DeviceKind;
use civitas_twin::mirror::Placement;
use civitas_twin::model::District;
use std::collections::{HashMap, HashSet};

/// The registry file's header.
pub const HEADER: &str = "wire_id,community,building,device,kind";

/// The wire id the registry gives a generated device: `c<community>-b<building>-<kind>-<id>`.
pub fn wire_id(community: u32, building: u32, kind: DeviceKind, device: u32) -> String {
    format!("c{community}-b{building}-{kind}-{device:05}")
}

/// Every device of `district`, with generated wire ids, in community and device order.
pub fn generate(district: &District) -> Vec<Placement> {
    let mut out = Vec::new();
    for c in &district.communities {
        let mut building_of = HashMap::new();
        for (b, devices) in c.devices_by_building().into_iter().enumerate() {
            for d in devices {
                building_of.insert(d, b as u32);
            }
        }
        for d in &c.devices {
            let building = building_of.get(&d.id).copied().unwrap_or(0);
            out.push(Placement {
                wire_id: wire_id(c.index, building, d.kind, d.id),
                community: c.index,
                building,
                device: d.id,
                kind: d.kind,
            });
        }
    }
    out
}

/// The registry as CSV text.
pub fn to_csv(placements: &[Placement]) -> String {
    let mut out = format!("{HEADER}\n");
    for p in placements {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            p.wire_id, p.community, p.building, p.device, p.kind
        ));
    }
    out
}

/// Reads a registry, checking each line against `district`: every error with its line.
pub fn read(text: &str, district: &District) -> Result<Vec<Placement>, Vec<String>> {
    let mut lines = text.lines().enumerate();
    let mut errors = Vec::new();
    match lines.next() {
        Some((_, h)) if h.trim() == HEADER => {}
        Some((_, h)) => errors.push(format!(
            "line 1: expected the header {HEADER:?}, found {h:?}"
        )),
        None => return Err(vec![format!("empty: expected the header {HEADER:?}")]),
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [wire, community, building, device, kind] = f[..] else {
            errors.push(format!(
                "line {n}: expected 5 fields ({HEADER}), found {}",
                f.len()
            ));
            continue;
        };
        let num = |what: &str, s: &str| {
            s.parse::<u32>()
                .map_err(|_| format!("line {n}: {what} {s:?} is not a whole number"))
        };
        let parsed = (|| {
            if wire.is_empty() || wire.contains(['/', '+', '#']) {
                return Err(format!(
                    "line {n}: wire id {wire:?} must be non-empty, without '/', '+' or '#'"
                ));
            }
            if wire == crate::wire::GATEWAY {
                return Err(format!(
                    "line {n}: wire id {wire:?} is reserved for a building gateway's availability"
                ));
            }
            let (c, b, d) = (
                num("community", community)?,
                num("building", building)?,
                num("device", device)?,
            );
            let kind = DeviceKind::parse(kind)
                .ok_or_else(|| format!("line {n}: unknown device kind {kind:?}"))?;
            let com = district.communities.get(c as usize).ok_or_else(|| {
                format!(
                    "line {n}: no community {c} (the district has {})",
                    district.communities.len()
                )
            })?;
            let dev = com
                .devices
                .get(d as usize)
                .ok_or_else(|| format!("line {n}: community {c} has no device {d}"))?;
            if dev.kind != kind {
                return Err(format!(
                    "line {n}: device {d} of community {c} is a {}, not a {kind}",
                    dev.kind
                ));
            }
            if b as usize >= com.buildings.len() {
                return Err(format!("line {n}: community {c} has no building {b}"));
            }
            Ok(Placement {
                wire_id: wire.to_string(),
                community: c,
                building: b,
                device: d,
                kind,
            })
        })();
        match parsed {
            Ok(p) if !seen.insert(p.wire_id.clone()) => {
                errors.push(format!("line {n}: wire id {:?} is listed twice", p.wire_id));
            }
            Ok(p) => out.push(p),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn district() -> District {
        let s = civitas_scenarios::library::load("old-small").unwrap();
        civitas_scenarios::runner::build_district(&s, 1)
    }

    #[test]
    fn a_generated_registry_reads_back_and_every_line_is_checked() {
        let d = district();
        let reg = generate(&d);
        assert_eq!(reg.len(), d.communities[0].devices.len());
        let text = to_csv(&reg);
        assert_eq!(read(&text, &d), Ok(reg.clone()));
        let first = &reg[0];
        let other_kind = if first.kind == DeviceKind::SmokeDetector {
            DeviceKind::WaterLevel
        } else {
            DeviceKind::SmokeDetector
        };
        let bad = format!(
            "{HEADER}\n{},0,{},{},{}\nx,9,0,0,{}\ny,0,0,99999,{}\nz,0,0,{},{other_kind}\nw,0,zero,0,{}\n{}\n",
            first.wire_id,
            first.building,
            first.device,
            first.kind,
            first.kind,
            first.kind,
            first.device,
            first.kind,
            to_csv(&reg[..1]).lines().nth(1).unwrap()
        );
        let errors = read(&bad, &d).unwrap_err();
        assert_eq!(
            errors,
            vec![
                "line 3: no community 9 (the district has 1)".to_string(),
                "line 4: community 0 has no device 99999".to_string(),
                format!(
                    "line 5: device {} of community 0 is a {}, not a {other_kind}",
                    first.device, first.kind
                ),
                "line 6: building \"zero\" is not a whole number".to_string(),
                format!("line 7: wire id {:?} is listed twice", first.wire_id),
            ]
        );
        assert!(
            read("wire,community\n", &d).unwrap_err()[0].starts_with("line 1: expected the header")
        );
    }

    #[test]
    fn the_gateway_name_is_reserved() {
        let d = district();
        let first = &generate(&d)[0];
        let text = format!(
            "{HEADER}\n_gateway,0,{},{},{}\n",
            first.building, first.device, first.kind
        );
        assert_eq!(
            read(&text, &d),
            Err(vec![
                "line 2: wire id \"_gateway\" is reserved for a building gateway's availability"
                    .to_string()
            ])
        );
    }
}
