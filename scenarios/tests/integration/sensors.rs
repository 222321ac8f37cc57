use crate::{community, only_kinds, run, scenario};

fn estate(devices: &str) -> civitas_scenarios::Scenario {
    let body = format!(
        "name = \"s\"\nresidents = 3000\nelderly_share = 0.25\nage = \"old\"\nregion = \"developed\"\n[community.devices]\n{devices}"
    );
    // Frequent enough to measure in a short run.
    let params = only_kinds(&[("fire", 0.1), ("basement_flooding", 6.0)]);
    // Old estates rarely have basements; give every building one for this test.
    let params = format!("{params}[parameters.buildings.old]\nbasement_share = 1.0\n");
    scenario(&community(&body, &params))
}

#[test]
fn smoke_detectors_and_water_level_sensors_shorten_detection() {
    let with = estate("smoke_detector = 1.0\nwater_level = 1.0");
    let without = estate("");
    for seed in [1, 2, 3] {
        let a = run(&with, seed, 120, 2).summary;
        let b = run(&without, seed, 120, 2).summary;
        for kind in ["fire", "basement_flooding"] {
            let (ta, tb) = (&a.by_kind[kind].detection, &b.by_kind[kind].detection);
            assert!(
                ta.n > 10 && tb.n > 10,
                "{kind}: too few incidents ({}, {})",
                ta.n,
                tb.n
            );
            let (ma, mb) = (ta.p50.unwrap(), tb.p50.unwrap());
            assert!(
                ma * 3.0 < mb,
                "{kind} seed {seed}: median detection with sensors {ma} h, without {mb} h"
            );
        }
        assert!(a.detected_by["device"] > 0);
        assert_eq!(b.detected_by["device"], 0);
    }
}

#[test]
fn a_failed_device_detects_nothing() {
    // Smoke detectors that are always broken: fail within seconds, never repaired in time.
    let s = {
        let body = "name = \"f\"\nresidents = 3000\nelderly_share = 0.25\nage = \"old\"\nregion = \"developed\"\n[community.devices]\nsmoke_detector = 1.0";
        let params = format!(
            "{}[parameters.devices.smoke_detector]\nfailures_per_year = 10000.0\nrepair_hours = 100000.0\nfalse_alarms_per_year = 0.0\n",
            only_kinds(&[("fire", 0.02)])
        );
        scenario(&community(body, &params))
    };
    let o = run(&s, 1, 120, 2).summary;
    assert!(o.by_kind["fire"].total > 10);
    assert_eq!(o.detected_by["device"], 0);
    assert!(o.devices["smoke_detector"].availability < 0.01);
}
