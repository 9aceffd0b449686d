//! The score: each check earns its whole weight when its metric meets the
//! target, nothing at or beyond its `zero` value, and a straight-line share
//! in between, so a better value never scores lower and there are no
//! cliffs. The total is the earned share of all weights, 0 to 100.
//!
//! A gate earns no points: the total is multiplied by its share instead.
//! Gates check that the work was done at all (orders recorded, slow jobs
//! finished), so that a run which skipped the work scores nothing however
//! fast it was.
//!
//! A check whose metric has no data (no request finished, a probe that
//! never answered) earns nothing: a run that measured nothing cannot pass.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    format::Unit,
    load::collector::Collector,
    probe::ProbeRecord,
    scenario::{Check, Measure, Scenario},
};

/// A run at or above this score passes its case: ✓ on the report, no next
/// step printed. The solutions score 100; the baselines stay under 35.
pub const PASS_MARK: u32 = 90;

/// One scored check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    /// What was measured.
    pub measure: Measure,
    /// What was measured, in words: "95th-percentile latency".
    #[serde(default)]
    pub title: String,
    /// How the value, target and zero read to a person (the numbers here
    /// stay exact).
    #[serde(default)]
    pub unit: Unit,
    /// What was measured, as the terminal shows it: `p95_ms`,
    /// `depstats.waiting (max)`, `p95_ms (last 1m)`.
    pub label: String,
    /// The measured value; null when there was no data, and the check
    /// earns nothing.
    pub value: Option<f64>,
    pub target: f64,
    pub zero: f64,
    /// 0 for a gate.
    pub weight: f64,
    /// What the check earned, 0 to `weight`; for a gate, the factor the
    /// total is multiplied by, 0 to 1.
    pub earned: f64,
    /// The check multiplies the total instead of adding to it.
    #[serde(default)]
    pub gate: bool,
    /// The value reached the target.
    pub met: bool,
    /// The scenario's line for a failure of this check, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<String>,
    /// The report opens with this check's chart (the scenario's
    /// `key_chart`); without one, with the first check's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key_chart: bool,
}

/// A run's score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Score {
    pub checks: Vec<CheckResult>,
    /// 0 to 100.
    #[schemars(range(max = 100))]
    pub total: u32,
}

/// How the terminal and LEADERBOARD.md show a check's target: `≤` when
/// lower is better (`target < zero`, as for latency), `≥` when higher is.
pub fn direction(target: f64, zero: f64) -> &'static str {
    if target <= zero { "≤" } else { "≥" }
}

/// The share of a check's weight that `value` earns, from 0 to 1. Works in
/// both directions: lower-is-better when `target < zero` (latency),
/// higher-is-better when `target > zero` (goodput).
pub fn share(value: f64, target: f64, zero: f64) -> f64 {
    let share = (zero - value) / (zero - target);
    // NaN (target = zero) earns nothing; so does -0.0, shown as 0.0.
    if share.is_nan() || share <= 0.0 {
        0.0
    } else {
        share.clamp(0.0, 1.0)
    }
}

/// Scores `checks`, asking `measure` for each check's value.
pub fn score(checks: &[Check], mut measure: impl FnMut(&Check) -> Option<f64>) -> Score {
    let results: Vec<CheckResult> = checks
        .iter()
        .map(|check| {
            let value = measure(check);
            let share = value.map_or(0.0, |value| share(value, check.target, check.zero));
            CheckResult {
                measure: check.measure.clone(),
                title: check.words(),
                unit: Unit::of(&check.measure),
                label: check.label(),
                value,
                target: check.target,
                zero: check.zero,
                weight: check.weight,
                earned: if check.gate {
                    share
                } else {
                    check.weight * share
                },
                gate: check.gate,
                met: share >= 1.0,
                lesson: check.lesson.clone(),
                key_chart: check.key_chart,
            }
        })
        .collect();
    let (gates, weighted): (Vec<&CheckResult>, Vec<&CheckResult>) =
        results.iter().partition(|check| check.gate);
    let weights: f64 = weighted.iter().map(|check| check.weight).sum();
    let earned: f64 = weighted.iter().map(|check| check.earned).sum();
    let factor: f64 = gates.iter().map(|gate| gate.earned).product();
    let total = if weights > 0.0 {
        (100.0 * factor * earned / weights).round() as u32
    } else {
        0
    };
    Score {
        checks: results,
        total: total.min(100),
    }
}

/// Each check's value: a request metric from the collector, or a probe's
/// stat, over the whole run or its last part; then the score. A run and
/// the model's prediction are scored alike.
pub fn measured(scenario: &Scenario, collector: &Collector, probes: &[ProbeRecord]) -> Score {
    score(&scenario.checks, |check| {
        let from = check.last.map_or(Duration::ZERO, |last| {
            scenario.duration.saturating_sub(last)
        });
        match &check.measure {
            Measure::Request(metric) => collector.metric(*metric, from),
            Measure::Probe { probe, field, stat } => probes
                .iter()
                .find(|record| &record.name == probe)?
                .stat(field, *stat, from),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::RequestMetric;

    fn check(metric: RequestMetric, target: f64, zero: f64, weight: f64) -> Check {
        Check {
            measure: Measure::Request(metric),
            title: Some(metric.words().to_owned()),
            target,
            zero,
            weight,
            gate: false,
            last: None,
            lesson: None,
            key_chart: false,
        }
    }

    fn gate(metric: RequestMetric, target: f64, zero: f64) -> Check {
        Check {
            weight: 0.0,
            gate: true,
            ..check(metric, target, zero, 0.0)
        }
    }

    #[test]
    fn share_is_whole_at_target_nothing_at_zero_and_linear_between() {
        assert_eq!(share(100.0, 100.0, 1000.0), 1.0);
        assert_eq!(share(50.0, 100.0, 1000.0), 1.0);
        assert_eq!(share(1000.0, 100.0, 1000.0), 0.0);
        assert_eq!(share(5000.0, 100.0, 1000.0), 0.0);
        assert!((share(550.0, 100.0, 1000.0) - 0.5).abs() < 1e-12);
        // Higher is better when the target is above the zero value.
        assert_eq!(share(0.99, 0.99, 0.5), 1.0);
        assert!((share(0.745, 0.99, 0.5) - 0.5).abs() < 1e-12);
        assert_eq!(share(f64::NAN, 0.99, 0.5), 0.0);
    }

    #[test]
    fn share_is_bounded_and_monotonic_in_both_directions() {
        for (target, zero) in [(100.0, 1000.0), (0.99, 0.5), (0.0, 0.2), (3.0, 10.0)] {
            let better_first = target < zero;
            let mut last = None;
            for step in 0..=400 {
                // Sweep from well past the target to well past zero.
                let t = step as f64 / 400.0;
                let value = target + (zero - target) * (t * 1.5 - 0.25);
                let s = share(value, target, zero);
                assert!((0.0..=1.0).contains(&s), "share {s} out of bounds");
                if let Some(previous) = last {
                    assert!(
                        s <= previous,
                        "a worse value scored higher: {value} ({better_first})"
                    );
                }
                last = Some(s);
            }
        }
    }

    #[test]
    fn the_total_is_the_earned_share_of_all_weights() {
        let checks = [
            check(RequestMetric::P95Ms, 100.0, 1000.0, 30.0),
            check(RequestMetric::Goodput, 0.99, 0.5, 70.0),
        ];
        let score = score(&checks, |check| match check.measure {
            Measure::Request(RequestMetric::P95Ms) => Some(550.0),
            _ => Some(0.99),
        });
        assert_eq!(score.total, 85);
        assert!(!score.checks[0].met);
        assert!(score.checks[1].met);
        assert!((score.checks[0].earned - 15.0).abs() < 1e-9);
    }

    #[test]
    fn a_gate_multiplies_the_total_and_earns_nothing_itself() {
        let checks = [
            check(RequestMetric::P95Ms, 100.0, 1000.0, 100.0),
            gate(RequestMetric::Goodput, 0.9, 0.5),
        ];
        let total = |goodput: Option<f64>| {
            score(&checks, |check| match check.measure {
                Measure::Request(RequestMetric::P95Ms) => Some(50.0),
                _ => goodput,
            })
        };
        assert_eq!(total(Some(0.95)).total, 100, "a gate met changes nothing");
        let half = total(Some(0.7));
        assert_eq!(half.total, 50);
        assert!(!half.checks[1].met);
        assert!((half.checks[1].earned - 0.5).abs() < 1e-9, "the factor");
        assert_eq!(total(Some(0.5)).total, 0, "a gate at zero zeroes the run");
        assert_eq!(total(None).total, 0, "a gate without data too");
    }

    #[test]
    fn a_check_without_data_earns_nothing() {
        let checks = [check(RequestMetric::P95Ms, 100.0, 1000.0, 1.0)];
        let score = score(&checks, |_| None);
        assert_eq!(score.total, 0);
        assert_eq!(score.checks[0].value, None);
    }
}
