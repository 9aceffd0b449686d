//! Builds the `lab` binary from the repository's sources before a local run.
//!
//! Cargo decides what changed: after a one-line edit in a case file it
//! recompiles only the `lab` crate, and with nothing changed it only checks.
//! The dev profile is used on purpose: the workspace gives it optimised
//! dependencies and a lightly optimised `lab`, so an edit rebuilds in a
//! second or two and the services are still fast enough for every local
//! case. A release build would cost a minute per edit.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use serde::Deserialize;

/// One line of `cargo build --message-format=json`; only the lines that
/// announce a built artifact matter here.
#[derive(Debug, Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    target: Option<CargoTarget>,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct CargoTarget {
    name: String,
}

/// Builds `lab` in the workspace at `root` and returns the binary's path.
/// Cargo's own progress and compiler errors go to stderr as usual.
///
/// With `build_dir`, cargo keeps its intermediate artifacts (compiled
/// dependencies, fingerprints) there (`build.build-dir`, stable since
/// cargo 1.91) and only the final binary under `root`'s `target/`: the
/// demo's copy of the tree reuses every dependency the checkout compiled.
/// Its own `lab` must stay apart: cargo names a workspace member's
/// artifacts by its path *within* the workspace, the same in the copy as
/// in the checkout, so the copy's build would replace the checkout's `lab`
/// (and a participant would run the reference solution). A profile setting
/// that changes nothing but the name (`codegen-units`, 255 for dev's 256)
/// gives the copy's `lab` artifacts of its own.
pub fn build_lab(root: &Path, build_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    // When the runner itself runs under `cargo run`, use that same cargo.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = root.join("Cargo.toml");
    let mut command = Command::new(&cargo);
    command
        .args(["build", "--package", "lab", "--bin", "lab"])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(&manifest);
    // A build directory the participant chose stays theirs.
    let chosen = std::env::var_os("CARGO_BUILD_BUILD_DIR").is_some()
        || std::env::var_os("CARGO_TARGET_DIR").is_some();
    if let Some(build_dir) = build_dir.filter(|_| !chosen) {
        command
            .env("CARGO_BUILD_BUILD_DIR", build_dir)
            .args(["--config", "profile.dev.package.lab.codegen-units=255"]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| {
            format!(
                "cannot run `{}` to build the lab; is Rust installed (https://rustup.rs)?",
                cargo.to_string_lossy()
            )
        })?;
    let stdout = child.stdout.take().context("cargo's output is not piped")?;
    let mut binary = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo's output")?;
        let Ok(message) = serde_json::from_str::<CargoMessage>(&line) else {
            continue;
        };
        if message.reason == "compiler-artifact"
            && message.target.is_some_and(|target| target.name == "lab")
            && message.executable.is_some()
        {
            binary = message.executable;
        }
    }
    let status = child.wait().context("cargo did not finish")?;
    if !status.success() {
        bail!(
            "building the lab failed (cargo {status}); the compiler's messages are above. \
             Fix the code, or put the case back with `runner unsolve N` or `git checkout -- FILE`"
        );
    }
    binary.with_context(|| format!("cargo built no `lab` binary from {}", manifest.display()))
}
