//! Integration tests of the `civitas` command line.

mod bounded;
mod browser;
mod cli;
mod golden;
mod live;
mod nothing_silent;
mod tidy;
