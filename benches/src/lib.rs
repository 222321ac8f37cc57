//! Benchmark inputs shared by the criterion benches: actor assemblies built from the preset
//! library, and a message-heavy variant for measuring delivery through the engine.

use civitas_actors::Assembly;
use civitas_scenarios::Scenario;
use civitas_scenarios::library::load;
use civitas_scenarios::runner::build_district;

/// A preset scenario by name (panics on a bad preset: benchmark input only).
pub fn preset(name: &str) -> Scenario {
    load(name).unwrap_or_else(|e| panic!("preset {name}: {e}"))
}

/// The actors of a scenario, ready for the engine.
pub fn assembly(s: &Scenario, seed: u64) -> Assembly {
    Assembly::build(&build_district(s, seed), &s.parameters, seed, s.model)
}

/// The default community with smoke detectors that raise a false alarm every day or so:
/// nearly every event is a message (detected → platform → assigned → checked), so the
/// run measures delivery through the engine.
pub fn message_heavy() -> Scenario {
    let text = civitas_scenarios::library::preset("default")
        .expect("default preset")
        .text
        .to_string()
        + "\n[parameters.devices.smoke_detector]\nfalse_alarms_per_year = 400.0\n\
           [parameters.staffing]\nproperty_day_per_1000_households = 200.0\nproperty_night_per_1000_households = 200.0\n";
    Scenario::from_str(&text, "message-heavy").expect("valid")
}
