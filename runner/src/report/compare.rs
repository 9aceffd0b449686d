//! A run against an earlier one, metric by metric: the report's
//! "Compared with the previous run" table and `runner compare`.

use serde::Serialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::{data::RunData, format::number};

/// The metrics compared between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Compared {
    Score,
    P50,
    P95,
    P99,
    ErrorRate,
    Goodput,
    DegradedRate,
    FullGoodput,
}

impl Compared {
    pub const ALL: [Self; 8] = [
        Self::Score,
        Self::P50,
        Self::P95,
        Self::P99,
        Self::ErrorRate,
        Self::Goodput,
        Self::DegradedRate,
        Self::FullGoodput,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Score => "score",
            Self::P50 => "p50 ms",
            Self::P95 => "p95 ms",
            Self::P99 => "p99 ms",
            Self::ErrorRate => "error rate",
            Self::Goodput => "goodput",
            Self::DegradedRate => "degraded rate",
            Self::FullGoodput => "full goodput",
        }
    }

    fn higher_is_better(self) -> bool {
        matches!(self, Self::Score | Self::Goodput | Self::FullGoodput)
    }

    /// The metric's value in `run`; `None` when it measured nothing.
    pub fn of(self, run: &RunData) -> Option<f64> {
        let totals = &run.totals;
        match self {
            Self::Score => Some(f64::from(run.score.total)),
            Self::P50 => totals.corrected.p50_ms,
            Self::P95 => totals.corrected.p95_ms,
            Self::P99 => totals.corrected.p99_ms,
            Self::ErrorRate => totals.error_rate(),
            Self::Goodput => totals.goodput(),
            Self::DegradedRate => totals.degraded_rate(),
            Self::FullGoodput => totals.full_goodput(),
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
    let rows = Compared::ALL
        .into_iter()
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
