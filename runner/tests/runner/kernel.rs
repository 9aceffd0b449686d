//! Case 4's model against the real kernel. One `lab api` runs in a cgroup
//! whose CFS quota is the api manifest's CPU limit: the mechanism kubelet
//! uses to enforce a container's CPU limit. The runner drives it at
//! constant rates around one pod's capacity, and beside each rate the
//! model predicts the same single pod at the same rate: the share answered
//! within the request cap, the p95, and the health probes that fail.
//!
//! Kubernetes itself cannot run here: there is no kubelet, so this test
//! asks `/healthz` and `/readyz` as kubelet would (1 s timeout), every
//! second rather than every 5 or 10 s, for more samples. There is no
//! Service and no HPA: one pod, as the baseline manifests deploy it.
//!
//! It needs root and cgroup v1's cpu controller
//! (`/sys/fs/cgroup/cpu/<group>/cpu.cfs_quota_us`). Where it cannot write
//! one it says so and passes, except under CI (`CI` set), where it fails.
//! The table goes to stderr and to target/tmp/kernel/pod.md;
//! `bench/kernel-model.sh` runs it on its own.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use runner::{manifests, model, scenario};
use serde_json::Value;

use crate::{
    ONE_AT_A_TIME,
    support::{TestDb, closed_address, eventually, repo_root, runner_on, scratch, succeeded},
};

/// Where cgroup v1 mounts the cpu controller.
const CPU_CONTROLLER: &str = "/sys/fs/cgroup/cpu";
/// The CFS period kubelet sets (100 ms).
const PERIOD_US: u64 = 100_000;
/// The CPU one request costs: the scenario's pinned cost.
const CPU_MS: u64 = 20;
/// Each rate as a share of one pod's capacity (limit / cost).
const SHARES: [f64; 4] = [0.5, 0.9, 1.1, 1.5];
/// kubelet's probe timeout (`timeoutSeconds`' default).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The bounds within which the model must agree with the kernel.
const ANSWERED_POINTS: f64 = 10.0;
const P95_RATIO: f64 = 0.25;

/// A cgroup of the test's own, removed when dropped (its processes moved
/// back to the root group first).
struct Group {
    path: PathBuf,
}

impl Group {
    /// A group with `cores` of CPU per CFS period, or why there cannot be
    /// one here.
    fn create(cores: f64) -> Result<Self, String> {
        let root = Path::new(CPU_CONTROLLER);
        if !root.join("cpu.cfs_quota_us").exists() {
            return Err(format!(
                "{CPU_CONTROLLER} is not cgroup v1's cpu controller (cgroup v2 has cpu.max)"
            ));
        }
        let path = root.join(format!("lab-kernel-{}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        let group = Self { path };
        let quota = (cores * PERIOD_US as f64).round() as u64;
        group.write("cpu.cfs_period_us", &PERIOD_US.to_string())?;
        group.write("cpu.cfs_quota_us", &quota.to_string())?;
        Ok(group)
    }

    fn write(&self, file: &str, value: &str) -> Result<(), String> {
        let path = self.path.join(file);
        std::fs::write(&path, value)
            .map_err(|error| format!("cannot write {value} to {}: {error}", path.display()))
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path.join(file)).unwrap_or_default()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        for pid in self.read("cgroup.procs").split_whitespace() {
            let _ = std::fs::write(Path::new(CPU_CONTROLLER).join("cgroup.procs"), pid);
        }
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// One rate's measurement and prediction.
struct Row {
    rate: f64,
    share: f64,
    kernel: Side,
    model: Side,
}

/// What one side says of a rate.
struct Side {
    /// CPU per answered request, in ms: the kernel's from the api's own
    /// CPU time, the model's as it assumes it.
    cpu_ms: f64,
    /// Answered within the request cap, 0 to 100.
    answered: f64,
    p95_ms: Option<f64>,
    probes_failed: u64,
    probes: u64,
}

impl Side {
    fn p95(&self) -> String {
        self.p95_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0} ms"))
    }
}

/// A scenario of one constant rate, no ramp, against `/cases/autoscale`.
fn scenarios_file(folder: &Path, rate: f64, duration: Duration) -> PathBuf {
    let text = format!(
        r#"
[pod]
case = 4
description = "one api pod at a constant rate"
service = "api"
method = "GET"
path = "/cases/autoscale"
rate = {rate}
duration = "{duration}s"
request_cap = "10s"
files = ["deploy/k8s/api-deployment.yaml"]
needs_cluster = true
hint = "none: a measurement"

[pod.expect]
"workload.autoscale_cpu_ms" = {CPU_MS}

[[pod.checks]]
metric = "p95_ms"
target = 300
zero = 3000
weight = 100
"#,
        duration = duration.as_secs()
    );
    let path = folder.join(format!("pod-{rate}.toml"));
    std::fs::write(&path, text).expect("write the scenario");
    path
}

/// The baseline's api Deployment alone: one pod, its limit, no HPA.
fn one_pod_manifests(folder: &Path) -> PathBuf {
    let manifests = folder.join("k8s");
    std::fs::create_dir_all(&manifests).expect("manifests folder");
    std::fs::copy(
        repo_root().join("deploy/k8s/api-deployment.yaml"),
        manifests.join("api-deployment.yaml"),
    )
    .expect("copy the api Deployment");
    manifests
}

/// Asks `path` every second with kubelet's timeout until `stop`; returns
/// (polls, failed).
async fn kubelet(url: String, stop: tokio_util::sync::CancellationToken) -> (u64, u64) {
    let client = reqwest::Client::new();
    let (mut polls, mut failed) = (0, 0);
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = every.tick() => {}
        }
        polls += 1;
        let answer = client.get(&url).timeout(PROBE_TIMEOUT).send().await;
        if !answer.is_ok_and(|response| response.status().is_success()) {
            failed += 1;
        }
    }
    (polls, failed)
}

/// The CPU time `pid` has used, all its threads, from /proc (in USER_HZ
/// ticks, 100 a second on Linux), in ms.
fn cpu_used_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the api's stat");
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat's command") + 2..]
        .split_whitespace()
        .collect();
    let ticks = |index: usize| fields[index].parse::<f64>().expect("a tick count");
    // utime and stime: fields 14 and 15 of proc(5), 12 and 13 here.
    10.0 * (ticks(11) + ticks(12))
}

/// The runner at `rate` against the api, with kubelet's probes beside it.
async fn measure(api: &str, pid: u32, folder: &Path, rate: f64, duration: Duration) -> Side {
    let cpu_before = cpu_used_ms(pid);
    let stop = tokio_util::sync::CancellationToken::new();
    let health = tokio::spawn(kubelet(format!("{api}/healthz"), stop.clone()));
    let ready = tokio::spawn(kubelet(format!("{api}/readyz"), stop.clone()));
    let output = tokio::process::Command::from(runner_on(&scenarios_file(folder, rate, duration)))
        .args(["run", "pod", "--json", "--no-open", "--target"])
        .arg(format!("api={api}"))
        .arg("--reports")
        .arg(folder.join("reports"))
        .output()
        .await
        .expect("run the runner");
    stop.cancel();
    let (health, ready) = (health.await.expect("probe"), ready.await.expect("probe"));
    let (stdout, _) = succeeded(&output);
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the --json summary");
    let intended = summary["intended"].as_f64().expect("intended");
    let succeeded = summary["succeeded"].as_f64().expect("succeeded");
    Side {
        cpu_ms: (cpu_used_ms(pid) - cpu_before) / succeeded.max(1.0),
        answered: 100.0 * succeeded / intended,
        p95_ms: summary["p95_ms"].as_f64(),
        probes: health.0 + ready.0,
        probes_failed: health.1 + ready.1,
    }
}

/// What the model predicts for the same pod at the same rate.
fn predict(folder: &Path, rate: f64, duration: Duration) -> Side {
    let scenarios = scenario::load(&scenarios_file(folder, rate, duration)).expect("scenario");
    let scenario = scenarios.get("pod").expect("the pod scenario");
    let assumptions = model::Assumptions::defaults(scenario);
    let prediction =
        model::predict(scenario, &one_pod_manifests(folder), &assumptions).expect("a prediction");
    let totals = &prediction.totals;
    Side {
        cpu_ms: 1000.0 * (assumptions.cpu_cost + assumptions.overhead).as_secs_f64(),
        answered: 100.0 * totals.succeeded as f64 / totals.intended as f64,
        p95_ms: totals.corrected.p95_ms,
        probes: prediction.health.polls,
        probes_failed: prediction.health.failed,
    }
}

/// The two sides agree: the answered share within 10 points, the p95
/// within 25% or both at the cap.
fn agree(row: &Row, cap_ms: f64) -> bool {
    let answered = (row.kernel.answered - row.model.answered).abs() <= ANSWERED_POINTS;
    let p95 = match (row.kernel.p95_ms, row.model.p95_ms) {
        (Some(kernel), Some(model)) => {
            (kernel >= cap_ms && model >= cap_ms)
                || (kernel - model).abs() <= P95_RATIO * kernel.max(model)
        }
        _ => false,
    };
    answered && p95
}

fn table(rows: &[Row], limit: f64, cap_ms: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "One api pod, CPU limit {}m as CFS quota, {CPU_MS} ms of CPU per request, \
         a constant rate (no ramp).\n",
        (limit * 1000.0).round()
    );
    let _ = writeln!(
        out,
        "| rate (share of capacity) | model: answered, p95, probes failing | \
         kernel: answered, p95, probes failing | agree | CPU per answer: model, kernel |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for row in rows {
        let side = |side: &Side| {
            format!(
                "{:.1}%, {}, {} of {}",
                side.answered,
                side.p95(),
                side.probes_failed,
                side.probes
            )
        };
        let _ = writeln!(
            out,
            "| {:.2}/s ({:.0}%) | {} | {} | {} | {:.1} ms, {:.1} ms |",
            row.rate,
            100.0 * row.share,
            side(&row.model),
            side(&row.kernel),
            if agree(row, cap_ms) { "yes" } else { "NO" },
            row.model.cpu_ms,
            row.kernel.cpu_ms,
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_model_agrees_with_the_kernel() {
    let scaling = manifests::scaling(&repo_root().join("deploy/k8s"), "api")
        .expect("the shipped manifests read");
    let limit = scaling
        .cpu_limit
        .expect("the api Deployment has a CPU limit");
    let group = match Group::create(limit) {
        Ok(group) => group,
        Err(why) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: no cgroup of the test's own can be made here ({why})");
            return;
        }
        Err(why) => panic!("CI must run the kernel harness, but {why}"),
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let folder = scratch("kernel");
    let duration = Duration::from_secs(
        std::env::var("LAB_KERNEL_SECONDS")
            .ok()
            .and_then(|secs| secs.parse().ok())
            .unwrap_or(30),
    );
    let db = TestDb::create().await;
    let lab = runner::local::build::build_lab(&repo_root(), None).expect("the lab builds");
    let listen = closed_address();
    // The shell joins the group, then becomes the api: the api starts inside
    // its quota, as a container starts inside its limit.
    let mut api = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(r#"echo $$ > "$1/cgroup.procs" && shift && exec "$@""#)
        .arg("sh")
        .arg(&group.path)
        .arg(&lab)
        .args([
            "api",
            "--listen",
            &listen.to_string(),
            "--database-url",
            &db.url,
        ])
        .args(["--dep-url", &format!("http://{}", closed_address())])
        .args(["--autoscale-cpu-ms", &CPU_MS.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the api");
    let pid = api.id().expect("the api's pid");
    let url = format!("http://{listen}");
    let slots = eventually(Duration::from_secs(30), "the api answers", || async {
        let answer = reqwest::get(format!("{url}/cases/autoscale")).await.ok()?;
        answer.json::<Value>().await.ok()?["slots"].as_u64()
    })
    .await;
    assert_eq!(
        slots,
        limit.ceil() as u64,
        "the api reads its CPU slots from its cgroup's quota"
    );

    let capacity = limit / (CPU_MS as f64 / 1000.0);
    let cap_ms = 10_000.0;
    let mut rows = Vec::new();
    for share in SHARES {
        let rate = (capacity * share * 100.0).round() / 100.0;
        let kernel = measure(&url, pid, &folder, rate, duration).await;
        let model = predict(&folder, rate, duration);
        rows.push(Row {
            rate,
            share,
            kernel,
            model,
        });
        // What the last rate left computing drains before the next.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let _ = api.kill().await;
    drop(group);

    let table = table(&rows, limit, cap_ms);
    eprintln!("{table}");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kernel");
    std::fs::create_dir_all(&out).expect("kernel folder");
    std::fs::write(out.join("pod.md"), &table).expect("write the table");
    for row in &rows {
        assert!(
            agree(row, cap_ms),
            "at {:.2}/s the model and the kernel disagree:\n{table}",
            row.rate
        );
        assert!(
            row.kernel.probes_failed <= 1,
            "at {:.2}/s the api's health endpoints missed kubelet's 1 s timeout \
             {} times: kubelet would take the pod out of the Service\n{table}",
            row.rate,
            row.kernel.probes_failed
        );
    }
}
