//! The checks serde cannot do: ranges, and references between keys (a check
//! naming a probe, a probe metric naming one of the probe's fields).

use std::{collections::HashSet, time::Duration};

use super::{Check, Method, Probe, REQUEST_METRICS, Scenario, ScenarioTables};

/// A problem at a key path such as `["tx", "checks", "1", "metric"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: Vec<String>,
    pub message: String,
}

const MAX_RATE: f64 = 100_000.0;
const MIN_DURATION: Duration = Duration::from_secs(1);
const MAX_DURATION: Duration = Duration::from_secs(3600);
const MAX_REQUEST_CAP: Duration = Duration::from_secs(300);
const MIN_PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// Every problem in the scenarios, in file order.
pub fn validate(tables: &ScenarioTables) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut cases = HashSet::new();
    for (name, scenario) in tables {
        let mut at = |keys: &[&str], message: String| {
            let mut path = vec![name.clone()];
            path.extend(keys.iter().map(|key| (*key).to_owned()));
            problems.push(Problem { path, message });
        };
        if !(1..=4).contains(&scenario.case) {
            at(&["case"], format!("must be 1 to 4, got {}", scenario.case));
        } else if !cases.insert(scenario.case) {
            at(
                &["case"],
                format!("case {} is used by another scenario", scenario.case),
            );
        }
        check_request(scenario, &mut at);
        for (index, probe) in scenario.probes.iter().enumerate() {
            let earlier = &scenario.probes[..index];
            let index = index.to_string();
            check_probe(probe, earlier, &mut |key, message| {
                at(&["probes", &index, key], message);
            });
        }
        if scenario.checks.is_empty() {
            at(
                &["checks"],
                "a scenario needs at least one check to score".into(),
            );
        }
        for (index, check) in scenario.checks.iter().enumerate() {
            let index = index.to_string();
            check_check(check, scenario, &mut |key, message| {
                at(&["checks", &index, key], message);
            });
        }
    }
    problems
}

fn check_request(scenario: &Scenario, at: &mut impl FnMut(&[&str], String)) {
    if !scenario.path.starts_with('/') {
        at(
            &["path"],
            format!("must start with `/`, got `{}`", scenario.path),
        );
    }
    if scenario.body.is_some() && !matches!(scenario.method, Method::Post | Method::Put) {
        at(
            &["body"],
            format!(
                "a body needs method POST or PUT, not {}",
                scenario.method.as_str()
            ),
        );
    }
    if !(scenario.rate > 0.0 && scenario.rate <= MAX_RATE) {
        at(
            &["rate"],
            format!(
                "must be above 0 and at most {MAX_RATE} requests per second, got {}",
                scenario.rate
            ),
        );
    }
    if !(MIN_DURATION..=MAX_DURATION).contains(&scenario.duration) {
        at(
            &["duration"],
            format!(
                "must be from 1s to 1h, got {}",
                humantime::format_duration(scenario.duration)
            ),
        );
    }
    if let Some(ramp) = scenario.ramp
        && ramp >= scenario.duration
    {
        at(&["ramp"], "must be shorter than `duration`".into());
    }
    if scenario.request_cap.is_zero() || scenario.request_cap > MAX_REQUEST_CAP {
        at(
            &["request_cap"],
            format!(
                "must be above 0 and at most {}",
                humantime::format_duration(MAX_REQUEST_CAP)
            ),
        );
    }
    if scenario.files.is_empty() {
        at(
            &["files"],
            "name at least one file the participant edits".into(),
        );
    }
}

fn check_probe(probe: &Probe, earlier: &[Probe], at: &mut impl FnMut(&str, String)) {
    if earlier.iter().any(|other| other.name == probe.name) {
        at(
            "name",
            format!("another probe is also named `{}`", probe.name),
        );
    }
    match (probe.source(), &probe.path) {
        (None, _) => at(
            "kubernetes",
            "a probe reads either a service's JSON endpoint (`service` and `path`) or a \
             Kubernetes object (`kubernetes = \"Kind/name\"`); give one of the two"
                .into(),
        ),
        (Some(_), Some(path)) if !path.starts_with('/') => {
            at("path", format!("must start with `/`, got `{path}`"));
        }
        (Some(_), _) => {}
    }
    if probe.interval < MIN_PROBE_INTERVAL {
        at(
            "interval",
            format!(
                "must be at least {}",
                humantime::format_duration(MIN_PROBE_INTERVAL)
            ),
        );
    }
    if probe.fields.is_empty() {
        at("fields", "name at least one field to record".into());
    }
}

fn check_check(check: &Check, scenario: &Scenario, at: &mut impl FnMut(&str, String)) {
    match &check.probe {
        None => {
            if !REQUEST_METRICS.contains(&check.metric.as_str()) {
                at(
                    "metric",
                    unknown(
                        "request metric",
                        &check.metric,
                        REQUEST_METRICS.iter().copied(),
                    ),
                );
            }
            if check.stat.is_some() {
                at(
                    "stat",
                    "only probe metrics take a stat; remove it or add `probe`".into(),
                );
            }
        }
        Some(name) => match scenario.probes.iter().find(|probe| &probe.name == name) {
            None => at(
                "probe",
                unknown(
                    "probe",
                    name,
                    scenario.probes.iter().map(|p| p.name.as_str()),
                ),
            ),
            Some(probe) => {
                if !probe.fields.contains(&check.metric) {
                    let fields = probe.fields.iter().map(String::as_str);
                    at(
                        "metric",
                        unknown(&format!("field of probe `{name}`"), &check.metric, fields),
                    );
                }
                if check.stat.is_none() {
                    at(
                        "stat",
                        "a probe metric needs a stat: max, mean or last".into(),
                    );
                }
            }
        },
    }
    for (key, value) in [
        ("target", check.target),
        ("zero", check.zero),
        ("weight", check.weight),
    ] {
        if !value.is_finite() {
            at(key, format!("must be a finite number, got {value}"));
        }
    }
    if check.target == check.zero {
        at(
            "zero",
            "must differ from `target`: it is the value that earns nothing".into(),
        );
    }
    if check.weight.is_finite() && check.weight <= 0.0 {
        at("weight", format!("must be above 0, got {}", check.weight));
    }
    if let Some(last) = check.last
        && (last.is_zero() || last > scenario.duration)
    {
        at(
            "last",
            "must be above 0 and at most the scenario's `duration`".into(),
        );
    }
}

/// "unknown X `y`; did you mean `z`?" or the list of valid names.
fn unknown<'a>(what: &str, name: &str, valid: impl Iterator<Item = &'a str> + Clone) -> String {
    match closest(name, valid.clone()) {
        Some(suggestion) => format!("unknown {what} `{name}`; did you mean `{suggestion}`?"),
        None => {
            let names: Vec<&str> = valid.collect();
            if names.is_empty() {
                format!("unknown {what} `{name}`; none are defined")
            } else {
                format!("unknown {what} `{name}`; valid: {}", names.join(", "))
            }
        }
    }
}

/// The valid name closest to `name`, if one is close enough to be a typo.
pub fn closest<'a>(name: &str, valid: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    valid
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}
