//! Serving a role's router, shared by dep, api and worker: bind, serve,
//! and on SIGTERM or Ctrl-C stop accepting and drain in-flight requests
//! within a bound.
//!
//! The shutdown trigger is passed in as a future, so tests and production
//! share one path: production passes [`shutdown_signal`], tests pass a
//! `CancellationToken`'s `cancelled()`.

use std::{future::Future, net::SocketAddr, sync::OnceLock, time::Duration};

use anyhow::Context;
use axum::{
    Json, Router,
    http::{HeaderValue, StatusCode},
    middleware,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The header every answer carries with [`instance`]: behind a Kubernetes
/// Service, the runner counts the replicas it reaches by it.
pub const INSTANCE_HEADER: &str = "x-lab-instance";

/// This process, as its answers name it: the host (a pod's name in
/// Kubernetes) and the process id.
pub fn instance() -> &'static str {
    static INSTANCE: OnceLock<String> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|host| host.trim().to_owned())
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        format!("{host}/{}", std::process::id())
    })
}

async fn name_the_instance(mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(instance()) {
        response.headers_mut().insert(INSTANCE_HEADER, value);
    }
    response
}

/// Binds `addr`, with an error that says what to do when the port is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!(
            "could not listen on {addr}: is another process using the port? \
             Stop it or choose another address with --listen"
        )
    })
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting and waits up to `drain` for in-flight requests to finish.
///
/// Kubernetes sends SIGTERM before it removes a pod, and waits
/// `terminationGracePeriodSeconds` before SIGKILL; `drain` must be shorter
/// than that, or the pod is killed mid-drain and those requests fail.
/// Requests still running when `drain` runs out are cut off: a bound, not
/// an unbounded wait, because a hung request must not block a rollout.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> anyhow::Result<()> {
    let stopping = CancellationToken::new();
    let signal = {
        let stopping = stopping.clone();
        async move {
            shutdown.await;
            tracing::info!(
                drain_secs = drain.as_secs_f64(),
                "shutting down: draining in-flight requests"
            );
            stopping.cancel();
        }
    };
    let app = app.layer(middleware::map_response(name_the_instance));
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let drain_deadline = async {
        stopping.cancelled().await;
        tokio::time::sleep(drain).await;
    };
    tokio::select! {
        result = server => {
            result.context("the HTTP server failed")?;
            tracing::info!("drained; all in-flight requests finished");
        }
        () = drain_deadline => {
            tracing::warn!("drain bound reached; requests still in flight were cut off");
        }
    }
    Ok(())
}

/// Completes on SIGTERM (Kubernetes, `kill`) or Ctrl-C.
///
/// A plain function, not an `async fn`: the signal handlers are installed
/// when it is called, not when the future is first polled, so a SIGTERM that
/// arrives while the role is still starting is not lost to the default
/// action (which would kill the process with a non-zero status).
/// Must be called inside the tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        async move {
            match handlers {
                (Ok(mut sigterm), Ok(mut sigint)) => tokio::select! {
                    _ = sigterm.recv() => tracing::info!("SIGTERM received"),
                    _ = sigint.recv() => tracing::info!("Ctrl-C received"),
                },
                (Err(error), _) | (_, Err(error)) => {
                    tracing::error!(%error, "cannot listen for SIGTERM or Ctrl-C; stop with SIGKILL");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("Ctrl-C received"),
            Err(error) => {
                tracing::error!(%error, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The JSON body of every error answer, in every role: `{"error": "..."}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: String,
}

/// An error answer with a message that says what was wrong.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message.into(),
        }),
    )
        .into_response()
}

/// `axum::Json`, but a malformed body is answered like every other error:
/// `{"error": "..."}` with the status axum chose (400, 415 or 422) and serde's
/// message, which names the field and the position.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    Json<T>: axum::extract::FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(error_response(
                rejection.status(),
                format!("request body: {}", rejection.body_text()),
            )),
        }
    }
}
