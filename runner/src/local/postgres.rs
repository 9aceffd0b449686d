//! A private PostgreSQL for the local stack: its own data folder, its own
//! free port, started and stopped with `pg_ctl` around each local run.
//!
//! The data folder is created once with `initdb` and kept, so later starts
//! take a fraction of a second. The server listens on 127.0.0.1 only, with
//! trust authentication and no Unix socket (socket paths have a length
//! limit that deep checkouts exceed). It is started in its own process
//! group, so a Ctrl-C in the terminal reaches the runner, which then stops
//! the server in order, instead of killing it mid-run.
//!
//! PostgreSQL refuses to run as root. When the runner is root (a container,
//! a CI machine), the server's folder is handed to the `postgres` user and
//! every PostgreSQL command runs as that user through `runuser`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

use anyhow::{Context, bail};

/// How long `pg_ctl` may take to start or stop the server.
const PG_CTL_WAIT: Duration = Duration::from_secs(30);

/// The operating-system user PostgreSQL runs as when the runner is root.
const SERVER_USER: &str = "postgres";

#[derive(Debug)]
pub struct Postgres {
    pg_ctl: PathBuf,
    data: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
    running: bool,
}

impl Postgres {
    /// Starts the server whose files live under `folder`, creating them on
    /// first use, on `port`.
    pub fn start(folder: &Path, port: u16) -> anyhow::Result<Self> {
        let bin = find_bin_dir()?;
        let run_as = rustix::process::geteuid().is_root().then_some(SERVER_USER);
        fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        if let Some(user) = run_as {
            hand_over(folder, user)?;
        }
        let mut server = Self {
            pg_ctl: bin.join("pg_ctl"),
            data: folder.join("data"),
            port,
            run_as,
            running: false,
        };
        if !server.data.join("PG_VERSION").exists() {
            server.init(&bin.join("initdb"))?;
        }
        server.stop_leftover();

        let log = folder.join("postgres.log");
        let options =
            format!("-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''");
        let output = server.pg_ctl(&[
            "start",
            "--wait",
            &format!("--timeout={}", PG_CTL_WAIT.as_secs()),
            "--log",
            &log.to_string_lossy(),
            "-o",
            &options,
        ])?;
        if !output.status.success() {
            bail!(
                "PostgreSQL did not start on port {port}:\n{}\nIts log is {}.{}",
                text(&output),
                log.display(),
                server.as_root_hint()
            );
        }
        server.running = true;
        Ok(server)
    }

    /// The URL the api connects with: the cluster's default database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server, letting it finish cleanly (`-m fast`: clients are
    /// disconnected, open transactions roll back).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        let wait = format!("--timeout={}", PG_CTL_WAIT.as_secs());
        let output = self.pg_ctl(&["stop", "--wait", &wait, "--mode=fast"])?;
        if !output.status.success() {
            bail!(
                "PostgreSQL in {} did not stop: {}",
                self.data.display(),
                text(&output)
            );
        }
        Ok(())
    }

    fn init(&self, initdb: &Path) -> anyhow::Result<()> {
        crate::errln!(
            "creating a private PostgreSQL in {} (once)",
            self.data.display()
        );
        let output = self
            .command(initdb)
            .arg("--pgdata")
            .arg(&self.data)
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
            .args(["--no-locale", "--no-sync"])
            .output()
            .with_context(|| format!("cannot run {}", initdb.display()))?;
        if !output.status.success() {
            bail!(
                "initdb could not create {}:\n{}{}",
                self.data.display(),
                text(&output),
                self.as_root_hint()
            );
        }
        Ok(())
    }

    /// A runner that was killed outright (SIGKILL, a closed terminal) left
    /// its server running. The stack's lock says no runner owns it now, so
    /// it is stopped before a new one starts.
    fn stop_leftover(&self) {
        let running = self
            .pg_ctl(&["status"])
            .is_ok_and(|output| output.status.success());
        if running {
            crate::errln!(
                "stopping a PostgreSQL left running in {} by an earlier run",
                self.data.display()
            );
            let _ = self.pg_ctl(&["stop", "--wait", "--mode=immediate"]);
        }
    }

    /// When the runner is root, the likely cause of a failure.
    fn as_root_hint(&self) -> String {
        match self.run_as {
            Some(user) => format!(
                "\nAs root, PostgreSQL runs as the `{user}` user, which must be able to reach \
                 {}. Set LAB_LOCAL_DIR to a folder it can reach (e.g. /tmp/lab), or set \
                 DATABASE_URL to a PostgreSQL you run.",
                self.data.display()
            ),
            None => String::new(),
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> anyhow::Result<Output> {
        self.command(&self.pg_ctl)
            .arg("--pgdata")
            .arg(&self.data)
            .args(args)
            .output()
            .with_context(|| format!("cannot run {}", self.pg_ctl.display()))
    }

    /// `program`, run as the server's user when the runner is root, in its
    /// own process group.
    fn command(&self, program: &Path) -> Command {
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        };
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command
    }
}

impl Drop for Postgres {
    /// The last resort when a run ends without [`Postgres::stop`] (an error
    /// unwinding past it): stop at once rather than leave a server behind.
    fn drop(&mut self) {
        if self.running {
            self.running = false;
            let _ = self.pg_ctl(&["stop", "--wait", "--mode=immediate"]);
        }
    }
}

/// Gives `folder` to `user`, so the server can write there.
fn hand_over(folder: &Path, user: &str) -> anyhow::Result<()> {
    let id = |flag: &str| -> anyhow::Result<u32> {
        let output = Command::new("id")
            .args([flag, user])
            .output()
            .context("cannot run `id`")?;
        if !output.status.success() {
            bail!(
                "PostgreSQL will not run as root, and there is no `{user}` user to run it as. \
                 Run the runner as a normal user, or set DATABASE_URL to a PostgreSQL you run"
            );
        }
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .with_context(|| format!("`id {flag} {user}` did not print a number"))
    };
    let (uid, gid) = (id("-u")?, id("-g")?);
    std::os::unix::fs::chown(folder, Some(uid), Some(gid))
        .with_context(|| format!("cannot give {} to the `{user}` user", folder.display()))
}

/// The folder holding `initdb` and `pg_ctl`: on PATH, or where the usual
/// packages put them (Debian and Ubuntu, RHEL, Homebrew, Postgres.app).
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let has_tools = |dir: &Path| dir.join("pg_ctl").is_file() && dir.join("initdb").is_file();
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut candidates = on_path;
    for (parent, prefix, suffix) in [
        ("/usr/lib/postgresql", "", "bin"),
        ("/usr", "pgsql-", "bin"),
        ("/opt/homebrew/opt", "postgresql@", "bin"),
        ("/usr/local/opt", "postgresql@", "bin"),
    ] {
        candidates.extend(
            versions(Path::new(parent), prefix)
                .into_iter()
                .map(|dir| dir.join(suffix)),
        );
    }
    candidates.extend(
        [
            "/usr/local/pgsql/bin",
            "/opt/homebrew/opt/postgresql/bin",
            "/Applications/Postgres.app/Contents/Versions/latest/bin",
        ]
        .map(PathBuf::from),
    );
    candidates.into_iter().find(|dir| has_tools(dir)).context(
        "cannot find PostgreSQL's initdb and pg_ctl on PATH or in the usual install folders. \
         Install PostgreSQL (Debian/Ubuntu: apt install postgresql; macOS: brew install postgresql), \
         or set DATABASE_URL to a PostgreSQL you run",
    )
}

/// Folders in `parent` named `<prefix><version>`, newest version first.
fn versions(parent: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(prefix)?;
            let numbers = version
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            Some((numbers, entry.path()))
        })
        .collect();
    found.sort();
    found.into_iter().rev().map(|(_, path)| path).collect()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
    .trim()
    .to_owned()
}
