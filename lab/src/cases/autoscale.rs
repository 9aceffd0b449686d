//! Case 4: autoscaling. `GET /cases/autoscale`
//!
//! Each request burns a fixed amount of CPU: a chain of SHA-256 rounds
//! (`--autoscale-rounds`, tens of milliseconds by default). Fixed work, not a
//! fixed time, so that more CPU (more replicas) really means more throughput.
//!
//! Nothing to fix in this file: the lesson is in how the api is deployed.
//! The `LAB: STEP4 TODO` markers are in `deploy/k8s/`.

use axum::{Json, extract::State};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::{error::ApiError, state::AppState};

#[derive(Debug, Serialize)]
pub struct Crunched {
    pub rounds: u32,
    /// The last digest, hex: proof the work was done.
    pub digest: String,
}

pub async fn crunch(State(state): State<AppState>) -> Result<Json<Crunched>, ApiError> {
    let rounds = state.workload.autoscale_rounds;
    // On the blocking pool, not the async workers: a request that computes
    // for 30 ms must not stall the other requests sharing its worker thread.
    let digest = tokio::task::spawn_blocking(move || sha256_chain(rounds))
        .await
        .map_err(|error| ApiError::Internal(format!("CPU task failed: {error}")))?;
    Ok(Json(Crunched { rounds, digest }))
}

/// Hashes a 32-byte value `rounds` times, each round hashing the last digest.
pub fn sha256_chain(rounds: u32) -> String {
    let mut digest = Sha256::digest(b"resilience lab");
    for _ in 1..rounds {
        digest = Sha256::digest(digest);
    }
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}
