//! Kubernetes probes: an object in the cluster (the api's
//! HorizontalPodAutoscaler, its Deployment) read through the API server,
//! as `kubectl get -o json` would show it, so the same dotted fields work:
//! `status.currentReplicas`, `status.readyReplicas`.
//!
//! The client comes from the kubeconfig (`KUBECONFIG`, `~/.kube/config`),
//! as kubectl's does, but for a named context (`--context`, by default
//! `k3d-resilience-lab`, which `make up` creates) whatever context is
//! current: on another cluster the probes would read nothing, or another
//! cluster's `api`, and the replicas check would score that silently.

use std::time::Duration;

use anyhow::{Context, bail};
use k8s_openapi::api::{apps::v1::Deployment, autoscaling::v2::HorizontalPodAutoscaler};
use kube::{
    Api, Client, Config,
    api::{ApiResource, DynamicObject},
    config::KubeConfigOptions,
};
use serde_json::Value;

use crate::scenario::{KubeKind, KubeObject};

/// How long the API server has to answer before a run starts.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// A client for the kubeconfig's context `context`, checked to answer.
pub async fn connect(context: &str) -> anyhow::Result<Client> {
    let hint = format!(
        "Start the cluster (`make up`), or name the context with --context \
         (`kubectl config get-contexts` lists them); this run reads `{context}`"
    );
    let options = KubeConfigOptions {
        context: Some(context.to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = match tokio::time::timeout(ANSWER_WITHIN, Config::from_kubeconfig(&options)).await
    {
        Ok(Ok(config)) => config,
        Ok(Err(error)) => {
            bail!("cannot read context `{context}` from the kubeconfig: {error}. {hint}")
        }
        Err(_) => bail!("the kubeconfig could not be read within {ANSWER_WITHIN:?}. {hint}"),
    };
    let client = Client::try_from(config)
        .with_context(|| format!("cannot make a Kubernetes client for `{context}`. {hint}"))?;
    match tokio::time::timeout(ANSWER_WITHIN, client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(client),
        Ok(Err(error)) => {
            Err(error).context(format!("the Kubernetes API server did not answer. {hint}"))
        }
        Err(_) => {
            bail!("the Kubernetes API server did not answer within {ANSWER_WITHIN:?}. {hint}")
        }
    }
}

/// One object a probe reads.
#[derive(Debug, Clone)]
pub struct Object {
    api: Api<DynamicObject>,
    object: KubeObject,
}

impl Object {
    pub fn new(client: &Client, object: &KubeObject) -> Self {
        let resource = match object.kind {
            KubeKind::HorizontalPodAutoscaler => ApiResource::erase::<HorizontalPodAutoscaler>(&()),
            KubeKind::Deployment => ApiResource::erase::<Deployment>(&()),
        };
        Self {
            api: Api::default_namespaced_with(client.clone(), &resource),
            object: object.clone(),
        }
    }

    pub fn describe(&self) -> String {
        format!("kubernetes: {}", self.object)
    }

    /// The object is in the cluster, or an error within [`ANSWER_WITHIN`]
    /// that says which is missing where.
    pub async fn exists(&self, context: &str) -> anyhow::Result<()> {
        let namespace = self.api.namespace().unwrap_or("default").to_owned();
        match tokio::time::timeout(ANSWER_WITHIN, self.api.get_opt(&self.object.name)).await {
            Ok(Ok(Some(_))) => Ok(()),
            Ok(Ok(None)) => bail!(
                "{} is not in namespace `{namespace}` of context `{context}`: \
                 apply the manifests (`make up`, or `make apply` after an edit), \
                 or name the right context with --context",
                self.object
            ),
            Ok(Err(error)) => Err(error).context(format!(
                "cannot read {} in context `{context}`",
                self.object
            )),
            Err(_) => bail!(
                "{} in context `{context}` did not answer within {ANSWER_WITHIN:?}",
                self.object
            ),
        }
    }

    /// The object as JSON; `None` when it cannot be read in time.
    pub async fn fetch(&self, timeout: Duration) -> Option<Value> {
        let object = tokio::time::timeout(timeout, self.api.get(&self.object.name))
            .await
            .ok()?
            .ok()?;
        serde_json::to_value(object).ok()
    }
}

/// Where a case-4 run starts: the api's replicas when the HPA is at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtRest {
    /// Pods the Deployment runs.
    pub replicas: u32,
    /// The HPA's `minReplicas`.
    pub minimum: u32,
}

/// The HPA's scale-down window when the manifest sets none.
const DEFAULT_SCALE_DOWN_WINDOW: i64 = 300;

/// Checks that the Deployment `deployment` runs exactly the HPA `hpa`'s
/// `minReplicas`, and that no scale-down is pending or under way. The HPA
/// keeps replicas for its scale-down window (300 s by default) after the
/// load ends: a rerun within it would start pre-scaled and pass the
/// replicas gate at its first poll, whatever the manifests say.
pub async fn at_rest(
    client: &Client,
    hpa: &str,
    deployment: &str,
    context: &str,
) -> anyhow::Result<AtRest> {
    let hpas: Api<HorizontalPodAutoscaler> = Api::default_namespaced(client.clone());
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let read = |what: String| format!("cannot read {what} in context `{context}`");
    let scaler = tokio::time::timeout(ANSWER_WITHIN, hpas.get(hpa))
        .await
        .with_context(|| read(format!("HorizontalPodAutoscaler/{hpa} in time")))?
        .with_context(|| read(format!("HorizontalPodAutoscaler/{hpa}")))?;
    let pods = tokio::time::timeout(ANSWER_WITHIN, deployments.get(deployment))
        .await
        .with_context(|| read(format!("Deployment/{deployment} in time")))?
        .with_context(|| read(format!("Deployment/{deployment}")))?;
    let count =
        |n: Option<i32>, otherwise: u32| n.map_or(otherwise, |n| u32::try_from(n).unwrap_or(0));
    let minimum = count(scaler.spec.as_ref().and_then(|spec| spec.min_replicas), 1);
    let wanted = count(pods.spec.as_ref().and_then(|spec| spec.replicas), 1);
    let running = count(pods.status.as_ref().and_then(|status| status.replicas), 0);
    if wanted == minimum && running == minimum {
        return Ok(AtRest {
            replicas: running,
            minimum,
        });
    }
    if wanted == minimum {
        bail!(
            "Deployment/{deployment} is scaling to {minimum} replicas and still runs {running}. \
             Wait until `kubectl --context {context} get deployment/{deployment}` shows \
             {minimum}, then run again"
        );
    }
    if wanted < minimum {
        bail!(
            "Deployment/{deployment} asks for {wanted} replicas, under its HPA's minimum of \
             {minimum}: the HPA has not acted on it yet (is it new?). {RESET}"
        );
    }
    bail!(
        "the api runs {wanted} replicas and its HPA's minimum is {minimum}: a scale-down is \
         pending. A run now would start pre-scaled and pass the replicas check without \
         scaling. {} {RESET}",
        time_left(&scaler)
    )
}

/// What resets a pre-scaled api at once.
const RESET: &str = "Reset now with `make rescale` (it scales the api to the HPA's minimum and \
                     re-creates the HPA, which forgets the last run), then run again";

/// How long the HPA keeps its replicas, and what is left of it.
fn time_left(scaler: &HorizontalPodAutoscaler) -> String {
    let window = scaler
        .spec
        .as_ref()
        .and_then(|spec| spec.behavior.as_ref())
        .and_then(|behavior| behavior.scale_down.as_ref())
        .and_then(|rules| rules.stabilization_window_seconds)
        .map_or(DEFAULT_SCALE_DOWN_WINDOW, i64::from);
    let since_scaled = scaler
        .status
        .as_ref()
        .and_then(|status| status.last_scale_time.as_ref())
        .and_then(seconds_since);
    let left = match since_scaled {
        Some(since) if since < window => format!(
            ": it scaled {since} s ago, so at least {} s are left",
            window - since
        ),
        _ => String::new(),
    };
    format!(
        "The HPA keeps replicas for its scale-down window, {window} s after the load ends{left}."
    )
}

/// Whole seconds from a Kubernetes time (RFC 3339 on the wire) to now.
fn seconds_since(time: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> Option<i64> {
    let text = serde_json::to_value(time).ok()?;
    let at = humantime::parse_rfc3339_weak(text.as_str()?).ok()?;
    let since = std::time::SystemTime::now().duration_since(at).ok()?;
    i64::try_from(since.as_secs()).ok()
}

/// How long a run waits for the cluster's metrics before it gives up.
const METRICS_WITHIN: Duration = Duration::from_secs(120);
/// The APIService through which the HPA reads pods' CPU.
const METRICS_API: &str = "v1beta1.metrics.k8s.io";

/// Waits until metrics-server serves the metrics API (its APIService is
/// Available) and the HPA `hpa` can compute from it (`ScalingActive`).
/// After `make up`, or a laptop's sleep, that takes a minute; a run that
/// started before would see an HPA that cannot scale, and score it.
pub async fn metrics_ready(client: &Client, hpa: &str, context: &str) -> anyhow::Result<()> {
    let services: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource {
            group: "apiregistration.k8s.io".into(),
            version: "v1".into(),
            api_version: "apiregistration.k8s.io/v1".into(),
            kind: "APIService".into(),
            plural: "apiservices".into(),
        },
    );
    let hpas: Api<DynamicObject> = Api::default_namespaced_with(
        client.clone(),
        &ApiResource::erase::<HorizontalPodAutoscaler>(&()),
    );
    let started = std::time::Instant::now();
    let mut said = false;
    loop {
        let service = services.get_opt(METRICS_API).await.ok().flatten();
        let scaler = hpas.get_opt(hpa).await.ok().flatten();
        let service_up = condition(service.as_ref(), "Available");
        let scaling = condition(scaler.as_ref(), "ScalingActive");
        if service_up.is_true() && scaling.is_true() {
            if said {
                crate::errln!("metrics ready after {} s", started.elapsed().as_secs());
            }
            return Ok(());
        }
        if started.elapsed() >= METRICS_WITHIN {
            bail!(
                "the cluster's metrics are not ready after {} s: APIService {METRICS_API} {}, \
                 HorizontalPodAutoscaler/{hpa} {}. metrics-server needs a minute after \
                 `make up` or a laptop's sleep; if it stays so, look at \
                 `kubectl --context {context} get apiservice {METRICS_API}` and \
                 `kubectl --context {context} describe hpa {hpa}`",
                METRICS_WITHIN.as_secs(),
                service_up.describe("Available"),
                scaling.describe("ScalingActive"),
            );
        }
        if !said {
            crate::errln!(
                "waiting for the cluster's metrics (up to {} s): APIService {METRICS_API} {}, \
                 HorizontalPodAutoscaler/{hpa} {}",
                METRICS_WITHIN.as_secs(),
                service_up.describe("Available"),
                scaling.describe("ScalingActive"),
            );
            said = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// One status condition of an object, as read.
enum Condition {
    /// The object could not be read.
    NoObject,
    /// The object has no such condition yet.
    Missing,
    /// Its status ("True", "False", "Unknown") and reason.
    Is { status: String, reason: String },
}

impl Condition {
    fn is_true(&self) -> bool {
        matches!(self, Self::Is { status, .. } if status == "True")
    }

    fn describe(&self, kind: &str) -> String {
        match self {
            Self::NoObject => "cannot be read".to_owned(),
            Self::Missing => format!("has no {kind} condition yet"),
            Self::Is { status, reason } if reason.is_empty() => format!("{kind}={status}"),
            Self::Is { status, reason } => format!("{kind}={status} ({reason})"),
        }
    }
}

/// The condition `kind` in `object`'s `status.conditions`.
fn condition(object: Option<&DynamicObject>, kind: &str) -> Condition {
    let Some(object) = object else {
        return Condition::NoObject;
    };
    let conditions = object.data["status"]["conditions"].as_array();
    let Some(found) = conditions
        .into_iter()
        .flatten()
        .find(|condition| condition["type"] == kind)
    else {
        return Condition::Missing;
    };
    let text = |field: &str| found[field].as_str().unwrap_or_default().to_owned();
    Condition::Is {
        status: text("status"),
        reason: text("reason"),
    }
}
