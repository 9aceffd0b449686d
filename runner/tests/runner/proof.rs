//! The proof that every local case teaches what it claims, as rustlings
//! proves every exercise starts failing and every solution passes:
//!
//! - the baseline scores low (≤ 35),
//! - its reference solution, `solutions/step-N.patch`, scores high (≥ 90),
//! - wrong fixes do not pay: a timeout longer than the hang scores ≤ 50,
//!   and editing the workload instead of the code is flagged.
//!
//! Everything runs on the real local stack (`runner run --local`: a
//! private PostgreSQL, the `lab` roles as processes) in a scratch copy of
//! the tree, the same copy `runner demo` uses, so the checkout is never
//! touched. The copy builds into its own `target/`, kept between runs.
//!
//! Durations are shorter than the scenarios' own where the verdict is the
//! same; the margins were measured on a 2-core machine with the other
//! core busy (see the closing note).

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use runner::output::Summary;

use crate::{
    ONE_AT_A_TIME,
    local::{assert_nothing_left, runner},
    support::{repo_root, shipped, succeeded},
};

const BASELINE_AT_MOST: u64 = 35;
const SOLUTION_AT_LEAST: u64 = 90;
const WRONG_FIX_AT_MOST: u64 = 50;

/// A fresh copy of the tree in the proof's local-stack folder.
struct Tree {
    /// LAB_LOCAL_DIR: PostgreSQL's data, logs, and the copy.
    folder: PathBuf,
    /// The copy: `<folder>/demo`, as `runner demo` lays it out.
    root: PathBuf,
}

impl Tree {
    fn fresh() -> Self {
        let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("proof");
        let root = folder.join("demo");
        runner::demo::refresh_copy(&repo_root(), &root).expect("copy the tree");
        Self { folder, root }
    }

    /// `runner solve <step>` in the copy.
    async fn solve(&self, step: u8) {
        let output = runner(&self.root, &self.folder, "proof")
            .args(["solve", &step.to_string()])
            .output()
            .await
            .expect("runner solve");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Replaces `from` with `to` in one file of the copy.
    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.root.join(file);
        let text = std::fs::read_to_string(&path).expect("read the file to edit");
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replace(from, to)).expect("write the edit");
    }

    /// Runs `scenario` on the local stack for `duration`; returns the JSON
    /// summary, the SCORE line, and all of stderr (with `--json`, the
    /// checks, the SCORE line and the next step go there).
    async fn run(&self, scenario: &str, duration: Duration) -> (Summary, String, String) {
        let marker = format!("proof-{scenario}-{}", std::process::id());
        let duration = format!("{}s", duration.as_secs());
        let output = runner(&self.root, &self.folder, &marker)
            .args([
                "run",
                scenario,
                "--local",
                "--json",
                "--duration",
                &duration,
            ])
            .arg("--reports")
            .arg(self.folder.join("reports"))
            .output()
            .await
            .expect("runner run --local");
        let (stdout, stderr) = succeeded(&output);
        assert_nothing_left(&marker).await;
        let summary: Summary = serde_json::from_str(stdout.trim()).expect("the --json summary");
        let score_line = stderr
            .lines()
            .find(|line| line.starts_with("SCORE "))
            .unwrap_or_default()
            .to_owned();
        eprintln!("{score_line}");
        (summary, score_line, stderr)
    }
}

/// Baseline, then the reference solution, of one case.
async fn prove(scenario: &str, step: u8, duration: Duration) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let tree = Tree::fresh();
    let (baseline, line, stderr) = tree.run(scenario, duration).await;
    assert!(
        u64::from(baseline.score) <= BASELINE_AT_MOST,
        "the baseline must score at most {BASELINE_AT_MOST}: {line}"
    );
    assert!(baseline.workload_edits.is_empty(), "{line}");
    // A failing run says what to do next.
    for step_text in [
        "next: ".to_owned(),
        format!("`runner hint {scenario}`"),
        format!("LAB: STEP{step} TODO"),
        format!("`runner run {scenario} --local`"),
        format!("`runner solve {step}`"),
    ] {
        assert!(stderr.contains(&step_text), "{step_text}: {stderr}");
    }
    tree.solve(step).await;
    let (solved, line, stderr) = tree.run(scenario, duration).await;
    assert!(
        u64::from(solved.score) >= SOLUTION_AT_LEAST,
        "the solution must score at least {SOLUTION_AT_LEAST}: {line}"
    );
    assert!(solved.workload_edits.is_empty(), "{line}");
    assert!(
        !stderr.contains("next: "),
        "a pass needs no next step: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_1_timeouts_baseline_low_solution_high() {
    prove("timeouts", 1, Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_2_tx_baseline_low_solution_high() {
    prove("tx", 2, Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_3_bulkheads_baseline_low_solution_high() {
    prove("bulkheads", 3, Duration::from_secs(20)).await;
}

/// A deadline that is longer than the hang never fires: hung calls still
/// hold every dep connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_1_a_timeout_longer_than_the_hang_does_not_pay() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let tree = Tree::fresh();
    tree.solve(1).await;
    tree.edit(
        "lab/src/cases/timeouts.rs",
        "Duration::from_millis(250)",
        "Duration::from_secs(15)",
    );
    let (summary, line, _) = tree.run("timeouts", Duration::from_secs(20)).await;
    assert!(
        u64::from(summary.score) <= WRONG_FIX_AT_MOST,
        "a 15 s timeout against 10 s hangs must score at most {WRONG_FIX_AT_MOST}: {line}"
    );
}

/// Taking the brownout out of the workload makes the baseline fast, but
/// the run is flagged: the lesson is in the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_1_editing_the_workload_instead_of_the_code_is_flagged() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let tree = Tree::fresh();
    tree.edit("lab/src/cli.rs", "hang_rate=0.1&", "hang_rate=0&");
    let (summary, line, stderr) = tree.run("timeouts", Duration::from_secs(10)).await;
    let edits = &summary.workload_edits;
    assert_eq!(edits.len(), 1, "{summary:?}");
    assert_eq!(edits[0].key, "workload.timeouts_dep");
    assert!(line.contains("FLAGGED=workload-edited"), "{line}");
    assert!(
        stderr.contains("next: put the workload back (workload.timeouts_dep"),
        "{stderr}"
    );
    // The edited lab runs another exercise: another fingerprint than the
    // same run (10 s) against the scenario's workload would have.
    let scenarios = shipped();
    let mut timeouts = scenarios.get("timeouts").expect("timeouts").clone();
    timeouts.duration = Duration::from_secs(10);
    assert_ne!(
        summary.fingerprint,
        runner::fingerprint::expected(&timeouts),
        "{summary:?}"
    );
}

/// `make demo`: every local case, baseline then solution, on one page,
/// worked out in a copy, so the checkout's case files stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_pairs_every_local_case_and_leaves_the_checkout_alone() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("proof");
    let cases = [
        "lab/src/cases/timeouts.rs",
        "lab/src/cases/tx.rs",
        "lab/src/cases/bulkheads.rs",
    ];
    let read_cases =
        || cases.map(|file| std::fs::read(repo_root().join(file)).expect("read a case file"));
    let before = read_cases();
    let reports = folder.join("demo-reports");
    let _ = std::fs::remove_dir_all(&reports);
    let marker = format!("demo-{}", std::process::id());
    let output = runner(&repo_root(), &folder, &marker)
        .args(["demo", "--duration", "3s", "--reports"])
        .arg(&reports)
        .output()
        .await
        .expect("runner demo");
    let (stdout, _) = succeeded(&output);
    assert_nothing_left(&marker).await;
    assert_eq!(
        read_cases(),
        before,
        "the checkout's case files are untouched"
    );

    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("scenario"))
        .collect();
    assert_eq!(table.len(), 4, "a header and three cases: {stdout}");
    // minijinja's HTML escaping writes `/` as `&#x2f;`; browsers decode it.
    let page = std::fs::read_to_string(reports.join("demo.html"))
        .expect("demo.html")
        .replace("&#x2f;", "/");
    for case in 1..=3 {
        assert!(
            page.contains(&format!("id=\"case-{case}-baseline\"")),
            "case {case}"
        );
        assert!(
            page.contains(&format!("id=\"case-{case}-solution\"")),
            "case {case}"
        );
    }
    let links: Vec<&str> = page
        .split("<a href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.ends_with("/report.html"))
        .collect();
    assert_eq!(links.len(), 6, "{links:?}");
    for link in links {
        assert!(reports.join(link).is_file(), "{link} exists");
    }
    assert!(
        runner::data::Runs::read(&reports).list.is_empty(),
        "the demo's runs are kept apart: the index and the leaderboard do not count them"
    );
}
