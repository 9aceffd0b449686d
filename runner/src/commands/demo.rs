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
    cli::DemoArgs,
    data::RunData,
    load::Controls,
    local::LocalConfig,
    report::{self, DemoPair},
    run::{self, Options, Overrides},
    scenario::{self, Scenario, Scenarios},
    solutions::{Solution, State},
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
    crate::errln!("demo: working in a copy of the tree, {}", tree.display());
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
    let demo = Demo {
        config: LocalConfig {
            root: tree,
            // The checkout's compiled dependencies, not a second copy.
            build_dir: Some(root.join("target")),
            case_files: copy.case_files(),
            ..checkout
        },
        reports: std::path::absolute(&args.reports)
            .with_context(|| format!("cannot resolve {}", args.reports.display()))?,
        duration: args.duration,
    };

    let mut pairs = Vec::new();
    for scenario in copy.list.iter().filter(|scenario| !scenario.needs_cluster) {
        pairs.extend(demo.case(&copy, scenario, controls).await?);
        if controls.stop_sending.is_cancelled() {
            break;
        }
    }
    show(&demo.reports, &pairs)?;
    Ok(if controls.stop_sending.is_cancelled() {
        ExitCode::from(run::INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Where the demo works and writes.
struct Demo {
    /// The local stack, building the scratch copy.
    config: LocalConfig,
    /// The checkout's reports folder, absolute.
    reports: PathBuf,
    duration: Option<std::time::Duration>,
}

impl Demo {
    /// One case: its baseline run, then its solution run. `None` when the
    /// case cannot be shown (no solution, the participant's own edits) or
    /// Ctrl-C came before a run began.
    async fn case(
        &self,
        copy: &Scenarios,
        scenario: &Scenario,
        controls: &Controls,
    ) -> anyhow::Result<Option<DemoPair>> {
        let Some(solution) = self.baseline_of(scenario)? else {
            return Ok(None);
        };
        let options = Options::on_local_stack(self.reports.join(report::DEMO_RUNS));
        let overrides = Overrides {
            duration: self.duration,
            rate: None,
        };
        let scenario = run::chosen(copy, &scenario.name, overrides)?;
        let mut runs = Vec::new();
        for side in ["baseline", "solution"] {
            if side == "solution" {
                crate::errln!("{}", solution.apply()?);
            }
            crate::errln!("\ndemo: case {} ({}), {side}", scenario.case, scenario.name);
            match run::on_local_stack(&self.config, &scenario, &options, None, controls).await? {
                Some(data) => runs.push(data),
                None => return Ok(None),
            }
        }
        let [baseline, solution] = <[RunData; 2]>::try_from(runs)
            .map_err(|_| anyhow::anyhow!("the demo ran other than two runs"))?;
        Ok(Some(DemoPair {
            scenario: scenario.name.clone(),
            baseline,
            solution,
        }))
    }

    /// The case's solution, with the copy put back to its baseline; `None`
    /// (and why, on stderr) when there is no baseline to show.
    fn baseline_of(&self, scenario: &Scenario) -> anyhow::Result<Option<Solution>> {
        let solution = match Solution::find(&self.config.root, scenario.case) {
            Ok(solution) => solution,
            Err(error) => {
                crate::errln!("demo: skipping {}: {error:#}", scenario.name);
                return Ok(None);
            }
        };
        match solution.state()? {
            State::Baseline => {}
            State::Solved => {
                solution.revert()?;
            }
            State::Edited(_) => {
                crate::errln!(
                    "demo: skipping {}: {} has your own edits, so there is no baseline to \
                     show; `git stash` them to include this case",
                    scenario.name,
                    solution.files().join(", ")
                );
                return Ok(None);
            }
        }
        Ok(Some(solution))
    }
}

/// Writes the demo page, prints the scores, and opens the page.
fn show(reports: &Path, pairs: &[DemoPair]) -> anyhow::Result<()> {
    let page = report::write_demo(reports, pairs)?;
    crate::outln!("\n{:<10} {:>9} {:>9}", "scenario", "baseline", "solution");
    for pair in pairs {
        crate::outln!(
            "{:<10} {:>9} {:>9}",
            pair.scenario,
            pair.baseline.score.total,
            pair.solution.score.total
        );
    }
    crate::errln!("demo page: {}", page.display());
    if std::io::stdout().is_terminal()
        && let Err(error) = opener::open(&page)
    {
        crate::errln!("could not open the demo page ({error}); open it yourself");
    }
    Ok(())
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
