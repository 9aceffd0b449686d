//! The Resilience Lab runner: reads the scenarios, runs one against the lab
//! services, scores it and writes what it measured.
//!
//! - [`scenario`]: `scenarios.toml` as types, loaded and validated.
//! - [`load`]: the open-model load engine on goose.
//! - [`probe`]: JSON endpoints polled beside the load.
//! - [`score`]: checks and the 0-100 score; [`format`]: how a number reads.
//! - [`mod@run`]: one run, in phases: prepare, load with probes, score,
//!   write, show. [`data`] is what it measured (data.json, one type that
//!   every reader shares); [`report`] the HTML pages, whose charts draw
//!   one [`unit`] each; [`output`] and [`progress`] what it prints, every
//!   line through [`print`], which a closed pipe does not stop; [`workload`]
//!   flags a lab whose workload was edited; [`targets`] says where the
//!   services are.
//! - [`local`]: the local stack that `--local` builds, starts and stops.
//! - [`solutions`]: the reference solutions, applied and reverted.
//! - [`manifests`]: what the cluster case can check without a cluster;
//!   [`model`]: the cluster case simulated from its manifests, with the
//!   HorizontalPodAutoscaler of [`hpa`].
//! - [`hint`]: the hint and the next step after a failing run;
//!   [`leaderboard`]: ranking runs by [`fingerprint`]; [`board`]: the
//!   room's live leaderboard, which [`submit`] sends runs to.
//! - [`cli`]: the command line; [`commands`]: what each subcommand does
//!   with it, one module each.

pub mod board;
pub mod cli;
pub mod commands;
pub mod data;
pub mod fingerprint;
pub mod format;
pub mod hint;
pub mod hpa;
pub mod kube_fields;
pub mod leaderboard;
pub mod load;
pub mod local;
pub mod manifests;
pub mod model;
#[cfg(test)]
mod names;
pub mod open_files;
pub mod output;
pub mod print;
pub mod probe;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod score;
pub mod shipped;
pub mod solutions;
pub mod submit;
pub mod targets;
pub mod unit;
pub mod workload;

/// Runs one command ([`commands::run`]): what the binary calls.
pub fn run(cli: cli::Cli) -> std::process::ExitCode {
    commands::run(cli)
}
