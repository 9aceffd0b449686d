//! `runner board`, the room's leaderboard: the real server on loopback
//! port 0 over a real SQLite file, fed by the runner's own client (as
//! `runner run --submit` sends) and by hand-made hostile requests.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use runner::{
    board::{self, submission::CODE_HEADER},
    submit::Sent,
};
use serde_json::{Value, json};
use sqlx::{Connection, SqliteConnection};

use crate::support::{
    board::{TestBoard, client, ranked_run, start},
    runner, scratch,
};

const CODE: &str = "ROOM-2468";

fn db_file(tag: &str) -> (PathBuf, PathBuf) {
    let folder = scratch(tag);
    let db = folder.join("board.sqlite");
    (folder, db)
}

async fn rows(db: &Path) -> Vec<(String, String)> {
    let mut connection = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the board's file");
    sqlx::query_as("SELECT name, run_id FROM submissions ORDER BY id")
        .fetch_all(&mut connection)
        .await
        .expect("read the rows")
}

#[tokio::test]
async fn the_board_ranks_the_room_keeps_it_across_restarts_and_exports_it() {
    let (folder, db) = db_file("board-room");
    let first = start(&db, Some(CODE), 100, 1000).await;
    let sends = [
        ("ada", ranked_run("timeouts", "20261130T100000Z-0001", 80)),
        ("ada", ranked_run("timeouts", "20261130T100100Z-0002", 95)),
        ("bob", ranked_run("timeouts", "20261130T100200Z-0003", 100)),
        ("bob", ranked_run("tx", "20261130T100300Z-0004", 40)),
    ];
    for (name, run) in &sends {
        let sent = client(&first, name, CODE).send(run).await.expect("kept");
        assert_eq!(sent, Sent::Kept);
    }
    let mut flagged = ranked_run("timeouts", "20261130T100400Z-0005", 100);
    flagged.workload_edits = vec![runner::workload::Edit {
        key: "timeouts.hang_ms".into(),
        expected: json!(1500),
        actual: json!(1),
    }];
    let mut other = ranked_run("timeouts", "20261130T100500Z-0006", 100);
    other.fingerprint = "00000000".into();
    for (name, run) in [("carol", &flagged), ("dan", &other)] {
        client(&first, name, CODE).send(run).await.expect("kept");
    }
    // A retry of a run that got through is not an error, nor a second row.
    let again = client(&first, "ada", CODE).send(&sends[1].1).await;
    assert_eq!(again.expect("a retry"), Sent::AlreadyThere);

    let page = first.page().await;
    let bob = page.find("<td class=\"name\">bob</td>").expect("bob's row");
    let ada = page.find("<td class=\"name\">ada</td>").expect("ada's row");
    assert!(bob < ada, "bob (140) ranks above ada (95):\n{page}");
    assert!(!page.contains("<td class=\"name\">carol</td>"), "{page}");
    assert!(
        page.contains("flagged: edited (timeouts.hang_ms)"),
        "{page}"
    );
    assert!(page.contains("other settings (fp=00000000)"), "{page}");

    let second = start(&db, Some(CODE), 100, 1000).await;
    let refused = second.stop().await.expect_err("a second board on one file");
    assert!(
        format!("{refused:#}").contains("another board"),
        "{refused:#}"
    );

    // The export reads the file beside the running board.
    let export = folder.join("export");
    let output = tokio::process::Command::from(runner())
        .args([
            "board",
            "--db",
            &db.display().to_string(),
            "--export",
            &export.display().to_string(),
        ])
        .output()
        .await
        .expect("runner board --export");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let markdown = std::fs::read_to_string(export.join("board.md")).expect("board.md");
    assert!(
        markdown.contains("| 1 | bob | 100 | 40 | - | - | 140/400 |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| 2 | ada | 95 | - | - | - | 95/400 |"),
        "{markdown}"
    );
    let csv = std::fs::read_to_string(export.join("board.csv")).expect("board.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "rank,name,timeouts,tx,bulkheads,autoscale,total,reached_utc"
    );
    assert!(lines[1].starts_with("1,bob,100,40,,,140,"), "{csv}");
    assert_eq!(lines.len(), 3, "{csv}");

    // Restarted with no --code: the same room, the same code.
    first.stop().await.expect("the board stops cleanly");
    let restarted = start(&db, None, 100, 1000).await;
    let page = restarted.page().await;
    assert!(page.contains("<td class=\"name\">bob</td>"), "{page}");
    assert!(page.contains("<td class=\"name\">ada</td>"), "{page}");
    let late = ranked_run("bulkheads", "20261130T100600Z-0007", 90);
    client(&restarted, "ada", CODE)
        .send(&late)
        .await
        .expect("the kept code still works");
    restarted.stop().await.expect("stops");
    assert_eq!(rows(&db).await.len(), 7);
    let _ = std::fs::remove_dir_all(&folder);
}

/// Posts `body` as JSON with `code` (none: no header).
async fn post(board: &TestBoard, code: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/submissions", board.url))
        .json(body);
    if let Some(code) = code {
        request = request.header(CODE_HEADER, code);
    }
    let response = request.send().await.expect("the board answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// `body` with one field set to `value`.
fn with(body: &Value, field: &str, value: Value) -> Value {
    let mut changed = body.clone();
    changed[field] = value;
    changed
}

fn submission(name: &str, run_id: &str) -> Value {
    let data = ranked_run("timeouts", run_id, 90);
    serde_json::to_value(board::submission::Submission::of_run(name, &data))
        .expect("a submission as JSON")
}

#[tokio::test]
async fn hostile_submissions_are_refused_with_a_reason_or_shown_escaped() {
    let (folder, db) = db_file("board-hostile");
    let board = start(&db, Some(CODE), 2, 1000).await;
    let good = submission("ada", "20261130T110000Z-0001");
    let refusals: Vec<(&str, Option<&str>, Value, u16, &str)> = vec![
        ("no code", None, good.clone(), 401, "room code"),
        (
            "a wrong code",
            Some("ROOM-2469"),
            good.clone(),
            401,
            "room code",
        ),
        (
            "markup in the name",
            Some(CODE),
            submission("<b>ada</b>", "20261130T110000Z-0002"),
            422,
            "a name may hold",
        ),
        (
            "a huge name",
            Some(CODE),
            submission(&"a".repeat(33), "20261130T110000Z-0003"),
            422,
            "1-32 characters",
        ),
        (
            "a wrong type",
            Some(CODE),
            with(&good, "score", json!("high")),
            400,
            "score",
        ),
        (
            "an unknown field",
            Some(CODE),
            with(&good, "admin", json!(true)),
            400,
            "admin",
        ),
        (
            "a score over 100",
            Some(CODE),
            with(&good, "score", json!(101)),
            422,
            "over 100",
        ),
        (
            "an unknown scenario",
            Some(CODE),
            with(&good, "scenario", json!("chaos")),
            422,
            "timeouts, tx, bulkheads, autoscale",
        ),
        (
            "markup in the run id",
            Some(CODE),
            with(&good, "run_id", json!("<i>x</i>")),
            422,
            "run_id",
        ),
    ];
    for (what, code, body, status, says) in refusals {
        let (got, answer) = post(&board, code, &body).await;
        assert_eq!(got, status, "{what}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{what}: {error}");
    }
    let huge = json!({ "name": "ada", "padding": "x".repeat(64 * 1024) });
    let (got, answer) = post(&board, Some(CODE), &huge).await;
    assert_eq!(got, 413, "a huge body: {answer}");
    let not_json = reqwest::Client::new()
        .post(format!("{}/submissions", board.url))
        .header(CODE_HEADER, CODE)
        .body("name=ada")
        .send()
        .await
        .expect("answers");
    assert_eq!(not_json.status().as_u16(), 400);

    // Markup where the board shows it (a check's key on a run with other
    // settings) is kept, and escaped on the page.
    let mut marked = ranked_run("timeouts", "20261130T110000Z-0010", 70);
    marked.score.checks[0].label = "<img src=x onerror=alert(1)>".into();
    marked.workload_edits = vec![runner::workload::Edit {
        key: "<script>alert('key')</script>".into(),
        expected: json!(1),
        actual: json!(2),
    }];
    let sent = client(&board, "ada", CODE)
        .send(&marked)
        .await
        .expect("kept");
    assert_eq!(sent, Sent::Kept);
    let page = board.page().await;
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&lt;script&gt;alert("), "{page}");

    // Replayed: the same run again, under another name.
    let replay = submission("mallory", "20261130T110000Z-0010");
    let (got, answer) = post(&board, Some(CODE), &replay).await;
    assert_eq!(got, 409, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("already on the board")
    );

    // Per name: 2 a minute on this board; ada has sent 1.
    let (got, _) = post(
        &board,
        Some(CODE),
        &submission("ada", "20261130T110000Z-0011"),
    )
    .await;
    assert_eq!(got, 201);
    let response = reqwest::Client::new()
        .post(format!("{}/submissions", board.url))
        .header(CODE_HEADER, CODE)
        .json(&submission("ada", "20261130T110000Z-0012"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().contains_key("retry-after"));
    board.stop().await.expect("stops");

    // Per address: 3 a minute on this board, wrong codes count too.
    let strict = start(&db, Some(CODE), 100, 3).await;
    for _ in 0..3 {
        let (got, _) = post(&strict, Some("wrong-code"), &good).await;
        assert_eq!(got, 401);
    }
    let (got, answer) = post(&strict, Some(CODE), &good).await;
    assert_eq!(got, 429, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("from this address")
    );
    strict.stop().await.expect("stops");

    // Only what was accepted is on the board.
    let names: Vec<String> = rows(&db).await.into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["ada", "ada"]);
    let _ = std::fs::remove_dir_all(&folder);
}

/// The room at 30x its real pace: 30 participants for a minute, each
/// submitting twice a second and reloading the page every 5 s (a real
/// participant submits about twice a minute). Every submission must be
/// kept once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_participants_submit_for_a_minute_and_no_row_is_lost_or_doubled() {
    // Not beside goose runs: they would take the CPU this measures.
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    const PARTICIPANTS: usize = 30;
    const FOR: Duration = Duration::from_secs(60);
    let (folder, db) = db_file("board-load");
    let board = start(&db, Some(CODE), 1000, 100_000).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for participant in 0..PARTICIPANTS {
        let client = client(&board, &format!("participant {participant:02}"), CODE);
        let page = board.url.clone();
        let template = ranked_run("timeouts", "template", 0);
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut latencies = Vec::new();
            let mut failures = Vec::new();
            let mut next = Instant::now();
            let mut next_page = Instant::now();
            while started.elapsed() < FOR {
                let run_id = format!("20261130T120000Z-{participant:02}{:05}", sent.len());
                let mut run = template.clone();
                run.run_id.clone_from(&run_id);
                run.score.total = (sent.len() % 101) as u32;
                let began = Instant::now();
                match client.send(&run).await {
                    Ok(Sent::Kept) => {}
                    outcome => failures.push(format!("{run_id}: {outcome:?}")),
                }
                latencies.push(began.elapsed());
                sent.push(run_id);
                if next_page <= Instant::now() {
                    next_page += Duration::from_secs(5);
                    let status = reqwest::get(&page).await.map(|r| r.status().as_u16());
                    if !matches!(status, Ok(200)) {
                        failures.push(format!("the page: {status:?}"));
                    }
                }
                next += Duration::from_millis(500);
                tokio::time::sleep_until(next.into()).await;
            }
            (sent, latencies, failures)
        }));
    }
    let mut sent = Vec::new();
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for task in tasks {
        let (s, l, f) = task.await.expect("a participant");
        sent.extend(s);
        latencies.extend(l);
        failures.extend(f);
    }
    let elapsed = started.elapsed();
    board.stop().await.expect("the board stops cleanly");
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );

    let kept = rows(&db).await;
    let kept_ids: HashSet<&str> = kept.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(kept.len(), sent.len(), "rows kept vs submissions sent");
    assert_eq!(kept_ids.len(), sent.len(), "a run kept twice");
    assert!(
        sent.iter().all(|id| kept_ids.contains(id.as_str())),
        "a run lost"
    );

    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    let rate = sent.len() as f64 / elapsed.as_secs_f64();
    assert!(
        rate >= 50.0,
        "{rate:.1} submissions/s held, under the 60/s asked"
    );
    eprintln!(
        "board load: {} participants, {} submissions in {:.1} s ({rate:.1}/s held), \
         p50 {:?}, p99 {p99:?}, max {:?}, rows lost 0, doubled 0",
        PARTICIPANTS,
        sent.len(),
        elapsed.as_secs_f64(),
        latencies[latencies.len() / 2],
        latencies.last().expect("latencies"),
    );
    let _ = std::fs::remove_dir_all(&folder);
}
