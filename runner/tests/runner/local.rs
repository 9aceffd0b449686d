//! The local stack, as `runner run --local` and `runner stack` use it: the
//! real runner binary builds the real `lab`, starts a private PostgreSQL
//! (through `runuser` when the tests run as root) and the three roles, and
//! must leave no process behind, whether the run succeeds, fails or is
//! interrupted.
//!
//! "No process behind" is checked by a marker: each test gives the runner
//! a unique environment variable, which every process it starts inherits
//! (the roles, pg_ctl and PostgreSQL), and then looks for any process on
//! the machine that still carries it.

use std::{
    process::{Output, Stdio},
    time::{Duration, Instant},
};

use tokio::io::AsyncBufReadExt;

use crate::{
    ONE_AT_A_TIME,
    support::{
        assert_nothing_left, interrupt, local_folder, local_runner, repo_root, succeeded, text,
        wait_for_line,
    },
};

fn marker(tag: &str) -> String {
    format!("{tag}-{}", std::process::id())
}

async fn output(command: &mut tokio::process::Command) -> Output {
    command.output().await.expect("run the runner")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_run_starts_the_whole_stack_and_stops_it_all() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let marker = marker("success");
    let folder = local_folder("success");
    let reports = folder.join("reports");
    let output = output(
        local_runner(&repo_root(), &folder, &marker)
            .args(["run", "tx", "--local", "--duration", "3s", "--json"])
            .arg("--reports")
            .arg(&reports),
    )
    .await;
    let (stdout, stderr) = succeeded(&output);
    assert!(stderr.contains("local stack ready in"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("--json summary");
    assert_eq!(summary["scenario"], "tx");
    assert!(
        summary["succeeded"].as_u64().is_some_and(|n| n > 0),
        "the tx case reached PostgreSQL: {summary}"
    );
    assert_eq!(
        summary["workload_edits"],
        serde_json::json!([]),
        "the lab's defaults are the scenario's expectations"
    );
    assert!(folder.join("postgres/data/PG_VERSION").exists());
    assert!(folder.join("logs/api.log").exists());
    assert_nothing_left(&marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_fails_to_start_is_reported_and_the_rest_is_stopped() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let marker = marker("failure");
    let folder = local_folder("failure");
    let started = Instant::now();
    let output = output(
        local_runner(&repo_root(), &folder, &marker)
            .args(["run", "tx", "--local", "--no-open"])
            // An invalid knob: the api exits at once with clap's error.
            .env("LAB_DB_POOL_SIZE", "0"),
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("lab api exited") && stderr.contains("api.log"),
        "{stderr}"
    );
    assert!(
        stderr.contains("db-pool-size"),
        "the api's own error: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_nothing_left(&marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_local_run_still_writes_the_run_and_stops_everything() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let marker = marker("ctrlc");
    let folder = local_folder("ctrlc");
    let mut child = local_runner(&repo_root(), &folder, &marker)
        .args(["run", "tx", "--local", "--duration", "60s", "--no-open"])
        .arg("--reports")
        .arg(folder.join("reports"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the runner");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    wait_for_line(&mut lines, "workers)", Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    interrupt(&child);
    let finished = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the runner exits after Ctrl-C")
        .expect("its output");
    let stdout = text(&finished.stdout);
    assert_eq!(finished.status.code(), Some(130), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("SCORE tx ") && line.contains(" interrupted")),
        "{stdout}"
    );
    assert_nothing_left(&marker).await;
}

#[tokio::test]
async fn a_second_runner_on_the_same_stack_folder_is_refused() {
    let folder = local_folder("locked");
    std::fs::create_dir_all(&folder).expect("folder");
    let lock = std::fs::File::create(folder.join("stack.lock")).expect("lock file");
    lock.lock().expect("hold the lock");
    let output = output(
        local_runner(&repo_root(), &folder, &marker("locked")).args(["run", "tx", "--local"]),
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another runner is using the local stack")
            && stderr.contains("LAB_LOCAL_DIR"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_cluster_case_locally_checks_the_manifests_instead() {
    let folder = local_folder("cluster");
    let output = output(
        local_runner(&repo_root(), &folder, &marker("cluster")).args([
            "run",
            "autoscale",
            "--local",
        ]),
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(stderr.contains("needs a Kubernetes cluster"), "{stderr}");
    assert!(stdout.contains("can an HPA scale the api?"), "{stdout}");
    // Whatever the manifests say, every finding is a ✓ or ✗ line, and the
    // exit code agrees with them.
    let failed = stdout.lines().any(|line| line.starts_with("  ✗"));
    assert_eq!(output.status.success(), !failed, "{stdout}");
    assert!(!folder.join("logs").exists(), "no stack was started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_stack_serves_until_ctrl_c() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let marker = marker("stack");
    let folder = local_folder("stack");
    let mut child = local_runner(&repo_root(), &folder, &marker)
        .arg("stack")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start runner stack");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .expect("the stack comes up")
        .expect("stdout")
        .expect("a line");
    // api=http://127.0.0.1:P worker=http://127.0.0.1:Q
    let urls: Vec<&str> = first
        .split_whitespace()
        .filter_map(|pair| pair.split_once('=').map(|(_, url)| url))
        .collect();
    assert_eq!(urls.len(), 2, "{first}");
    for url in &urls {
        let ready = reqwest::get(format!("{url}/readyz"))
            .await
            .expect("answers");
        assert!(ready.status().is_success(), "{url}");
    }
    let answer = reqwest::get(format!("{}/cases/timeouts", urls[0]))
        .await
        .expect("the api answers");
    assert!(answer.status().is_success(), "the api reaches dep");

    interrupt(&child);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("stops after Ctrl-C")
        .expect("status");
    assert!(status.success(), "{status}");
    assert_nothing_left(&marker).await;
}
