//! Case 4's promise: a /cases/autoscale request costs the CPU time the
//! workload says, whatever the processor. Served on loopback by a real api
//! and timed from the client; a test binary of its own, so that no other
//! test competes for the cores while it measures.

#[allow(dead_code, unused_imports)] // the helpers the other lab tests use too
#[path = "lab/support.rs"]
mod support;

use std::time::{Duration, Instant};

/// The median time of `count` requests sent one after another.
async fn median_service_time(url: &str, count: usize) -> Duration {
    let client = support::client();
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let sent = Instant::now();
        let response = client.get(url).send().await.expect("GET answers");
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.expect("the whole body");
        times.push(sent.elapsed());
    }
    times.sort();
    times[count / 2]
}

#[tokio::test]
async fn a_request_costs_the_configured_cpu_time() {
    for cpu_ms in [20, 40] {
        let setting = cpu_ms.to_string();
        let stack = support::api_stack(&["--autoscale-cpu-ms", &setting]).await;
        let url = stack.api.url("/cases/autoscale");
        // The first request warms the connection and the blocking pool.
        median_service_time(&url, 1).await;
        let median = median_service_time(&url, 31).await;
        let wanted = Duration::from_millis(cpu_ms);
        eprintln!("--autoscale-cpu-ms {cpu_ms}: p50 of 31 requests {median:?}");
        let (low, high) = (wanted.mul_f64(0.85), wanted.mul_f64(1.15));
        assert!(
            (low..=high).contains(&median),
            "p50 of a request on an idle api is {median:?}, wanted {wanted:?} ±15%"
        );
    }
}
