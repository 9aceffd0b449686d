//! A worker pool: one queue and a fixed number of workers taking jobs from it.
//!
//! How many pools there are and which jobs go where is the bulkhead case,
//! in `cases/bulkheads.rs`; this file is only the machinery.
//!
//! A job simulates I/O-bound work (a call to a slow service, a file
//! conversion): it holds its worker for its duration without using CPU.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Instant,
};

use serde::Serialize;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{batches::Batches, job::Job};

/// What every pool needs from the worker role. Built only by the worker
/// role ([`PoolContext::new`] is the worker module's alone), and shared by
/// cloning, so that every pool's workers are counted in one place.
#[derive(Debug, Clone)]
pub struct PoolContext {
    /// Where workers report finished jobs; the worker module's alone, so
    /// that only a pool's workers report them.
    pub(in crate::worker) batches: Arc<Batches>,
    /// Cancelled at shutdown: workers stop, even mid-job.
    pub stop: CancellationToken,
    /// Workers are spawned here so that shutdown can wait for them.
    pub tasks: TaskTracker,
    /// Workers started by every pool, counted where they start: what the
    /// worker really runs, whatever a pool reports of itself.
    started: Arc<AtomicU32>,
}

impl PoolContext {
    pub(in crate::worker) fn new(batches: Arc<Batches>) -> Self {
        Self {
            batches,
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
            started: Arc::default(),
        }
    }

    /// Workers started by every pool since start-up.
    pub fn workers_started(&self) -> u32 {
        self.started.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub struct Pool {
    name: &'static str,
    workers: u32,
    queue: async_channel::Sender<Job>,
    /// Kept to drain the queue on reset.
    backlog: async_channel::Receiver<Job>,
    busy: Arc<AtomicU32>,
}

/// One pool in `GET /stats`.
#[derive(Debug, Serialize)]
pub struct PoolStats {
    pub name: &'static str,
    pub workers: u32,
    /// Workers running a job now.
    pub busy: u32,
    /// Jobs waiting for a worker.
    pub queued: usize,
}

impl Pool {
    /// Starts `workers` workers on one shared queue.
    ///
    /// The queue is unbounded here; the worker role refuses batches that
    /// would take all queues past `--max-queued-jobs`, which bounds it.
    pub fn start(name: &'static str, workers: u32, context: &PoolContext) -> Self {
        let (queue, backlog) = async_channel::unbounded::<Job>();
        let busy = Arc::new(AtomicU32::new(0));
        for _ in 0..workers {
            context.started.fetch_add(1, Ordering::Relaxed);
            let jobs = backlog.clone();
            let busy = Arc::clone(&busy);
            let context = context.clone();
            context.tasks.clone().spawn(async move {
                loop {
                    let job = tokio::select! {
                        () = context.stop.cancelled() => break,
                        job = jobs.recv() => match job {
                            Ok(job) => job,
                            Err(_) => break,
                        },
                    };
                    busy.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let finished = tokio::select! {
                        () = context.stop.cancelled() => false,
                        () = tokio::time::sleep(job.work) => true,
                    };
                    busy.fetch_sub(1, Ordering::Relaxed);
                    if !finished {
                        break;
                    }
                    let latency = job.queued_at.elapsed();
                    context.batches.complete(&job, latency, started.elapsed());
                }
            });
        }
        Self {
            name,
            workers,
            queue,
            backlog,
            busy,
        }
    }

    /// Queues a job. Never waits: the queue is unbounded (see [`Pool::start`]).
    pub fn submit(&self, job: Job) {
        // Sending fails only if every receiver is gone, and the pool itself
        // holds one, so this cannot fail while the pool exists.
        let _ = self.queue.try_send(job);
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Drops every queued job; returns how many.
    pub fn clear(&self) -> usize {
        std::iter::from_fn(|| self.backlog.try_recv().ok()).count()
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            name: self.name,
            workers: self.workers,
            busy: self.busy.load(Ordering::Relaxed),
            queued: self.queued(),
        }
    }
}
