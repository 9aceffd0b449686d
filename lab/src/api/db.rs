//! The api's PostgreSQL pool, with the wait figures behind `/debug/dbstats`.
//!
//! sqlx's pool does not say how long callers waited for a connection, so the
//! api measures it around every acquire: first a `try_acquire` (an idle
//! connection was free: no wait), and only if that fails a timed `acquire`
//! (the caller waited, and we record how long).
//!
//! What the pool is configured to hold is not what the service reached:
//! PostgreSQL itself counts the connections open to the lab's database, by
//! the `application_name` each pool gives its connections, so that a pool
//! opened elsewhere (in a case file, say) shows too.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use serde::Serialize;
use sqlx::{
    Executor, PgPool, Postgres,
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use super::{error::ApiError, scope};
use crate::cli::ApiKnobs;

/// The pool plus its wait counters. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    /// Connections of its own for the audit (`/debug/orders` and the check
    /// of each order answered), so that auditing never takes a connection
    /// the requests are waiting for, nor shows in `/debug/dbstats`.
    debug: PgPool,
    pool_size: u32,
    /// This api's `application_name`, unique per process, so that replicas
    /// sharing one database each count their own connections.
    name: Arc<str>,
    waits: Arc<WaitCounters>,
}

/// Connections to the lab's database, counted by PostgreSQL.
#[derive(Debug, Serialize)]
pub struct ServerConnections {
    /// Open connections of this api's request pool.
    pub api: i64,
    /// Open connections to the database from outside every lab pool: a
    /// pool or client the lab does not know (the request pool's limit
    /// does not hold them).
    pub other: i64,
}

/// Every lab pool's `application_name` starts with this.
const LAB_APPLICATION: &str = "lab-";

/// Atomics, not a Mutex: every request updates them and nothing needs a
/// consistent snapshot of all of them at once.
#[derive(Debug, Default)]
struct WaitCounters {
    acquires: AtomicU64,
    waited: AtomicU64,
    timeouts: AtomicU64,
    wait_total_us: AtomicU64,
    wait_max_us: AtomicU64,
}

/// The JSON shape of `/debug/dbstats`. Counters run from start-up or the
/// last `POST /admin/reset`.
#[derive(Debug, Serialize)]
pub struct DbStats {
    /// Most connections the pool may hold (`--db-pool-size`).
    pub max: u32,
    /// Connections lent out to requests right now.
    pub in_use: u32,
    /// Open connections nobody is using.
    pub idle: u32,
    /// Connections requested.
    pub acquires: u64,
    /// Requests that found no idle connection and had to wait.
    pub waited: u64,
    /// Waits that gave up after `--db-acquire-timeout-ms` (answered 503).
    pub timeouts: u64,
    /// Total time spent waiting, in milliseconds.
    pub wait_total_ms: f64,
    /// Longest single wait, in milliseconds.
    pub wait_max_ms: f64,
    /// Connections PostgreSQL counts; null when it could not be asked.
    pub connections: Option<ServerConnections>,
}

impl Db {
    /// Connects lazily: the api starts, answers `/healthz`, and reports
    /// not-ready on `/readyz` until PostgreSQL answers.
    pub fn connect(database_url: &str, knobs: &ApiKnobs) -> anyhow::Result<Self> {
        let options: PgConnectOptions = database_url.parse().with_context(|| {
            "DATABASE_URL (--database-url) is not a PostgreSQL URL; \
             expected postgres://USER[:PASSWORD]@HOST:PORT/DATABASE"
        })?;
        // A request waits for a row lock no longer than it would wait for a
        // connection: without a lock_timeout, a lock wait whose request was
        // abandoned goes on in PostgreSQL until the lock is granted.
        let lock_timeout = format!("SET lock_timeout = {}", knobs.db_acquire_timeout_ms);
        let name: Arc<str> = format!("{LAB_APPLICATION}api {:08x}", rand::random::<u32>()).into();
        let audit_name = format!("{LAB_APPLICATION}audit {:08x}", rand::random::<u32>());
        let pool = PgPoolOptions::new()
            .max_connections(knobs.db_pool_size)
            .acquire_timeout(knobs.db_acquire_timeout())
            .after_connect(move |conn, _meta| {
                let lock_timeout = lock_timeout.clone();
                Box::pin(async move {
                    conn.execute(lock_timeout.as_str()).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options.clone().application_name(&name));
        // Two: the check of each order answered, and the probe's count.
        let debug = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(options.application_name(&audit_name));
        Ok(Self {
            pool,
            debug,
            pool_size: knobs.db_pool_size,
            name,
            waits: Arc::default(),
        })
    }

    /// Applies the embedded migrations, retrying while PostgreSQL is not up
    /// yet (in a cluster the api may start before the database).
    pub async fn migrate(&self, give_up_after: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + give_up_after;
        loop {
            match sqlx::migrate!("./migrations").run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(error) if Instant::now() < deadline && is_unreachable(&error) => {
                    tracing::warn!(%error, "PostgreSQL not reachable yet; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => {
                    return Err(error).context(
                        "could not apply the database migrations: is PostgreSQL running and \
                         DATABASE_URL right? (locally: pg_isready; in the cluster: make up)",
                    );
                }
            }
        }
    }

    /// A connection for one request, timing the wait if there was one.
    pub async fn acquire(&self) -> Result<Connection, ApiError> {
        self.waits.acquires.fetch_add(1, Ordering::Relaxed);
        if let Some(conn) = self.pool.try_acquire() {
            return Ok(Connection::lent(conn));
        }
        let started = Instant::now();
        let result = self.pool.acquire().await;
        let waited = started.elapsed();
        let waits = &self.waits;
        let waited_us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        waits.waited.fetch_add(1, Ordering::Relaxed);
        waits.wait_total_us.fetch_add(waited_us, Ordering::Relaxed);
        waits.wait_max_us.fetch_max(waited_us, Ordering::Relaxed);
        match result {
            Ok(conn) => Ok(Connection::lent(conn)),
            Err(sqlx::Error::PoolTimedOut) => {
                waits.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(ApiError::PoolExhausted {
                    waited,
                    pool_size: self.pool_size,
                })
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Whether PostgreSQL answers a trivial query within `within`.
    pub async fn is_ready(&self, within: Duration) -> bool {
        // Straight from the pool, not through `acquire`: readiness polls
        // must not show up in the request wait figures.
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(tokio::time::timeout(within, ping).await, Ok(Ok(_)))
    }

    /// Orders recorded (committed) since the last reset, counted on the
    /// debug connection.
    pub async fn orders_recorded(&self) -> Result<u64, ApiError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&self.debug)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The price recorded (committed) for order `id`, if it is recorded,
    /// read on the debug connection.
    pub async fn recorded_price(&self, id: i64) -> Result<Option<i64>, ApiError> {
        let price = sqlx::query_scalar("SELECT price_cents FROM orders WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.debug)
            .await?;
        Ok(price)
    }

    /// Connections to the lab's database, counted by PostgreSQL on the
    /// debug connection.
    pub async fn server_connections(&self) -> Result<ServerConnections, ApiError> {
        let (api, other) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE application_name = $1), \
                    count(*) FILTER (WHERE application_name NOT LIKE $2) \
             FROM pg_stat_activity \
             WHERE datname = current_database() AND backend_type = 'client backend'",
        )
        .bind(&*self.name)
        .bind(format!("{LAB_APPLICATION}%"))
        .fetch_one(&self.debug)
        .await?;
        Ok(ServerConnections { api, other })
    }

    pub async fn stats(&self) -> DbStats {
        let connections = self.server_connections().await;
        if let Err(error) = &connections {
            tracing::warn!(%error, "PostgreSQL did not say how many connections are open");
        }
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        let waits = &self.waits;
        DbStats {
            max: self.pool_size,
            in_use: self.pool.size().saturating_sub(idle),
            idle,
            acquires: waits.acquires.load(Ordering::Relaxed),
            waited: waits.waited.load(Ordering::Relaxed),
            timeouts: waits.timeouts.load(Ordering::Relaxed),
            wait_total_ms: micros_to_ms(waits.wait_total_us.load(Ordering::Relaxed)),
            wait_max_ms: micros_to_ms(waits.wait_max_us.load(Ordering::Relaxed)),
            connections: connections.ok(),
        }
    }

    /// Puts the data back to its seed values and zeroes the wait counters,
    /// without a restart (`make reset`, the runner before each run).
    pub async fn reset(&self) -> Result<(), ApiError> {
        let mut conn = self.acquire().await?;
        let mut tx = sqlx::Acquire::begin(&mut **conn).await?;
        sqlx::query("TRUNCATE orders RESTART IDENTITY")
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE products SET stock = initial_stock")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        for counter in [
            &self.waits.acquires,
            &self.waits.waited,
            &self.waits.timeouts,
            &self.waits.wait_total_us,
            &self.waits.wait_max_us,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Closes every connection; called once the server has drained.
    pub async fn close(&self) {
        self.debug.close().await;
        self.pool.close().await;
    }
}

/// A pooled connection lent to one request: a `PoolConnection` (it derefs
/// to one) that the request's audit scope counts while it is held, so that
/// a call to dep made meanwhile is seen (see [`scope`]).
#[derive(Debug)]
pub struct Connection {
    conn: PoolConnection<Postgres>,
    _held: scope::Holding,
}

impl Connection {
    fn lent(conn: PoolConnection<Postgres>) -> Self {
        Self {
            conn,
            _held: scope::Holding::start(),
        }
    }
}

impl Deref for Connection {
    type Target = PoolConnection<Postgres>;

    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

fn micros_to_ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn is_unreachable(error: &sqlx::migrate::MigrateError) -> bool {
    matches!(
        error,
        sqlx::migrate::MigrateError::Execute(sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut)
    )
}
