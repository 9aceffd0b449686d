//! api: the case endpoints, on PostgreSQL and dep.
//!
//! | route                  | what it is                                        |
//! |------------------------|---------------------------------------------------|
//! | `GET /cases/timeouts`  | case 1: a recommendation from dep                 |
//! | `POST /cases/tx`       | case 2: an order, priced by dep, stock in the DB  |
//! | `GET /cases/autoscale` | case 4: CPU-heavy work                            |
//! | `GET /healthz`         | alive (no dependencies checked)                   |
//! | `GET /readyz`          | ready: PostgreSQL answers                         |
//! | `GET /debug/dbstats`   | DB pool use and waits                             |
//! | `GET /debug/depstats`  | dep client slots in use and waiters               |
//! | `GET /debug/workload`  | the workload parameters and knobs in force        |
//! | `POST /admin/reset`    | data back to seed values, counters zeroed         |
//!
//! There is no server-wide request timeout layer on purpose: each case owns
//! its time budget, and that is lesson 1.

pub mod db;
pub mod dep_client;
pub mod error;

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{
    cases,
    cli::{ApiArgs, ApiKnobs, ApiWorkload},
    server,
};
use db::{Db, DbStats};
use dep_client::{DepClient, DepStats};
use error::ApiError;

/// How long start-up keeps retrying an unreachable PostgreSQL before it
/// gives up (hard-coded: long enough for a database pod to start, short
/// enough that a wrong DATABASE_URL is reported within the minute).
const MIGRATE_RETRY_FOR: Duration = Duration::from_secs(30);

/// How long `/readyz` waits for PostgreSQL before it says not ready.
const READY_WITHIN: Duration = Duration::from_secs(1);

/// What every handler can reach. Cloned per request (all fields are cheap
/// handles), so handlers take `State<AppState>`.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub dep: DepClient,
    pub knobs: Arc<ApiKnobs>,
    pub workload: Arc<ApiWorkload>,
}

impl AppState {
    /// Connects to PostgreSQL (migrating it) and prepares the dep client.
    pub async fn connect(args: &ApiArgs) -> anyhow::Result<Self> {
        let db = Db::connect(&args.database_url, &args.knobs)?;
        db.migrate(MIGRATE_RETRY_FOR).await?;
        let dep = DepClient::new(&args.dep_url, args.knobs.dep_max_connections)?;
        Ok(Self {
            db,
            dep,
            knobs: Arc::new(args.knobs.clone()),
            workload: Arc::new(args.workload.clone()),
        })
    }
}

/// Runs the api role until `shutdown` completes.
pub async fn run(
    args: ApiArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::connect(&args).await?;
    let listener = server::bind(args.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, dep = %args.dep_url, "api listening");
    let result = server::serve(listener, app(state.clone()), shutdown, args.drain.timeout()).await;
    state.db.close().await;
    result
}

/// The api router, for the binary and for in-process tests.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/cases/timeouts", get(cases::timeouts::recommend))
        .route("/cases/tx", post(cases::tx::place_order))
        .route("/cases/autoscale", get(cases::autoscale::crunch))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/debug/dbstats", get(dbstats))
        .route("/debug/depstats", get(depstats))
        .route("/debug/workload", get(workload))
        .route("/admin/reset", post(reset))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.is_ready(READY_WITHIN).await {
        (StatusCode::OK, "ready")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "PostgreSQL does not answer",
        )
    }
}

async fn dbstats(State(state): State<AppState>) -> Json<DbStats> {
    Json(state.db.stats())
}

async fn depstats(State(state): State<AppState>) -> Json<DepStats> {
    Json(state.dep.stats())
}

async fn workload(State(state): State<AppState>) -> Json<Value> {
    let (workload, knobs) = (&state.workload, &state.knobs);
    Json(json!({
        "workload": {
            "timeouts_dep": workload.timeouts_dep.to_string(),
            "tx_dep": workload.tx_dep.to_string(),
            "autoscale_rounds": workload.autoscale_rounds,
        },
        "knobs": {
            "db_pool_size": knobs.db_pool_size,
            "db_acquire_timeout_ms": knobs.db_acquire_timeout_ms,
            "dep_max_connections": knobs.dep_max_connections,
        },
    }))
}

async fn reset(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.db.reset().await?;
    Ok(Json(json!({ "reset": true })))
}
