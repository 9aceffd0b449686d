//! What a run leaves behind: `reports/<scenario>/<run-id>/data.json` (its
//! shape is `runner/schemas/data.schema.json`), the terminal summary with
//! every check, and the one shareable `SCORE` line.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    time::SystemTime,
};

use anyhow::Context;
use serde::Serialize;

use crate::{
    load::collector::Totals,
    probe::ProbeRecord,
    score::{self, Score},
    workload::Edit,
};

/// The version of the data.json shape; bumped on incompatible changes.
pub const DATA_VERSION: u32 = 1;

/// Everything measured in one run: `data.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunData {
    pub version: u32,
    pub run_id: String,
    pub scenario: String,
    pub description: String,
    pub case: u8,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// The schedule was cut short (Ctrl-C); the figures cover what ran.
    pub interrupted: bool,
    pub settings: Settings,
    /// Workload values that differ from the scenario's `expect`; when any
    /// do, the run is flagged and its score does not count.
    pub workload_edits: Vec<Edit>,
    /// What the score measured, in 8 hex digits: the scenario as run and the
    /// lab's workload (see [`crate::fingerprint`]).
    pub fingerprint: String,
    pub totals: Totals,
    pub probes: Vec<ProbeRecord>,
    pub score: Score,
}

/// The scenario as it was run, after overrides.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub url: String,
    pub method: String,
    pub body: Option<serde_json::Value>,
    pub rate: f64,
    pub duration_s: f64,
    pub ramp_s: Option<f64>,
    pub request_cap_s: f64,
    pub workers: usize,
}

/// A run id that sorts by time: `20261129T115730Z-3f9a`.
pub fn run_id(now: SystemTime) -> String {
    let stamp: String = humantime::format_rfc3339_seconds(now)
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let nanos = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{stamp}-{:04x}", (nanos ^ std::process::id()) & 0xffff)
}

/// Writes `data.json` into `reports/<scenario>/<run-id>/`, atomically (a
/// temporary file renamed into place), and returns the folder.
pub fn write(reports: &Path, data: &RunData) -> anyhow::Result<PathBuf> {
    let folder = reports.join(&data.scenario).join(&data.run_id);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create the report folder {}", folder.display()))?;
    let json = serde_json::to_vec_pretty(data).context("cannot encode data.json")?;
    write_atomically(&folder.join("data.json"), &json)?;
    Ok(folder)
}

pub fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&temporary, contents)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot move {} into place", path.display()))
}

/// Every check with ✓ or ✗, its value and what it earned.
pub fn checks(score: &Score) -> String {
    let width = score
        .checks
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for check in &score.checks {
        let mark = if check.met { '✓' } else { '✗' };
        let value = check.value.map_or_else(|| "no data".to_owned(), number);
        let direction = score::direction(check.target, check.zero);
        let _ = writeln!(
            out,
            "  {mark} {:<width$}  {value:>10}  target {direction} {:<8}  {:>5.1}/{}",
            check.label,
            number(check.target),
            check.earned,
            number(check.weight),
        );
    }
    out
}

/// The one shareable line:
/// `SCORE <scenario> <n>/100 | p95=… err=… sent=<sent>/<intended> fp=<fingerprint> run=<id>`.
pub fn score_line(data: &RunData) -> String {
    let totals = &data.totals;
    let p95 = totals
        .corrected
        .p95_ms
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0}ms"));
    let finished = totals.succeeded + totals.failed;
    let errors = if finished == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", 100.0 * totals.failed as f64 / finished as f64)
    };
    let interrupted = if data.interrupted { " interrupted" } else { "" };
    let flagged = if data.workload_edits.is_empty() {
        String::new()
    } else {
        let keys: Vec<&str> = data
            .workload_edits
            .iter()
            .map(|edit| edit.key.as_str())
            .collect();
        format!(" FLAGGED=workload-edited:{}", keys.join(","))
    };
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

/// `--json`: the run in one line, for scripts and CI.
pub fn json_summary(data: &RunData, folder: &Path, report: &Path) -> String {
    serde_json::json!({
        "scenario": data.scenario,
        "run_id": data.run_id,
        "score": data.score.total,
        "interrupted": data.interrupted,
        "workload_edits": data.workload_edits,
        "fingerprint": data.fingerprint,
        "checks": data.score.checks,
        "intended": data.totals.intended,
        "sent": data.totals.sent,
        "succeeded": data.totals.succeeded,
        "failed": data.totals.failed,
        "p95_ms": data.totals.corrected.p95_ms,
        "data": folder.join("data.json"),
        "report": report,
    })
    .to_string()
}

/// A value with as many decimals as it needs.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e12 {
        format!("{value:.0}")
    } else if value.abs() >= 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(300.0), "300");
        assert_eq!(number(212.345), "212.3");
        assert_eq!(number(0.99), "0.99");
        assert_eq!(number(0.12345), "0.123");
    }

    #[test]
    fn run_ids_sort_by_time() {
        let earlier = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let later = earlier + std::time::Duration::from_secs(1);
        assert!(run_id(earlier) < run_id(later));
        assert!(
            run_id(earlier).starts_with("20270115T"),
            "{}",
            run_id(earlier)
        );
    }
}
