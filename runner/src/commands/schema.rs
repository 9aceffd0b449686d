//! `runner schema`: the JSON schema of data.json or of the `--json`
//! summary, generated from the types.

use std::process::ExitCode;

use anyhow::Context;

use crate::{cli::SchemaOf, data, output};

pub fn run(of: SchemaOf) -> anyhow::Result<ExitCode> {
    let schema = match of {
        SchemaOf::Data => data::schema(),
        SchemaOf::Summary => output::Summary::schema(),
    };
    let text = serde_json::to_string_pretty(&schema).context("cannot encode the schema")?;
    crate::outln!("{text}");
    Ok(ExitCode::SUCCESS)
}
