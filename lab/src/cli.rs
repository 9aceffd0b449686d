//! The command line: `lab [--log-format] <dep|api|worker> [options]`.
//!
//! Every option has an environment fallback (shown by `--help`), so the same
//! image runs under Kubernetes with env vars and on a laptop with flags.
//! Options are grouped: *server* (where to listen, how to drain), *resilience
//! knobs* (pool sizes, limits: the things a participant may tune), and
//! *workload* (what the scenario's dependency and jobs do: changing those
//! changes the exercise, and the runner flags such runs).

use std::{net::SocketAddr, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};
use reqwest::Url;

use crate::dep::behaviour::Behaviour;

#[derive(Debug, Parser)]
#[command(
    name = "lab",
    version,
    about = "Resilience Lab services: one binary, three roles"
)]
pub struct Cli {
    /// Log as human-readable text or as one JSON object per line.
    #[arg(
        long,
        env = "LAB_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub role: Role,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Role {
    /// The dependency simulator: GET /work answers after a latency, a
    /// brownout hang or a failure chosen by the query string.
    Dep(DepArgs),
    /// The case endpoints (timeouts, tx, autoscale) on PostgreSQL.
    Api(Box<ApiArgs>),
    /// Batch jobs on a worker pool (the bulkhead case).
    Worker(WorkerArgs),
}

#[derive(Debug, Args)]
pub struct DepArgs {
    /// Address to listen on.
    #[arg(long, env = "LAB_DEP_LISTEN", default_value = "0.0.0.0:9000")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub drain: DrainArgs,
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Address to listen on.
    #[arg(long, env = "LAB_API_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// PostgreSQL connection URL, e.g. postgres://postgres@127.0.0.1:5432/lab
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,

    /// Base URL of the dep service.
    #[arg(long, env = "LAB_DEP_URL", default_value = "http://127.0.0.1:9000")]
    pub dep_url: Url,

    #[command(flatten)]
    pub knobs: ApiKnobs,

    #[command(flatten)]
    pub workload: ApiWorkload,

    #[command(flatten)]
    pub drain: DrainArgs,
}

/// The api's resilience knobs. Each trades something; see the comments.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Resilience knobs")]
pub struct ApiKnobs {
    /// Most PostgreSQL connections the api holds. Larger pools queue less in
    /// the api but move the queue into PostgreSQL (more backends contending
    /// for the same locks and CPU); every replica multiplies it.
    #[arg(long, env = "LAB_DB_POOL_SIZE", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=200))]
    pub db_pool_size: u32,

    /// How long a request may wait for a free PostgreSQL connection before it
    /// fails with 503. Too long and waiters pile up behind a stuck pool; too
    /// short and a brief burst fails requests that would have succeeded.
    #[arg(long, env = "LAB_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub db_acquire_timeout_ms: u64,

    /// Most calls to dep in flight at once (like an HTTP client's
    /// connections-per-host limit). It protects dep from a flood, but a call
    /// that never returns holds its slot, and the next caller waits for it.
    #[arg(long, env = "LAB_DEP_MAX_CONNECTIONS", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub dep_max_connections: u32,
}

impl ApiKnobs {
    pub fn db_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }
}

/// What the api's cases ask of their dependency and CPU. Shown at
/// `/debug/workload`; the runner fingerprints it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Workload (changing it changes the exercise)")]
pub struct ApiWorkload {
    /// dep behaviour for /cases/timeouts, as dep query parameters: mostly
    /// quick answers, and a brownout where some calls hang.
    #[arg(
        long,
        env = "LAB_TIMEOUTS_DEP",
        default_value = "latency_ms=20&dist=lognormal&sigma=0.5&hang_rate=0.1&hang_ms=10000"
    )]
    pub timeouts_dep: Behaviour,

    /// dep behaviour for /cases/tx (the pricing call), as dep query parameters.
    #[arg(long, env = "LAB_TX_DEP", default_value = "latency_ms=50")]
    pub tx_dep: Behaviour,

    /// CPU time each /cases/autoscale request burns, in milliseconds, on
    /// the thread's own CPU clock: the same on every processor, so one
    /// replica serves (its CPU limit / this) requests a second.
    #[arg(long, env = "LAB_AUTOSCALE_CPU_MS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub autoscale_cpu_ms: u64,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Address to listen on.
    #[arg(long, env = "LAB_WORKER_LISTEN", default_value = "0.0.0.0:8081")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub knobs: WorkerKnobs,

    #[command(flatten)]
    pub workload: WorkerWorkload,

    #[command(flatten)]
    pub drain: DrainArgs,
}

/// The worker's limits: how much it runs at once and how much it remembers.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Resilience knobs")]
pub struct WorkerKnobs {
    /// Job workers in total, at least 2 so they can be split. The bulkhead
    /// case decides how they are split into pools; adding workers hides
    /// starvation only until the load grows.
    #[arg(long, env = "LAB_WORKERS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(2..=1024))]
    pub workers: u32,

    /// Most jobs one batch may hold; larger batches are refused with 422.
    #[arg(long, env = "LAB_MAX_JOBS_PER_BATCH", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_jobs_per_batch: u32,

    /// Most jobs waiting in all queues; a batch that would go over is refused
    /// with 503 instead of growing memory without bound.
    #[arg(long, env = "LAB_MAX_QUEUED_JOBS", default_value_t = 200_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_queued_jobs: u32,

    /// Finished batches kept for GET /batches/{id}; the oldest go first.
    #[arg(long, env = "LAB_MAX_FINISHED_BATCHES", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_finished_batches: u32,

    /// Seconds a finished batch stays readable before it is evicted.
    #[arg(long, env = "LAB_FINISHED_BATCH_TTL_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub finished_batch_ttl_secs: u64,
}

/// What the worker's jobs cost. Shown at `/debug/workload`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Workload (changing it changes the exercise)")]
pub struct WorkerWorkload {
    /// How long a fast job works, in milliseconds.
    #[arg(long, env = "LAB_FAST_JOB_MS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub fast_job_ms: u64,

    /// How long a slow job works, in milliseconds.
    #[arg(long, env = "LAB_SLOW_JOB_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub slow_job_ms: u64,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Server")]
pub struct DrainArgs {
    /// On SIGTERM or Ctrl-C, how long to wait for in-flight requests before
    /// exiting anyway. Keep it below Kubernetes' terminationGracePeriodSeconds.
    #[arg(long, env = "LAB_DRAIN_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub drain_timeout_secs: u64,
}

impl DrainArgs {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.drain_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_workload_names_the_flag_and_the_parameter() {
        let error = Cli::try_parse_from([
            "lab",
            "api",
            "--database-url",
            "postgres://x",
            "--timeouts-dep",
            "hang_rate=2",
        ])
        .expect_err("hang_rate=2 is out of range");
        let message = error.to_string();
        assert!(message.contains("--timeouts-dep"), "{message}");
        assert!(message.contains("hang_rate"), "{message}");
    }
}
