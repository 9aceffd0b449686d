//! The checks serde cannot do: ranges, and references between keys (a check
//! naming a probe, a probe metric naming one of the probe's fields). This
//! is also where a scenario as the file writes it ([`super::ScenarioToml`])
//! becomes the typed [`Scenario`]: a probe with its one source, a check with
//! what it measures.

use std::{collections::HashSet, time::Duration};

use strum::IntoEnumIterator;

use super::{
    Check, CheckToml, Measure, Method, Probe, ProbeToml, RequestMetric, Scenario, ScenarioTables,
    ScenarioToml, Source,
};

/// A problem at a key path such as `["tx", "checks", "1", "metric"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: Vec<String>,
    pub message: String,
}

/// The highest rate a scenario (or `--rate`) may ask for.
pub const MAX_RATE: f64 = 100_000.0;
/// The shortest and longest run a scenario (or `--duration`) may ask for.
pub const MIN_DURATION: Duration = Duration::from_secs(1);
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
const MAX_REQUEST_CAP: Duration = Duration::from_secs(300);
const MIN_PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// The typed scenarios, and every problem found on the way, in file
/// order. A scenario with a problem is left out of the first list.
pub fn validate(tables: ScenarioTables) -> (Vec<Scenario>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut scenarios = Vec::new();
    let mut cases = HashSet::new();
    for (name, scenario) in tables {
        let before = problems.len();
        let mut at = |keys: &[&str], message: String| {
            let mut path = vec![name.clone()];
            path.extend(keys.iter().map(|key| (*key).to_owned()));
            problems.push(Problem { path, message });
        };
        // One case per scenario: how many there are is how many the file
        // declares, so only the first number is fixed.
        if scenario.case == 0 {
            at(&["case"], "must be 1 or more, got 0".into());
        } else if !cases.insert(scenario.case) {
            at(
                &["case"],
                format!("case {} is used by another scenario", scenario.case),
            );
        }
        check_request(&scenario, &mut at);
        check_answers(&scenario, &mut at);
        let probes = typed_probes(&scenario.probes, &mut at);
        let checks = typed_checks(&scenario, &mut at);
        if problems.len() == before {
            scenarios.push(scenario.typed(probes, checks));
        }
    }
    (scenarios, problems)
}

fn typed_probes(written: &[ProbeToml], at: &mut impl FnMut(&[&str], String)) -> Vec<Probe> {
    let mut probes = Vec::new();
    for (index, probe) in written.iter().enumerate() {
        let earlier = &written[..index];
        let index = index.to_string();
        let typed = typed_probe(probe, earlier, &mut |key, message| {
            at(&["probes", &index, key], message);
        });
        probes.extend(typed);
    }
    probes
}

fn typed_checks(scenario: &ScenarioToml, at: &mut impl FnMut(&[&str], String)) -> Vec<Check> {
    if scenario.checks.is_empty() {
        at(
            &["checks"],
            "a scenario needs at least one check to score".into(),
        );
    }
    let mut checks = Vec::new();
    for (index, check) in scenario.checks.iter().enumerate() {
        let index = index.to_string();
        let typed = typed_check(check, scenario, &mut |key, message| {
            at(&["checks", &index, key], message);
        });
        checks.extend(typed);
    }
    checks
}

/// An answers table names a field and at least one full value, no value
/// is both full and degraded, and users wait more than no time.
fn check_answers(scenario: &ScenarioToml, at: &mut impl FnMut(&[&str], String)) {
    let Some(answers) = &scenario.answers else {
        return;
    };
    if answers.field.trim().is_empty() {
        at(
            &["answers", "field"],
            "name the top-level field of the JSON answer to read, e.g. \"source\"".into(),
        );
    }
    if answers.full.is_empty() {
        at(
            &["answers", "full"],
            "name at least one value of a full answer".into(),
        );
    }
    if answers.within.is_some_and(|within| within.is_zero()) {
        at(
            &["answers", "within"],
            "a user waits some time: give how long, e.g. \"1s\", or leave `within` out".into(),
        );
    }
    if let Some(both) = answers
        .full
        .iter()
        .find(|value| answers.degraded.contains(value))
    {
        at(
            &["answers", "degraded"],
            format!("`{both}` is also a full value; a value is one or the other"),
        );
    }
}

fn check_request(scenario: &ScenarioToml, at: &mut impl FnMut(&[&str], String)) {
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

/// The probe with its one source; `None` when it has none. Every problem
/// goes to `at`, and [`validate`] keeps no scenario that has one.
fn typed_probe(
    probe: &ProbeToml,
    earlier: &[ProbeToml],
    at: &mut impl FnMut(&str, String),
) -> Option<Probe> {
    if earlier.iter().any(|other| other.name == probe.name) {
        at(
            "name",
            format!("another probe is also named `{}`", probe.name),
        );
    }
    let source = match (probe.service, &probe.path, &probe.kubernetes) {
        (Some(service), Some(path), None) => Some(Source::Service {
            service,
            path: path.clone(),
        }),
        (None, None, Some(object)) => Some(Source::Kubernetes(object.clone())),
        _ => None,
    };
    match (&source, &probe.path) {
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
    Some(Probe {
        name: probe.name.clone(),
        source: source?,
        interval: probe.interval,
        fields: probe.fields.clone(),
    })
}

/// The check with what it measures; `None` when that cannot be told. Every
/// problem goes to `at`, and [`validate`] keeps no scenario that has one.
fn typed_check(
    check: &CheckToml,
    scenario: &ScenarioToml,
    at: &mut impl FnMut(&str, String),
) -> Option<Check> {
    let measure = measure(check, scenario, at);
    check_numbers(check, scenario.duration, at);
    let measure = measure?;
    let title = match (&check.title, &measure) {
        (Some(title), _) => {
            let title = title.trim();
            if title.is_empty() || title.chars().count() > MAX_TITLE {
                at(
                    "title",
                    format!(
                        "must be 1 to {MAX_TITLE} characters: what the check measures, in \
                         words (title = \"connections waiting for the pool\")"
                    ),
                );
            }
            Some(title.to_owned())
        }
        (None, Measure::Request(metric)) => Some(metric.words().to_owned()),
        // A probe check without a title is named by its key alone.
        (None, Measure::Probe { .. }) => None,
    };
    let lesson = check.lesson.as_deref().map(str::trim);
    if let Some(lesson) = lesson
        && (lesson.is_empty() || lesson.chars().count() > MAX_LESSON || lesson.contains('\n'))
    {
        at(
            "lesson",
            format!(
                "must be one line of 1 to {MAX_LESSON} characters: what a failure of this \
                 check most often means (lesson = \"errors: a deadline should answer with a \
                 fallback, not an error\")"
            ),
        );
    }
    Some(Check {
        measure,
        title,
        target: check.target,
        zero: check.zero,
        weight: check.weight.unwrap_or(0.0),
        gate: check.gate,
        key_chart: check.key_chart,
        last: check.last,
        lesson: lesson.map(str::to_owned),
    })
}

/// The longest lesson line: it is printed on a line of its own.
const MAX_LESSON: usize = 160;

/// The longest title a check may have: it shares a terminal line with its
/// value, target and key.
const MAX_TITLE: usize = 60;

/// A request metric (`metric` alone) or a probe's field (`probe`, `metric`
/// and `stat`), each name checked against what exists.
fn measure(
    check: &CheckToml,
    scenario: &ScenarioToml,
    at: &mut impl FnMut(&str, String),
) -> Option<Measure> {
    let Some(name) = &check.probe else {
        return request_metric(check, scenario, at).map(Measure::Request);
    };
    let Some(probe) = scenario.probes.iter().find(|probe| &probe.name == name) else {
        let names = scenario.probes.iter().map(|probe| probe.name.as_str());
        at("probe", unknown("probe", name, names));
        return None;
    };
    let field = probe.fields.contains(&check.metric);
    if !field {
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
    Some(Measure::Probe {
        probe: name.clone(),
        field: check.metric.clone(),
        stat: check.stat?,
    })
    .filter(|_| field)
}

/// A check without `probe`: its `metric` is a request metric, which takes
/// no stat, and reads answers only where the scenario says how.
fn request_metric(
    check: &CheckToml,
    scenario: &ScenarioToml,
    at: &mut impl FnMut(&str, String),
) -> Option<RequestMetric> {
    if check.stat.is_some() {
        at(
            "stat",
            "only probe metrics take a stat; remove it or add `probe`".into(),
        );
    }
    let metric = RequestMetric::named(&check.metric);
    match metric {
        None => {
            let names = RequestMetric::iter().map(RequestMetric::as_str);
            at("metric", unknown("request metric", &check.metric, names));
        }
        Some(metric) if metric.needs_answers() && scenario.answers.is_none() => at(
            "metric",
            format!(
                "`{}` reads answers: add a `[{}.answers]` table saying which field of \
                 the answer to read and which values are full and degraded",
                metric.as_str(),
                scenario.name
            ),
        ),
        Some(_) => {}
    }
    metric
}

/// Target, zero, weight and window: finite, distinct, positive, in range;
/// a weight for every check but a gate.
fn check_numbers(check: &CheckToml, duration: Duration, at: &mut impl FnMut(&str, String)) {
    let weight = ("weight", check.weight.unwrap_or(1.0));
    for (key, value) in [("target", check.target), ("zero", check.zero), weight] {
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
    match (check.weight, check.gate) {
        (Some(_), true) => at(
            "weight",
            "a gate has no weight: it multiplies the whole score; remove `weight` or `gate`".into(),
        ),
        (None, false) => at(
            "weight",
            "a check needs a weight, its share of the score (or `gate = true`)".into(),
        ),
        (Some(weight), false) if weight.is_finite() && weight <= 0.0 => {
            at("weight", format!("must be above 0, got {weight}"));
        }
        _ => {}
    }
    if let Some(last) = check.last
        && (last.is_zero() || last > duration)
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
