//! The Resilience Lab runner: reads the scenarios, runs one against the lab
//! services, scores it and writes what it measured.
//!
//! - [`scenario`]: `scenarios.toml` as types, loaded and validated.
//! - [`load`]: the open-model load engine on goose.
//! - [`probe`]: JSON endpoints polled beside the load.
//! - [`score`]: checks and the 0-100 score.
//! - [`mod@run`]: one run from preflight to data.json; [`output`] and
//!   [`progress`] are what it prints and writes.
//! - [`cli`]: the command line.

pub mod cli;
pub mod load;
pub mod output;
pub mod probe;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod score;

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
        Command::Run(args) => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("error: cannot start the tokio runtime: {error}");
                    return ExitCode::FAILURE;
                }
            };
            return match runtime.block_on(run::run(&scenarios, &args)) {
                Ok(code) => code,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            };
        }
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
