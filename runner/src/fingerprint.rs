//! A short fingerprint of what a score measured: the scenario as it was run
//! (request, load, request cap, probes, checks), the lab's workload values
//! that the scenario expects, and the shipped lab the runner measures (the
//! digest of its hashes, `shipped.rs`). Two runs with the same fingerprint
//! faced the same exercise, so their scores compare.
//!
//! The fingerprint is printed on the SCORE line (`fp=…`) and kept in
//! data.json. `runner leaderboard` ranks only runs whose fingerprint is the
//! one `scenarios.toml` gives today: a run with `--rate` or `--duration`
//! overrides, or against an edited workload, is listed but not ranked.
//! LEADERBOARD.md shows each scenario's expected fingerprint, so a
//! facilitator can tell a shared SCORE line from a different exercise.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    scenario::{Check, Measure, Probe, Scenario},
    shipped,
    workload::Edit,
};

/// Hex digits kept: 32 bits tell scenario variants apart at a glance; this
/// is a label for honest runs, not a defence against forgery.
const LENGTH: usize = 8;

/// The fingerprint of `scenario` run against a lab whose workload differs
/// from the scenario's `expect` by `edits` (none: the expected workload),
/// by this runner and the shipped lab it measures.
pub fn fingerprint(scenario: &Scenario, edits: &[Edit]) -> String {
    of_lab(scenario, edits, Some(&shipped::digest()))
}

/// The fingerprint against the shipped lab whose hashes' digest is `lab`;
/// `None` leaves the lab out (the pinned encoding test below).
fn of_lab(scenario: &Scenario, edits: &[Edit], lab: Option<&str>) -> String {
    let mut workload = scenario.expect.clone();
    for edit in edits {
        workload.insert(edit.key.clone(), edit.actual.clone());
    }
    let mut measured = json!({
        "request": {
            "service": scenario.service.as_str(),
            "method": scenario.method.as_str(),
            "path": scenario.path,
            "body": scenario.body,
        },
        "load": {
            "rate": scenario.rate,
            "duration_s": scenario.duration.as_secs_f64(),
            "ramp_s": scenario.ramp.map(|ramp| ramp.as_secs_f64()),
            "request_cap_s": scenario.request_cap.as_secs_f64(),
        },
        "probes": scenario.probes.iter().map(probe).collect::<Vec<Value>>(),
        "checks": scenario.checks.iter().map(check).collect::<Vec<Value>>(),
        "workload": workload,
    });
    // How answers are read changes what `degraded_rate` and `full_goodput`
    // measure; added only where a scenario reads them, so the fingerprints
    // of the others stay as they were.
    if let (Some(answers), Some(measured)) = (&scenario.answers, measured.as_object_mut()) {
        measured.insert("answers".into(), json!(answers));
    }
    if let (Some(lab), Some(measured)) = (lab, measured.as_object_mut()) {
        measured.insert("lab".into(), json!(lab));
    }
    let digest = Sha256::digest(measured.to_string().as_bytes());
    digest
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<String>()[..LENGTH]
        .to_owned()
}

// The keys below are those of the scenarios file. Changing how a probe
// or a check is encoded changes every fingerprint, and with it
// LEADERBOARD.md; the golden test below notices.

fn probe(probe: &Probe) -> Value {
    json!({
        "name": probe.name,
        "source": probe.source.to_string(),
        "interval_s": probe.interval.as_secs_f64(),
        "fields": probe.fields,
    })
}

fn check(check: &Check) -> Value {
    let (probe, metric, stat) = match &check.measure {
        Measure::Request(metric) => (None, metric.as_str(), None),
        Measure::Probe { probe, field, stat } => (Some(probe), field.as_str(), Some(stat.as_str())),
    };
    let mut check_json = json!({
        "probe": probe,
        "metric": metric,
        "stat": stat,
        "target": check.target,
        "zero": check.zero,
        "weight": check.weight,
        "last_s": check.last.map(|last| last.as_secs_f64()),
    });
    // Only gates say so: the fingerprints of scenarios without gates stay
    // what they were.
    if check.gate
        && let Some(fields) = check_json.as_object_mut()
    {
        fields.insert("gate".into(), json!(true));
    }
    check_json
}

/// The fingerprint a run of `scenario` gets when nothing is overridden or
/// edited: what the leaderboard ranks.
pub fn expected(scenario: &Scenario) -> String {
    fingerprint(scenario, &[])
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::scenario;

    fn timeouts() -> Scenario {
        scenario::shipped()
            .get("timeouts")
            .expect("timeouts")
            .clone()
    }

    /// A small scenario whose fingerprint is pinned below.
    const PINNED: &str = r#"[s]
case = 1
description = "a scenario"
service = "api"
path = "/x"
rate = 10
duration = "10s"
request_cap = "1s"
hint = "look"
files = ["lab/src/cases/timeouts.rs"]

[s.expect]
"knobs.workers" = 8

[[s.probes]]
name = "p"
kubernetes = "Deployment/api"
interval = "1s"
fields = ["status.readyReplicas"]

[[s.checks]]
metric = "p95_ms"
target = 100
zero = 1000
weight = 1
last = "5s"

[[s.checks]]
probe = "p"
metric = "status.readyReplicas"
stat = "max"
target = 3
zero = 1
weight = 1
"#;

    fn pinned() -> Scenario {
        // One file per test thread: tests run side by side.
        let path = std::env::temp_dir().join(format!(
            "runner-fingerprint-{}-{:?}.toml",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, PINNED).expect("write the scenario");
        let loaded = scenario::load(&path);
        let _ = std::fs::remove_file(&path);
        loaded.expect("it loads").list.remove(0)
    }

    /// Runs recorded by an earlier runner must keep comparing with today's,
    /// so the encoding of a scenario must not drift (a refactor that
    /// reorders keys or renames a metric would change every fingerprint).
    #[test]
    fn the_encoding_of_a_scenario_is_stable() {
        assert_eq!(of_lab(&pinned(), &[], None), "1edffe1a");
    }

    #[test]
    fn the_shipped_lab_is_part_of_it() {
        let scenario = pinned();
        assert_eq!(
            expected(&scenario),
            of_lab(&scenario, &[], Some(&shipped::digest()))
        );
        assert_ne!(
            of_lab(&scenario, &[], Some("0123456789abcdef")),
            expected(&scenario),
            "a runner compiled with other hashes measures another lab"
        );
    }

    #[test]
    fn how_answers_are_read_is_part_of_it() {
        let scenario = pinned();
        let mut reading = scenario.clone();
        reading.answers = Some(scenario::Answers {
            field: "source".into(),
            full: vec!["dep".into()],
            degraded: vec!["fallback".into()],
            within: None,
        });
        let mut other = reading.clone();
        if let Some(answers) = &mut other.answers {
            answers.degraded.push("cache".into());
        }
        let mut patient = reading.clone();
        if let Some(answers) = &mut patient.answers {
            answers.within = Some(Duration::from_secs(1));
        }
        assert_ne!(expected(&reading), expected(&scenario));
        assert_ne!(expected(&other), expected(&reading));
        assert_ne!(expected(&patient), expected(&reading));
    }

    #[test]
    fn a_gate_is_part_of_it() {
        let scenario = pinned();
        let mut gated = scenario.clone();
        gated.checks[0].gate = true;
        assert_ne!(expected(&gated), expected(&scenario));
    }

    #[test]
    fn words_that_measure_nothing_leave_it_alone() {
        let scenario = pinned();
        let mut reworded = scenario.clone();
        reworded.description = "other words".into();
        reworded.hint = "another hint".into();
        reworded.files = vec!["lab/src/cases/tx.rs".into()];
        assert_eq!(expected(&reworded), expected(&scenario));
    }

    #[test]
    fn overrides_and_workload_edits_change_it() {
        let scenario = timeouts();
        let base = expected(&scenario);

        let mut shorter = scenario.clone();
        shorter.duration = Duration::from_secs(5);
        assert_ne!(expected(&shorter), base, "a shorter run");

        let mut easier = scenario.clone();
        easier.checks[0].zero *= 2.0;
        assert_ne!(expected(&easier), base, "a laxer check");

        let edit = Edit {
            key: "knobs.dep_max_connections".into(),
            expected: json!(32),
            actual: json!(1000),
        };
        assert_ne!(fingerprint(&scenario, &[edit]), base, "an edited workload");
    }
}
