//! `civitas`: simulate smart communities and run their live digital twin.
//!
//! A thin entry point: clap parses and range-checks the flags ([`cli`]), [`plan`] resolves
//! them against the scenario into what each command runs with, each subcommand lives in
//! [`commands`], and errors are printed readably with a non-zero exit code.

mod cli;
mod commands;
mod plan;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
