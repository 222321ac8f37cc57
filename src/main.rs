//! `civitas`: simulate smart communities and run their live digital twin.
//!
//! A thin entry point: clap parses and range-checks the flags ([`cli`]), [`plan`] resolves
//! them against the scenario into what each command runs with, each subcommand lives in
//! [`commands`], and errors are printed readably with the exit code [`exit_code`] gives
//! them: 0 success, 1 a run failed, 2 bad usage or input (as ripgrep does).

mod cli;
mod commands;
mod plan;

use civitas_scenarios::batch::BatchError;
use civitas_scenarios::runner::RunError;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2.
    let args = cli::Cli::parse();
    match commands::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 when the error is in what the user gave: anything marked [`commands::BadInput`]
/// (flags, scenario, batch, inject and checkpoint files, an `--out` that is a file), an
/// inject log that does not fit the run, a batch file that is invalid or an output
/// directory holding another batch's runs. 1 for a run that failed: the engine stopped, or
/// results could not be written.
fn exit_code(e: &anyhow::Error) -> u8 {
    let input = e.chain().any(|c| {
        c.is::<commands::BadInput>()
            || matches!(
                c.downcast_ref::<RunError>(),
                Some(RunError::Inject(_) | RunError::Replay { .. })
            )
            || matches!(
                c.downcast_ref::<BatchError>(),
                Some(
                    BatchError::Invalid { .. }
                        | BatchError::Stale { .. }
                        | BatchError::Merge { .. }
                )
            )
    });
    if input { 2 } else { 1 }
}
