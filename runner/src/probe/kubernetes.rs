//! Kubernetes probes: an object in the cluster (the api's
//! HorizontalPodAutoscaler, its Deployment) read through the API server,
//! as `kubectl get -o json` would show it, so the same dotted fields work:
//! `status.currentReplicas`, `status.readyReplicas`.
//!
//! The client comes from the kubeconfig (`KUBECONFIG`, `~/.kube/config`,
//! its current context and namespace), as kubectl's does; `make up` points
//! it at the k3d cluster.

use std::time::Duration;

use anyhow::{Context, bail};
use k8s_openapi::api::{apps::v1::Deployment, autoscaling::v2::HorizontalPodAutoscaler};
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject},
};
use serde_json::Value;

use crate::scenario::{KubeKind, KubeObject};

/// How long the API server has to answer before a run starts.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// A client for the kubeconfig's current context, checked to answer.
pub async fn connect() -> anyhow::Result<Client> {
    let hint = "Start the cluster (`make up`), or check that `kubectl config current-context` \
                names it (k3d-resilience-lab)";
    let client = match tokio::time::timeout(ANSWER_WITHIN, Client::try_default()).await {
        Ok(Ok(client)) => client,
        Ok(Err(error)) => {
            bail!("cannot make a Kubernetes client from the kubeconfig: {error}. {hint}")
        }
        Err(_) => bail!("no Kubernetes client within {ANSWER_WITHIN:?}. {hint}"),
    };
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

    /// The object as JSON; `None` when it cannot be read in time.
    pub async fn fetch(&self, timeout: Duration) -> Option<Value> {
        let object = tokio::time::timeout(timeout, self.api.get(&self.object.name))
            .await
            .ok()?
            .ok()?;
        serde_json::to_value(object).ok()
    }
}
