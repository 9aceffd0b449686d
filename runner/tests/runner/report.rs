//! The HTML reports: hostile strings are escaped, the index lists every
//! run even when runs finish together, and a report compares itself with
//! the previous run of its scenario.

use std::path::{Path, PathBuf};

use runner::{data::RunData, report};

use crate::support::{runner, sample::sample_run, scratch};

/// Writes the run's data.json where the runner would.
fn store(reports: &Path, data: &RunData) -> PathBuf {
    runner::data::write(reports, data).expect("data.json written")
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let data = sample_run(
        "timeouts",
        "20261129T120000Z-0001",
        42,
        "<script>alert('description')</script>",
        "<img src=x onerror=alert('label')>",
    );
    let html = report::render_report(&data, None).expect("renders");
    for raw in [
        "<script>",
        "<img src=x",
        "<svg onload",
        "<u>waiting",
        "<i>stats",
        "<b>",
    ] {
        assert!(!html.contains(raw), "unescaped {raw} in the report");
    }
    assert!(
        html.contains("&lt;script&gt;alert("),
        "the description is shown, escaped"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert("),
        "the label is shown, escaped"
    );
    assert!(
        !html.contains("<script"),
        "the report carries no script at all"
    );
}

#[test]
fn the_report_shows_every_part() {
    let data = sample_run("timeouts", "20261129T120000Z-0001", 42, "d", "p95_ms");
    let html = report::render_report(&data, None).expect("renders");
    for id in [
        "id=\"score\"",
        "id=\"checks\"",
        "id=\"chart-rate\"",
        "id=\"chart-latency\"",
        "id=\"chart-in-flight\"",
        "id=\"chart-probe-",
        "id=\"statuses\"",
        "id=\"distribution\"",
        "id=\"settings\"",
    ] {
        assert!(html.contains(id), "the report lacks {id}");
    }
    assert!(html.contains("HTTP 503"));
    // Checks in words, with their key; values as a person reads them, the
    // exact number in a tooltip.
    for shown in [
        "95th-percentile latency <code class=\"key\">p95_ms</code>",
        "<span title=\"12009.471\">12.0 s</span>",
        "<span title=\"300.0\">300 ms</span>",
        "<span title=\"0.497\">49.7%</span>",
        "<span title=\"0.99\">99%</span>",
    ] {
        assert!(html.contains(shown), "the report lacks {shown}");
    }
    assert!(
        !html.contains("id=\"comparison\""),
        "no previous run, no comparison"
    );
    for remote in [
        "http://cdn",
        "https://",
        "<link rel=\"stylesheet\"",
        "src=\"http",
    ] {
        assert!(!html.contains(remote), "the report refers to {remote}");
    }
}

#[test]
fn a_report_compares_with_the_previous_run_of_its_scenario() {
    let reports = scratch("compare");
    let before = sample_run("timeouts", "20261129T110000Z-0001", 30, "d", "p95_ms");
    store(&reports, &before);
    store(
        &reports,
        &sample_run("tx", "20261129T113000Z-0002", 10, "d", "p95_ms"),
    );
    let mut now = sample_run("timeouts", "20261129T120000Z-0003", 95, "d", "p95_ms");
    now.totals.corrected.p95_ms = Some(40.0);
    let path = report::write_run(&reports, &now).expect("written").report;
    // minijinja escapes `/` in attributes as `&#x2f;`; browsers decode it.
    let html = std::fs::read_to_string(path)
        .expect("report.html")
        .replace("&#x2f;", "/");
    assert!(html.contains("id=\"comparison\""));
    assert!(
        html.contains("../20261129T110000Z-0001/report.html"),
        "links the previous timeouts run"
    );
    assert!(
        html.contains("p95, previous run"),
        "the previous p95 is overlaid"
    );
    let score_row = html.split("<td>score</td>").nth(1).unwrap_or_default();
    assert!(
        score_row
            .starts_with("<td class=\"num\">30</td><td class=\"num\">95</td><td class=\"better\">"),
        "{score_row:.120}"
    );
    let _ = std::fs::remove_dir_all(&reports);
}

#[test]
fn the_index_lists_every_run_even_when_runs_finish_together() {
    let reports = scratch("index");
    let writers: Vec<_> = (0..8)
        .map(|n| {
            let reports = reports.clone();
            std::thread::spawn(move || {
                let data = sample_run(
                    "tx",
                    &format!("20261129T1200{n:02}Z-000{n}"),
                    n * 10,
                    "d",
                    "p95_ms",
                );
                report::write_run(&reports, &data).expect("run written");
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer thread");
    }
    let index = std::fs::read_to_string(reports.join("index.html"))
        .expect("index.html")
        .replace("&#x2f;", "/");
    for n in 0..8 {
        assert!(
            index.contains(&format!("tx/20261129T1200{n:02}Z-000{n}/report.html")),
            "run {n} is listed"
        );
    }
    let newest = index.find("20261129T120007Z").unwrap_or(usize::MAX);
    let oldest = index.find("20261129T120000Z").unwrap_or(0);
    assert!(newest < oldest, "newest first");
    let _ = std::fs::remove_dir_all(&reports);
}

#[test]
fn compare_prints_the_deltas_and_writes_a_comparison_page() {
    let reports = scratch("compare-command");
    store(
        &reports,
        &sample_run("tx", "20261129T110000Z-0001", 20, "d", "p95_ms"),
    );
    let folder = store(
        &reports,
        &sample_run("tx", "20261129T120000Z-0002", 92, "d", "p95_ms"),
    );
    let output = runner()
        .args(["compare", "20261129T120000Z-0002", "--reports"])
        .arg(&reports)
        .output()
        .expect("run the runner");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let score = stdout
        .lines()
        .find(|line| line.starts_with("score"))
        .unwrap_or_default();
    assert!(
        score.contains("20") && score.contains("92") && score.ends_with("better"),
        "{stdout}"
    );
    assert!(folder.join("compare-20261129T110000Z-0001.html").exists());

    let missing = runner()
        .args(["compare", "20261129T110000Z-0001", "--reports"])
        .arg(&reports)
        .output()
        .expect("run the runner");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("first run of its scenario"));
    let _ = std::fs::remove_dir_all(&reports);
}

#[test]
fn the_demo_page_draws_a_pair_on_one_scale() {
    let reports = scratch("demo-scale");
    let baseline = sample_run("timeouts", "20261129T110000Z-0001", 12, "d", "p95_ms");
    let mut solution = sample_run("timeouts", "20261129T110100Z-0001", 100, "d", "p95_ms");
    // The solution's latency is a hundredth of the baseline's.
    for second in &mut solution.totals.seconds {
        second.p95_ms = second.p95_ms.map(|ms| ms / 100.0);
        second.p99_ms = second.p99_ms.map(|ms| ms / 100.0);
    }
    let pair = report::DemoPair {
        scenario: "timeouts".into(),
        baseline,
        solution,
    };
    let page =
        std::fs::read_to_string(report::write_demo(&reports, &[pair]).expect("demo.html written"))
            .expect("demo.html");
    // The y-axis labels of each side's chart: the same ticks on both.
    let ticks = |side: &str| -> Vec<String> {
        let start = page
            .find(&format!("id=\"case-1-{side}\""))
            .expect("the side");
        let rest = &page[start..];
        let chart = &rest[..rest.find("</svg>").expect("its chart")];
        chart
            .split("text-anchor=\"end\">")
            .skip(1)
            .filter_map(|text| text.split('<').next())
            .map(str::to_owned)
            .collect()
    };
    let (before, after) = (ticks("baseline"), ticks("solution"));
    assert!(before.len() >= 2, "{before:?}");
    assert_eq!(before, after, "one y-scale for both sides");
    assert!(
        page.contains("(one scale for both sides)"),
        "and it says so"
    );
}
