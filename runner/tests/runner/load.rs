//! The load engine against an in-process axum server on loopback: the rate
//! holds, a server stall shows in the corrected latency, requests the
//! generator could not send are counted, and a run can be cut short.
//!
//! goose keeps its stop switch in a process-wide static, so these tests
//! take turns through `crate::ONE_AT_A_TIME`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, http::StatusCode, routing::get};
use runner::{
    load::{self, Controls, LoadResult, Plan, RequestSpec, arrivals::Arrivals},
    scenario::Method,
};
use tokio::sync::{Semaphore, watch};

use crate::support::{eventually, serve};

/// Counts the requests a test server has seen, so a test can act once the
/// load is really flowing (goose takes a moment to start its users).
#[derive(Clone, Default)]
struct Seen(Arc<AtomicU64>);

impl Seen {
    fn one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Waits until the server has seen `count` requests; fails the test
    /// after 20 s (goose starts its users within a second).
    async fn at_least(&self, count: u64) {
        eventually(
            Duration::from_secs(20),
            "requests reach the server",
            || async { (self.0.load(Ordering::Relaxed) >= count).then_some(()) },
        )
        .await;
    }
}

fn spec(base_url: String, path: &str, cap: Duration) -> RequestSpec {
    RequestSpec {
        base_url,
        method: Method::Get,
        path: path.into(),
        body: None,
        cap,
        answers: None,
    }
}

async fn run(spec: RequestSpec, rate: f64, duration: Duration, controls: Controls) -> LoadResult {
    let plan = Plan::new(spec, Arrivals::new(rate, duration, None));
    load::run(plan, controls, |_| {})
        .await
        .expect("the run completes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_holds_whatever_the_rate() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let base = serve(Router::new().route("/", get(|| async { "ok" }))).await;
    for rate in [50.0, 300.0, 1000.0] {
        let started = Instant::now();
        let result = run(
            spec(base.clone(), "/", Duration::from_secs(1)),
            rate,
            Duration::from_secs(3),
            Controls::default(),
        )
        .await;
        let totals = &result.totals;
        let expected = (rate * 3.0) as u64;
        assert_eq!(totals.intended, expected, "rate {rate}");
        assert_eq!(totals.not_sent, 0, "rate {rate}: {:?}", totals.corrected);
        assert_eq!(totals.sent, expected, "rate {rate}");
        assert_eq!(totals.succeeded, expected, "rate {rate}");
        // Every full second released its share, within 2%.
        for second in &totals.seconds[..3] {
            let share = second.intended as f64 / rate;
            assert!(
                (0.98..=1.02).contains(&share),
                "rate {rate}, second {}: {share}",
                second.second
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "rate {rate}: {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_second_stall_shows_in_the_corrected_p99() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let (gate, open) = watch::channel(true);
    let seen = Seen::default();
    let counter = seen.clone();
    let app = Router::new().route(
        "/",
        get(move || {
            let mut open = open.clone();
            counter.one();
            async move {
                let _ = open.wait_for(|open| *open).await;
                "ok"
            }
        }),
    );
    let base = serve(app).await;
    tokio::spawn(async move {
        // One second into the load, the server stops answering for two.
        seen.at_least(100).await;
        let _ = gate.send(false);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = gate.send(true);
    });
    let result = run(
        spec(base, "/", Duration::from_secs(5)),
        100.0,
        Duration::from_secs(5),
        Controls::default(),
    )
    .await;
    let totals = &result.totals;
    assert_eq!(totals.failed, 0, "every request waits out the stall");
    assert_eq!(
        totals.not_sent, 0,
        "workers are sized for requests as long as the cap"
    );
    let p99 = totals.corrected.p99_ms.unwrap_or_default();
    let max = totals.corrected.max_ms.unwrap_or_default();
    let p50 = totals.corrected.p50_ms.unwrap_or_default();
    assert!(p99 >= 1500.0, "corrected p99 {p99} ms shows the stall");
    assert!(max >= 1800.0, "corrected max {max} ms");
    assert!(
        p50 < 1000.0,
        "most requests were outside the stall: p50 {p50} ms"
    );
    // The in-flight count grew while the server stalled.
    let peak = totals
        .seconds
        .iter()
        .map(|s| s.in_flight_max)
        .max()
        .unwrap_or_default();
    assert!(peak >= 150, "in flight during the stall: {peak}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_no_worker_can_take_are_counted_as_not_sent() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    // The server falls behind: one request at a time, 50 ms each, so 20 per
    // second at most against 100 offered.
    let one_at_a_time = Arc::new(Semaphore::new(1));
    let app = Router::new().route(
        "/",
        get(move || {
            let one_at_a_time = Arc::clone(&one_at_a_time);
            async move {
                let _permit = one_at_a_time.acquire().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                "ok"
            }
        }),
    );
    let base = serve(app).await;
    // And the generator has 10 workers where the plan would size 220: its
    // workers all wait on the slow server, the ticket queue fills, and the
    // tickets that find it full are never sent.
    let mut plan = Plan::new(
        spec(base, "/", Duration::from_secs(2)),
        Arrivals::new(100.0, Duration::from_secs(2), None),
    );
    assert!(plan.workers >= 200, "{}", plan.workers);
    plan.workers = 10;
    let result = load::run(plan, Controls::default(), |_| {})
        .await
        .expect("the run completes");
    let totals = &result.totals;
    assert_eq!(totals.intended, 200);
    assert!(
        totals.not_sent >= 100,
        "most tickets found no worker: {totals:?}"
    );
    assert_eq!(totals.sent + totals.not_sent, totals.intended);
    assert_eq!(
        totals.succeeded + totals.failed + totals.unfinished,
        totals.sent
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_are_counted_and_a_run_can_be_cut_short() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let seen = Seen::default();
    let counter = seen.clone();
    let app = Router::new().route(
        "/fail",
        get(move || {
            counter.one();
            async { (StatusCode::SERVICE_UNAVAILABLE, "no") }
        }),
    );
    let base = serve(app).await;
    let controls = Controls::default();
    let stop = controls.stop_sending.clone();
    tokio::spawn(async move {
        // A second into the load, as a first Ctrl-C would.
        seen.at_least(100).await;
        stop.cancel();
    });
    let started = Instant::now();
    let result = run(
        spec(base, "/fail", Duration::from_secs(1)),
        100.0,
        Duration::from_secs(10),
        controls,
    )
    .await;
    assert!(result.interrupted);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let totals = &result.totals;
    assert!(
        (80..=150).contains(&totals.intended),
        "about one second's worth: {totals:?}"
    );
    assert_eq!(totals.succeeded, 0);
    assert_eq!(totals.statuses.get(&503).copied(), Some(totals.sent));
}
