//! What a charted number counts: milliseconds, connections, jobs. A chart
//! draws one unit on its y axis, so lines on it compare; the report splits
//! a probe's fields into one chart per unit.
//!
//! The lab's debug endpoints do not say what their fields count, so the
//! table below does, by field path: one place, held to every probe field of
//! `scenarios.toml` by a test. A field it does not know has no unit, and
//! the report gives it a chart of its own rather than guess.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Unit {
    Ms,
    Percent,
    RequestsPerSecond,
    Requests,
    Connections,
    /// Tries to take a pooled database connection.
    Acquires,
    /// Calls to dep.
    Calls,
    CallsPerRequest,
    Answers,
    Orders,
    Jobs,
    Replicas,
    /// Score points (the board).
    Points,
    /// A field the table does not know: one field per chart.
    Count,
}

impl Unit {
    /// The unit of a probe's field (a dotted path into its JSON); `None`
    /// when the table does not know it.
    pub fn of_field(field: &str) -> Option<Self> {
        let unit = match field {
            _ if field.ends_with("_ms") => Self::Ms,
            _ if field.ends_with("Utilization") => Self::Percent,
            _ if crate::kube_fields::counts_replicas(field) => Self::Replicas,
            _ if field.ends_with("calls_per_request") => Self::CallsPerRequest,
            _ if field.starts_with("jobs.") => Self::Jobs,
            "in_use" | "connections.api" | "connections.other" => Self::Connections,
            "waited" | "timeouts" => Self::Acquires,
            "waiting" | "dep_calls_holding_db" | "dep.off_workload" | "dep.most_in_flight" => {
                Self::Calls
            }
            "from_dep" | "unbacked" => Self::Answers,
            "answered" | "recorded" | "unpriced" | "unrecorded" | "misrecorded" => Self::Orders,
            _ => return None,
        };
        Some(unit)
    }

    /// The unit's name in the page's markup (`data-unit`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Ms => "ms",
            Self::Percent => "percent",
            Self::RequestsPerSecond => "requests_per_second",
            Self::Requests => "requests",
            Self::Connections => "connections",
            Self::Acquires => "acquires",
            Self::Calls => "calls",
            Self::CallsPerRequest => "calls_per_request",
            Self::Answers => "answers",
            Self::Orders => "orders",
            Self::Jobs => "jobs",
            Self::Replicas => "replicas",
            Self::Points => "points",
            Self::Count => "count",
        }
    }

    /// The y axis' label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ms => "ms",
            Self::Percent => "%",
            Self::RequestsPerSecond => "req/s",
            Self::Requests => "requests",
            Self::Connections => "connections",
            Self::Acquires => "acquires",
            Self::Calls => "calls",
            Self::CallsPerRequest => "calls/request",
            Self::Answers => "answers",
            Self::Orders => "orders",
            Self::Jobs => "jobs",
            Self::Replicas => "replicas",
            Self::Points => "points",
            Self::Count => "",
        }
    }

    /// What a probe chart of this unit shows, for its title.
    pub fn subject(self) -> &'static str {
        match self {
            Self::Ms => "times",
            Self::Percent => "utilisation",
            Self::RequestsPerSecond | Self::Requests => "requests",
            Self::Connections => "connections",
            Self::Acquires => "waits for a connection",
            Self::Calls => "calls to dep",
            Self::CallsPerRequest => "calls to dep per request",
            Self::Answers => "answers",
            Self::Orders => "orders",
            Self::Jobs => "jobs",
            Self::Replicas => "replicas",
            Self::Points => "points",
            Self::Count => "value",
        }
    }
}

impl From<Unit> for &'static str {
    fn from(unit: Unit) -> Self {
        unit.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_unit_comes_from_its_path() {
        assert_eq!(Unit::of_field("wait_max_ms"), Some(Unit::Ms));
        assert_eq!(Unit::of_field("in_use"), Some(Unit::Connections));
        assert_eq!(Unit::of_field("jobs.slow.unfinished"), Some(Unit::Jobs));
        assert_eq!(Unit::of_field("status.readyReplicas"), Some(Unit::Replicas));
        assert_eq!(Unit::of_field("something.new"), None);
    }
}
