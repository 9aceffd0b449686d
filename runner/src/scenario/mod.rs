//! The scenarios: what `scenarios.toml` declares, as Rust types.
//!
//! Loading (the file, then environment overrides) is in [`load`]; the
//! checks that go beyond types (ranges, references between keys) are in
//! [`validate`]; turning a key path into a line number is in [`locate`].

pub mod load;
pub mod locate;
pub mod validate;

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::Deserialize;

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

    pub fn names(&self) -> Vec<&str> {
        self.list
            .iter()
            .map(|scenario| scenario.name.as_str())
            .collect()
    }
}

/// The file as serde sees it: one table per scenario, keyed by name.
pub(crate) type ScenarioTables = BTreeMap<String, Scenario>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
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
    #[serde(default)]
    pub probes: Vec<Probe>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Api,
    Worker,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Worker => "worker",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
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

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// A JSON document polled during the run: a service's endpoint (`service`
/// and `path`), or a Kubernetes object read through the API server
/// (`kubernetes = "Kind/name"`, in the kubeconfig context's namespace).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub name: String,
    #[serde(default)]
    pub service: Option<Service>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub kubernetes: Option<KubeObject>,
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Dotted paths into the JSON answer: `in_use`, `jobs.fast.p95_ms`,
    /// `pools.0.busy`, `status.currentReplicas`.
    pub fields: Vec<String>,
}

/// Where a probe reads; [`Probe::source`] gives it once the probe is valid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source<'a> {
    Service { service: Service, path: &'a str },
    Kubernetes(&'a KubeObject),
}

impl Probe {
    /// `None` when the probe names both sources or neither, which
    /// validation reports.
    pub fn source(&self) -> Option<Source<'_>> {
        match (self.service, &self.path, &self.kubernetes) {
            (Some(service), Some(path), None) => Some(Source::Service { service, path }),
            (None, None, Some(object)) => Some(Source::Kubernetes(object)),
            _ => None,
        }
    }
}

/// A Kubernetes object a probe reads, written `Kind/name`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct KubeObject {
    pub kind: KubeKind,
    pub name: String,
}

/// The kinds a probe can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeKind {
    HorizontalPodAutoscaler,
    Deployment,
}

impl KubeKind {
    pub const ALL: [Self; 2] = [Self::HorizontalPodAutoscaler, Self::Deployment];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Self::Deployment => "Deployment",
        }
    }
}

impl TryFrom<String> for KubeObject {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let kinds = || KubeKind::ALL.map(KubeKind::as_str).join(" or ");
        let Some((kind, name)) = text.split_once('/') else {
            return Err(format!(
                "`{text}` is not Kind/name, e.g. HorizontalPodAutoscaler/api"
            ));
        };
        let kind = KubeKind::ALL
            .into_iter()
            .find(|known| known.as_str() == kind)
            .ok_or_else(|| format!("`{kind}` is not a kind a probe reads; use {}", kinds()))?;
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

/// One line of the score.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// A probe's name, for a probe metric; absent for a request metric.
    #[serde(default)]
    pub probe: Option<String>,
    /// A request metric (see [`REQUEST_METRICS`]) or one of the probe's fields.
    pub metric: String,
    /// For probe metrics: how the probe's series is summed up.
    #[serde(default)]
    pub stat: Option<Stat>,
    /// The value that earns the whole weight.
    pub target: f64,
    /// The value at which the check earns nothing.
    pub zero: f64,
    pub weight: f64,
    /// Only the end of the run counts: the last this-long of it.
    #[serde(default, with = "humantime_serde")]
    pub last: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    Max,
    Mean,
    Last,
}

impl Stat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Max => "max",
            Self::Mean => "mean",
            Self::Last => "last",
        }
    }
}

/// The request metrics a check can name.
pub const REQUEST_METRICS: &[&str] = &[
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "error_rate",
    "goodput",
    "not_sent",
];
