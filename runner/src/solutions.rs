//! `runner solve N` and `runner unsolve N`: the reference fix of a step,
//! `solutions/step-N.patch`, applied to or taken out of the working tree.
//!
//! Each patch is made against the baseline and touches only its own case,
//! so steps are independent: any of them can be applied in any order. They
//! are applied with `git apply`, which changes every file or none. Before
//! anything is written, both directions are tried with `--check`, so the
//! command knows whether the step is applied, not applied, or neither
//! (the participant's own edits are in the way), and refuses the last case
//! without touching a file.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

/// Where a step's patch stands against the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The code is the baseline: the patch applies.
    Baseline,
    /// The code is the solution: the patch applies in reverse.
    Solved,
    /// Neither: the files were edited. Holds git's explanation.
    Edited(String),
}

/// A step's solution in the repository at `root`.
#[derive(Debug, Clone)]
pub struct Solution {
    pub step: u8,
    root: PathBuf,
    patch: PathBuf,
}

impl Solution {
    pub fn find(root: &Path, step: u8) -> anyhow::Result<Self> {
        let patch = root.join("solutions").join(format!("step-{step}.patch"));
        if !patch.is_file() {
            bail!(
                "there is no solution for step {step}: {} does not exist (the steps with \
                 solutions: {})",
                patch.display(),
                Self::steps(root)
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(Self {
            step,
            root: root.to_owned(),
            patch,
        })
    }

    /// The steps that have a patch in `<root>/solutions`, in order: the
    /// folder says which there are (none when it cannot be read).
    pub fn steps(root: &Path) -> Vec<u8> {
        let Ok(entries) = std::fs::read_dir(root.join("solutions")) else {
            return Vec::new();
        };
        let mut steps: Vec<u8> = entries
            .filter_map(|entry| entry.ok().filter(|entry| entry.path().is_file()))
            .filter_map(|entry| {
                let name = entry.file_name();
                let step = name
                    .to_str()?
                    .strip_prefix("step-")?
                    .strip_suffix(".patch")?;
                step.parse().ok()
            })
            .collect();
        steps.sort_unstable();
        steps
    }

    pub fn state(&self) -> anyhow::Result<State> {
        let Err(why) = self.git_apply(&["--check"])? else {
            return Ok(State::Baseline);
        };
        if self.git_apply(&["--check", "--reverse"])?.is_ok() {
            return Ok(State::Solved);
        }
        Ok(State::Edited(why))
    }

    /// Applies the solution; returns what was done, for the terminal.
    pub fn apply(&self) -> anyhow::Result<String> {
        match self.state()? {
            State::Solved => Ok(format!(
                "step {} is already solved; nothing changed",
                self.step
            )),
            State::Edited(why) => bail!(self.refusal("apply", &why)),
            State::Baseline => {
                self.git_apply(&[])?
                    .map_err(|why| anyhow::anyhow!("git apply failed: {why}"))?;
                Ok(format!(
                    "step {} solved: {} now holds the reference fix. Rerun its scenario to \
                     see the difference; `runner unsolve {}` takes it back out",
                    self.step,
                    self.files().join(", "),
                    self.step
                ))
            }
        }
    }

    /// Takes the solution back out; returns what was done.
    pub fn revert(&self) -> anyhow::Result<String> {
        match self.state()? {
            State::Baseline => Ok(format!(
                "step {} is not solved: the code is the baseline; nothing changed",
                self.step
            )),
            State::Edited(why) => bail!(self.refusal("take back", &why)),
            State::Solved => {
                self.git_apply(&["--reverse"])?
                    .map_err(|why| anyhow::anyhow!("git apply --reverse failed: {why}"))?;
                Ok(format!(
                    "step {} is back to its baseline in {}",
                    self.step,
                    self.files().join(", ")
                ))
            }
        }
    }

    /// The files the patch touches, from its `+++ b/...` lines.
    pub fn files(&self) -> Vec<String> {
        std::fs::read_to_string(&self.patch)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.strip_prefix("+++ b/"))
            .map(str::to_owned)
            .collect()
    }

    fn refusal(&self, verb: &str, why: &str) -> String {
        let files = self.files().join(" ");
        format!(
            "cannot {verb} step {step}'s solution: {files} holds edits that are neither the \
             baseline nor the solution, so nothing was changed.\n\
             git says: {why}\n\
             To use the reference fix, keep your version somewhere (`git stash`, or copy the \
             file), put the file back with `git checkout -- {files}`, and run \
             `runner solve {step}` again.",
            step = self.step,
        )
    }

    /// Runs `git apply <args> <patch>` in the root. `Ok(Err(why))` when git
    /// refuses; `Err` when git cannot run at all.
    fn git_apply(&self, args: &[&str]) -> anyhow::Result<Result<(), String>> {
        // Stop git from looking above the root for a repository: in a copy
        // of the tree inside another checkout, git would otherwise read the
        // patch's paths against that outer checkout and skip them.
        let ceiling = self.root.parent().unwrap_or(&self.root);
        let output = Command::new("git")
            .arg("apply")
            .args(args)
            .arg(&self.patch)
            .current_dir(&self.root)
            .env("GIT_CEILING_DIRECTORIES", ceiling)
            .output()
            .context("cannot run git, which applies the solutions; install git")?;
        if output.status.success() {
            Ok(Ok(()))
        } else {
            Ok(Err(String::from_utf8_lossy(&output.stderr)
                .trim()
                .to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_has_a_solution_and_every_solution_a_case() {
        let scenarios = crate::scenario::shipped();
        let mut cases: Vec<u8> = scenarios
            .list
            .iter()
            .map(|scenario| scenario.case)
            .collect();
        cases.sort_unstable();
        assert_eq!(Solution::steps(&scenarios.root()), cases);
    }
}
