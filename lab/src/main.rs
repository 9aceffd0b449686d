//! The `lab` binary: parse the command line, hand it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    lab::run(lab::cli::Cli::parse())
}
