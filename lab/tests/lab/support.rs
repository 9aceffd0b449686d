//! What every test needs: a fresh PostgreSQL database, roles served on
//! loopback port 0, an HTTP client, and polling with a deadline.

use std::{
    future::Future,
    net::SocketAddr,
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use axum::Router;
use clap::Parser;
use lab::{
    api::AppState,
    cli::{ApiArgs, Cli, Role, WorkerArgs},
    worker::Worker,
};
use reqwest::Url;
use sqlx::{Connection, Executor, PgConnection};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// The PostgreSQL the tests use; `LAB_TEST_DATABASE_URL` overrides it.
pub fn admin_url() -> String {
    std::env::var("LAB_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own for one test, dropped when the test ends (also
/// when it fails).
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    name: String,
}

impl TestDb {
    pub async fn create() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "lab_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "tests need PostgreSQL at {} ({error}); start it or set LAB_TEST_DATABASE_URL",
                    admin_url()
                )
            });
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("create the test database");
        let mut url = Url::parse(&admin_url()).expect("admin URL parses");
        url.set_path(&name);
        Self {
            url: url.to_string(),
            name,
        }
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on async
        // work: drop the database from a thread with a runtime of its own.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url()).await?;
                admin
                    .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                    .await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// A role served on 127.0.0.1:0 in this process.
#[derive(Debug)]
pub struct Served {
    pub addr: SocketAddr,
    stop: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
}

impl Served {
    pub async fn start(app: Router, drain: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("bound address");
        let stop = CancellationToken::new();
        let server = tokio::spawn(lab::server::serve(
            listener,
            app,
            stop.clone().cancelled_owned(),
            drain,
        ));
        Self { addr, stop, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Triggers shutdown without waiting for it.
    pub fn begin_shutdown(&self) {
        self.stop.cancel();
    }

    /// Triggers shutdown and waits for the server to return.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.server.await.expect("server task did not panic")
    }
}

pub async fn dep() -> Served {
    Served::start(lab::dep::app(), Duration::from_secs(5)).await
}

/// api args as the command line would give them, plus `extra` flags.
pub fn api_args(db: &TestDb, dep: &Served, extra: &[&str]) -> ApiArgs {
    let dep_url = dep.url("/");
    let mut argv = vec![
        "lab",
        "api",
        "--database-url",
        &db.url,
        "--dep-url",
        &dep_url,
    ];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).expect("test flags parse").role {
        Role::Api(args) => *args,
        other => panic!("expected api args, got {other:?}"),
    }
}

/// An api on a fresh database, talking to `dep`.
pub async fn api(db: &TestDb, dep: &Served, extra: &[&str]) -> (Served, AppState) {
    let state = AppState::connect(&api_args(db, dep, extra))
        .await
        .expect("api connects and migrates");
    let served = Served::start(lab::api::app(state.clone()), Duration::from_secs(5)).await;
    (served, state)
}

/// An api with its own dep and database. Fields drop in order: the servers
/// first, the database last.
#[derive(Debug)]
pub struct ApiStack {
    pub api: Served,
    pub dep: Served,
    pub db: TestDb,
}

pub async fn api_stack(extra: &[&str]) -> ApiStack {
    let db = TestDb::create().await;
    let dep = dep().await;
    let (api, _) = api(&db, &dep, extra).await;
    ApiStack { api, dep, db }
}

/// A worker with the given extra flags; stop it with [`Worker::stop`].
pub async fn worker(extra: &[&str]) -> (Served, Worker) {
    let mut argv = vec!["lab", "worker"];
    argv.extend_from_slice(extra);
    let args: WorkerArgs = match Cli::try_parse_from(argv).expect("test flags parse").role {
        Role::Worker(args) => args,
        other => panic!("expected worker args, got {other:?}"),
    };
    let worker = Worker::start(&args.knobs, &args.workload);
    let served = Served::start(worker.app(), Duration::from_secs(5)).await;
    (served, worker)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub async fn get_json(url: &str) -> serde_json::Value {
    let response = client().get(url).send().await.expect("GET answers");
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response.json().await.expect("JSON body")
}

/// Waits until dep is serving exactly `calls` calls.
pub async fn dep_in_flight(dep: &Served, calls: u64) {
    eventually(Duration::from_secs(5), "dep calls in flight", || async {
        (get_json(&dep.url("/stats")).await["in_flight"] == calls).then_some(())
    })
    .await;
}

/// Polls `check` until it returns `Some`, or panics after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
