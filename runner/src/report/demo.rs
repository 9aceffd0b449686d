//! `reports/demo.html`: every local case of `runner demo`, its baseline
//! and its solution side by side.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::{
    chart::{Chart, Frame, Series, highest, line_chart},
    environment, key_measure, probe_series, span, timeline,
};
use crate::{data::RunData, data::write_atomically, scenario::Measure, unit::Unit};

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
/// checks and the key check's measure over time, linking to both full
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
        .map(|(label, run)| (label, run, measured(run)));
    let reach = measured
        .iter()
        .map(|(_, _, measure)| highest(&measure.series))
        .fold(0.0, f64::max);
    measured.map(|(label, run, measure)| Side {
        label,
        run,
        href: format!("{DEMO_RUNS}/{}/{}/report.html", run.scenario, run.run_id),
        chart: line_chart(
            Frame {
                id: format!("{}-{label}", run.scenario),
                title: format!("{} (one scale for both sides)", measure.title),
                unit: measure.unit,
                x_end: span(run),
                y_reach: reach,
            },
            &measure.series,
        ),
    })
}

/// What a demo chart draws.
struct Measured {
    title: String,
    unit: Unit,
    series: Vec<Series>,
}

/// What the run's key check measures: a probe's field when it reads one
/// (the bulkheads' fast jobs), else request latency.
fn measured(run: &RunData) -> Measured {
    let probed = key_measure(run).and_then(|measure| match measure {
        Measure::Probe { probe, field, .. } => run
            .probes
            .iter()
            .find(|record| &record.name == probe)
            .and_then(|record| Some((record, record.series(field)?))),
        Measure::Request(_) => None,
    });
    match probed {
        Some((probe, series)) => {
            let series = probe_series(series);
            Measured {
                title: format!("Probe {}: {}", probe.name, series.name),
                unit: series.unit,
                series: vec![series],
            }
        }
        None => Measured {
            title: "Latency from the intended send time".to_owned(),
            unit: Unit::Ms,
            series: vec![
                timeline(run, |s| s.p95_ms, "p95", Unit::Ms),
                timeline(run, |s| s.p99_ms, "p99", Unit::Ms),
            ],
        },
    }
}
