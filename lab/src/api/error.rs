//! Every way an api request can fail, and the status code each one gets.
//! Messages say what happened and, where it helps, where to look.

use std::time::Duration;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::dep_client::DepCallError;
use crate::server;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The pool had no free connection within the acquire timeout.
    #[error(
        "no database connection came free within {} ms (all {pool_size} in use); see /debug/dbstats",
        waited.as_millis()
    )]
    PoolExhausted { waited: Duration, pool_size: u32 },

    /// A row lock was not granted within PostgreSQL's `lock_timeout`.
    #[error("timed out waiting for a row lock held by another transaction")]
    LockTimeout,

    #[error("database error: {0}")]
    Database(sqlx::Error),

    #[error("dep call failed: {0}")]
    Dependency(#[from] DepCallError),

    #[error("{0}")]
    NotFound(String),

    #[error("{0}")]
    Conflict(String),

    #[error("{0}")]
    Invalid(String),

    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        // 55P03 lock_not_available: raised when `lock_timeout` expires.
        match &error {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03") => Self::LockTimeout,
            _ => Self::Database(error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::PoolExhausted { .. } | Self::LockTimeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::Dependency(DepCallError::Timeout) => StatusCode::GATEWAY_TIMEOUT,
            Self::Dependency(_) => StatusCode::BAD_GATEWAY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        // Overload errors are expected in the scenarios and would flood the
        // log at thousands per second; they are counted in /debug/* instead.
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request failed");
        }
        server::error_response(status, self.to_string())
    }
}
