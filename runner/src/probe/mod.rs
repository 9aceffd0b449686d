//! Probes: JSON documents polled beside the load, each on its own
//! interval, into the run's timeline: a service's debug endpoint, or a
//! Kubernetes object ([`kubernetes`]). A failed poll, or a field that is
//! missing or not a number, is a gap in that series, not an error: a probe
//! that cannot answer under load is itself something the report shows.

pub mod kubernetes;

use std::time::{Duration, Instant};

use anyhow::Context;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{
    scenario::{Probe, Source, Stat},
    targets::Targets,
};

/// Where one probe's documents come from.
#[derive(Debug, Clone)]
pub enum Fetcher {
    Http {
        client: reqwest::Client,
        url: String,
    },
    // Boxed: a kube client is several times the size of the HTTP variant.
    Kubernetes(Box<kubernetes::Object>),
}

/// Where each of `probes` reads, in their order: a service's JSON over
/// HTTP at its target, or a Kubernetes object through `kube`. An object
/// missing from the cluster is an error before the run, not a run of empty
/// polls.
pub async fn fetchers(
    probes: &[Probe],
    targets: &Targets,
    kube: Option<&kube::Client>,
    context: Option<&str>,
) -> anyhow::Result<Vec<Fetcher>> {
    let client = reqwest::Client::new();
    let mut fetchers = Vec::with_capacity(probes.len());
    for probe in probes {
        fetchers.push(match (&probe.source, kube) {
            (Source::Service { service, path }, _) => Fetcher::Http {
                client: client.clone(),
                url: format!("{}{path}", targets.url(*service)),
            },
            (Source::Kubernetes(object), Some(kube)) => {
                let object = kubernetes::Object::new(kube, object);
                if let Some(context) = context {
                    object.exists(context).await?;
                }
                Fetcher::Kubernetes(Box::new(object))
            }
            (Source::Kubernetes(object), None) => {
                anyhow::bail!("no Kubernetes client to read {object}")
            }
        });
    }
    Ok(fetchers)
}

impl Fetcher {
    /// What the report names as the probe's source.
    fn describe(&self) -> String {
        match self {
            Self::Http { url, .. } => url.clone(),
            Self::Kubernetes(object) => object.describe(),
        }
    }

    async fn fetch(&self, timeout: Duration) -> Option<Value> {
        match self {
            Self::Http { client, url } => {
                let response = client.get(url).timeout(timeout).send().await.ok()?;
                if !response.status().is_success() {
                    return None;
                }
                response.json().await.ok()
            }
            Self::Kubernetes(object) => object.fetch(timeout).await,
        }
    }
}

/// The longest a single poll may take, whatever the interval.
const POLL_TIMEOUT: Duration = Duration::from_secs(2);

/// One field of one probe over the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub probe: String,
    pub field: String,
    /// [seconds from the start of the run, value]; a failed poll is a gap.
    pub points: Vec<(f64, f64)>,
}

/// All of one probe's series, and how many polls failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeRecord {
    pub name: String,
    pub url: String,
    pub polls: u64,
    pub failed_polls: u64,
    pub series: Vec<Series>,
}

impl ProbeRecord {
    /// Re-times the points to a clock that started `by` later (the load's
    /// first request), dropping points from before it.
    pub fn retime(&mut self, by: Duration) {
        let by = by.as_secs_f64();
        for series in &mut self.series {
            series.points.retain(|&(t, _)| t >= by);
            for point in &mut series.points {
                point.0 -= by;
            }
        }
    }

    /// The series of `field`, if the probe records it.
    pub fn series(&self, field: &str) -> Option<&Series> {
        self.series.iter().find(|series| series.field == field)
    }

    /// `stat` of `field` over the points from `from` on; `None` without data.
    pub fn stat(&self, field: &str, stat: Stat, from: Duration) -> Option<f64> {
        let series = self.series(field)?;
        let from = from.as_secs_f64();
        let values: Vec<f64> = series
            .points
            .iter()
            .filter(|(t, _)| *t >= from)
            .map(|&(_, value)| value)
            .collect();
        match stat {
            Stat::Max => values.iter().copied().reduce(f64::max),
            Stat::Mean => {
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            }
            Stat::Last => values.last().copied(),
        }
    }
}

/// A run's probes, each polling in its own task. Dropping this stops
/// them all (the tasks are aborted), so a run that fails half-way leaves
/// nothing polling; [`Probes::finish`] stops them and collects what they
/// recorded.
#[derive(Debug)]
pub struct Probes {
    tasks: JoinSet<(usize, ProbeRecord)>,
    stop: CancellationToken,
    start: Instant,
}

impl Probes {
    /// Starts polling each of `probes` from its fetcher (in the same order).
    pub fn start(probes: &[Probe], fetchers: Vec<Fetcher>) -> Self {
        let (stop, start) = (CancellationToken::new(), Instant::now());
        let mut tasks = JoinSet::new();
        for (index, (probe, fetcher)) in probes.iter().zip(fetchers).enumerate() {
            let (probe, stop) = (probe.clone(), stop.clone());
            tasks.spawn(async move { (index, poll(probe, fetcher, start, stop).await) });
        }
        Self { tasks, stop, start }
    }

    /// Stops polling and returns every probe's record, in the scenario's
    /// order, timed from `load_started` (points from before it dropped).
    pub async fn finish(mut self, load_started: Instant) -> anyhow::Result<Vec<ProbeRecord>> {
        self.stop.cancel();
        let mut records = Vec::new();
        while let Some(finished) = self.tasks.join_next().await {
            records.push(finished.context("a probe task failed")?);
        }
        records.sort_by_key(|(index, _)| *index);
        let by = load_started.saturating_duration_since(self.start);
        Ok(records
            .into_iter()
            .map(|(_, mut record)| {
                record.retime(by);
                record
            })
            .collect())
    }
}

/// Polls `probe` from `fetcher` every interval until `stop`, timing points
/// from `start`.
pub async fn poll(
    probe: Probe,
    fetcher: Fetcher,
    start: Instant,
    stop: CancellationToken,
) -> ProbeRecord {
    let mut record = ProbeRecord {
        name: probe.name.clone(),
        url: fetcher.describe(),
        polls: 0,
        failed_polls: 0,
        series: probe
            .fields
            .iter()
            .map(|field| Series {
                probe: probe.name.clone(),
                field: field.clone(),
                points: Vec::new(),
            })
            .collect(),
    };
    let mut interval = tokio::time::interval(probe.interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = interval.tick() => {}
        }
        record.polls += 1;
        let at = start.elapsed().as_secs_f64();
        let answer = tokio::select! {
            () = stop.cancelled() => break,
            answer = fetcher.fetch(probe.interval.min(POLL_TIMEOUT)) => answer,
        };
        let Some(json) = answer else {
            record.failed_polls += 1;
            continue;
        };
        for series in &mut record.series {
            if let Some(value) = field(&json, &series.field) {
                series.points.push((at, value));
            }
        }
    }
    record
}

/// The number at a dotted path: `jobs.fast.p95_ms`, `pools.0.busy`.
pub fn field(json: &Value, path: &str) -> Option<f64> {
    let mut value = json;
    for key in path.split('.') {
        value = match value {
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => value.get(key)?,
        };
    }
    value.as_f64()
}

/// The header each lab answer names its process with (the lab's
/// `server::INSTANCE_HEADER`).
pub const INSTANCE_HEADER: &str = "x-lab-instance";

/// How many processes of a service answer at `base_url`: `/healthz` asked
/// `asks` times, each on a connection of its own, so that a Kubernetes
/// Service may send each to another replica. A probe keeps its connection,
/// so it reads one of them.
pub async fn instances(base_url: &str, asks: usize) -> usize {
    let client = reqwest::Client::new();
    let url = format!("{base_url}/healthz");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..asks {
        let answer = client
            .get(&url)
            .header(reqwest::header::CONNECTION, "close")
            .timeout(POLL_TIMEOUT)
            .send()
            .await;
        if let Some(name) = answer
            .ok()
            .and_then(|response| response.headers().get(INSTANCE_HEADER).cloned())
        {
            seen.insert(name);
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_dotted_paths_into_objects_and_arrays() {
        let json = json!({ "in_use": 3, "jobs": { "fast": { "p95_ms": 12.5, "p99_ms": null } }, "pools": [{ "busy": 2 }] });
        assert_eq!(field(&json, "in_use"), Some(3.0));
        assert_eq!(field(&json, "jobs.fast.p95_ms"), Some(12.5));
        assert_eq!(field(&json, "pools.0.busy"), Some(2.0));
        assert_eq!(field(&json, "jobs.fast.p99_ms"), None, "null is a gap");
        assert_eq!(field(&json, "pools.1.busy"), None);
        assert_eq!(field(&json, "missing"), None);
    }

    /// A probe `p` with one field `f` holding `points`.
    fn record(points: Vec<(f64, f64)>) -> ProbeRecord {
        ProbeRecord {
            name: "p".into(),
            url: String::new(),
            polls: 3,
            failed_polls: 0,
            series: vec![Series {
                probe: "p".into(),
                field: "f".into(),
                points,
            }],
        }
    }

    #[test]
    fn retiming_drops_points_from_before_the_load() {
        let mut record = record(vec![(0.2, 1.0), (1.5, 2.0), (2.5, 3.0)]);
        record.retime(Duration::from_secs(1));
        assert_eq!(record.series[0].points, [(0.5, 2.0), (1.5, 3.0)]);
    }

    #[test]
    fn stats_look_at_the_points_from_the_window_on() {
        let record = record(vec![(0.5, 10.0), (1.5, 2.0), (2.5, 4.0)]);
        assert_eq!(record.stat("f", Stat::Max, Duration::ZERO), Some(10.0));
        assert_eq!(
            record.stat("f", Stat::Max, Duration::from_secs(1)),
            Some(4.0)
        );
        assert_eq!(
            record.stat("f", Stat::Mean, Duration::from_secs(1)),
            Some(3.0)
        );
        assert_eq!(record.stat("f", Stat::Last, Duration::ZERO), Some(4.0));
        assert_eq!(record.stat("f", Stat::Last, Duration::from_secs(3)), None);
        assert_eq!(record.stat("g", Stat::Last, Duration::ZERO), None);
    }
}
