//! worker: batches, stats, bad inputs, bounded memory, and the baseline's
//! starvation of fast jobs.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, Served, eventually, get_json};

async fn post_batch(worker: &Served, body: Value) -> reqwest::Response {
    support::client()
        .post(worker.url("/batches"))
        .json(&body)
        .send()
        .await
        .expect("worker answers")
}

async fn wait_until_done(worker: &Served, id: u64) -> Value {
    eventually(Duration::from_secs(10), "the batch to finish", || async {
        let status = get_json(&worker.url(&format!("/batches/{id}"))).await;
        (status["state"] == "done").then_some(status)
    })
    .await
}

#[tokio::test]
async fn a_batch_runs_to_completion_with_per_class_latency() {
    let (worker, pools) = support::worker(&["--fast-job-ms", "1", "--slow-job-ms", "50"]).await;
    let response = post_batch(&worker, json!({ "fast": 3, "slow": 1 })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers()["location"], "/batches/1");
    let accepted: Value = response.json().await.expect("JSON");
    assert_eq!(accepted["id"], 1);

    let status = wait_until_done(&worker, 1).await;
    assert_eq!(status["fast"]["done"], 3);
    assert_eq!(status["slow"]["total"], 1);
    assert!(
        status["slow"]["p50_ms"]
            .as_f64()
            .is_some_and(|ms| ms >= 50.0),
        "{status}"
    );

    let stats = get_json(&worker.url("/stats")).await;
    assert_eq!(stats["pools"][0]["workers"], 8);
    assert_eq!(stats["pools"][0]["queued"], 0);
    assert_eq!(stats["jobs"]["fast"]["completed"], 3);
    assert_eq!(stats["jobs"]["slow"]["submitted"], 1);
    assert_eq!(stats["jobs"]["slow"]["unfinished"], 0);
    assert!(
        stats["jobs"]["slow"]["p99_ms"]
            .as_f64()
            .is_some_and(|ms| ms >= 50.0),
        "{stats}"
    );
    assert_eq!(stats["batches"], json!({ "running": 0, "finished": 1 }));

    for probe in ["/healthz", "/readyz"] {
        let answer = support::client()
            .get(worker.url(probe))
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status(), StatusCode::OK, "{probe}");
    }
    let workload = get_json(&worker.url("/debug/workload")).await;
    assert_eq!(
        workload["workload"],
        json!({ "fast_job_ms": 1, "slow_job_ms": 50 })
    );
    assert_eq!(workload["pools"]["workers"], 8, "what the pools run");
    pools.stop().await;
}

#[tokio::test]
async fn bad_batches_get_clear_errors() {
    let (worker, pools) = support::worker(&["--max-jobs-per-batch", "100"]).await;
    let malformed = support::client()
        .post(worker.url("/batches"))
        .header("content-type", "application/json")
        .body("{\"fast\": ")
        .send()
        .await
        .expect("answer");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    for (body, status, says) in [
        (
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least one job",
        ),
        (
            json!({ "fast": -1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "fast",
        ),
        (
            json!({ "fast": 1, "medium": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "medium",
        ),
        (
            json!({ "fast": 60, "slow": 41 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "at most 100 jobs",
        ),
    ] {
        let response = post_batch(&worker, body.clone()).await;
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.expect("JSON error");
        assert!(
            error["error"].as_str().is_some_and(|e| e.contains(says)),
            "{body}: {error}"
        );
    }

    let bad_id = support::client()
        .get(worker.url("/batches/abc"))
        .send()
        .await
        .expect("answer");
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
    let missing = support::client()
        .get(worker.url("/batches/999"))
        .send()
        .await
        .expect("answer");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    pools.stop().await;
}

#[tokio::test]
async fn a_full_queue_refuses_new_batches() {
    let (worker, pools) = support::worker(&[
        "--workers",
        "2",
        "--slow-job-ms",
        "60000",
        "--max-queued-jobs",
        "5",
    ])
    .await;
    assert_eq!(
        post_batch(&worker, json!({ "slow": 5 })).await.status(),
        StatusCode::ACCEPTED
    );
    eventually(
        Duration::from_secs(2),
        "two jobs running, three queued",
        || async {
            (get_json(&worker.url("/stats")).await["pools"][0]["queued"] == 3).then_some(())
        },
    )
    .await;
    // Running or queued, none finished: what case 3's gate reads.
    let slow = &get_json(&worker.url("/stats")).await["jobs"]["slow"];
    assert_eq!(slow["submitted"], 5, "{slow}");
    assert_eq!(slow["unfinished"], 5, "{slow}");
    let refused = post_batch(&worker, json!({ "fast": 3 })).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let error: Value = refused.json().await.expect("JSON error");
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("--max-queued-jobs")),
        "{error}"
    );
    pools.stop().await;
}

#[tokio::test]
async fn baseline_fast_jobs_wait_behind_slow_ones() {
    let (worker, pools) = support::worker(&[
        "--workers",
        "2",
        "--fast-job-ms",
        "1",
        "--slow-job-ms",
        "600",
    ])
    .await;
    let accepted = post_batch(&worker, json!({ "fast": 8, "slow": 4 })).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let status = wait_until_done(&worker, 1).await;

    // A fast job takes 1 ms, yet most waited for a 600 ms slow job.
    let fast_p95 = status["fast"]["p95_ms"].as_f64().unwrap_or_default();
    assert!(fast_p95 >= 500.0, "fast jobs starved: p95 {fast_p95} ms");
    let stats = get_json(&worker.url("/stats")).await;
    assert_eq!(
        stats["pools"].as_array().map(Vec::len),
        Some(1),
        "one shared pool"
    );
    assert_eq!(stats["pools"][0]["name"], "shared");
    pools.stop().await;
}

#[tokio::test]
async fn finished_batches_are_evicted_beyond_the_cap() {
    let (worker, pools) =
        support::worker(&["--fast-job-ms", "1", "--max-finished-batches", "1"]).await;
    for id in [1, 2] {
        assert_eq!(
            post_batch(&worker, json!({ "fast": 1 })).await.status(),
            StatusCode::ACCEPTED
        );
        wait_until_done(&worker, id).await;
    }
    let evicted = support::client()
        .get(worker.url("/batches/1"))
        .send()
        .await
        .expect("answer");
    assert_eq!(evicted.status(), StatusCode::NOT_FOUND);
    assert_eq!(get_json(&worker.url("/batches/2")).await["state"], "done");
    pools.stop().await;
}

#[tokio::test]
async fn reset_drops_queued_jobs_and_batches() {
    let (worker, pools) = support::worker(&["--workers", "2", "--slow-job-ms", "60000"]).await;
    assert_eq!(
        post_batch(&worker, json!({ "slow": 10 })).await.status(),
        StatusCode::ACCEPTED
    );
    eventually(Duration::from_secs(2), "both workers busy", || async {
        (get_json(&worker.url("/stats")).await["pools"][0]["busy"] == 2).then_some(())
    })
    .await;
    let reset: Value = support::client()
        .post(worker.url("/admin/reset"))
        .send()
        .await
        .expect("reset")
        .json()
        .await
        .expect("JSON");
    assert_eq!(reset["dropped_jobs"], 8);
    let stats = get_json(&worker.url("/stats")).await;
    assert_eq!(stats["pools"][0]["queued"], 0);
    assert_eq!(stats["batches"], json!({ "running": 0, "finished": 0 }));
    assert_eq!(
        stats["jobs"]["slow"]["unfinished"], 0,
        "a reset starts from zero"
    );
    pools.stop().await;
}

/// `spread_ms`: the slow jobs arrive at once, the fast ones one by one over
/// the window, each timed from its own arrival; a window over a minute is
/// refused.
#[tokio::test]
async fn a_spread_batch_trickles_its_fast_jobs_in() {
    let (worker, pools) = support::worker(&["--fast-job-ms", "1", "--slow-job-ms", "1"]).await;
    let response = post_batch(&worker, json!({ "fast": 4, "slow": 2, "spread_ms": 600 })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let started = std::time::Instant::now();
    let status = wait_until_done(&worker, 1).await;
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "the last fast job arrives 450 ms in: {:?}",
        started.elapsed()
    );
    assert!(
        status["fast"]["max_ms"]
            .as_f64()
            .is_some_and(|ms| ms < 300.0),
        "each fast job is timed from its own arrival: {status}"
    );
    let stats = get_json(&worker.url("/stats")).await;
    assert_eq!(stats["jobs"]["slow"]["cut_short"], 0, "{stats}");

    let too_long = post_batch(&worker, json!({ "fast": 1, "spread_ms": 60_001 })).await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = too_long.json().await.expect("JSON");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("spread_ms")),
        "{body}"
    );
    pools.stop().await;
}
