//! The proof that every local case teaches what it claims, as rustlings
//! proves every exercise starts failing and every solution passes, and
//! more: that nothing but the right fix pays. Per case, a table of runs:
//!
//! - the baseline scores low (≤ 35),
//! - its reference solution, `solutions/step-N.patch`, scores high (≥ 90),
//! - wrong fixes a participant in a hurry would try score at most their
//!   stated ceiling: a deadline longer than the hang, a fallback for
//!   everyone, skipping the work, starving the other class,
//! - editing the workload or a knob instead of the code is flagged, and so
//!   is editing a lab file outside the case's files (`FLAGGED=lab-edited`).
//!
//! A wrong fix names the check it must fail; the facilitator's answer key,
//! `docs/ANSWER-KEY.md`, is generated from these tables with that check's
//! lesson line, and a test holds the two together.
//!
//! Everything runs on the real local stack (`runner run --local`: a
//! private PostgreSQL, the `lab` roles as processes) in a scratch copy of
//! the tree, the same copy `runner demo` uses, so the checkout is never
//! touched. The copy shares the checkout's compiled dependencies
//! (`LAB_BUILD_DIR`), and keeps its own `lab` between runs, so an edit
//! rebuilds only the `lab` crate.
//!
//! Each case prints its table (straight to stderr, past the test harness's
//! capture, so CI's log shows it) and writes it to
//! `target/tmp/proof/<case>.md`, then asserts every band.
//!
//! Durations are shorter than the scenarios' own where the verdict is the
//! same; the margins were measured on a 2-core machine.

use std::{fmt::Write as _, io::Write as _, path::Path, time::Duration};

use runner::output::Summary;

use crate::{
    ONE_AT_A_TIME,
    support::{
        assert_nothing_left, local_runner, repo_root, shipped, succeeded,
        tree::{DEADLINE, Edit, TIMEOUTS, Tree},
    },
};

/// Where a row's score must fall.
#[derive(Debug, Clone, Copy)]
enum Band {
    /// The baseline and the wrong fixes: at most this.
    AtMost(u32),
    /// The reference solution: at least this.
    AtLeast(u32),
    /// The workload or a knob was edited: the run is flagged (whatever it
    /// scores, it is not ranked), naming this key.
    Flagged(&'static str),
    /// A lab file outside the case's files was edited: the run is flagged
    /// `lab-edited`, naming this file.
    LabEdited(&'static str),
}

impl Band {
    fn describe(self) -> String {
        match self {
            Self::AtMost(ceiling) => format!("≤ {ceiling}"),
            Self::AtLeast(floor) => format!("≥ {floor}"),
            Self::Flagged(key) => format!("flagged ({key})"),
            Self::LabEdited(file) => format!("flagged lab-edited ({file})"),
        }
    }

    fn holds(self, summary: &Summary) -> bool {
        let clean = summary.workload_edits.is_empty() && summary.lab_edits.is_empty();
        match self {
            Self::AtMost(ceiling) => clean && summary.score <= ceiling,
            Self::AtLeast(floor) => clean && summary.score >= floor,
            Self::Flagged(key) => summary.workload_edits.iter().any(|edit| edit.key == key),
            Self::LabEdited(file) => summary.lab_edits.iter().any(|edit| edit.file == file),
        }
    }
}

/// One run of the table: what a participant did, and its band.
struct Row {
    name: &'static str,
    /// Start from the reference solution (else from the baseline).
    solved: bool,
    edits: Vec<Edit>,
    duration: Duration,
    band: Band,
    /// The check this wrong fix must fail (its key, as the terminal shows
    /// it): the answer key prints that check's lesson line.
    fails: Option<&'static str>,
}

/// What a row measured.
struct Measured {
    summary: Summary,
    score_line: String,
    stderr: String,
}

const BASELINE: u32 = 35;
const SOLUTION: u32 = 90;

/// The first two rows of every table.
fn baseline(seconds: u64) -> Row {
    Row {
        name: "baseline",
        solved: false,
        edits: Vec::new(),
        duration: Duration::from_secs(seconds),
        band: Band::AtMost(BASELINE),
        fails: None,
    }
}

fn solution(seconds: u64) -> Row {
    Row {
        name: "reference solution",
        solved: true,
        edits: Vec::new(),
        duration: Duration::from_secs(seconds),
        band: Band::AtLeast(SOLUTION),
        fails: None,
    }
}

/// A wrong fix: edits from the baseline or the solution, the most it may
/// score, and the check (its key) it must fail.
fn wrong_fix(
    name: &'static str,
    solved: bool,
    edits: Vec<Edit>,
    (seconds, ceiling): (u64, u32),
    fails: &'static str,
) -> Row {
    Row {
        name,
        solved,
        edits,
        duration: Duration::from_secs(seconds),
        band: Band::AtMost(ceiling),
        fails: Some(fails),
    }
}

/// An edit of the workload or a knob instead of the code: a 10 s run that
/// must be flagged, naming `key`.
fn flagged(name: &'static str, solved: bool, edit: Edit, key: &'static str) -> Row {
    Row {
        name,
        solved,
        edits: vec![edit],
        duration: Duration::from_secs(10),
        band: Band::Flagged(key),
        fails: None,
    }
}

/// An edit of a lab file outside the case's files (with any case-file
/// edits before it): a 10 s run that must be flagged `lab-edited`, naming
/// the file of the last edit.
fn lab_edited(name: &'static str, solved: bool, edits: Vec<Edit>) -> Row {
    let file = edits.last().expect("a lab edit").file;
    Row {
        name,
        solved,
        edits,
        duration: Duration::from_secs(10),
        band: Band::LabEdited(file),
        fails: None,
    }
}

/// Runs every row of one case in its own fresh copy, prints and keeps the
/// table, then checks every band (after the table, so a failure shows all
/// of it). Returns what each row measured, in order.
async fn prove(scenario: &str, step: u8, rows: &[Row]) -> Vec<Measured> {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut measured = Vec::new();
    for row in rows {
        let tree = Tree::fresh();
        if row.solved {
            tree.solve(step).await;
        }
        for edit in &row.edits {
            tree.edit(edit);
        }
        let (summary, score_line, stderr) = tree.run(scenario, row.duration).await;
        measured.push(Measured {
            summary,
            score_line,
            stderr,
        });
    }
    let table = table(scenario, rows, &measured);
    let _ = std::io::stderr().write_all(table.as_bytes());
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("proof");
    std::fs::write(folder.join(format!("{scenario}.md")), &table).expect("keep the table");
    for (row, run) in rows.iter().zip(&measured) {
        assert!(
            row.band.holds(&run.summary),
            "{scenario}, {}: must be {}: {}\n{table}",
            row.name,
            row.band.describe(),
            run.score_line
        );
        if let Some(key) = row.fails {
            let check = run.summary.checks.iter().find(|check| check.label == key);
            assert!(
                check.is_some_and(|check| !check.met),
                "{scenario}, {}: must fail {key}: {check:?}\n{table}",
                row.name
            );
        }
    }
    measured
}

/// The table as Markdown: row, band, score, verdict, SCORE line.
fn table(scenario: &str, rows: &[Row], measured: &[Measured]) -> String {
    let mut out = format!(
        "\n### {scenario}\n\n| run | seconds | band | score | held | SCORE line |\n|---|--:|---|--:|---|---|\n"
    );
    for (row, run) in rows.iter().zip(measured) {
        let held = if row.band.holds(&run.summary) {
            "yes"
        } else {
            "NO"
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {held} | `{}` |",
            row.name,
            row.duration.as_secs(),
            row.band.describe(),
            run.summary.score,
            run.score_line
        );
    }
    out
}

/// A failing baseline says what to do next; a passing solution does not.
fn assert_next_steps(scenario: &str, step: u8, baseline: &Measured, solution: &Measured) {
    for step_text in [
        "next: ".to_owned(),
        format!("`runner hint {scenario}`"),
        format!("LAB: STEP{step} TODO"),
        format!("`runner run {scenario} --local`"),
        format!("`runner solve {step}`"),
        "the check that cost most, `".to_owned(),
    ] {
        assert!(
            baseline.stderr.contains(&step_text),
            "{step_text}: {}",
            baseline.stderr
        );
    }
    assert!(
        !solution.stderr.contains("next: "),
        "a pass needs no next step: {}",
        solution.stderr
    );
}

const TX: &str = "lab/src/cases/tx.rs";
const BULKHEADS: &str = "lab/src/cases/bulkheads.rs";
/// Case 1's call to dep, as the baseline and the solution write it.
const RECOMMEND_CALL: &str = "state.dep.call(&state.workload.timeouts_dep)";
/// Case 1's handler's return type, as the baseline and the solution write it.
const RECOMMEND_SIGNATURE: &str = "-> Result<Json<Recommendation>, ApiError> {";
/// The solution's fallback on the deadline.
const FALLBACK_ARM: &str = "Err(_deadline) => Ok(Json(Recommendation::fallback())),";

fn timeouts_rows() -> Vec<Row> {
    vec![
        baseline(20),
        solution(20),
        // Longer than the 10 s hang, so it never fires: hung calls still
        // hold every dep connection.
        wrong_fix(
            "a 15 s timeout (longer than the hang)",
            true,
            vec![Edit {
                file: TIMEOUTS,
                from: DEADLINE,
                to: "Duration::from_secs(15)",
            }],
            (20, 50),
            "p95_ms",
        ),
        // Fast and never waiting, but every answer is the fallback.
        wrong_fix(
            "a 1 ms deadline (a fallback for everyone)",
            true,
            vec![Edit {
                file: TIMEOUTS,
                from: DEADLINE,
                to: "Duration::from_millis(1)",
            }],
            (10, 60),
            "full_goodput",
        ),
        // A fallback for everyone, labelled as dep's answer: the
        // `unbacked` gate (an answer claiming dep with no dep answer in
        // its request).
        wrong_fix(
            "a 1 ms deadline whose fallback claims dep",
            true,
            vec![
                Edit {
                    file: TIMEOUTS,
                    from: DEADLINE,
                    to: "Duration::from_millis(1)",
                },
                Edit {
                    file: TIMEOUTS,
                    from: "source: \"fallback\",",
                    to: "source: \"dep\",",
                },
            ],
            (10, 10),
            "recommendations.unbacked (max)",
        ),
        // dep's median answer: half of what dep would answer falls back.
        wrong_fix(
            "a 20 ms deadline (most answers fall back)",
            true,
            vec![Edit {
                file: TIMEOUTS,
                from: DEADLINE,
                to: "Duration::from_millis(20)",
            }],
            (10, 60),
            "full_goodput",
        ),
        // The hung tenth gets an error instead of a fallback: the errors
        // gate (x0.53 at 10%).
        wrong_fix(
            "a deadline that answers 504 instead of a fallback",
            true,
            vec![Edit {
                file: TIMEOUTS,
                from: FALLBACK_ARM,
                to: "Err(_deadline) => Err(crate::api::dep_client::DepCallError::Timeout.into()),",
            }],
            (20, 60),
            "error_rate",
        ),
        // dep asked for a behaviour that never hangs: dep counts it.
        wrong_fix(
            "dep called with a behaviour that never hangs",
            false,
            vec![Edit {
                file: TIMEOUTS,
                from: RECOMMEND_CALL,
                to: "state.dep.call(&\"latency_ms=20\".parse().expect(\"a behaviour\"))",
            }],
            (10, 10),
            "recommendations.dep.off_workload (max)",
        ),
        // Three calls at once, the first answer wins: all three rarely
        // hang, and dep serves three calls per request.
        wrong_fix(
            "the call sent three times at once, first answer wins",
            false,
            vec![Edit {
                file: TIMEOUTS,
                from: "let answer = state.dep.call(&state.workload.timeouts_dep).await?;",
                to: "let answer = tokio::select! { a = state.dep.call(&state.workload.timeouts_dep) => a, \
                     b = state.dep.call(&state.workload.timeouts_dep) => b, \
                     c = state.dep.call(&state.workload.timeouts_dep) => c }?;",
            }],
            (10, 10),
            "recommendations.dep.calls_per_request (max)",
        ),
        // On the deadline, a fallback labelled dep, with a detached call to
        // dep so that the totals agree: the detached answer backs no
        // request's answer.
        wrong_fix(
            "a fallback claiming dep, backed by a detached dep call",
            true,
            vec![Edit {
                file: TIMEOUTS,
                from: FALLBACK_ARM,
                to: "Err(_deadline) => { let (dep, workload) = (state.dep.clone(), state.workload.clone()); \
                     tokio::spawn(async move { let _ = dep.call(&workload.timeouts_dep).await; }); \
                     Ok(Json(Recommendation { product_id: 1, source: \"dep\" })) }",
            }],
            (10, 10),
            "recommendations.unbacked (max)",
        ),
        // The fallback's body gives `source` twice, "dep" first: a lenient
        // reader would take it for dep's answer. The runner reads it as no
        // answer, and the audit, which cannot read it, cannot vouch for it.
        wrong_fix(
            "a fallback whose body gives `source` twice, \"dep\" first",
            true,
            vec![
                Edit {
                    file: TIMEOUTS,
                    from: RECOMMEND_SIGNATURE,
                    to: "-> Result<axum::response::Response, ApiError> {",
                },
                Edit {
                    file: TIMEOUTS,
                    from: "Ok(answer) => Ok(Json(Recommendation::from_dep(&answer?))),",
                    to: "Ok(answer) => Ok(axum::response::IntoResponse::into_response(Json(Recommendation::from_dep(&answer?)))),",
                },
                Edit {
                    file: TIMEOUTS,
                    from: FALLBACK_ARM,
                    to: "Err(_deadline) => Ok(axum::response::IntoResponse::into_response(([(axum::http::header::CONTENT_TYPE, \"application/json\")], r#\"{\"product_id\":1,\"source\":\"dep\",\"source\":\"fallback\"}\"#))),",
                },
            ],
            (10, 10),
            "recommendations.unbacked (max)",
        ),
        // dep never asked: a constant "dep" answer with bytes after it.
        wrong_fix(
            "a constant answer claiming dep, with bytes after the JSON",
            false,
            vec![
                Edit {
                    file: TIMEOUTS,
                    from: RECOMMEND_SIGNATURE,
                    to: "-> Result<axum::response::Response, ApiError> {",
                },
                Edit {
                    file: TIMEOUTS,
                    from: "let answer = state.dep.call(&state.workload.timeouts_dep).await?;
    Ok(Json(Recommendation::from_dep(&answer)))",
                    to: "let _ = (&state, Recommendation::from_dep);
    Ok(axum::response::IntoResponse::into_response(([(axum::http::header::CONTENT_TYPE, \"application/json\")], \"{\\\"product_id\\\":42,\\\"source\\\":\\\"dep\\\"}\\n//cached\\n\")))",
                },
            ],
            (10, 10),
            "recommendations.unbacked (max)",
        ),
        // The brownout taken out of the workload: fast, and flagged.
        flagged(
            "the hang taken out of the workload",
            false,
            Edit {
                file: "lab/src/cli.rs",
                from: "hang_rate=0.1&",
                to: "hang_rate=0&",
            },
            "workload.timeouts_dep",
        ),
        // More dep connections hide the queue for a while: a knob, flagged.
        flagged(
            "more dep connections",
            false,
            Edit {
                file: "lab/src/cli.rs",
                from: "env = \"LAB_DEP_MAX_CONNECTIONS\", default_value_t = 32",
                to: "env = \"LAB_DEP_MAX_CONNECTIONS\", default_value_t = 512",
            },
            "knobs.dep_max_connections",
        ),
        // The dep client's cap raised in code, outside the case file.
        lab_edited(
            "the dep client's cap raised in code",
            false,
            vec![Edit {
                file: "lab/src/api/dep_client.rs",
                from: "Semaphore::new(max_connections as usize)",
                to: "Semaphore::new(4096)",
            }],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_1_timeouts_only_a_deadline_with_a_fallback_pays() {
    let rows = timeouts_rows();
    let measured = prove("timeouts", 1, &rows).await;
    assert_next_steps("timeouts", 1, &measured[0], &measured[1]);
    let row = |name: &str| {
        let index = rows.iter().position(|row| row.name == name);
        &measured[index.unwrap_or_else(|| panic!("no row {name}"))]
    };
    // The edited lab runs another exercise: another fingerprint than the
    // same run (10 s) against the scenario's workload would have.
    let hang_taken_out = row("the hang taken out of the workload");
    let edited = &hang_taken_out.summary;
    let mut timeouts = shipped().get("timeouts").expect("timeouts").clone();
    timeouts.duration = Duration::from_secs(10);
    assert_ne!(
        edited.fingerprint,
        runner::fingerprint::expected(&timeouts),
        "{edited:?}"
    );
    assert!(
        hang_taken_out
            .score_line
            .contains("FLAGGED=workload-edited"),
        "{}",
        hang_taken_out.score_line
    );
    assert!(
        (hang_taken_out.stderr).contains("next: put the workload back (workload.timeouts_dep"),
        "{}",
        hang_taken_out.stderr
    );
    let lab_edited = row("the dep client's cap raised in code");
    assert!(
        lab_edited
            .score_line
            .contains("FLAGGED=lab-edited:lab/src/api/dep_client.rs"),
        "{}",
        lab_edited.score_line
    );
    assert!(
        lab_edited
            .stderr
            .contains("next: put the lab's own files back (lab/src/api/dep_client.rs"),
        "{}",
        lab_edited.stderr
    );
}

/// Case 2's pricing call and the recording of the order, as the baseline
/// writes them.
const PRICE_THEN_RECORD: &str = "let price = state.dep.call(&state.workload.tx_dep).await?;
    let price_cents = 100 + i64::from(price.value % 900);

    let order_id = record_order(&mut tx, &order, price_cents).await?;
    tx.commit().await?;";
/// The solution's short transaction.
const SHORT_TRANSACTION: &str = "let mut conn = state.db.acquire().await?;
    let mut tx = conn.begin().await?;
    let stock = lock_stock(&mut tx, &order).await?;

    let order_id = record_order(&mut tx, &order, price_cents).await?;
    tx.commit().await?;";

fn tx_rows() -> Vec<Row> {
    vec![
        baseline(20),
        solution(20),
        // Fast because dep is never asked: the `unpriced` gate.
        wrong_fix(
            "a price never asked for",
            false,
            vec![Edit {
                file: TX,
                from: "let price = state.dep.call(&state.workload.tx_dep).await?;",
                to: "let price = crate::api::dep_client::DepAnswer { delay_ms: 0, value: 400 };",
            }],
            (10, 10),
            "orders.unpriced (max)",
        ),
        // Answered 201 with no order recorded: the `unrecorded` gate.
        wrong_fix(
            "an order answered but never recorded",
            true,
            vec![Edit {
                file: TX,
                from: "let order_id = record_order(&mut tx, &order, price_cents).await?;",
                to: "let order_id = 0;",
            }],
            (10, 10),
            "orders.unrecorded (max)",
        ),
        // No row lock, so no queue for it, but the transaction still spans
        // the pricing call: a connection held across it.
        wrong_fix(
            "FOR UPDATE removed, the pricing call still inside the transaction",
            false,
            vec![Edit {
                file: TX,
                from: "WHERE id = $1 FOR UPDATE",
                to: "WHERE id = $1",
            }],
            (10, 10),
            "orders.dep_calls_holding_db (max)",
        ),
        // A pricing service that answers at once: dep counts it.
        wrong_fix(
            "the pricing call made with a behaviour that answers at once",
            false,
            vec![Edit {
                file: TX,
                from: "state.dep.call(&state.workload.tx_dep)",
                to: "state.dep.call(&\"latency_ms=0\".parse().expect(\"a behaviour\"))",
            }],
            (10, 10),
            "orders.dep.off_workload (max)",
        ),
        // Recorded without its price and committed, priced afterwards: the
        // receipt shows dep's price, the row does not.
        wrong_fix(
            "the order recorded without its price, priced after the commit",
            false,
            vec![Edit {
                file: TX,
                from: PRICE_THEN_RECORD,
                to: "let order_id = record_order(&mut tx, &order, 0).await?;
    tx.commit().await?;
    drop(conn);
    let price = state.dep.call(&state.workload.tx_dep).await?;
    let price_cents = 100 + i64::from(price.value % 900);",
            }],
            (10, 10),
            "orders.misrecorded (max)",
        ),
        // 201 at once, the order recorded by a spawned task whose errors
        // are swallowed: the answer leaves before its order exists.
        wrong_fix(
            "201 answered at once, the order recorded in a spawned task",
            true,
            vec![Edit {
                file: TX,
                from: SHORT_TRANSACTION,
                to: "let (background, spawned) = (state.clone(), OrderRequest { product_id: order.product_id, quantity: order.quantity });
    tokio::spawn(async move {
        let Ok(mut conn) = background.db.acquire().await else { return };
        let Ok(mut tx) = conn.begin().await else { return };
        if lock_stock(&mut tx, &spawned).await.is_ok() && record_order(&mut tx, &spawned, price_cents).await.is_ok() {
            let _ = tx.commit().await;
        }
    });
    let (order_id, stock) = (0, i64::MAX);",
            }],
            (10, 10),
            "orders.unrecorded (max)",
        ),
        // The price asked and a connection taken at once: the connection is
        // held for the end of the pricing call.
        wrong_fix(
            "the pricing call and the connection's acquire joined",
            true,
            vec![Edit {
                file: TX,
                from: "let price = state.dep.call(&state.workload.tx_dep).await?;
    let price_cents = 100 + i64::from(price.value % 900);

    let mut conn = state.db.acquire().await?;",
                to: "let (price, conn) = tokio::join!(state.dep.call(&state.workload.tx_dep), async {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        state.db.acquire().await
    });
    let (price, mut conn) = (price?, conn?);
    let price_cents = 100 + i64::from(price.value % 900);",
            }],
            (10, 10),
            "orders.dep_calls_holding_db (max)",
        ),
        // A pool of its own, out of the api's sight: its connections hold
        // the lock across the pricing call unseen by `in_use` and by the
        // audit, but PostgreSQL counts them.
        wrong_fix(
            "a database pool of the case's own",
            false,
            vec![Edit {
                file: TX,
                from: "let mut conn = state.db.acquire().await?;",
                to: "static OWN: tokio::sync::OnceCell<sqlx::PgPool> = tokio::sync::OnceCell::const_new();
    let url = std::env::args().skip_while(|arg| arg != \"--database-url\").nth(1).unwrap_or_default();
    let own = OWN.get_or_init(|| async move { sqlx::PgPool::connect_lazy(&url).expect(\"a URL\") }).await;
    let mut conn = own.acquire().await?;",
            }],
            (10, 10),
            "dbstats.connections.other (max)",
        ),
        // A bigger pool lets more orders wait for the lock: a knob, flagged.
        flagged(
            "a bigger database pool",
            false,
            Edit {
                file: "lab/src/cli.rs",
                from: "env = \"LAB_DB_POOL_SIZE\", default_value_t = 10",
                to: "env = \"LAB_DB_POOL_SIZE\", default_value_t = 100",
            },
            "knobs.db_pool_size",
        ),
        // The order check taken out of the audit layer, so that the
        // spawned-task fix would pass: the layer is not the case's file.
        lab_edited(
            "the audit's order check taken out",
            true,
            vec![Edit {
                file: "lab/src/api/audit.rs",
                from: "Ok(None) => audit.unrecorded.add(1),",
                to: "Ok(None) => {}",
            }],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_2_tx_only_a_short_transaction_pays() {
    let rows = tx_rows();
    let measured = prove("tx", 2, &rows).await;
    assert_next_steps("tx", 2, &measured[0], &measured[1]);
}

/// The reference split, as `solutions/step-3.patch` writes it.
const FAST_WORKERS: &str = "let fast_workers = (workers / 4).max(1);";

fn bulkheads_rows() -> Vec<Row> {
    vec![
        baseline(20),
        solution(20),
        // Fast work is safe, slow work piles up: the `unfinished` gate.
        wrong_fix(
            "a split that starves slow jobs (6 fast, 2 slow)",
            true,
            vec![Edit {
                file: BULKHEADS,
                from: FAST_WORKERS,
                to: "let fast_workers = workers - 2;",
            }],
            (20, 10),
            "stats.jobs.slow.unfinished (max)",
        ),
        // Slow jobs get all 8 workers and fast jobs 2 more: flagged.
        flagged(
            "more workers than the lab has (2 + 8)",
            true,
            Edit {
                file: BULKHEADS,
                from: "Pool::start(\"slow\", workers - fast_workers, context)",
                to: "Pool::start(\"slow\", workers, context)",
            },
            "pools.workers",
        ),
        // A second, full-size pool for fast jobs, left out of `all()`:
        // the workers are counted where pools start them.
        Row {
            name: "a second full-size pool for fast jobs, left out of all()",
            solved: false,
            edits: vec![
                Edit {
                    file: BULKHEADS,
                    from: "    shared: Pool,\n}",
                    to: "    shared: Pool,\n    hidden: Pool,\n}",
                },
                Edit {
                    file: BULKHEADS,
                    from: "shared: Pool::start(\"shared\", workers, context),",
                    to: "shared: Pool::start(\"shared\", workers, context),
            hidden: Pool::start(\"hidden\", workers, context),",
                },
                Edit {
                    file: BULKHEADS,
                    from: "pub fn pool_for(&self, _class: JobClass) -> &Pool {",
                    to: "pub fn pool_for(&self, class: JobClass) -> &Pool {
        if class == JobClass::Fast {
            return &self.hidden;
        }",
                },
            ],
            duration: Duration::from_secs(10),
            band: Band::Flagged("pools.workers"),
            fails: None,
        },
        // Shorter slow jobs fit between the bursts: the workload, flagged.
        flagged(
            "slow jobs made short",
            false,
            Edit {
                file: "lab/src/cli.rs",
                from: "env = \"LAB_SLOW_JOB_MS\", default_value_t = 1000",
                to: "env = \"LAB_SLOW_JOB_MS\", default_value_t = 100",
            },
            "workload.slow_job_ms",
        ),
        // Latency timed from when a worker takes the job: the queue's
        // wait disappears from the figures.
        lab_edited(
            "job latency timed from dequeue instead of enqueue",
            false,
            vec![Edit {
                file: "lab/src/worker/pool.rs",
                from: "let latency = job.queued_at.elapsed();",
                to: "let latency = started.elapsed();",
            }],
        ),
        // The same edit, and the shipped hashes rewritten to match: the
        // runner compares the tree with the hashes it was compiled with.
        lab_edited(
            "slow jobs' work cut in the pool, the shipped hashes rewritten",
            false,
            vec![
                Edit {
                    file: "lab/src/worker/pool.rs",
                    from: "() = tokio::time::sleep(job.work) => true,",
                    to: "() = tokio::time::sleep(job.work.min(std::time::Duration::from_millis(5))) => true,",
                },
                Edit {
                    file: "runner/shipped-lab.sha256",
                    from: "  lab/src/worker/pool.rs",
                    to: "  lab/src/worker/pool.rs.shipped",
                },
            ],
        ),
        // Slow jobs' work cut to 5 ms where the pool runs them.
        lab_edited(
            "slow jobs' work cut to 5 ms in the pool",
            false,
            vec![Edit {
                file: "lab/src/worker/pool.rs",
                from: "() = tokio::time::sleep(job.work) => true,",
                to: "() = tokio::time::sleep(job.work.min(std::time::Duration::from_millis(5))) => true,",
            }],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_3_bulkheads_only_a_split_that_carries_both_classes_pays() {
    let rows = bulkheads_rows();
    let measured = prove("bulkheads", 3, &rows).await;
    assert_next_steps("bulkheads", 3, &measured[0], &measured[1]);
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
    // The checkout's lab and its dependencies, built as a participant's
    // first local run builds them.
    runner::local::build::build_lab(&repo_root(), None).expect("lab builds");
    let output = local_runner(&repo_root(), &folder, &marker)
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
    // The copy compiled its own `lab` and nothing else: its dependencies
    // came from the checkout's build directory.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let compiled: Vec<&str> = stderr
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("Compiling "))
        .filter(|unit| !unit.starts_with("lab "))
        .collect();
    assert!(
        stderr.contains("Compiling lab "),
        "cargo's output is read: {stderr}"
    );
    assert!(
        compiled.is_empty(),
        "the demo compiled dependencies again: {compiled:?}"
    );
    let copy = folder.join("demo/target/debug");
    assert!(copy.join("lab").is_file(), "the copy's own lab binary");
    // And the checkout's lab is still built from the checkout's code, not
    // the copy's solved one that shares its build directory.
    let checkout = runner::local::build::build_lab(&repo_root(), None).expect("lab builds");
    assert_ne!(
        std::fs::read(&checkout).expect("the checkout's lab"),
        std::fs::read(copy.join("lab")).expect("the copy's lab"),
        "the demo's solved lab must not replace the checkout's"
    );
}

/// The facilitator's answer key, `docs/ANSWER-KEY.md`, is the proof's
/// tables in words: each wrong fix, the files it edits, its band, and the
/// lesson line of the check it fails (from `scenarios.toml`). After a
/// change to a table or a lesson, write it anew:
/// `LAB_WRITE_KEY=1 cargo test -p runner --test runner answer_key`.
#[test]
fn the_answer_key_is_the_proof_tables() {
    let key = answer_key();
    let path = repo_root().join("docs/ANSWER-KEY.md");
    if std::env::var_os("LAB_WRITE_KEY").is_some() {
        std::fs::write(&path, &key).expect("write the answer key");
    }
    let shipped_key = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped_key == key,
        "docs/ANSWER-KEY.md is not the proof's tables: write it anew with \
         `LAB_WRITE_KEY=1 cargo test -p runner --test runner answer_key`\n{key}"
    );
}

fn answer_key() -> String {
    let scenarios = shipped();
    let mut out = String::from(
        "# Answer key: the wrong fixes and what the score says\n\n\
         Generated from the proof's tables (`runner/tests/runner/proof.rs`), which CI runs on \
         the real local stack: each row below is a run, and its band held. \"≤ N\" is the most \
         that change may score; \"flagged\" means the run is measured but not ranked, whatever \
         it scores. The last column is the line the terminal and the report print for the \
         check that change fails (`lesson` in `scenarios.toml`). The measured scores are in \
         CI's log and in `target/tmp/proof/<case>.md`.\n",
    );
    for (name, rows) in [
        ("timeouts", timeouts_rows()),
        ("tx", tx_rows()),
        ("bulkheads", bulkheads_rows()),
    ] {
        let scenario = scenarios.get(name).expect("a shipped scenario");
        let _ = write!(
            out,
            "\n## Case {}: {name}\n\n| what the participant did | files | band | what the run says |\n|---|---|---|---|\n",
            scenario.case
        );
        for row in &rows {
            let mut files: Vec<&str> = row.edits.iter().map(|edit| edit.file).collect();
            files.dedup();
            let says = match (row.band, row.fails) {
                (_, Some(key)) => {
                    let check = scenario.checks.iter().find(|check| check.label() == key);
                    let lesson = check.and_then(|check| check.lesson.clone());
                    let lesson = lesson.unwrap_or_else(|| panic!("{name}: no lesson for {key}"));
                    format!("`{key}` fails: {lesson}")
                }
                (Band::Flagged(key), None) => {
                    format!("`FLAGGED=workload-edited:{key}`: put the workload back")
                }
                (Band::LabEdited(file), None) => {
                    format!("`FLAGGED=lab-edited:{file}`: that file measures the run; put it back")
                }
                (Band::AtLeast(_), None) => {
                    format!("passes: `runner solve {}` applies it", scenario.case)
                }
                (_, None) => String::from("fails: the lesson, as shipped"),
            };
            let started = if row.solved && !matches!(row.band, Band::AtLeast(_)) {
                "from the reference fix: "
            } else {
                ""
            };
            let files = if files.is_empty() {
                "-".to_owned()
            } else {
                files
                    .iter()
                    .map(|file| format!("`{file}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "| {started}{} | {files} | {} | {says} |",
                row.name,
                row.band.describe()
            );
        }
    }
    out
}
