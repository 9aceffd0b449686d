//! `reports/<scenario>/<run-id>/data.json`: everything one run measured,
//! as one Rust type, [`RunData`]. The runner writes it after a run, and the
//! report, the runs index, `runner compare`, the leaderboard and the demo
//! page read it back into the same type, so a field renamed in one place
//! fails to compile elsewhere instead of reading as 0.
//!
//! Its JSON schema, `runner/schemas/data.schema.json`, is generated from
//! these types (`runner schema data`), and a test keeps the shipped file
//! equal to what the types generate.

use std::{
    fs::File,
    path::{Path, PathBuf},
    time::SystemTime,
};

use anyhow::Context;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    load::collector::Totals,
    probe::ProbeRecord,
    scenario::{Answers, Method},
    score::Score,
    shipped::LabEdit,
    workload::Edit,
};

/// The version of the data.json shape; bumped on incompatible changes.
/// Version 2 added what each check measures (`score.checks[].measure`).
pub const DATA_VERSION: u32 = 2;

/// Everything measured in one run: `data.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Resilience Lab run data (reports/<scenario>/<run-id>/data.json)",
    description = "Everything the runner measured in one run. Latencies are in milliseconds; \
                   `corrected` latency runs from a request's intended send time to the end of \
                   its body, `service` latency from the actual send. Times in series are seconds \
                   from the first request."
)]
pub struct RunData {
    /// Shape version; bumped on incompatible changes.
    #[schemars(range(min = 2, max = 2))]
    pub version: u32,
    #[schemars(regex(pattern = r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$"))]
    pub run_id: String,
    #[schemars(length(min = 1))]
    pub scenario: String,
    pub description: String,
    /// The scenario's case number, from 1 (one per scenario in
    /// scenarios.toml).
    #[schemars(range(min = 1))]
    pub case: u8,
    /// When the run started: RFC 3339, UTC.
    pub started_at: String,
    /// The schedule was cut short (Ctrl-C); the figures cover what ran.
    pub interrupted: bool,
    pub settings: Settings,
    /// Workload values at the service's /debug/workload that differ from
    /// the scenario's `expect`. Any entry flags the run: its score does not
    /// count.
    pub workload_edits: Vec<Edit>,
    /// Lab files outside the scenario's `files` that are not as shipped
    /// (local runs; see `runner/src/shipped.rs`). Any entry flags the run:
    /// its score does not count.
    #[serde(default)]
    pub lab_edits: Vec<LabEdit>,
    /// What the score measured, in 8 hex digits: a hash of the scenario as
    /// run (request, load, probes, checks) and the lab's workload values
    /// (see `runner/src/fingerprint.rs`). `runner leaderboard` ranks only
    /// runs whose fingerprint is the one scenarios.toml gives today.
    #[schemars(regex(pattern = r"^[0-9a-f]{8}$"))]
    pub fingerprint: String,
    pub totals: Totals,
    pub probes: Vec<ProbeRecord>,
    pub score: Score,
}

impl RunData {
    /// The run's folder under `reports`.
    pub fn folder(&self, reports: &Path) -> PathBuf {
        reports.join(&self.scenario).join(&self.run_id)
    }

    /// The lab's workload, or a lab file that measures the run, was
    /// edited: the run is measured, but its score does not count.
    pub fn flagged(&self) -> bool {
        !self.workload_edits.is_empty() || !self.lab_edits.is_empty()
    }

    /// The lab files that were edited, joined with `sep`.
    pub fn edited_files(&self, sep: &str) -> String {
        let files: Vec<&str> = self.lab_edits.iter().map(|e| e.file.as_str()).collect();
        files.join(sep)
    }

    /// The workload keys that were edited, joined with `sep`.
    pub fn edited_keys(&self, sep: &str) -> String {
        let keys: Vec<&str> = self.workload_edits.iter().map(|e| e.key.as_str()).collect();
        keys.join(sep)
    }
}

/// The scenario as it was run, after overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub url: String,
    pub method: Method,
    /// The JSON body sent with each request, or null.
    pub body: Option<serde_json::Value>,
    /// Requests released per second.
    pub rate: f64,
    pub duration_s: f64,
    /// The climb from 0 to `rate`, if any.
    pub ramp_s: Option<f64>,
    /// The client's limit on one request.
    pub request_cap_s: f64,
    /// How many load workers (goose users) sent requests.
    pub workers: usize,
    /// How answers were read (full or degraded), if the scenario reads them.
    pub answers: Option<Answers>,
    /// The api's replicas when the run started (case 4: the HPA's minimum,
    /// checked before the run); null when the run reads no cluster.
    #[serde(default)]
    pub start_replicas: Option<u32>,
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

/// Writes `data.json` into `reports/<scenario>/<run-id>/`, atomically, and
/// returns the folder.
pub fn write(reports: &Path, data: &RunData) -> anyhow::Result<PathBuf> {
    let folder = data.folder(reports);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create the report folder {}", folder.display()))?;
    let json = serde_json::to_vec_pretty(data).context("cannot encode data.json")?;
    write_atomically(&folder.join("data.json"), &json)?;
    Ok(folder)
}

/// Writes `contents` to a temporary file and renames it into place, so a
/// reader never sees half of it.
pub fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&temporary, contents)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot move {} into place", path.display()))
}

/// Reads a run's data.json. An older, newer or foreign file is an error
/// that names the file and the field, never a run of zeros.
pub fn read(path: &Path) -> anyhow::Result<RunData> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&bytes).with_context(|| format!("{} is not a run this runner can read", path.display()))
}

/// Just the version, read before the rest: a file of another version is
/// explained as such, not as its first unexpected field.
#[derive(Deserialize)]
struct Version {
    version: Option<u32>,
}

fn parse(bytes: &[u8]) -> anyhow::Result<RunData> {
    let Version { version } = serde_json::from_slice(bytes).context("it is not a JSON object")?;
    match version {
        None => anyhow::bail!("it has no `version` field, so no runner wrote it"),
        Some(DATA_VERSION) => {}
        Some(other) => anyhow::bail!(
            "it has data version {other} and this runner reads version {DATA_VERSION}; \
             rerun the scenario to measure it again with this runner"
        ),
    }
    let mut json = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut json)
        .map_err(|error| anyhow::anyhow!("field `{}`: {}", error.path(), error.inner()))
}

/// Every run under a reports folder, read once.
#[derive(Debug, Default)]
pub struct Runs {
    /// Newest first.
    pub list: Vec<RunData>,
    /// A data.json that could not be read, with why: listed, not dropped.
    pub unreadable: Vec<String>,
}

impl Runs {
    /// Reads `reports/<scenario>/<run-id>/data.json` for every run.
    pub fn read(reports: &Path) -> Self {
        let files = std::fs::read_dir(reports)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|scenario| std::fs::read_dir(scenario.path()).into_iter().flatten())
            .flatten()
            .map(|run| run.path().join("data.json"))
            .filter(|file| file.is_file());
        let mut runs = Self::default();
        for file in files {
            match read(&file) {
                Ok(data) => runs.list.push(data),
                Err(error) => runs.unreadable.push(format!("{error:#}")),
            }
        }
        runs.list.sort_by(|a, b| b.run_id.cmp(&a.run_id));
        runs.unreadable.sort();
        runs
    }

    /// The run with id `run_id`.
    pub fn find(&self, run_id: &str) -> Option<&RunData> {
        self.list.iter().find(|run| run.run_id == run_id)
    }

    /// The newest run of the same scenario before `data`.
    pub fn previous(&self, data: &RunData) -> Option<&RunData> {
        self.list
            .iter()
            .find(|run| run.scenario == data.scenario && run.run_id < data.run_id)
    }
}

/// Takes `reports/.index.lock` for as long as the guard lives: runs that
/// finish together take turns reading the runs and writing the index, so
/// each index written includes every run written before it. A blocking
/// call: async code takes it on a blocking thread.
pub fn lock_reports(reports: &Path) -> anyhow::Result<File> {
    std::fs::create_dir_all(reports)
        .with_context(|| format!("cannot create {}", reports.display()))?;
    let path = reports.join(".index.lock");
    let lock = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(lock)
}

/// The JSON schema of data.json, as `runner/schemas/data.schema.json` ships it.
pub fn schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(RunData);
    schema.insert("$id".into(), "resilience-lab/data.schema.json".into());
    schema
}

/// A small finished run, for tests that need one.
#[cfg(test)]
pub(crate) fn example(scenario: &str, run_id: &str, total: u32, fingerprint: &str) -> RunData {
    use crate::load::collector::Percentiles;
    RunData {
        version: DATA_VERSION,
        run_id: run_id.into(),
        scenario: scenario.into(),
        description: "a test run".into(),
        case: 1,
        started_at: "2026-11-29T12:00:00Z".into(),
        interrupted: false,
        settings: Settings {
            url: "http://127.0.0.1:9/x".into(),
            method: Method::Get,
            body: None,
            rate: 1.0,
            duration_s: 1.0,
            ramp_s: None,
            request_cap_s: 1.0,
            workers: 4,
            answers: None,
            start_replicas: None,
        },
        workload_edits: Vec::new(),
        lab_edits: Vec::new(),
        fingerprint: fingerprint.into(),
        totals: Totals {
            intended: 1,
            sent: 1,
            not_sent: 0,
            unfinished: 0,
            succeeded: 1,
            failed: 0,
            statuses: [(200, 1)].into(),
            errors: Default::default(),
            answers: None,
            corrected: Percentiles::default(),
            service: Percentiles::default(),
            distribution: Vec::new(),
            seconds: Vec::new(),
        },
        probes: Vec::new(),
        score: Score {
            checks: Vec::new(),
            total,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn files_of_another_version_or_shape_are_explained() {
        let error = |json: &str| format!("{:#}", parse(json.as_bytes()).expect_err(json));
        assert!(error("[1, 2]").contains("not a JSON object"));
        assert!(error(r#"{"run_id": "x"}"#).contains("no `version` field"));
        let older = error(r#"{"version": 1, "run_id": "x"}"#);
        assert!(
            older.contains("data version 1") && older.contains("rerun"),
            "{older}"
        );
        let renamed = error(r#"{"version": 2, "run": "x"}"#);
        assert!(renamed.contains("unknown field `run`"), "{renamed}");
    }
}
