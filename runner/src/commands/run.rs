//! `runner run <scenario>`: one run against the cluster, the targets given,
//! or a local stack started for it; then the next step and the exit code.

use std::{path::Path, process::ExitCode};

use super::check;
use crate::{
    cli::RunArgs,
    data::RunData,
    hint,
    load::Controls,
    local::LocalConfig,
    run::{self, INTERRUPTED, Options, Overrides, Summary},
    scenario::{Scenario, Scenarios},
};

/// Exit code of a run whose score is under `--fail-under`.
const BELOW_FAIL_UNDER: u8 = 3;

pub async fn run(
    scenarios: &Scenarios,
    args: &RunArgs,
    controls: &Controls,
) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        rate: args.rate,
        duration: args.duration,
    };
    let scenario = run::chosen(scenarios, &args.scenario, overrides)?;
    // A missing name or code for the board stops the run before the local
    // stack is built, not after the run.
    let board = args.link.board()?;
    let root = scenarios.root();
    let options = options(args);
    if !args.local {
        let data = run::execute(
            &scenario,
            &options,
            &args.targets,
            None,
            board.as_ref(),
            controls,
        )
        .await?;
        print_next_step(&root, &scenario, &data, args);
        return Ok(exit_code(&data, args.fail_under));
    }
    if scenario.needs_cluster {
        crate::errln!(
            "{name} (case {case}) needs a Kubernetes cluster, which --local does not start. \
             Checking its manifests instead; on a cluster (`make up`), run `runner run {name}`.",
            name = scenario.name,
            case = scenario.case
        );
        return Ok(if check::cluster_case(&root, &scenario) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let config = LocalConfig {
        case_files: scenarios.case_files(),
        ..LocalConfig::from_env(&root)
    };
    match run::on_local_stack(&config, &scenario, &options, board.as_ref(), controls).await? {
        Some(data) => {
            print_next_step(&root, &scenario, &data, args);
            Ok(exit_code(&data, args.fail_under))
        }
        None => Ok(ExitCode::from(INTERRUPTED)),
    }
}

/// The run's options, as the command line sets them.
fn options(args: &RunArgs) -> Options {
    Options {
        reports: args.reports.clone(),
        kube_context: Some(args.context.clone()),
        goose_report: args.goose_report,
        summary: if args.json {
            Summary::Json
        } else {
            Summary::Terminal {
                open: !args.no_open,
            }
        },
    }
}

/// After a run that missed the pass mark: what to do next, where the
/// summary went (stderr when stdout carries `--json`).
fn print_next_step(root: &Path, scenario: &Scenario, data: &RunData, args: &RunArgs) {
    let rerun = if args.local {
        hint::Rerun::Local
    } else {
        hint::Rerun::Cluster
    };
    if let Some(next) = hint::next_step(root, scenario, data, rerun) {
        if args.json {
            crate::errln!("{next}");
        } else {
            crate::outln!("{next}");
        }
    }
}

/// A finished run's exit code: interrupted, below `--fail-under` (a flagged
/// run always is), or success.
fn exit_code(data: &RunData, fail_under: Option<u8>) -> ExitCode {
    if data.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if fail_under.is_some_and(|floor| data.flagged() || data.score.total < u32::from(floor))
    {
        ExitCode::from(BELOW_FAIL_UNDER)
    } else {
        ExitCode::SUCCESS
    }
}
