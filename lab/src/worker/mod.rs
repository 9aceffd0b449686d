//! worker: batch jobs on worker pools (case 3, bulkheads).
//!
//! | route                 | what it is                                          |
//! |-----------------------|-----------------------------------------------------|
//! | `POST /batches`       | queue a batch: `{"fast": 20, "slow": 2}` -> 202 + id; `"spread_ms": 4000` trickles its fast jobs in |
//! | `GET /batches/{id}`   | progress and per-class completion latency           |
//! | `GET /stats`          | per pool: workers, busy, queued; per class: latency |
//! | `GET /debug/workload` | the workload parameters and knobs in force          |
//! | `POST /admin/reset`   | drop queued jobs and every batch, zero the stats    |
//! | `GET /healthz`, `GET /readyz` | alive / ready                               |
//!
//! One long-lived set of pools serves every batch. State is in memory only:
//! a restart forgets batches and queued jobs.

pub mod batches;
pub mod job;
pub mod pool;

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{
    cases::bulkheads::Pools,
    cli::{WorkerArgs, WorkerKnobs, WorkerWorkload},
    server::{self, JsonBody},
};
use batches::{BatchStatus, Batches, ClassTotals};
use job::{Job, JobClass};
use pool::{PoolContext, PoolStats};

/// Runs the worker role until `shutdown` completes.
pub async fn run(
    args: WorkerArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let worker = Worker::start(&args.knobs, &args.workload);
    let listener = server::bind(args.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, workers = args.knobs.workers, "worker listening");
    let result = server::serve(listener, worker.app(), shutdown, args.drain.timeout()).await;
    worker.stop().await;
    result
}

/// The running pools and their registry.
#[derive(Debug)]
pub struct Worker {
    state: WorkerState,
    context: PoolContext,
}

#[derive(Debug, Clone)]
struct WorkerState {
    batches: Arc<Batches>,
    pools: Arc<Pools>,
    context: PoolContext,
    /// Cancelled by a reset (and at shutdown): fast jobs still trickling
    /// in from a batch's `spread_ms` stop arriving. Replaced at each reset.
    arrivals: Arc<Mutex<CancellationToken>>,
    knobs: Arc<WorkerKnobs>,
    workload: Arc<WorkerWorkload>,
}

impl Worker {
    /// Starts the pools. Call [`Worker::stop`] to stop them.
    pub fn start(knobs: &WorkerKnobs, workload: &WorkerWorkload) -> Self {
        let batches = Arc::new(Batches::new(
            knobs.max_finished_batches as usize,
            Duration::from_secs(knobs.finished_batch_ttl_secs),
        ));
        let context = PoolContext::new(Arc::clone(&batches));
        let pools = Arc::new(Pools::start(knobs.workers, &context));
        Self {
            state: WorkerState {
                batches,
                pools,
                context: context.clone(),
                arrivals: Arc::new(Mutex::new(context.stop.child_token())),
                knobs: Arc::new(knobs.clone()),
                workload: Arc::new(workload.clone()),
            },
            context,
        }
    }

    /// The worker router, for the binary and for in-process tests.
    pub fn app(&self) -> Router {
        Router::new()
            .route("/batches", post(create_batch))
            .route("/batches/{id}", get(batch_status))
            .route("/stats", get(stats))
            .route("/debug/workload", get(workload))
            .route("/admin/reset", post(reset))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(|| async { "ready" }))
            .with_state(self.state.clone())
    }

    /// Stops every worker (mid-job if need be) and waits for them. Queued
    /// jobs are dropped: the worker keeps no state across restarts.
    pub async fn stop(self) {
        let queued: usize = self
            .state
            .pools
            .all()
            .iter()
            .map(|pool| pool.queued())
            .sum();
        if queued > 0 {
            tracing::warn!(queued, "stopping with jobs still queued; they are dropped");
        }
        self.context.stop.cancel();
        self.context.tasks.close();
        self.context.tasks.wait().await;
    }
}

#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error("{0}")]
    Invalid(String),
    #[error("batch id must be a positive whole number, got `{0}`")]
    BadId(String),
    #[error("no batch {0}: it never existed, or it finished and was evicted")]
    NotFound(u64),
    #[error(
        "the queues hold {queued} jobs and take at most {max} (--max-queued-jobs); retry later"
    )]
    QueueFull { queued: usize, max: u32 },
}

impl IntoResponse for WorkerError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadId(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::QueueFull { .. } => StatusCode::SERVICE_UNAVAILABLE,
        };
        server::error_response(status, self.to_string())
    }
}

/// `POST /batches` body. Both counts default to 0; at least one job.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBatch {
    #[serde(default)]
    fast: u32,
    #[serde(default)]
    slow: u32,
    /// The fast jobs arrive one by one over this many milliseconds, as
    /// user requests trickle in, instead of all at once; the slow jobs
    /// arrive at once, a burst. 0 (the default): every job at once.
    #[serde(default)]
    spread_ms: u64,
}

/// The longest `spread_ms`: a minute. A batch trickling in for longer is
/// almost certainly a unit mistake (seconds given as milliseconds).
const MAX_SPREAD_MS: u64 = 60_000;

#[derive(Debug, Serialize)]
struct Accepted {
    id: u64,
    fast: u32,
    slow: u32,
    status_url: String,
}

async fn create_batch(
    State(state): State<WorkerState>,
    JsonBody(batch): JsonBody<NewBatch>,
) -> Result<Response, WorkerError> {
    let jobs = u64::from(batch.fast) + u64::from(batch.slow);
    let max = state.knobs.max_jobs_per_batch;
    if jobs == 0 {
        return Err(WorkerError::Invalid(
            "a batch needs at least one job: give `fast`, `slow` or both".into(),
        ));
    }
    if jobs > u64::from(max) {
        return Err(WorkerError::Invalid(format!(
            "a batch holds at most {max} jobs (--max-jobs-per-batch), this one has {jobs}; split it"
        )));
    }
    if batch.spread_ms > MAX_SPREAD_MS {
        return Err(WorkerError::Invalid(format!(
            "spread_ms is at most {MAX_SPREAD_MS} (a minute), got {}",
            batch.spread_ms
        )));
    }
    // Checked, then queued, without a lock: two batches arriving together
    // may overshoot the bound by one batch, which is itself bounded.
    let queued: usize = state.pools.all().iter().map(|pool| pool.queued()).sum();
    let max_queued = state.knobs.max_queued_jobs;
    if queued as u64 + jobs > u64::from(max_queued) {
        return Err(WorkerError::QueueFull {
            queued,
            max: max_queued,
        });
    }

    let id = state.batches.create(batch.fast, batch.slow);
    if batch.spread_ms == 0 {
        for class in interleave(batch.fast, batch.slow) {
            state.submit(id, class);
        }
    } else {
        for _ in 0..batch.slow {
            state.submit(id, JobClass::Slow);
        }
        state.trickle(id, batch.fast, Duration::from_millis(batch.spread_ms));
    }
    let status_url = format!("/batches/{id}");
    let location = [(header::LOCATION, status_url.clone())];
    let body = Accepted {
        id,
        fast: batch.fast,
        slow: batch.slow,
        status_url,
    };
    Ok((StatusCode::ACCEPTED, location, Json(body)).into_response())
}

impl WorkerState {
    /// Queues one job of `class` for batch `id`, timed from now.
    fn submit(&self, id: u64, class: JobClass) {
        let work = match class {
            JobClass::Fast => self.workload.fast_job_ms,
            JobClass::Slow => self.workload.slow_job_ms,
        };
        self.pools.pool_for(class).submit(Job {
            batch_id: id,
            class,
            work: Duration::from_millis(work),
            queued_at: Instant::now(),
        });
    }

    /// Queues `fast` fast jobs of batch `id` evenly over `spread`, the
    /// first at once, from a task that a reset or shutdown stops.
    fn trickle(&self, id: u64, fast: u32, spread: Duration) {
        let stop = self
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let state = self.clone();
        let start = tokio::time::Instant::now();
        self.context.tasks.spawn(async move {
            for i in 0..fast {
                let at = start + spread.mul_f64(f64::from(i) / f64::from(fast));
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep_until(at) => state.submit(id, JobClass::Fast),
                }
            }
        });
    }
}

/// A batch's jobs in queue order: slow jobs spread evenly among the fast
/// ones, as mixed work arrives in practice.
fn interleave(fast: u32, slow: u32) -> impl Iterator<Item = JobClass> {
    let total = u64::from(fast) + u64::from(slow);
    (0..total).map(move |i| {
        // Job i is slow when the running share of slow jobs steps up at i.
        if (i + 1) * u64::from(slow) / total > i * u64::from(slow) / total {
            JobClass::Slow
        } else {
            JobClass::Fast
        }
    })
}

async fn batch_status(
    State(state): State<WorkerState>,
    Path(id): Path<String>,
) -> Result<Json<BatchStatus>, WorkerError> {
    let id: u64 = id.parse().map_err(|_| WorkerError::BadId(id))?;
    state
        .batches
        .status(id)
        .map(Json)
        .ok_or(WorkerError::NotFound(id))
}

/// `GET /stats`.
#[derive(Debug, Serialize)]
struct Stats {
    pools: Vec<PoolStats>,
    jobs: JobTotals,
    batches: BatchCounts,
}

#[derive(Debug, Serialize)]
struct JobTotals {
    fast: ClassTotals,
    slow: ClassTotals,
}

#[derive(Debug, Serialize)]
struct BatchCounts {
    running: usize,
    finished: usize,
}

async fn stats(State(state): State<WorkerState>) -> Json<Stats> {
    let (fast, slow) = state.batches.totals();
    let (running, finished) = state.batches.counts();
    Json(Stats {
        pools: state.pools.all().iter().map(|pool| pool.stats()).collect(),
        jobs: JobTotals { fast, slow },
        batches: BatchCounts { running, finished },
    })
}

async fn workload(State(state): State<WorkerState>) -> Json<Value> {
    let (workload, knobs) = (&state.workload, &state.knobs);
    // What the pools really started, counted where each worker starts,
    // whatever `--workers` says or the pools report: splitting the workers
    // is the lesson, adding more is not.
    let pool_workers = state.context.workers_started();
    Json(json!({
        "pools": { "workers": pool_workers },
        "workload": {
            "fast_job_ms": workload.fast_job_ms,
            "slow_job_ms": workload.slow_job_ms,
        },
        "knobs": {
            "workers": knobs.workers,
            "max_jobs_per_batch": knobs.max_jobs_per_batch,
            "max_queued_jobs": knobs.max_queued_jobs,
        },
    }))
}

async fn reset(State(state): State<WorkerState>) -> Json<Value> {
    let fresh = state.context.stop.child_token();
    std::mem::replace(
        &mut *state
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
        fresh,
    )
    .cancel();
    let dropped: usize = state.pools.all().iter().map(|pool| pool.clear()).sum();
    state.batches.clear();
    Json(json!({ "reset": true, "dropped_jobs": dropped }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_spreads_slow_jobs_evenly() {
        let order: Vec<JobClass> = interleave(6, 2).collect();
        assert_eq!(order.len(), 8);
        assert_eq!(order.iter().filter(|c| **c == JobClass::Slow).count(), 2);
        assert_eq!(order[3], JobClass::Slow);
        assert_eq!(order[7], JobClass::Slow);
        assert!(interleave(0, 3).all(|c| c == JobClass::Slow));
        assert!(interleave(3, 0).all(|c| c == JobClass::Fast));
    }
}
