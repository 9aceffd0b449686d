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

/// One line of `cargo build --message-format=json`: a built artifact, or
/// a compiler message.
#[derive(Debug, Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    target: Option<CargoTarget>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    message: Option<CompilerMessage>,
}

#[derive(Debug, Deserialize)]
struct CargoTarget {
    name: String,
}

/// What rustc said, as cargo passes it on.
#[derive(Debug, Deserialize)]
struct CompilerMessage {
    level: String,
    message: String,
    #[serde(default)]
    code: Option<ErrorCode>,
    #[serde(default)]
    spans: Vec<Span>,
    /// The message as the compiler prints it, with the code around it.
    #[serde(default)]
    rendered: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorCode {
    code: String,
}

#[derive(Debug, Deserialize)]
struct Span {
    file_name: String,
    line_start: usize,
    column_start: usize,
    is_primary: bool,
}

/// The lab does not compile: the compiler's first error, and how many
/// there were.
#[derive(Debug, Clone)]
pub struct DoesNotCompile {
    /// `lab/src/cases/timeouts.rs:42:5: error[E0308]: mismatched types`
    pub first: String,
    /// The first error as the compiler prints it, with the code around it.
    pub rendered: String,
    pub errors: usize,
}

/// How the compiler's messages reach the participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Messages {
    /// Every warning and error on stderr, as `cargo build` prints them,
    /// with cargo's progress.
    All,
    /// The first error comes back in [`DoesNotCompile`] (`runner watch`
    /// shows it and waits for a save); cargo's progress is shown only with
    /// `progress` (a first build can take minutes).
    FirstError { progress: bool },
}

/// Builds `lab` in the workspace at `root` and returns the binary's path.
/// Cargo's own progress and compiler errors go to stderr as usual.
///
/// The runner's package is named too, though only the lab's binary is
/// built: cargo then resolves the dependencies' features for both, which
/// are the runner's (its manifest asks for the lab's features as well), so
/// the lab reuses every dependency the runner's own build compiled. Built
/// alone, the lab's smaller set of features would make some 300 of them
/// new units, compiled a second time.
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
    match build(root, build_dir, Messages::All)? {
        Ok(binary) => Ok(binary),
        Err(failed) => bail!(
            "building the lab failed ({} error{}); the compiler's messages are above. \
             Fix the code, or put the case back with `runner unsolve N` or `git checkout -- FILE`",
            failed.errors,
            if failed.errors == 1 { "" } else { "s" }
        ),
    }
}

/// Builds `lab` as [`build_lab`] does, the compiler's messages shown as
/// `messages` says. The outer error is a build that could not run; the
/// inner one, code that does not compile.
pub fn build(
    root: &Path,
    build_dir: Option<&Path>,
    messages: Messages,
) -> anyhow::Result<Result<PathBuf, DoesNotCompile>> {
    // When the runner itself runs under `cargo run`, use that same cargo.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = root.join("Cargo.toml");
    let mut child = cargo_build(&cargo, &manifest, build_dir, messages)
        .spawn()
        .with_context(|| {
            format!(
                "cannot run `{}` to build the lab; is Rust installed (https://rustup.rs)?",
                cargo.to_string_lossy()
            )
        })?;
    let stdout = child.stdout.take().context("cargo's output is not piped")?;
    let built = read_messages(stdout, messages)?;
    let status = child.wait().context("cargo did not finish")?;
    if !status.success() {
        let Some(failed) = built.does_not_compile() else {
            bail!(
                "cargo could not build the lab (cargo {status}) and named no compiler error; \
                 run `cargo build -p lab` to see why"
            );
        };
        return Ok(Err(failed));
    }
    built
        .binary
        .map(Ok)
        .with_context(|| format!("cargo built no `lab` binary from {}", manifest.display()))
}

/// `cargo build` of the lab's binary, its messages as JSON on a pipe.
fn cargo_build(
    cargo: &std::ffi::OsStr,
    manifest: &Path,
    build_dir: Option<&Path>,
    messages: Messages,
) -> Command {
    let mut command = Command::new(cargo);
    command
        .args(["build", "--bin", "lab"])
        .args(["--package", "lab", "--package", "runner"])
        .arg("--message-format=json")
        .arg("--manifest-path")
        .arg(manifest);
    if messages == (Messages::FirstError { progress: false }) {
        command.arg("--quiet");
    }
    // A build directory the participant chose stays theirs.
    let chosen = std::env::var_os("CARGO_BUILD_BUILD_DIR").is_some()
        || std::env::var_os("CARGO_TARGET_DIR").is_some();
    if let Some(build_dir) = build_dir.filter(|_| !chosen) {
        command
            .env("CARGO_BUILD_BUILD_DIR", build_dir)
            .args(["--config", "profile.dev.package.lab.codegen-units=255"]);
    }
    command.stdout(Stdio::piped()).stderr(match messages {
        Messages::All | Messages::FirstError { progress: true } => Stdio::inherit(),
        Messages::FirstError { progress: false } => Stdio::null(),
    });
    command
}

/// What cargo's messages said: the binary it built, and the compiler's
/// errors in their order.
struct Built {
    binary: Option<PathBuf>,
    errors: Vec<CompilerMessage>,
}

impl Built {
    /// The first error, and how many errors there were; `None` when the
    /// compiler named none.
    fn does_not_compile(&self) -> Option<DoesNotCompile> {
        let first = self.errors.first()?;
        Some(DoesNotCompile {
            first: first.headline(),
            rendered: first.rendered.clone().unwrap_or_default(),
            // rustc's own summary ("aborting due to 2 previous errors") is
            // an error without a place.
            errors: self
                .errors
                .iter()
                .filter(|error| !error.spans.is_empty())
                .count()
                .max(1),
        })
    }
}

/// Reads cargo's JSON lines until cargo closes them; with
/// [`Messages::All`], shows each compiler message as cargo would.
fn read_messages(stdout: impl std::io::Read, messages: Messages) -> anyhow::Result<Built> {
    let mut built = Built {
        binary: None,
        errors: Vec::new(),
    };
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo's output")?;
        let Ok(message) = serde_json::from_str::<CargoMessage>(&line) else {
            continue;
        };
        if message.reason == "compiler-artifact"
            && message.target.is_some_and(|target| target.name == "lab")
            && message.executable.is_some()
        {
            built.binary = message.executable;
        } else if message.reason == "compiler-message"
            && let Some(compiler) = message.message
        {
            if messages == Messages::All
                && let Some(rendered) = &compiler.rendered
            {
                crate::err!("{rendered}");
            }
            if compiler.level == "error" {
                built.errors.push(compiler);
            }
        }
        // Other lines (build scripts, the final `build-finished`) say
        // nothing the lab's build needs.
    }
    Ok(built)
}

impl CompilerMessage {
    /// `file:line:column: error[code]: message`, the place left out when
    /// the compiler gives none.
    fn headline(&self) -> String {
        let code = self
            .code
            .as_ref()
            .map_or(String::new(), |code| format!("[{}]", code.code));
        let place = self
            .spans
            .iter()
            .find(|span| span.is_primary)
            .map_or(String::new(), |span| {
                format!(
                    "{}:{}:{}: ",
                    span.file_name, span.line_start, span.column_start
                )
            });
        format!("{place}{}{code}: {}", self.level, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line as `cargo build --message-format=json` writes it (trimmed).
    const MISMATCH: &str = r#"{"reason":"compiler-message","package_id":"path+file:///lab#0.1.0","target":{"name":"lab"},"message":{"rendered":"error[E0308]: mismatched types\n  --> lab/src/cases/timeouts.rs:36:23\n","$message_type":"diagnostic","children":[],"code":{"code":"E0308","explanation":"..."},"level":"error","message":"mismatched types","spans":[{"byte_end":10,"byte_start":1,"column_end":30,"column_start":23,"expansion":null,"file_name":"lab/src/cases/timeouts.rs","is_primary":true,"label":"expected `u32`","line_end":36,"line_start":36,"suggested_replacement":null,"suggestion_applicability":null,"text":[]}]}}"#;

    #[test]
    fn the_first_error_names_its_file_line_and_message() {
        let message: CargoMessage = serde_json::from_str(MISMATCH).expect("cargo's line");
        assert_eq!(message.reason, "compiler-message");
        let compiler = message.message.expect("a compiler message");
        assert_eq!(
            compiler.headline(),
            "lab/src/cases/timeouts.rs:36:23: error[E0308]: mismatched types"
        );
    }

    #[test]
    fn an_error_without_a_place_still_reads() {
        let compiler: CompilerMessage = serde_json::from_str(
            r#"{"level":"error","message":"aborting due to 1 previous error","spans":[]}"#,
        )
        .expect("a compiler message");
        assert_eq!(
            compiler.headline(),
            "error: aborting due to 1 previous error"
        );
    }
}
