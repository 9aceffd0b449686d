//! A run against an earlier one, metric by metric: the report's
//! "Compared with the previous run" table and `runner compare`.

use std::iter;

use serde::Serialize;
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

use crate::{data::RunData, format::number, scenario::RequestMetric};

/// What is compared between runs: the score, then every request metric,
/// by the name a check gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    Score,
    Request(RequestMetric),
}

impl Compared {
    /// The score, then the request metrics in their enum's order.
    pub fn all() -> impl Iterator<Item = Self> {
        iter::once(Self::Score).chain(RequestMetric::iter().map(Self::Request))
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Score => "score",
            Self::Request(metric) => metric.as_str(),
        }
    }

    fn higher_is_better(self) -> bool {
        match self {
            Self::Score => true,
            Self::Request(metric) => metric.higher_is_better(),
        }
    }

    /// The metric's value in `run`; `None` when it measured nothing.
    pub fn of(self, run: &RunData) -> Option<f64> {
        match self {
            Self::Score => Some(f64::from(run.score.total)),
            Self::Request(metric) => run.totals.metric(metric),
        }
    }
}

/// Whether a metric moved, and which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, EnumIter)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Verdict {
    Better,
    Worse,
    Same,
}

impl Verdict {
    /// As the report writes it (strum's spelling, the same as serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A row of the comparison with an earlier run.
#[derive(Debug, Serialize)]
pub struct Delta {
    pub metric: &'static str,
    pub before: String,
    pub after: String,
    pub verdict: Verdict,
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    /// The earlier run.
    pub run_id: String,
    pub href: String,
    pub rows: Vec<Delta>,
}

/// `data` against an earlier run, metric by metric.
pub fn compare(data: &RunData, previous: &RunData) -> Comparison {
    let show = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), number);
    let rows = Compared::all()
        .map(|metric| {
            let (before, after) = (metric.of(previous), metric.of(data));
            let verdict = match (before, after) {
                // Within 2%: noise, not a change.
                (Some(b), Some(a)) if (a - b).abs() <= b.abs() * 0.02 => Verdict::Same,
                (Some(b), Some(a)) if (a > b) == metric.higher_is_better() => Verdict::Better,
                (Some(_), Some(_)) => Verdict::Worse,
                _ => Verdict::Same,
            };
            Delta {
                metric: metric.name(),
                before: show(before),
                after: show(after),
                verdict,
            }
        })
        .collect();
    Comparison {
        href: format!("../{}/report.html", previous.run_id),
        run_id: previous.run_id.clone(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_metric_is_compared_by_its_name_and_direction() {
        let mut before = crate::data::example("tx", "20261129T110000Z-0001", 40, "d");
        let mut after = crate::data::example("tx", "20261129T120000Z-0002", 90, "d");
        before.totals.corrected.p95_ms = Some(100.0);
        after.totals.corrected.p95_ms = Some(50.0);
        after.totals.succeeded = 0;
        after.totals.failed = 1;
        let rows = compare(&after, &before).rows;
        let names: Vec<&str> = rows.iter().map(|row| row.metric).collect();
        let mut expected = vec!["score"];
        expected.extend(RequestMetric::iter().map(RequestMetric::as_str));
        assert_eq!(names, expected);
        let verdict = |name: &str| {
            rows.iter()
                .find(|row| row.metric == name)
                .map(|row| row.verdict)
        };
        assert_eq!(verdict("score"), Some(Verdict::Better));
        assert_eq!(verdict("p95_ms"), Some(Verdict::Better));
        assert_eq!(verdict("goodput"), Some(Verdict::Worse));
        assert_eq!(verdict("error_rate"), Some(Verdict::Worse));
        // Without answer classes there is nothing to compare.
        assert_eq!(verdict("full_goodput"), Some(Verdict::Same));
    }
}
