//! One lab role (`lab dep`, `lab api`, `lab worker`) run as a child process
//! of the runner, with its log in a file.
//!
//! Each child gets its own process group: a Ctrl-C in the terminal goes to
//! the runner alone, which finishes the run and then stops the children
//! with SIGTERM, the same graceful drain Kubernetes would ask for. If the
//! runner unwinds past that, the child is killed when its handle drops.

use std::{
    fs::File,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// How often readiness is polled while a role starts.
const POLL_EVERY: Duration = Duration::from_millis(25);

/// Which of the lab's roles a process runs: the `lab` subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dep,
    Api,
    Worker,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Dep => "dep",
            Self::Api => "api",
            Self::Worker => "worker",
        }
    }

    /// Where the role says it is ready: dep has nothing to wait for; the
    /// api is ready once PostgreSQL answers.
    pub fn ready_path(self) -> &'static str {
        match self {
            Self::Dep => "/healthz",
            Self::Api | Self::Worker => "/readyz",
        }
    }
}

#[derive(Debug)]
pub struct Role {
    pub kind: Kind,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    child: Child,
    log: PathBuf,
}

impl Role {
    /// Starts `lab <role> --listen 127.0.0.1:<port> <args>`, its output
    /// going to `<logs>/<role>.log`.
    pub fn spawn(
        lab: &Path,
        kind: Kind,
        port: u16,
        args: &[String],
        logs: &Path,
    ) -> anyhow::Result<Self> {
        let name = kind.name();
        let log = logs.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out
            .try_clone()
            .with_context(|| format!("cannot share {}", log.display()))?;
        let child = Command::new(lab)
            .arg(name)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start `{} {name}`", lab.display()))?;
        Ok(Self {
            kind,
            url: format!("http://127.0.0.1:{port}"),
            child,
            log,
        })
    }

    /// Polls the role's readiness path until it answers 200, the child
    /// exits, or `deadline`.
    pub async fn wait_ready(&mut self, deadline: Instant) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let url = format!("{}{}", self.url, self.kind.ready_path());
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "lab {} exited ({status}) while starting. The end of its log, {}:\n{}",
                    self.kind.name(),
                    self.log.display(),
                    log_tail(&self.log)
                );
            }
            let answer = client.get(&url).timeout(POLL_EVERY * 8).send().await;
            if answer.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "lab {} did not answer {url} in time. The end of its log, {}:\n{}",
                    self.kind.name(),
                    self.log.display(),
                    log_tail(&self.log)
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// SIGTERM, then up to `grace` for the role to drain and exit, then
    /// SIGKILL.
    pub async fn stop(mut self, grace: Duration) {
        let pid = self.child.id().and_then(|id| i32::try_from(id).ok());
        if let Some(pid) = pid.and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            crate::errln!(
                "lab {} did not stop within {grace:?} of SIGTERM; killing it",
                self.kind.name()
            );
            let _ = self.child.kill().await;
        }
    }
}

/// The last lines of a log, for an error message.
fn log_tail(log: &Path) -> String {
    const LINES: usize = 15;
    let Ok(file) = File::open(log) else {
        return "(no log)".to_owned();
    };
    let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    let tail = &lines[lines.len().saturating_sub(LINES)..];
    if tail.is_empty() {
        "(empty)".to_owned()
    } else {
        tail.join("\n")
    }
}
