//! What the runner's tests share, as zero2prod's `spawn_app` shares it: the
//! repository and its shipped scenarios, a scratch folder, a server on
//! loopback port 0, and from [`lab::testing`] a database of the test's own
//! (dropped when the test ends, also when it fails) and waiting with a
//! deadline.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

pub use lab::testing::{TestDb, eventually};
use runner::scenario::{self, Scenarios};

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
