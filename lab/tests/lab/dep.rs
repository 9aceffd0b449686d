//! dep: behaviour by query string, errors that name the parameter, and work
//! that stops when the caller goes away.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{self, eventually, get_json};

#[tokio::test]
async fn a_plain_call_answers_at_once() {
    let dep = support::dep().await;
    let started = Instant::now();
    let body = get_json(&dep.url("/work")).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no delay asked, none given"
    );
    assert_eq!(body["outcome"], "ok");
    assert_eq!(body["delay_ms"], 0);
    assert_eq!(get_json(&dep.url("/stats")).await["completed"], 1);
    let health = support::client()
        .get(dep.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn latency_and_brownout_delay_the_answer() {
    let dep = support::dep().await;
    let started = Instant::now();
    let body = get_json(&dep.url("/work?latency_ms=200")).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(body["delay_ms"], 200);

    let started = Instant::now();
    let body = get_json(&dep.url("/work?latency_ms=1&hang_rate=1&hang_ms=300")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(body["outcome"], "hung");

    let body = get_json(&dep.url("/work?latency_ms=5&dist=lognormal&sigma=0.3")).await;
    assert_eq!(body["outcome"], "ok");
}

#[tokio::test]
async fn injected_failures_answer_with_the_chosen_status() {
    let dep = support::dep().await;
    let response = support::client()
        .get(dep.url("/work?fail_rate=1&fail_status=503"))
        .send()
        .await
        .expect("dep answers");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("JSON error");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("injected")),
        "{body}"
    );
}

#[tokio::test]
async fn bad_parameters_get_400_naming_the_parameter() {
    let dep = support::dep().await;
    for (query, parameter) in [
        ("latency_ms=soon", "latency_ms"),
        ("hang_rate=2", "hang_rate"),
        ("fail_status=302", "fail_status"),
        ("dist=zipf", "dist"),
        ("latency=5", "latency"),
    ] {
        let response = support::client()
            .get(dep.url(&format!("/work?{query}")))
            .send()
            .await
            .expect("dep answers");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.expect("JSON error");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("`{parameter}`")),
            "{query}: {message}"
        );
    }
}

#[tokio::test]
async fn work_stops_when_the_caller_goes_away() {
    let dep = support::dep().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let result = impatient
        .get(dep.url("/work?latency_ms=30000"))
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()), "the client gives up");

    // The abandoned call is dropped within moments, not after 30 s.
    let stats = eventually(
        Duration::from_secs(3),
        "dep to drop the abandoned call",
        || async {
            let stats = get_json(&dep.url("/stats")).await;
            (stats["in_flight"] == 0).then_some(stats)
        },
    )
    .await;
    assert_eq!(stats["abandoned"], 1);
    assert_eq!(stats["completed"], 0);
}

/// What dep says it served, whatever its callers' code says: calls per
/// behaviour (two spellings of one behaviour count as one), hung calls,
/// the most at once; a reset zeroes them.
#[tokio::test]
async fn dep_counts_what_it_served_per_behaviour_and_a_reset_zeroes_it() {
    let dep = support::dep().await;
    for query in [
        "latency_ms=1",
        "latency_ms=1&dist=fixed",
        "hang_rate=1&hang_ms=1",
    ] {
        get_json(&dep.url(&format!("/work?{query}"))).await;
    }
    let stats = get_json(&dep.url("/stats")).await;
    assert_eq!(
        stats["by_behaviour"],
        serde_json::json!({ "latency_ms=1": 2, "latency_ms=0&hang_rate=1&hang_ms=1": 1 }),
        "{stats}"
    );
    assert_eq!(stats["hung"], 1);
    assert_eq!(stats["most_in_flight"], 1);
    let reset = support::client()
        .post(dep.url("/admin/reset"))
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), StatusCode::OK);
    let stats = get_json(&dep.url("/stats")).await;
    assert_eq!(stats["by_behaviour"], serde_json::json!({}));
    assert_eq!(
        (&stats["hung"], &stats["completed"]),
        (&Value::from(0), &Value::from(0))
    );
}
