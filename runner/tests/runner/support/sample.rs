//! A finished run's data, as the runner writes it to data.json, for the
//! tests of what reads it: the reports, `runner compare`, the board.

use runner::data::RunData;
use serde_json::json;

/// A run's data.json as the runner writes it, with the given strings.
pub fn sample_run(
    scenario: &str,
    run_id: &str,
    score: u32,
    description: &str,
    label: &str,
) -> RunData {
    let json = json!({
        "version": runner::data::DATA_VERSION,
        "run_id": run_id,
        "scenario": scenario,
        "description": description,
        "case": 1,
        "started_at": "2026-11-29T12:00:00Z",
        "interrupted": false,
        "workload_edits": [],
        "fingerprint": "0a1b2c3d",
        "settings": {
            "url": "http://localhost:8080/cases/timeouts?x=<b>",
            "method": "POST",
            "body": { "note": "</code><script>alert('body')</script>" },
            "rate": 10.0, "duration_s": 3.0, "ramp_s": null, "request_cap_s": 1.0, "workers": 11
        },
        "totals": {
            "intended": 30, "sent": 30, "not_sent": 0, "unfinished": 0, "succeeded": 27, "failed": 3,
            "statuses": { "200": 27, "503": 3 },
            "errors": {},
            "corrected": { "p50_ms": 12.0, "p90_ms": 40.0, "p95_ms": 80.0, "p99_ms": 900.0, "p999_ms": 900.0, "max_ms": 900.0 },
            "service": { "p50_ms": 11.0, "p90_ms": 39.0, "p95_ms": 79.0, "p99_ms": 899.0, "p999_ms": 899.0, "max_ms": 899.0 },
            "distribution": [[0.0, 5.0], [50.0, 12.0], [99.0, 900.0], [100.0, 900.0]],
            "seconds": [
                { "second": 0, "intended": 10, "sent": 10, "succeeded": 10, "failed": 0, "not_sent": 0, "in_flight_max": 2, "p50_ms": 10.0, "p95_ms": 20.0, "p99_ms": 30.0 },
                { "second": 1, "intended": 10, "sent": 10, "succeeded": 8, "failed": 2, "not_sent": 0, "in_flight_max": 9, "p50_ms": 400.0, "p95_ms": 850.0, "p99_ms": 900.0 },
                { "second": 2, "intended": 10, "sent": 10, "succeeded": 9, "failed": 1, "not_sent": 0, "in_flight_max": 3, "p50_ms": null, "p95_ms": null, "p99_ms": null }
            ]
        },
        "probes": [{
            "name": "\"><svg onload=alert('probe')>",
            "url": "http://localhost:8080/debug/<i>stats</i>",
            "polls": 3, "failed_polls": 1,
            "series": [{ "probe": "p", "field": "<u>waiting</u>", "points": [[0.1, 0.0], [1.1, 7.0]] }]
        }],
        "score": {
            "total": score,
            "checks": [
                { "measure": { "request": "p95_ms" }, "title": "95th-percentile latency", "unit": "ms", "label": label, "value": 12009.471, "target": 300.0, "zero": 3000.0, "weight": 1.0, "earned": 0.0, "met": false },
                { "measure": { "request": "goodput" }, "title": "<b>requests</b> answered", "unit": "share", "label": "goodput", "value": 0.497, "target": 0.99, "zero": 0.5, "weight": 1.0, "earned": 0.0, "met": false }
            ]
        }
    });
    serde_json::from_value(json).expect("the sample is a run's data")
}
