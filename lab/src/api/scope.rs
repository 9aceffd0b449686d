//! What one request did, seen from outside the case files: the dep answers
//! it got, and the dep calls that overlapped a database connection it held
//! (a connection held when the call started, or acquired while the call
//! was in flight: `tokio::join!` of the two is still a remote call inside
//! a held connection).
//!
//! The audit layers (`api/audit.rs`) run each case request inside a
//! [`Scope`], a tokio task-local; the dep client and the database pool,
//! which every case goes through, write into it. The layer then reads it
//! once the handler has answered, request by request: a `"dep"` answer
//! needs a dep answer behind it in the same request, not somewhere in the
//! totals.
//!
//! A task-local, not a field passed down: the case files' signatures stay
//! what the lesson needs. Work spawned onto another task leaves the scope,
//! so a dep answer fetched by a detached task backs no request's answer.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

tokio::task_local! {
    static REQUEST: Arc<Record>;
}

/// What one request did so far.
#[derive(Debug, Default)]
pub struct Record {
    dep_answers: AtomicU32,
    connections_held: AtomicU32,
    dep_calls_in_flight: AtomicU32,
    dep_calls_holding_db: AtomicU32,
}

impl Record {
    /// Answers dep gave this request.
    pub fn dep_answers(&self) -> u32 {
        self.dep_answers.load(Ordering::Relaxed)
    }

    /// Times a call to dep and a database connection held by this request
    /// (and so perhaps an open transaction and its row locks) overlapped.
    pub fn dep_calls_holding_db(&self) -> u32 {
        self.dep_calls_holding_db.load(Ordering::Relaxed)
    }
}

/// Runs `handler` as one request: returns its output and what it did.
pub async fn run<F: Future>(handler: F) -> (F::Output, Arc<Record>) {
    let record = Arc::new(Record::default());
    let output = REQUEST.scope(Arc::clone(&record), handler).await;
    (output, record)
}

/// A call to dep in flight for the current request, counted until dropped
/// (answered, failed, or given up by a deadline).
#[derive(Debug)]
pub struct DepCall(Option<Arc<Record>>);

impl DepCall {
    /// The dep client starts a call (waiting for a slot included).
    pub fn start() -> Self {
        let record = REQUEST.try_with(Arc::clone).ok();
        if let Some(record) = &record {
            record.dep_calls_in_flight.fetch_add(1, Ordering::Relaxed);
            if record.connections_held.load(Ordering::Relaxed) > 0 {
                record.dep_calls_holding_db.fetch_add(1, Ordering::Relaxed);
            }
        }
        Self(record)
    }
}

impl Drop for DepCall {
    fn drop(&mut self) {
        if let Some(record) = &self.0 {
            record.dep_calls_in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// dep answered the dep client.
pub fn dep_answered() {
    let _ = REQUEST.try_with(|record| record.dep_answers.fetch_add(1, Ordering::Relaxed));
}

/// A pooled connection lent to the current request, counted until dropped.
#[derive(Debug)]
pub struct Holding(Option<Arc<Record>>);

impl Holding {
    pub fn start() -> Self {
        let record = REQUEST.try_with(Arc::clone).ok();
        if let Some(record) = &record {
            record.connections_held.fetch_add(1, Ordering::Relaxed);
            if record.dep_calls_in_flight.load(Ordering::Relaxed) > 0 {
                record.dep_calls_holding_db.fetch_add(1, Ordering::Relaxed);
            }
        }
        Self(record)
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        if let Some(record) = &self.0 {
            record.connections_held.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scope_sees_its_own_task_only() {
        let ((), record) = run(async {
            dep_answered();
            // A call while a connection is held, and a connection taken
            // while a call is in flight: two overlaps.
            let held = Holding::start();
            drop(DepCall::start());
            drop(held);
            let call = DepCall::start();
            drop(Holding::start());
            drop(call);
            // One after the other: none.
            drop(DepCall::start());
            drop(Holding::start());
            // A detached task is outside the request.
            tokio::spawn(async { dep_answered() }).await.expect("join");
        })
        .await;
        assert_eq!(record.dep_answers(), 1);
        assert_eq!(record.dep_calls_holding_db(), 2);
        // Outside any scope, nothing is counted and nothing fails.
        dep_answered();
        drop(DepCall::start());
        drop(Holding::start());
    }
}
