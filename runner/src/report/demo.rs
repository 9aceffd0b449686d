//! `reports/demo.html`: every local case of `runner demo`, its baseline
//! and its solution side by side.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::{
    chart::{Chart, line_chart},
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
            sides: [
                side("baseline", &pair.baseline),
                side("solution", &pair.solution),
            ],
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

fn side<'a>(label: &'static str, run: &'a RunData) -> Side<'a> {
    Side {
        label,
        run,
        href: format!("{DEMO_RUNS}/{}/{}/report.html", run.scenario, run.run_id),
        chart: first_measure(&format!("{}-{label}", run.scenario), run),
    }
}

/// The chart of what the run's first check measures: a probe's field when
/// it reads one (the bulkheads' fast jobs), else request latency.
fn first_measure(id: &str, run: &RunData) -> Chart {
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
        Some((probe, series)) => line_chart(
            id,
            &format!("Probe {}: {}", probe.name, series.field),
            "",
            &[probe_series(series)],
        ),
        None => line_chart(
            id,
            "Latency from the intended send time",
            "ms",
            &[
                timeline(run, |s| s.p95_ms, "p95", false),
                timeline(run, |s| s.p99_ms, "p99", false),
            ],
        ),
    }
}
