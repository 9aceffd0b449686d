//! The leaderboard served in this process on 127.0.0.1:0, and the
//! runner's own client for it, for the board's tests and the browser's.

use std::{path::Path, time::Duration};

use runner::{board, cli::BoardLink, data::RunData, submit::Board};
use tokio::{sync::oneshot, task::JoinHandle};

use super::{eventually, sample::sample_run, shipped};

/// A board serving on 127.0.0.1:0 in this process, until stopped.
pub struct TestBoard {
    pub url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Starts a board on `db`, with the room `code` and the submission limits.
pub async fn start(db: &Path, code: Option<&str>, per_name: u32, per_address: u32) -> TestBoard {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel();
    let config = board::Config {
        db: db.to_owned(),
        code: code.map(str::to_owned),
        per_name: per_name.try_into().expect("a limit above 0"),
        per_address: per_address.try_into().expect("a limit above 0"),
    };
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        board::serve(shipped(), &config, listener, shutdown, false).await
    });
    let board = TestBoard { url, stop, task };
    // Up when the page answers (or the task ended with its error).
    eventually(Duration::from_secs(20), "the board starts", || async {
        (board.task.is_finished() || reqwest::get(&board.url).await.is_ok()).then_some(())
    })
    .await;
    board
}

impl TestBoard {
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.expect("the board's task")
    }

    pub async fn page(&self) -> String {
        reqwest::get(&self.url)
            .await
            .expect("the page answers")
            .text()
            .await
            .expect("the page's text")
    }
}

/// The runner's own client for `name` on `board`.
pub fn client(board: &TestBoard, name: &str, code: &str) -> Board {
    BoardLink {
        board: Some(board.url.clone()),
        name: Some(name.into()),
        code: Some(code.into()),
    }
    .board()
    .expect("a valid link")
    .expect("a board")
}

/// A finished run of `scenario` with the fingerprint the shipped scenarios
/// give today, so the board ranks it.
pub fn ranked_run(scenario: &str, run_id: &str, score: u32) -> RunData {
    let mut data = sample_run(scenario, run_id, score, "a run", "p95_ms");
    data.fingerprint =
        runner::fingerprint::expected(shipped().get(scenario).expect("a shipped scenario"));
    data
}
