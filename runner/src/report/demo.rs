//! `reports/demo.html`: every local case of `runner demo`, its baseline
//! and its solution side by side.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::{
    chart::{Chart, Series, highest, line_chart_reaching},
    environment, probe_series, timeline,
};
use crate::{data::RunData, data::write_atomically, scenario::Measure};

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

/// One side of a pair, as the template shows it.
#[derive(Debug, Serialize)]
struct Side<'a> {
    label: &'static str,
    run: &'a RunData,
    href: String,
    chart: Chart,
}

#[derive(Debug, Serialize)]
struct Pair<'a> {
    scenario: &'a str,
    case: u8,
    description: &'a str,
    sides: [Side<'a>; 2],
}

/// Writes `reports/demo.html`: each pair side by side, with its scores,
/// checks and the first check's measure over time, linking to both full
/// reports.
pub fn write_demo(reports: &Path, pairs: &[DemoPair]) -> anyhow::Result<PathBuf> {
    let pairs: Vec<Pair<'_>> = pairs
        .iter()
        .map(|pair| Pair {
            scenario: &pair.scenario,
            case: pair.baseline.case,
            description: &pair.baseline.description,
            sides: sides(pair),
        })
        .collect();
    std::fs::create_dir_all(reports)
        .with_context(|| format!("cannot create {}", reports.display()))?;
    let html = environment()?
        .get_template("demo.html.j2")?
        .render(minijinja::context! { pairs => pairs })?;
    let path = reports.join("demo.html");
    write_atomically(&path, html.as_bytes())?;
    Ok(path)
}

/// Both sides of a pair, their charts on one y-scale: side by side, a
/// baseline at 12 s and a solution at 50 ms must not look alike.
fn sides<'a>(pair: &'a DemoPair) -> [Side<'a>; 2] {
    let measured = [("baseline", &pair.baseline), ("solution", &pair.solution)]
        .map(|(label, run)| (label, run, first_measure(run)));
    let reach = measured
        .iter()
        .map(|(_, _, measure)| highest(&measure.series))
        .fold(0.0, f64::max);
    measured.map(|(label, run, measure)| Side {
        label,
        run,
        href: format!("{DEMO_RUNS}/{}/{}/report.html", run.scenario, run.run_id),
        chart: line_chart_reaching(
            &format!("{}-{label}", run.scenario),
            &format!("{} (one scale for both sides)", measure.title),
            measure.unit,
            &measure.series,
            reach,
        ),
    })
}

/// What a demo chart draws.
struct Measured {
    title: String,
    unit: &'static str,
    series: Vec<Series>,
}

/// What the run's first check measures: a probe's field when it reads one
/// (the bulkheads' fast jobs), else request latency.
fn first_measure(run: &RunData) -> Measured {
    let probed = run
        .score
        .checks
        .first()
        .and_then(|check| match &check.measure {
            Measure::Probe { probe, field, .. } => run
                .probes
                .iter()
                .find(|record| &record.name == probe)
                .and_then(|record| Some((record, record.series(field)?))),
            Measure::Request(_) => None,
        });
    match probed {
        Some((probe, series)) => Measured {
            title: format!("Probe {}: {}", probe.name, series.field),
            unit: "",
            series: vec![probe_series(series)],
        },
        None => Measured {
            title: "Latency from the intended send time".to_owned(),
            unit: "ms",
            series: vec![
                timeline(run, |s| s.p95_ms, "p95", false),
                timeline(run, |s| s.p99_ms, "p99", false),
            ],
        },
    }
}
