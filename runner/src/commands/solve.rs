//! `runner solve N` and `runner unsolve N`: a step's reference solution
//! applied, or taken back out.

use std::process::ExitCode;

use crate::{cli::StepArgs, scenario::Scenarios, solutions::Solution};

pub fn solve(scenarios: &Scenarios, step: &StepArgs) -> anyhow::Result<ExitCode> {
    let done = Solution::find(&scenarios.root(), step.step)?.apply()?;
    crate::outln!("{done}");
    Ok(ExitCode::SUCCESS)
}

pub fn unsolve(scenarios: &Scenarios, step: &StepArgs) -> anyhow::Result<ExitCode> {
    let done = Solution::find(&scenarios.root(), step.step)?.revert()?;
    crate::outln!("{done}");
    Ok(ExitCode::SUCCESS)
}
