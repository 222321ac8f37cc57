//! Integration tests of the `civitas` command line.

mod cli;
mod tidy;
