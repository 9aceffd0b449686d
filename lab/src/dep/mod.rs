//! dep: the dependency simulator the cases call.
//!
//! `GET /work` answers after a delay, a brownout hang or a failure chosen by
//! the query string (see [`behaviour`]). It must never be the bottleneck: a
//! trivial call costs about as much as a plain "hello" route, it keeps no
//! per-request logs, and a waiting call is a timer, not a thread.
//!
//! When the caller goes away (a client timeout closes the connection), hyper
//! drops the handler's future, which stops the wait: dep does no work for
//! callers that are gone. `/stats` counts such abandoned calls, so tests and
//! participants can see that a timeout in the caller really frees dep.

pub mod behaviour;

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;

use crate::{cli::DepArgs, server};
use behaviour::{Behaviour, BehaviourError, Outcome};

/// Runs the dep role until `shutdown` completes.
pub async fn run(
    args: DepArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = server::bind(args.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "dep listening");
    server::serve(listener, app(), shutdown, args.drain.timeout()).await
}

/// The dep router, for the binary and for in-process tests.
pub fn app() -> Router {
    Router::new()
        .route("/work", get(work))
        .route("/stats", get(stats))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(Arc::new(Counters::default()))
}

/// Counters behind `/stats`. Atomics, not a Mutex: each request touches
/// them twice and they must not become a point of contention.
#[derive(Debug, Default)]
struct Counters {
    in_flight: AtomicU64,
    completed: AtomicU64,
    abandoned: AtomicU64,
}

#[derive(Debug, Serialize)]
struct Stats {
    /// Calls being served now.
    in_flight: u64,
    /// Calls answered (successes and injected failures).
    completed: u64,
    /// Calls whose caller went away before the answer.
    abandoned: u64,
}

#[derive(Debug, Serialize)]
struct WorkDone {
    delay_ms: u64,
    outcome: &'static str,
    /// A random number, so callers have something to compute with.
    value: u32,
}

#[derive(Debug, thiserror::Error)]
enum DepError {
    #[error(transparent)]
    BadQuery(#[from] BehaviourError),
    #[error("injected failure (fail_rate)")]
    Injected(StatusCode),
}

impl IntoResponse for DepError {
    fn into_response(self) -> Response {
        let status = match self {
            DepError::BadQuery(_) => StatusCode::BAD_REQUEST,
            DepError::Injected(status) => status,
        };
        server::error_response(status, self.to_string())
    }
}

async fn work(
    State(counters): State<Arc<Counters>>,
    RawQuery(query): RawQuery,
) -> Result<Json<WorkDone>, DepError> {
    let behaviour = Behaviour::parse(query.as_deref().unwrap_or_default())?;
    let (plan, value) = {
        // The thread-local generator is not Send: draw everything before
        // the first await.
        let mut rng = rand::thread_rng();
        (behaviour.plan(&mut rng), rand::Rng::r#gen(&mut rng))
    };

    let call = InFlight::start(&counters);
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    call.finish();

    let outcome = match plan.outcome {
        Outcome::Ok => "ok",
        Outcome::Hung => "hung",
        Outcome::Fail(status) => return Err(DepError::Injected(status)),
    };
    Ok(Json(WorkDone {
        delay_ms: u64::try_from(plan.delay.as_millis()).unwrap_or(u64::MAX),
        outcome,
        value,
    }))
}

async fn stats(State(counters): State<Arc<Counters>>) -> Json<Stats> {
    Json(Stats {
        in_flight: counters.in_flight.load(Ordering::Relaxed),
        completed: counters.completed.load(Ordering::Relaxed),
        abandoned: counters.abandoned.load(Ordering::Relaxed),
    })
}

/// Counts a call while it is in flight. If the handler's future is dropped
/// before [`InFlight::finish`] (the caller went away), the drop counts the
/// call as abandoned.
struct InFlight<'a> {
    counters: &'a Counters,
    finished: bool,
}

impl<'a> InFlight<'a> {
    fn start(counters: &'a Counters) -> Self {
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        Self {
            counters,
            finished: false,
        }
    }

    fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        let outcome = if self.finished {
            &self.counters.completed
        } else {
            &self.counters.abandoned
        };
        outcome.fetch_add(1, Ordering::Relaxed);
    }
}
