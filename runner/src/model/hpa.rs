//! The HorizontalPodAutoscaler's decision, as Kubernetes documents it
//! (<https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/>)
//! and its controller computes it (`pkg/controller/podautoscaler`):
//!
//! 1. **The ratio.** CPU utilisation is usage divided by the pods' CPU
//!    *request*, averaged over the pods with a usable metric, then divided
//!    by the target. Within 10% of 1 (the tolerance) nothing changes;
//!    otherwise the desired count is `ceil(ratio × pods measured)`.
//! 2. **Pods not counted yet.** A pod without a metric, or one whose metric
//!    window began before it was ready (its first 15 s of readiness), is
//!    assumed idle (0%) when the HPA would scale up, and at its request
//!    (100%) when it would scale down. If that reverses the direction, or
//!    lands within the tolerance, nothing changes.
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

use k8s_openapi::api::autoscaling::v2::HPAScalingRules;

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
    // Missing pods: idle when rising, at their request when falling. Pods
    // not counted yet: idle when rising (otherwise left out).
    let mut usage: f64 = counted.iter().sum();
    let mut measured = counted.len();
    if ratio < 1.0 {
        usage += missing as f64;
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

    /// How far the policies let the count go this period: the most when
    /// rising (`up`), the least when falling.
    fn limit(&self, rules: &Rules, now: f64, current: u32, up: bool) -> u32 {
        if rules.select == Select::Disabled {
            return current;
        }
        let proposals = rules.policies.iter().map(|policy| {
            let period = f64::from(policy.period_secs());
            let changed: i64 = self
                .events
                .iter()
                .filter(|&&(t, delta)| t > now - period && (delta > 0) == up)
                .map(|&(_, delta)| delta.abs())
                .sum();
            let current = i64::from(current);
            let start = if up {
                current - changed
            } else {
                current + changed
            };
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
}
