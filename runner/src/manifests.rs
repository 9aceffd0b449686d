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

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        autoscaling::{v1, v2},
        core::v1::Container,
    },
    apimachinery::pkg::api::resource::Quantity,
};
use serde::Deserialize;

use crate::hpa::{self, Rules, Select};

/// A sensible CPU utilisation target, in percent. Below, the HPA adds
/// replicas for load one replica handles; above, replicas come only once
/// the api is saturated and latency has already climbed.
const SENSIBLE_TARGET: std::ops::RangeInclusive<i32> = 30..=90;

/// Longest scale-up stabilisation window, in seconds, that still lets
/// replicas rise within the autoscale scenario.
const PROMPT_SCALE_UP_SECS: u32 = 60;

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

/// What the check reads from the folder: the Deployments and the HPAs, as
/// Kubernetes' own types, each with the file it came from.
#[derive(Debug, Default)]
struct Manifests {
    deployments: Vec<(PathBuf, Deployment)>,
    hpas: Vec<(PathBuf, Hpa)>,
}

/// An HPA as the check sees it, from autoscaling/v2 or v1.
#[derive(Debug)]
struct Hpa {
    name: String,
    /// `(kind, name)` of what it scales.
    target: (String, String),
    min: i32,
    max: i32,
    /// The CPU utilisation target, in percent, if it scales on CPU.
    cpu_target: Option<i32>,
    /// `spec.behavior` is set: the controller applies the rules.
    behavior: bool,
    scale_up: Rules,
    scale_down: Rules,
}

impl From<v2::HorizontalPodAutoscaler> for Hpa {
    fn from(hpa: v2::HorizontalPodAutoscaler) -> Self {
        let spec = hpa.spec.unwrap_or_default();
        let cpu_target = spec.metrics.iter().flatten().find_map(|metric| {
            let resource = metric.resource.as_ref()?;
            let cpu = metric.type_ == "Resource"
                && resource.name == "cpu"
                && resource.target.type_ == "Utilization";
            cpu.then_some(resource.target.average_utilization).flatten()
        });
        let set = spec.behavior.is_some();
        let behavior = spec.behavior.unwrap_or_default();
        Self {
            name: hpa.metadata.name.unwrap_or_default(),
            target: (spec.scale_target_ref.kind, spec.scale_target_ref.name),
            min: spec.min_replicas.unwrap_or(1),
            max: spec.max_replicas,
            cpu_target,
            behavior: set,
            scale_up: Rules::from_manifest(behavior.scale_up.as_ref(), Rules::scale_up_default()),
            scale_down: Rules::from_manifest(
                behavior.scale_down.as_ref(),
                Rules::scale_down_default(),
            ),
        }
    }
}

impl From<v1::HorizontalPodAutoscaler> for Hpa {
    fn from(hpa: v1::HorizontalPodAutoscaler) -> Self {
        let spec = hpa.spec.unwrap_or_default();
        Self {
            name: hpa.metadata.name.unwrap_or_default(),
            target: (spec.scale_target_ref.kind, spec.scale_target_ref.name),
            min: spec.min_replicas.unwrap_or(1),
            max: spec.max_replicas,
            cpu_target: spec.target_cpu_utilization_percentage,
            behavior: false,
            scale_up: Rules::scale_up_default(),
            scale_down: Rules::scale_down_default(),
        }
    }
}

/// Checks whether an HPA in `folder` could scale the Deployment named
/// `deployment`.
pub fn check_autoscaling(folder: &Path, deployment: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let manifests = read_folder(folder, &mut findings);
    if manifests.deployments.is_empty() && manifests.hpas.is_empty() {
        findings.push(Finding::missing(format!(
            "no Kubernetes manifests in {}: the api's Deployment and its \
             HorizontalPodAutoscaler belong there",
            folder.display()
        )));
        return findings;
    }
    check_requests(&manifests, deployment, &mut findings);
    check_hpa(&manifests, deployment, &mut findings);
    findings
}

/// What the manifests say about how the api scales: the model's input.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    /// The Deployment's file, for messages.
    pub file: PathBuf,
    /// `spec.replicas`, if the Deployment sets it.
    pub replicas: Option<u32>,
    /// The pod's CPU request in cores (a limit alone is also the request);
    /// `None` when nothing is requested.
    pub cpu_request: Option<f64>,
    /// The pod's CPU limit in cores; `None` when a container has none.
    pub cpu_limit: Option<f64>,
    /// The HPA that targets the Deployment, if any.
    pub hpa: Option<HpaScaling>,
}

/// The HPA as the model runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaScaling {
    pub file: PathBuf,
    /// `None` when it does not scale on CPU utilisation.
    pub spec: Option<hpa::Spec>,
}

/// Reads how Deployment `deployment` scales from the manifests in `folder`;
/// every problem that keeps it from being read, as a sentence.
pub fn scaling(folder: &Path, deployment: &str) -> Result<Scaling, Vec<String>> {
    let mut findings = Vec::new();
    let manifests = read_folder(folder, &mut findings);
    let mut problems: Vec<String> = findings.into_iter().map(|f| f.text).collect();
    let found = manifests
        .deployments
        .iter()
        .find(|(_, found)| found.metadata.name.as_deref() == Some(deployment));
    let Some((file, found)) = found else {
        problems.push(format!(
            "no Deployment named `{deployment}` in {}",
            folder.display()
        ));
        return Err(problems);
    };
    let spec = found.spec.as_ref();
    let containers = spec
        .and_then(|spec| spec.template.spec.as_ref())
        .map(|pod| pod.containers.as_slice())
        .unwrap_or_default();
    let pod = PodCpu {
        file,
        containers,
        problems: &mut problems,
    };
    let (cpu_request, cpu_limit) = pod.request_and_limit();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Scaling {
        file: file.clone(),
        replicas: spec.and_then(|spec| spec.replicas).map(|n| n.max(0) as u32),
        cpu_request,
        cpu_limit,
        hpa: hpa_scaling(&manifests, deployment),
    })
}

/// A Deployment's pod, read for its CPU: the sums over its containers.
struct PodCpu<'a> {
    file: &'a Path,
    containers: &'a [Container],
    /// Where a quantity the model cannot read is reported.
    problems: &'a mut Vec<String>,
}

impl PodCpu<'_> {
    /// The pod's CPU request and limit in cores. A container with a limit
    /// and no request requests its limit.
    fn request_and_limit(mut self) -> (Option<f64>, Option<f64>) {
        let limit = self.sum("limit", |c| c.resources.as_ref()?.limits.as_ref());
        let request = self.sum("request", |c| {
            let resources = c.resources.as_ref()?;
            let requests = resources
                .requests
                .as_ref()
                .filter(|r| r.contains_key("cpu"));
            requests.or(resources.limits.as_ref())
        });
        (request, limit)
    }

    /// The containers' CPU `kind` in cores; `None` when a container has
    /// none, or one cannot be read (then also a problem).
    fn sum(
        &mut self,
        kind: &str,
        of: fn(&Container) -> Option<&BTreeMap<String, Quantity>>,
    ) -> Option<f64> {
        let mut sum = Some(0.0);
        for container in self.containers {
            let quantity = of(container).and_then(|quantities| quantities.get("cpu"));
            match quantity.map(|quantity| cores(&quantity.0)) {
                Some(Some(cores)) => sum = sum.map(|sum| sum + cores),
                Some(None) => {
                    self.problems.push(format!(
                        "{}: container `{}` has a CPU {kind} the model cannot read ({:?}); \
                         write it as millicores (250m) or cores (0.5)",
                        self.file.display(),
                        container.name,
                        quantity.map(|q| q.0.as_str()).unwrap_or_default()
                    ));
                    sum = None;
                }
                None => sum = None,
            }
        }
        sum.filter(|_| !self.containers.is_empty())
    }
}

/// The HPA that targets Deployment `deployment`, as the model runs it.
fn hpa_scaling(manifests: &Manifests, deployment: &str) -> Option<HpaScaling> {
    manifests
        .hpas
        .iter()
        .find(|(_, hpa)| hpa.target.0 == "Deployment" && hpa.target.1 == deployment)
        .map(|(file, hpa)| HpaScaling {
            file: file.clone(),
            spec: hpa.cpu_target.map(|target| hpa::Spec {
                min: hpa.min.max(1) as u32,
                max: hpa.max.max(1) as u32,
                target_percent: target.max(1) as u32,
                behavior: hpa.behavior,
                scale_up: hpa.scale_up.clone(),
                scale_down: hpa.scale_down.clone(),
            }),
        })
}

/// A CPU quantity in cores: `250m` is 0.25, `1` and `1.5` are themselves.
fn cores(quantity: &str) -> Option<f64> {
    let quantity = quantity.trim();
    let cores = match quantity.strip_suffix('m') {
        Some(millis) => millis.parse::<f64>().ok()? / 1000.0,
        None => quantity.parse::<f64>().ok()?,
    };
    (cores.is_finite() && cores >= 0.0).then_some(cores)
}

/// Every YAML file's documents; those the check reads are kept, typed.
fn read_folder(folder: &Path, findings: &mut Vec<Finding>) -> Manifests {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Manifests::default();
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
    let mut manifests = Manifests::default();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => read_documents(&file, &text, &mut manifests, findings),
            Err(error) => findings.push(Finding::missing(format!(
                "cannot read {}: {error}",
                file.display()
            ))),
        }
    }
    manifests
}

/// Which object a document is, read before the rest.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeMeta {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
}

fn read_documents(file: &Path, text: &str, into: &mut Manifests, findings: &mut Vec<Finding>) {
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = match serde_yaml::Value::deserialize(document) {
            Ok(serde_yaml::Value::Null) => continue,
            Ok(value) => value,
            Err(error) => {
                let file = file.display();
                findings.push(Finding::missing(format!(
                    "{file} is not valid YAML: {error}"
                )));
                return;
            }
        };
        let meta = TypeMeta::deserialize(&value).ok();
        let typed = match meta
            .as_ref()
            .map(|m| (m.api_version.as_str(), m.kind.as_str()))
        {
            Some(("apps/v1", "Deployment")) => Deployment::deserialize(value)
                .map(|deployment| into.deployments.push((file.to_owned(), deployment))),
            Some(("autoscaling/v2", "HorizontalPodAutoscaler")) => {
                v2::HorizontalPodAutoscaler::deserialize(value)
                    .map(|hpa| into.hpas.push((file.to_owned(), hpa.into())))
            }
            Some(("autoscaling/v1", "HorizontalPodAutoscaler")) => {
                v1::HorizontalPodAutoscaler::deserialize(value)
                    .map(|hpa| into.hpas.push((file.to_owned(), hpa.into())))
            }
            // Other objects (Services, PostgreSQL's StatefulSet) do not
            // decide whether the api scales.
            _ => Ok(()),
        };
        if let (Err(error), Some(meta)) = (typed, meta) {
            findings.push(Finding::missing(format!(
                "{}: this {} is not valid ({error}); `kubectl apply` would refuse it too",
                file.display(),
                meta.kind
            )));
        }
    }
}

fn check_requests(manifests: &Manifests, deployment: &str, findings: &mut Vec<Finding>) {
    let named =
        |(_, found): &&(PathBuf, Deployment)| found.metadata.name.as_deref() == Some(deployment);
    let Some((file, found)) = manifests.deployments.iter().find(named) else {
        findings.push(Finding::missing(format!(
            "no Deployment named `{deployment}`: the HPA needs one to scale"
        )));
        return;
    };
    let containers = found
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .map(|pod| pod.containers.as_slice())
        .unwrap_or_default();
    for container in containers {
        findings.push(cpu_request(container, deployment, file));
    }
}

/// Whether `container` has a CPU request the HPA can divide by.
fn cpu_request(container: &Container, deployment: &str, file: &Path) -> Finding {
    let cpu = |quantities: Option<&BTreeMap<String, Quantity>>| {
        quantities
            .and_then(|quantities| quantities.get("cpu"))
            .map(|quantity| quantity.0.clone())
            .filter(|quantity| !quantity.is_empty())
    };
    let resources = container.resources.as_ref();
    let request = cpu(resources.and_then(|r| r.requests.as_ref()));
    let limit = cpu(resources.and_then(|r| r.limits.as_ref()));
    let name = &container.name;
    match (request, limit) {
        (Some(request), limit) => Finding::ok(format!(
            "container `{name}` of Deployment `{deployment}` requests {request} CPU{}",
            limit
                .map(|limit| format!(" (limit {limit})"))
                .unwrap_or_default()
        )),
        // Kubernetes gives a container that sets only a limit a request
        // equal to it, so the HPA has something to divide by.
        (None, Some(limit)) => Finding::ok(format!(
            "container `{name}` of Deployment `{deployment}` sets no CPU request, \
             so Kubernetes requests its limit, {limit}"
        )),
        (None, None) => Finding::missing(format!(
            "container `{name}` of Deployment `{deployment}` ({}) requests no CPU: \
             the HPA measures utilisation as usage / request, so it has nothing to compute. \
             Add resources.requests.cpu",
            file.display()
        )),
    }
}

fn check_hpa(manifests: &Manifests, deployment: &str, findings: &mut Vec<Finding>) {
    let targets_api =
        |(_, hpa): &&(PathBuf, Hpa)| hpa.target.0 == "Deployment" && hpa.target.1 == deployment;
    let Some((_, hpa)) = manifests.hpas.iter().find(targets_api) else {
        findings.push(Finding::missing(match manifests.hpas.first() {
            None => format!(
                "no HorizontalPodAutoscaler: add one whose scaleTargetRef is Deployment `{deployment}`"
            ),
            Some((file, other)) => format!(
                "HorizontalPodAutoscaler `{}` ({}) does not target Deployment `{deployment}`: \
                 set spec.scaleTargetRef to kind Deployment, name {deployment}",
                other.name,
                file.display()
            ),
        }));
        return;
    };
    findings.push(Finding::ok(format!(
        "HorizontalPodAutoscaler `{}` targets Deployment `{deployment}`",
        hpa.name
    )));
    findings.push(room_to_grow(hpa));
    findings.push(cpu_utilisation(hpa));
    findings.push(prompt_scale_up(hpa));
}

/// maxReplicas above minReplicas.
fn room_to_grow(hpa: &Hpa) -> Finding {
    let (min, max) = (hpa.min, hpa.max);
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
fn cpu_utilisation(hpa: &Hpa) -> Finding {
    match hpa.cpu_target {
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
fn prompt_scale_up(hpa: &Hpa) -> Finding {
    let window = hpa.scale_up.window_secs;
    if hpa.scale_up.select == Select::Disabled {
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

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
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
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
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
    fn an_object_kubernetes_would_refuse_is_named() {
        let wordy = HPA.replace("maxReplicas: 4", "maxReplicas: four");
        let findings = check(&[("a.yaml", DEPLOYMENT), ("b.yaml", &wordy)]);
        let problems = problems(&findings);
        assert!(
            problems[0].contains("b.yaml: this HorizontalPodAutoscaler is not valid")
                && problems[0].contains("invalid type"),
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
