//! Case 3: bulkheads. Served by the worker: `POST /batches`, `GET /stats`.
//!
//! A batch holds fast jobs (milliseconds) and slow jobs (seconds). The
//! worker has `--workers` workers in total; this file decides how they are
//! organised into pools and which pool runs which job.
//!
//! Watch `GET /stats` during a run: busy workers and queue depth per pool,
//! and the completion latency of fast and slow jobs.

use crate::worker::{
    job::JobClass,
    pool::{Pool, PoolContext},
};

/// The worker's pools.
#[derive(Debug)]
pub struct Pools {
    shared: Pool,
}

impl Pools {
    // LAB: STEP3 TODO: one pool runs every job. When a burst of slow jobs
    // arrives, they occupy every worker, and a fast job queued behind them
    // waits a whole slow job (a second) for work that takes milliseconds.
    // Nothing stops one class of work from starving the other.
    pub fn start(workers: u32, context: &PoolContext) -> Self {
        Self {
            shared: Pool::start("shared", workers, context),
        }
    }

    /// The pool that runs jobs of `class`.
    pub fn pool_for(&self, _class: JobClass) -> &Pool {
        &self.shared
    }

    /// Every pool, for stats and reset.
    pub fn all(&self) -> Vec<&Pool> {
        vec![&self.shared]
    }
}
