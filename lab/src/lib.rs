//! Resilience Lab services. One binary, three roles:
//!
//! - `dep`: a dependency simulator whose latency, brownouts and failures are
//!   chosen per request (see [`dep`]).
//! - `api`: the case endpoints for timeouts, transaction scope and
//!   autoscaling, backed by PostgreSQL (see [`api`]).
//! - `worker`: batch jobs on a worker pool, the bulkhead case (see [`worker`]).
//!
//! The lessons live in [`cases`]: each file there is one case, and its edit
//! point is marked `LAB: STEPn TODO`. Everything else is meant to be
//! production-minded, so the marked spot is the only lesson.
//!
//! `testing` (the `testing` feature, for the lab's and the runner's tests
//! only) gives a test a PostgreSQL database of its own and a deadline to
//! wait with.

pub mod api;
pub mod cases;
pub mod cli;
pub mod dep;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod worker;

use std::process::ExitCode;

use cli::{Cli, Role};

/// Runs one role until it is told to shut down (SIGTERM or Ctrl-C).
pub fn run(cli: Cli) -> ExitCode {
    telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "could not start the tokio runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let shutdown = server::shutdown_signal();
        match cli.role {
            Role::Dep(args) => dep::run(args, shutdown).await,
            Role::Api(args) => api::run(*args, shutdown).await,
            Role::Worker(args) => worker::run(args, shutdown).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}
