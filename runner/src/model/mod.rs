//! `runner model autoscale`: case 4 simulated from what the manifests say,
//! with no cluster. A laptop can only run case 4 on k3d; this model runs
//! anywhere, so the scenario's thresholds can be chosen from it and a
//! participant without Docker still sees what a fix would do.
//!
//! It replays the scenario's own arrivals (rate, ramp, duration, request
//! cap) against pods that serve each request with a fixed CPU cost, under
//! the HorizontalPodAutoscaler of [`crate::hpa`], and scores the result
//! with the scenario's own checks, through the same collector and scoring code as a
//! real run. What it cannot know from the files is an [`Assumptions`]
//! field with a default and a flag, and the output names each one.
//!
//! - **Pods.** A pod computes as many requests at once as its CPU limit
//!   spans cores (the api's CPU slots), oldest first, each on a core of
//!   its own, as CFS runs threads: within each 100 ms period, until the
//!   pod has used its CPU limit × 100 ms, then throttled until the next
//!   (a pod without a limit is bounded by the node); all api pods
//!   together within the node's CPUs. The other requests wait for a slot;
//!   one the client gave up on (the request cap) while it waited is
//!   dropped unstarted, one already computing still burns its CPU: the api
//!   cannot cancel CPU work.
//! - **Health.** kubelet asks each ready pod every second, with a 1 s
//!   timeout: an answer waits at most for the pod's next CFS period.
//! - **Metrics.** metrics-server scrapes every 15 s; a pod's usage is its
//!   CPU over the last scrape interval, and needs two scrapes.
//! - **The HPA** syncs every 15 s: [`crate::hpa`].
//! - **New pods** are ready [`Assumptions::ready_delay`] after the HPA
//!   asks for them, if their CPU requests fit the node
//!   ([`Assumptions::node_cpus`]); otherwise they stay Pending.
//! - **Connections.** The api closes each autoscale connection after its
//!   answer, so each request goes to a ready pod at random (kube-proxy
//!   balances connections). [`Assumptions::sticky`] models what kept-alive
//!   connections would do instead: the runner's HTTP client reuses the
//!   most recently idle one (hyper's pool is last-in first-out), opens a
//!   new one, to a random pod, only when all are busy, closes one whose
//!   request hit the cap, and one idle for 90 s. Then new pods get traffic
//!   only when the open connections are all busy, and the first pod stays
//!   overloaded beside idle ones.

mod sim;

use std::{fmt::Write as _, path::Path, time::Duration};

use anyhow::{Context, bail};

use crate::{
    format::number,
    manifests::{self, Scaling},
    output,
    scenario::Scenario,
};
pub use sim::{Health, Prediction, Window};

/// The workload key that says what one autoscale request costs.
pub const CPU_COST_KEY: &str = "workload.autoscale_cpu_ms";

/// The api's CPU per request beside its work, as the kernel harness
/// measured it.
pub const DEFAULT_OVERHEAD: Duration = Duration::from_micros(700);

/// What the model assumes that the manifests do not say.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumptions {
    /// CPU time one request costs (the api's `--autoscale-cpu-ms`).
    pub cpu_cost: Duration,
    /// CPU the api spends on each request besides that work: the
    /// connection, HTTP, the hand-off to a CPU slot. The kernel harness
    /// (runner/tests/runner/kernel.rs) measures it from the api's own CPU
    /// time: about 0.7 ms.
    pub overhead: Duration,
    /// From the HPA asking for a pod to the pod being ready: container
    /// start, the api connecting to PostgreSQL, the first readiness probe.
    pub ready_delay: Duration,
    /// Connections are kept alive and reused. The api closes each one
    /// (`Connection: close`), so the default is false.
    pub sticky: bool,
    /// When the HPA's first sync comes, from the start of the load (it
    /// syncs every 15 s on its own clock: 0 to 15 s).
    pub sync_phase: Duration,
    /// How old the metrics are at each sync: how long before it
    /// metrics-server last scraped (0 to 15 s).
    pub metrics_age: Duration,
    /// Predict a rerun that starts this long after a first run of the same
    /// scenario ends, on the cluster as that run and the pause left it
    /// (`runner run` refuses such a run until `make rescale`).
    pub rerun_after: Option<Duration>,
    /// CPUs the node gives the api pods together (Docker's share, less what
    /// k3s, PostgreSQL and the other roles use): their usage shares it, and
    /// a pod whose CPU request does not fit stays Pending.
    pub node_cpus: f64,
}

impl Assumptions {
    /// The defaults, with the CPU cost from the scenario's `expect` when it
    /// pins one.
    pub fn defaults(scenario: &Scenario) -> Self {
        let pinned = scenario.expect.get(CPU_COST_KEY).and_then(|ms| ms.as_u64());
        Self {
            cpu_cost: Duration::from_millis(pinned.unwrap_or(20)),
            overhead: DEFAULT_OVERHEAD,
            ready_delay: Duration::from_secs(10),
            sticky: false,
            sync_phase: Duration::from_secs(10),
            metrics_age: Duration::from_secs(5),
            rerun_after: None,
            node_cpus: 3.5,
        }
    }
}

/// Predicts `scenario` against the manifests in `folder`.
pub fn predict(
    scenario: &Scenario,
    folder: &Path,
    assumptions: &Assumptions,
) -> anyhow::Result<Prediction> {
    if !scenario.needs_cluster {
        bail!(
            "scenario `{}` runs on the local stack; the model is for the cluster case \
             (`runner model autoscale`)",
            scenario.name
        );
    }
    let service = scenario.service.as_str();
    let scaling = manifests::scaling(folder, service).map_err(|problems| {
        anyhow::anyhow!(
            "the manifests in {} cannot be modelled:\n  {}",
            folder.display(),
            problems.join("\n  ")
        )
    })?;
    if assumptions.cpu_cost.is_zero() || assumptions.node_cpus <= 0.0 {
        bail!("--cpu-cost and --node-cpus must be above zero");
    }
    let period = Duration::from_secs(15);
    if assumptions.sync_phase >= period || assumptions.metrics_age >= period {
        bail!(
            "--sync-phase and --metrics-age are within one 15 s period: from 0 up to 15 s, \
             not including 15 s"
        );
    }
    sim::simulate(scenario, &scaling, assumptions).context("the model failed")
}

/// The manifests in words: what the model read.
pub fn describe(scaling: &Scaling) -> String {
    let cores = |cores: f64| format!("{}m", (cores * 1000.0).round());
    let request = scaling.cpu_request.map_or_else(
        || "no CPU request".to_owned(),
        |r| format!("requests {}", cores(r)),
    );
    let limit = scaling.cpu_limit.map_or_else(
        || "no CPU limit".to_owned(),
        |l| format!("limit {}", cores(l)),
    );
    let hpa = match &scaling.hpa {
        None => "no HPA: the replica count never changes".to_owned(),
        Some(hpa) => match &hpa.spec {
            None => "an HPA that does not scale on CPU utilisation: it never acts".to_owned(),
            Some(spec) if !spec.behavior => format!(
                "HPA {}-{} replicas at {}% of the request; no behavior block: up at most \
                 max(2x, 4) replicas per sync, down after 5 minutes at the highest recent \
                 recommendation",
                spec.min, spec.max, spec.target_percent,
            ),
            Some(spec) => format!(
                "HPA {}-{} replicas at {}% of the request; up: {}; down: {}",
                spec.min,
                spec.max,
                spec.target_percent,
                spec.scale_up.describe(),
                spec.scale_down.describe()
            ),
        },
    };
    format!("api pod {request}, {limit}; {hpa}")
}

/// What `runner model` prints: the inputs, the timeline, the checks and
/// the PREDICTED line.
pub fn render(scenario: &Scenario, prediction: &Prediction, assumptions: &Assumptions) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "model {}: {} for {} ({} ramp), request cap {}",
        scenario.name,
        format_args!("{} req/s", number(scenario.rate)),
        humantime::format_duration(scenario.duration),
        humantime::format_duration(scenario.ramp.unwrap_or_default()),
        humantime::format_duration(scenario.request_cap),
    );
    let _ = writeln!(out, "  manifests: {}", describe(&prediction.scaling));
    let _ = writeln!(out, "  assumed (change with the flag):");
    for (what, value, flag) in assumption_rows(assumptions) {
        let _ = writeln!(out, "    {what:<38} {value:<48} {flag}");
    }
    let _ = writeln!(
        out,
        "  fixed: metrics-server every 15 s, HPA sync every 15 s, 10% tolerance"
    );
    let _ = writeln!(
        out,
        "\n  {:>9}  {:>8}  {:>5}  {:>7}  {:>10}  {:>8}  {:>6}",
        "t", "offered", "ready", "desired", "cpu/request", "p95", "failed"
    );
    for window in &prediction.timeline {
        let p95 = window
            .p95_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0} ms"));
        let utilisation = window
            .utilisation
            .map_or_else(|| "-".to_owned(), |u| format!("{:.0}%", 100.0 * u));
        let _ = writeln!(
            out,
            "  {:>4}-{:<4}  {:>6.1}/s  {:>5}  {:>7}  {:>10}  {:>8}  {:>6}",
            format!("{}s", window.from_secs),
            format!("{}s", window.to_secs),
            window.offered,
            window.ready,
            window.desired,
            utilisation,
            p95,
            window.failed
        );
    }
    let health = &prediction.health;
    let _ = writeln!(
        out,
        "\n  health: kubelet's probes, every second with its 1 s timeout: {} of {} would fail \
         (the slowest answer waits {:.0} ms for its pod's CPU)",
        health.failed, health.polls, health.slowest_ms
    );
    let _ = writeln!(out);
    out.push_str(&output::checks(&prediction.score));
    let _ = writeln!(out, "{}", predicted_line(scenario, prediction, assumptions));
    out
}

/// Each assumption: what it is, its value, its flag.
fn assumption_rows(assumptions: &Assumptions) -> [(&'static str, String, &'static str); 8] {
    [
        (
            "CPU per request",
            format!("{} ms", assumptions.cpu_cost.as_millis()),
            "--cpu-cost",
        ),
        (
            "and the api's own CPU per request",
            format!("{} ms", number(assumptions.overhead.as_secs_f64() * 1000.0)),
            "--overhead",
        ),
        (
            "new pod ready after",
            humantime::format_duration(assumptions.ready_delay).to_string(),
            "--ready-delay",
        ),
        (
            "connections",
            if assumptions.sticky {
                "kept alive, most recent reused, new to a random pod".to_owned()
            } else {
                "a new one per request, to a random pod (the api closes each)".to_owned()
            },
            "--sticky true|false",
        ),
        (
            "the HPA's first sync, into the load",
            humantime::format_duration(assumptions.sync_phase).to_string(),
            "--sync-phase",
        ),
        (
            "metrics' age at each sync",
            humantime::format_duration(assumptions.metrics_age).to_string(),
            "--metrics-age",
        ),
        (
            "the run",
            assumptions.rerun_after.map_or_else(
                || "the first, from the HPA's minimum".to_owned(),
                |after| {
                    format!(
                        "a rerun {} after a first one",
                        humantime::format_duration(after)
                    )
                },
            ),
            "--rerun-after",
        ),
        (
            "CPUs the node gives the api pods",
            number(assumptions.node_cpus),
            "--node-cpus",
        ),
    ]
}

/// `PREDICTED autoscale 97/100 | whole-run p95=… err=… ready=1→6 cost=20ms ready-delay=10s sticky`.
/// The p95 and the errors are the whole run's, as on the SCORE line, while
/// the checks read only the run's last seconds: the line says so, lest a
/// whole-run p95 of seconds beside a 100 read as a contradiction.
pub fn predicted_line(scenario: &Scenario, prediction: &Prediction, a: &Assumptions) -> String {
    let (p95, errors) = output::p95_and_errors(&prediction.totals);
    format!(
        "PREDICTED {} {}/100 | whole-run p95={p95} err={errors} ready={}→{} cost={}ms ready-delay={} {}",
        scenario.name,
        prediction.score.total,
        prediction.first_ready,
        prediction.max_ready,
        a.cpu_cost.as_millis(),
        humantime::format_duration(a.ready_delay),
        if a.sticky { "sticky" } else { "not-sticky" },
    )
}
