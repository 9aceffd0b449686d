//! `runner check autoscale`: could a HorizontalPodAutoscaler scale the api,
//! judging from the manifests in `deploy/k8s/`?
//!
//! This is the autoscale case's feedback when no cluster is at hand
//! (`runner run autoscale --local` ends here). It reads every YAML file in
//! the folder and checks what the HPA needs, each with what to do:
//!
//! - the api's containers request CPU (the HPA's utilisation is usage
//!   divided by request; without a request there is nothing to compute; a
//!   limit alone counts, since Kubernetes then requests the limit);
//! - an HPA targets the api's Deployment;
//! - its maximum replicas are above its minimum;
//! - it scales on CPU utilisation, with a target that leaves headroom;
//! - its scale-up is not held back by a long stabilisation window.
//!
//! Whether the cluster then really scales (metrics-server running, the
//! image built) is only known on a cluster; the report of a real run shows
//! the replicas.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// A sensible CPU utilisation target, in percent. Below, the HPA adds
/// replicas for load one replica handles; above, replicas come only once
/// the api is saturated and latency has already climbed.
const SENSIBLE_TARGET: std::ops::RangeInclusive<u64> = 30..=90;

/// Longest scale-up stabilisation window, in seconds, that still lets
/// replicas rise within the autoscale scenario.
const PROMPT_SCALE_UP_SECS: u64 = 60;

/// One line of the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub ok: bool,
    pub text: String,
}

impl Finding {
    fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    fn missing(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            text: text.into(),
        }
    }
}

/// A parsed document and the file it came from.
#[derive(Debug)]
struct Document {
    file: PathBuf,
    value: Value,
}

/// Checks whether an HPA in `folder` could scale the Deployment named
/// `deployment`.
pub fn check_autoscaling(folder: &Path, deployment: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let documents = read_folder(folder, &mut findings);
    if documents.is_empty() {
        findings.push(Finding::missing(format!(
            "no Kubernetes manifests in {}: the api's Deployment and its \
             HorizontalPodAutoscaler belong there",
            folder.display()
        )));
        return findings;
    }
    check_requests(&documents, deployment, &mut findings);
    check_hpa(&documents, deployment, &mut findings);
    findings
}

fn read_folder(folder: &Path, findings: &mut Vec<Finding>) -> Vec<Document> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    let mut documents = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(error) => {
                findings.push(Finding::missing(format!(
                    "cannot read {}: {error}",
                    file.display()
                )));
                continue;
            }
        };
        for document in serde_yaml::Deserializer::from_str(&text) {
            match serde::Deserialize::deserialize(document) {
                Ok(Value::Null) => {}
                Ok(value) => documents.push(Document {
                    file: file.clone(),
                    value,
                }),
                Err(error) => {
                    findings.push(Finding::missing(format!(
                        "{} is not valid YAML: {error}",
                        file.display()
                    )));
                    break;
                }
            }
        }
    }
    documents
}

fn of_kind<'a>(documents: &'a [Document], kind: &'a str) -> impl Iterator<Item = &'a Document> {
    documents
        .iter()
        .filter(move |document| document.value["kind"].as_str() == Some(kind))
}

fn name(value: &Value) -> &str {
    value["metadata"]["name"].as_str().unwrap_or("(unnamed)")
}

fn check_requests(documents: &[Document], deployment: &str, findings: &mut Vec<Finding>) {
    let Some(found) = of_kind(documents, "Deployment").find(|doc| name(&doc.value) == deployment)
    else {
        findings.push(Finding::missing(format!(
            "no Deployment named `{deployment}`: the HPA needs one to scale"
        )));
        return;
    };
    let containers = found.value["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for container in containers {
        let container_name = container["name"].as_str().unwrap_or("(unnamed)");
        let resources = &container["resources"];
        let limit = quantity(&resources["limits"]["cpu"]);
        match (quantity(&resources["requests"]["cpu"]), limit) {
            (Some(request), limit) => findings.push(Finding::ok(format!(
                "container `{container_name}` of Deployment `{deployment}` requests {request} CPU{}",
                limit
                    .map(|limit| format!(" (limit {limit})"))
                    .unwrap_or_default()
            ))),
            // Kubernetes gives a container that sets only a limit a request
            // equal to it, so the HPA has something to divide by.
            (None, Some(limit)) => findings.push(Finding::ok(format!(
                "container `{container_name}` of Deployment `{deployment}` sets no CPU request, \
                 so Kubernetes requests its limit, {limit}"
            ))),
            (None, None) => findings.push(Finding::missing(format!(
                "container `{container_name}` of Deployment `{deployment}` ({}) requests no CPU: \
                 the HPA measures utilisation as usage / request, so it has nothing to compute. \
                 Add resources.requests.cpu",
                found.file.display()
            ))),
        }
    }
}

fn check_hpa(documents: &[Document], deployment: &str, findings: &mut Vec<Finding>) {
    let hpas: Vec<&Document> = of_kind(documents, "HorizontalPodAutoscaler").collect();
    let targets_api = |doc: &&&Document| {
        let target = &doc.value["spec"]["scaleTargetRef"];
        target["kind"].as_str() == Some("Deployment") && target["name"].as_str() == Some(deployment)
    };
    let Some(hpa) = hpas.iter().find(targets_api) else {
        findings.push(Finding::missing(match hpas.first() {
            None => format!(
                "no HorizontalPodAutoscaler: add one whose scaleTargetRef is Deployment `{deployment}`"
            ),
            Some(other) => format!(
                "HorizontalPodAutoscaler `{}` ({}) does not target Deployment `{deployment}`: \
                 set spec.scaleTargetRef to kind Deployment, name {deployment}",
                name(&other.value),
                other.file.display()
            ),
        }));
        return;
    };
    let spec = &hpa.value["spec"];
    let hpa_name = name(&hpa.value);
    findings.push(Finding::ok(format!(
        "HorizontalPodAutoscaler `{hpa_name}` targets Deployment `{deployment}`"
    )));

    findings.push(room_to_grow(spec));
    findings.push(cpu_utilisation(spec));
    findings.push(prompt_scale_up(spec));
}

/// maxReplicas above minReplicas.
fn room_to_grow(spec: &Value) -> Finding {
    let min = spec["minReplicas"].as_u64().unwrap_or(1);
    let max = spec["maxReplicas"].as_u64().unwrap_or(0);
    if max > min {
        Finding::ok(format!("it may scale from {min} to {max} replicas"))
    } else {
        Finding::missing(format!(
            "maxReplicas ({max}) is not above minReplicas ({min}): the HPA may never add a \
             replica. Raise maxReplicas"
        ))
    }
}

/// A CPU utilisation target in a sensible range.
fn cpu_utilisation(spec: &Value) -> Finding {
    match cpu_target(spec) {
        None => Finding::missing(
            "it does not scale on CPU utilisation: add a Resource metric for cpu with \
             target type Utilization",
        ),
        Some(percent) if SENSIBLE_TARGET.contains(&percent) => Finding::ok(format!(
            "it scales on CPU utilisation, targeting {percent}%"
        )),
        Some(percent) => Finding::missing(format!(
            "its CPU utilisation target of {percent}% is outside {}-{}%: too low adds replicas \
             for load one can handle, too high adds them only once the api is saturated",
            SENSIBLE_TARGET.start(),
            SENSIBLE_TARGET.end()
        )),
    }
}

/// A scale-up that is neither disabled nor held back for long.
fn prompt_scale_up(spec: &Value) -> Finding {
    // Kubernetes' default scale-up has no stabilisation window.
    let window = spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"]
        .as_u64()
        .unwrap_or(0);
    let disabled = spec["behavior"]["scaleUp"]["selectPolicy"].as_str() == Some("Disabled");
    if disabled {
        Finding::missing("its scale-up is disabled (behavior.scaleUp.selectPolicy: Disabled)")
    } else if window > PROMPT_SCALE_UP_SECS {
        Finding::missing(format!(
            "its scale-up waits {window} s (behavior.scaleUp.stabilizationWindowSeconds); \
             at most {PROMPT_SCALE_UP_SECS} s lets replicas rise during the scenario"
        ))
    } else {
        Finding::ok(format!("it scales up promptly ({window} s stabilisation)"))
    }
}

/// The CPU utilisation target: autoscaling/v2's Resource metric, or v1's
/// `targetCPUUtilizationPercentage`.
fn cpu_target(spec: &Value) -> Option<u64> {
    let from_v2 = spec["metrics"].as_sequence().and_then(|metrics| {
        metrics.iter().find_map(|metric| {
            let resource = &metric["resource"];
            let is_cpu = metric["type"].as_str() == Some("Resource")
                && resource["name"].as_str() == Some("cpu")
                && resource["target"]["type"].as_str() == Some("Utilization");
            is_cpu
                .then(|| resource["target"]["averageUtilization"].as_u64())
                .flatten()
        })
    });
    from_v2.or_else(|| spec["targetCPUUtilizationPercentage"].as_u64())
}

/// A resource quantity as written (`250m`, `1`, `0.5`).
fn quantity(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - name: api
          image: resilience-lab:dev
          resources:
            requests: {cpu: 250m}
            limits: {cpu: '1'}
";

    const HPA: &str = "
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 0}
";

    fn check(files: &[(&str, &str)]) -> Vec<Finding> {
        let folder = std::env::temp_dir().join(format!(
            "runner-manifests-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).expect("temp folder");
        for (name, text) in files {
            std::fs::write(folder.join(name), text).expect("write manifest");
        }
        let findings = check_autoscaling(&folder, "api");
        let _ = std::fs::remove_dir_all(&folder);
        findings
    }

    fn problems(findings: &[Finding]) -> Vec<&str> {
        findings
            .iter()
            .filter(|finding| !finding.ok)
            .map(|finding| finding.text.as_str())
            .collect()
    }

    #[test]
    fn a_scalable_api_passes_every_check() {
        let findings = check(&[("api-deployment.yaml", DEPLOYMENT), ("api-hpa.yaml", HPA)]);
        assert!(problems(&findings).is_empty(), "{findings:#?}");
        assert_eq!(findings.len(), 5, "{findings:#?}");
    }

    #[test]
    fn no_manifests_say_what_is_missing() {
        let findings = check(&[]);
        assert!(problems(&findings)[0].contains("no Kubernetes manifests"));
    }

    #[test]
    fn each_broken_piece_is_named() {
        let no_request = DEPLOYMENT
            .replace("requests: {cpu: 250m}", "requests: {memory: 64Mi}")
            .replace("limits: {cpu: '1'}", "limits: {memory: 128Mi}");
        let wrong_target = HPA.replace("name: api}", "name: web}");
        let stuck = HPA.replace("maxReplicas: 4", "maxReplicas: 1");
        let greedy = HPA.replace("averageUtilization: 60", "averageUtilization: 99");
        let slow = HPA.replace(
            "stabilizationWindowSeconds: 0",
            "stabilizationWindowSeconds: 300",
        );
        for (deployment, hpa, expected) in [
            (no_request.as_str(), HPA, "requests no CPU"),
            (
                DEPLOYMENT,
                wrong_target.as_str(),
                "does not target Deployment `api`",
            ),
            (DEPLOYMENT, stuck.as_str(), "maxReplicas (1) is not above"),
            (DEPLOYMENT, greedy.as_str(), "target of 99%"),
            (DEPLOYMENT, slow.as_str(), "scale-up waits 300 s"),
            (
                DEPLOYMENT,
                "kind: ConfigMap\nmetadata: {name: x}\n",
                "no HorizontalPodAutoscaler",
            ),
        ] {
            let findings = check(&[("a.yaml", deployment), ("b.yaml", hpa)]);
            let problems = problems(&findings);
            assert_eq!(problems.len(), 1, "{expected}: {findings:#?}");
            assert!(problems[0].contains(expected), "{expected}: {problems:?}");
        }
    }

    #[test]
    fn a_limit_alone_is_also_the_request() {
        let limit_only = DEPLOYMENT.replace("requests: {cpu: 250m}", "requests: {memory: 64Mi}");
        let findings = check(&[("a.yaml", &limit_only), ("b.yaml", HPA)]);
        assert!(problems(&findings).is_empty(), "{findings:#?}");
        assert!(
            findings[0].text.contains("requests its limit, 1"),
            "{findings:#?}"
        );
    }

    #[test]
    fn a_file_that_is_not_yaml_is_named_first() {
        let findings = check(&[("a.yaml", DEPLOYMENT), ("b.yaml", "kind: [unclosed")]);
        let problems = problems(&findings);
        assert!(
            problems[0].contains("b.yaml is not valid YAML"),
            "{problems:?}"
        );
    }

    #[test]
    fn autoscaling_v1_target_counts() {
        let v1 = "
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {kind: Deployment, name: api}
  maxReplicas: 3
  targetCPUUtilizationPercentage: 70
";
        let findings = check(&[("a.yaml", DEPLOYMENT), ("b.yaml", v1)]);
        assert!(problems(&findings).is_empty(), "{findings:#?}");
    }
}
