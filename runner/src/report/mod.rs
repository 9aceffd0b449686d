//! The HTML reports: `report.html` for one run (with a comparison to the
//! previous run of the same scenario) and `reports/index.html` for all runs.
//!
//! Each is one self-contained file: styles inline, charts as inline SVG
//! computed in [`chart`], no script, no font, no request of any kind, so a
//! report opens offline in a workshop room and looks the same in a year.
//! Templates are files in `runner/templates/`, compiled into the binary,
//! with HTML auto-escaping on for everything they print.

pub mod chart;

use std::{
    fs::File,
    path::{Path, PathBuf},
};

use anyhow::Context;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use serde_json::Value;

use crate::output::{RunData, write_atomically};
use chart::{Chart, Series, line_chart};

fn environment() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_global("pass_mark", crate::score::PASS_MARK);
    env.add_template(
        "layout.html.j2",
        include_str!("../../templates/layout.html.j2"),
    )?;
    env.add_template(
        "report.html.j2",
        include_str!("../../templates/report.html.j2"),
    )?;
    env.add_template(
        "index.html.j2",
        include_str!("../../templates/index.html.j2"),
    )?;
    env.add_template(
        "chart.html.j2",
        include_str!("../../templates/chart.html.j2"),
    )?;
    env.add_template("demo.html.j2", include_str!("../../templates/demo.html.j2"))?;
    Ok(env)
}

/// A row of the comparison with an earlier run.
#[derive(Debug, Serialize)]
pub struct Delta {
    pub metric: &'static str,
    pub before: String,
    pub after: String,
    /// `better`, `worse` or `same`.
    pub verdict: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    pub run_id: String,
    pub href: String,
    pub rows: Vec<Delta>,
}

#[derive(Debug, Serialize)]
struct Share {
    name: String,
    count: u64,
    percent: f64,
}

/// Writes `report.html` into `folder` for the run in `data`; compares with
/// the newest earlier run of the same scenario under `reports`.
pub fn write_report(reports: &Path, folder: &Path, data: &Value) -> anyhow::Result<PathBuf> {
    let previous = previous_run(reports, data);
    let html = render_report(data, previous.as_ref())?;
    let path = folder.join("report.html");
    write_atomically(&path, html.as_bytes())?;
    Ok(path)
}

/// The report's HTML. `previous` is the run to compare with, if any.
pub fn render_report(data: &Value, previous: Option<&Value>) -> anyhow::Result<String> {
    let env = environment()?;
    let template = env.get_template("report.html.j2")?;
    let scaling = scaling(data);
    let html = template.render(minijinja::context! {
        run => data,
        charts => charts(data, previous, &scaling),
        scaling => scaling,
        answers => answers(&data["totals"]),
        distribution => distribution(data),
        comparison => previous.map(|previous| compare(data, previous)),
    })?;
    Ok(html)
}

fn seconds(data: &Value) -> &[Value] {
    list(&data["totals"]["seconds"])
}

/// A per-second series of `field` from the timeline.
fn timeline(data: &Value, field: &str, name: &str, previous: bool) -> Series {
    Series {
        name: name.to_owned(),
        points: seconds(data)
            .iter()
            .map(|second| {
                (
                    second["second"].as_f64().unwrap_or_default(),
                    second[field].as_f64(),
                )
            })
            .collect(),
        previous,
    }
}

/// What a probe's replica counts did during the run (the autoscale case):
/// the first second each rose above where it started, or that it never did.
#[derive(Debug, Serialize)]
struct Replicas {
    probe: String,
    field: String,
    from: f64,
    /// `(second, replicas)` of the first rise; `None` if it never rose.
    rose: Option<(f64, f64)>,
    /// Never rose above one replica: the lesson of the autoscale baseline.
    stuck: bool,
    /// What happened, in words, for the report.
    text: String,
}

impl Replicas {
    fn label(&self) -> Option<String> {
        self.rose
            .map(|(_, to)| format!("scale-up: {} → {}", self.from, to))
    }

    /// Where a chart marks the rise, and its label.
    fn marker(&self) -> Option<(f64, String)> {
        Some((self.rose?.0, self.label()?))
    }
}

/// Every probe series whose field counts replicas, with its first rise.
fn scaling(data: &Value) -> Vec<Replicas> {
    let mut found = Vec::new();
    for probe in list(&data["probes"]) {
        for series in list(&probe["series"]) {
            let field = series["field"].as_str().unwrap_or_default();
            if !field.to_ascii_lowercase().ends_with("replicas") {
                continue;
            }
            let mut points = list(&series["points"])
                .iter()
                .filter_map(|point| Some((point[0].as_f64()?, point[1].as_f64()?)));
            let Some((_, from)) = points.next() else {
                continue;
            };
            let rose = points.find(|&(_, replicas)| replicas > from);
            let stuck = rose.is_none() && from <= 1.0;
            let text = match rose {
                Some((second, to)) => format!(
                    "scaled up from {from} to {to} at {second:.0} s (the red line on the charts)"
                ),
                None if stuck => format!("stayed at {from} for the whole run: nothing scaled out"),
                None => format!("stayed at {from} for the whole run"),
            };
            found.push(Replicas {
                probe: probe["name"].as_str().unwrap_or_default().to_owned(),
                field: field.to_owned(),
                from,
                rose,
                stuck,
                text,
            });
        }
    }
    found
}

/// A JSON array's items; none when `value` is not an array.
fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn charts(data: &Value, previous: Option<&Value>, scaling: &[Replicas]) -> Vec<Chart> {
    let mut latency = vec![
        timeline(data, "p50_ms", "p50", false),
        timeline(data, "p95_ms", "p95", false),
        timeline(data, "p99_ms", "p99", false),
    ];
    if let Some(previous) = previous {
        latency.push(timeline(previous, "p95_ms", "p95, previous run", true));
    }
    let mut charts = vec![
        line_chart(
            "rate",
            "Requests per second: intended, sent, succeeded",
            "req/s",
            &[
                timeline(data, "intended", "intended", false),
                timeline(data, "sent", "sent", false),
                timeline(data, "succeeded", "succeeded", false),
                timeline(data, "failed", "failed", false),
            ],
        ),
        line_chart(
            "latency",
            "Latency from the intended send time (p50, p95, p99 by second intended)",
            "ms",
            &latency,
        ),
        line_chart(
            "in-flight",
            "Requests in flight (most in each second)",
            "requests",
            &[timeline(data, "in_flight_max", "in flight", false)],
        ),
    ];
    // The latency chart shows when new pods began to serve: the first rise
    // in ready replicas, or else the first rise of any replica count.
    let serving = scaling
        .iter()
        .filter(|replicas| replicas.rose.is_some())
        .min_by_key(|replicas| !replicas.field.ends_with("readyReplicas"));
    if let Some((second, label)) = serving.and_then(Replicas::marker) {
        charts[1].mark(second, &label);
    }
    for probe in list(&data["probes"]) {
        let name = probe["name"].as_str().unwrap_or_default();
        let series: Vec<Series> = list(&probe["series"])
            .iter()
            .map(|series| Series {
                name: series["field"].as_str().unwrap_or_default().to_owned(),
                points: list(&series["points"])
                    .iter()
                    .map(|point| (point[0].as_f64().unwrap_or_default(), point[1].as_f64()))
                    .collect(),
                previous: false,
            })
            .collect();
        let url = probe["url"].as_str().unwrap_or_default();
        let mut chart = line_chart(
            &format!("probe-{name}"),
            &format!("Probe {name}: {url}"),
            "",
            &series,
        );
        for replicas in scaling.iter().filter(|replicas| replicas.probe == name) {
            if let Some((second, label)) = replicas.marker() {
                chart.mark(second, &label);
            }
        }
        charts.push(chart);
    }
    charts
}

/// Status codes and client-side errors, each as a share of all answers.
fn answers(totals: &Value) -> Vec<Share> {
    let counts = |key: &str, prefix: &'static str| {
        totals[key]
            .as_object()
            .into_iter()
            .flatten()
            .map(move |(name, count)| {
                (
                    format!("{prefix}{name}"),
                    count.as_u64().unwrap_or_default(),
                )
            })
    };
    let rows: Vec<(String, u64)> = counts("statuses", "HTTP ")
        .chain(counts("errors", ""))
        .collect();
    let total: u64 = rows.iter().map(|(_, count)| count).sum();
    rows.into_iter()
        .map(|(name, count)| Share {
            name,
            count,
            percent: if total == 0 {
                0.0
            } else {
                100.0 * count as f64 / total as f64
            },
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct Quantile {
    percentile: f64,
    ms: f64,
    /// Bar length, 0-100, on a log scale so fast and slow both show.
    width: f64,
}

fn distribution(data: &Value) -> Vec<Quantile> {
    let pairs: Vec<(f64, f64)> = list(&data["totals"]["distribution"])
        .iter()
        .filter_map(|pair| Some((pair[0].as_f64()?, pair[1].as_f64()?)))
        .collect();
    let max = pairs.iter().map(|&(_, ms)| ms).fold(1.0_f64, f64::max);
    pairs
        .into_iter()
        .map(|(percentile, ms)| Quantile {
            percentile,
            ms,
            width: (100.0 * (1.0 + ms).ln() / (1.0 + max).ln()).clamp(0.5, 100.0),
        })
        .collect()
}

/// The metrics compared between runs, and whether higher is better.
const COMPARED: [(&str, bool); 6] = [
    ("score", true),
    ("p50 ms", false),
    ("p95 ms", false),
    ("p99 ms", false),
    ("error rate", false),
    ("goodput", true),
];

fn measure(run: &Value, metric: &str) -> Option<f64> {
    let number = |pointer: &str| run.pointer(pointer).and_then(Value::as_f64);
    let ratio = |part: f64, whole: f64| (whole > 0.0).then(|| part / whole);
    let (succeeded, failed) = (number("/totals/succeeded")?, number("/totals/failed")?);
    match metric {
        "score" => number("/score/total"),
        "p50 ms" => number("/totals/corrected/p50_ms"),
        "p95 ms" => number("/totals/corrected/p95_ms"),
        "p99 ms" => number("/totals/corrected/p99_ms"),
        "error rate" => ratio(failed, failed + succeeded),
        "goodput" => ratio(succeeded, number("/totals/intended")?),
        _ => None,
    }
}

/// `data` against an earlier run, metric by metric.
pub fn compare(data: &Value, previous: &Value) -> Comparison {
    let show = |value: Option<f64>| match value {
        None => "-".to_owned(),
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.3}"),
    };
    let rows = COMPARED
        .iter()
        .map(|&(metric, higher_is_better)| {
            let (before, after) = (measure(previous, metric), measure(data, metric));
            let verdict = match (before, after) {
                // Within 2%: noise, not a change.
                (Some(b), Some(a)) if (a - b).abs() <= b.abs() * 0.02 => "same",
                (Some(b), Some(a)) if (a > b) == higher_is_better => "better",
                (Some(_), Some(_)) => "worse",
                _ => "same",
            };
            Delta {
                metric,
                before: show(before),
                after: show(after),
                verdict,
            }
        })
        .collect();
    let run_id = previous["run_id"].as_str().unwrap_or_default().to_owned();
    Comparison {
        href: format!("../{run_id}/report.html"),
        run_id,
        rows,
    }
}

/// Every run's data.json under `reports`, newest first.
pub fn runs(reports: &Path) -> Vec<Value> {
    let mut runs: Vec<Value> = std::fs::read_dir(reports)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|scenario| {
            std::fs::read_dir(scenario.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter_map(|run| std::fs::read(run.path().join("data.json")).ok())
        .filter_map(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .collect();
    runs.sort_by(|a, b| b["run_id"].as_str().cmp(&a["run_id"].as_str()));
    runs
}

/// One case of `runner demo`: its baseline run and its solution run.
#[derive(Debug)]
pub struct DemoPair {
    pub scenario: String,
    pub baseline: RunData,
    pub solution: RunData,
}

/// Where under `reports/` the demo's runs go: apart from participants' own
/// runs, so `reports/index.html` and `runner leaderboard` never count the
/// reference solutions' scores as anyone's work.
pub const DEMO_RUNS: &str = "demo";

/// Writes `reports/demo.html`: each pair side by side, with its scores,
/// checks and the first check's measure over time, linking to both full
/// reports.
pub fn write_demo(reports: &Path, pairs: &[DemoPair]) -> anyhow::Result<PathBuf> {
    let side = |label: &str, run: &RunData| -> anyhow::Result<Value> {
        let data = serde_json::to_value(run).context("cannot encode a demo run")?;
        let id = format!("{}-{}", run.scenario, label);
        // The chart of what the first check measures: a probe's field when
        // it names one (the bulkheads' fast jobs), else request latency.
        let first = run
            .score
            .checks
            .first()
            .map_or("", |check| check.label.as_str());
        let probed = run.probes.iter().find_map(|probe| {
            probe
                .series
                .iter()
                .find(|series| first.starts_with(&format!("{}.{} ", probe.name, series.field)))
                .map(|series| (probe, series))
        });
        let chart = match probed {
            Some((probe, series)) => line_chart(
                &id,
                &format!("Probe {}: {}", probe.name, series.field),
                "",
                &[Series {
                    name: series.field.clone(),
                    points: series.points.iter().map(|&(x, y)| (x, Some(y))).collect(),
                    previous: false,
                }],
            ),
            None => line_chart(
                &id,
                "Latency from the intended send time",
                "ms",
                &[
                    timeline(&data, "p95_ms", "p95", false),
                    timeline(&data, "p99_ms", "p99", false),
                ],
            ),
        };
        Ok(serde_json::json!({
            "label": label,
            "run": data,
            "href": format!("{DEMO_RUNS}/{}/{}/report.html", run.scenario, run.run_id),
            "chart": chart,
        }))
    };
    let pairs = pairs
        .iter()
        .map(|pair| {
            Ok(serde_json::json!({
                "scenario": pair.scenario,
                "case": pair.baseline.case,
                "description": pair.baseline.description,
                "sides": [side("baseline", &pair.baseline)?, side("solution", &pair.solution)?],
            }))
        })
        .collect::<anyhow::Result<Vec<Value>>>()?;
    std::fs::create_dir_all(reports)
        .with_context(|| format!("cannot create {}", reports.display()))?;
    let html = environment()?
        .get_template("demo.html.j2")?
        .render(minijinja::context! { pairs => pairs })?;
    let path = reports.join("demo.html");
    write_atomically(&path, html.as_bytes())?;
    Ok(path)
}

/// The run with id `run_id`, and its folder.
pub fn find_run(reports: &Path, run_id: &str) -> Option<(PathBuf, Value)> {
    let scenarios = std::fs::read_dir(reports).ok()?;
    scenarios.flatten().find_map(|scenario| {
        let folder = scenario.path().join(run_id);
        let bytes = std::fs::read(folder.join("data.json")).ok()?;
        Some((folder, serde_json::from_slice(&bytes).ok()?))
    })
}

/// The newest run of the same scenario before `data`.
pub fn previous_run(reports: &Path, data: &Value) -> Option<Value> {
    let id = data["run_id"].as_str()?;
    runs(reports).into_iter().find(|run| {
        run["scenario"] == data["scenario"]
            && run["run_id"].as_str().is_some_and(|other| other < id)
    })
}

/// Rewrites `reports/index.html` from every run's data.json. Runs finishing
/// together take turns through a lock file, so each index written
/// includes every run written before it; the file itself is replaced
/// atomically, so a browser never reads half of it.
pub fn write_index(reports: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(reports)
        .with_context(|| format!("cannot create {}", reports.display()))?;
    let lock_path = reports.join(".index.lock");
    let lock = File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    let env = environment()?;
    let html = env
        .get_template("index.html.j2")?
        .render(minijinja::context! { runs => runs(reports) })?;
    let path = reports.join("index.html");
    write_atomically(&path, html.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(field: &str, values: &[f64]) -> Value {
        let points: Vec<Value> = values
            .iter()
            .enumerate()
            .map(|(second, value)| serde_json::json!([second as f64, value]))
            .collect();
        serde_json::json!({ "probes": [{ "name": "deployment", "series": [
            { "field": field, "points": points },
            { "field": "status.cpu", "points": [[0.0, 1.0], [1.0, 9.0]] },
        ] }] })
    }

    #[test]
    fn the_first_rise_in_replicas_is_the_scale_up() {
        let found = scaling(&probe("status.readyReplicas", &[1.0, 1.0, 2.0, 3.0]));
        assert_eq!(found.len(), 1, "only replica counts: {found:?}");
        assert_eq!(found[0].rose, Some((2.0, 2.0)));
        assert_eq!(found[0].label().as_deref(), Some("scale-up: 1 → 2"));
    }

    #[test]
    fn replicas_that_never_rose_are_said_to_have_stayed() {
        let found = scaling(&probe("status.readyReplicas", &[1.0, 1.0, 1.0]));
        assert_eq!(found[0].rose, None);
        assert!(
            found[0].text.starts_with("stayed at 1"),
            "{}",
            found[0].text
        );
        assert_eq!(found[0].label(), None);
    }
}
