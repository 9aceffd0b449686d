//! `runner solve N` / `runner unsolve N` and `make tags`, on copies of the
//! tree: they apply and revert the reference fixes, and never throw away a
//! participant's own edits.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use crate::support::{repo_root, runner_on, text};

/// A copy of the tree of the test's own.
fn copy(tag: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("solutions-{tag}"));
    runner::commands::demo::refresh_copy(&repo_root(), &root).expect("copy the tree");
    root
}

/// Runs the runner in the copy at `root`, on its scenarios.toml.
fn run_in(root: &Path, args: &[&str]) -> Output {
    runner_on(&root.join("scenarios.toml"))
        .args(args)
        .output()
        .expect("run the runner")
}

fn read(root: &Path, file: &str) -> String {
    std::fs::read_to_string(root.join(file)).expect("read a case file")
}

/// Each step and the files its solution changes.
const STEPS: [(u8, &[&str]); 4] = [
    (1, &["lab/src/cases/timeouts.rs"]),
    (2, &["lab/src/cases/tx.rs"]),
    (3, &["lab/src/cases/bulkheads.rs"]),
    (
        4,
        &["deploy/k8s/api-deployment.yaml", "deploy/k8s/api-hpa.yaml"],
    ),
];

#[test]
fn each_step_solves_and_unsolves_its_own_case_only() {
    let root = copy("roundtrip");
    let files = || STEPS.iter().flat_map(|(_, files)| files.iter());
    let originals: Vec<String> = files().map(|file| read(&root, file)).collect();
    for (step, files) in STEPS {
        for file in files {
            assert!(
                read(&root, file).contains(&format!("LAB: STEP{step} TODO")),
                "{file} starts at its baseline"
            );
        }
        let solved = run_in(&root, &["solve", &step.to_string()]);
        assert!(solved.status.success(), "{}", text(&solved.stderr));
        assert!(text(&solved.stdout).contains(&format!("step {step} solved")));
        for file in files {
            let after = read(&root, file);
            assert!(
                after.contains(&format!("LAB: STEP{step} solution")),
                "{after}"
            );
            assert!(!after.contains(&format!("LAB: STEP{step} TODO")), "{after}");
        }

        let again = run_in(&root, &["solve", &step.to_string()]);
        assert!(again.status.success());
        assert!(text(&again.stdout).contains("already solved"));
    }
    // Steps are independent: all are solved now, and each reverts alone.
    for (step, _) in STEPS {
        let reverted = run_in(&root, &["unsolve", &step.to_string()]);
        assert!(reverted.status.success(), "{}", text(&reverted.stderr));
    }
    let now: Vec<String> = files().map(|file| read(&root, file)).collect();
    assert_eq!(now, originals, "every file is back to its baseline");
}

#[test]
fn a_participants_own_edit_is_never_overwritten() {
    let root = copy("conflict");
    let file = "lab/src/cases/timeouts.rs";
    let edited = read(&root, file).replace(
        "let answer = state.dep.call(&state.workload.timeouts_dep).await?;",
        "let answer = state.dep.call(&state.workload.timeouts_dep).await?; // my try",
    );
    std::fs::write(root.join(file), &edited).expect("edit");

    let refused = run_in(&root, &["solve", "1"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("nothing was changed")
            && stderr.contains("git checkout -- lab/src/cases/timeouts.rs"),
        "{stderr}"
    );
    assert_eq!(
        read(&root, file),
        edited,
        "the participant's edit is intact"
    );

    let refused = run_in(&root, &["unsolve", "1"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(read(&root, file), edited);
}

#[test]
fn unknown_steps_are_refused_clearly() {
    let root = copy("unknown");
    std::fs::remove_file(root.join("solutions/step-2.patch")).expect("remove a patch");
    let missing = run_in(&root, &["solve", "2"]);
    assert_eq!(missing.status.code(), Some(1));
    let stderr = text(&missing.stderr);
    assert!(
        stderr.contains("no solution for step 2") && stderr.contains("1, 3, 4"),
        "{stderr}"
    );
    let out_of_range = run_in(&root, &["solve", "7"]);
    assert_eq!(out_of_range.status.code(), Some(1));
    assert!(text(&out_of_range.stderr).contains("no solution for step 7"));
    let zero = run_in(&root, &["solve", "0"]);
    assert_eq!(zero.status.code(), Some(2), "clap refuses it");
}

fn git(root: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .args(args)
        .current_dir(root)
        .env("GIT_CEILING_DIRECTORIES", root.parent().expect("parent"))
        .output()
        .expect("git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

#[test]
fn make_tags_creates_the_baseline_and_one_independent_tag_per_solution() {
    let root = copy("tags");
    let _ = std::fs::remove_dir_all(root.join(".git"));
    git(&root, &["init", "--quiet"]);
    git(&root, &["add", "--all"]);
    git(
        &root,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "--quiet",
            "-m",
            "seed",
        ],
    );
    let output = std::process::Command::new(root.join("solutions/tag-steps.sh"))
        .current_dir(&root)
        .env("GIT_CEILING_DIRECTORIES", root.parent().expect("parent"))
        .output()
        .expect("tag-steps.sh");
    assert!(output.status.success(), "{}", text(&output.stderr));

    let tags = git(&root, &["tag", "--list"]);
    for tag in [
        "step-0",
        "step-1-solution",
        "step-2-solution",
        "step-3-solution",
        "step-4-solution",
    ] {
        assert!(tags.lines().any(|line| line == tag), "{tags}");
    }
    assert_eq!(
        git(&root, &["rev-parse", "step-0"]),
        git(&root, &["rev-parse", "HEAD"])
    );
    for (step, files) in STEPS {
        let changed = git(
            &root,
            &[
                "diff",
                "--name-only",
                "step-0",
                &format!("step-{step}-solution"),
            ],
        );
        assert_eq!(
            changed.lines().collect::<Vec<_>>(),
            files,
            "step {step} changes its own case only"
        );
    }
    assert!(
        git(&root, &["status", "--porcelain"]).is_empty(),
        "the working tree is untouched"
    );
}
