//! The batch registry: each batch's progress and per-class completion
//! latency, and the worker-wide per-class latency since start-up or reset.
//!
//! A job's latency runs from when it was queued to when it finished, so
//! time spent waiting behind other jobs counts. That is what a user of the
//! batch feels, and it is where starvation shows.
//!
//! Memory stays bounded: a running batch holds one `u32` per finished job
//! (batches are capped in size and queued jobs in number), and finished
//! batches are evicted after `--finished-batch-ttl-secs` or beyond
//! `--max-finished-batches`, oldest first, whenever a batch is created or
//! finishes (no sweeper task needed).

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::job::{Job, JobClass};

/// A std Mutex, not a tokio one: nothing awaits while it is held, and every
/// critical section is a few map operations.
#[derive(Debug)]
pub struct Batches {
    inner: Mutex<Inner>,
    max_finished: usize,
    ttl: Duration,
}

#[derive(Debug)]
struct Inner {
    next_id: u64,
    batches: HashMap<u64, Batch>,
    /// Finished batches, oldest first, for eviction.
    finished: VecDeque<(u64, Instant)>,
    fast: ClassRecord,
    slow: ClassRecord,
}

/// One class of jobs, worker-wide, since start-up or reset.
#[derive(Debug)]
struct ClassRecord {
    /// Jobs queued.
    submitted: u64,
    /// Jobs that finished sooner than their work takes.
    cut_short: u64,
    /// Completion latency of every finished job, in microseconds.
    latency: Histogram<u64>,
}

#[derive(Debug)]
struct Batch {
    created: Instant,
    fast: Progress,
    slow: Progress,
    finished: bool,
}

#[derive(Debug)]
struct Progress {
    total: u32,
    /// Completion latency of each finished job, in microseconds.
    latencies_us: Vec<u32>,
}

/// `GET /batches/{id}`.
#[derive(Debug, Serialize)]
pub struct BatchStatus {
    pub id: u64,
    pub state: BatchState,
    pub age_ms: u64,
    pub fast: ClassProgress,
    pub slow: ClassProgress,
}

/// Whether every job of a batch has finished: `running` or `done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchState {
    Running,
    Done,
}

/// One class of jobs in one batch. Latencies are in milliseconds from
/// enqueue to completion, over the jobs finished so far (null before any).
#[derive(Debug, Serialize)]
pub struct ClassProgress {
    pub total: u32,
    pub done: u32,
    #[serde(flatten)]
    pub latency: Percentiles,
}

/// Worker-wide jobs of one class since start-up or reset.
#[derive(Debug, Serialize)]
pub struct ClassTotals {
    pub submitted: u64,
    pub completed: u64,
    /// Submitted and not completed: queued or running. Work that is
    /// dropped, or a pool too small for its class, makes this grow.
    pub unfinished: u64,
    /// Completed sooner than their work takes: work skipped, not done.
    pub cut_short: u64,
    #[serde(flatten)]
    pub latency: Percentiles,
}

#[derive(Debug, Default, Serialize)]
pub struct Percentiles {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// Highest latency the worker-wide histograms track: one hour, in µs.
const HISTOGRAM_MAX_US: u64 = 3_600_000_000;

impl ClassRecord {
    fn new() -> Self {
        // Three significant digits: 0.1% resolution for a few hundred KiB
        // each; there are two of them, whatever the load.
        let latency =
            Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 3).expect("constant bounds are valid");
        Self {
            submitted: 0,
            cut_short: 0,
            latency,
        }
    }

    fn clear(&mut self) {
        self.submitted = 0;
        self.cut_short = 0;
        self.latency.reset();
    }

    fn totals(&self) -> ClassTotals {
        let ms = |us: u64| us as f64 / 1000.0;
        let histogram = &self.latency;
        let latency = if histogram.is_empty() {
            Percentiles::default()
        } else {
            Percentiles {
                p50_ms: Some(ms(histogram.value_at_quantile(0.50))),
                p95_ms: Some(ms(histogram.value_at_quantile(0.95))),
                p99_ms: Some(ms(histogram.value_at_quantile(0.99))),
                max_ms: Some(ms(histogram.max())),
            }
        };
        ClassTotals {
            submitted: self.submitted,
            completed: histogram.len(),
            unfinished: self.submitted.saturating_sub(histogram.len()),
            cut_short: self.cut_short,
            latency,
        }
    }
}

impl Batches {
    pub fn new(max_finished: usize, ttl: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                next_id: 1,
                batches: HashMap::new(),
                finished: VecDeque::new(),
                fast: ClassRecord::new(),
                slow: ClassRecord::new(),
            }),
            max_finished,
            ttl,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the maps half-updated in a way that
        // matters here, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a batch and returns its id.
    pub fn create(&self, fast: u32, slow: u32) -> u64 {
        let mut inner = self.lock();
        self.evict(&mut inner);
        let id = inner.next_id;
        inner.next_id += 1;
        inner.fast.submitted += u64::from(fast);
        inner.slow.submitted += u64::from(slow);
        inner.batches.insert(
            id,
            Batch {
                created: Instant::now(),
                fast: Progress::new(fast),
                slow: Progress::new(slow),
                finished: false,
            },
        );
        id
    }

    /// Records a finished job: `latency` from its enqueue, and `ran`, how
    /// long it held its worker. Jobs of a batch that is gone (reset) are
    /// ignored, so a reset really starts from zero.
    /// The worker module's alone: only a pool's workers finish jobs.
    pub(in crate::worker) fn complete(&self, job: &Job, latency: Duration, ran: Duration) {
        let (batch_id, class) = (job.batch_id, job.class);
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let mut inner = self.lock();
        let Some(batch) = inner.batches.get_mut(&batch_id) else {
            return;
        };
        let progress = match class {
            JobClass::Fast => &mut batch.fast,
            JobClass::Slow => &mut batch.slow,
        };
        progress
            .latencies_us
            .push(u32::try_from(latency_us).unwrap_or(u32::MAX));
        let now_finished = !batch.finished && batch.fast.is_done() && batch.slow.is_done();
        if now_finished {
            batch.finished = true;
            inner.finished.push_back((batch_id, Instant::now()));
        }
        let record = match class {
            JobClass::Fast => &mut inner.fast,
            JobClass::Slow => &mut inner.slow,
        };
        (record.latency).saturating_record(latency_us.clamp(1, HISTOGRAM_MAX_US));
        if ran < job.work {
            record.cut_short += 1;
        }
        if now_finished {
            self.evict(&mut inner);
        }
    }

    pub fn status(&self, id: u64) -> Option<BatchStatus> {
        let inner = self.lock();
        let batch = inner.batches.get(&id)?;
        Some(BatchStatus {
            id,
            state: if batch.finished {
                BatchState::Done
            } else {
                BatchState::Running
            },
            age_ms: u64::try_from(batch.created.elapsed().as_millis()).unwrap_or(u64::MAX),
            fast: batch.fast.summary(),
            slow: batch.slow.summary(),
        })
    }

    /// Per-class totals since start-up or reset.
    pub fn totals(&self) -> (ClassTotals, ClassTotals) {
        let inner = self.lock();
        (inner.fast.totals(), inner.slow.totals())
    }

    /// How many batches are running and how many finished ones are kept.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        let finished = inner.finished.len();
        (inner.batches.len() - finished, finished)
    }

    /// Forgets every batch and zeroes the totals. Batch ids keep counting up,
    /// so an id from before the reset never names a new batch.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.batches.clear();
        inner.finished.clear();
        inner.fast.clear();
        inner.slow.clear();
    }

    fn evict(&self, inner: &mut Inner) {
        while let Some(&(id, finished_at)) = inner.finished.front() {
            if inner.finished.len() <= self.max_finished && finished_at.elapsed() < self.ttl {
                break;
            }
            inner.finished.pop_front();
            inner.batches.remove(&id);
        }
    }
}

impl Progress {
    fn new(total: u32) -> Self {
        Self {
            total,
            latencies_us: Vec::new(),
        }
    }

    fn done(&self) -> u32 {
        u32::try_from(self.latencies_us.len()).unwrap_or(u32::MAX)
    }

    fn is_done(&self) -> bool {
        self.done() >= self.total
    }

    fn summary(&self) -> ClassProgress {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let at = |quantile: f64| -> Option<f64> {
            // Nearest rank: the smallest value with at least `quantile` of
            // the values at or below it.
            let rank = (quantile * sorted.len() as f64).ceil() as usize;
            sorted
                .get(rank.saturating_sub(1))
                .map(|&us| f64::from(us) / 1000.0)
        };
        ClassProgress {
            total: self.total,
            done: self.done(),
            latency: Percentiles {
                p50_ms: at(0.50),
                p95_ms: at(0.95),
                p99_ms: at(0.99),
                max_ms: sorted.last().map(|&us| f64::from(us) / 1000.0),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// A job of `batch_id` whose work is 1 ms.
    fn job(batch_id: u64, class: JobClass) -> Job {
        Job {
            batch_id,
            class,
            work: ms(1),
            queued_at: Instant::now(),
        }
    }

    #[test]
    fn a_job_that_did_not_hold_its_worker_for_its_work_is_cut_short() {
        let batches = Batches::new(10, Duration::from_secs(60));
        let id = batches.create(0, 2);
        let slow = Job {
            work: ms(1000),
            ..job(id, JobClass::Slow)
        };
        batches.complete(&slow, ms(1500), ms(1000));
        batches.complete(&slow, ms(20), ms(5));
        let (_, slow) = batches.totals();
        assert_eq!((slow.completed, slow.cut_short), (2, 1));
    }

    #[test]
    fn a_batch_finishes_when_every_job_is_done() {
        let batches = Batches::new(10, Duration::from_secs(60));
        let id = batches.create(2, 1);
        batches.complete(&job(id, JobClass::Fast), ms(10), ms(10));
        batches.complete(&job(id, JobClass::Slow), ms(500), ms(500));
        assert_eq!(
            batches.status(id).map(|s| s.state),
            Some(BatchState::Running)
        );
        batches.complete(&job(id, JobClass::Fast), ms(30), ms(30));
        let status = batches.status(id).expect("batch is kept");
        assert_eq!(status.state, BatchState::Done);
        assert_eq!(status.fast.done, 2);
        assert_eq!(status.fast.latency.p50_ms, Some(10.0));
        assert_eq!(status.fast.latency.max_ms, Some(30.0));
        assert_eq!(status.slow.latency.p99_ms, Some(500.0));
    }

    #[test]
    fn finished_batches_beyond_the_cap_are_evicted_oldest_first() {
        let batches = Batches::new(2, Duration::from_secs(60));
        let ids: Vec<u64> = (0..3)
            .map(|_| {
                let id = batches.create(1, 0);
                batches.complete(&job(id, JobClass::Fast), ms(1), ms(1));
                id
            })
            .collect();
        assert!(
            batches.status(ids[0]).is_none(),
            "oldest finished batch evicted"
        );
        assert!(batches.status(ids[1]).is_some());
        assert!(batches.status(ids[2]).is_some());
        assert_eq!(batches.counts(), (0, 2));
    }

    #[test]
    fn finished_batches_older_than_the_ttl_are_evicted() {
        let batches = Batches::new(100, Duration::ZERO);
        let old = batches.create(1, 0);
        batches.complete(&job(old, JobClass::Fast), ms(1), ms(1));
        let running = batches.create(1, 0);
        assert!(batches.status(old).is_none());
        assert!(
            batches.status(running).is_some(),
            "running batches are never evicted"
        );
    }

    #[test]
    fn jobs_of_a_cleared_batch_are_ignored() {
        let batches = Batches::new(10, Duration::from_secs(60));
        let id = batches.create(1, 0);
        batches.clear();
        batches.complete(&job(id, JobClass::Fast), ms(1), ms(1));
        assert_eq!(batches.totals().0.completed, 0);
        assert!(
            batches.create(1, 0) > id,
            "ids are not reused after a reset"
        );
    }
}
