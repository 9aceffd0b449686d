//! The board's SQLite file: the room's submissions, kept across restarts.
//!
//! One board per file: a board holds an exclusive `flock` on `<file>.lock`
//! while it runs, so a second board on the same file refuses at start
//! instead of interleaving writes with the first. The operating system
//! drops the lock when the process ends, however it ends, so a crashed
//! board leaves no stale lock behind. The migrations are compiled into the
//! binary (`runner/migrations/board/`).

use std::{
    borrow::Cow,
    fs::File,
    future::Future,
    io::Write as _,
    path::{Path, PathBuf},
    pin::Pin,
    time::{Duration, SystemTime},
};

use anyhow::Context;
use rustix::fs::{FlockOperation, flock};
use sqlx::{
    Row,
    migrate::{Migration, MigrationSource, MigrationType, Migrator},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions},
};

use super::submission::{Flags, Refusal, Submission, SubmittedCheck};

/// A submission as the board keeps it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub submission: Submission,
    pub address: String,
    /// Milliseconds since the Unix epoch.
    pub received_ms: i64,
}

/// The open file, and the lock that makes it this board's.
///
/// One connection writes, so submissions queue in the board's process
/// instead of in SQLite's busy handler, which sleeps and retries (a p99 of
/// 1.5 s at 60 submissions a second, measured, against milliseconds with
/// one writer). Readers (the page) have their own connections: in WAL
/// mode they read the last committed state without waiting for the writer.
#[derive(Debug)]
pub struct Store {
    writer: SqlitePool,
    readers: SqlitePool,
    _lock: Option<File>,
}

/// The board's migrations, compiled in.
#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<
        Box<
            dyn Future<Output = Result<Vec<Migration>, Box<dyn std::error::Error + Send + Sync>>>
                + Send
                + 's,
        >,
    > {
        let submissions = Migration::new(
            1,
            Cow::Borrowed("submissions"),
            MigrationType::Simple,
            Cow::Borrowed(include_str!("../../migrations/board/0001_submissions.sql")),
            false,
        );
        Box::pin(async move { Ok(vec![submissions]) })
    }
}

impl Store {
    /// Opens (or creates) the board's file for one board to write: takes
    /// the lock, then brings the schema up to date.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        let lock = lock(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // Readers (the page) do not wait for the writer (submissions).
            .journal_mode(SqliteJournalMode::Wal)
            // Writers take turns; one waits up to this long for another.
            .busy_timeout(Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("cannot open the board's database {}", path.display()))?;
        Migrator::new(Embedded)
            .await
            .context("cannot read the board's migrations")?
            .run(&writer)
            .await
            .with_context(|| {
                format!(
                    "cannot set up the board's tables in {}; if the file is not a board's, \
                     give another --db",
                    path.display()
                )
            })?;
        let readers = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.read_only(true))
            .await
            .with_context(|| format!("cannot open the board's database {}", path.display()))?;
        Ok(Self {
            writer,
            readers,
            _lock: Some(lock),
        })
    }

    /// Opens an existing board's file to read only (`--export`), beside a
    /// board that may be running on it.
    pub async fn read_only(path: &Path) -> anyhow::Result<Self> {
        if !path.is_file() {
            anyhow::bail!(
                "no board database at {}: `runner board` creates it, or give --db",
                path.display()
            );
        }
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let readers = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the board's database {}", path.display()))?;
        Ok(Self {
            writer: readers.clone(),
            readers,
            _lock: None,
        })
    }

    /// Keeps `submission`, unless its run is already on the board.
    pub async fn insert(
        &self,
        submission: &Submission,
        address: &str,
    ) -> Result<Result<(), Refusal>, sqlx::Error> {
        let received_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as i64);
        let inserted = sqlx::query(
            "INSERT INTO submissions (run_id, name, scenario, score, fingerprint, interrupted, \
             workload_edited, checks, address, received_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&submission.run_id)
        .bind(&submission.name)
        .bind(&submission.scenario)
        .bind(submission.score)
        .bind(&submission.fingerprint)
        .bind(submission.flags.interrupted)
        .bind(json(&submission.flags.workload_edited))
        .bind(json(&submission.checks))
        .bind(address)
        .bind(received_ms)
        .execute(&self.writer)
        .await;
        match inserted {
            Ok(_) => Ok(Ok(())),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                let name: String =
                    sqlx::query_scalar("SELECT name FROM submissions WHERE run_id = ?")
                        .bind(&submission.run_id)
                        .fetch_one(&self.writer)
                        .await?;
                Ok(Err(Refusal::Replayed {
                    run_id: submission.run_id.clone(),
                    name,
                }))
            }
            Err(error) => Err(error),
        }
    }

    /// The room code: `given` (kept for the next start), or the one kept
    /// from an earlier start, or `new()` (kept).
    pub async fn room_code(
        &self,
        given: Option<&str>,
        new: impl FnOnce() -> String,
    ) -> anyhow::Result<String> {
        let kept: Option<String> = sqlx::query_scalar("SELECT value FROM room WHERE key = 'code'")
            .fetch_optional(&self.writer)
            .await
            .context("cannot read the room code")?;
        let code = match (given, kept) {
            (Some(given), _) => given.to_owned(),
            (None, Some(kept)) => return Ok(kept),
            (None, None) => new(),
        };
        sqlx::query(
            "INSERT INTO room (key, value) VALUES ('code', ?) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(&code)
        .execute(&self.writer)
        .await
        .context("cannot keep the room code")?;
        Ok(code)
    }

    /// Every submission, in the order received.
    pub async fn all(&self) -> anyhow::Result<Vec<Stored>> {
        let rows = sqlx::query(
            "SELECT run_id, name, scenario, score, fingerprint, interrupted, workload_edited, \
             checks, address, received_ms FROM submissions ORDER BY id",
        )
        .fetch_all(&self.readers)
        .await
        .context("cannot read the submissions")?;
        rows.iter()
            .map(|row| -> anyhow::Result<Stored> {
                let edited: String = row.try_get("workload_edited")?;
                let checks: String = row.try_get("checks")?;
                Ok(Stored {
                    submission: Submission {
                        name: row.try_get("name")?,
                        scenario: row.try_get("scenario")?,
                        run_id: row.try_get("run_id")?,
                        score: row.try_get("score")?,
                        fingerprint: row.try_get("fingerprint")?,
                        checks: serde_json::from_str::<Vec<SubmittedCheck>>(&checks)?,
                        flags: Flags {
                            interrupted: row.try_get("interrupted")?,
                            workload_edited: serde_json::from_str(&edited)?,
                        },
                    },
                    address: row.try_get("address")?,
                    received_ms: row.try_get("received_ms")?,
                })
            })
            .collect::<anyhow::Result<_>>()
            .context("a submission in the database cannot be read")
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// `<file>.lock`, locked for this board, with its process id inside for
/// the next board's error message.
fn lock(path: &Path) -> anyhow::Result<File> {
    let lock_path = PathBuf::from(format!("{}.lock", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
        let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
        anyhow::bail!(
            "another board ({}) is running on {}: two boards on one file would split the \
             room. Stop the other one, or give this one another --db",
            holder.trim(),
            path.display()
        );
    }
    file.set_len(0)
        .and_then(|()| writeln!(file, "pid {}", std::process::id()))
        .with_context(|| format!("cannot write {}", lock_path.display()))?;
    Ok(file)
}
