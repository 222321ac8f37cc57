use civitas_scenarios::Scenario;

fn error_of(text: &str) -> String {
    match Scenario::from_str(text, "bad.toml") {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const GOOD: &str = "schema_version = 1\nname = \"x\"\n[community]\nname = \"c\"\nresidents = 100\nelderly_share = 0.2\nage = \"old\"\nregion = \"developed\"\n";

#[test]
fn the_good_base_parses() {
    assert!(Scenario::from_str(GOOD, "good.toml").is_ok());
}

#[test]
fn malformed_toml_names_file_and_line() {
    let e = error_of("schema_version = 1\nname = \n");
    assert!(e.starts_with("bad.toml:2:"), "{e}");
}

#[test]
fn an_unknown_field_is_rejected_with_its_path_and_line() {
    let e = error_of(&GOOD.replace("residents = 100", "residnets = 100"));
    assert!(
        e.starts_with("bad.toml:5: community.residnets: unknown field `residnets`"),
        "{e}"
    );
    assert!(
        e.contains("residents"),
        "the message lists what was expected: {e}"
    );
}

#[test]
fn an_unknown_top_level_field_is_rejected() {
    let e = error_of(&format!("colour = \"red\"\n{GOOD}"));
    assert!(
        e.starts_with("bad.toml:1: colour: unknown field `colour`"),
        "{e}"
    );
}

#[test]
fn a_negative_rate_names_the_field_and_what_was_expected() {
    let e = error_of(&format!("{GOOD}[parameters.incidents.fire]\nrate = -0.5\n"));
    assert_eq!(
        e,
        "bad.toml:10: parameters.incidents.fire.rate: expected a number from 0 to 10000, found -0.5"
    );
}

#[test]
fn an_unknown_device_kind_is_rejected() {
    let e = error_of(&format!(
        "{GOOD}[community.devices]\nsmoke_detektor = 1.0\n"
    ));
    assert!(
        e.starts_with(
            "bad.toml:10: community.devices.smoke_detektor: unknown variant `smoke_detektor`"
        ),
        "{e}"
    );
    assert!(
        e.contains("smoke_detector"),
        "the message lists the kinds: {e}"
    );
}

#[test]
fn an_unknown_device_kind_in_a_scenario_that_extends_a_preset_is_named_on_its_own_line() {
    let e = error_of("extends = \"default\"\n[community.devices]\nsmoke_detektor = 1.0\n");
    assert!(
        e.starts_with(
            "bad.toml:3: community.devices.smoke_detektor: unknown variant `smoke_detektor`"
        ),
        "{e}"
    );
    let e = error_of(
        "extends = \"haishu-district\"\n[district.devices]\nvideo_surveillance = 1.0\nlift_monitor = 0.5\n",
    );
    assert!(
        e.starts_with("bad.toml:4: district.devices.lift_monitor: unknown variant `lift_monitor`"),
        "{e}"
    );
}

#[test]
fn an_unknown_parameter_is_rejected_with_its_path() {
    let e = error_of(&format!("{GOOD}[parameters.engine]\nwindow_seconds = 30\n"));
    assert!(e.contains("parameters.engine"), "{e}");
    assert!(e.contains("unknown field `window_seconds`"), "{e}");
    assert!(e.starts_with("bad.toml:10:"), "{e}");
}

#[test]
fn a_parameter_of_the_wrong_type_is_rejected() {
    let e = error_of(&format!(
        "{GOOD}[parameters.incidents.fire]\nseverity = \"dire\"\n"
    ));
    assert!(e.contains("parameters.incidents.fire.severity"), "{e}");
    assert!(e.contains("unknown variant `dire`"), "{e}");
}

#[test]
fn out_of_range_values_are_all_reported_at_once() {
    let text = GOOD.replace("elderly_share = 0.2", "elderly_share = 1.5")
        + "[community.devices]\nsmoke_detector = 2.0\n[parameters.satisfaction]\ninitial = -1.0\n";
    let e = error_of(&text);
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 3, "{e}");
    assert_eq!(
        lines[0],
        "bad.toml:6: community.elderly_share: expected a share between 0 and 1, found 1.5"
    );
    assert_eq!(
        lines[1],
        "bad.toml:10: community.devices.smoke_detector: expected a share between 0 and 1, found 2"
    );
    assert_eq!(
        lines[2],
        "bad.toml:12: parameters.satisfaction.initial: expected a share between 0 and 1, found -1"
    );
}

#[test]
fn a_scenario_needs_exactly_one_world() {
    let e = error_of("schema_version = 1\nname = \"x\"\n");
    assert!(e.contains("expected a [community] or a [district]"), "{e}");
}

#[test]
fn a_wrong_schema_version_is_rejected() {
    let e = error_of(&GOOD.replace("schema_version = 1", "schema_version = 9"));
    assert_eq!(
        e,
        "bad.toml:1: schema_version: this build reads schema_version 1, found 9"
    );
}

#[test]
fn a_missing_file_is_neither_a_file_nor_a_preset_and_the_presets_are_listed() {
    let expect =
        "neither a scenario file nor a preset; the presets are: default, old-small, new-large,";
    let e = Scenario::from_path(std::path::Path::new("/nonexistent/x.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("/nonexistent/x.toml: {expect}")),
        "{e}"
    );
    let e = civitas_scenarios::library::load("nosuchpreset")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with(&format!("nosuchpreset: {expect}")), "{e}");
    assert!(e.ends_with("haishu-district, city-3m"), "{e}");
}

#[test]
fn a_zero_sized_community_is_rejected() {
    let e = error_of(&GOOD.replace("residents = 100", "residents = 0"));
    assert_eq!(
        e,
        "bad.toml:5: community.residents: expected a whole number from 1 to 2000000, found 0"
    );
}

#[test]
fn an_unknown_incident_kind_in_parameters_is_rejected() {
    let e = error_of(&format!("{GOOD}[parameters.incidents.fyre]\nrate = 1.0\n"));
    assert!(
        e.starts_with("bad.toml:9: parameters.incidents.fyre: unknown variant `fyre`"),
        "{e}"
    );
}

#[test]
fn values_that_would_exhaust_time_or_memory_are_rejected() {
    for (table, line, expect) in [
        (
            "[parameters.patrol]",
            "interval_hours = 1e300",
            "parameters.patrol.interval_hours: expected a number from 0 to 8760, found 1e300",
        ),
        (
            "[parameters.incidents.garbage_overflow]",
            "rate = 1e12",
            "parameters.incidents.garbage_overflow.rate: expected a number from 0 to 10000, found 1e12",
        ),
        (
            "[parameters.buildings.new]",
            "lifts_per_30_households = 1e9",
            "parameters.buildings.new.lifts_per_30_households: expected a number from 0 to 30",
        ),
        (
            "[parameters.staffing]",
            "grid_workers_per_10k = 1.1e10",
            "parameters.staffing.grid_workers_per_10k: expected a number from 0 to 10000",
        ),
        (
            "[parameters.engine]",
            "window_secs = 7",
            "parameters.engine.window_secs: expected a divisor of 86400",
        ),
    ] {
        let e = error_of(&format!("{GOOD}{table}\n{line}\n"));
        assert!(e.contains(expect), "{line}: {e}");
    }
    let e = error_of(&GOOD.replace(
        "schema_version = 1\n",
        "schema_version = 1\ndays = 4000000000\n",
    ));
    assert!(
        e.contains("days: expected a whole number of days from 1 to 73000"),
        "{e}"
    );
}

#[test]
fn evaluation_weights_that_do_not_sum_to_one_are_rejected() {
    let e = error_of(&format!(
        "{GOOD}[parameters.evaluation.weights]\ninfrastructure = 0.5\n"
    ));
    assert!(
        e.contains("parameters.evaluation.weights: expected weights summing to 1 (infrastructure + governance + services + safeguards), found a sum of 1.25"),
        "{e}"
    );
}

#[test]
fn a_negative_budget_is_rejected() {
    let e = error_of(&format!(
        "{GOOD}[parameters.economy.fiscal]\ncapacity_per_resident_developed = -5.0\n"
    ));
    assert!(e.contains("parameters.economy.fiscal.capacity_per_resident_developed: expected a number ≥ 0, found -5"), "{e}");
}

#[test]
fn an_amount_of_money_too_large_for_the_ledger_is_rejected() {
    // Found by the fuzz test: a device capex of this size overflowed the ledger's cents.
    let e = error_of(&format!(
        "{GOOD}[parameters.economy.device_costs.smoke_detector]\ncapex = 6.0e18\nom = 30.0\nrevenue = 0.0\n"
    ));
    assert!(
        e.contains("parameters.economy.device_costs.smoke_detector.capex: expected an amount of at most 1000000000 yuan, found "),
        "{e}"
    );
}

#[test]
fn an_unknown_model_in_a_scenario_is_rejected() {
    let e = error_of(&GOOD.replace("name = \"x\"\n", "name = \"x\"\nmodel = \"socialist\"\n"));
    assert!(e.contains("model: unknown variant `socialist`, expected one of `gov`, `market`, `hybrid`, `caict`, `ppp`"), "{e}");
}

#[test]
fn extending_an_unknown_preset_is_rejected() {
    let e = error_of("schema_version = 1\nextends = \"nowhere\"\nname = \"x\"\n");
    assert!(
        e.starts_with("bad.toml:2: extends: no preset named \"nowhere\"; expected one of: default"),
        "{e}"
    );
}

#[test]
fn a_bad_start_or_time_zone_names_the_field_and_the_value() {
    let e = error_of(&format!("start = \"2026-02-30T08:00\"\n{GOOD}"));
    assert!(
        e.starts_with("bad.toml:1: start: expected a local date and time like \"2026-01-01T00:00\", found \"2026-02-30T08:00\""),
        "{e}"
    );
    let e = error_of(&format!("time_zone = \"Asia/Ningbo\"\n{GOOD}"));
    assert_eq!(
        e,
        "bad.toml:1: time_zone: expected an IANA time zone name like \"Asia/Shanghai\" or \"Europe/Berlin\", found \"Asia/Ningbo\""
    );
}

#[test]
fn the_start_and_time_zone_default_and_survive_a_round_trip() {
    let s = Scenario::from_str(GOOD, "good.toml").unwrap();
    assert_eq!(s.calendar.start_text(), "2026-01-01T00:00");
    assert_eq!(s.calendar.time_zone(), "Asia/Shanghai");
    let text = format!("start = \"2026-12-02T14:37\"\ntime_zone = \"Europe/Berlin\"\n{GOOD}");
    let s = Scenario::from_str(&text, "good.toml").unwrap();
    let back = Scenario::from_str(&s.to_toml(), "written.toml").unwrap();
    assert_eq!(back, s);
    assert_eq!(back.calendar.start_text(), "2026-12-02T14:37");
    assert_eq!(back.calendar.time_zone(), "Europe/Berlin");
}
