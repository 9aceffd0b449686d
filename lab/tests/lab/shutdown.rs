//! Graceful shutdown: in-flight requests finish, the drain is bounded, and
//! the binary exits 0 on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::support::{self, Served, eventually};

#[tokio::test]
async fn a_request_in_flight_finishes_during_shutdown() {
    let dep = support::dep().await;
    let request = tokio::spawn(
        support::client()
            .get(dep.url("/work?latency_ms=700"))
            .send(),
    );
    support::dep_in_flight(&dep, 1).await;

    let url = dep.url("/healthz");
    dep.begin_shutdown();
    let response = request
        .await
        .expect("task")
        .expect("in-flight request is answered");
    assert_eq!(response.status(), reqwest::StatusCode::OK);

    let refused = eventually(
        Duration::from_secs(2),
        "new connections to be refused",
        || async {
            support::client()
                .get(&url)
                .send()
                .await
                .is_err()
                .then_some(())
        },
    )
    .await;
    assert_eq!(refused, ());
}

#[tokio::test]
async fn the_drain_is_bounded() {
    let dep = Served::start(lab::dep::app(), Duration::from_millis(300)).await;
    let request = tokio::spawn(
        support::client()
            .get(dep.url("/work?latency_ms=60000"))
            .send(),
    );
    support::dep_in_flight(&dep, 1).await;

    let started = Instant::now();
    dep.shutdown().await.expect("shutdown is not an error");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    request.abort();
}

#[test]
fn the_binary_exits_zero_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(["dep", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lab dep");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.contains("dep listening"));
    assert!(listening.is_some(), "lab dep logs where it listens");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait().expect("lab dep exits");
    assert!(status.success(), "exit status {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|line| line.contains("SIGTERM received")),
        "{rest:?}"
    );
}
