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

/// A JSON endpoint polled during the run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub name: String,
    pub service: Service,
    pub path: String,
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Dotted paths into the JSON answer: `in_use`, `jobs.fast.p95_ms`,
    /// `pools.0.busy`.
    pub fields: Vec<String>,
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
