//! The participant's side of the room's board: after each run, `runner run
//! --submit URL` (or `LAB_BOARD`) posts the run's summary to the board
//! ([`crate::board`]), and `runner submit RUN_ID` sends a saved run again
//! ([`crate::commands::submit`]).
//!
//! A failed submission never fails the run, nor loses it: the run is
//! written before anything is sent, and the message says why and how to
//! retry.

use std::time::Duration;

use anyhow::Context;
use reqwest::StatusCode;

use crate::{
    board::submission::{CODE_HEADER, Submission, check_name},
    cli::BoardLink,
    data::RunData,
};

/// How long a submission may take before the runner gives up on it; a
/// board on the room's network answers in milliseconds.
const WITHIN: Duration = Duration::from_secs(10);

/// A board to submit to, checked before any run starts.
#[derive(Debug, Clone)]
pub struct Board {
    url: String,
    name: String,
    code: String,
    client: reqwest::Client,
}

/// How a submission went.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    Kept,
    /// The board already has this run (a retry of one that got through).
    AlreadyThere,
}

impl BoardLink {
    /// The board to submit to: none without `--submit`; an error, before
    /// the run, when the name or the code is missing or the name is not
    /// one the board takes.
    pub fn board(&self) -> anyhow::Result<Option<Board>> {
        let Some(url) = &self.board else {
            return Ok(None);
        };
        let name = self
            .name
            .as_deref()
            .map(str::trim)
            .context("--submit needs your name on the board: --name or LAB_NAME")?;
        check_name(name).map_err(|problem| anyhow::anyhow!("--name `{name}`: {problem}"))?;
        let code = self.code.clone().context(
            "--submit needs the room code from the facilitator: --code or LAB_BOARD_CODE",
        )?;
        let url = url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!(
                "--submit `{url}` is not an http:// URL; the board prints its URL at start"
            );
        }
        let client = reqwest::Client::builder()
            .timeout(WITHIN)
            .build()
            .context("cannot set up an HTTP client")?;
        Ok(Some(Board {
            url: url.to_owned(),
            name: name.to_owned(),
            code,
            client,
        }))
    }
}

impl Board {
    /// Posts `data`'s summary. The error says what went wrong, in words.
    pub async fn send(&self, data: &RunData) -> anyhow::Result<Sent> {
        let submission = Submission::of_run(&self.name, data);
        let response = self
            .client
            .post(format!("{}/submissions", self.url))
            .header(CODE_HEADER, &self.code)
            .json(&submission)
            .send()
            .await
            .map_err(|error| anyhow::anyhow!("cannot reach the board at {}: {error}", self.url))?;
        let status = response.status();
        if status.is_success() {
            return Ok(Sent::Kept);
        }
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let error = body["error"]
            .as_str()
            .unwrap_or("no reason given")
            .to_owned();
        if status == StatusCode::CONFLICT && body["sent_by"].as_str() == Some(&self.name) {
            return Ok(Sent::AlreadyThere);
        }
        anyhow::bail!("the board refused it ({status}): {error}")
    }

    /// After a run: sends it, and says how that went on stderr. Never
    /// fails; a failure names `runner submit` to retry.
    pub async fn after_run(&self, data: &RunData) {
        match self.send(data).await {
            Ok(sent) => crate::errln!("{}", self.said(&sent, &data.run_id)),
            Err(error) => crate::errln!(
                "board: not submitted: {error:#}\n  the run is saved; to send it again: runner submit {}",
                data.run_id
            ),
        }
    }

    /// How a submission went, in one line.
    pub fn said(&self, sent: &Sent, run_id: &str) -> String {
        match sent {
            Sent::Kept => format!("board: submitted {run_id} as {}", self.name),
            Sent::AlreadyThere => format!("board: {run_id} was already on the board"),
        }
    }
}
