//! A job and its class: what a batch is made of, what a pool runs, and what
//! the batch registry files each completion under.

use std::time::{Duration, Instant};

/// Fast jobs take milliseconds, slow ones seconds (the worker's workload
/// flags say how long).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobClass {
    Fast,
    Slow,
}

#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub batch_id: u64,
    pub class: JobClass,
    pub work: Duration,
    /// When the job was queued: its latency is measured from here.
    pub queued_at: Instant,
}
