//! Case 4's promise: a /cases/autoscale request costs the CPU time the
//! workload says, whatever the processor. Served on loopback by a real api
//! in this process; a test binary of its own, so that no other test
//! competes for the cores while it measures.
//!
//! The test counts CPU time (this process's CPU clock over sequential
//! requests), which a busy machine does not inflate: that is what an x86
//! and an arm64 laptop must pay alike. How long a request takes on the
//! wall clock is a benchmark, `bench/autoscale-cost.sh`, which runs the
//! ignored test below on a quiet machine.

#[allow(dead_code, unused_imports)] // the helpers the other lab tests use too
#[path = "lab/support.rs"]
mod support;

use std::time::{Duration, Instant};

use rustix::time::{ClockId, clock_gettime};

/// Sends `count` requests one after another; returns each one's wall time
/// and the CPU time this process spent on them all (the api's work, and
/// the client's, which is small beside it).
async fn sequential(url: &str, count: usize) -> (Vec<Duration>, Duration) {
    let client = support::client();
    let cpu = || Duration::try_from(clock_gettime(ClockId::ProcessCPUTime)).unwrap_or_default();
    let cpu_before = cpu();
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let sent = Instant::now();
        let response = client.get(url).send().await.expect("GET answers");
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.expect("the whole body");
        times.push(sent.elapsed());
    }
    times.sort();
    (times, cpu().saturating_sub(cpu_before))
}

/// An api whose autoscale requests cost `cpu_ms`, warmed up (the first
/// request opens the blocking pool); its URL.
async fn api(cpu_ms: u64) -> (support::ApiStack, String) {
    let setting = cpu_ms.to_string();
    let stack = support::api_stack(&["--autoscale-cpu-ms", &setting]).await;
    let url = stack.api.url("/cases/autoscale");
    sequential(&url, 1).await;
    (stack, url)
}

fn within_15_percent(measured: Duration, wanted: Duration) -> bool {
    (wanted.mul_f64(0.85)..=wanted.mul_f64(1.15)).contains(&measured)
}

#[tokio::test]
async fn a_request_costs_the_configured_cpu_time() {
    const REQUESTS: u32 = 21;
    for cpu_ms in [20, 40] {
        let (_stack, url) = api(cpu_ms).await;
        let (_, cpu) = sequential(&url, REQUESTS as usize).await;
        let each = cpu / REQUESTS;
        let wanted = Duration::from_millis(cpu_ms);
        eprintln!("--autoscale-cpu-ms {cpu_ms}: {each:?} of CPU per request");
        assert!(
            within_15_percent(each, wanted),
            "a request cost {each:?} of CPU, wanted {wanted:?} ±15%"
        );
    }
}

/// The wall clock, on an idle machine only: `bench/autoscale-cost.sh`.
#[tokio::test]
#[ignore = "a benchmark: needs a quiet machine; bench/autoscale-cost.sh runs it"]
async fn on_an_idle_machine_a_request_takes_its_cpu_time() {
    for cpu_ms in [20, 40] {
        let (_stack, url) = api(cpu_ms).await;
        let (times, _) = sequential(&url, 31).await;
        let median = times[times.len() / 2];
        let wanted = Duration::from_millis(cpu_ms);
        println!("--autoscale-cpu-ms {cpu_ms}: p50 of 31 requests {median:?}");
        assert!(
            within_15_percent(median, wanted),
            "p50 of a request on an idle api is {median:?}, wanted {wanted:?} ±15%"
        );
    }
}
