//! Whether the work behind an answer really happened, checked outside the
//! case files, answer by answer, so that a "fix" that skips the work cannot
//! score however fast it is. The scenarios gate on these (see
//! `scenarios.toml`):
//!
//! - `/debug/recommendations` (case 1): an answer that says
//!   `"source": "dep"` must have a dep answer behind it in the same request
//!   (see [`super::scope`]); one without is `unbacked`. So is a successful
//!   answer the layer cannot read as one JSON object with one `source`
//!   (the field given twice, bytes after the object, a compressed body):
//!   what it cannot read, it cannot vouch for.
//! - `/debug/orders` (case 2): before a 201 leaves, the layer reads the
//!   receipt and looks the order up on a connection of its own. An order
//!   answered without a dep answer in its request is `unpriced`; one not
//!   in `orders` is `unrecorded`; one recorded at another price than the
//!   receipt's is `misrecorded`. A call to dep that overlaps a database
//!   connection held by its request (and so perhaps its transaction and row
//!   lock), whichever came first, is counted in `dep_calls_holding_db`.
//! - Both carry `dep`: what dep itself says it served since the last
//!   reset, so that calls the api's counters never see (a hedge, a call
//!   made only to back a claim, another behaviour than the workload's)
//!   show too.
//!
//! Honest code keeps every gap at 0: the work is done before the answer
//! leaves the handler, and the remote call holds no connection.

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

use super::{error::ApiError, scope, state::AppState};
use crate::{
    dep::{self, behaviour::Behaviour},
    server,
};

/// A count kept by a route's layer since start-up or the last reset.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// What the layers count, for `POST /admin/reset` to zero.
#[derive(Debug, Default)]
pub struct Audit {
    recommendations: Counter,
    from_dep: Counter,
    unbacked: Counter,
    orders: Counter,
    orders_answered: Counter,
    unpriced: Counter,
    unrecorded: Counter,
    misrecorded: Counter,
    dep_calls_holding_db: Counter,
}

impl Audit {
    pub fn reset(&self) {
        for counter in [
            &self.recommendations,
            &self.from_dep,
            &self.unbacked,
            &self.orders,
            &self.orders_answered,
            &self.unpriced,
            &self.unrecorded,
            &self.misrecorded,
            &self.dep_calls_holding_db,
        ] {
            counter.reset();
        }
    }
}

/// What dep says it served since the last reset, for one case.
#[derive(Debug, Serialize)]
pub struct DepServed {
    /// Calls dep served, whatever their behaviour.
    pub calls: u64,
    /// Calls per request of the case: 1 when each request asks dep once.
    /// A hedge (the same call sent twice) or extra calls show above 1.
    pub calls_per_request: f64,
    /// Calls with another behaviour than the case's workload.
    pub off_workload: u64,
    /// Calls that drew the brownout's hang.
    pub hung: u64,
    /// Most calls dep served at once: what the api's connection cap
    /// (`--dep-max-connections`) really allowed.
    pub most_in_flight: u64,
}

impl DepServed {
    fn of(served: &dep::Stats, workload: &Behaviour, requests: u64) -> Self {
        let calls = served.calls();
        Self {
            calls,
            calls_per_request: if requests == 0 {
                0.0
            } else {
                calls as f64 / requests as f64
            },
            off_workload: calls.saturating_sub(served.calls_with(workload)),
            hung: served.hung,
            most_in_flight: served.most_in_flight,
        }
    }
}

/// The JSON shape of `/debug/recommendations`.
#[derive(Debug, Serialize)]
pub struct RecommendationStats {
    /// Requests to `/cases/timeouts`.
    pub requests: u64,
    /// Successful answers that said `"source": "dep"`, or that could not be
    /// read to say otherwise.
    pub from_dep: u64,
    /// Calls dep answered to the dep client.
    pub dep_answered: u64,
    /// Answers that said `"source": "dep"` with no dep answer in their
    /// request.
    pub unbacked: u64,
    pub dep: DepServed,
}

/// A recommendation or a receipt is a few dozen bytes. The layers read at
/// most this much, and answer 500 for a body they could not read: nothing
/// they cannot check goes out.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The field of an answer the layer reads (escapes included, as the
/// runner reads it).
#[derive(Deserialize)]
struct Source<'a> {
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
}

/// The layer on `GET /cases/timeouts`: runs the request in its own audit
/// scope and counts the answers that say they came from dep, and those of
/// them with no dep answer behind them. Reads the (small) body and hands it
/// on unchanged.
pub async fn count_from_dep(
    State(audit): State<Arc<Audit>>,
    request: Request,
    next: Next,
) -> Response {
    audit.recommendations.add(1);
    let (response, record) = scope::run(next.run(request)).await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ANSWER_BYTES).await else {
        return unreadable();
    };
    // serde_json refuses a field given twice and bytes after the object.
    let claims_dep = serde_json::from_slice::<Source>(&bytes)
        .map_or(true, |answer| answer.source.as_deref() == Some("dep"));
    if parts.status.is_success() && claims_dep {
        audit.from_dep.add(1);
        if record.dep_answers() == 0 {
            audit.unbacked.add(1);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn unreadable() -> Response {
    let message = "the answer could not be read to the end".to_owned();
    server::error_response(StatusCode::INTERNAL_SERVER_ERROR, message)
}

pub async fn recommendation_stats(
    State(state): State<AppState>,
) -> Result<Json<RecommendationStats>, ApiError> {
    // dep's count first, then the requests: every call follows its
    // request's count, so honest code never shows more calls than requests.
    let served = state.dep.served().await?;
    let audit = &state.audit;
    let requests = audit.recommendations.get();
    Ok(Json(RecommendationStats {
        requests,
        from_dep: audit.from_dep.get(),
        dep_answered: state.dep.stats().answered,
        unbacked: audit.unbacked.get(),
        dep: DepServed::of(&served, &state.workload.timeouts_dep, requests),
    }))
}

/// The JSON shape of `/debug/orders`.
#[derive(Debug, Serialize)]
pub struct OrderStats {
    /// Requests to `/cases/tx`.
    pub requests: u64,
    /// Orders answered 201 Created.
    pub answered: u64,
    /// Rows in `orders`, committed.
    pub recorded: u64,
    /// Calls dep (the pricing service) answered to the dep client.
    pub priced: u64,
    /// Orders answered with no dep answer in their request.
    pub unpriced: u64,
    /// Orders answered that were not in `orders` when their 201 left.
    pub unrecorded: u64,
    /// Orders answered whose row holds another price than the receipt.
    pub misrecorded: u64,
    /// Calls to dep that overlapped a database connection held by their
    /// request: one held when the call started, or acquired during it.
    pub dep_calls_holding_db: u64,
    pub dep: DepServed,
}

/// The fields of a receipt the layer checks.
#[derive(Deserialize)]
struct Receipt {
    order_id: i64,
    price_cents: i64,
}

/// The layer on `POST /cases/tx`: runs the request in its own audit scope
/// and, before a 201 leaves, checks that its order was priced by dep in
/// this request and is recorded at the receipt's price.
pub async fn check_orders(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let audit = &state.audit;
    audit.orders.add(1);
    let (response, record) = scope::run(next.run(request)).await;
    audit
        .dep_calls_holding_db
        .add(u64::from(record.dep_calls_holding_db()));
    if response.status() != StatusCode::CREATED {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ANSWER_BYTES).await else {
        return unreadable();
    };
    audit.orders_answered.add(1);
    if record.dep_answers() == 0 {
        audit.unpriced.add(1);
    }
    match serde_json::from_slice::<Receipt>(&bytes) {
        Ok(receipt) => match state.db.recorded_price(receipt.order_id).await {
            Ok(Some(price)) if price == receipt.price_cents => {}
            Ok(Some(_)) => audit.misrecorded.add(1),
            Ok(None) => audit.unrecorded.add(1),
            Err(error) => {
                tracing::warn!(%error, "could not check an order: counted as unrecorded");
                audit.unrecorded.add(1);
            }
        },
        Err(_) => audit.unrecorded.add(1),
    }
    Response::from_parts(parts, Body::from(bytes))
}

pub async fn order_stats(State(state): State<AppState>) -> Result<Json<OrderStats>, ApiError> {
    let served = state.dep.served().await?;
    let audit = &state.audit;
    let requests = audit.orders.get();
    Ok(Json(OrderStats {
        requests,
        answered: audit.orders_answered.get(),
        recorded: state.db.orders_recorded().await?,
        priced: state.dep.stats().answered,
        unpriced: audit.unpriced.get(),
        unrecorded: audit.unrecorded.get(),
        misrecorded: audit.misrecorded.get(),
        dep_calls_holding_db: audit.dep_calls_holding_db.get(),
        dep: DepServed::of(&served, &state.workload.tx_dep, requests),
    }))
}
