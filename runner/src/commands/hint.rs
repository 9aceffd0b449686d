//! `runner hint <scenario>`: the case's hint, the files to edit with each
//! marker's line, and how to rerun or catch up.

use std::process::ExitCode;

use crate::{hint, scenario::Scenarios};

pub fn run(scenarios: &Scenarios, name: &str) -> anyhow::Result<ExitCode> {
    let scenario = scenarios.named(name)?;
    crate::out!("{}", hint::hint(&scenarios.root(), scenario));
    Ok(ExitCode::SUCCESS)
}
