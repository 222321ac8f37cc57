//! Integration tests of the `civitas` command line.

mod bounded;
mod cli;
mod golden;
mod nothing_silent;
mod tidy;
