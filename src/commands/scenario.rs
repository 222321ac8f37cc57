//! `civitas scenario`: print the commented default scenario, list and show the presets,
//! print every parameter with its source, and check a scenario file or preset.

use super::bad_input;
use crate::cli::ScenarioCommand;
use anyhow::{Result, anyhow};
use civitas_scenarios::World;
use civitas_scenarios::input::human_bytes;
use civitas_scenarios::library::{self, PRESETS};

/// Runs one `scenario` subcommand.
pub(super) fn scenario(c: ScenarioCommand) -> Result<()> {
    match c {
        ScenarioCommand::Default => print!("{}", PRESETS[0].text),
        ScenarioCommand::List => {
            for p in PRESETS {
                println!("{:<18} {}", p.name, p.summary);
            }
        }
        ScenarioCommand::Show { name } => match library::preset(&name) {
            Some(p) => print!("{}", p.text),
            None => {
                let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
                return Err(bad_input(anyhow!(
                    "no preset named {name:?}; expected one of: {}",
                    names.join(", ")
                )));
            }
        },
        ScenarioCommand::Params => print!("{}", civitas_twin::params::DEFAULT_PARAMETERS_TOML),
        ScenarioCommand::Check { file } => {
            let s = library::load(&file).map_err(|e| bad_input(anyhow!("{e}")))?;
            let what = match &s.world {
                World::Community(c) => format!("community of {} residents", c.residents),
                World::District(d) => format!(
                    "district of {} communities, {} residents",
                    d.communities, d.residents
                ),
            };
            let peak = crate::plan::check_memory(&s, s.days as u64, 1, false)?;
            println!(
                "{}: ok — {:?}, {what}, {} days, about {} of memory at its peak",
                file.display(),
                s.name,
                s.days,
                human_bytes(peak)
            );
        }
    }
    Ok(())
}
