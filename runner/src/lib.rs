//! The Resilience Lab runner: reads the scenarios, and (as it grows) runs
//! them against the lab services, scores them and writes reports.
//!
//! - [`scenario`]: `scenarios.toml` as types, loaded and validated.
//! - [`cli`]: the command line.

pub mod cli;
pub mod load;
pub mod scenario;

use std::process::ExitCode;

use cli::{Cli, Command};
use scenario::Scenarios;

/// Runs one command. Problems are printed to stderr; the exit code says
/// whether the command succeeded.
pub fn run(cli: Cli) -> ExitCode {
    let scenarios = match scenario::load(&cli.scenarios) {
        Ok(scenarios) => scenarios,
        Err(problems) => {
            for problem in &problems {
                eprintln!("error: {problem}");
            }
            eprintln!(
                "{} problem{} in {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                cli.scenarios.display()
            );
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::List => print!("{}", list(&scenarios)),
        Command::Check => println!(
            "{}: {} scenarios, no problems",
            scenarios.path.display(),
            scenarios.list.len()
        ),
    }
    ExitCode::SUCCESS
}

/// The `runner list` table.
pub fn list(scenarios: &Scenarios) -> String {
    let mut out = format!(
        "{:<4} {:<10} {:<30} {:>8} {:>6}  {}\n",
        "case", "scenario", "request", "rate/s", "for", "what it shows"
    );
    for scenario in &scenarios.list {
        let request = format!(
            "{} {} {}",
            scenario.service.as_str(),
            scenario.method.as_str(),
            scenario.path
        );
        out.push_str(&format!(
            "{:<4} {:<10} {:<30} {:>8} {:>6}  {}\n",
            scenario.case,
            scenario.name,
            request,
            scenario.rate,
            humantime::format_duration(scenario.duration).to_string(),
            scenario.description
        ));
    }
    out
}
