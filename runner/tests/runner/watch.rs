//! `runner watch`, driven as a participant drives it, through pipes (keys
//! are then lines on stdin): the real runner in a scratch copy of the tree
//! (the proof's, whose `target/` holds the lab's dependencies), the real
//! local stack, real saves seen by the file watcher.
//!
//! One session: the baseline runs; the reference fix is saved and the
//! score rises; code that does not compile shows the compiler's first
//! error while the stack stays up; the repair runs again; `q` stops it all
//! and leaves no process behind.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    sync::mpsc,
};

use crate::{
    ONE_AT_A_TIME,
    support::{
        assert_nothing_left, local_runner, marked_processes,
        tree::{DEADLINE, Edit, TIMEOUTS, Tree},
    },
};

/// Long enough for the baseline's hung calls to show, short enough for
/// three runs.
const RUN_FOR: &str = "8s";

/// The first round may build the copy's dependencies (when no proof test
/// has yet): minutes on 2 cores.
const FIRST_ROUND_WITHIN: Duration = Duration::from_secs(900);
/// A one-line edit: rebuild, restart, an 8 s run, the report.
const ROUND_WITHIN: Duration = Duration::from_secs(120);

/// Code that does not compile: a string where a number goes.
const BROKEN: &str = "Duration::from_millis(\"250\")";

/// The runner's stdout and stderr as one stream of lines, kept for the
/// failure message.
struct Transcript {
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Transcript {
    fn of(child: &mut tokio::process::Child) -> Self {
        let (sender, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout piped");
        let stderr = child.stderr.take().expect("stderr piped");
        for stream in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
            Box::new(stderr),
        ] {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let _ = sender.send(line);
                }
            });
        }
        Self {
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `wanted` and returns it; panics,
    /// with everything read, at `within`.
    async fn until(&mut self, within: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Ok(None) => panic!("the runner's output ended:\n{}", self.seen.join("\n")),
                Err(_) => panic!(
                    "nothing wanted within {within:?}:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The next SCORE line's score.
    async fn score(&mut self, within: Duration) -> u32 {
        let line = self.until(within, |line| line.starts_with("SCORE ")).await;
        line.split_whitespace()
            .nth(2)
            .and_then(|score| score.strip_suffix("/100"))
            .and_then(|score| score.parse().ok())
            .unwrap_or_else(|| panic!("a score in {line}"))
    }

    /// Everything read since the line that starts with `from`.
    fn since(&self, from: &str) -> String {
        let start = self
            .seen
            .iter()
            .rposition(|line| line.starts_with(from))
            .unwrap_or(0);
        self.seen[start..].join("\n")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reruns_on_save_shows_the_first_compile_error_and_quits_clean() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let tree = Tree::fresh();
    let marker = format!("watch-{}", std::process::id());
    let mut child = local_runner(&tree.root, &tree.folder, &marker)
        .args(["watch", "timeouts", "--duration", RUN_FOR, "--reports"])
        .arg(tree.folder.join("watch-reports"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("runner watch");
    let mut keys = child.stdin.take().expect("stdin piped");
    let mut out = Transcript::of(&mut child);

    // The session's first run: the baseline.
    let baseline = out.score(FIRST_ROUND_WITHIN).await;
    out.until(ROUND_WITHIN, |line| {
        line == format!("score: {baseline} (the session's first run)")
    })
    .await;
    out.until(ROUND_WITHIN, |line| line.starts_with("watching: "))
        .await;

    // The reference fix, saved: rebuilt, rerun, and the score rises.
    tree.solve(1).await;
    out.until(ROUND_WITHIN, |line| {
        line.starts_with("── saved ") && line.contains(TIMEOUTS)
    })
    .await;
    let solved = out.score(ROUND_WITHIN).await;
    assert!(
        solved > baseline && solved >= 90,
        "the fix pays: {baseline} -> {solved}\n{}",
        out.since("── saved")
    );
    out.until(ROUND_WITHIN, |line| {
        line.starts_with(&format!(
            "score: {baseline} -> {solved} (+{}",
            solved - baseline
        ))
    })
    .await;

    // A compile error: its place and message, and the stack still up.
    tree.edit(&Edit {
        file: TIMEOUTS,
        from: DEADLINE,
        to: BROKEN,
    });
    out.until(ROUND_WITHIN, |line| {
        line.starts_with("✗ the lab does not compile")
    })
    .await;
    let first = out.until(ROUND_WITHIN, |_| true).await;
    assert!(
        first.starts_with(&format!("{TIMEOUTS}:")) && first.contains(": error[E0308]:"),
        "the first error, with its file and line: {first}"
    );
    out.until(ROUND_WITHIN, |line| line.starts_with("watching: "))
        .await;
    let running = marked_processes(&marker);
    for role in ["lab api", "lab worker", "lab dep", "postgres"] {
        assert!(
            running.iter().any(|process| process.contains(role)),
            "{role} is still up after the failed build: {running:#?}"
        );
    }

    // The repair: built and run again, compared with the run before.
    tree.edit(&Edit {
        file: TIMEOUTS,
        from: BROKEN,
        to: DEADLINE,
    });
    let repaired = out.score(ROUND_WITHIN).await;
    assert!(
        repaired >= 90,
        "the repaired fix pays again: {baseline} -> {repaired}\n{}",
        out.since("── saved")
    );
    out.until(ROUND_WITHIN, |line| {
        line.starts_with(&format!("score: {solved} -> {repaired} ("))
    })
    .await;
    out.until(ROUND_WITHIN, |line| line.starts_with("watching: "))
        .await;

    // `q`: the session ends, the stack with it.
    keys.write_all(b"q\n").await.expect("send q");
    keys.flush().await.expect("send q");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("watch quits within 30 s of q")
        .expect("the runner's status");
    assert!(status.success(), "q quits cleanly: {status}");
    assert_nothing_left(&marker).await;
}
