//! The `runner` binary: parse the command line, hand it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    runner::run(runner::cli::Cli::parse())
}
