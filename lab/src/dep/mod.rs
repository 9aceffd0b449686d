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
//!
//! dep is also the one party that knows what it was asked to do, whatever
//! the caller's code says: `/stats` counts the calls it served per
//! behaviour, the calls that hung, and the most calls it served at once.
//! The api reads these for the scenarios' gates (`api/audit.rs`);
//! `POST /admin/reset` zeroes them before a run.

pub mod behaviour;

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

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
        .route("/admin/reset", post(reset))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(Arc::new(Counters::default()))
}

/// Counters behind `/stats`. Atomics, not a Mutex, where each request
/// touches them: they must not become a point of contention. The calls per
/// behaviour are a map behind a std Mutex (nothing awaits while it is held,
/// and it is held for one lookup).
#[derive(Debug, Default)]
struct Counters {
    in_flight: AtomicU64,
    most_in_flight: AtomicU64,
    completed: AtomicU64,
    abandoned: AtomicU64,
    hung: AtomicU64,
    by_behaviour: Mutex<BTreeMap<String, u64>>,
}

/// Distinct behaviours counted one by one; the calls of any more are
/// counted under [`OTHER_BEHAVIOURS`], so a caller cannot grow the map
/// without bound.
const MAX_BEHAVIOURS: usize = 64;
const OTHER_BEHAVIOURS: &str = "(other)";

/// The JSON shape of dep's `/stats`. Counters run from start-up or the
/// last `POST /admin/reset`; `in_flight` is always now.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stats {
    /// Calls being served now.
    pub in_flight: u64,
    /// Most calls served at once.
    pub most_in_flight: u64,
    /// Calls answered (successes and injected failures).
    pub completed: u64,
    /// Calls whose caller went away before the answer.
    pub abandoned: u64,
    /// Calls that drew a brownout hang (answered or abandoned).
    pub hung: u64,
    /// Calls served, by behaviour: the query string as dep reads it (see
    /// [`Behaviour`]'s `Display`), so two spellings of one behaviour count
    /// as one.
    pub by_behaviour: BTreeMap<String, u64>,
}

impl Stats {
    /// Every call served, whatever its behaviour.
    pub fn calls(&self) -> u64 {
        self.by_behaviour.values().sum()
    }

    /// Calls served with `behaviour`.
    pub fn calls_with(&self, behaviour: &Behaviour) -> u64 {
        self.by_behaviour
            .get(&behaviour.to_string())
            .copied()
            .unwrap_or(0)
    }
}

impl Counters {
    fn count_behaviour(&self, behaviour: &Behaviour) {
        let key = behaviour.to_string();
        let mut map = self
            .by_behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(calls) = map.get_mut(&key) {
            *calls += 1;
        } else if map.len() < MAX_BEHAVIOURS {
            map.insert(key, 1);
        } else {
            *map.entry(OTHER_BEHAVIOURS.to_owned()).or_default() += 1;
        }
    }
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

    counters.count_behaviour(&behaviour);
    if plan.outcome == Outcome::Hung {
        counters.hung.fetch_add(1, Ordering::Relaxed);
    }
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
    let by_behaviour = counters
        .by_behaviour
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Json(Stats {
        in_flight: counters.in_flight.load(Ordering::Relaxed),
        most_in_flight: counters.most_in_flight.load(Ordering::Relaxed),
        completed: counters.completed.load(Ordering::Relaxed),
        abandoned: counters.abandoned.load(Ordering::Relaxed),
        hung: counters.hung.load(Ordering::Relaxed),
        by_behaviour,
    })
}

/// Zeroes the counters (not the calls in flight): the api asks for this at
/// its own reset, before each run.
async fn reset(State(counters): State<Arc<Counters>>) -> Json<serde_json::Value> {
    counters
        .by_behaviour
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    for counter in [
        &counters.completed,
        &counters.abandoned,
        &counters.hung,
        &counters.most_in_flight,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
    Json(serde_json::json!({ "reset": true }))
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
        let now = counters.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        counters.most_in_flight.fetch_max(now, Ordering::Relaxed);
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
