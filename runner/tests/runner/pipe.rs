//! A reader that goes away (`runner schema data | head`) does not make the
//! runner panic: each command below runs with its stdout, or its stderr,
//! on a pipe whose reading end is closed before the runner starts, so
//! every line it prints meets a broken pipe. A panic exits with 101; the
//! commands must exit as they would with a reader.

use std::process::{ExitStatus, Stdio};

use crate::support::runner;

/// Commands that print on stdout, from a few lines to a whole schema.
const PRINTING: &[&[&str]] = &[
    &["schema", "data"],
    &["list"],
    &["hint", "tx"],
    &["leaderboard", "--scoring"],
    &["model", "autoscale"],
];

/// Which of the runner's outputs has lost its reader.
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Stderr,
}

/// Runs the runner with `args`, the `closed` output on a pipe nobody reads.
fn with_closed(closed: Closed, args: &[&str]) -> ExitStatus {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut command = runner();
    command.args(args);
    match closed {
        Closed::Stdout => command.stdout(writer).stderr(Stdio::null()),
        Closed::Stderr => command.stderr(writer).stdout(Stdio::null()),
    };
    command.status().expect("the runner starts")
}

#[test]
fn every_printing_command_survives_a_closed_stdout() {
    for args in PRINTING {
        let status = with_closed(Closed::Stdout, args);
        assert!(
            status.success(),
            "`runner {}` with its stdout closed: {status}",
            args.join(" ")
        );
    }
}

#[test]
fn errors_survive_a_closed_stderr() {
    let args = ["hint", "no-such-scenario"];
    let read = runner().args(args).output().expect("the runner starts");
    assert!(
        !read.status.success()
            && String::from_utf8_lossy(&read.stderr).contains("no-such-scenario"),
        "an unknown scenario is an error that names it: {read:?}"
    );
    let status = with_closed(Closed::Stderr, &args);
    assert_eq!(
        status.code(),
        read.status.code(),
        "an unknown scenario exits as it does with a reader, also when nobody reads why"
    );
    let status = with_closed(Closed::Stderr, &["model", "autoscale"]);
    assert!(status.success(), "stderr closed: {status}");
}
