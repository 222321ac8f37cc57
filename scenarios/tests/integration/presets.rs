use civitas_scenarios::file::World;
use civitas_scenarios::library::{PRESETS, load, preset};

#[test]
fn every_preset_is_valid_and_the_default_is_a_4000_resident_community() {
    for p in PRESETS {
        let s = load(p.name).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_eq!(s.name, p.name);
    }
    let d = load("default").unwrap();
    assert!(matches!(&d.world, World::Community(c) if c.residents == 4000));
    let h = load("haishu-district").unwrap();
    assert!(
        matches!(&h.world, World::District(d) if d.communities == 75 && d.street_offices == 8 && d.residents == 300_000)
    );
    let c = load("city-3m").unwrap();
    assert!(
        matches!(&c.world, World::District(d) if d.communities == 750 && d.street_offices == 80 && d.residents == 3_000_000 && d.old_share == 0.5)
    );
}

#[test]
fn library_files_on_disk_match_the_embedded_presets() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
    for p in PRESETS {
        let on_disk = std::fs::read_to_string(dir.join(format!("{}.toml", p.name))).unwrap();
        assert_eq!(on_disk, p.text);
    }
    assert!(preset("nope").is_none());
}

#[test]
fn old_estates_have_more_incidents_per_resident_than_new_ones() {
    let old = load("old-small").unwrap();
    let new = load("new-large").unwrap();
    let o = crate::run(&old, 1, 120, 2).summary;
    let n = crate::run(&new, 1, 120, 2).summary;
    let per = |s: &civitas_scenarios::Summary| s.incidents.total as f64 / s.residents as f64;
    assert!(
        per(&o) > 1.5 * per(&n),
        "old {:.3} vs new {:.3} per resident",
        per(&o),
        per(&n)
    );
}
