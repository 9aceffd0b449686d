//! `runner leaderboard`: the best score of each scenario among the runs,
//! or with `--scoring` how each scenario is scored.

use std::process::ExitCode;

use crate::{cli::LeaderboardArgs, data::Runs, leaderboard, scenario::Scenarios};

pub fn run(scenarios: &Scenarios, args: &LeaderboardArgs) -> ExitCode {
    if args.scoring {
        crate::out!("{}", leaderboard::scoring(scenarios));
        return ExitCode::SUCCESS;
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
    ExitCode::SUCCESS
}
