//! Case 4: autoscaling. `GET /cases/autoscale`
//!
//! Each request burns a fixed amount of CPU *time* (`--autoscale-cpu-ms`,
//! 20 ms by default), measured on the thread's own CPU clock, hashing
//! SHA-256 until the clock says it is done. Fixed CPU time, not a fixed
//! number of hashes: the same request costs the same on a laptop with SHA
//! instructions and on one without (Apple Silicon under Docker runs the
//! portable code, 2.5-5x slower per hash), so one replica's capacity is its
//! CPU limit divided by 20 ms on every laptop in the room. And CPU time,
//! not wall time: a replica throttled by its CPU limit takes longer to
//! finish a request, exactly as real CPU-bound code does, so more CPU (more
//! replicas) really means more throughput.
//!
//! Every answer closes its connection (`Connection: close`). A room's users
//! arrive on connections of their own, and Kubernetes' Service balances
//! connections, not requests: one load generator's kept-alive connections
//! would stay on the pods that were there when they opened, and new
//! replicas would idle beside an overloaded first one (`runner model
//! autoscale --sticky true` shows it). A new connection per request lets
//! each one land on any ready replica, as a new user's would.
//!
//! The CPU work runs on at most as many threads at once as the api has
//! cores to run them ([`CpuSlots`]); the other requests wait their turn,
//! oldest first. More threads would not compute faster under a CPU limit,
//! they would crowd out the rest of the api: with a hundred threads
//! hashing in a 250m pod, `/healthz` waits its turn among them and misses
//! kubelet's 1 s timeout, and Kubernetes takes an overloaded pod out of
//! the Service, then restarts it. With one slot per core, a health answer
//! waits at most for the pod's next CFS period (100 ms). A request whose
//! client gave up while it waited is dropped unstarted.
//!
//! Nothing to fix in this file: the lesson is in how the api is deployed.
//! The `LAB: STEP4 TODO` markers are in `deploy/k8s/`.

use std::{sync::Arc, thread, time::Duration};

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, header},
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::api::{error::ApiError, state::AppState};

#[derive(Debug, Serialize)]
pub struct Crunched {
    /// The CPU time asked for, in milliseconds.
    pub cpu_ms: u64,
    /// How many SHA-256 rounds that took on this processor.
    pub rounds: u64,
    /// The last digest, hex: proof the work was done.
    pub digest: String,
    /// How many requests this api computes at once (its CPU slots).
    pub slots: usize,
}

pub async fn crunch(
    State(state): State<AppState>,
) -> Result<([(header::HeaderName, HeaderValue); 1], Json<Crunched>), ApiError> {
    let cpu_ms = state.workload.autoscale_cpu_ms;
    let slot = state.cpu.wait_for_one().await?;
    // On the blocking pool, not the async workers: a request that computes
    // for 20 ms must not stall the other requests sharing its worker thread.
    // The slot goes with the work: if the client gives up meanwhile, the
    // thread still computes to the end, and holds its slot until then.
    let (rounds, digest) = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        burn(Duration::from_millis(cpu_ms))
    })
    .await
    .map_err(|error| ApiError::Internal(format!("CPU task failed: {error}")))?;
    let close = [(header::CONNECTION, HeaderValue::from_static("close"))];
    Ok((
        close,
        Json(Crunched {
            cpu_ms,
            rounds,
            digest,
            slots: state.cpu.size(),
        }),
    ))
}

/// The threads case 4's CPU work may run on at once: one per core the
/// process may use. `available_parallelism` reads the cgroup's CPU quota,
/// so a pod with a 250m limit gets one slot and one with 2 CPUs two.
#[derive(Debug, Clone)]
pub struct CpuSlots {
    slots: Arc<Semaphore>,
    size: usize,
}

impl CpuSlots {
    pub fn for_this_process() -> Self {
        Self::new(thread::available_parallelism().map_or(1, usize::from))
    }

    pub fn new(slots: usize) -> Self {
        let size = slots.max(1);
        Self {
            slots: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// A slot, after the requests that asked before (tokio's semaphore is
    /// fair).
    async fn wait_for_one(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|error| ApiError::Internal(format!("CPU slots closed: {error}")))
    }
}

/// Rounds hashed between two looks at the clock: a few tens of microseconds
/// on any processor, so a request overshoots its CPU time by about that.
const ROUNDS_PER_LOOK: u64 = 256;

/// Hashes a 32-byte value, each round hashing the last digest, until this
/// thread has spent `cpu` of CPU time; returns the rounds and the last
/// digest (hex).
pub fn burn(cpu: Duration) -> (u64, String) {
    let start = thread_cpu_time();
    let mut digest = Sha256::digest(b"resilience lab");
    let mut rounds = 1;
    while thread_cpu_time().saturating_sub(start) < cpu {
        for _ in 0..ROUNDS_PER_LOOK {
            digest = Sha256::digest(digest);
        }
        rounds += ROUNDS_PER_LOOK;
    }
    (rounds, hex(&digest))
}

/// Hashes a 32-byte value `rounds` times, as [`burn`] does: the digest a
/// response's `rounds` must come with.
pub fn sha256_chain(rounds: u64) -> String {
    let mut digest = Sha256::digest(b"resilience lab");
    for _ in 1..rounds {
        digest = Sha256::digest(digest);
    }
    hex(&digest)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The CPU time this thread has used: it does not advance while the thread
/// waits for a core or is throttled by a CPU limit.
fn thread_cpu_time() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    // A CPU clock starts at zero and never runs backwards.
    Duration::try_from(time).unwrap_or_default()
}
