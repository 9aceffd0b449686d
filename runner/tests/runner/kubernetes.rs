//! The autoscale scenario's Kubernetes probes, end to end: the real runner
//! binary runs `runner run autoscale` against a real lab api (in this
//! process, on a fresh PostgreSQL database) and reads the HPA and the api's
//! Deployment through a kubeconfig.
//!
//! No Kubernetes API server can run on this project's machines, so the API
//! server is a stand-in: an axum app on loopback that serves `/version` and
//! the objects in the JSON shapes Kubernetes 1.33 gives them (the HPA, the
//! api's Deployment, metrics-server's APIService), with the api scaling
//! from one replica to three 6 s after the runner's first read. Everything
//! on the runner's side (kubeconfig, kube client, polling, the report and
//! the score) is real.

use std::{
    path::Path,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Json, Router, extract::State, routing::get};
use serde_json::{Value, json};

use crate::{
    ONE_AT_A_TIME,
    support::{TestDb, closed_address, lab_stack, repo_root, runner_on, scratch, serve, succeeded},
};

/// The stand-in cluster's state, and how many times each object was read.
#[derive(Debug, Default)]
struct Reads {
    hpa: AtomicU32,
    deployment: AtomicU32,
    /// When the runner first read the cluster.
    first: OnceLock<Instant>,
    /// Replicas left over from an earlier run (0: none, the HPA at rest).
    pre_scaled: AtomicU32,
    /// How long after the first read metrics-server serves metrics.
    metrics_after: Mutex<Duration>,
}

impl Reads {
    fn since_first(&self) -> Duration {
        self.first.get_or_init(Instant::now).elapsed()
    }

    /// The api's replicas: left over from an earlier run, or one (the HPA's
    /// minimum) until 6 s after the first read, then three once the HPA
    /// acted. The run's first probe poll is in its first second.
    fn replicas(&self) -> u32 {
        match self.pre_scaled.load(Ordering::SeqCst) {
            0 if self.since_first() < Duration::from_secs(6) => 1,
            0 => 3,
            left_over => left_over,
        }
    }

    fn metrics_ready(&self) -> bool {
        self.since_first() >= *self.metrics_after.lock().expect("lock")
    }
}

/// A status condition as Kubernetes writes it.
fn condition(kind: &str, ready: bool) -> Value {
    json!({
        "type": kind,
        "status": if ready { "True" } else { "False" },
        "reason": if ready { "ValidMetricFound" } else { "FailedGetResourceMetric" },
        "lastTransitionTime": "2026-11-29T12:00:00Z"
    })
}

fn stand_in_api_server(reads: Arc<Reads>) -> Router {
    Router::new()
        .route(
            "/version",
            get(|| async {
                Json(json!({
                    "major": "1", "minor": "33", "gitVersion": "v1.33.4+k3s1",
                    "gitCommit": "0000000000000000000000000000000000000000",
                    "gitTreeState": "clean", "buildDate": "2025-08-01T00:00:00Z",
                    "goVersion": "go1.24.4", "compiler": "gc", "platform": "linux/amd64"
                }))
            }),
        )
        .route(
            "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io",
            get(|State(reads): State<Arc<Reads>>| async move {
                Json(json!({
                    "apiVersion": "apiregistration.k8s.io/v1",
                    "kind": "APIService",
                    "metadata": { "name": "v1beta1.metrics.k8s.io" },
                    "spec": { "group": "metrics.k8s.io", "version": "v1beta1",
                              "groupPriorityMinimum": 100, "versionPriority": 100 },
                    "status": { "conditions": [condition("Available", reads.metrics_ready())] }
                }))
            }),
        )
        .route(
            "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/api",
            get(|State(reads): State<Arc<Reads>>| async move {
                reads.hpa.fetch_add(1, Ordering::SeqCst);
                let current = reads.replicas();
                let utilisation = if current == 1 { 198 } else { 71 };
                // A scale 40 s ago: an earlier run's, when pre-scaled.
                let scaled = humantime::format_rfc3339_seconds(
                    std::time::SystemTime::now() - Duration::from_secs(40),
                )
                .to_string();
                Json(json!({
                    "apiVersion": "autoscaling/v2",
                    "kind": "HorizontalPodAutoscaler",
                    "metadata": { "name": "api", "namespace": "default" },
                    "spec": {
                        "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "api" },
                        "minReplicas": 1, "maxReplicas": 6,
                        "metrics": [{ "type": "Resource", "resource": {
                            "name": "cpu", "target": { "type": "Utilization", "averageUtilization": 60 } } }]
                    },
                    "status": {
                        "currentReplicas": current,
                        "desiredReplicas": current,
                        "lastScaleTime": scaled,
                        "currentMetrics": [{ "type": "Resource", "resource": {
                            "name": "cpu", "current": { "averageUtilization": utilisation, "averageValue": "495m" } } }],
                        "conditions": [condition("ScalingActive", reads.metrics_ready())]
                    }
                }))
            }),
        )
        .route(
            "/apis/apps/v1/namespaces/default/deployments/api",
            get(|State(reads): State<Arc<Reads>>| async move {
                reads.deployment.fetch_add(1, Ordering::SeqCst);
                let replicas = reads.replicas();
                Json(json!({
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": { "name": "api", "namespace": "default" },
                    "spec": {
                        "replicas": replicas,
                        "selector": { "matchLabels": { "app.kubernetes.io/name": "api" } },
                        "template": { "metadata": { "labels": { "app.kubernetes.io/name": "api" } },
                                      "spec": { "containers": [{ "name": "api", "image": "resilience-lab:dev" }] } }
                    },
                    "status": { "replicas": replicas, "readyReplicas": replicas,
                                "availableReplicas": replicas, "updatedReplicas": replicas }
                }))
            }),
        )
        // What a real API server answers for an object it does not have.
        .fallback(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                Json(json!({
                    "kind": "Status", "apiVersion": "v1", "metadata": {},
                    "status": "Failure", "message": "not found", "reason": "NotFound",
                    "code": 404
                })),
            )
        })
        .with_state(reads)
}

/// A kubeconfig whose context `k3d-resilience-lab` is the server at `url`,
/// and whose *current* context is another cluster, where nothing answers:
/// the runner must read the context it names, whatever is current.
fn kubeconfig(folder: &Path, url: &str) -> std::path::PathBuf {
    let path = folder.join("kubeconfig");
    let elsewhere = closed_address();
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
  - name: stand-in
    cluster:
      server: {url}
  - name: elsewhere
    cluster:
      server: http://{elsewhere}
users:
  - name: nobody
    user: {{}}
contexts:
  - name: k3d-resilience-lab
    context:
      cluster: stand-in
      user: nobody
      namespace: default
  - name: elsewhere
    context:
      cluster: elsewhere
      user: nobody
current-context: elsewhere
"
    );
    std::fs::write(&path, text).expect("write the kubeconfig");
    path
}

/// The runner on the shipped scenarios, against the stand-in cluster that
/// `kubeconfig` names.
fn on_cluster(kubeconfig: &Path, args: &[&str]) -> tokio::process::Command {
    on_cluster_with(&repo_root().join("scenarios.toml"), kubeconfig, args)
}

/// Runs `command` with reports in `folder`; it must refuse (exit 1) within
/// seconds, having measured nothing. Returns what it said.
async fn refused(mut command: tokio::process::Command, folder: &Path) -> String {
    let started = Instant::now();
    let output = command
        .arg("--reports")
        .arg(folder.join("reports"))
        .output()
        .await
        .expect("runner run autoscale");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!folder.join("reports").exists(), "nothing was measured");
    stderr
}

/// The runner on another scenarios file, against the stand-in cluster.
fn on_cluster_with(scenarios: &Path, kubeconfig: &Path, args: &[&str]) -> tokio::process::Command {
    let mut command = runner_on(scenarios);
    command.args(args).env("KUBECONFIG", kubeconfig);
    tokio::process::Command::from(command)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_autoscale_run_records_replicas_and_utilisation_and_scores_them() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::create().await;
    let api = lab_stack(&db).await;
    let reads = Arc::new(Reads::default());
    let server = serve(stand_in_api_server(reads.clone())).await;
    let folder = scratch("kubernetes-run");
    let config = kubeconfig(&folder, &server);
    let reports = folder.join("reports");
    let output = on_cluster(
        &config,
        &[
            "run",
            "autoscale",
            "--duration",
            "12s",
            "--rate",
            "5",
            "--json",
        ],
    )
    .arg("--target")
    .arg(format!("api={api}"))
    .arg("--reports")
    .arg(&reports)
    .output()
    .await
    .expect("runner run autoscale");
    let (stdout, _) = succeeded(&output);
    assert!(reads.hpa.load(Ordering::SeqCst) >= 2, "the HPA was polled");

    let summary: Value = serde_json::from_str(stdout.trim()).expect("--json summary");
    let replicas = summary["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|check| check["label"] == "deployment.status.readyReplicas (max)")
        .unwrap_or_else(|| panic!("a replicas check: {summary}"));
    assert_eq!(replicas["value"], 3.0, "{replicas}");
    assert_eq!(replicas["met"], true, "{replicas}");

    let run = reports
        .join("autoscale")
        .join(summary["run_id"].as_str().expect("run id"));
    let data: Value =
        serde_json::from_slice(&std::fs::read(run.join("data.json")).expect("data.json"))
            .expect("JSON");
    let hpa = data["probes"]
        .as_array()
        .expect("probes")
        .iter()
        .find(|probe| probe["name"] == "hpa")
        .expect("the hpa probe");
    assert_eq!(hpa["url"], "kubernetes: HorizontalPodAutoscaler/api");
    let series = |field: &str| -> Vec<f64> {
        hpa["series"]
            .as_array()
            .expect("series")
            .iter()
            .find(|series| series["field"] == field)
            .and_then(|series| series["points"].as_array())
            .expect("a series")
            .iter()
            .map(|point| point[1].as_f64().expect("a value"))
            .collect()
    };
    let current = series("status.currentReplicas");
    assert!(current.contains(&3.0), "replicas rose: {current:?}");
    let utilisation = series("status.currentMetrics.0.resource.current.averageUtilization");
    assert!(!utilisation.is_empty(), "utilisation recorded");

    let report = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    assert!(report.contains("Probe hpa"), "the report charts the HPA");
    assert!(report.contains("Probe deployment"), "and the Deployment");
    assert!(
        report.contains("scale-up: 1 → 3"),
        "the scale-up moment is marked on the charts"
    );
    assert!(
        report.contains("readyReplicas</code>: scaled up from 1 to 3 at"),
        "and said in words"
    );
}

#[tokio::test]
async fn without_a_cluster_the_run_stops_before_it_starts_and_says_what_to_do() {
    let folder = scratch("kubernetes-down");
    let closed = closed_address();
    let config = kubeconfig(&folder, &format!("http://{closed}"));
    let stderr = refused(
        on_cluster(&config, &["run", "autoscale", "--no-open"]),
        &folder,
    )
    .await;
    assert!(
        stderr.contains("Kubernetes API server did not answer") && stderr.contains("make up"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_context_the_kubeconfig_lacks_is_named() {
    let folder = scratch("kubernetes-context");
    let config = kubeconfig(&folder, "http://127.0.0.1:1");
    let command = on_cluster(&config, &["run", "autoscale", "--context", "k3d-other"]);
    let stderr = refused(command, &folder).await;
    assert!(
        stderr.contains("cannot read context `k3d-other`") && stderr.contains("--context"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_object_missing_from_the_cluster_stops_the_run_in_seconds() {
    let db = TestDb::create().await;
    let api = lab_stack(&db).await;
    let server = serve(stand_in_api_server(Arc::new(Reads::default()))).await;
    let folder = scratch("kubernetes-missing");
    let config = kubeconfig(&folder, &server);
    // The scenario reads a Deployment the stand-in does not have.
    let scenarios = std::fs::read_to_string(repo_root().join("scenarios.toml"))
        .expect("scenarios.toml")
        .replace(
            "kubernetes = \"Deployment/api\"",
            "kubernetes = \"Deployment/apii\"",
        );
    let file = folder.join("scenarios.toml");
    std::fs::write(&file, scenarios).expect("write scenarios");
    let mut command = on_cluster_with(&file, &config, &["run", "autoscale", "--no-open"]);
    command.arg("--target").arg(format!("api={api}"));
    let stderr = refused(command, &folder).await;
    assert!(
        stderr.contains(
            "Deployment/apii is not in namespace `default` of context `k3d-resilience-lab`"
        ) && stderr.contains("make apply"),
        "{stderr}"
    );
}

/// A run of `seconds` against the stand-in at 5 requests per second.
fn short_run(config: &Path, api: &str, seconds: &str) -> tokio::process::Command {
    let mut command = on_cluster(
        config,
        &[
            "run",
            "autoscale",
            "--duration",
            seconds,
            "--rate",
            "5",
            "--json",
        ],
    );
    command.arg("--target").arg(format!("api={api}"));
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_that_would_start_pre_scaled_is_refused_until_the_reset() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::create().await;
    let api = lab_stack(&db).await;
    let reads = Arc::new(Reads::default());
    // An earlier run's six replicas, kept by the HPA's scale-down window.
    reads.pre_scaled.store(6, Ordering::SeqCst);
    let server = serve(stand_in_api_server(reads.clone())).await;
    let folder = scratch("kubernetes-pre-scaled");
    let config = kubeconfig(&folder, &server);
    let stderr = refused(short_run(&config, &api, "2s"), &folder).await;
    assert!(
        stderr.contains("the api runs 6 replicas and its HPA's minimum is 1")
            && stderr.contains("scale-down is pending")
            && stderr.contains("it scaled 40 s ago, so at least 260 s are left")
            && stderr.contains("make rescale"),
        "{stderr}"
    );

    // What `make rescale` leaves: the minimum, and an HPA at rest.
    reads.pre_scaled.store(0, Ordering::SeqCst);
    let output = short_run(&config, &api, "2s")
        .arg("--reports")
        .arg(folder.join("reports-after"))
        .output()
        .await
        .expect("runner run autoscale");
    let (stdout, _) = succeeded(&output);
    let summary: Value = serde_json::from_str(stdout.trim()).expect("--json summary");
    let data: Value = serde_json::from_slice(
        &std::fs::read(summary["data"].as_str().expect("data.json path")).expect("data.json"),
    )
    .expect("JSON");
    assert_eq!(
        data["settings"]["start_replicas"], 1,
        "{}",
        data["settings"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_waits_for_the_clusters_metrics() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::create().await;
    let api = lab_stack(&db).await;
    let reads = Arc::new(Reads::default());
    *reads.metrics_after.lock().expect("lock") = Duration::from_secs(3);
    let server = serve(stand_in_api_server(reads.clone())).await;
    let folder = scratch("kubernetes-metrics");
    let config = kubeconfig(&folder, &server);
    let started = Instant::now();
    let output = short_run(&config, &api, "1s")
        .arg("--reports")
        .arg(folder.join("reports"))
        .output()
        .await
        .expect("runner run autoscale");
    let (_, stderr) = succeeded(&output);
    assert!(
        stderr.contains("waiting for the cluster's metrics")
            && stderr.contains(
                "APIService v1beta1.metrics.k8s.io Available=False (FailedGetResourceMetric)"
            )
            && stderr.contains("metrics ready after"),
        "{stderr}"
    );
    assert!(started.elapsed() >= Duration::from_secs(3), "it waited");
}
