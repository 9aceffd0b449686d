//! Case 1: timeouts and deadlines. `GET /cases/timeouts`
//!
//! The api recommends a product by asking dep. Most of dep's answers take
//! about 20 ms, but dep is in a brownout: some calls hang for seconds.
//!
//! The api may have only `--dep-max-connections` calls to dep in flight
//! (see `api/dep_client.rs`). Watch `/debug/depstats` during a run.

use axum::{Json, extract::State};
use serde::Serialize;

use crate::api::{dep_client::DepAnswer, error::ApiError, state::AppState};

/// What the endpoint answers.
#[derive(Debug, Serialize)]
pub struct Recommendation {
    pub product_id: u32,
    /// Where the recommendation came from: `dep`.
    pub source: &'static str,
}

impl Recommendation {
    fn from_dep(answer: &DepAnswer) -> Self {
        Self {
            product_id: answer.value % 100 + 1,
            source: "dep",
        }
    }
}

pub async fn recommend(State(state): State<AppState>) -> Result<Json<Recommendation>, ApiError> {
    // LAB: STEP1 TODO: this call waits as long as dep takes, with no timeout
    // and no deadline. A hung call holds one of the api's dep connections for
    // as long as it hangs; once hung calls hold them all, calls that dep would
    // answer in 20 ms queue behind them, and every request becomes slow.
    let answer = state.dep.call(&state.workload.timeouts_dep).await?;
    Ok(Json(Recommendation::from_dep(&answer)))
}
