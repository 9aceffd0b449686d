//! A short fingerprint of what a score measured: the scenario as it was run
//! (request, load, request cap, probes, checks) and the lab's workload
//! values that the scenario expects. Two runs with the same fingerprint
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
    scenario::{Scenario, Source, Stat},
    workload::Edit,
};

/// Hex digits kept: 32 bits tell scenario variants apart at a glance; this
/// is a label for honest runs, not a defence against forgery.
const LENGTH: usize = 8;

/// The fingerprint of `scenario` run against a lab whose workload differs
/// from the scenario's `expect` by `edits` (none: the expected workload).
pub fn fingerprint(scenario: &Scenario, edits: &[Edit]) -> String {
    let mut workload = scenario.expect.clone();
    for edit in edits {
        workload.insert(edit.key.clone(), edit.actual.clone());
    }
    let measured = json!({
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
        "probes": scenario.probes.iter().map(|probe| json!({
            "name": probe.name,
            "source": match probe.source() {
                Some(Source::Service { service, path }) => format!("{}{path}", service.as_str()),
                Some(Source::Kubernetes(object)) => format!("{}/{}", object.kind.as_str(), object.name),
                None => String::new(),
            },
            "interval_s": probe.interval.as_secs_f64(),
            "fields": probe.fields,
        })).collect::<Vec<Value>>(),
        "checks": scenario.checks.iter().map(|check| json!({
            "probe": check.probe,
            "metric": check.metric,
            "stat": check.stat.map(Stat::as_str),
            "target": check.target,
            "zero": check.zero,
            "weight": check.weight,
            "last_s": check.last.map(|last| last.as_secs_f64()),
        })).collect::<Vec<Value>>(),
        "workload": workload,
    });
    let digest = Sha256::digest(measured.to_string().as_bytes());
    digest
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<String>()[..LENGTH]
        .to_owned()
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
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        scenario::load(&root.join("scenarios.toml"))
            .expect("the shipped scenarios load")
            .get("timeouts")
            .expect("timeouts")
            .clone()
    }

    #[test]
    fn the_same_exercise_gives_the_same_short_fingerprint() {
        let scenario = timeouts();
        let first = expected(&scenario);
        assert_eq!(first.len(), LENGTH);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
        assert_eq!(first, fingerprint(&scenario.clone(), &[]));
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
