//! The subcommands, one module each: what `runner <command>` does with its
//! arguments. The library's other modules do the work; these say which,
//! print what the participant sees and choose the exit code.

pub mod check;
pub mod compare;
pub mod demo;
pub mod hint;
pub mod leaderboard;
pub mod list;
pub mod model;
pub mod run;
pub mod schema;
pub mod solve;
pub mod stack;
pub mod submit;
pub mod watch;

use std::{path::Path, process::ExitCode};

use crate::{
    board,
    cli::{Cli, Command},
    load::Controls,
    local,
    scenario::{self, Scenarios},
};

/// Runs one command. Problems are printed to stderr; the exit code says
/// whether the command succeeded.
pub fn run(cli: Cli) -> ExitCode {
    let file = cli.scenarios.as_path();
    let outcome = match cli.command {
        // These need only the runs, or nothing, not the scenarios file, so
        // they work where it is broken or missing.
        Command::Compare(args) => compare::run(&args),
        Command::Schema { of } => schema::run(of),
        Command::Submit(args) => runtime().and_then(|runtime| runtime.block_on(submit::run(&args))),
        Command::List => with_scenarios(file, |scenarios| Ok(list::run(scenarios))),
        Command::Check { scenario } => with_scenarios(file, |scenarios| {
            check::check(scenarios, scenario.as_deref())
        }),
        Command::Model(args) => with_scenarios(file, |scenarios| model::run(scenarios, &args)),
        Command::Hint { scenario } => {
            with_scenarios(file, |scenarios| hint::run(scenarios, &scenario))
        }
        Command::Leaderboard(args) => {
            with_scenarios(file, |scenarios| Ok(leaderboard::run(scenarios, &args)))
        }
        Command::Solve(step) => with_scenarios(file, |scenarios| solve::solve(scenarios, &step)),
        Command::Unsolve(step) => {
            with_scenarios(file, |scenarios| solve::unsolve(scenarios, &step))
        }
        Command::Run(args) => with_scenarios(file, |scenarios| {
            with_ctrl_c(async |controls| run::run(scenarios, &args, &controls).await)
        }),
        Command::Watch(args) => with_scenarios(file, |scenarios| {
            with_ctrl_c(async |controls| watch::watch(scenarios, &args, &controls).await)
        }),
        Command::Demo(args) => with_scenarios(file, |scenarios| {
            with_ctrl_c(async |controls| demo::demo(scenarios, &args, &controls).await)
        }),
        Command::Board(args) => with_scenarios(file, |scenarios| {
            runtime()?.block_on(board::board(scenarios, &args, async {
                let _ = ctrl_c_or_term().await;
            }))
        }),
        Command::Stack => with_scenarios(file, |scenarios| {
            runtime()?.block_on(stack::run(&scenarios.root()))
        }),
        Command::WithPostgres { command } => with_scenarios(file, |scenarios| {
            local::with_postgres(&local::LocalConfig::from_env(&scenarios.root()), &command)
        }),
    };
    outcome.unwrap_or_else(|error| {
        crate::errln!("error: {error:#}");
        ExitCode::FAILURE
    })
}

/// Runs `command` on the scenarios in `file`; when the file has problems,
/// prints every one of them, and fails.
fn with_scenarios(
    file: &Path,
    command: impl FnOnce(&Scenarios) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    match scenario::load(file) {
        Ok(scenarios) => command(&scenarios),
        Err(problems) => {
            for problem in &problems {
                crate::errln!("error: {problem}");
            }
            crate::errln!(
                "{} problem{} in {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                file.display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Runs `task` on a tokio runtime, with the runner's Ctrl-C handling
/// feeding the controls it is given.
fn with_ctrl_c(
    task: impl AsyncFnOnce(Controls) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    let controls = Controls::default();
    crate::run::install_ctrl_c(&controls);
    runtime.block_on(task(controls))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
        .map_err(|error| anyhow::anyhow!("cannot start the tokio runtime: {error}"))
}

/// Ctrl-C or SIGTERM, whichever comes first: how a long-running command
/// (`runner stack`, `runner board`) is asked to stop.
async fn ctrl_c_or_term() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = term.recv() => Ok(()),
    }
}
