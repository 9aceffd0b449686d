//! Is the lab running the workload the scenario was written for?
//!
//! Each scenario's `expect` table names values in the service's
//! `GET /debug/workload` answer: what dep is asked to do, how long jobs
//! take, and the knobs whose change would hide the lesson (more dep
//! connections, more workers). Making the exercise easier instead of
//! fixing the code would otherwise score as a fix. A run against a lab
//! whose values differ is still measured and written, but flagged: its
//! score does not count, and `--fail-under` fails it.

use std::{collections::BTreeMap, time::Duration};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long the workload answer may take.
const ASK_WITHIN: Duration = Duration::from_secs(2);

/// One expected value that the lab does not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    /// A dotted path into `/debug/workload`, as in the scenario.
    pub key: String,
    /// The scenario's value.
    pub expected: Value,
    /// What the lab reported; `null` when it reported nothing there.
    pub actual: Value,
}

/// Asks the service at `base_url` for its workload and returns every
/// expected value it does not match. A lab that cannot say counts as
/// edited everywhere: a run that cannot be vouched for is not ranked.
pub async fn edits(base_url: &str, expect: &BTreeMap<String, Value>) -> Vec<Edit> {
    if expect.is_empty() {
        return Vec::new();
    }
    let url = format!("{base_url}/debug/workload");
    let answer = async {
        reqwest::Client::new()
            .get(&url)
            .timeout(ASK_WITHIN)
            .send()
            .await?
            .error_for_status()?
            .json::<Value>()
            .await
    }
    .await;
    let reported = answer.unwrap_or_else(|error| {
        crate::errln!("warning: cannot read the lab's workload at {url}: {error}");
        Value::Null
    });
    compare(&reported, expect)
}

/// The expected values that `reported` does not match.
pub fn compare(reported: &Value, expect: &BTreeMap<String, Value>) -> Vec<Edit> {
    expect
        .iter()
        .filter_map(|(key, expected)| {
            let actual = key
                .split('.')
                .try_fold(reported, |value, part| value.get(part))
                .cloned()
                .unwrap_or(Value::Null);
            (actual != *expected).then(|| Edit {
                key: key.clone(),
                expected: expected.clone(),
                actual,
            })
        })
        .collect()
}

/// The terminal's explanation of a flagged run.
pub fn explain(edits: &[Edit]) -> String {
    let mut out = String::from(
        "  ✗ the lab's workload is not the scenario's, so this run is flagged and its score \
         does not count:\n",
    );
    for edit in edits {
        out.push_str(&format!(
            "      {} is {} but the scenario expects {}\n",
            edit.key, edit.actual, edit.expected
        ));
    }
    out.push_str(
        "    The lesson is in the marked code, not in the workload or the knobs. Put the \
         defaults back (lab/src/cli.rs, LAB_* environment variables) and run again.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expect(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect()
    }

    #[test]
    fn matching_workload_has_no_edits() {
        let reported = json!({"workload": {"slow_job_ms": 2000}, "knobs": {"workers": 8}});
        let expected = expect(&[
            ("workload.slow_job_ms", json!(2000)),
            ("knobs.workers", json!(8)),
        ]);
        assert!(compare(&reported, &expected).is_empty());
    }

    #[test]
    fn changed_and_missing_values_are_edits() {
        let reported = json!({"workload": {"timeouts_dep": "latency_ms=20"}});
        let expected = expect(&[
            (
                "workload.timeouts_dep",
                json!("latency_ms=20&hang_rate=0.1"),
            ),
            ("knobs.dep_max_connections", json!(32)),
        ]);
        let edits = compare(&reported, &expected);
        assert_eq!(edits.len(), 2, "{edits:?}");
        assert_eq!(edits[0].key, "knobs.dep_max_connections");
        assert_eq!(edits[0].actual, Value::Null);
        assert_eq!(edits[1].actual, json!("latency_ms=20"));
        assert!(explain(&edits).contains("workload.timeouts_dep is \"latency_ms=20\""));
    }
}
