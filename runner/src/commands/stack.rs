//! `runner stack`: the local stack, up until Ctrl-C (or SIGTERM), for curl
//! or `runner run --target ...`.

use std::{path::Path, process::ExitCode};

use anyhow::Context;

use super::ctrl_c_or_term;
use crate::{local, run::INTERRUPTED};

pub async fn run(root: &Path) -> anyhow::Result<ExitCode> {
    let config = local::LocalConfig::from_env(root);
    let stop = ctrl_c_or_term();
    tokio::pin!(stop);
    let stack = tokio::select! {
        stack = local::Stack::start(&config) => stack?,
        _ = &mut stop => return Ok(ExitCode::from(INTERRUPTED)),
    };
    let targets = stack.targets();
    crate::outln!(
        "api={} worker={}\nCtrl-C stops the stack. Meanwhile: runner run <scenario> --target api={},worker={}",
        targets.api,
        targets.worker,
        targets.api,
        targets.worker
    );
    let stopped = stop.await;
    crate::errln!("stopping the local stack");
    stack.stop().await?;
    stopped.context("cannot wait for Ctrl-C")?;
    Ok(ExitCode::SUCCESS)
}
