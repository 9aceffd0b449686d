//! How a number reads to a person: a check's value in its unit (`212 ms`,
//! `49.7%`) and a plain number with as many decimals as it needs. The
//! terminal, the reports, the model and the leaderboard all show numbers
//! through here, so they read alike everywhere.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::{Measure, RequestMetric};

/// What a check's numbers measure, so that a person reads `12.0 s` and
/// `49.7%` where the data says 12009.471 and 0.497.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Milliseconds.
    Ms,
    /// A share from 0 to 1, shown as a percentage.
    Share,
    /// Already a percentage (Kubernetes' CPU utilisation).
    Percent,
    /// A count, or anything else: shown as it is.
    #[default]
    Count,
}

impl Unit {
    /// The unit of what `measure` measures: request latencies are
    /// milliseconds, rates and goodput shares; a probe field reads in the
    /// unit its chart draws it in ([`crate::unit::Unit::of_field`]).
    pub fn of(measure: &Measure) -> Self {
        match measure {
            Measure::Request(metric) => match metric {
                RequestMetric::P50Ms
                | RequestMetric::P95Ms
                | RequestMetric::P99Ms
                | RequestMetric::MaxMs => Self::Ms,
                RequestMetric::ErrorRate
                | RequestMetric::Goodput
                | RequestMetric::DegradedRate
                | RequestMetric::FullGoodput => Self::Share,
                RequestMetric::NotSent => Self::Count,
            },
            Measure::Probe { field, .. } => match crate::unit::Unit::of_field(field) {
                Some(crate::unit::Unit::Ms) => Self::Ms,
                Some(crate::unit::Unit::Percent) => Self::Percent,
                _ => Self::Count,
            },
        }
    }

    /// `value` as a person reads it: `212 ms`, `12.0 s`, `49.7%`, `3`.
    pub fn show(self, value: f64) -> String {
        match self {
            Self::Ms if value.abs() >= 1000.0 => format!("{:.1} s", value / 1000.0),
            Self::Ms if value.abs() >= 10.0 => format!("{value:.0} ms"),
            Self::Ms => format!("{value:.1} ms"),
            Self::Share => percent(100.0 * value),
            Self::Percent => percent(value),
            Self::Count => number(value),
        }
    }
}

/// `50%`, `49.7%`, `0.5%`: a whole percentage without decimals.
fn percent(value: f64) -> String {
    if (value - value.round()).abs() < 0.05 {
        format!("{value:.0}%")
    } else {
        format!("{value:.1}%")
    }
}

/// A value with as many decimals as it needs.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e12 {
        format!("{value:.0}")
    } else if value.abs() >= 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_a_person_reads_them() {
        assert_eq!(Unit::Ms.show(12009.471), "12.0 s");
        assert_eq!(Unit::Ms.show(212.4), "212 ms");
        assert_eq!(Unit::Ms.show(4.25), "4.2 ms");
        assert_eq!(Unit::Share.show(0.497), "49.7%");
        assert_eq!(Unit::Share.show(0.99), "99%");
        assert_eq!(Unit::Percent.show(71.0), "71%");
        assert_eq!(Unit::Count.show(3.0), "3");
        let probe = |field: &str| Measure::Probe {
            probe: "stats".into(),
            field: field.into(),
            stat: crate::scenario::Stat::Last,
        };
        assert_eq!(Unit::of(&probe("jobs.fast.p95_ms")), Unit::Ms);
        assert_eq!(Unit::of(&probe("in_use")), Unit::Count);
        assert_eq!(
            Unit::of(&probe(
                "status.currentMetrics.0.resource.current.averageUtilization"
            )),
            Unit::Percent
        );
        assert_eq!(
            Unit::of(&Measure::Request(RequestMetric::Goodput)),
            Unit::Share
        );
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(300.0), "300");
        assert_eq!(number(212.345), "212.3");
        assert_eq!(number(0.99), "0.99");
        assert_eq!(number(0.12345), "0.123");
    }
}
