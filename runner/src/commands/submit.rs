//! `runner submit RUN_ID`: a saved run, sent to the room's board again
//! (after a failed submission).

use std::{path::Path, process::ExitCode};

use anyhow::Context;

use crate::{
    cli::SubmitArgs,
    data::{RunData, Runs},
};

/// `runner submit RUN_ID`: a saved run, sent again.
pub async fn run(args: &SubmitArgs) -> anyhow::Result<ExitCode> {
    let board = args.link.board()?.context(
        "runner submit needs the board: --submit URL (or LAB_BOARD), with --name and --code",
    )?;
    let data = saved_run(&args.reports, &args.run)?;
    let sent = board.send(&data).await?;
    crate::outln!("{}", board.said(&sent, &data.run_id));
    Ok(ExitCode::SUCCESS)
}

fn saved_run(reports: &Path, run_id: &str) -> anyhow::Result<RunData> {
    let runs = Runs::read(reports);
    runs.find(run_id).cloned().with_context(|| {
        format!(
            "no run `{run_id}` under {}; run ids are in the SCORE lines (run=...)",
            reports.display()
        )
    })
}
