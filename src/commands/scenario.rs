//! `civitas scenario`: print the commented default scenario, list and show the presets,
//! print every parameter with its source, and check a scenario file.

use crate::cli::ScenarioCommand;
use anyhow::{Result, bail};
use civitas_scenarios::input::human_bytes;
use civitas_scenarios::library::{self, PRESETS};
use civitas_scenarios::{Scenario, World};

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
                bail!(
                    "no preset named {name:?}; expected one of: {}",
                    names.join(", ")
                )
            }
        },
        ScenarioCommand::Params => print!("{}", civitas_twin::params::DEFAULT_PARAMETERS_TOML),
        ScenarioCommand::Check { file } => {
            let s = Scenario::from_path(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
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
