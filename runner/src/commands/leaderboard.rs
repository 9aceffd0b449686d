//! `runner leaderboard`: the best score of each scenario among the runs,
//! or with `--scoring` how each scenario is scored.

use std::process::ExitCode;

use crate::{cli::LeaderboardArgs, data::Runs, leaderboard, scenario::Scenarios};

pub fn run(scenarios: &Scenarios, args: &LeaderboardArgs) -> ExitCode {
    if args.scoring {
        print!("{}", leaderboard::scoring(scenarios));
        return ExitCode::SUCCESS;
    }
    let runs = Runs::read(&args.reports);
    for problem in &runs.unreadable {
        eprintln!("warning: not ranked: {problem}");
    }
    print!(
        "{}",
        leaderboard::render(&leaderboard::board(scenarios, &runs.list))
    );
    if runs.list.is_empty() {
        eprintln!(
            "no runs under {} yet: `runner run <scenario>` writes them",
            args.reports.display()
        );
    }
    ExitCode::SUCCESS
}
