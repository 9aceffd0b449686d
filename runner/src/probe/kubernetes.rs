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
