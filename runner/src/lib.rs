//! The Resilience Lab runner: reads the scenarios, runs one against the lab
//! services, scores it and writes what it measured.
//!
//! - [`scenario`]: `scenarios.toml` as types, loaded and validated.
//! - [`load`]: the open-model load engine on goose.
//! - [`probe`]: JSON endpoints polled beside the load.
//! - [`score`]: checks and the 0-100 score.
//! - [`mod@run`]: one run, in phases: prepare, load with probes, score,
//!   write, show. [`data`] is what it measured (data.json, one type that
//!   every reader shares); [`report`] the HTML pages, whose charts draw
//!   one [`unit`] each; [`output`] and
//!   [`progress`] what it prints; [`workload`] flags a lab whose workload
//!   was edited; [`targets`] says where the services are.
//! - [`local`]: the local stack that `--local` builds, starts and stops;
//!   [`watch`]: `runner watch`, which reruns a scenario on it at every save.
//! - [`solutions`]: `runner solve N` and `unsolve N`; [`demo`]: every
//!   local case, baseline and solution.
//! - [`mod@check`] and [`manifests`]: `runner check`, and what the cluster
//!   case can check without a cluster; [`model`]: `runner model`, the
//!   cluster case simulated from its manifests.
//! - [`hint`]: `runner hint` and the next step after a failing run;
//!   [`leaderboard`]: `runner leaderboard`, ranking runs by
//!   [`fingerprint`]; [`board`]: `runner board`, the room's live
//!   leaderboard, which [`submit`] sends runs to.
//! - [`cli`]: the command line.

pub mod board;
pub mod check;
pub mod cli;
pub mod data;
pub mod demo;
pub mod fingerprint;
pub mod hint;
pub mod leaderboard;
pub mod load;
pub mod local;
pub mod manifests;
pub mod model;
pub mod open_files;
pub mod output;
pub mod print;
pub mod probe;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod score;
pub mod shipped;
pub mod solutions;
pub mod submit;
pub mod targets;
pub mod unit;
pub mod watch;
pub mod workload;

use std::process::ExitCode;

use anyhow::Context;

use cli::{Cli, Command, SchemaOf};
use data::Runs;
use scenario::Scenarios;

/// Runs one command. Problems are printed to stderr; the exit code says
/// whether the command succeeded.
pub fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        // These need only the runs, or nothing, not the scenarios file.
        command @ (Command::Compare(_) | Command::Schema { .. } | Command::Submit(_)) => {
            without_scenarios(command)
        }
        command => match scenario::load(&cli.scenarios) {
            Ok(scenarios) => with_scenarios(&scenarios, command),
            Err(problems) => {
                for problem in &problems {
                    crate::errln!("error: {problem}");
                }
                crate::errln!(
                    "{} problem{} in {}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    cli.scenarios.display()
                );
                return ExitCode::FAILURE;
            }
        },
    };
    outcome.unwrap_or_else(|error| {
        crate::errln!("error: {error:#}");
        ExitCode::FAILURE
    })
}

/// The commands that read the scenarios file.
fn with_scenarios(scenarios: &Scenarios, command: Command) -> anyhow::Result<ExitCode> {
    let root = scenarios.root();
    match command {
        Command::List => {
            crate::out!("{}", list(scenarios));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { scenario } => check::check(scenarios, scenario.as_deref()),
        Command::Model(args) => model(scenarios, &args),
        Command::Hint { scenario } => scenarios.named(&scenario).map(|scenario| {
            crate::out!("{}", hint::hint(&root, scenario));
            ExitCode::SUCCESS
        }),
        Command::Leaderboard(args) => {
            leaderboard(scenarios, &args);
            Ok(ExitCode::SUCCESS)
        }
        Command::Solve(step) => solutions::Solution::find(&root, step.step)
            .and_then(|solution| solution.apply())
            .map(|done| {
                crate::outln!("{done}");
                ExitCode::SUCCESS
            }),
        Command::Unsolve(step) => solutions::Solution::find(&root, step.step)
            .and_then(|solution| solution.revert())
            .map(|done| {
                crate::outln!("{done}");
                ExitCode::SUCCESS
            }),
        Command::Run(args) => {
            with_ctrl_c(async |controls| run::run(scenarios, &args, &controls).await)
        }
        Command::Watch(args) => {
            with_ctrl_c(async |controls| watch::watch(scenarios, &args, &controls).await)
        }
        Command::Board(args) => runtime().and_then(|runtime| {
            runtime.block_on(board::board(scenarios, &args, async {
                let _ = ctrl_c_or_term().await;
            }))
        }),
        Command::Stack => runtime().and_then(|runtime| runtime.block_on(stack(&root))),
        Command::WithPostgres { command } => {
            local::with_postgres(&local::LocalConfig::from_env(&root), &command)
        }
        Command::Demo(args) => {
            with_ctrl_c(async |controls| demo::demo(scenarios, &args, &controls).await)
        }
        command @ (Command::Compare(_) | Command::Schema { .. } | Command::Submit(_)) => {
            without_scenarios(command)
        }
    }
}

/// `runner model`: the prediction, printed.
fn model(scenarios: &Scenarios, args: &cli::ModelArgs) -> anyhow::Result<ExitCode> {
    let scenario = scenarios.named(&args.scenario)?;
    let mut assumptions = model::Assumptions::defaults(scenario);
    if let Some(cost) = args.cpu_cost {
        assumptions.cpu_cost = cost;
    }
    assumptions.overhead = args.overhead;
    assumptions.ready_delay = args.ready_delay;
    assumptions.sticky = args.sticky;
    assumptions.rerun_after = args.rerun_after;
    assumptions.sync_phase = args.sync_phase;
    assumptions.metrics_age = args.metrics_age;
    assumptions.node_cpus = args.node_cpus;
    let folder = scenarios.root().join(&args.manifests);
    let prediction = model::predict(scenario, &folder, &assumptions)?;
    crate::out!("{}", model::render(scenario, &prediction, &assumptions));
    Ok(ExitCode::SUCCESS)
}

/// The commands that do not read the scenarios file (and so work where it
/// is broken or missing).
fn without_scenarios(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Compare(args) => compare(&args)?,
        Command::Schema { of } => schema(of)?,
        Command::Submit(args) => return runtime()?.block_on(submit::submit(&args)),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// `runner leaderboard`: the table, or with `--scoring` how each scenario
/// is scored.
fn leaderboard(scenarios: &Scenarios, args: &cli::LeaderboardArgs) {
    if args.scoring {
        crate::out!("{}", leaderboard::scoring(scenarios));
        return;
    }
    let runs = Runs::read(&args.reports);
    for problem in &runs.unreadable {
        crate::errln!("warning: not ranked: {problem}");
    }
    crate::out!(
        "{}",
        leaderboard::render(&leaderboard::board(scenarios, &runs.list))
    );
    if runs.list.is_empty() {
        crate::errln!(
            "no runs under {} yet: `runner run <scenario>` writes them",
            args.reports.display()
        );
    }
}

/// `runner schema`: the JSON schema of data.json or of the `--json`
/// summary, generated from the types.
fn schema(of: SchemaOf) -> anyhow::Result<()> {
    let schema = match of {
        SchemaOf::Data => data::schema(),
        SchemaOf::Summary => output::Summary::schema(),
    };
    let text = serde_json::to_string_pretty(&schema).context("cannot encode the schema")?;
    crate::outln!("{text}");
    Ok(())
}

/// Runs `task` on a tokio runtime, with the runner's Ctrl-C handling
/// feeding the controls it is given.
fn with_ctrl_c(
    task: impl AsyncFnOnce(load::Controls) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    let controls = load::Controls::default();
    run::install_ctrl_c(&controls);
    runtime.block_on(task(controls))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
        .map_err(|error| anyhow::anyhow!("cannot start the tokio runtime: {error}"))
}

/// `runner stack`: the local stack until Ctrl-C (or SIGTERM).
async fn stack(root: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = local::LocalConfig::from_env(root);
    let stop = ctrl_c_or_term();
    tokio::pin!(stop);
    let stack = tokio::select! {
        stack = local::Stack::start(&config) => stack?,
        _ = &mut stop => return Ok(ExitCode::from(run::INTERRUPTED)),
    };
    let targets = stack.targets();
    crate::outln!(
        "api={} worker={}\nCtrl-C stops the stack. Meanwhile: runner run <scenario> --target api={},worker={}",
        targets.api,
        targets.worker,
        targets.api,
        targets.worker
    );
    let stopped = stop.await;
    crate::errln!("stopping the local stack");
    stack.stop().await?;
    stopped.context("cannot wait for Ctrl-C")?;
    Ok(ExitCode::SUCCESS)
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

/// `runner compare`: deltas on the terminal, and the later run's report
/// rendered against the earlier one as `compare-<earlier>.html`.
fn compare(args: &cli::CompareArgs) -> anyhow::Result<()> {
    let runs = Runs::read(&args.reports);
    let find = |id: &str| {
        runs.find(id).ok_or_else(|| {
            let unreadable = if runs.unreadable.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} runs could not be read: {})",
                    runs.unreadable.len(),
                    runs.unreadable.join("; ")
                )
            };
            anyhow::anyhow!(
                "no run `{id}` under {}; run ids are in the SCORE lines and in \
                 reports/index.html{unreadable}",
                args.reports.display()
            )
        })
    };
    let data = find(&args.run)?;
    let earlier = match &args.with {
        Some(id) => find(id)?,
        None => runs.previous(data).ok_or_else(|| {
            anyhow::anyhow!(
                "`{}` is the first run of its scenario: nothing to compare it with",
                args.run
            )
        })?,
    };
    let comparison = report::compare(data, earlier);
    crate::outln!("{:<12} {:>22} {:>22}", "", comparison.run_id, args.run);
    for row in &comparison.rows {
        crate::outln!(
            "{:<12} {:>12} {:>12}  {}",
            row.metric,
            row.before,
            row.after,
            row.verdict.as_str()
        );
    }
    let html = report::render_report(data, Some(earlier))?;
    let path = data
        .folder(&args.reports)
        .join(format!("compare-{}.html", comparison.run_id));
    data::write_atomically(&path, html.as_bytes())?;
    crate::errln!("comparison: {}", path.display());
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
            if scenario.needs_cluster {
                format!("{} (needs a cluster)", scenario.description)
            } else {
                scenario.description.clone()
            }
        ));
    }
    out
}
