//! `runner demo` (`make demo`): the workshop end to end on the local stack.
//!
//! For every case that runs locally, in case order: run its scenario on
//! the baseline code, apply its reference solution, run it again. All of it
//! happens in a scratch copy of the tree (`.lab/demo/`), so the checkout,
//! and any work in it, is left exactly as it was, even when the demo is
//! interrupted. The runs land in the checkout's `reports/demo/`, apart
//! from the participant's own runs (the leaderboard does not count them),
//! and `reports/demo.html` shows each pair side by side.

use std::{
    fs,
    io::IsTerminal,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;

use crate::{
    cli::{DemoArgs, RunArgs},
    load::Controls,
    local::LocalConfig,
    report::{self, DemoPair},
    run,
    scenario::{self, Scenarios},
    solutions::{Solution, State},
    targets::Targets,
};

/// What is not copied into the scratch tree: build output, runs, the local
/// stack's own folder, and git's.
const NOT_COPIED: &[&str] = &["target", "reports", ".lab", ".git"];

pub async fn demo(
    scenarios: &Scenarios,
    args: &DemoArgs,
    controls: &Controls,
) -> anyhow::Result<ExitCode> {
    let root = scenarios.root();
    let checkout = LocalConfig::from_env(&root);
    let tree = checkout.folder.join("demo");
    refresh_copy(&root, &tree)?;
    eprintln!("demo: working in a copy of the tree, {}", tree.display());

    let config = LocalConfig {
        root: tree.clone(),
        ..checkout
    };
    let copy = scenario::load(&tree.join("scenarios.toml")).map_err(|problems| {
        anyhow::anyhow!(
            "the copied scenarios file has problems: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let reports = std::path::absolute(&args.reports)
        .with_context(|| format!("cannot resolve {}", args.reports.display()))?;

    let mut pairs = Vec::new();
    for scenario in copy.list.iter().filter(|scenario| !scenario.needs_cluster) {
        let solution = match Solution::find(&tree, scenario.case) {
            Ok(solution) => solution,
            Err(error) => {
                eprintln!("demo: skipping {}: {error:#}", scenario.name);
                continue;
            }
        };
        match solution.state()? {
            State::Baseline => {}
            State::Solved => {
                solution.revert()?;
            }
            State::Edited(_) => {
                eprintln!(
                    "demo: skipping {}: {} has your own edits, so there is no baseline to \
                     show; `git stash` them to include this case",
                    scenario.name,
                    solution.files().join(", ")
                );
                continue;
            }
        }
        let run_args = RunArgs {
            scenario: scenario.name.clone(),
            duration: args.duration,
            rate: None,
            targets: Targets::default(),
            local: true,
            no_open: true,
            json: false,
            fail_under: None,
            goose_report: false,
            reports: reports.join(report::DEMO_RUNS),
        };
        let scenario = run::chosen(&copy, &run_args)?;
        eprintln!(
            "\ndemo: case {} ({}), baseline",
            scenario.case, scenario.name
        );
        let Some(baseline) = run::on_local_stack(&config, &scenario, &run_args, controls).await?
        else {
            break;
        };
        eprintln!("{}", solution.apply()?);
        eprintln!(
            "\ndemo: case {} ({}), solution",
            scenario.case, scenario.name
        );
        let Some(solved) = run::on_local_stack(&config, &scenario, &run_args, controls).await?
        else {
            break;
        };
        let interrupted = baseline.interrupted || solved.interrupted;
        pairs.push(DemoPair {
            scenario: scenario.name.clone(),
            baseline,
            solution: solved,
        });
        if interrupted {
            break;
        }
    }

    let page = report::write_demo(&reports, &pairs)?;
    println!("\n{:<10} {:>9} {:>9}", "scenario", "baseline", "solution");
    for pair in &pairs {
        println!(
            "{:<10} {:>9} {:>9}",
            pair.scenario, pair.baseline.score.total, pair.solution.score.total
        );
    }
    eprintln!("demo page: {}", page.display());
    if std::io::stdout().is_terminal()
        && let Err(error) = opener::open(&page)
    {
        eprintln!("could not open the demo page ({error}); open it yourself");
    }
    Ok(if controls.stop_sending.is_cancelled() {
        ExitCode::from(run::INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Makes `tree` a fresh copy of `root`'s sources. Its `target/` is kept so
/// the copy builds incrementally, in seconds, after the first time.
pub fn refresh_copy(root: &Path, tree: &Path) -> anyhow::Result<()> {
    if tree.exists() {
        for entry in
            fs::read_dir(tree).with_context(|| format!("cannot read {}", tree.display()))?
        {
            let path = entry?.path();
            if path.file_name().is_some_and(|name| name == "target") {
                continue;
            }
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    copy_dir(root, tree)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if NOT_COPIED.iter().any(|skip| name == *skip) {
            continue;
        }
        let (source, target): (PathBuf, PathBuf) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_dir(&source, &target)?;
        } else {
            fs::copy(&source, &target).with_context(|| {
                format!("cannot copy {} to {}", source.display(), target.display())
            })?;
        }
    }
    Ok(())
}
