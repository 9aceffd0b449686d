//! What every test needs: a fresh PostgreSQL database and polling with a
//! deadline (from [`lab::testing`], which the runner's tests share), roles
//! served on loopback port 0, and an HTTP client.

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use clap::Parser;
pub use lab::testing::{TestDb, eventually};
use lab::{
    api::AppState,
    cli::{ApiArgs, Cli, Role, WorkerArgs},
    worker::Worker,
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

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
