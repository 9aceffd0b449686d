//! Hints on request, as rustlings gives them: `runner hint <scenario>`
//! prints the scenario's hint and the files to edit, from scenarios.toml,
//! with the line of each `LAB: STEPn TODO` marker. After a run that misses
//! the pass mark, [`next_step`] says what to do next.

use std::{fmt::Write as _, path::Path};

use crate::{
    data::RunData,
    scenario::Scenario,
    score::{CheckResult, PASS_MARK},
};

/// The marker of case `case` in the lab's code and manifests.
pub fn marker(case: u8) -> String {
    format!("LAB: STEP{case} TODO")
}

/// What the reference solution leaves in place of the marker.
fn solved_marker(case: u8) -> String {
    format!("LAB: STEP{case} solution")
}

/// Where a case's marker is: a file the scenario names, and the line of the
/// marker in it (`None`: the file is missing or has no marker).
#[derive(Debug, PartialEq)]
pub struct Spot {
    pub file: String,
    pub line: Option<usize>,
    /// The line holds the reference solution's marker instead of the TODO.
    pub solved: bool,
}

/// Each of the scenario's files, with the line of its case's marker.
pub fn spots(root: &Path, scenario: &Scenario) -> Vec<Spot> {
    let (todo, solved) = (marker(scenario.case), solved_marker(scenario.case));
    scenario
        .files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            let found = text.lines().enumerate().find_map(|(index, line)| {
                if line.contains(&todo) {
                    Some((index + 1, false))
                } else if line.contains(&solved) {
                    Some((index + 1, true))
                } else {
                    None
                }
            });
            Spot {
                file: file.clone(),
                line: found.map(|(line, _)| line),
                solved: found.is_some_and(|(_, solved)| solved),
            }
        })
        .collect()
}

/// `runner hint <scenario>`.
pub fn hint(root: &Path, scenario: &Scenario) -> String {
    let mut out = format!(
        "Case {}: {} ({})\n\n{}\n\nEdit (look for `{}`):\n",
        scenario.case,
        scenario.name,
        scenario.description,
        scenario.hint.trim(),
        marker(scenario.case)
    );
    for spot in spots(root, scenario) {
        let _ = match spot.line {
            Some(line) if spot.solved => writeln!(
                out,
                "  {}:{line} (the reference solution is applied here)",
                spot.file
            ),
            Some(line) => writeln!(out, "  {}:{line}", spot.file),
            None => writeln!(
                out,
                "  {} (no marker found: look for the case's code)",
                spot.file
            ),
        };
    }
    let _ = write!(
        out,
        "\nThen rerun: {}\nBehind? `runner solve {case}` applies the reference fix; \
         `runner unsolve {case}` takes it out again.\n",
        if scenario.needs_cluster {
            rerun(scenario, Rerun::Cluster)
        } else {
            format!(
                "{} (or leave `runner watch {}` running: it reruns on every save)",
                rerun(scenario, Rerun::Local),
                scenario.name
            )
        },
        case = scenario.case
    );
    out
}

/// Where a run came from, and so how to rerun it after an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerun {
    /// The cluster: after `make dev` has rebuilt and redeployed the code,
    /// or `make apply` has applied the manifests.
    Cluster,
    /// `runner run --local`.
    Local,
    /// `runner watch`: a save reruns.
    Watch,
}

/// How to rerun the scenario after an edit.
fn rerun(scenario: &Scenario, how: Rerun) -> String {
    match how {
        Rerun::Local => format!("`runner run {} --local`", scenario.name),
        Rerun::Watch => "save the file (watch rebuilds and reruns), or press `r`".to_owned(),
        Rerun::Cluster if edits_only_manifests(scenario) => format!(
            "`make apply` (apply the manifests, wait), then `runner run {}`",
            scenario.name
        ),
        Rerun::Cluster => format!(
            "`make dev` (rebuild, redeploy, wait), then `runner run {}`",
            scenario.name
        ),
    }
}

/// The case is fixed in Kubernetes manifests alone, so applying them is the
/// whole redeploy: no image to rebuild.
fn edits_only_manifests(scenario: &Scenario) -> bool {
    scenario
        .files
        .iter()
        .all(|file| file.starts_with("deploy/") && file.ends_with(".yaml"))
}

/// The failed check that cost the run the most points, when it has a
/// lesson line: what the next step should point the participant at, since
/// a score alone does not say which part of the fix is missing.
fn costliest_lesson(data: &RunData) -> Option<(&str, &str)> {
    data.score
        .checks
        .iter()
        .filter(|check| !check.met)
        .filter_map(|check| {
            Some((
                points_lost(check),
                check.label.as_str(),
                check.lesson.as_deref()?,
            ))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, label, lesson)| (label, lesson))
}

/// Out of 100: a gate multiplies the whole score, a weighted check loses
/// what it did not earn.
fn points_lost(check: &CheckResult) -> f64 {
    if check.gate {
        100.0 * (1.0 - check.earned)
    } else {
        check.weight - check.earned
    }
}

/// What to do after `data`, a run of `scenario`: `None` when it passed or
/// was interrupted (a partial run says little about the code).
pub fn next_step(root: &Path, scenario: &Scenario, data: &RunData, how: Rerun) -> Option<String> {
    if data.interrupted {
        return None;
    }
    if data.workload_edits.is_empty() && !data.lab_edits.is_empty() {
        return Some(format!(
            "next: put the lab's own files back ({}: `git checkout -- <file>`, or \
             `git stash` to keep your changes), then rerun: {}. The lesson is at `{}`, in {}.",
            data.edited_files(", "),
            rerun(scenario, how),
            marker(scenario.case),
            scenario.files.join(", ")
        ));
    }
    if !data.workload_edits.is_empty() {
        return Some(format!(
            "next: put the workload back ({}: the lab's flags and environment \
             variables, see `lab --help`), then rerun: {}. The lesson is at `{}`.",
            data.edited_keys(", "),
            rerun(scenario, how),
            marker(scenario.case)
        ));
    }
    if data.score.total >= PASS_MARK {
        return None;
    }
    let places: Vec<String> = spots(root, scenario)
        .into_iter()
        .map(|spot| match spot.line {
            Some(line) => format!("{}:{line}", spot.file),
            None => spot.file,
        })
        .collect();
    let why = costliest_lesson(data)
        .map(|(label, lesson)| format!("\n  the check that cost most, `{label}`: {lesson}"))
        .unwrap_or_default();
    Some(format!(
        "next: {score}/100 is under the pass mark ({PASS_MARK}).{why}\n  \
         1. read the hint: `runner hint {name}`\n  \
         2. fix {places} at `{marker}`\n  \
         3. rerun: {rerun}\n  \
         behind? `runner solve {case}` applies the reference fix",
        score = data.score.total,
        name = scenario.name,
        places = places.join(" and "),
        marker = marker(scenario.case),
        rerun = rerun(scenario, how),
        case = scenario.case,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn shipped() -> (std::path::PathBuf, scenario::Scenarios) {
        let scenarios = scenario::shipped();
        (scenarios.root(), scenarios)
    }

    #[test]
    fn every_shipped_scenario_points_at_its_marker() {
        let (root, scenarios) = shipped();
        for scenario in &scenarios.list {
            let spots = spots(&root, scenario);
            assert!(!spots.is_empty(), "{} names files", scenario.name);
            for spot in spots {
                assert!(
                    spot.line.is_some() && !spot.solved,
                    "{} has no `{}`",
                    spot.file,
                    marker(scenario.case)
                );
            }
        }
    }

    #[test]
    fn the_hint_names_the_text_the_files_and_the_way_out() {
        let (root, scenarios) = shipped();
        let tx = scenarios.get("tx").expect("tx");
        let text = hint(&root, tx);
        assert!(text.contains(tx.hint.trim()), "{text}");
        assert!(text.contains("lab/src/cases/tx.rs:"), "{text}");
        assert!(text.contains("runner run tx --local"), "{text}");
        assert!(text.contains("runner solve 2"), "{text}");
        let autoscale = hint(&root, scenarios.get("autoscale").expect("autoscale"));
        assert!(autoscale.contains("make apply"), "{autoscale}");
        assert!(!autoscale.contains("make dev"), "{autoscale}");
    }

    fn check(label: &str, gate: bool, weight: f64, earned: f64, lesson: &str) -> CheckResult {
        CheckResult {
            measure: scenario::Measure::Request(scenario::RequestMetric::P95Ms),
            title: String::new(),
            unit: crate::format::Unit::Ms,
            label: label.into(),
            value: Some(1.0),
            target: 0.0,
            zero: 2.0,
            weight,
            earned,
            gate,
            met: earned >= weight.max(1.0),
            lesson: Some(lesson.into()),
            key_chart: false,
        }
    }

    #[test]
    fn the_next_step_names_the_lesson_of_the_check_that_cost_most() {
        let (root, scenarios) = shipped();
        let tx = scenarios.get("tx").expect("tx");
        let mut data = crate::data::example("tx", "r", 40, "fp");
        data.score.checks = vec![
            check("p95_ms", false, 40.0, 30.0, "slow: a lesson on latency"),
            check(
                "orders.unpriced",
                true,
                0.0,
                0.4,
                "every order needs its price",
            ),
            check("error_rate", false, 30.0, 0.0, "errors: a lesson on errors"),
        ];
        let next = next_step(&root, tx, &data, Rerun::Local).expect("a next step under 90");
        assert!(
            next.contains("`orders.unpriced`: every order needs its price"),
            "{next}"
        );
        data.score.checks.remove(1);
        let next = next_step(&root, tx, &data, Rerun::Local).expect("a next step under 90");
        assert!(
            next.contains("`error_rate`: errors: a lesson on errors"),
            "{next}"
        );
    }
}
