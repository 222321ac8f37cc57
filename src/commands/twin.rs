//! `civitas twin`: the live twin's tools. `registry` writes the device registry of a
//! generated community (the fleet simulator's devices, or a template for real ones).

use super::{bad_input, write_file};
use crate::cli::TwinCommand;
use anyhow::{Result, anyhow};
use civitas_bridge::registry;
use civitas_scenarios::library;
use civitas_scenarios::runner::build_district_for;

/// Runs one `twin` subcommand.
pub(super) fn twin(c: TwinCommand) -> Result<()> {
    match c {
        TwinCommand::Registry {
            scenario,
            seed,
            model,
            out,
        } => {
            let s = library::load(&scenario).map_err(|e| bad_input(anyhow!("{e}")))?;
            crate::plan::check_memory(&s, 1, 1, false)?;
            let seed = seed.unwrap_or(s.seed);
            let model = model.unwrap_or(s.model);
            let district = build_district_for(&s, seed, model);
            let placements = registry::generate(&district);
            let csv = registry::to_csv(&placements);
            match out {
                None => print!("{csv}"),
                Some(path) => {
                    if path.is_dir() {
                        return Err(bad_input(anyhow!(
                            "--out {}: a directory; name the CSV file to write",
                            path.display()
                        )));
                    }
                    write_file(&path, csv)?;
                    eprintln!(
                        "wrote {} devices of {:?} (seed {seed}, {model} model) to {}",
                        placements.len(),
                        s.name,
                        path.display()
                    );
                }
            }
        }
    }
    Ok(())
}
