//! `runner run` end to end, as a participant runs it: the runner binary
//! against real lab services (dep and api, served in this test process on
//! loopback port 0, the api on a fresh PostgreSQL database).

use std::{
    path::{Path, PathBuf},
    process::Output,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::support::{
    TestDb, closed_address, eventually, interrupt, lab_stack, lab_stack_with, runner_on, scratch,
    succeeded, text, wait_for_line,
};

const SCENARIOS: &str = r#"
[timeouts]
case = 1
description = "a short brownout"
service = "api"
path = "/cases/timeouts"
rate = 20
duration = "4s"
request_cap = "3s"
hint = "bound the call"
files = ["lab/src/cases/timeouts.rs"]

[timeouts.answers]
field = "source"
full = ["dep"]
degraded = ["fallback"]

[[timeouts.probes]]
name = "depstats"
service = "api"
path = "/debug/depstats"
interval = "200ms"
fields = ["in_use", "waiting"]

[[timeouts.checks]]
metric = "p95_ms"
target = 300
zero = 3000
weight = 50

[[timeouts.checks]]
probe = "depstats"
metric = "waiting"
stat = "max"
target = 0
zero = 20
weight = 50
"#;

/// A scratch folder with the small scenarios file in it.
fn folder(tag: &str) -> PathBuf {
    let folder = scratch(&format!("run-{tag}"));
    std::fs::write(folder.join("scenarios.toml"), SCENARIOS).expect("write scenarios");
    folder
}

/// The runner in `folder`, on the scenarios file there; its reports and
/// the board's file land there too.
fn runner_in(folder: &Path) -> tokio::process::Command {
    let mut command = runner_on(&folder.join("scenarios.toml"));
    command.current_dir(folder);
    tokio::process::Command::from(command)
}

/// Runs the runner in `folder` with `args` to the end.
async fn run_in(folder: &Path, args: &[&str]) -> Output {
    runner_in(folder)
        .args(args)
        .output()
        .await
        .expect("run the runner")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_prints_every_check_one_score_line_and_writes_valid_data() {
    let db = TestDb::create().await;
    let api = lab_stack(&db).await;
    let folder = folder("run");
    let output = run_in(
        &folder,
        &["run", "timeouts", "--target", &format!("api={api}")],
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // goose's own status line stays out of the terminal.
    assert!(
        !stdout.contains("users launched") && !stderr.contains("users launched"),
        "{stdout}\n{stderr}"
    );

    let checks: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains('✓') || l.contains('✗'))
        .collect();
    assert_eq!(checks.len(), 2, "{stdout}");
    let score_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("SCORE ")).collect();
    assert_eq!(score_lines.len(), 1, "{stdout}");
    let words: Vec<&str> = score_lines[0].split_whitespace().collect();
    assert_eq!(&words[..2], ["SCORE", "timeouts"]);
    assert!(
        words[2].ends_with("/100") && words[3] == "|",
        "{}",
        score_lines[0]
    );
    assert!(
        words[4].starts_with("p95=") && words[5].starts_with("err="),
        "{}",
        score_lines[0]
    );
    assert_eq!(words[6], "sent=80/80", "{}", score_lines[0]);
    let fingerprint = words[7].strip_prefix("fp=").expect("a fingerprint");
    assert!(
        fingerprint.len() == 8 && fingerprint.chars().all(|c| c.is_ascii_hexdigit()),
        "{}",
        score_lines[0]
    );
    let run_id = words[8].strip_prefix("run=").expect("run id");

    let data_path = folder
        .join("reports/timeouts")
        .join(run_id)
        .join("data.json");
    let data: Value =
        serde_json::from_slice(&std::fs::read(&data_path).expect("data.json")).expect("JSON");
    let schema: Value =
        serde_json::from_str(include_str!("../../schemas/data.schema.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(&data)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "data.json does not match its schema: {problems:#?}"
    );
    assert_eq!(data["fingerprint"], fingerprint, "the SCORE line's");

    // The brownout is visible: hung calls queue the rest behind them.
    assert_eq!(data["totals"]["intended"], 80);
    assert!(
        data["totals"]["corrected"]["p99_ms"]
            .as_f64()
            .unwrap_or_default()
            >= 1400.0,
        "{}",
        data["totals"]["corrected"]
    );
    let waiting = &data["probes"][0]["series"][1];
    assert_eq!(waiting["field"], "waiting");
    assert!(
        waiting["points"].as_array().is_some_and(|p| p.len() >= 10),
        "{waiting}"
    );
    assert!(data["score"]["total"].as_u64().is_some_and(|t| t < 100));

    // Every answer of the baseline comes from dep: full, none degraded.
    let run = runner::data::read(&data_path).expect("data.json reads as a run");
    let answers = run.totals.answers.expect("the scenario reads answers");
    assert_eq!(answers.full, run.totals.succeeded, "{answers:?}");
    assert_eq!((answers.degraded, answers.unreadable), (0, 0));
    let report = std::fs::read_to_string(data_path.with_file_name("report.html")).expect("report");
    assert!(report.contains("id=\"answer-classes\""));
}

#[tokio::test]
async fn an_unreachable_target_is_a_clear_error_within_two_seconds() {
    let folder = folder("preflight");
    let closed = closed_address();
    let started = Instant::now();
    let output = run_in(
        &folder,
        &[
            "run",
            "timeouts",
            "--target",
            &format!("api=http://{closed}"),
        ],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("http://{closed}/healthz")),
        "{stderr}"
    );
    assert!(stderr.contains("make up"), "{stderr}");
    assert!(!folder.join("reports").exists(), "no report full of errors");
}

#[tokio::test]
async fn an_unknown_scenario_lists_the_valid_ones() {
    let folder = folder("unknown");
    let output = run_in(&folder, &["run", "timeout"]).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no scenario `timeout`") && stderr.contains("timeouts"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_under_turns_a_low_score_into_a_failing_exit() {
    let db = TestDb::create().await;
    let api = lab_stack(&db).await;
    let folder = folder("fail");
    let output = run_in(
        &folder,
        &[
            "run",
            "timeouts",
            "--duration",
            "2s",
            "--fail-under",
            "100",
            "--target",
            &format!("api={api}"),
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("SCORE timeouts"));
}

/// Reads the runner's stderr until a line contains `text`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_twice_stops_waiting_and_still_writes_the_partial_run() {
    use tokio::io::AsyncBufReadExt;
    let db = TestDb::create().await;
    // Half the calls hang for 20 s: there is always something in flight.
    let api = lab_stack_with(&db, "latency_ms=5&hang_rate=0.5&hang_ms=20000").await;
    let folder = folder("ctrlc");
    std::fs::write(
        folder.join("scenarios.toml"),
        SCENARIOS
            .replace("request_cap = \"3s\"", "request_cap = \"30s\"")
            .replace("duration = \"4s\"", "duration = \"60s\""),
    )
    .expect("write scenarios");
    let mut child = runner_in(&folder)
        .args([
            "run",
            "timeouts",
            "--no-open",
            "--target",
            &format!("api={api}"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the runner");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    wait_for_line(&mut lines, "workers)", Duration::from_secs(20)).await;
    // Let requests pile up against the hanging dep first.
    let stats = format!("{api}/debug/depstats");
    eventually(
        Duration::from_secs(20),
        "requests pile up at dep",
        || async {
            let stats: Value = reqwest::get(&stats).await.ok()?.json().await.ok()?;
            (stats["waiting"].as_u64()? >= 1).then_some(())
        },
    )
    .await;

    let interrupted_at = Instant::now();
    interrupt(&child);
    wait_for_line(
        &mut lines,
        "waiting for those in flight",
        Duration::from_secs(20),
    )
    .await;
    interrupt(&child);
    wait_for_line(&mut lines, "no more waiting", Duration::from_secs(20)).await;
    let mut stdout = String::new();
    let mut out = child.stdout.take().expect("stdout");
    tokio::io::AsyncReadExt::read_to_string(&mut out, &mut stdout)
        .await
        .expect("stdout");
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(15),
        "did not wait out the 20 s hangs"
    );
    assert_eq!(status.code(), Some(130));
    let score = stdout
        .lines()
        .find(|line| line.starts_with("SCORE "))
        .unwrap_or_default();
    assert!(score.ends_with(" interrupted"), "{stdout}");
    let run_id = score
        .split_whitespace()
        .find_map(|word| word.strip_prefix("run="))
        .unwrap_or_default();
    let run = folder.join("reports/timeouts").join(run_id);
    let data: Value =
        serde_json::from_slice(&std::fs::read(run.join("data.json")).expect("data.json"))
            .expect("JSON");
    assert_eq!(data["interrupted"], true);
    assert!(
        data["totals"]["unfinished"].as_u64().is_some_and(|n| n > 0),
        "{}",
        data["totals"]
    );
    assert!(run.join("report.html").exists());
}

/// `--submit` to a board that is not there: the run still succeeds and is
/// saved, and the runner says how to send it again; `runner submit` then
/// sends it to the board (the real `runner board`), which ranks it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_submission_keeps_the_run_and_runner_submit_sends_it_later() {
    use tokio::io::AsyncBufReadExt;
    let db = TestDb::create().await;
    let api = lab_stack(&db).await;
    let folder = folder("submit");
    let nowhere = format!("http://{}", closed_address());
    let link = ["--name", "Ada L.", "--code", "ROOM-8642"];
    let mut run = vec!["run", "timeouts", "--target"];
    let target = format!("api={api}");
    run.extend([target.as_str(), "--submit", &nowhere]);
    run.extend(link);
    let output = run_in(&folder, &run).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let run_id = stdout
        .split_whitespace()
        .find_map(|word| word.strip_prefix("run="))
        .expect("a run id on the SCORE line")
        .to_owned();
    assert!(
        stderr.contains("board: not submitted: cannot reach the board")
            && stderr.contains(&format!("runner submit {run_id}")),
        "{stderr}"
    );

    // A name the board would refuse stops the run before it starts.
    let output = run_in(
        &folder,
        &[
            "run",
            "timeouts",
            "--target",
            &target,
            "--submit",
            &nowhere,
            "--name",
            "<b>",
            "--code",
            "ROOM-8642",
        ],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("a name may hold"),
        "{}",
        text(&output.stderr)
    );

    let mut board = runner_in(&folder)
        .args([
            "board",
            "--listen",
            "127.0.0.1:0",
            "--db",
            "board.sqlite",
            "--code",
            "ROOM-8642",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the board");
    let mut lines = tokio::io::BufReader::new(board.stdout.take().expect("stdout")).lines();
    let mut url = None;
    let mut said = String::new();
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await
    {
        said.push_str(&line);
        said.push('\n');
        if let Some(found) = line.strip_prefix("board: ") {
            url = Some(found.to_owned());
        }
        if line.starts_with("Ctrl-C stops the board") {
            break;
        }
    }
    let url = url.unwrap_or_else(|| panic!("the board printed no URL:\n{said}"));
    assert!(said.contains("code: ROOM-8642"), "{said}");
    assert!(said.contains("this machine only (loopback)"), "{said}");

    let mut submit = vec!["submit", run_id.as_str(), "--submit", url.as_str()];
    submit.extend(link);
    let (stdout, _) = succeeded(&run_in(&folder, &submit).await);
    assert!(
        stdout.contains(&format!("board: submitted {run_id} as Ada L.")),
        "{stdout}"
    );
    // Sent twice, kept once.
    let (stdout, _) = succeeded(&run_in(&folder, &submit).await);
    assert!(stdout.contains("was already on the board"), "{stdout}");
    let page = reqwest::get(&url)
        .await
        .expect("the page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("<td class=\"name\">Ada L.</td>"), "{page}");

    interrupt(&board);
    let status = tokio::time::timeout(Duration::from_secs(10), board.wait())
        .await
        .expect("the board stops on Ctrl-C")
        .expect("its status");
    assert!(status.success(), "{status}");
}

/// A stand-in for a Kubernetes Service in front of `backends`: each new
/// connection goes to the next one, round robin, as kube-proxy spreads
/// connections.
async fn round_robin(backends: Vec<std::net::SocketAddr>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        for turn in 0.. {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let backend = backends[turn % backends.len()];
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    format!("http://{address}")
}

/// Two lab processes behind one address, as two api replicas behind the
/// cluster's Service: the runner tells them apart by the header each
/// answer names its process with.
#[tokio::test]
async fn the_runner_counts_the_processes_behind_an_address() {
    assert_eq!(runner::probe::INSTANCE_HEADER, lab::server::INSTANCE_HEADER);
    // Two processes, not two servers in this one: each names its own.
    let addresses = [closed_address(), closed_address()];
    let lab = runner::local::build::build_lab(&crate::support::repo_root(), None)
        .expect("the lab builds");
    let mut roles = Vec::new();
    for address in &addresses {
        let role = tokio::process::Command::new(&lab)
            .args(["dep", "--listen", &address.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start lab dep");
        roles.push(role);
    }
    let one = format!("http://{}", addresses[0]);
    eventually(Duration::from_secs(30), "both processes answer", || async {
        for address in &addresses {
            reqwest::get(format!("http://{address}/healthz"))
                .await
                .ok()?;
        }
        Some(())
    })
    .await;
    assert_eq!(runner::probe::instances(&one, 8).await, 1);
    let service = round_robin(addresses.to_vec()).await;
    assert_eq!(runner::probe::instances(&service, 8).await, 2);
}
