//! data.json and the `--json` summary: the shipped schemas are the ones the
//! types generate, and a run the runner cannot read is named with why,
//! never read as zeros or silently dropped.

use runner::{data, output::Summary, report};
use serde_json::Value;

use crate::support::{repo_root, runner, sample::sample_run, scratch, text};

#[track_caller]
fn assert_shipped(file: &str, generated: schemars::Schema, command: &str) {
    let path = repo_root().join("runner/schemas").join(file);
    let shipped: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("schema"))
        .expect("the shipped schema is JSON");
    assert!(
        shipped == generated.to_value(),
        "{} is not what the types generate; regenerate it: \
         cargo run -q -p runner -- {command} > runner/schemas/{file}",
        path.display()
    );
}

#[test]
fn the_shipped_schemas_are_generated_from_the_types() {
    assert_shipped("data.schema.json", data::schema(), "schema data");
    assert_shipped("summary.schema.json", Summary::schema(), "schema summary");
}

#[test]
fn a_run_written_is_read_back_the_same() {
    let reports = scratch("data-round-trip");
    let run = sample_run("tx", "20261129T120000Z-0001", 42, "d", "p95_ms");
    let folder = data::write(&reports, &run).expect("written");
    assert_eq!(data::read(&folder.join("data.json")).expect("read"), run);
    let _ = std::fs::remove_dir_all(&reports);
}

#[test]
fn an_older_or_foreign_data_json_is_named_with_why() {
    let reports = scratch("data-older");
    let current = sample_run("tx", "20261129T120000Z-0002", 92, "d", "p95_ms");
    data::write(&reports, &current).expect("written");
    // A run from before checks said what they measure.
    let mut older = serde_json::to_value(&current).expect("encode");
    older["version"] = 1.into();
    older["run_id"] = "20261129T110000Z-0001".into();
    let older_folder = reports.join("tx/20261129T110000Z-0001");
    std::fs::create_dir_all(&older_folder).expect("folder");
    std::fs::write(older_folder.join("data.json"), older.to_string()).expect("write");
    // A file of the right version with a field renamed.
    let mut renamed = serde_json::to_value(&current).expect("encode");
    renamed["run_id"] = "20261129T100000Z-0000".into();
    let p95 = renamed["totals"]["corrected"]
        .as_object_mut()
        .and_then(|corrected| corrected.remove("p95_ms"))
        .expect("a p95");
    renamed["totals"]["corrected"]["p95"] = p95;
    let renamed_folder = reports.join("tx/20261129T100000Z-0000");
    std::fs::create_dir_all(&renamed_folder).expect("folder");
    std::fs::write(renamed_folder.join("data.json"), renamed.to_string()).expect("write");

    let runs = data::Runs::read(&reports);
    assert_eq!(runs.list.len(), 1, "only the current run reads");
    let problems = runs.unreadable.join("\n");
    assert!(
        problems.contains("20261129T110000Z-0001/data.json") && problems.contains("version 1"),
        "{problems}"
    );
    assert!(
        problems.contains("20261129T100000Z-0000/data.json")
            && problems.contains("totals.corrected")
            && problems.contains("p95"),
        "{problems}"
    );

    // The index lists them, so nothing disappears.
    let _lock = data::lock_reports(&reports).expect("lock");
    let index = report::write_index(&reports, &runs).expect("index");
    let html = std::fs::read_to_string(index).expect("index.html");
    assert!(html.contains("id=\"unreadable\""), "{html}");

    // `runner compare` with an unreadable run says why.
    let output = runner()
        .args(["compare", "20261129T110000Z-0001", "--reports"])
        .arg(&reports)
        .output()
        .expect("run the runner");
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no run `20261129T110000Z-0001`") && stderr.contains("version 1"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&reports);
}
