//! Integration tests of civitas-scenarios: whole runs from scenario text to result files.

mod bad_input;
mod batch;
mod bounded_input;
mod calendar;
mod checkpoint;
mod claims;
mod determinism;
mod escalation;
mod fuzz;
mod metrics;
mod money;
mod presets;
mod queueing;
mod report;
mod sensors;

use civitas_scenarios::Scenario;
use civitas_scenarios::runner::{Outputs, RunOptions, run_outputs};
use civitas_twin::time::DAY;

/// A scenario from text; panics with the errors if it does not parse (test input only).
pub(crate) fn scenario(text: &str) -> Scenario {
    match Scenario::from_str(text, "test.toml") {
        Ok(s) => s,
        Err(e) => panic!("test scenario invalid:\n{e}"),
    }
}

/// Runs `s` for `days` with `seed` on `workers` threads.
pub(crate) fn run(s: &Scenario, seed: u64, days: u64, workers: usize) -> Outputs {
    run_outputs(
        s,
        RunOptions {
            seed,
            horizon: days * DAY,
            workers,
            model: s.model,
        },
        |_| {},
    )
    .expect("run succeeds")
}

/// A community scenario with the given community lines and parameter overrides.
pub(crate) fn community(body: &str, parameters: &str) -> String {
    format!("schema_version = 1\nname = \"test\"\ndays = 30\n[community]\n{body}\n{parameters}\n")
}

/// Parameter overrides setting every incident kind's rate to zero except those listed.
pub(crate) fn only_kinds(keep: &[(&str, f64)]) -> String {
    let mut s = String::new();
    for k in civitas_twin::kinds::IncidentKind::ALL {
        let rate = keep
            .iter()
            .find(|(n, _)| *n == k.as_str())
            .map_or(0.0, |(_, r)| *r);
        s.push_str(&format!(
            "[parameters.incidents.{}]\nrate = {rate}\n",
            k.as_str()
        ));
        if *k == civitas_twin::kinds::IncidentKind::ElderlyFall {
            s.push_str(&format!("rate_older = [{rate}, {rate}]\n"));
        }
    }
    // Enough money that no platform stops for lack of funding in these tests.
    s.push_str("[parameters.economy.fiscal]\ncapacity_per_resident_developed = 1000.0\n");
    s
}
