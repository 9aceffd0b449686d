//! The scenarios: what `scenarios.toml` declares, as Rust types.
//!
//! Loading (the file, then environment overrides) is in [`load`]; the
//! checks that go beyond types (ranges, references between keys) are in
//! [`validate`]; turning a key path into a line number is in [`locate`].

pub mod load;
pub mod locate;
pub mod validate;

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

pub use load::{ConfigError, load};

/// Every scenario in the file, in case order.
#[derive(Debug, Clone)]
pub struct Scenarios {
    pub path: PathBuf,
    pub list: Vec<Scenario>,
}

impl Scenarios {
    pub fn get(&self, name: &str) -> Option<&Scenario> {
        self.list.iter().find(|scenario| scenario.name == name)
    }

    /// The scenario called `name`, or an error that lists the scenarios.
    pub fn named(&self, name: &str) -> anyhow::Result<&Scenario> {
        self.get(name).ok_or_else(|| {
            anyhow::anyhow!(
                "no scenario `{name}` in {}; the scenarios are: {}",
                self.path.display(),
                self.names().join(", ")
            )
        })
    }

    /// The repository root: the folder that holds the scenarios file, as an
    /// absolute path (git and child processes are given it).
    pub fn root(&self) -> PathBuf {
        let parent = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => std::path::Path::new("."),
        };
        std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_owned())
    }

    /// Every scenario's `files`: what participants are asked to edit, so
    /// a local run compares every other lab file with the shipped one.
    pub fn case_files(&self) -> Vec<String> {
        self.list
            .iter()
            .flat_map(|scenario| scenario.files.iter().cloned())
            .collect()
    }

    pub fn names(&self) -> Vec<&str> {
        self.list
            .iter()
            .map(|scenario| scenario.name.as_str())
            .collect()
    }
}

/// The repository's own scenarios.toml, for tests.
#[cfg(test)]
pub(crate) fn shipped() -> Scenarios {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    load(&root.join("scenarios.toml")).expect("the shipped scenarios load")
}

/// The file as serde sees it: one table per scenario, keyed by name.
pub(crate) type ScenarioTables = BTreeMap<String, ScenarioToml>;

/// One scenario. `Scenario` (the default parameters) is the scenario as the
/// runner uses it: its probes and checks typed and checked against each
/// other. [`ScenarioToml`] is the same scenario as the file writes it, with
/// probes and checks as their keys say; [`validate`] turns one into the
/// other, so nothing outside this module sees an unchecked probe or check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario<P = Probe, C = Check> {
    /// The table's name in the file (`[timeouts]`); filled in after loading.
    #[serde(skip)]
    pub name: String,
    pub case: u8,
    pub description: String,
    pub service: Service,
    #[serde(default)]
    pub method: Method,
    pub path: String,
    /// A JSON body, written as a TOML table.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// Requests released per second (open model).
    pub rate: f64,
    #[serde(with = "humantime_serde")]
    pub duration: Duration,
    /// Optional climb from 0 to `rate` at the start of the run.
    #[serde(default, with = "humantime_serde")]
    pub ramp: Option<Duration>,
    /// The client's limit on one request.
    #[serde(with = "humantime_serde")]
    pub request_cap: Duration,
    pub hint: String,
    /// Files a participant edits, relative to the repository root.
    pub files: Vec<String>,
    /// The case needs a Kubernetes cluster: `--local` cannot run it and
    /// checks its manifests instead.
    #[serde(default)]
    pub needs_cluster: bool,
    /// Values the lab must report at the service's `/debug/workload` for a
    /// run to count (dotted paths into its answer); see [`crate::workload`].
    #[serde(default)]
    pub expect: BTreeMap<String, serde_json::Value>,
    /// How to read what users got: which field of a successful answer's
    /// JSON body says whether it is a full or a degraded answer.
    #[serde(default)]
    pub answers: Option<Answers>,
    #[serde(default = "Vec::new")]
    pub probes: Vec<P>,
    pub checks: Vec<C>,
}

/// A scenario as `scenarios.toml` writes it.
pub type ScenarioToml = Scenario<ProbeToml, CheckToml>;

impl ScenarioToml {
    /// The same scenario with its probes and checks typed (by [`validate`]).
    fn typed(self, probes: Vec<Probe>, checks: Vec<Check>) -> Scenario {
        Scenario {
            name: self.name,
            case: self.case,
            description: self.description,
            service: self.service,
            method: self.method,
            path: self.path,
            body: self.body,
            rate: self.rate,
            duration: self.duration,
            ramp: self.ramp,
            request_cap: self.request_cap,
            hint: self.hint,
            files: self.files,
            needs_cluster: self.needs_cluster,
            expect: self.expect,
            answers: self.answers,
            probes,
            checks,
        }
    }
}

/// How a scenario reads its answers: a top-level field of the JSON body,
/// and the values that make a full answer and a degraded one (a fallback).
/// Any other value, or no such field, is an unreadable answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// A top-level key of the answer's JSON object: `source`.
    pub field: String,
    /// Values of a full answer: `["dep"]`.
    pub full: Vec<String>,
    /// Values of a degraded answer: `["fallback"]`.
    pub degraded: Vec<String>,
    /// How long a user waits for an answer, from its intended send time: a
    /// full answer that comes later counts as late, not full. `"1s"`.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub within: Option<Duration>,
}

/// A lab service a scenario loads or a probe reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, IntoStaticStr, EnumString, EnumIter)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Service {
    Api,
    Worker,
}

impl Service {
    /// As the file writes it (strum's spelling, the same as serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The HTTP method of a scenario's requests.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    JsonSchema,
    IntoStaticStr,
    EnumString,
    EnumIter,
)]
#[serde(rename_all = "UPPERCASE")]
#[strum(serialize_all = "UPPERCASE")]
pub enum Method {
    #[default]
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn http(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Delete => reqwest::Method::DELETE,
        }
    }

    /// As the file writes it (strum's spelling, the same as serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A JSON document polled during the run, as the runner uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub name: String,
    pub source: Source,
    pub interval: Duration,
    /// Dotted paths into the JSON answer: `in_use`, `jobs.fast.p95_ms`,
    /// `pools.0.busy`, `status.currentReplicas`.
    pub fields: Vec<String>,
}

/// Where a probe reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A JSON endpoint of one of the lab's services.
    Service { service: Service, path: String },
    /// An object read through the Kubernetes API server.
    Kubernetes(KubeObject),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Service { service, path } => write!(f, "{}{path}", service.as_str()),
            Self::Kubernetes(object) => write!(f, "{object}"),
        }
    }
}

/// A probe as the file writes it: a service's endpoint (`service` and
/// `path`), or a Kubernetes object read through the API server
/// (`kubernetes = "Kind/name"`, in the kubeconfig context's namespace).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeToml {
    pub name: String,
    #[serde(default)]
    pub service: Option<Service>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub kubernetes: Option<KubeObject>,
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    pub fields: Vec<String>,
}

/// A Kubernetes object a probe reads, written `Kind/name`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct KubeObject {
    pub kind: KubeKind,
    pub name: String,
}

/// The kinds a probe can read, named as Kubernetes names them (the
/// variant's own name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, EnumIter)]
pub enum KubeKind {
    HorizontalPodAutoscaler,
    Deployment,
}

impl KubeKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for KubeObject {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let kinds = || {
            KubeKind::iter()
                .map(KubeKind::as_str)
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let Some((kind, name)) = text.split_once('/') else {
            return Err(format!(
                "`{text}` is not Kind/name, e.g. HorizontalPodAutoscaler/api"
            ));
        };
        let kind = kind
            .parse::<KubeKind>()
            .map_err(|_| format!("`{kind}` is not a kind a probe reads; use {}", kinds()))?;
        if name.is_empty() || name.contains('/') {
            return Err(format!(
                "`{text}` is not Kind/name, e.g. HorizontalPodAutoscaler/api"
            ));
        }
        Ok(Self {
            kind,
            name: name.to_owned(),
        })
    }
}

impl std::fmt::Display for KubeObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.name)
    }
}

/// One line of the score, as the runner uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub measure: Measure,
    /// What the check measures, in words: the file's `title`, or for a
    /// request metric, the metric's own words; `None` for a probe check
    /// without a title (its key says it all).
    pub title: Option<String>,
    /// The value that earns the whole weight.
    pub target: f64,
    /// The value at which the check earns nothing.
    pub zero: f64,
    /// Its share of the score; 0 for a gate.
    pub weight: f64,
    /// A gate earns no points: the whole score is multiplied by its share
    /// (1 at the target, 0 at `zero`). For checks that the work was done at
    /// all (orders recorded, slow jobs finished), where a fast run that
    /// skipped the work must not score.
    pub gate: bool,
    /// Only the end of the run counts: the last this-long of it.
    pub last: Option<Duration>,
    /// Printed when the check fails: what its failure most often means.
    pub lesson: Option<String>,
    /// The report opens with this check's chart (else with the first
    /// check's): the chart the case's lesson is read from.
    pub key_chart: bool,
}

impl Check {
    /// How the check is named on the terminal, the report and
    /// LEADERBOARD.md: `p95_ms`, `depstats.waiting (max)`,
    /// `p95_ms (last 1m)`.
    pub fn label(&self) -> String {
        match self.last {
            Some(last) => format!(
                "{} (last {})",
                self.measure,
                humantime::format_duration(last)
            ),
            None => self.measure.to_string(),
        }
    }

    /// The check's words with its window: "95th-percentile latency, last
    /// 1m"; empty when it has none.
    pub fn words(&self) -> String {
        match (&self.title, self.last) {
            (None, _) => String::new(),
            (Some(title), Some(last)) => {
                format!("{title}, last {}", humantime::format_duration(last))
            }
            (Some(title), None) => title.clone(),
        }
    }
}

/// What a check measures: a request metric, or a probe's field summed up
/// by a stat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Request(RequestMetric),
    Probe {
        /// The probe's name.
        probe: String,
        /// One of the probe's fields.
        field: String,
        stat: Stat,
    },
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request(metric) => f.write_str(metric.as_str()),
            Self::Probe { probe, field, stat } => write!(f, "{probe}.{field} ({})", stat.as_str()),
        }
    }
}

/// A check as the file writes it: a request metric (`metric` alone), or a
/// probe's field (`probe`, `metric` naming the field, and `stat`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckToml {
    /// What the check measures, in words (a request metric has its own;
    /// the shipped probe checks all have one).
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub probe: Option<String>,
    pub metric: String,
    #[serde(default)]
    pub stat: Option<Stat>,
    pub target: f64,
    pub zero: f64,
    /// Required, except for a gate, which has none.
    #[serde(default)]
    pub weight: Option<f64>,
    #[serde(default)]
    pub gate: bool,
    /// The report opens with this check's chart.
    #[serde(default)]
    pub key_chart: bool,
    #[serde(default, with = "humantime_serde")]
    pub last: Option<Duration>,
    /// One line printed when the check fails: the wrong fix its failure
    /// most often means, and the way back to the lesson.
    #[serde(default)]
    pub lesson: Option<String>,
}

/// How a probe's series is summed up for a check.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    JsonSchema,
    IntoStaticStr,
    EnumString,
    EnumIter,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Stat {
    Max,
    Mean,
    Last,
}

impl Stat {
    /// As the file writes it (strum's spelling, the same as serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The request metrics a check can name. Latency is from the intended
/// send time (see [`crate::load::collector`]).
// Every list of them iterates the enum (`RequestMetric::iter`), and their
// names are strum's spelling, the same as serde's (a plain comment: a doc
// comment would be the schema's description).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    JsonSchema,
    IntoStaticStr,
    EnumString,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestMetric {
    P50Ms,
    P95Ms,
    P99Ms,
    MaxMs,
    /// Failed / finished.
    ErrorRate,
    /// Succeeded / intended.
    Goodput,
    /// Requests the generator could not send on time.
    NotSent,
    /// Degraded answers / succeeded (needs the scenario's `answers`).
    DegradedRate,
    /// Full answers / intended (needs the scenario's `answers`).
    FullGoodput,
}

impl RequestMetric {
    /// As the file and data.json write it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What the metric measures, in words.
    pub fn words(self) -> &'static str {
        match self {
            Self::P50Ms => "median latency",
            Self::P95Ms => "95th-percentile latency",
            Self::P99Ms => "99th-percentile latency",
            Self::MaxMs => "slowest request",
            Self::ErrorRate => "requests that failed",
            Self::Goodput => "requests answered",
            Self::NotSent => "requests not sent on time",
            Self::DegradedRate => "answers degraded",
            Self::FullGoodput => "full answers in time",
        }
    }

    /// A rise is an improvement (goodput), not a regression (latency).
    pub fn higher_is_better(self) -> bool {
        match self {
            Self::Goodput | Self::FullGoodput => true,
            Self::P50Ms
            | Self::P95Ms
            | Self::P99Ms
            | Self::MaxMs
            | Self::ErrorRate
            | Self::NotSent
            | Self::DegradedRate => false,
        }
    }

    /// The metric reads answer classes: the scenario must say how.
    pub fn needs_answers(self) -> bool {
        matches!(self, Self::DegradedRate | Self::FullGoodput)
    }

    /// The metric written `name` in the file.
    pub fn named(name: &str) -> Option<Self> {
        name.parse().ok()
    }
}
