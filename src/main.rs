//! `civitas`: simulate smart communities and run their live digital twin.
//!
//! A thin entry point: clap parses the command line ([`cli`]), each subcommand lives in
//! [`commands`], and errors are printed readably with a non-zero exit code.

mod cli;
mod commands;

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
