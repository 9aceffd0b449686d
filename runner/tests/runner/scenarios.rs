//! `scenarios.toml`: the shipped file is valid, and every kind of mistake is
//! reported with the file, the line, the key and, where possible, the
//! closest valid name.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
};

use runner::scenario::{self, ConfigError};

use crate::support::{runner, runner_on, shipped};

/// A small valid file; each test breaks one line of it.
const VALID: &str = r#"[s]
case = 1
description = "a scenario"
service = "api"
path = "/x"
rate = 10
duration = "10s"
request_cap = "1s"
hint = "look"
files = ["lab/src/cases/timeouts.rs"]

[[s.probes]]
name = "p"
service = "api"
path = "/p"
interval = "1s"
fields = ["a.b"]

[[s.checks]]
metric = "p95_ms"
target = 100
zero = 1000
weight = 1

[[s.checks]]
probe = "p"
metric = "a.b"
stat = "max"
target = 0
zero = 10
weight = 1
"#;

fn write(text: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "runner-scenarios-{}-{}.toml",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).expect("write a temporary scenarios file");
    path
}

/// Loads `VALID` with `from` replaced by `to`; returns the errors.
fn errors_after(from: &str, to: &str) -> Vec<ConfigError> {
    assert!(VALID.contains(from), "test text lacks {from:?}");
    let path = write(&VALID.replacen(from, to, 1));
    let result = scenario::load(&path);
    let _ = std::fs::remove_file(&path);
    result.expect_err("the broken file is refused")
}

#[track_caller]
fn assert_one(errors: &[ConfigError], key: &str, line: usize, says: &str) {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let error = &errors[0];
    assert_eq!(error.key, key, "{error}");
    assert_eq!(error.position.map(|p| p.line), Some(line), "{error}");
    assert!(error.message.contains(says), "{error}");
    assert!(error.to_string().contains(&format!(":{line}:")), "{error}");
}

#[test]
fn the_shipped_file_is_valid_and_in_case_order() {
    let scenarios = shipped();
    assert_eq!(
        scenarios.names(),
        ["timeouts", "tx", "bulkheads", "autoscale"]
    );
    let cases: Vec<u8> = scenarios.list.iter().map(|s| s.case).collect();
    assert_eq!(cases, [1, 2, 3, 4]);
    let tx = scenarios.get("tx").expect("tx is declared");
    assert_eq!(
        tx.body,
        Some(serde_json::json!({ "product_id": 1, "quantity": 1 }))
    );
}

#[test]
fn the_small_file_is_valid() {
    let path = write(VALID);
    let scenarios = scenario::load(&path).expect("valid");
    let _ = std::fs::remove_file(&path);
    assert_eq!(scenarios.list[0].name, "s");
}

#[test]
fn an_unreadable_file_says_what_to_do() {
    let errors =
        scenario::load(Path::new("/nonexistent/scenarios.toml")).expect_err("missing file");
    assert!(errors[0].message.contains("--scenarios"), "{}", errors[0]);
}

#[test]
fn a_file_with_no_scenario_is_an_error_that_names_the_file() {
    let path = write("# only a comment\n");
    let errors = scenario::load(&path).expect_err("nothing to run");
    let _ = std::fs::remove_file(&path);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let shown = errors[0].to_string();
    assert!(
        shown.starts_with(&path.display().to_string()) && shown.contains("declares no scenario"),
        "{shown}"
    );
}

#[test]
fn a_syntax_error_names_the_line() {
    let errors = errors_after(
        "[[s.checks]]\nmetric = \"p95_ms\"",
        "[[s.checks]\nmetric = \"p95_ms\"",
    );
    assert!(errors[0].message.contains("line 19"), "{}", errors[0]);
}

#[test]
fn an_unknown_key_suggests_the_closest() {
    let errors = errors_after("rate = 10", "rat = 10");
    assert_one(&errors, "s.rat", 6, "did you mean `rate`?");
}

#[test]
fn a_missing_key_is_named() {
    let errors = errors_after("hint = \"look\"\n", "");
    assert_one(&errors, "s.hint", 1, "`hint` is required");
}

#[test]
fn a_value_of_the_wrong_type_is_explained() {
    let errors = errors_after("rate = 10", "rate = \"fast\"");
    assert_one(&errors, "s.rate", 6, "expected");
}

#[test]
fn a_bad_duration_shows_how_to_write_one() {
    let errors = errors_after("duration = \"10s\"", "duration = \"10 parsecs\"");
    assert_one(&errors, "s.duration", 7, "like 30s");
}

#[test]
fn an_unknown_choice_suggests_the_closest() {
    let errors = errors_after("stat = \"max\"", "stat = \"maxx\"");
    assert_one(&errors, "s.checks[1].stat", 28, "did you mean `max`?");
    let errors = errors_after(
        "service = \"api\"\npath = \"/x\"",
        "service = \"apu\"\npath = \"/x\"",
    );
    assert_one(&errors, "s.service", 4, "did you mean `api`?");
}

#[test]
fn values_out_of_range_are_refused() {
    for (from, to, key, line, says) in [
        ("case = 1", "case = 0", "s.case", 2, "must be 1 or more"),
        ("rate = 10", "rate = -1", "s.rate", 6, "above 0"),
        ("rate = 10", "rate = 0", "s.rate", 6, "above 0"),
        (
            "duration = \"10s\"",
            "duration = \"2h\"",
            "s.duration",
            7,
            "from 1s to 1h",
        ),
        (
            "request_cap = \"1s\"",
            "request_cap = \"0s\"",
            "s.request_cap",
            8,
            "above 0",
        ),
        (
            "request_cap = \"1s\"",
            "request_cap = \"1s\"\nramp = \"10s\"",
            "s.ramp",
            9,
            "shorter than `duration`",
        ),
        (
            "path = \"/x\"",
            "path = \"x\"",
            "s.path",
            5,
            "start with `/`",
        ),
        (
            "path = \"/x\"",
            "path = \"/x\"\nbody = { a = 1 }",
            "s.body",
            6,
            "POST or PUT",
        ),
        (
            "files = [\"lab/src/cases/timeouts.rs\"]",
            "files = []",
            "s.files",
            10,
            "at least one file",
        ),
        (
            "interval = \"1s\"",
            "interval = \"10ms\"",
            "s.probes[0].interval",
            16,
            "at least 100ms",
        ),
        (
            "fields = [\"a.b\"]",
            "fields = [\"a.b\"]\n\n[[s.probes]]\nname = \"p\"\nservice = \"api\"\npath = \"/q\"\ninterval = \"1s\"\nfields = [\"c\"]",
            "s.probes[1].name",
            20,
            "also named `p`",
        ),
        (
            "zero = 1000",
            "zero = 100",
            "s.checks[0].zero",
            22,
            "differ from `target`",
        ),
        (
            "weight = 1\n\n[[s.checks]]",
            "weight = 0\n\n[[s.checks]]",
            "s.checks[0].weight",
            23,
            "above 0",
        ),
        (
            "target = 100",
            "target = 100\nlast = \"1m\"",
            "s.checks[0].last",
            22,
            "at most the scenario's `duration`",
        ),
    ] {
        let errors = errors_after(from, to);
        assert_one(&errors, key, line, says);
    }
}

#[test]
fn a_duplicate_case_is_refused() {
    let second = VALID.replace("[s]", "[t]").replace("[[s.", "[[t.");
    let path = write(&format!("{VALID}\n{second}"));
    let errors = scenario::load(&path).expect_err("two scenarios with case 1");
    let _ = std::fs::remove_file(&path);
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("case 1 is used by another scenario")),
        "{errors:#?}"
    );
}

#[test]
fn references_to_unknown_metrics_probes_and_fields_suggest_the_closest() {
    let errors = errors_after("metric = \"p95_ms\"", "metric = \"p95_mss\"");
    assert_one(&errors, "s.checks[0].metric", 20, "did you mean `p95_ms`?");
    let errors = errors_after("metric = \"p95_ms\"", "metric = \"latency\"");
    assert_one(&errors, "s.checks[0].metric", 20, "valid: p50_ms, p95_ms");
    let errors = errors_after("probe = \"p\"", "probe = \"q\"");
    assert_one(&errors, "s.checks[1].probe", 26, "unknown probe `q`");
    let errors = errors_after("metric = \"a.b\"", "metric = \"a.c\"");
    assert_one(&errors, "s.checks[1].metric", 27, "did you mean `a.b`?");
}

#[test]
fn answers_are_checked_like_every_other_key() {
    let with_answers = |table: &str| {
        VALID.replacen(
            "[[s.probes]]",
            &format!("[s.answers]\n{table}\n\n[[s.probes]]"),
            1,
        )
    };
    let load = |text: String| {
        let path = write(&text);
        let result = scenario::load(&path);
        let _ = std::fs::remove_file(&path);
        result
    };
    let fine = with_answers("field = \"source\"\nfull = [\"dep\"]\ndegraded = [\"fallback\"]");
    let fine = fine.replacen("metric = \"p95_ms\"", "metric = \"degraded_rate\"", 1);
    assert!(load(fine).is_ok(), "answers with a check that reads them");

    let typo = with_answers("feild = \"source\"\nfull = [\"dep\"]\ndegraded = []");
    let errors = load(typo).expect_err("a misspelled key");
    assert_one(&errors, "s.answers.feild", 13, "did you mean `field`?");

    let both = with_answers("field = \"source\"\nfull = [\"dep\"]\ndegraded = [\"dep\"]");
    let errors = load(both).expect_err("a value both full and degraded");
    assert_one(&errors, "s.answers.degraded", 15, "also a full value");

    let errors = errors_after("metric = \"p95_ms\"", "metric = \"full_goodput\"");
    assert_one(
        &errors,
        "s.checks[0].metric",
        20,
        "add a `[s.answers]` table",
    );

    let waits = with_answers("field = \"s\"\nfull = [\"a\"]\ndegraded = []\nwithin = \"1s\"");
    assert!(load(waits).is_ok(), "how long a user waits");
    let never = with_answers("field = \"s\"\nfull = [\"a\"]\ndegraded = []\nwithin = \"0s\"");
    let errors = load(never).expect_err("a user who waits no time");
    assert_one(&errors, "s.answers.within", 16, "a user waits some time");
}

#[test]
fn a_gate_has_no_weight_and_every_other_check_has_one() {
    let gate = "zero = 10\nweight = 1\n";
    assert!(VALID.ends_with(gate), "the probe check comes last");
    let path = write(&VALID.replace(gate, "zero = 10\ngate = true\n"));
    let loaded = scenario::load(&path);
    let _ = std::fs::remove_file(&path);
    let scenarios = loaded.expect("a gate without a weight");
    let checks = &scenarios.get("s").expect("s").checks;
    assert!(checks[1].gate && checks[1].weight == 0.0, "{checks:?}");

    let errors = errors_after(
        "zero = 10\nweight = 1",
        "zero = 10\nweight = 1\ngate = true",
    );
    assert_one(&errors, "s.checks[1].weight", 31, "a gate has no weight");
    let errors = errors_after("zero = 1000\nweight = 1\n", "zero = 1000\n");
    assert_one(&errors, "s.checks[0].weight", 19, "a check needs a weight");
}

#[test]
fn a_lesson_is_one_short_line_and_is_printed_on_failure_only() {
    let lesson = "zero = 1000\nweight = 1\nlesson = \"slow: add a deadline\"\n";
    let path = write(&VALID.replace("zero = 1000\nweight = 1\n", lesson));
    let loaded = scenario::load(&path);
    let _ = std::fs::remove_file(&path);
    let scenarios = loaded.expect("a lesson");
    let check = &scenarios.get("s").expect("s").checks[0];
    assert_eq!(check.lesson.as_deref(), Some("slow: add a deadline"));

    let errors = errors_after(
        "weight = 1\n\n[[s.checks]]",
        "weight = 1\nlesson = \"\"\n\n[[s.checks]]",
    );
    assert_one(&errors, "s.checks[0].lesson", 24, "one line of 1 to 160");
    let long = format!(
        "weight = 1\nlesson = \"{}\"\n\n[[s.checks]]",
        "x".repeat(161)
    );
    let errors = errors_after("weight = 1\n\n[[s.checks]]", &long);
    assert_one(&errors, "s.checks[0].lesson", 24, "one line of 1 to 160");
}

#[test]
fn stats_belong_to_probe_metrics_only() {
    let errors = errors_after("stat = \"max\"\n", "");
    assert_one(&errors, "s.checks[1].stat", 25, "needs a stat");
    let errors = errors_after("metric = \"p95_ms\"", "metric = \"p95_ms\"\nstat = \"max\"");
    assert_one(
        &errors,
        "s.checks[0].stat",
        21,
        "only probe metrics take a stat",
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let broken = VALID
        .replace("case = 1", "case = 0")
        .replace("metric = \"p95_ms\"", "metric = \"p96_ms\"");
    let path = write(&broken);
    let errors = scenario::load(&path).expect_err("two problems");
    let _ = std::fs::remove_file(&path);
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["s.case", "s.checks[0].metric"]);
}

/// Runs the runner with `args` and the `env` overrides: whether it
/// succeeded, its stdout and its stderr.
fn run_with(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let output = runner()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run the runner");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_environment_override_is_applied_and_named_when_bad() {
    let (ok, _, stderr) = run_with(&["check"], &[("LAB_SCENARIO_TX__RATE", "-3")]);
    assert!(!ok);
    assert!(stderr.contains("tx.rate: must be above 0"), "{stderr}");
    assert!(stderr.contains("LAB_SCENARIO_TX__RATE"), "{stderr}");

    let (ok, stdout, stderr) = run_with(&["list"], &[("LAB_SCENARIO_TX__RATE", "12.5")]);
    assert!(ok, "{stderr}");
    let tx = stdout
        .lines()
        .find(|line| line.contains(" tx "))
        .unwrap_or_default();
    assert!(tx.contains("12.5"), "{stdout}");
}

#[test]
fn list_and_check_work_on_the_shipped_file() {
    let (ok, stdout, stderr) = run_with(&["list"], &[]);
    assert!(ok, "{stderr}");
    for name in ["timeouts", "tx", "bulkheads", "autoscale"] {
        assert!(stdout.contains(name), "{stdout}");
    }
    let (ok, stdout, _) = run_with(&["check"], &[]);
    assert!(ok);
    assert!(stdout.contains("4 scenarios, no problems"), "{stdout}");
    let broken = write(&VALID.replace("rate = 10", "rat = 10"));
    let output = runner_on(&broken)
        .arg("check")
        .output()
        .expect("run the runner");
    let _ = std::fs::remove_file(&broken);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(":6:1: s.rat: unknown key `rat`; did you mean `rate`?"),
        "{stderr}"
    );
}

#[test]
fn a_probe_reads_a_service_or_a_kubernetes_object_not_both() {
    let kube = VALID.replacen(
        "service = \"api\"\npath = \"/p\"",
        "kubernetes = \"Deployment/api\"",
        1,
    );
    let path = write(&kube);
    let loaded = scenario::load(&path);
    let _ = std::fs::remove_file(&path);
    assert!(
        loaded.is_ok(),
        "a Kubernetes probe is valid: {:?}",
        loaded.err()
    );

    let errors = errors_after(
        "path = \"/p\"",
        "path = \"/p\"\nkubernetes = \"Deployment/api\"",
    );
    assert_one(
        &errors,
        "s.probes[0].kubernetes",
        16,
        "either a service's JSON endpoint",
    );
    let errors = errors_after("service = \"api\"\npath = \"/p\"", "interval2 = 1");
    assert!(!errors.is_empty(), "neither source is refused too");
    let errors = errors_after("path = \"/p\"", "path = \"/p\"\nkubernetes = \"Pod/api\"");
    assert!(
        errors
            .iter()
            .any(|error| error.message.contains("`Pod` is not a kind a probe reads")),
        "{errors:#?}"
    );
}
