//! The Kubernetes fields the runner knows by name: the dotted paths a
//! probe reads from the api's HorizontalPodAutoscaler and Deployment
//! (`fields` and a probe check's `metric` in scenarios.toml), the model
//! writes as a run would have recorded them, and the report reads replicas
//! from. A test checks that every such path in scenarios.toml is one of
//! these.

/// The Deployment's pods that are ready: replicas that serve.
pub const READY_REPLICAS: &str = "status.readyReplicas";
/// The HPA's lower bound on replicas.
pub const MIN_REPLICAS: &str = "spec.minReplicas";
/// The replicas the HPA last saw.
pub const CURRENT_REPLICAS: &str = "status.currentReplicas";
/// The replicas the HPA asks for.
pub const DESIRED_REPLICAS: &str = "status.desiredReplicas";
/// The HPA's view of the pods' CPU, in percent of their request.
pub const CPU_UTILIZATION: &str = "status.currentMetrics.0.resource.current.averageUtilization";

/// A Deployment's fields the runner knows.
pub const DEPLOYMENT: [&str; 1] = [READY_REPLICAS];
/// An HPA's fields the runner knows.
pub const HPA: [&str; 4] = [
    MIN_REPLICAS,
    CURRENT_REPLICAS,
    DESIRED_REPLICAS,
    CPU_UTILIZATION,
];

/// The field counts replicas (its name ends in `replicas`, any case): the
/// report marks its rises and draws it on the replicas chart.
pub fn counts_replicas(field: &str) -> bool {
    field.to_ascii_lowercase().ends_with("replicas")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{KubeKind, Measure, Source};

    #[test]
    fn every_kubernetes_field_in_the_scenarios_is_known() {
        let known = |kind: KubeKind| match kind {
            KubeKind::Deployment => DEPLOYMENT.as_slice(),
            KubeKind::HorizontalPodAutoscaler => HPA.as_slice(),
        };
        let mut seen = 0;
        for scenario in crate::scenario::shipped().list {
            for probe in &scenario.probes {
                let Source::Kubernetes(object) = &probe.source else {
                    continue;
                };
                for field in &probe.fields {
                    assert!(known(object.kind).contains(&field.as_str()), "{field}");
                    seen += 1;
                }
                for check in &scenario.checks {
                    if let Measure::Probe {
                        probe: name, field, ..
                    } = &check.measure
                        && name == &probe.name
                    {
                        assert!(known(object.kind).contains(&field.as_str()), "{field}");
                    }
                }
            }
        }
        assert!(
            seen > 0,
            "the scenarios read no Kubernetes field: the test looks at nothing"
        );
    }

    #[test]
    fn replica_counts_are_told_by_their_names() {
        assert!(
            [
                READY_REPLICAS,
                MIN_REPLICAS,
                CURRENT_REPLICAS,
                DESIRED_REPLICAS
            ]
            .into_iter()
            .all(counts_replicas)
        );
        assert!(!counts_replicas(CPU_UTILIZATION));
    }
}
