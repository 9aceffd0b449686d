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
    if let Command::Compare(args) = &cli.command {
        // Needs only the runs, not the scenarios file.
        return match compare(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
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
        Command::Compare(_) => {}
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

/// `runner compare`: deltas on the terminal, and the later run's report
/// rendered against the earlier one as `compare-<earlier>.html`.
fn compare(args: &cli::CompareArgs) -> anyhow::Result<()> {
    let missing = |id: &str| {
        anyhow::anyhow!(
            "no run `{id}` under {}; run ids are in the SCORE lines and in reports/index.html",
            args.reports.display()
        )
    };
    let (folder, data) =
        report::find_run(&args.reports, &args.run).ok_or_else(|| missing(&args.run))?;
    let earlier = match &args.with {
        Some(id) => {
            report::find_run(&args.reports, id)
                .ok_or_else(|| missing(id))?
                .1
        }
        None => report::previous_run(&args.reports, &data).ok_or_else(|| {
            anyhow::anyhow!(
                "`{}` is the first run of its scenario: nothing to compare it with",
                args.run
            )
        })?,
    };
    let comparison = report::compare(&data, &earlier);
    println!("{:<12} {:>22} {:>22}", "", comparison.run_id, args.run);
    for row in &comparison.rows {
        println!(
            "{:<12} {:>12} {:>12}  {}",
            row.metric, row.before, row.after, row.verdict
        );
    }
    let html = report::render_report(&data, Some(&earlier))?;
    let path = folder.join(format!("compare-{}.html", comparison.run_id));
    output::write_atomically(&path, html.as_bytes())?;
    eprintln!("comparison: {}", path.display());
    Ok(())
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
