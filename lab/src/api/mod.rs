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
//! | `GET /debug/recommendations` | case 1: answers that claim dep, what dep served |
//! | `GET /debug/orders`    | case 2: orders answered, recorded, priced; dep calls |
//! | `GET /debug/workload`  | the workload parameters and knobs in force        |
//! | `POST /admin/reset`    | data back to seed values, counters zeroed         |
//!
//! There is no server-wide request timeout layer on purpose: each case owns
//! its time budget, and that is lesson 1.
//!
//! What handlers share is in [`state`]: the cases and this router both use
//! it, and the cases never import the router.

pub mod audit;
pub mod db;
pub mod dep_client;
pub mod error;
pub mod scope;
pub mod state;

use std::time::Duration;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    middleware,
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{cases, cli::ApiArgs, server};
use db::DbStats;
use dep_client::DepStats;
use error::ApiError;
pub use state::AppState;

/// How long `/readyz` waits for PostgreSQL before it says not ready.
const READY_WITHIN: Duration = Duration::from_secs(1);

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
        .route(
            "/cases/timeouts",
            get(cases::timeouts::recommend).route_layer(middleware::from_fn_with_state(
                state.audit.clone(),
                audit::count_from_dep,
            )),
        )
        .route(
            "/cases/tx",
            post(cases::tx::place_order).route_layer(middleware::from_fn_with_state(
                state.clone(),
                audit::check_orders,
            )),
        )
        .route("/cases/autoscale", get(cases::autoscale::crunch))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/debug/dbstats", get(dbstats))
        .route("/debug/depstats", get(depstats))
        .route("/debug/recommendations", get(audit::recommendation_stats))
        .route("/debug/orders", get(audit::order_stats))
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
    Json(state.db.stats().await)
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
            "autoscale_cpu_ms": workload.autoscale_cpu_ms,
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
    state.dep.reset().await?;
    state.audit.reset();
    Ok(Json(json!({ "reset": true })))
}
