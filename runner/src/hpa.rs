//! The HorizontalPodAutoscaler's decision, as Kubernetes documents it
//! (<https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/>)
//! and its controller computes it (`pkg/controller/podautoscaler`):
//!
//! 1. **The ratio.** CPU utilisation is usage divided by the pods' CPU
//!    *request*, averaged over the pods with a usable metric, then divided
//!    by the target. Within 10% of 1 (the tolerance) nothing changes;
//!    otherwise the desired count is `ceil(ratio × pods measured)`.
//! 2. **Pods not counted yet.** A pod without a metric is assumed idle (0%)
//!    when the HPA would scale up, and at its request (100%, or the target
//!    if that is higher) when it would scale down. A pod not ready, or one
//!    whose metric window began before it was ready (its first 15 s of
//!    readiness), is assumed idle when it would scale up and left out
//!    otherwise. If that reverses the direction, or lands within the
//!    tolerance, nothing changes.
//! 3. **Stabilisation.** The recommendation is the lowest of the last
//!    `scaleUp.stabilizationWindowSeconds` of recommendations (0 s by
//!    default) when rising, the highest of the last
//!    `scaleDown.stabilizationWindowSeconds` (300 s by default) when falling.
//! 4. **Rate.** Each policy lets the count change by so many pods, or so
//!    many percent, per period, counted from the count at the start of the
//!    period; `selectPolicy: Max` takes the policy that allows most (the
//!    default: 100% or 4 pods per 15 s up, 100% per 15 s down), `Min` the
//!    least, `Disabled` none.
//! 5. **Bounds.** `minReplicas` to `maxReplicas`.
//!
//! Steps 3 and 4 are the `behavior` rules, which the controller applies
//! only when the manifest sets `spec.behavior` (its defaults fill in what
//! that block leaves out). Without the block, it normalises as it did
//! before behaviours existed: the highest recommendation of the last 5
//! minutes, and at most max(2 × current, 4) replicas per sync.

use k8s_openapi::api::autoscaling::v2::HPAScalingRules;

/// Without `spec.behavior`: the controller's downscale stabilisation
/// (`--horizontal-pod-autoscaler-downscale-stabilization`, 5 minutes) and
/// its scale-up limit's minimum (`scaleUpLimitMinimum`).
const LEGACY_STABILISATION_SECS: u32 = 300;
const LEGACY_SCALE_UP_MINIMUM: u32 = 4;

/// The tolerance around the target within which the HPA does nothing.
pub const TOLERANCE: f64 = 0.1;

/// How a direction's policies combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// The policy that allows the biggest change (the default).
    Max,
    /// The policy that allows the smallest change.
    Min,
    /// No change in this direction.
    Disabled,
}

/// One `behavior` policy: so many pods, or percent, per period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    Pods { value: u32, period_secs: u32 },
    Percent { value: u32, period_secs: u32 },
}

impl Policy {
    fn period_secs(self) -> u32 {
        match self {
            Self::Pods { period_secs, .. } | Self::Percent { period_secs, .. } => period_secs,
        }
    }
}

/// `behavior.scaleUp` or `behavior.scaleDown`, with Kubernetes' defaults
/// for whatever the manifest leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub window_secs: u32,
    pub select: Select,
    pub policies: Vec<Policy>,
}

impl Rules {
    /// Kubernetes' scale-up default: no window; 100% or 4 pods per 15 s,
    /// whichever is more.
    pub fn scale_up_default() -> Self {
        Self {
            window_secs: 0,
            select: Select::Max,
            policies: vec![
                Policy::Percent {
                    value: 100,
                    period_secs: 15,
                },
                Policy::Pods {
                    value: 4,
                    period_secs: 15,
                },
            ],
        }
    }

    /// Kubernetes' scale-down default: a 300 s window; 100% per 15 s.
    pub fn scale_down_default() -> Self {
        Self {
            window_secs: 300,
            select: Select::Max,
            policies: vec![Policy::Percent {
                value: 100,
                period_secs: 15,
            }],
        }
    }

    /// The manifest's rules, each missing field from `default`.
    pub fn from_manifest(rules: Option<&HPAScalingRules>, default: Self) -> Self {
        let Some(rules) = rules else {
            return default;
        };
        let window_secs = rules
            .stabilization_window_seconds
            .map_or(default.window_secs, |secs| secs.max(0) as u32);
        let select = match rules.select_policy.as_deref() {
            Some("Min") => Select::Min,
            Some("Disabled") => Select::Disabled,
            Some(_) | None => Select::Max,
        };
        let policies = match &rules.policies {
            Some(policies) if !policies.is_empty() => policies
                .iter()
                .map(|policy| {
                    let (value, period_secs) = (
                        policy.value.max(0) as u32,
                        policy.period_seconds.max(1) as u32,
                    );
                    if policy.type_ == "Pods" {
                        Policy::Pods { value, period_secs }
                    } else {
                        Policy::Percent { value, period_secs }
                    }
                })
                .collect(),
            _ => default.policies,
        };
        Self {
            window_secs,
            select,
            policies,
        }
    }

    /// The policies' words, for the model's output: `100% or 4 pods per 15 s
    /// (the more), after a 0 s window`.
    pub fn describe(&self) -> String {
        if self.select == Select::Disabled {
            return "disabled".to_owned();
        }
        let policies: Vec<String> = self
            .policies
            .iter()
            .map(|policy| match policy {
                Policy::Pods { value, period_secs } => format!("{value} pods per {period_secs} s"),
                Policy::Percent { value, period_secs } => format!("{value}% per {period_secs} s"),
            })
            .collect();
        let which = match (self.select, policies.len()) {
            (_, 1) => "",
            (Select::Min, _) => " (the fewer)",
            _ => " (the more)",
        };
        format!(
            "{}{which}, {} s window",
            policies.join(" or "),
            self.window_secs
        )
    }
}

/// What the HPA's spec says.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub min: u32,
    pub max: u32,
    /// Target CPU utilisation, percent of the request.
    pub target_percent: u32,
    /// The manifest sets `spec.behavior`. Only then does the controller
    /// apply `scale_up` and `scale_down`; without it, it normalises as it
    /// did before behaviours existed ([`History::decide`]).
    pub behavior: bool,
    pub scale_up: Rules,
    pub scale_down: Rules,
}

/// One pod as the HPA sees it at a sync.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PodMetric {
    /// Ready, with a metric window that began after it was ready: its CPU
    /// usage over that window, as a share of its request (1.0 = 100%).
    Counted(f64),
    /// Not ready yet, or ready for less than one metric window.
    NotYet,
    /// No metric at all (metrics-server has not scraped it twice).
    Missing,
}

/// Step 1 and 2: the desired count from the pods' metrics, before
/// stabilisation, rate limits and bounds. `current` is the Deployment's
/// replica count.
pub fn desired_from_metrics(pods: &[PodMetric], target: f64, current: u32) -> u32 {
    let counted: Vec<f64> = pods
        .iter()
        .filter_map(|pod| match pod {
            PodMetric::Counted(usage) => Some(*usage),
            _ => None,
        })
        .collect();
    if counted.is_empty() {
        // Nothing to compute from: the HPA keeps the count.
        return current;
    }
    let not_yet = pods.iter().filter(|p| **p == PodMetric::NotYet).count();
    let missing = pods.iter().filter(|p| **p == PodMetric::Missing).count();
    let ratio = counted.iter().sum::<f64>() / counted.len() as f64 / target;
    let scale_up_with_not_yet = not_yet > 0 && ratio > 1.0;
    if !scale_up_with_not_yet && missing == 0 {
        if (1.0 - ratio).abs() <= TOLERANCE {
            return current;
        }
        return (ratio * counted.len() as f64).ceil() as u32;
    }
    // Missing pods: idle when rising, at their request (or the target, if
    // higher) when falling. Pods not counted yet: idle when rising
    // (otherwise left out).
    let mut usage: f64 = counted.iter().sum();
    let mut measured = counted.len();
    if ratio < 1.0 {
        usage += missing as f64 * target.max(1.0);
        measured += missing;
    } else if ratio > 1.0 {
        measured += missing;
    }
    if scale_up_with_not_yet {
        measured += not_yet;
    }
    let new_ratio = usage / measured as f64 / target;
    let reversed = (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0);
    if (1.0 - new_ratio).abs() <= TOLERANCE || reversed {
        return current;
    }
    let desired = (new_ratio * measured as f64).ceil() as u32;
    if (new_ratio < 1.0 && desired > current) || (new_ratio > 1.0 && desired < current) {
        return current;
    }
    desired
}

/// The HPA's memory between syncs: its recommendations and the scale
/// events its rate limits count.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// (time in seconds, recommendation before stabilisation)
    recommendations: Vec<(f64, u32)>,
    /// (time in seconds, replicas added: positive up, negative down)
    events: Vec<(f64, i64)>,
}

impl History {
    /// Steps 3 to 5: stabilises `desired`, limits its rate and bounds it;
    /// records the decision; returns the new replica count.
    pub fn decide(&mut self, spec: &Spec, now: f64, current: u32, desired: u32) -> u32 {
        if !spec.behavior {
            return self.decide_without_behavior(spec, now, current, desired);
        }
        self.recommendations.push((now, desired));
        // The window includes this recommendation, made now.
        let within = |window: u32| move |&&(t, _): &&(f64, u32)| t >= now - f64::from(window);
        let up = self
            .recommendations
            .iter()
            .filter(within(spec.scale_up.window_secs))
            .map(|&(_, r)| r)
            .min()
            .unwrap_or(desired);
        let down = self
            .recommendations
            .iter()
            .filter(within(spec.scale_down.window_secs))
            .map(|&(_, r)| r)
            .max()
            .unwrap_or(desired);
        let stabilised = current.max(up).min(down);

        let next = if stabilised > current {
            let limit = self.limit(&spec.scale_up, now, current, true).max(current);
            stabilised.min(limit).min(spec.max)
        } else if stabilised < current {
            let limit = self
                .limit(&spec.scale_down, now, current, false)
                .min(current);
            stabilised.max(limit).max(spec.min)
        } else {
            stabilised
        }
        .clamp(spec.min, spec.max);
        if next != current {
            self.events
                .push((now, i64::from(next) - i64::from(current)));
        }
        // Keep what any window could still read.
        let keep = f64::from(
            spec.scale_up
                .window_secs
                .max(spec.scale_down.window_secs)
                .max(600),
        );
        self.recommendations.retain(|&(t, _)| t > now - keep);
        self.events.retain(|&(t, _)| t > now - keep);
        next
    }

    /// The controller's normalisation for an HPA without `spec.behavior`:
    /// the highest recommendation of the last 5 minutes (its downscale
    /// stabilisation, which also holds a count above the current one), at
    /// most max(2 × current, 4) replicas per sync, within the bounds.
    fn decide_without_behavior(
        &mut self,
        spec: &Spec,
        now: f64,
        current: u32,
        desired: u32,
    ) -> u32 {
        self.recommendations.push((now, desired));
        let window = f64::from(LEGACY_STABILISATION_SECS);
        let stabilised = self
            .recommendations
            .iter()
            .filter(|&&(t, _)| t >= now - window)
            .map(|&(_, r)| r)
            .max()
            .unwrap_or(desired);
        let up_limit = (2 * current).max(LEGACY_SCALE_UP_MINIMUM);
        let next = stabilised.min(up_limit.min(spec.max)).max(spec.min);
        if next != current {
            self.events
                .push((now, i64::from(next) - i64::from(current)));
        }
        self.recommendations.retain(|&(t, _)| t > now - 600.0);
        self.events.retain(|&(t, _)| t > now - 600.0);
        next
    }

    /// How far the policies let the count go this period: the most when
    /// rising (`up`), the least when falling.
    fn limit(&self, rules: &Rules, now: f64, current: u32, up: bool) -> u32 {
        if rules.select == Select::Disabled {
            return current;
        }
        let proposals = rules.policies.iter().map(|policy| {
            let period = f64::from(policy.period_secs());
            // The count at the period's start: what both directions changed
            // within it taken back, as the controller computes it.
            let changed: i64 = self
                .events
                .iter()
                .filter(|&&(t, _)| t > now - period)
                .map(|&(_, delta)| delta)
                .sum();
            let start = i64::from(current) - changed;
            let proposal = match (*policy, up) {
                (Policy::Pods { value, .. }, true) => start + i64::from(value),
                (Policy::Pods { value, .. }, false) => start - i64::from(value),
                (Policy::Percent { value, .. }, true) => {
                    (start as f64 * (1.0 + f64::from(value) / 100.0)).ceil() as i64
                }
                (Policy::Percent { value, .. }, false) => {
                    (start as f64 * (1.0 - f64::from(value) / 100.0)) as i64
                }
            };
            proposal.max(0) as u32
        });
        // Rising, Max allows the most pods; falling, Max allows the fewest.
        match (rules.select, up) {
            (Select::Max, true) | (Select::Min, false) => proposals.max(),
            _ => proposals.min(),
        }
        .unwrap_or(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(max: u32) -> Spec {
        Spec {
            min: 1,
            max,
            target_percent: 60,
            behavior: true,
            scale_up: Rules::scale_up_default(),
            scale_down: Rules::scale_down_default(),
        }
    }

    #[test]
    fn the_documented_ratio() {
        // The docs' example: 200m used against a 100m target doubles.
        let pods = [PodMetric::Counted(2.0)];
        assert_eq!(desired_from_metrics(&pods, 1.0, 1), 2);
        // Within the 10% tolerance nothing changes.
        let pods = [PodMetric::Counted(0.65), PodMetric::Counted(0.65)];
        assert_eq!(desired_from_metrics(&pods, 0.6, 2), 2);
        // ceil(ratio × pods): 3 pods at 90% against 60% want 5.
        let pods = [PodMetric::Counted(0.9); 3];
        assert_eq!(desired_from_metrics(&pods, 0.6, 3), 5);
    }

    #[test]
    fn a_pod_not_counted_yet_dampens_a_scale_up() {
        // One busy pod and one new one, assumed idle while rising.
        let pods = [PodMetric::Counted(1.2), PodMetric::NotYet];
        assert_eq!(desired_from_metrics(&pods, 0.6, 2), 2);
        let pods = [PodMetric::Counted(2.0), PodMetric::NotYet];
        assert_eq!(desired_from_metrics(&pods, 0.6, 2), 4);
        // No counted pod: nothing to compute.
        assert_eq!(desired_from_metrics(&[PodMetric::Missing], 0.6, 1), 1);
    }

    #[test]
    fn scale_up_is_limited_per_period() {
        // Default: 100% or 4 pods per 15 s, the more: 1 -> 5, not 10.
        let mut history = History::default();
        assert_eq!(history.decide(&spec(10), 0.0, 1, 10), 5);
        // Within the same 15 s the period started at 1: no more.
        assert_eq!(history.decide(&spec(10), 10.0, 5, 10), 5);
        // The next period starts at 5: up to 10.
        assert_eq!(history.decide(&spec(10), 20.0, 5, 10), 10);
        // maxReplicas bounds it.
        let mut history = History::default();
        assert_eq!(history.decide(&spec(3), 0.0, 1, 10), 3);
    }

    #[test]
    fn scale_down_waits_for_its_window() {
        let mut history = History::default();
        assert_eq!(history.decide(&spec(10), 0.0, 4, 4), 4);
        // 300 s default window: the earlier 4 holds.
        assert_eq!(history.decide(&spec(10), 100.0, 4, 1), 4);
        assert_eq!(history.decide(&spec(10), 301.0, 4, 1), 1);
    }

    #[test]
    fn a_scale_up_window_holds_back_a_rise() {
        let mut slow = spec(10);
        slow.scale_up.window_secs = 60;
        let mut history = History::default();
        assert_eq!(history.decide(&slow, 0.0, 1, 1), 1);
        assert_eq!(history.decide(&slow, 15.0, 1, 4), 1);
        assert_eq!(history.decide(&slow, 61.0, 1, 4), 4);
    }

    #[test]
    fn disabled_and_min_policies() {
        let mut stuck = spec(10);
        stuck.scale_up.select = Select::Disabled;
        assert_eq!(History::default().decide(&stuck, 0.0, 1, 8), 1);
        let mut careful = spec(10);
        careful.scale_up.select = Select::Min;
        // 100% of 1 is 1 more; 4 pods is 4 more; Min takes 2.
        assert_eq!(History::default().decide(&careful, 0.0, 1, 8), 2);
    }

    // The vectors below come from the Kubernetes controller's own tests in
    // `pkg/controller/podautoscaler` (kubernetes/kubernetes), each case named
    // after the Go test or test case it comes from. The Go fixtures give
    // every pod two containers with the same request and the same usage, so
    // a pod's share of its request is one container's usage over one
    // container's request.

    /// A ready pod using `millis` of CPU against a request of `cores`.
    fn cpu(millis: f64, cores: f64) -> PodMetric {
        PodMetric::Counted(millis / 1000.0 / cores)
    }

    /// A ready pod against the fixtures' usual request of one core.
    fn at(millis: f64) -> PodMetric {
        cpu(millis, 1.0)
    }

    /// From `replica_calculator_test.go`, `GetResourceReplicas` with CPU
    /// utilisation targets. A pod whose Ready condition is False, or whose
    /// start lies within the CPU initialisation period ("hot CPU"), is
    /// `NotYet`; a pending pod too. A pod with no entry in the metrics is
    /// `Missing`. Failed pods and pods being deleted are left out, as the
    /// controller ignores them; so are metrics for pods that do not exist.
    /// Where the Go test expects an error the controller does not scale: the
    /// model keeps the count.
    #[test]
    fn replica_calculator_cpu_vectors() {
        use PodMetric::{Missing, NotYet};

        struct Case {
            go: &'static str,
            current: u32,
            target_percent: u32,
            pods: Vec<PodMetric>,
            expected: u32,
        }
        let case = |go, current, target_percent, pods, expected| Case {
            go,
            current,
            target_percent,
            pods,
            expected,
        };
        // The pods of TestReplicaCalcComputedToleranceAlgImplementation:
        // requests of 300m skewed by ±100, ±10, ±2, ±1 and 0, 0; 150m used
        // by each.
        let skewed: Vec<PodMetric> = [
            400.0, 200.0, 310.0, 290.0, 302.0, 298.0, 301.0, 299.0, 300.0, 300.0,
        ]
        .iter()
        .map(|request| cpu(150.0, request / 1000.0))
        .collect();
        let cases = [
            case(
                "TestReplicaCalcScaleUp",
                3,
                30,
                vec![at(300.0), at(500.0), at(700.0)],
                5,
            ),
            case(
                "TestReplicaCalcScaleUpUnreadyLessScale",
                3,
                30,
                vec![NotYet, at(500.0), at(700.0)],
                4,
            ),
            case(
                "TestReplicaCalcScaleUpHotCpuLessScale",
                3,
                30,
                vec![NotYet, at(500.0), at(700.0)],
                4,
            ),
            case(
                "TestReplicaCalcScaleUpUnreadyNoScale",
                3,
                30,
                vec![at(400.0), NotYet, NotYet],
                3,
            ),
            case(
                "TestReplicaCalcScaleHotCpuNoScale",
                3,
                30,
                vec![at(400.0), NotYet, NotYet],
                3,
            ),
            // Two more pods failed: left out.
            case(
                "TestReplicaCalcScaleUpIgnoresFailedPods",
                2,
                30,
                vec![at(500.0), at(700.0)],
                4,
            ),
            // Two more pods being deleted: left out.
            case(
                "TestReplicaCalcScaleUpIgnoresDeletionPods",
                2,
                30,
                vec![at(500.0), at(700.0)],
                4,
            ),
            case(
                "TestReplicaCalcScaleDown",
                5,
                50,
                vec![at(100.0), at(300.0), at(500.0), at(250.0), at(250.0)],
                3,
            ),
            case(
                "TestReplicaCalcScaleDownExcludeUnreadyPods",
                5,
                50,
                vec![at(100.0), at(300.0), at(500.0), NotYet, NotYet],
                2,
            ),
            // Four pods pending: unready to the controller.
            case(
                "TestReplicaCalcScaleDownExcludeUnscheduledPods",
                5,
                50,
                vec![at(100.0), NotYet, NotYet, NotYet, NotYet],
                1,
            ),
            case(
                "TestReplicaCalcScaleDownIgnoreHotCpuPods",
                5,
                50,
                vec![at(100.0), at(300.0), at(500.0), NotYet, NotYet],
                2,
            ),
            case(
                "TestReplicaCalcScaleDownIgnoresFailedPods",
                5,
                50,
                vec![at(100.0), at(300.0), at(500.0), at(250.0), at(250.0)],
                3,
            ),
            case(
                "TestReplicaCalcScaleDownIgnoresDeletionPods",
                5,
                50,
                vec![at(100.0), at(300.0), at(500.0), at(250.0), at(250.0)],
                3,
            ),
            case(
                "TestReplicaCalcTolerance",
                3,
                100,
                vec![cpu(1010.0, 0.9), cpu(1030.0, 1.0), cpu(1020.0, 1.1)],
                3,
            ),
            // Six metrics, four pods: the two extra metrics have no pod.
            case(
                "TestReplicaCalcSuperfluousMetrics",
                4,
                100,
                vec![at(4000.0), at(9500.0), at(3000.0), at(7000.0)],
                24,
            ),
            case(
                "TestReplicaCalcMissingMetrics",
                4,
                100,
                vec![at(400.0), at(95.0), Missing, Missing],
                3,
            ),
            case(
                "TestReplicaCalcMissingMetricsNoChangeEq",
                2,
                100,
                vec![at(1000.0), Missing],
                2,
            ),
            case(
                "TestReplicaCalcMissingMetricsNoChangeGt",
                2,
                100,
                vec![at(1900.0), Missing],
                2,
            ),
            case(
                "TestReplicaCalcMissingMetricsNoChangeLt",
                2,
                100,
                vec![at(600.0), Missing],
                2,
            ),
            case(
                "TestReplicaCalcMissingMetricsUnreadyChange",
                3,
                50,
                vec![NotYet, at(450.0), Missing],
                3,
            ),
            case(
                "TestReplicaCalcMissingMetricsHotCpuNoChange",
                3,
                50,
                vec![NotYet, at(450.0), Missing],
                3,
            ),
            case(
                "TestReplicaCalcMissingMetricsUnreadyScaleUp",
                3,
                50,
                vec![NotYet, at(2000.0), Missing],
                4,
            ),
            case(
                "TestReplicaCalcMissingMetricsHotCpuScaleUp",
                3,
                50,
                vec![NotYet, at(2000.0), Missing],
                4,
            ),
            case(
                "TestReplicaCalcMissingMetricsUnreadyScaleDown",
                4,
                50,
                vec![NotYet, at(100.0), at(100.0), Missing],
                3,
            ),
            // Requests 1, 1, 2 and 2 cores; the missing pod counts at the
            // 300% target, not at its request.
            case(
                "TestReplicaCalcMissingMetricsScaleDownTargetOver100",
                4,
                300,
                vec![NotYet, cpu(100.0, 1.0), cpu(100.0, 2.0), Missing],
                2,
            ),
            // Three running pods for two replicas; the surge pod has no
            // metric yet.
            case(
                "TestReplicaCalcDuringRollingUpdateWithMaxSurge",
                2,
                50,
                vec![at(100.0), at(100.0), Missing],
                2,
            ),
            // Go: error "no metrics returned matched known pods".
            case(
                "TestReplicaCalcDisjointResourcesMetrics",
                1,
                100,
                vec![Missing],
                1,
            ),
            // Go: error "no metrics returned from resource metrics API".
            case("TestReplicaCalcEmptyMetrics", 4, 100, vec![Missing; 4], 4),
            // Its second half: target 55% against 50% used, within tolerance.
            case(
                "TestReplicaCalcComputedToleranceAlgImplementation",
                10,
                55,
                skewed,
                10,
            ),
        ];
        for case in cases {
            let target = f64::from(case.target_percent) / 100.0;
            assert_eq!(
                desired_from_metrics(&case.pods, target, case.current),
                case.expected,
                "{}",
                case.go
            );
        }
    }

    /// `generateScalingRules` of `horizontal_test.go`: a Pods policy, a
    /// Percent policy (each only if its value is not 0), `selectPolicy: Max`.
    fn rules(pods: u32, pods_period: u32, percent: u32, percent_period: u32, window: u32) -> Rules {
        let mut policies = Vec::new();
        if pods != 0 {
            policies.push(Policy::Pods {
                value: pods,
                period_secs: pods_period,
            });
        }
        if percent != 0 {
            policies.push(Policy::Percent {
                value: percent,
                period_secs: percent_period,
            });
        }
        Rules {
            window_secs: window,
            select: Select::Max,
            policies,
        }
    }

    /// `generateEventsUniformDistribution(changes, 120)`: the 120 s before
    /// now cut into equal segments, one event in the middle of each, oldest
    /// first; (seconds ago, replicas changed).
    fn spread(changes: &[i64]) -> Vec<(f64, i64)> {
        let segment = 120.0 / changes.len() as f64;
        changes
            .iter()
            .enumerate()
            .map(|(i, &change)| {
                (
                    (120.0 - segment * (i + 1) as f64 + segment / 2.0).trunc(),
                    change,
                )
            })
            .collect()
    }

    /// From `horizontal_test.go`, `TestScalingWithRules`: the rate limits and
    /// bounds (`convertDesiredReplicasWithBehaviorRate`), with the default
    /// rules where a case gives none. A fresh recommendation history, so the
    /// stabilisation windows pass the desired count through.
    #[test]
    fn scaling_with_rules_vectors() {
        struct Case {
            go: &'static str,
            up_events: Vec<(f64, i64)>,
            down_events: Vec<(f64, i64)>,
            min: u32,
            max: u32,
            scale_up: Option<Rules>,
            scale_down: Option<Rules>,
            current: u32,
            desired: u32,
            expected: u32,
        }
        let plain = |go, min, max, current, desired, expected| Case {
            go,
            up_events: vec![],
            down_events: vec![],
            min,
            max,
            scale_up: None,
            scale_down: None,
            current,
            desired,
            expected,
        };
        let up = |go, up_events, max, scale_up, current, desired, expected| Case {
            go,
            up_events,
            down_events: vec![],
            min: 1,
            max,
            scale_up: Some(scale_up),
            scale_down: None,
            current,
            desired,
            expected,
        };
        let down =
            |go, down_events, min, scale_down: Option<Rules>, current, desired, expected| Case {
                go,
                up_events: vec![],
                down_events,
                min,
                max: 1000,
                scale_up: None,
                scale_down,
                current,
                desired,
                expected,
            };
        let cases = [
            plain("prenormalized desired replicas within range", 3, 8, 5, 7, 7),
            plain(
                "prenormalized desired replicas < minReplicas",
                2,
                8,
                3,
                1,
                2,
            ),
            plain(
                "prenormalized desired replicas within range when minReplicas is 0",
                0,
                10,
                1,
                0,
                0,
            ),
            plain(
                "maxReplicas is the limit because maxReplicas < scaleUpLimit",
                1,
                10,
                20,
                1000,
                10,
            ),
            plain(
                "desired replica count is more than the maximum replica count",
                100,
                150,
                100,
                1000,
                150,
            ),
            up(
                "scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies",
                vec![],
                2000,
                rules(0, 0, 1, 60, 0),
                3,
                1000,
                4,
            ),
            plain("scaleUp with default behavior", 1, 1000, 10, 50, 20),
            up(
                "scaleUp with pods policy larger than percent policy",
                vec![],
                1000,
                rules(100, 60, 100, 60, 0),
                10,
                500,
                110,
            ),
            up(
                "scaleUp with percent policy larger than pods policy",
                vec![],
                1000,
                rules(2, 60, 100, 60, 0),
                10,
                500,
                20,
            ),
            up(
                "scaleUp with spec MaxReplicas limitation with large pod policy",
                vec![],
                1000,
                rules(100, 60, 0, 0, 0),
                10,
                50,
                50,
            ),
            up(
                "scaleUp with spec MaxReplicas limitation with large percent policy",
                vec![],
                1000,
                rules(10000, 60, 0, 0, 0),
                10,
                50,
                50,
            ),
            up(
                "scaleUp with pod policy limitation",
                vec![],
                1000,
                rules(30, 60, 0, 0, 0),
                10,
                50,
                40,
            ),
            up(
                "scaleUp with percent policy limitation",
                vec![],
                1000,
                rules(0, 0, 200, 60, 0),
                10,
                50,
                30,
            ),
            down(
                "scaleDown with percent policy larger than pod policy",
                vec![],
                1,
                Some(rules(20, 60, 1, 60, 300)),
                100,
                2,
                80,
            ),
            down(
                "scaleDown with pod policy larger than percent policy",
                vec![],
                1,
                Some(rules(2, 60, 1, 60, 300)),
                100,
                2,
                98,
            ),
            down(
                "scaleDown with spec MinReplicas limitation with large pod policy",
                vec![],
                1,
                Some(rules(100, 60, 0, 0, 300)),
                10,
                0,
                1,
            ),
            down(
                "scaleDown with spec MinReplicas limitation with large percent policy",
                vec![],
                5,
                Some(rules(0, 0, 100, 60, 300)),
                10,
                2,
                5,
            ),
            down(
                "scaleDown with pod policy limitation",
                vec![],
                1,
                Some(rules(5, 60, 0, 0, 300)),
                10,
                2,
                5,
            ),
            down(
                "scaleDown with percent policy limitation",
                vec![],
                1,
                Some(rules(0, 0, 50, 60, 300)),
                10,
                5,
                5,
            ),
            up(
                "scaleUp with spec MaxReplicas limitation with large pod policy and events",
                spread(&[1, 5, 9]),
                200,
                rules(300, 60, 0, 0, 0),
                100,
                500,
                200,
            ),
            up(
                "scaleUp with spec MaxReplicas limitation with large percent policy and events",
                spread(&[1, 5, 9]),
                200,
                rules(0, 0, 10000, 60, 0),
                100,
                500,
                200,
            ),
            up(
                "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
                spread(&[1, 5, 9]),
                1000,
                rules(5, 120, 0, 0, 0),
                100,
                500,
                100,
            ),
            up(
                "scaleUp with pod policy and previous scale up events",
                spread(&[1, 5, 9]),
                1000,
                rules(150, 120, 0, 0, 0),
                100,
                500,
                235,
            ),
            up(
                "scaleUp with percent policy and previous scale up events",
                spread(&[1, 5, 9]),
                1000,
                rules(0, 0, 200, 120, 0),
                100,
                500,
                255,
            ),
            // The period started at 6 - 4 + 2 = 4 replicas.
            Case {
                go: "scaleUp with percent policy and previous scale up and down events",
                up_events: spread(&[4]),
                down_events: spread(&[2]),
                min: 1,
                max: 1000,
                scale_up: Some(rules(0, 0, 300, 300, 0)),
                scale_down: None,
                current: 6,
                desired: 24,
                expected: 16,
            },
            down(
                "scaleDown with default policy and previous events",
                spread(&[1, 5, 9]),
                1,
                None,
                10,
                5,
                5,
            ),
            down(
                "scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events",
                spread(&[1, 5, 9]),
                1,
                Some(rules(115, 120, 0, 0, 300)),
                100,
                0,
                1,
            ),
            down(
                "scaleDown with spec MinReplicas limitation with large pod policy and previous events",
                spread(&[1, 5, 9]),
                5,
                Some(rules(130, 120, 0, 0, 300)),
                100,
                0,
                5,
            ),
            down(
                "scaleDown with spec MinReplicas limitation with large percent policy and previous events",
                spread(&[1, 5, 9]),
                5,
                Some(rules(0, 0, 100, 120, 300)),
                100,
                2,
                5,
            ),
            down(
                "scaleDown with pod policy limitation and previous events",
                spread(&[1, 5, 9]),
                1,
                Some(rules(5, 120, 0, 0, 300)),
                100,
                2,
                100,
            ),
            down(
                "scaleDown with percent policy limitation and previous events",
                spread(&[2, 4, 6]),
                1,
                Some(rules(0, 0, 50, 120, 300)),
                100,
                0,
                56,
            ),
            // The period started at 10 - 2 + 4 = 12 replicas.
            Case {
                go: "scaleDown with percent policy and previous scale up and down events",
                up_events: spread(&[2]),
                down_events: spread(&[4]),
                min: 1,
                max: 1000,
                scale_up: None,
                scale_down: Some(rules(0, 0, 50, 180, 0)),
                current: 10,
                desired: 1,
                expected: 6,
            },
            down(
                "scaleDown with previous events preventing further scale down",
                spread(&[10, 10, 10]),
                1,
                Some(rules(0, 0, 10, 120, 300)),
                100,
                0,
                100,
            ),
            down(
                "scaleDown with with previous events still allowing more scale down",
                spread(&[10, 10, 10]),
                1,
                Some(rules(0, 0, 1000, 120, 300)),
                10,
                5,
                5,
            ),
            up(
                "check 'outdated' flag for events for one behavior for up",
                spread(&[8, 12, 9, 11]),
                1000,
                rules(1000, 60, 0, 0, 0),
                100,
                200,
                200,
            ),
            up(
                "check that events were not marked 'outdated' for two different policies in the behavior for up",
                spread(&[8, 12, 9, 11]),
                1000,
                rules(1000, 120, 100, 60, 0),
                100,
                200,
                200,
            ),
            up(
                "check that events were marked 'outdated' for two different policies in the behavior for up",
                spread(&[8, 12, 9, 11]),
                1000,
                rules(1000, 30, 100, 60, 0),
                100,
                200,
                200,
            ),
            down(
                "check 'outdated' flag for events for one behavior for down",
                spread(&[8, 12, 9, 11]),
                1,
                Some(rules(1000, 60, 0, 0, 300)),
                100,
                5,
                5,
            ),
            down(
                "check that events were not marked 'outdated' for two different policies in the behavior for down",
                spread(&[8, 12, 9, 11]),
                1,
                Some(rules(1000, 120, 100, 60, 300)),
                100,
                5,
                5,
            ),
            down(
                "check that events were marked 'outdated' for two different policies in the behavior for down",
                spread(&[8, 12, 9, 11]),
                1,
                Some(rules(1000, 30, 100, 60, 300)),
                100,
                5,
                5,
            ),
        ];
        let now = 1000.0;
        for case in cases {
            let spec = Spec {
                min: case.min,
                max: case.max,
                target_percent: 60,
                behavior: true,
                scale_up: case.scale_up.unwrap_or_else(Rules::scale_up_default),
                scale_down: case.scale_down.unwrap_or_else(Rules::scale_down_default),
            };
            let mut events: Vec<(f64, i64)> = case
                .up_events
                .iter()
                .map(|&(ago, added)| (now - ago, added))
                .collect();
            events.extend(
                case.down_events
                    .iter()
                    .map(|&(ago, removed)| (now - ago, -removed)),
            );
            let mut history = History {
                recommendations: vec![],
                events,
            };
            assert_eq!(
                history.decide(&spec, now, case.current, case.desired),
                case.expected,
                "{}",
                case.go
            );
        }
    }

    /// From `horizontal_test.go`, `TestNormalizeDesiredReplicasWithBehavior`:
    /// the stabilisation windows alone (`stabilizeRecommendationWithBehaviors`;
    /// a window the case leaves unset is 0 s there). Rate limits and bounds
    /// wide enough not to matter.
    #[test]
    fn stabilisation_window_vectors() {
        struct Case {
            go: &'static str,
            /// (seconds ago, recommendation)
            recommendations: Vec<(f64, u32)>,
            current: u32,
            desired: u32,
            up_window: u32,
            down_window: u32,
            expected: u32,
        }
        let case = |go, recommendations, current, desired, up_window, down_window, expected| Case {
            go,
            recommendations,
            current,
            desired,
            up_window,
            down_window,
            expected,
        };
        let cases = [
            case(
                "empty recommendations for scaling down",
                vec![],
                100,
                5,
                0,
                0,
                5,
            ),
            case(
                "simple scale down stabilization",
                vec![(120.0, 4), (60.0, 5)],
                100,
                3,
                0,
                180,
                5,
            ),
            case(
                "simple scale up stabilization",
                vec![(120.0, 4), (60.0, 5)],
                1,
                7,
                300,
                0,
                4,
            ),
            case(
                "no scale down stabilization",
                vec![(120.0, 1), (60.0, 2)],
                100,
                3,
                300,
                0,
                3,
            ),
            case(
                "no scale up stabilization",
                vec![(120.0, 4), (60.0, 5)],
                1,
                3,
                0,
                300,
                3,
            ),
            case(
                "no scale down stabilization, reuse recommendation element",
                vec![(600.0, 10), (540.0, 9)],
                100,
                3,
                0,
                0,
                3,
            ),
            case(
                "no scale up stabilization, reuse recommendation element",
                vec![(600.0, 10), (540.0, 9)],
                1,
                100,
                0,
                0,
                100,
            ),
            case(
                "scale down stabilization, reuse one of obsolete recommendation element",
                vec![(600.0, 10), (60.0, 4), (120.0, 5), (540.0, 9)],
                100,
                3,
                0,
                180,
                5,
            ),
            case(
                "scale up stabilization, reuse one of obsolete recommendation element",
                vec![(6000.0, 10), (60.0, 6), (120.0, 5), (180.0, 9)],
                1,
                100,
                300,
                0,
                5,
            ),
            case(
                "scale up and down stabilization, do not scale up when prenormalized rec goes down",
                vec![(6000.0, 2), (180.0, 3)],
                2,
                1,
                300,
                300,
                2,
            ),
            case(
                "scale up and down stabilization, do not scale down when prenormalized rec goes up",
                vec![(6000.0, 2), (180.0, 1)],
                2,
                3,
                300,
                300,
                2,
            ),
        ];
        let now = 10_000.0;
        for case in cases {
            let spec = Spec {
                min: 0,
                max: 100_000,
                target_percent: 60,
                behavior: true,
                scale_up: rules(100_000, 15, 0, 0, case.up_window),
                scale_down: rules(0, 0, 100, 15, case.down_window),
            };
            let mut history = History {
                recommendations: case
                    .recommendations
                    .iter()
                    .map(|&(ago, recommendation)| (now - ago, recommendation))
                    .collect(),
                events: vec![],
            };
            assert_eq!(
                history.decide(&spec, now, case.current, case.desired),
                case.expected,
                "{}",
                case.go
            );
        }
    }

    /// From `horizontal_test.go`, `TestCalculateScaleUpLimitWithScalingRules`
    /// and `TestCalculateScaleDownLimitWithBehaviors`: `selectPolicy: Min`
    /// with 2 pods or 50% per 60 s, no events.
    #[test]
    fn min_select_limit_vectors() {
        let mut careful = rules(2, 60, 50, 60, 300);
        careful.select = Select::Min;
        let history = History::default();
        // From 1: 2 pods more is 3, 50% more is ceil(1.5) = 2; Min takes 2.
        assert_eq!(
            history.limit(&careful, 0.0, 1, true),
            2,
            "TestCalculateScaleUpLimitWithScalingRules"
        );
        // From 5: 2 pods fewer is 3, 50% fewer is 2; Min takes 3.
        assert_eq!(
            history.limit(&careful, 0.0, 5, false),
            3,
            "TestCalculateScaleDownLimitWithBehaviors"
        );
    }

    /// `TestConvertDesiredReplicasWithRules` and `TestNormalizeDesiredReplicas`
    /// (horizontal_test.go): an HPA without `spec.behavior`.
    #[test]
    fn without_behavior_the_older_normalisation() {
        let spec = Spec {
            behavior: false,
            ..spec(10)
        };
        // From 3 replicas, at most 2 × 3 per sync (the rules would allow 7).
        assert_eq!(History::default().decide(&spec, 0.0, 3, 10), 6);
        // From 1, at least 4.
        assert_eq!(History::default().decide(&spec, 0.0, 1, 10), 4);
        // The highest recommendation of the last 5 minutes holds.
        let mut history = History::default();
        assert_eq!(history.decide(&spec, 0.0, 6, 6), 6);
        assert_eq!(history.decide(&spec, 60.0, 6, 3), 6);
        assert_eq!(history.decide(&spec, 301.0, 6, 3), 3);
        // The bounds.
        assert_eq!(History::default().decide(&spec, 0.0, 2, 0), 1);
    }
}
