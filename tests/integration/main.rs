//! Integration tests of the `civitas` command line.

mod cli;
mod golden;
mod tidy;
