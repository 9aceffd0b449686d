//! The HTML reports: `report.html` for one run (with a comparison to the
//! previous run of the same scenario) and `reports/index.html` for all runs.
//!
//! Each is one self-contained file: styles inline, charts as inline SVG
//! computed in [`chart`], no script, no font, no request of any kind, so a
//! report opens offline in a workshop room and looks the same in a year.
//! Templates are files in `runner/templates/`, compiled into the binary,
//! with HTML auto-escaping on for everything they print.

pub mod chart;
pub mod compare;
pub mod demo;

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::{
    data::{self, RunData, Runs, write_atomically},
    kube_fields,
    load::collector::{AnswerCounts, SecondSummary, Totals},
    probe::ProbeRecord,
    scenario::{Answers, Measure, RequestMetric},
    unit::Unit,
};
use chart::{Chart, Frame, PALETTE, Series, line_chart};
pub use compare::{Comparison, compare};
pub use demo::{DEMO_RUNS, DemoPair, write_demo};

pub(crate) fn environment() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_global("pass_mark", crate::score::PASS_MARK);
    // A check's number as a person reads it: `{{ check.value|human(check.unit) }}`.
    env.add_filter(
        "human",
        |value: f64, unit: minijinja::value::ViaDeserialize<crate::format::Unit>| {
            unit.0.show(value)
        },
    );
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
    env.add_template(
        "board.html.j2",
        include_str!("../../templates/board.html.j2"),
    )?;
    Ok(env)
}

#[derive(Debug, Serialize)]
struct Share {
    name: String,
    count: u64,
    percent: f64,
}

/// Where a run's files went.
#[derive(Debug)]
pub struct Written {
    pub folder: PathBuf,
    pub report: PathBuf,
    pub index: PathBuf,
}

/// A run's report, in its folder.
pub const REPORT_FILE: &str = "report.html";

/// Writes a run's data.json and report.html (compared with the newest
/// earlier run of its scenario), then the runs index. Every run's data.json
/// is read once, under the reports lock (a blocking call).
pub fn write_run(reports: &Path, data: &RunData) -> anyhow::Result<Written> {
    let folder = data::write(reports, data)?;
    let _lock = data::lock_reports(reports)?;
    let runs = Runs::read(reports);
    let html = render_report(data, runs.previous(data))?;
    let report = folder.join(REPORT_FILE);
    write_atomically(&report, html.as_bytes())?;
    let index = write_index(reports, &runs)?;
    Ok(Written {
        folder,
        report,
        index,
    })
}

/// The report's HTML. `previous` is the run to compare with, if any.
pub fn render_report(data: &RunData, previous: Option<&RunData>) -> anyhow::Result<String> {
    let env = environment()?;
    let template = env.get_template("report.html.j2")?;
    let scaling = scaling(&data.probes);
    let html = template.render(minijinja::context! {
        run => data,
        charts => charts(data, previous, &scaling),
        scaling => scaling,
        outcomes => outcomes(&data.totals),
        classes => data.totals.answers.map(|counts| classes(counts, data.settings.answers.as_ref())),
        distribution => distribution(&data.totals),
        comparison => previous.map(|previous| compare(data, previous)),
    })?;
    Ok(html)
}

/// A per-second series of the timeline.
fn timeline(
    data: &RunData,
    field: fn(&SecondSummary) -> Option<f64>,
    name: &str,
    unit: Unit,
) -> Series {
    Series {
        name: name.to_owned(),
        unit,
        points: data
            .totals
            .seconds
            .iter()
            .map(|second| (second.second as f64, field(second)))
            .collect(),
        previous: false,
    }
}

/// A count of the timeline as a chart value.
fn count(value: u64) -> Option<f64> {
    Some(value as f64)
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
fn scaling(probes: &[ProbeRecord]) -> Vec<Replicas> {
    let mut found = Vec::new();
    for probe in probes {
        for series in &probe.series {
            if !kube_fields::counts_replicas(&series.field) {
                continue;
            }
            let mut points = series.points.iter().copied();
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
                probe: probe.name.clone(),
                field: series.field.clone(),
                from,
                rose,
                stuck,
                text,
            });
        }
    }
    found
}

/// The run's time span in seconds, shared by every chart's x axis: from
/// the first request's intended send time to the end of the last second
/// the timeline or a probe recorded.
fn span(data: &RunData) -> f64 {
    let probed = data
        .probes
        .iter()
        .flat_map(|probe| &probe.series)
        .filter_map(|series| series.points.last())
        .map(|&(second, _)| second)
        .fold(0.0_f64, f64::max);
    (data.totals.seconds.len() as f64).max(probed).ceil()
}

/// Every chart of the run, the case's key chart first: the one its key
/// check reads (see [`key_measure`]).
fn charts(data: &RunData, previous: Option<&RunData>, scaling: &[Replicas]) -> Vec<Chart> {
    let span = span(data);
    let mut charts = request_charts(data, previous, span);
    // The latency chart shows when new pods began to serve: the first rise
    // in ready replicas, or else the first rise of any replica count.
    let serving = scaling
        .iter()
        .filter(|replicas| replicas.rose.is_some())
        .min_by_key(|replicas| replicas.field != kube_fields::READY_REPLICAS);
    if let (Some((second, label)), Some(latency)) = (
        serving.and_then(Replicas::marker),
        charts.iter_mut().find(|chart| chart.id == "latency"),
    ) {
        latency.mark(second, &label);
    }
    for probe in &data.probes {
        charts.extend(probe_charts(probe, span, scaling));
    }
    if let Some(key) = key_measure(data)
        && let Some(at) = charts.iter().position(|chart| shows(chart, key))
    {
        let key = charts.remove(at);
        charts.insert(0, key);
    }
    charts
}

/// The measure of the check the report opens with: the one the scenario
/// marks `key_chart`, else the first.
pub(crate) fn key_measure(data: &RunData) -> Option<&Measure> {
    let checks = &data.score.checks;
    let key = checks.iter().find(|check| check.key_chart);
    key.or(checks.first()).map(|check| &check.measure)
}

/// Whether `chart` draws what `measure` measures.
fn shows(chart: &Chart, measure: &Measure) -> bool {
    match measure {
        Measure::Request(metric) => chart.id == request_chart(*metric),
        Measure::Probe { probe, field, .. } => {
            chart.id.starts_with(&format!("probe-{probe}-"))
                && chart.lines.iter().any(|line| &line.name == field)
        }
    }
}

/// The request chart that draws `metric`.
fn request_chart(metric: RequestMetric) -> &'static str {
    match metric {
        RequestMetric::P50Ms
        | RequestMetric::P95Ms
        | RequestMetric::P99Ms
        | RequestMetric::MaxMs => "latency",
        RequestMetric::DegradedRate | RequestMetric::FullGoodput => "answers",
        RequestMetric::ErrorRate | RequestMetric::Goodput | RequestMetric::NotSent => "rate",
    }
}

/// A probe's fields, one chart per unit (a field of unknown unit on its
/// own), none with more lines than the palette has colours; a rise in
/// replicas is marked where it happened.
fn probe_charts(probe: &ProbeRecord, span: f64, scaling: &[Replicas]) -> Vec<Chart> {
    let groups = by_unit(probe.series.iter().map(probe_series));
    groups
        .into_iter()
        .enumerate()
        .map(|(index, (unit, series))| {
            let subject = match unit {
                Unit::Count => series[0].name.as_str(),
                _ => unit.subject(),
            };
            let frame = Frame {
                id: format!("probe-{}-{}-{}", probe.name, index + 1, unit.id()),
                title: format!("Probe {}: {subject} ({})", probe.name, probe.url),
                unit,
                x_end: span,
                y_reach: 0.0,
            };
            let mut chart = line_chart(frame, &series);
            for replicas in scaling.iter().filter(|r| r.probe == probe.name) {
                if let Some((second, label)) = replicas.marker() {
                    chart.mark(second, &label);
                }
            }
            chart
        })
        .collect()
}

/// Series grouped by unit in order of first appearance; a series of
/// unknown unit ([`Unit::Count`]) alone, and no group longer than the
/// palette.
fn by_unit(series: impl Iterator<Item = Series>) -> Vec<(Unit, Vec<Series>)> {
    let mut groups: Vec<(Unit, Vec<Series>)> = Vec::new();
    for one in series {
        let open = groups.iter_mut().find(|(unit, members)| {
            *unit == one.unit && one.unit != Unit::Count && members.len() < PALETTE.len()
        });
        match open {
            Some((_, members)) => members.push(one),
            None => groups.push((one.unit, vec![one])),
        }
    }
    groups
}

/// Rate, answers, latency (with the previous run's p95) and in-flight, by
/// second, on the run's span.
fn request_charts(data: &RunData, previous: Option<&RunData>, span: f64) -> Vec<Chart> {
    let frame = |id: &str, title: &str, unit| Frame {
        id: id.to_owned(),
        title: title.to_owned(),
        unit,
        x_end: span,
        y_reach: 0.0,
    };
    let per_second = Unit::RequestsPerSecond;
    let rate = [
        timeline(data, |s| count(s.intended), "intended", per_second),
        timeline(data, |s| count(s.sent), "sent", per_second),
        timeline(data, |s| count(s.succeeded), "succeeded", per_second),
        timeline(data, |s| count(s.failed), "failed", per_second),
    ];
    let in_flight = timeline(
        data,
        |s| count(s.in_flight_max),
        "in flight",
        Unit::Requests,
    );
    let mut charts = vec![
        line_chart(
            frame(
                "rate",
                "Requests per second: intended, sent, succeeded, failed",
                per_second,
            ),
            &rate,
        ),
        line_chart(
            frame(
                "latency",
                "Latency from the intended send time (p50, p95, p99 by second intended)",
                Unit::Ms,
            ),
            &latency_series(data, previous),
        ),
        line_chart(
            frame(
                "in-flight",
                "Requests in flight (most in each second)",
                Unit::Requests,
            ),
            &[in_flight],
        ),
    ];
    if let Some(answers) = answer_series(data) {
        let title = "Answers per second: full, degraded (and late, when users stop waiting)";
        charts.insert(1, line_chart(frame("answers", title, per_second), &answers));
    }
    charts
}

/// p50, p95 and p99 by second intended, and the previous run's p95.
fn latency_series(data: &RunData, previous: Option<&RunData>) -> Vec<Series> {
    let mut latency = vec![
        timeline(data, |s| s.p50_ms, "p50", Unit::Ms),
        timeline(data, |s| s.p95_ms, "p95", Unit::Ms),
        timeline(data, |s| s.p99_ms, "p99", Unit::Ms),
    ];
    if let Some(previous) = previous {
        let mut p95 = timeline(previous, |s| s.p95_ms, "p95, previous run", Unit::Ms);
        p95.previous = true;
        latency.push(p95);
    }
    latency
}

/// Full, degraded and (when the scenario says how long users wait) late
/// answers by second; `None` when the scenario reads no answers.
fn answer_series(data: &RunData) -> Option<Vec<Series>> {
    data.totals.answers?;
    let per_second = Unit::RequestsPerSecond;
    let mut answers = vec![
        timeline(data, |s| count(s.answers?.full), "full answers", per_second),
        timeline(
            data,
            |s| count(s.answers?.degraded),
            "degraded answers",
            per_second,
        ),
    ];
    if (data.settings.answers.as_ref()).is_some_and(|reading| reading.within.is_some()) {
        answers.push(timeline(
            data,
            |s| count(s.answers?.late),
            "late answers",
            per_second,
        ));
    }
    Some(answers)
}

/// A probe's series as a chart line, in its field's unit.
fn probe_series(series: &crate::probe::Series) -> Series {
    Series {
        name: series.field.clone(),
        unit: Unit::of_field(&series.field).unwrap_or(Unit::Count),
        points: series.points.iter().map(|&(x, y)| (x, Some(y))).collect(),
        previous: false,
    }
}

/// Full, late (when the scenario says how long users wait), degraded and
/// unreadable answers, each as a share of the successes.
fn classes(counts: AnswerCounts, reading: Option<&Answers>) -> Vec<Share> {
    let mut rows = vec![("full".to_owned(), counts.full)];
    if let Some(within) = reading.and_then(|reading| reading.within) {
        let late = format!("late (full, after {})", humantime::format_duration(within));
        rows.push((late, counts.late));
    }
    rows.push(("degraded".to_owned(), counts.degraded));
    rows.push(("unreadable".to_owned(), counts.unreadable));
    shares(rows)
}

/// Status codes and client-side errors, each as a share of all answers.
fn outcomes(totals: &Totals) -> Vec<Share> {
    let rows: Vec<(String, u64)> = totals
        .statuses
        .iter()
        .map(|(status, count)| (format!("HTTP {status}"), *count))
        .chain(
            totals
                .errors
                .iter()
                .map(|(kind, count)| (kind.as_str().to_owned(), *count)),
        )
        .collect();
    shares(rows)
}

/// Each count with its share of their sum.
fn shares(rows: Vec<(String, u64)>) -> Vec<Share> {
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

fn distribution(totals: &Totals) -> Vec<Quantile> {
    let max = totals
        .distribution
        .iter()
        .map(|&(_, ms)| ms)
        .fold(1.0_f64, f64::max);
    totals
        .distribution
        .iter()
        .map(|&(percentile, ms)| Quantile {
            percentile,
            ms,
            width: (100.0 * (1.0 + ms).ln() / (1.0 + max).ln()).clamp(0.5, 100.0),
        })
        .collect()
}

/// Rewrites `reports/index.html` from `runs`. The caller holds the
/// reports lock ([`data::lock_reports`]), so each index written includes
/// every run written before it; the file itself is replaced atomically, so
/// a browser never reads half of it.
pub fn write_index(reports: &Path, runs: &Runs) -> anyhow::Result<PathBuf> {
    let html = environment()?
        .get_template("index.html.j2")?
        .render(minijinja::context! { runs => runs.list, unreadable => runs.unreadable })?;
    let path = reports.join("index.html");
    write_atomically(&path, html.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(field: &str, values: &[f64]) -> Vec<ProbeRecord> {
        let series = |field: &str, points: Vec<(f64, f64)>| crate::probe::Series {
            probe: "deployment".into(),
            field: field.into(),
            points,
        };
        let points = values
            .iter()
            .enumerate()
            .map(|(second, value)| (second as f64, *value))
            .collect();
        vec![ProbeRecord {
            name: "deployment".into(),
            url: String::new(),
            polls: 4,
            failed_polls: 0,
            series: vec![
                series(field, points),
                series("status.cpu", vec![(0.0, 1.0), (1.0, 9.0)]),
            ],
        }]
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
