//! The lab is built on the dependencies the runner's build compiled.
//!
//! `runner run --local`, `watch` and `demo` build the lab with
//! `--package lab --package runner --bin lab`, so cargo resolves one set of
//! features for both packages. Only when that set is the runner's own, as
//! `cargo run -p runner` resolves it, does the lab's first build reuse the
//! runner's compiled dependencies instead of compiling them again. The
//! runner's manifest asks for the lab's dependencies and features to make
//! it so; this checks that nothing is missing there.

use std::{collections::BTreeSet, process::Command};

use crate::support::{repo_root, succeeded};

/// What cargo resolves when `packages` are built together: one
/// `name version|features` line for each package as it is compiled (a
/// package used both by the program and by a macro or build script can
/// have two).
fn resolved(packages: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(repo_root())
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["--edges", "normal,build", "--format", "{p}|{f}"]);
    for package in packages {
        command.args(["--package", package]);
    }
    let output = command.output().expect("cargo tree runs");
    let (stdout, _) = succeeded(&output);
    // A blank line separates the trees of two packages.
    stdout
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| line.replace(" (*)", "").replace(" (proc-macro)", ""))
        .collect()
}

/// `tokio v1.54.1` of `tokio v1.54.1|full,...`.
fn package(line: &str) -> &str {
    line.split('|').next().unwrap_or(line)
}

#[test]
fn the_labs_build_compiles_nothing_the_runners_build_did_not() {
    let runner = resolved(&["runner"]);
    let both = resolved(&["lab", "runner"]);
    let more: Vec<&String> = both
        .difference(&runner)
        .filter(|line| !package(line).starts_with("lab v"))
        .collect();
    assert!(
        more.is_empty(),
        "with the lab, cargo resolves dependencies or features that `cargo run -p runner` \
         does not, so the lab's first build would compile these (and everything that \
         depends on them) again: {more:#?}\n\
         Give runner/Cargo.toml the lab's dependency that brings them, with the lab's \
         features (the list at the end of its [dependencies])"
    );

    // Not vacuous: built alone, the lab would resolve other features for
    // dependencies the runner compiled (reqwest without TLS, for one). The
    // build names the runner's package for this reason.
    let lab = resolved(&["lab"]);
    let runners: BTreeSet<&str> = runner.iter().map(|line| package(line)).collect();
    let alone: Vec<&String> = lab
        .difference(&runner)
        .filter(|line| runners.contains(package(line)))
        .collect();
    assert!(
        alone.iter().any(|line| line.starts_with("reqwest ")),
        "the lab alone was expected to resolve reqwest with other features: {alone:#?}"
    );
}
