//! `runner model autoscale`: case 4's prediction from its manifests. The
//! table here is the one in FACILITATOR.md: the
//! baseline, the reference solution and the wrong fixes a participant in a
//! hurry might make, each across the sensitivity grid (a new pod ready in
//! 5, 15 or 30 s; a request costing 20, 40 or 60 ms of CPU). Written to
//! target/tmp/model/autoscale.md and printed on stderr.

use std::{fmt::Write as _, path::Path, time::Duration};

use runner::{model, scenario};

use crate::support::{manifests, repo_root, runner};

const READY_DELAYS: [u64; 3] = [5, 15, 30];
const CPU_COSTS: [u64; 3] = [20, 40, 60];

/// The predicted score at every point of the grid, ready delays outer.
fn grid(scenario: &scenario::Scenario, folder: &Path, sticky: bool) -> Vec<u32> {
    let mut scores = Vec::new();
    for ready in READY_DELAYS {
        for cost in CPU_COSTS {
            let assumptions = model::Assumptions {
                cpu_cost: Duration::from_millis(cost),
                ready_delay: Duration::from_secs(ready),
                sticky,
                ..model::Assumptions::defaults(scenario)
            };
            let prediction = model::predict(scenario, folder, &assumptions).expect("a prediction");
            scores.push(prediction.score.total);
        }
    }
    scores
}

/// (first sync into the load, metrics' age at each sync), in seconds.
const TIMINGS: [(u64, u64); 5] = [(0, 0), (0, 14), (7, 7), (14, 0), (14, 14)];

/// The predicted score at each of [`TIMINGS`], the other assumptions at
/// their defaults.
fn timing(scenario: &scenario::Scenario, folder: &Path) -> Vec<u32> {
    TIMINGS
        .iter()
        .map(|&(phase, age)| {
            let assumptions = model::Assumptions {
                sync_phase: Duration::from_secs(phase),
                metrics_age: Duration::from_secs(age),
                ..model::Assumptions::defaults(scenario)
            };
            model::predict(scenario, folder, &assumptions)
                .expect("a prediction")
                .score
                .total
        })
        .collect()
}

/// The score at the defaults (10 s, 20 ms, a new connection per request).
fn at_defaults(scenario: &scenario::Scenario, folder: &Path) -> u32 {
    let assumptions = model::Assumptions::defaults(scenario);
    model::predict(scenario, folder, &assumptions)
        .expect("a prediction")
        .score
        .total
}

#[test]
fn the_model_pays_the_right_fix_and_nothing_else() {
    let scenarios = scenario::load(&repo_root().join("scenarios.toml")).expect("scenarios");
    let scenario = scenarios.named("autoscale").expect("autoscale");
    let hpa = "api-hpa.yaml";
    let rows: Vec<(&str, &str, std::path::PathBuf, bool)> = vec![
        (
            "baseline",
            "as shipped",
            manifests("baseline", false, &[]),
            false,
        ),
        (
            "reference solution",
            "solutions/step-4.patch",
            manifests("solution", true, &[]),
            false,
        ),
        (
            "maxReplicas raised, no CPU request",
            "maxReplicas 6; the limit stays the request, so the HPA never reads above 100%",
            manifests("max6", false, &[(hpa, "maxReplicas: 1", "maxReplicas: 6")]),
            false,
        ),
        (
            "a 95% target",
            "maxReplicas 6, target 95%, no request: 100% at most is within the tolerance",
            manifests(
                "target95",
                false,
                &[
                    (hpa, "maxReplicas: 1", "maxReplicas: 6"),
                    (hpa, "averageUtilization: 80", "averageUtilization: 95"),
                ],
            ),
            false,
        ),
        (
            "limit raised, max 1",
            "the solution's request and 500m limit; the HPA's maximum stays 1",
            manifests(
                "limit",
                true,
                &[(
                    hpa,
                    "minReplicas: 2\n  maxReplicas: 8",
                    "minReplicas: 1\n  maxReplicas: 1",
                )],
            ),
            false,
        ),
        (
            "one big replica",
            "the solution's request, a 2-CPU limit, maxReplicas 1: vertical, not autoscaling",
            manifests(
                "big",
                true,
                &[
                    ("api-deployment.yaml", "cpu: 500m", "cpu: 2000m"),
                    (
                        hpa,
                        "minReplicas: 2\n  maxReplicas: 8",
                        "minReplicas: 1\n  maxReplicas: 1",
                    ),
                ],
            ),
            false,
        ),
        (
            "four replicas from the start",
            "minReplicas 4, maxReplicas 4: provisioned for the peak, never scaling",
            manifests(
                "static",
                false,
                &[(
                    hpa,
                    "minReplicas: 1\n  maxReplicas: 1",
                    "minReplicas: 4\n  maxReplicas: 4",
                )],
            ),
            false,
        ),
    ];

    let mut table = String::from("| manifests | edit | at the defaults |");
    for ready in READY_DELAYS {
        for cost in CPU_COSTS {
            let _ = write!(table, " {ready} s / {cost} ms |");
        }
    }
    table.push_str("\n|---|---|---|");
    table.push_str(&"---|".repeat(READY_DELAYS.len() * CPU_COSTS.len()));
    table.push('\n');
    let mut results = Vec::new();
    for (name, edit, folder, sticky) in &rows {
        let scores = grid(scenario, folder, *sticky);
        let default = at_defaults(scenario, folder);
        let cells: Vec<String> = scores.iter().map(u32::to_string).collect();
        let _ = writeln!(
            table,
            "| {name} | {edit} | {default} | {} |",
            cells.join(" | ")
        );
        results.push((*name, default, scores));
    }
    // Other right fixes than the reference: each must pass too.
    let deployment = "api-deployment.yaml";
    let right = [
        (
            "right: one replica at first",
            "the solution with minReplicas 1",
            manifests(
                "right-min1",
                true,
                &[(hpa, "minReplicas: 2", "minReplicas: 1")],
            ),
        ),
        (
            "right: request = limit",
            "request and limit both 500m, target 60%",
            manifests(
                "right-guaranteed",
                true,
                &[(deployment, "cpu: 250m", "cpu: 500m")],
            ),
        ),
        (
            "right: small request, big limit",
            "request 200m, limit 1, target 70%",
            manifests(
                "right-burst",
                true,
                &[
                    (deployment, "cpu: 250m", "cpu: 200m"),
                    (deployment, "cpu: 500m", "cpu: 1000m"),
                    (hpa, "averageUtilization: 60", "averageUtilization: 70"),
                ],
            ),
        ),
    ];
    for (name, edit, folder) in &right {
        let scores = grid(scenario, folder, false);
        let default = at_defaults(scenario, folder);
        let cells: Vec<String> = scores.iter().map(u32::to_string).collect();
        let _ = writeln!(
            table,
            "| {name} | {edit} | {default} | {} |",
            cells.join(" | ")
        );
        assert!(default >= 90, "{name} passes at the defaults:\n{table}");
    }
    // What kept-alive connections would do to the solution (the api closes
    // each one so that they cannot): shown, not judged.
    let sticky = grid(scenario, &rows[1].2, true);
    let cells: Vec<String> = sticky.iter().map(u32::to_string).collect();
    let _ = writeln!(
        table,
        "| reference solution, kept-alive connections | `--sticky true` | - | {} |",
        cells.join(" | ")
    );
    // The HPA's and metrics-server's clocks against the load's: the first
    // sync 0 to 14 s into the load, metrics 0 to 14 s old at each sync.
    let _ = writeln!(
        table,
        "\n| manifests | {} |\n|---|{}",
        TIMINGS
            .iter()
            .map(|(phase, age)| format!("sync at {phase} s, metrics {age} s old"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(TIMINGS.len())
    );
    let timings: Vec<Vec<u32>> = [&rows[0].2, &rows[1].2]
        .into_iter()
        .map(|folder| timing(scenario, folder))
        .collect();
    for ((name, ..), scores) in rows.iter().zip(&timings) {
        let cells: Vec<String> = scores.iter().map(u32::to_string).collect();
        let _ = writeln!(table, "| {name} | {} |", cells.join(" | "));
    }
    let out = repo_root().join("target/tmp/model");
    std::fs::create_dir_all(&out).expect("target/tmp/model");
    std::fs::write(out.join("autoscale.md"), &table).expect("write the table");
    eprintln!("{table}");

    let (_, _, baseline) = &results[0];
    assert!(
        baseline.iter().chain(&timings[0]).all(|&s| s <= 35),
        "baseline ≤ 35 everywhere:\n{table}"
    );
    let (_, solution_default, solution) = &results[1];
    assert!(
        solution.iter().chain(&timings[1]).all(|&s| s >= 90),
        "solution ≥ 90 everywhere:\n{table}"
    );
    for (name, default, scores) in &results[2..] {
        assert!(
            *default + 25 <= *solution_default,
            "{name} scores well below the solution at the defaults:\n{table}"
        );
        assert!(
            scores
                .iter()
                .zip(solution)
                .all(|(wrong, right)| wrong < right),
            "{name} scores below the solution at every point:\n{table}"
        );
    }
}

#[test]
fn the_command_prints_its_assumptions_timeline_and_predicted_line() {
    let output = runner()
        .args(["model", "autoscale", "--ready-delay", "15s"])
        .output()
        .expect("runner model");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    for expected in [
        "api pod requests 250m, limit 250m; HPA 1-1 replicas at 80%",
        "CPU per request                        20 ms",
        "new pod ready after                    15s",
        "--sticky true|false",
        "  165s-180s ",
        "✗ most api replicas ready at once",
        "gate ×0.00  deployment.status.readyReplicas (max)",
    ] {
        assert!(stdout.contains(expected), "no `{expected}` in:\n{stdout}");
    }
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("PREDICTED autoscale 0/100 | whole-run p95=")
            && last.ends_with("cost=20ms ready-delay=15s not-sticky"),
        "{last}"
    );

    let output = runner()
        .args(["model", "timeouts"])
        .output()
        .expect("runner model");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("runs on the local stack"), "{stderr}");
}

/// A rerun within the HPA's scale-down window starts where the first run
/// left the replicas: it passes the replicas gate at once, whatever the
/// manifests say, which is why `runner run` refuses it until `make
/// rescale`. After the window, the rerun starts from the minimum again.
#[test]
fn a_rerun_within_the_scale_down_window_starts_pre_scaled() {
    let scenarios = scenario::load(&repo_root().join("scenarios.toml")).expect("scenarios");
    let scenario = scenarios.named("autoscale").expect("autoscale");
    let folder = manifests("rerun", true, &[]);
    let predict = |rerun_after: Option<Duration>| {
        let assumptions = model::Assumptions {
            rerun_after,
            ..model::Assumptions::defaults(scenario)
        };
        model::predict(scenario, &folder, &assumptions).expect("a prediction")
    };
    let first = predict(None);
    assert_eq!(first.first_ready, 2, "a first run starts at the minimum");
    let soon = predict(Some(Duration::from_secs(60)));
    assert!(
        soon.first_ready > 2 && soon.first_ready >= first.max_ready - 1,
        "a rerun a minute later starts pre-scaled: {} ready (the first run reached {})",
        soon.first_ready,
        first.max_ready
    );
    let later = predict(Some(Duration::from_secs(600)));
    assert_eq!(
        later.first_ready, 2,
        "ten minutes later the HPA is back at its minimum"
    );
}
