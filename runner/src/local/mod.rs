//! The local stack: everything a scenario needs, on this machine, without
//! Docker. `runner run <scenario> --local` and `runner stack` use it.
//!
//! 1. [`build`]: `cargo build` the `lab` binary (incremental: an edited
//!    case file rebuilds in a second or two).
//! 2. [`postgres`]: a private PostgreSQL on a free port, or the one named
//!    by `DATABASE_URL`.
//! 3. [`role`]: `lab dep`, `lab api` and `lab worker` on free loopback
//!    ports, each waited for until it answers its readiness check.
//!
//! [`Stack::stop`] takes it all down: the roles with SIGTERM, then
//! PostgreSQL. If a run fails or panics before that, each part stops itself
//! when dropped. The stack's folder (`.lab/` by default, gitignored) holds
//! PostgreSQL's data, the roles' logs and a lock that keeps two runners from
//! sharing one PostgreSQL.

pub mod build;
pub mod postgres;
pub mod role;

use std::{
    fs::{self, File, TryLockError},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, ExitCode, ExitStatus},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::targets::Targets;
use postgres::Postgres;
use role::{Kind, Role};

/// How long the roles have to become ready. The api migrates its schema
/// before it listens, and retries PostgreSQL for up to 30 s.
const READY_WITHIN: Duration = Duration::from_secs(40);

/// The roles' drain bound when the stack stops. The run is over by then, so
/// there is nothing worth waiting long for; 1 s still lets a clean exit
/// happen, which the logs then show.
const DRAIN_SECS: &str = "1";

/// How long a role may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Where the local stack comes from and keeps its files.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// The repository root: the workspace `lab` is built from.
    pub root: PathBuf,
    /// PostgreSQL's data, the roles' logs, the lock.
    pub folder: PathBuf,
    /// Use this PostgreSQL instead of starting a private one.
    pub database_url: Option<String>,
    /// Cargo's build directory for `lab`'s intermediate artifacts, when
    /// not the tree's own `target/`: the demo's scratch copy shares the
    /// checkout's, so that nothing is compiled twice.
    pub build_dir: Option<PathBuf>,
    /// The files participants edit (every scenario's `files`): the other
    /// lab files must be as shipped, or a run is flagged.
    pub case_files: Vec<String>,
}

impl LocalConfig {
    /// The repository at `root`, with the folder from `LAB_LOCAL_DIR`
    /// (default `<root>/.lab`), `DATABASE_URL` when set, and the build
    /// directory from `LAB_BUILD_DIR` when set (the tests' scratch copies
    /// of the tree share the checkout's, as the demo's copy does).
    pub fn from_env(root: &Path) -> Self {
        let folder =
            std::env::var_os("LAB_LOCAL_DIR").map_or_else(|| root.join(".lab"), PathBuf::from);
        Self {
            root: root.to_owned(),
            folder,
            database_url: std::env::var("DATABASE_URL")
                .ok()
                .filter(|url| !url.is_empty()),
            build_dir: std::env::var_os("LAB_BUILD_DIR").map(PathBuf::from),
            case_files: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub struct Stack {
    targets: Targets,
    /// The roles, in the order they are stopped: load-bearing ones first.
    roles: Vec<Role>,
    /// The api's PostgreSQL.
    database_url: String,
    /// The roles' logs.
    logs: PathBuf,
    postgres: Option<Postgres>,
    /// Held for the stack's life; see [`lock`].
    _lock: File,
}

impl Stack {
    /// Builds `lab`, starts PostgreSQL and the three roles, and waits until
    /// every one of them is ready.
    pub async fn start(config: &LocalConfig) -> anyhow::Result<Self> {
        let lock = lock(&config.folder)?;
        let lab = tokio::task::spawn_blocking({
            let (root, build_dir) = (config.root.clone(), config.build_dir.clone());
            move || build::build_lab(&root, build_dir.as_deref())
        })
        .await
        .context("the build task failed")??;
        Self::start_locked(config, lock, &lab).await
    }

    /// Starts PostgreSQL and the roles of a `lab` already built.
    pub async fn start_built(config: &LocalConfig, lab: &Path) -> anyhow::Result<Self> {
        Self::start_locked(config, lock(&config.folder)?, lab).await
    }

    async fn start_locked(config: &LocalConfig, lock: File, lab: &Path) -> anyhow::Result<Self> {
        let started = Instant::now();
        let logs = config.folder.join("logs");
        fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
        let [postgres_port] = free_ports()?;
        let (postgres, database_url) = match &config.database_url {
            Some(url) => (None, url.clone()),
            None => {
                let server = start_postgres(config.folder.join("postgres"), postgres_port).await?;
                let url = server.url();
                (Some(server), url)
            }
        };
        let mut stack = Self {
            targets: Targets::default(),
            roles: Vec::new(),
            database_url,
            logs,
            postgres,
            _lock: lock,
        };
        // Dropped on an error: the roles are killed, PostgreSQL stopped.
        let dep = stack.start_roles(lab).await?;
        crate::errln!(
            "local stack ready in {:.1} s: api {}, worker {}, dep {dep}, PostgreSQL {}; logs in {}",
            started.elapsed().as_secs_f64(),
            stack.targets.api,
            stack.targets.worker,
            stack
                .postgres
                .as_ref()
                .map_or("from DATABASE_URL".to_owned(), |_| format!(
                    "on port {postgres_port}"
                )),
            stack.logs.display()
        );
        Ok(stack)
    }

    /// Starts dep, worker and api from `lab` on fresh ports and waits until
    /// each is ready. Returns dep's URL.
    async fn start_roles(&mut self, lab: &Path) -> anyhow::Result<String> {
        let [dep_port, api_port, worker_port] = free_ports()?;
        let mut dep = Role::spawn(lab, Kind::Dep, dep_port, &drain(), &self.logs)?;
        let mut worker = Role::spawn(lab, Kind::Worker, worker_port, &drain(), &self.logs)?;
        let mut api_args = vec![
            "--database-url".to_owned(),
            self.database_url.clone(),
            "--dep-url".to_owned(),
            dep.url.clone(),
        ];
        api_args.extend(drain());
        let mut api = Role::spawn(lab, Kind::Api, api_port, &api_args, &self.logs)?;

        let deadline = Instant::now() + READY_WITHIN;
        tokio::try_join!(
            dep.wait_ready(deadline),
            worker.wait_ready(deadline),
            api.wait_ready(deadline),
        )?;
        self.targets = Targets {
            api: api.url.clone(),
            worker: worker.url.clone(),
        };
        let dep_url = dep.url.clone();
        self.roles = vec![api, worker, dep];
        Ok(dep_url)
    }

    /// Stops the roles and starts them again from `lab` (a new build),
    /// PostgreSQL and its data staying up. On an error no role is left
    /// running; the next restart may still succeed.
    pub async fn restart_roles(&mut self, lab: &Path) -> anyhow::Result<()> {
        self.stop_roles().await;
        self.start_roles(lab).await.map(drop)
    }

    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    async fn stop_roles(&mut self) {
        let mut stopping = tokio::task::JoinSet::new();
        for role in self.roles.drain(..) {
            stopping.spawn(role.stop(STOP_GRACE));
        }
        stopping.join_all().await;
    }

    /// Stops the roles (SIGTERM, a short drain), then PostgreSQL.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.stop_roles().await;
        match self.postgres.take() {
            Some(mut server) => tokio::task::spawn_blocking(move || server.stop())
                .await
                .context("the PostgreSQL task failed")?,
            None => Ok(()),
        }
    }
}

/// `runner with-postgres -- COMMAND`: runs COMMAND with
/// `LAB_TEST_DATABASE_URL` naming a private PostgreSQL (in
/// `<folder>/test-postgres`), then stops the server. A Ctrl-C reaches the
/// command; the runner outlives it to stop the server.
pub fn with_postgres(config: &LocalConfig, command: &[String]) -> anyhow::Result<ExitCode> {
    let Some((program, args)) = command.split_first() else {
        bail!("no command to run");
    };
    let mut run = Command::new(program);
    run.args(args);
    if std::env::var_os("LAB_TEST_DATABASE_URL").is_none() {
        let folder = config.folder.join("test-postgres");
        let _lock = lock(&folder)?;
        let [port] = free_ports()?;
        let mut server = Postgres::start(&folder, port)?;
        crate::errln!("a private PostgreSQL for the command: {}", server.url());
        run.env("LAB_TEST_DATABASE_URL", server.url());
        // The command gets the Ctrl-C; the runner stays to stop the server.
        ctrlc::set_handler(|| {}).context("cannot handle Ctrl-C")?;
        let status = run.status();
        server.stop()?;
        return finish(program, status);
    }
    finish(program, run.status())
}

fn finish(program: &str, status: std::io::Result<ExitStatus>) -> anyhow::Result<ExitCode> {
    let status = status.with_context(|| format!("cannot run `{program}`"))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

/// A private PostgreSQL with its data in `folder` (created once).
async fn start_postgres(folder: PathBuf, port: u16) -> anyhow::Result<Postgres> {
    tokio::task::spawn_blocking(move || Postgres::start(&folder, port))
        .await
        .context("the PostgreSQL task failed")?
}

fn drain() -> Vec<String> {
    vec!["--drain-timeout-secs".to_owned(), DRAIN_SECS.to_owned()]
}

/// Takes `<folder>/stack.lock`, so that a second runner does not start a
/// second server on the same PostgreSQL data. The lock goes with the
/// process, so a killed runner never leaves it held.
fn lock(folder: &Path) -> anyhow::Result<File> {
    fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let path = folder.join("stack.lock");
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => bail!(
            "another runner is using the local stack in {}; wait for it to finish, \
             or give this one its own folder with LAB_LOCAL_DIR=PATH",
            folder.display()
        ),
        Err(TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Distinct free loopback ports. Each is found by binding port 0 and is
/// released just before its server binds it; all are held until every one
/// is chosen, so they differ.
fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .context("cannot find a free loopback port")?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener
            .local_addr()
            .context("cannot read a free port")?
            .port();
    }
    Ok(ports)
}
