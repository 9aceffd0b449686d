//! The api's client for dep, with a cap on calls in flight.
//!
//! The cap plays the part of an HTTP client's connections-per-host limit
//! (Go's `MaxConnsPerHost`, a JDBC-style pool for HTTP): it keeps one busy
//! api from flooding its dependency. A call waits for a free slot, then holds
//! it until dep answers. The cap is a semaphore rather than reqwest's own
//! pool settings because reqwest has no hard limit, only an idle-pool size.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use reqwest::Url;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::scope;
use crate::dep::{self, behaviour::Behaviour};

/// How long the api waits for dep's own counters (`/stats`, reset).
const ASK_DEP_WITHIN: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct DepClient {
    http: reqwest::Client,
    work_url: Url,
    stats_url: Url,
    reset_url: Url,
    slots: Arc<Semaphore>,
    max: u32,
    waiting: Arc<AtomicU64>,
    /// Calls dep answered since start-up or the last reset.
    answered: Arc<AtomicU64>,
}

/// dep's answer to `GET /work`.
#[derive(Debug, Clone, Deserialize)]
pub struct DepAnswer {
    pub delay_ms: u64,
    pub value: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum DepCallError {
    #[error("dep did not answer in time")]
    Timeout,
    #[error("dep answered {0}")]
    Status(reqwest::StatusCode),
    #[error("could not reach dep: {0}")]
    Transport(reqwest::Error),
    #[error("the dep client is shutting down")]
    ShuttingDown,
}

impl From<reqwest::Error> for DepCallError {
    fn from(error: reqwest::Error) -> Self {
        match error.status() {
            Some(status) => Self::Status(status),
            None if error.is_timeout() => Self::Timeout,
            None => Self::Transport(error),
        }
    }
}

/// The JSON shape of `/debug/depstats`.
#[derive(Debug, Serialize)]
pub struct DepStats {
    /// Most calls to dep in flight at once (`--dep-max-connections`).
    pub max: u32,
    /// Calls to dep in flight now.
    pub in_use: u32,
    /// Requests waiting for a free slot.
    pub waiting: u64,
    /// Calls dep answered since start-up or the last reset.
    pub answered: u64,
}

impl DepClient {
    pub fn new(dep_url: &Url, max_connections: u32) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Only the TCP connect is bounded here. Once connected, a call
            // may wait for an answer forever: reqwest has no default timeout.
            .connect_timeout(Duration::from_secs(1))
            .build()?;
        Ok(Self {
            http,
            work_url: dep_url.join("work")?,
            stats_url: dep_url.join("stats")?,
            reset_url: dep_url.join("admin/reset")?,
            slots: Arc::new(Semaphore::new(max_connections as usize)),
            max: max_connections,
            waiting: Arc::default(),
            answered: Arc::default(),
        })
    }

    /// Calls `GET /work` with `behaviour` as its query. Waits for a free slot
    /// first. Dropping the returned future (a timeout, a caller that went
    /// away) frees the slot and closes the connection, so dep stops too.
    pub async fn call(&self, behaviour: &Behaviour) -> Result<DepAnswer, DepCallError> {
        let _call = scope::DepCall::start();
        let slot = {
            let _waiting = Waiting::start(&self.waiting);
            self.slots.acquire().await
        };
        let _slot = slot.map_err(|_| DepCallError::ShuttingDown)?;
        let mut url = self.work_url.clone();
        url.set_query(Some(&behaviour.to_string()));
        let answer = self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json::<DepAnswer>()
            .await?;
        self.answered.fetch_add(1, Ordering::Relaxed);
        scope::dep_answered();
        Ok(answer)
    }

    pub fn stats(&self) -> DepStats {
        let free = u32::try_from(self.slots.available_permits()).unwrap_or(u32::MAX);
        DepStats {
            max: self.max,
            in_use: self.max.saturating_sub(free),
            waiting: self.waiting.load(Ordering::Relaxed),
            answered: self.answered.load(Ordering::Relaxed),
        }
    }

    /// dep's own counters: what it served, per behaviour (`GET /stats`).
    pub async fn served(&self) -> Result<dep::Stats, DepCallError> {
        let stats = self
            .http
            .get(self.stats_url.clone())
            .timeout(ASK_DEP_WITHIN)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(stats)
    }

    /// Zeroes the answered calls here and dep's own counters
    /// (`POST /admin/reset`).
    pub async fn reset(&self) -> Result<(), DepCallError> {
        self.answered.store(0, Ordering::Relaxed);
        self.http
            .post(self.reset_url.clone())
            .timeout(ASK_DEP_WITHIN)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

/// Counts a caller while it waits for a slot, including one that gives up.
struct Waiting<'a>(&'a AtomicU64);

impl<'a> Waiting<'a> {
    fn start(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
