//! What the runner's tests share, as zero2prod's `spawn_app` shares it: the
//! repository and its shipped scenarios, a scratch folder, a server on
//! loopback port 0, and from [`lab::testing`] a database of the test's own
//! (dropped when the test ends, also when it fails) and waiting with a
//! deadline. The runner binary starts through [`runner`] (or [`runner_on`]
//! another scenarios file), so every test starts it the same way; on a
//! local stack of its own through [`local_runner`], with the check that it
//! left no process behind. Fixtures more than one test file uses live in
//! submodules: a board in this process ([`board`]), a run's data
//! ([`sample`]), and the scratch copy of the tree that the proof and
//! `runner watch` edit ([`tree`]).

pub mod board;
pub mod sample;
pub mod tree;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
pub use lab::testing::{TestDb, eventually};
use lab::{
    api::AppState,
    cli::{Cli, Role},
};
use runner::scenario::{self, Scenarios};
use tokio::io::{AsyncBufRead, Lines};

/// The workspace root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the runner crate sits in the workspace")
        .to_owned()
}

/// The repository's own scenarios.toml.
pub fn shipped() -> Scenarios {
    scenario::load(&repo_root().join("scenarios.toml")).expect("the shipped scenarios load")
}

/// An empty folder of the test's own under cargo's scratch space, named by
/// `tag` and this test process.
pub fn scratch(tag: &str) -> PathBuf {
    let folder =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("scratch folder");
    folder
}

/// Serves `app` on 127.0.0.1:0 in this process; returns `http://addr`.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// An address nothing listens on: a port the system handed out and, with
/// the listener dropped at once, took back.
pub fn closed_address() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind port 0")
        .local_addr()
        .expect("its address")
}

/// A command's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that a runner command succeeded (showing everything it printed
/// when not) and returns its stdout and stderr.
#[track_caller]
pub fn succeeded(output: &Output) -> (String, String) {
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    (stdout, stderr)
}

/// The runner binary on the repository's own scenarios.toml.
pub fn runner() -> Command {
    runner_on(&repo_root().join("scenarios.toml"))
}

/// The runner binary on the scenarios in `file`, with stdin closed: a test
/// has no terminal to answer from, and nothing may wait for one. The flag,
/// not the working directory, names the file, so a test runs from
/// anywhere. A std `Command`, which tokio's converts from
/// (`tokio::process::Command::from`) for the tests that await it.
pub fn runner_on(file: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runner"));
    command.arg("--scenarios").arg(file).stdin(Stdio::null());
    command
}

/// Reads `lines` until one contains `text`; fails after `within`.
pub async fn wait_for_line<R>(lines: &mut Lines<R>, text: &str, within: Duration)
where
    R: AsyncBufRead + Unpin,
{
    let found = tokio::time::timeout(within, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains(text) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "the runner never said {text:?}");
}

/// A local-stack folder of the test's own, under cargo's scratch space.
pub fn local_folder(tag: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("local-{tag}"));
    std::fs::create_dir_all(&folder).expect("local folder");
    folder
}

/// The runner, set up for a local run: the repository at `root`, the
/// stack's folder, a marker for its processes, and no DATABASE_URL (so the
/// private PostgreSQL is used).
pub fn local_runner(root: &Path, folder: &Path, marker: &str) -> tokio::process::Command {
    let mut command = runner_on(&root.join("scenarios.toml"));
    command
        .env("LAB_LOCAL_DIR", folder)
        .env("LAB_TEST_MARK", marker)
        .env_remove("DATABASE_URL");
    // A scratch copy of the tree (the proof's) reuses the dependencies the
    // checkout compiled, as the demo's copy does, instead of compiling
    // them all again into its own target/.
    if root != repo_root() {
        command.env("LAB_BUILD_DIR", repo_root().join("target"));
    }
    tokio::process::Command::from(command)
}

/// Every process still alive that carries `marker` in its environment.
/// It reads /proc: where there is none, it fails rather than find nothing.
pub fn marked_processes(marker: &str) -> Vec<String> {
    let needle = format!("LAB_TEST_MARK={marker}");
    let entries = std::fs::read_dir("/proc").unwrap_or_else(|error| {
        panic!("cannot look for processes left behind: /proc is not readable ({error})")
    });
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter_map(|entry| {
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            let carries = environ
                .split(|byte| *byte == 0)
                .any(|pair| pair == needle.as_bytes());
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            carries.then(|| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        })
        .collect()
}

/// Waits (a short while: stopping is quick) until no marked process is left.
pub async fn assert_nothing_left(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = marked_processes(marker);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes left behind: {left:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends SIGINT, as Ctrl-C in a terminal does.
pub fn interrupt(child: &tokio::process::Child) {
    let pid = child.id().expect("the runner is running").to_string();
    let status = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// dep and an api whose timeouts case browns out: a fifth of the calls hang
/// for 1.5 s, and only 4 dep calls may be in flight.
pub async fn lab_stack(db: &TestDb) -> String {
    lab_stack_with(db, "latency_ms=5&hang_rate=0.2&hang_ms=1500").await
}

/// dep and an api whose timeouts case calls dep with `timeouts_dep`.
pub async fn lab_stack_with(db: &TestDb, timeouts_dep: &str) -> String {
    let dep = serve(lab::dep::app()).await;
    let argv = [
        "lab",
        "api",
        "--database-url",
        &db.url,
        "--dep-url",
        &dep,
        "--dep-max-connections",
        "4",
        "--timeouts-dep",
        timeouts_dep,
    ];
    let Role::Api(args) = Cli::try_parse_from(argv).expect("api flags").role else {
        unreachable!("parsed as api");
    };
    let state = AppState::connect(&args).await.expect("api connects");
    serve(lab::api::app(state)).await
}

/// A copy of deploy/k8s with `edit`s applied (file, from, to), after the
/// reference solution when `solved`.
pub fn manifests(name: &str, solved: bool, edits: &[(&str, &str, &str)]) -> PathBuf {
    let folder = scratch(&format!("model-{name}"));
    std::fs::create_dir_all(folder.join("deploy/k8s")).expect("folder");
    for entry in std::fs::read_dir(repo_root().join("deploy/k8s")).expect("deploy/k8s") {
        let path = entry.expect("entry").path();
        std::fs::copy(
            &path,
            folder
                .join("deploy/k8s")
                .join(path.file_name().expect("name")),
        )
        .expect("copy a manifest");
    }
    if solved {
        let status = Command::new("git")
            .arg("apply")
            .arg(repo_root().join("solutions/step-4.patch"))
            .current_dir(&folder)
            .env("GIT_CEILING_DIRECTORIES", folder.parent().expect("parent"))
            .status()
            .expect("git apply");
        assert!(status.success(), "step 4's patch applies");
    }
    for (file, from, to) in edits {
        let path = folder.join("deploy/k8s").join(file);
        let text = std::fs::read_to_string(&path).expect("read a manifest");
        assert!(text.contains(from), "{file} has `{from}`");
        std::fs::write(&path, text.replace(from, to)).expect("write a manifest");
    }
    folder.join("deploy/k8s")
}
