//! What a run prints: every check with ✓ or ✗, the one shareable `SCORE`
//! line, and the `--json` summary ([`Summary`], whose schema is
//! `runner/schemas/summary.schema.json`). What it writes is in
//! [`crate::data`] and [`crate::report`].

use std::{fmt::Write as _, path::PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    data::RunData,
    format::number,
    load::collector::Totals,
    score::{self, CheckResult, Score},
    shipped::LabEdit,
    workload::Edit,
};

/// Every check with ✓ or ✗: what it measures in words, its value and
/// target as a person reads them (`212 ms`, `49.7%`), what it earned, and
/// its key (`p95_ms (last 1m)`), as the scenario and LEADERBOARD.md name it.
pub fn checks(score: &Score) -> String {
    let width = |text: fn(&CheckResult) -> &str| {
        score
            .checks
            .iter()
            .map(|check| text(check).chars().count())
            .max()
            .unwrap_or(0)
    };
    let title_width = width(|check| check.title.as_str());
    let mut out = String::new();
    for check in &score.checks {
        let mark = if check.met { '✓' } else { '✗' };
        let unit = check.unit;
        let value = check
            .value
            .map_or_else(|| "no data".to_owned(), |value| unit.show(value));
        let direction = score::direction(check.target, check.zero);
        let earned = if check.gate {
            format!("gate ×{:.2}", check.earned)
        } else {
            format!("{:>5.1}/{}", check.earned, number(check.weight))
        };
        let title = if check.title.is_empty() {
            &check.label
        } else {
            &check.title
        };
        let _ = writeln!(
            out,
            "  {mark} {title:<title_width$}  {value:>9}  target {direction} {:<9}  {earned:<10}  {}",
            unit.show(check.target),
            check.label,
        );
        if let Some(lesson) = check.lesson.as_deref().filter(|_| !check.met) {
            let _ = writeln!(out, "      → {lesson}");
        }
    }
    out
}

/// The one shareable line:
/// `SCORE <scenario> <n>/100 | p95=… err=… sent=<sent>/<intended> fp=<fingerprint> run=<id>`.
pub fn score_line(data: &RunData) -> String {
    let totals = &data.totals;
    let (p95, errors) = p95_and_errors(totals);
    let interrupted = if data.interrupted { " interrupted" } else { "" };
    let mut flagged = String::new();
    if !data.workload_edits.is_empty() {
        flagged += &format!(" FLAGGED=workload-edited:{}", data.edited_keys(","));
    }
    if !data.lab_edits.is_empty() {
        flagged += &format!(" FLAGGED=lab-edited:{}", data.edited_files(","));
    }
    format!(
        "SCORE {} {}/100 | p95={p95} err={errors} sent={}/{} fp={} run={}{interrupted}{flagged}",
        data.scenario,
        data.score.total,
        totals.sent,
        totals.intended,
        data.fingerprint,
        data.run_id
    )
}

/// The SCORE line's `p95=` and `err=` values: `212ms` and `1.5%`, or `-`.
pub fn p95_and_errors(totals: &Totals) -> (String, String) {
    let p95 = totals
        .corrected
        .p95_ms
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0}ms"));
    let errors = totals
        .error_rate()
        .map_or_else(|| "-".to_owned(), |rate| format!("{:.1}%", 100.0 * rate));
    (p95, errors)
}

/// `--json`: the run in one line on stdout, for scripts and CI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Resilience Lab run summary (`runner run --json`)")]
pub struct Summary {
    pub scenario: String,
    pub run_id: String,
    /// 0 to 100.
    pub score: u32,
    pub interrupted: bool,
    /// Any entry flags the run: its score does not count.
    pub workload_edits: Vec<Edit>,
    /// Lab files not as shipped; any entry flags the run too.
    pub lab_edits: Vec<LabEdit>,
    pub fingerprint: String,
    pub checks: Vec<CheckResult>,
    pub intended: u64,
    pub sent: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Corrected p95 latency of the whole run; null when nothing finished.
    pub p95_ms: Option<f64>,
    /// The run's data.json.
    pub data: PathBuf,
    /// The run's report.html.
    pub report: PathBuf,
}

impl Summary {
    pub fn new(data: &RunData, report: PathBuf) -> Self {
        Self {
            scenario: data.scenario.clone(),
            run_id: data.run_id.clone(),
            score: data.score.total,
            interrupted: data.interrupted,
            workload_edits: data.workload_edits.clone(),
            lab_edits: data.lab_edits.clone(),
            fingerprint: data.fingerprint.clone(),
            checks: data.score.checks.clone(),
            intended: data.totals.intended,
            sent: data.totals.sent,
            succeeded: data.totals.succeeded,
            failed: data.totals.failed,
            p95_ms: data.totals.corrected.p95_ms,
            data: report.with_file_name("data.json"),
            report,
        }
    }

    /// The JSON schema of the summary, as `runner/schemas/summary.schema.json` ships it.
    pub fn schema() -> schemars::Schema {
        let mut schema = schemars::schema_for!(Summary);
        schema.insert("$id".into(), "resilience-lab/summary.schema.json".into());
        schema
    }
}
