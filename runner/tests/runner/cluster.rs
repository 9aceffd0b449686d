//! The cluster path's files, checked without a cluster (no Docker engine or
//! Kubernetes can run here): the k3d config against a struct that accepts
//! only the fields k3d's v1alpha5 `Simple` config has and this project
//! uses, and the manifests against what the lab and the k3d config expect
//! of each other. `deploy/check-static.sh` (run by CI) validates the
//! manifests' schema and lints the Dockerfile.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml::Value;

use crate::support::repo_root;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct K3dConfig {
    api_version: String,
    kind: String,
    metadata: Metadata,
    servers: u32,
    agents: u32,
    image: String,
    ports: Vec<PortMapping>,
    options: Options,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PortMapping {
    port: String,
    node_filters: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    k3d: K3dOptions,
    k3s: K3sOptions,
    kubeconfig: KubeconfigOptions,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct K3dOptions {
    wait: bool,
    timeout: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct K3sOptions {
    extra_args: Vec<ExtraArg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExtraArg {
    arg: String,
    node_filters: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KubeconfigOptions {
    update_default_kubeconfig: bool,
    switch_current_context: bool,
}

fn k3d_text() -> String {
    std::fs::read_to_string(repo_root().join("deploy/k3d-config.yaml")).expect("k3d config")
}

fn manifests() -> Vec<Value> {
    let folder = repo_root().join("deploy/k8s");
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(folder).expect("deploy/k8s") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("manifest");
        for document in serde_yaml::Deserializer::from_str(&text) {
            documents.push(Value::deserialize(document).expect("YAML"));
        }
    }
    documents
}

fn named<'a>(documents: &'a [Value], kind: &str, name: &str) -> &'a Value {
    documents
        .iter()
        .find(|doc| {
            doc["kind"].as_str() == Some(kind) && doc["metadata"]["name"].as_str() == Some(name)
        })
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/k8s"))
}

#[test]
fn the_k3d_config_is_one_node_with_the_seeds_ports_and_one_metrics_server() {
    let config: K3dConfig = serde_yaml::from_str(&k3d_text()).expect("a k3d v1alpha5 config");
    assert_eq!(
        (config.api_version.as_str(), config.kind.as_str()),
        ("k3d.io/v1alpha5", "Simple")
    );
    assert_eq!(config.metadata.name, "resilience-lab");
    assert_eq!((config.servers, config.agents), (1, 0));
    assert!(
        config.image.starts_with("rancher/k3s:v") && !config.image.ends_with(":latest"),
        "the k3s image is pinned: {}",
        config.image
    );
    let ports: Vec<&str> = config.ports.iter().map(|p| p.port.as_str()).collect();
    // Bound to loopback: the room must not reach the api's /admin/reset.
    assert_eq!(
        ports,
        [
            "127.0.0.1:${API_PORT}:30080",
            "127.0.0.1:${WORKER_PORT}:30081"
        ]
    );
    assert!(config.ports.iter().all(|p| p.node_filters == ["server:0"]));
    let args: Vec<&str> = config
        .options
        .k3s
        .extra_args
        .iter()
        .map(|a| a.arg.as_str())
        .collect();
    assert!(
        args.contains(&"--disable=traefik"),
        "no ingress controller: {args:?}"
    );
    assert!(
        !args.iter().any(|arg| arg.contains("metrics-server")),
        "k3s's bundled metrics-server is the only one: {args:?}"
    );
    assert!(
        config
            .options
            .k3s
            .extra_args
            .iter()
            .all(|a| !a.node_filters.is_empty())
    );
    assert!(config.options.k3d.wait && !config.options.k3d.timeout.is_empty());
    assert!(config.options.kubeconfig.update_default_kubeconfig);
    assert!(config.options.kubeconfig.switch_current_context);
}

#[test]
fn a_misspelled_k3d_field_is_rejected() {
    let broken = k3d_text().replace("agents:", "agent:");
    let error = serde_yaml::from_str::<K3dConfig>(&broken).expect_err("a misspelling fails");
    assert!(error.to_string().contains("agent"), "{error}");
}

#[test]
fn the_node_ports_match_the_k3d_port_mappings() {
    let documents = manifests();
    for (service, node_port) in [("api", 30080), ("worker", 30081)] {
        let spec = &named(&documents, "Service", service)["spec"];
        assert_eq!(spec["type"], "NodePort", "{service}");
        assert_eq!(
            spec["ports"][0]["nodePort"].as_u64(),
            Some(node_port),
            "{service}"
        );
    }
    assert_eq!(
        named(&documents, "Service", "dep")["spec"]["type"],
        "ClusterIP"
    );
}

#[test]
fn every_lab_role_uses_the_local_image_probes_and_a_grace_period_longer_than_the_drain() {
    let documents = manifests();
    let drain: u64 = 10; // lab's --drain-timeout-secs default
    let mut roles = BTreeMap::new();
    for name in ["api", "worker", "dep"] {
        let pod = &named(&documents, "Deployment", name)["spec"]["template"]["spec"];
        let grace = pod["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("a grace period");
        assert!(
            grace > drain,
            "{name}: {grace} s must exceed the {drain} s drain"
        );
        let container = &pod["containers"][0];
        assert_eq!(container["image"], "resilience-lab:dev", "{name}");
        assert_eq!(container["imagePullPolicy"], "Never", "{name}");
        assert_eq!(container["args"][0], name, "{name} runs its own role");
        assert!(container["readinessProbe"].is_mapping(), "{name}");
        assert!(container["livenessProbe"].is_mapping(), "{name}");
        roles.insert(name, container.clone());
    }
    let postgres = &named(&documents, "StatefulSet", "postgres")["spec"]["template"]["spec"];
    assert!(postgres["containers"][0]["readinessProbe"].is_mapping());
    assert_eq!(roles.len(), 3);
}

#[test]
fn the_baseline_manifests_cannot_scale_and_step_4_can() {
    let folder = repo_root().join("deploy/k8s");
    let baseline = runner::manifests::check_autoscaling(&folder, "api");
    assert!(baseline.iter().any(|finding| !finding.ok), "{baseline:#?}");
    for file in ["api-deployment.yaml", "api-hpa.yaml"] {
        let text = std::fs::read_to_string(folder.join(file)).expect("manifest");
        assert!(
            text.contains("LAB: STEP4 TODO"),
            "{file} carries the marker"
        );
    }
    let copy = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster-step-4");
    runner::commands::demo::refresh_copy(&repo_root(), &copy).expect("copy the tree");
    let solution = runner::solutions::Solution::find(&copy, 4).expect("step 4");
    solution.apply().expect("apply step 4");
    let solved = runner::manifests::check_autoscaling(&copy.join("deploy/k8s"), "api");
    assert!(solved.iter().all(|finding| finding.ok), "{solved:#?}");
}
