//! The scratch copy of the tree that the proof and `runner watch` edit as
//! a participant would: the same copy `runner demo` makes, in the proof's
//! local-stack folder, so the checkout is never touched. It shares the
//! checkout's compiled dependencies (`LAB_BUILD_DIR`) and keeps its own
//! `lab` between runs, so an edit rebuilds only the `lab` crate.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use runner::output::Summary;

use super::{assert_nothing_left, local_runner, repo_root, succeeded};

/// Case 1's file.
pub const TIMEOUTS: &str = "lab/src/cases/timeouts.rs";
/// The reference fix's deadline, as `solutions/step-1.patch` writes it.
pub const DEADLINE: &str = "Duration::from_millis(250)";

/// A fresh copy of the tree in the proof's local-stack folder.
pub struct Tree {
    /// LAB_LOCAL_DIR: PostgreSQL's data, logs, and the copy.
    pub folder: PathBuf,
    /// The copy: `<folder>/demo`, as `runner demo` lays it out.
    pub root: PathBuf,
}

impl Tree {
    pub fn fresh() -> Self {
        let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("proof");
        let root = folder.join("demo");
        runner::commands::demo::refresh_copy(&repo_root(), &root).expect("copy the tree");
        Self { folder, root }
    }

    /// `runner solve <step>` in the copy.
    pub async fn solve(&self, step: u8) {
        let output = local_runner(&self.root, &self.folder, "proof")
            .args(["solve", &step.to_string()])
            .output()
            .await
            .expect("runner solve");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Replaces `from` with `to` in one file of the copy.
    pub fn edit(&self, edit: &Edit) {
        let path = self.root.join(edit.file);
        let text = std::fs::read_to_string(&path).expect("read the file to edit");
        assert!(
            text.contains(edit.from),
            "{} has no {:?}",
            edit.file,
            edit.from
        );
        std::fs::write(&path, text.replace(edit.from, edit.to)).expect("write the edit");
    }

    /// Runs `scenario` on the local stack for `duration`; returns the JSON
    /// summary, the SCORE line, and all of stderr (with `--json`, the
    /// checks, the SCORE line and the next step go there).
    pub async fn run(&self, scenario: &str, duration: Duration) -> (Summary, String, String) {
        let marker = format!("proof-{scenario}-{}", std::process::id());
        let duration = format!("{}s", duration.as_secs());
        let output = local_runner(&self.root, &self.folder, &marker)
            .args([
                "run",
                scenario,
                "--local",
                "--json",
                "--duration",
                &duration,
            ])
            .arg("--reports")
            .arg(self.folder.join("reports"))
            .output()
            .await
            .expect("runner run --local");
        let (stdout, stderr) = succeeded(&output);
        assert_nothing_left(&marker).await;
        let summary: Summary = serde_json::from_str(stdout.trim()).expect("the --json summary");
        let score_line = stderr
            .lines()
            .find(|line| line.starts_with("SCORE "))
            .unwrap_or_default()
            .to_owned();
        (summary, score_line, stderr)
    }
}

/// One text replacement in the copy: a participant's change.
pub struct Edit {
    pub file: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}
