//! Integration tests for the runner.

mod board;
mod browser;
mod build;
mod cluster;
mod data;
mod docs;
mod kernel;
mod kubernetes;
mod load;
mod local;
mod model;
mod modules;
mod pipe;
mod proof;
mod report;
mod run;
mod scenarios;
mod solutions;
mod support;
mod watch;

/// Tests that load the machine (goose runs) or need it quiet (the browser)
/// take turns through this.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
