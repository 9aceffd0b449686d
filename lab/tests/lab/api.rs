//! api: every endpoint, its bad inputs, and how each baseline case fails.

use std::time::{Duration, Instant};

use lab::{
    api::{AppState, db::Db, dep_client::DepClient},
    cases::autoscale::sha256_chain,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{self, Served, TestDb, eventually, get_json};

const SEED_STOCK: i64 = 100_000_000;

async fn post_order(api: &Served, body: Value) -> reqwest::Response {
    support::client()
        .post(api.url("/cases/tx"))
        .json(&body)
        .send()
        .await
        .expect("api answers")
}

#[tokio::test]
async fn health_readiness_and_debug_endpoints_answer() {
    let stack = support::api_stack(&["--db-pool-size", "4"]).await;
    let api = &stack.api;

    let health = support::client()
        .get(api.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let ready = support::client()
        .get(api.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);

    let stats = get_json(&api.url("/debug/dbstats")).await;
    assert_eq!(stats["max"], 4);
    for field in [
        "in_use",
        "idle",
        "acquires",
        "waited",
        "timeouts",
        "wait_total_ms",
        "wait_max_ms",
    ] {
        assert!(stats[field].is_number(), "dbstats lacks {field}: {stats}");
    }
    // Counted by PostgreSQL: the migrations and the readiness check opened
    // a connection or two of the request pool, and nothing else connects.
    let api_connections = stats["connections"]["api"].as_i64();
    assert!(
        api_connections.is_some_and(|open| (1..=4).contains(&open)),
        "{stats}"
    );
    assert_eq!(stats["connections"]["other"], 0, "{stats}");
    let depstats = get_json(&api.url("/debug/depstats")).await;
    assert_eq!(
        depstats,
        json!({ "max": 32, "in_use": 0, "waiting": 0, "answered": 0 })
    );

    let workload = get_json(&api.url("/debug/workload")).await;
    assert_eq!(
        workload["workload"]["timeouts_dep"],
        "latency_ms=20&dist=lognormal&sigma=0.5&hang_rate=0.1&hang_ms=10000"
    );
    assert_eq!(workload["knobs"]["db_pool_size"], 4);
}

#[tokio::test]
async fn readyz_is_503_when_postgres_is_unreachable() {
    let db = TestDb::create().await;
    let dep = support::dep().await;
    let mut args = support::api_args(&db, &dep, &[]);
    // A port nothing listens on: bind one, then free it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    args.database_url = format!("postgres://postgres@{closed}/nowhere");
    let state = AppState {
        db: Db::connect(&args.database_url, &args.knobs).expect("URL parses"),
        dep: DepClient::new(&args.dep_url, 4).expect("dep client"),
        knobs: args.knobs.clone().into(),
        workload: args.workload.clone().into(),
        audit: Default::default(),
        cpu: lab::cases::autoscale::CpuSlots::new(1),
    };
    let api = Served::start(lab::api::app(state), Duration::from_secs(1)).await;
    let started = Instant::now();
    let ready = support::client()
        .get(api.url("/readyz"))
        .send()
        .await
        .expect("readyz answers");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_bad_database_url_is_explained() {
    let db = TestDb::create().await;
    let dep = support::dep().await;
    let mut args = support::api_args(&db, &dep, &[]);
    args.database_url = "mysql://localhost/lab".into();
    let error = AppState::connect(&args)
        .await
        .expect_err("not a PostgreSQL URL");
    assert!(format!("{error:#}").contains("DATABASE_URL"), "{error:#}");
}

#[tokio::test]
async fn timeouts_case_answers_from_dep() {
    let stack = support::api_stack(&["--timeouts-dep", "latency_ms=5"]).await;
    let api = &stack.api;
    let body = get_json(&api.url("/cases/timeouts")).await;
    assert_eq!(body["source"], "dep");
    assert!(
        body["product_id"]
            .as_u64()
            .is_some_and(|id| (1..=100).contains(&id))
    );
    // What case 1's gates read: one answer claims dep, and dep gave one in
    // its request; dep served one call, with the workload's behaviour.
    assert_eq!(
        get_json(&api.url("/debug/recommendations")).await,
        json!({
            "requests": 1, "from_dep": 1, "dep_answered": 1, "unbacked": 0,
            "dep": { "calls": 1, "calls_per_request": 1.0, "off_workload": 0, "hung": 0, "most_in_flight": 1 },
        })
    );
}

#[tokio::test]
async fn timeouts_baseline_waits_as_long_as_the_hang() {
    let stack = support::api_stack(&["--timeouts-dep", "hang_rate=1&hang_ms=1500"]).await;
    let api = &stack.api;
    let started = Instant::now();
    let response = support::client()
        .get(api.url("/cases/timeouts"))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "no timeout: the hang is felt in full"
    );
}

#[tokio::test]
async fn timeouts_baseline_queues_calls_behind_slow_ones() {
    let stack = support::api_stack(&[
        "--dep-max-connections",
        "1",
        "--timeouts-dep",
        "latency_ms=800",
    ])
    .await;
    let api = &stack.api;
    let started = Instant::now();
    let first = tokio::spawn(support::client().get(api.url("/cases/timeouts")).send());
    let second = tokio::spawn(support::client().get(api.url("/cases/timeouts")).send());
    let depstats = eventually(
        Duration::from_secs(2),
        "a caller waiting for a dep slot",
        || async {
            let stats = get_json(&api.url("/debug/depstats")).await;
            (stats["waiting"] == 1).then_some(stats)
        },
    )
    .await;
    assert_eq!(depstats["in_use"], 1);
    for request in [first, second] {
        assert_eq!(
            request.await.expect("task").expect("answer").status(),
            StatusCode::OK
        );
    }
    // dep answers each call in 800 ms; the second waited for the first.
    assert!(
        started.elapsed() >= Duration::from_millis(1600),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_failing_dep_is_a_502_that_says_so() {
    let stack = support::api_stack(&["--timeouts-dep", "fail_rate=1&fail_status=503"]).await;
    let api = &stack.api;
    let response = support::client()
        .get(api.url("/cases/timeouts"))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body: Value = response.json().await.expect("JSON error");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("dep answered 503")),
        "{body}"
    );
}

#[tokio::test]
async fn tx_case_places_orders_and_takes_stock() {
    let stack = support::api_stack(&["--tx-dep", "latency_ms=1"]).await;
    let (api, db) = (&stack.api, &stack.db);
    for (n, quantity) in [(1, 2), (2, 3)] {
        let response = post_order(api, json!({ "product_id": 1, "quantity": quantity })).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let receipt: Value = response.json().await.expect("receipt");
        assert_eq!(receipt["order_id"], n);
        assert!(
            receipt["price_cents"]
                .as_i64()
                .is_some_and(|p| (100..1000).contains(&p))
        );
    }
    let mut conn = db.connect().await;
    let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = 1")
        .fetch_one(&mut conn)
        .await
        .expect("stock");
    assert_eq!(stock, SEED_STOCK - 5);
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(orders, 2);
    // What case 2's gates read: both orders answered, each priced by dep in
    // its request and recorded at its price before its 201 left; the
    // baseline calls dep while it holds a connection, twice.
    assert_eq!(
        get_json(&api.url("/debug/orders")).await,
        json!({
            "requests": 2, "answered": 2, "recorded": 2, "priced": 2,
            "unpriced": 0, "unrecorded": 0, "misrecorded": 0, "dep_calls_holding_db": 2,
            "dep": { "calls": 2, "calls_per_request": 1.0, "off_workload": 0, "hung": 0, "most_in_flight": 1 },
        })
    );
}

#[tokio::test]
async fn tx_case_rejects_bad_orders_with_clear_errors() {
    let stack = support::api_stack(&["--tx-dep", "latency_ms=1"]).await;
    let (api, db) = (&stack.api, &stack.db);
    let client = support::client();

    let malformed = client
        .post(api.url("/cases/tx"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answer");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let not_json = client
        .post(api.url("/cases/tx"))
        .body("product_id=1")
        .send()
        .await
        .expect("answer");
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    for (body, status, says) in [
        (
            json!({ "product_id": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity",
        ),
        (
            json!({ "product_id": 1, "quantity": 1, "coupon": "x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "coupon",
        ),
        (
            json!({ "product_id": 1, "quantity": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity must be from 1 to 100",
        ),
        (
            json!({ "product_id": "one", "quantity": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "product_id",
        ),
        (
            json!({ "product_id": 42, "quantity": 1 }),
            StatusCode::NOT_FOUND,
            "no product with id 42",
        ),
    ] {
        let response = post_order(api, body.clone()).await;
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.expect("JSON error");
        let message = error["error"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}: {message}");
    }

    let mut conn = db.connect().await;
    sqlx::query("UPDATE products SET stock = 1 WHERE id = 2")
        .execute(&mut conn)
        .await
        .expect("update");
    let response = post_order(api, json!({ "product_id": 2, "quantity": 2 })).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn tx_baseline_holds_the_hot_row_and_a_connection_across_the_dep_call() {
    let stack = support::api_stack(&[
        "--db-pool-size",
        "2",
        "--db-acquire-timeout-ms",
        "10000",
        "--tx-dep",
        "latency_ms=300",
    ])
    .await;
    let api = &stack.api;
    let started = Instant::now();
    let orders: Vec<_> = (0..5)
        .map(|_| tokio::spawn(post_order_owned(api.url("/cases/tx"))))
        .collect();
    for order in orders {
        assert_eq!(order.await.expect("task"), StatusCode::CREATED);
    }
    // The dep call sits inside the lock, so the orders run one at a time.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500),
        "orders serialised on the hot row: {took:?}"
    );
    let stats = get_json(&api.url("/debug/dbstats")).await;
    assert!(stats["waited"].as_u64().is_some_and(|n| n >= 3), "{stats}");
    assert!(
        stats["wait_max_ms"].as_f64().is_some_and(|ms| ms >= 300.0),
        "{stats}"
    );
}

async fn post_order_owned(url: String) -> StatusCode {
    support::client()
        .post(url)
        .json(&json!({ "product_id": 1, "quantity": 1 }))
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or(StatusCode::IM_A_TEAPOT)
}

#[tokio::test]
async fn tx_pool_exhaustion_is_a_503_that_points_at_dbstats() {
    let stack = support::api_stack(&[
        "--db-pool-size",
        "1",
        "--db-acquire-timeout-ms",
        "200",
        "--tx-dep",
        "latency_ms=1500",
    ])
    .await;
    let api = &stack.api;
    let holder = tokio::spawn(post_order_owned(api.url("/cases/tx")));
    eventually(
        Duration::from_secs(2),
        "the first order to hold the connection",
        || async { (get_json(&api.url("/debug/dbstats")).await["in_use"] == 1).then_some(()) },
    )
    .await;
    let response = post_order(api, json!({ "product_id": 1, "quantity": 1 })).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let error: Value = response.json().await.expect("JSON error");
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("/debug/dbstats")),
        "{error}"
    );
    assert_eq!(holder.await.expect("task"), StatusCode::CREATED);
    assert_eq!(get_json(&api.url("/debug/dbstats")).await["timeouts"], 1);
}

#[tokio::test]
async fn abandoned_orders_release_their_lock_and_connection() {
    let stack = support::api_stack(&["--db-pool-size", "3", "--tx-dep", "latency_ms=20000"]).await;
    let (api, dep, db) = (&stack.api, &stack.dep, &stack.db);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let attempts: Vec<_> = (0..3)
        .map(|_| {
            let request = impatient
                .post(api.url("/cases/tx"))
                .json(&json!({ "product_id": 1, "quantity": 1 }))
                .send();
            tokio::spawn(request)
        })
        .collect();
    for attempt in attempts {
        assert!(attempt.await.expect("task").is_err(), "the client gives up");
    }

    // Within moments, not after dep's 20 s: connections back, dep idle.
    eventually(
        Duration::from_secs(5),
        "connections to come back to the pool",
        || async { (get_json(&api.url("/debug/dbstats")).await["in_use"] == 0).then_some(()) },
    )
    .await;
    eventually(
        Duration::from_secs(5),
        "dep to drop the abandoned calls",
        || async { (get_json(&dep.url("/stats")).await["in_flight"] == 0).then_some(()) },
    )
    .await;
    let mut conn = db.connect().await;
    let unlocked = sqlx::query("SELECT stock FROM products WHERE id = 1 FOR UPDATE NOWAIT")
        .fetch_one(&mut conn)
        .await
        .expect("the hot row is not locked any more");
    assert_eq!(
        unlocked.get::<i64, _>("stock"),
        SEED_STOCK,
        "nothing was sold"
    );
}

#[tokio::test]
async fn autoscale_case_shows_the_work_it_did() {
    let stack = support::api_stack(&["--autoscale-cpu-ms", "2"]).await;
    let response = support::client()
        .get(stack.api.url("/cases/autoscale"))
        .send()
        .await
        .expect("GET answers");
    let body: Value = response.json().await.expect("a JSON answer");
    assert_eq!(body["cpu_ms"], 2);
    let rounds = body["rounds"].as_u64().expect("rounds is a number");
    assert!(rounds > 1, "2 ms of CPU hashes more than once: {body}");
    assert_eq!(body["digest"], sha256_chain(rounds));
    assert_ne!(sha256_chain(rounds), sha256_chain(rounds - 1));
}

/// A new connection per request, so that each can land on any replica: the
/// api closes a kept-alive HTTP/1.1 connection after its answer.
#[tokio::test]
async fn autoscale_answers_close_their_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stack = support::api_stack(&["--autoscale-cpu-ms", "1"]).await;
    let mut stream = tokio::net::TcpStream::connect(stack.api.addr)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /cases/autoscale HTTP/1.1\r\nhost: lab\r\nconnection: keep-alive\r\n\r\n")
        .await
        .expect("send");
    let mut answer = Vec::new();
    // Ends only if the api closes the connection.
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the api closed the connection after its answer")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
}

#[tokio::test]
async fn reset_restores_seed_values_and_zeroes_the_counters() {
    let stack = support::api_stack(&["--tx-dep", "latency_ms=1"]).await;
    let (api, db) = (&stack.api, &stack.db);
    let response = post_order(api, json!({ "product_id": 3, "quantity": 7 })).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let reset = support::client()
        .post(api.url("/admin/reset"))
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), StatusCode::OK);

    let mut conn = db.connect().await;
    let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = 3")
        .fetch_one(&mut conn)
        .await
        .expect("stock");
    assert_eq!(stock, SEED_STOCK);
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(orders, 0);
    assert_eq!(get_json(&api.url("/debug/dbstats")).await["acquires"], 0);
    assert_eq!(
        get_json(&api.url("/debug/orders")).await,
        json!({
            "requests": 0, "answered": 0, "recorded": 0, "priced": 0,
            "unpriced": 0, "unrecorded": 0, "misrecorded": 0, "dep_calls_holding_db": 0,
            "dep": { "calls": 0, "calls_per_request": 0.0, "off_workload": 0, "hung": 0, "most_in_flight": 0 },
        }),
        "the api's counters and dep's own are zeroed"
    );
    let receipt: Value = post_order(api, json!({ "product_id": 3, "quantity": 1 }))
        .await
        .json()
        .await
        .expect("receipt");
    assert_eq!(receipt["order_id"], 1, "order ids restart after a reset");
}

#[tokio::test]
async fn migrations_are_idempotent_and_safe_when_replicas_start_together() {
    let db = TestDb::create().await;
    let dep = support::dep().await;
    let args = support::api_args(&db, &dep, &[]);
    let replicas: Vec<_> = (0..3)
        .map(|_| {
            let db = Db::connect(&args.database_url, &args.knobs).expect("URL parses");
            tokio::spawn(async move { db.migrate(Duration::from_secs(5)).await })
        })
        .collect();
    for replica in replicas {
        replica.await.expect("task").expect("migration succeeds");
    }
    let again = Db::connect(&args.database_url, &args.knobs).expect("URL parses");
    again
        .migrate(Duration::from_secs(5))
        .await
        .expect("a second start migrates nothing");
    let mut conn = db.connect().await;
    let products: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(products, 3);
}

/// Case 4's CPU work runs in the api's CPU slots, oldest first; a request
/// whose client gave up while it waited for a slot is dropped unstarted,
/// so the next one does not wait for work nobody wants.
#[tokio::test]
async fn autoscale_drops_a_request_whose_client_left_while_it_waited() {
    let db = TestDb::create().await;
    let dep = support::dep().await;
    let args = support::api_args(&db, &dep, &["--autoscale-cpu-ms", "400"]);
    let mut state = AppState::connect(&args).await.expect("api connects");
    state.cpu = lab::cases::autoscale::CpuSlots::new(1);
    let api = Served::start(lab::api::app(state), Duration::from_secs(5)).await;
    let url = api.url("/cases/autoscale");
    let first = tokio::spawn(support::client().get(&url).send());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let gave_up = support::client()
        .get(&url)
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(gave_up.is_err(), "the second request waited for the slot");
    let started = Instant::now();
    let third = support::client().get(&url).send().await.expect("answers");
    assert!(third.status().is_success());
    // The first request's rest (about 250 ms), then the third's 400 ms; had
    // the abandoned second one run, another 400 ms before it.
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(900),
        "the third request waited {waited:?}: the abandoned one ran"
    );
    assert!(
        first
            .await
            .expect("task")
            .expect("answers")
            .status()
            .is_success()
    );
}
