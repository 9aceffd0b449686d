//! The command line: `runner [--scenarios PATH] <command>`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "runner",
    version,
    about = "Runs Resilience Lab scenarios, scores them and writes reports"
)]
pub struct Cli {
    /// The scenarios file.
    #[arg(
        long,
        env = "LAB_SCENARIOS",
        default_value = "scenarios.toml",
        global = true
    )]
    pub scenarios: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the scenarios: case, target, load and what each one shows.
    List,
    /// Validate the scenarios file and print every problem with its line.
    Check,
}
