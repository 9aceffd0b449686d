//! Whether the work behind an answer really happened, counted outside the
//! case files, so that a "fix" that skips the work cannot score however
//! fast it is. The scenarios gate on these (see `scenarios.toml`):
//!
//! - `/debug/recommendations` (case 1): answers that say `"source": "dep"`
//!   against the calls dep really answered. A fallback dressed up as dep's
//!   answer shows as `unbacked`.
//! - `/debug/orders` (case 2): orders answered 201 against the rows in
//!   `orders` and the prices dep gave. An order answered without its price,
//!   or before (or without) being recorded, shows as `unpriced` or
//!   `unrecorded`.
//!
//! Answers are counted by a layer on the route, once the handler has
//! finished; rows by a count on a connection of its own; dep's answers by
//! the dep client. Honest code keeps every gap at 0 at every instant: the
//! work is done before the answer leaves the handler.

use std::{
    borrow::Cow,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    Json,
    body::{Body, to_bytes},
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, Serialize};

use super::{error::ApiError, state::AppState};
use crate::server;

/// Answers counted by a route's layer since start-up or the last reset:
/// case 1's answers that claim dep, case 2's orders answered 201.
#[derive(Debug, Default)]
pub struct Answered(AtomicU64);

impl Answered {
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add_one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the api counts, for `POST /admin/reset` to zero.
#[derive(Debug, Default)]
pub struct Audit {
    pub recommendations_from_dep: Answered,
    pub orders_answered: Answered,
}

impl Audit {
    pub fn reset(&self) {
        self.recommendations_from_dep.reset();
        self.orders_answered.reset();
    }
}

/// The JSON shape of `/debug/recommendations`.
#[derive(Debug, Serialize)]
pub struct RecommendationStats {
    /// Answers that said `"source": "dep"`.
    pub from_dep: u64,
    /// Calls dep answered.
    pub dep_answered: u64,
    /// Answers that claim dep beyond the calls dep answered.
    pub unbacked: u64,
}

/// A recommendation is a few dozen bytes. The layer reads at most this
/// much, and answers 500 for a body it could not read: nothing it cannot
/// check goes out.
const MAX_RECOMMENDATION_BYTES: usize = 64 * 1024;

/// The field of an answer the layer reads (escapes included, as the
/// runner reads it).
#[derive(Deserialize)]
struct Source<'a> {
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
}

/// The layer on `GET /cases/timeouts`: counts the answers that say they
/// came from dep. Reads the (small) body and hands it on unchanged.
pub async fn count_from_dep(
    State(audit): State<Arc<Audit>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = next.run(request).await.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_RECOMMENDATION_BYTES).await else {
        let message = "the answer could not be read to the end".to_owned();
        return server::error_response(StatusCode::INTERNAL_SERVER_ERROR, message);
    };
    let claims_dep = serde_json::from_slice::<Source>(&bytes)
        .is_ok_and(|answer| answer.source.as_deref() == Some("dep"));
    if parts.status.is_success() && claims_dep {
        audit.recommendations_from_dep.add_one();
    }
    Response::from_parts(parts, Body::from(bytes))
}

pub async fn recommendation_stats(State(state): State<AppState>) -> Json<RecommendationStats> {
    // Answers first, as for orders (below).
    let from_dep = state.audit.recommendations_from_dep.count();
    let dep_answered = state.dep.stats().answered;
    Json(RecommendationStats {
        from_dep,
        dep_answered,
        unbacked: from_dep.saturating_sub(dep_answered),
    })
}

/// The JSON shape of `/debug/orders`.
#[derive(Debug, Serialize)]
pub struct OrderStats {
    /// Orders answered 201 Created.
    pub answered: u64,
    /// Rows in `orders`, committed.
    pub recorded: u64,
    /// Calls dep (the pricing service) answered.
    pub priced: u64,
    /// Answered but not (yet) recorded: 0 when every order is committed
    /// before it is answered.
    pub unrecorded: u64,
    /// Answered without a price from dep.
    pub unpriced: u64,
}

/// The layer on `POST /cases/tx`: counts its 201 answers once the handler
/// has finished with them.
pub async fn count_orders(
    State(audit): State<Arc<Audit>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.status() == StatusCode::CREATED {
        audit.orders_answered.add_one();
    }
    response
}

pub async fn order_stats(State(state): State<AppState>) -> Result<Json<OrderStats>, ApiError> {
    // Answers first: anything answered by then is committed by then, so
    // honest code never shows a gap that is only the probe's timing.
    let answered = state.audit.orders_answered.count();
    let priced = state.dep.stats().answered;
    let recorded = state.db.orders_recorded().await?;
    Ok(Json(OrderStats {
        answered,
        recorded,
        priced,
        unrecorded: answered.saturating_sub(recorded),
        unpriced: answered.saturating_sub(priced),
    }))
}
