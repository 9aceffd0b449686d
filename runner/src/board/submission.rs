//! What a participant's runner posts to the board after a run
//! ([`Submission`]), what the board checks before it keeps one, and each
//! refusal with its HTTP status ([`Refusal`]).
//!
//! The board trusts the score a runner computed: the room code keeps
//! outsiders out, and the fingerprint and flags show honest mistakes (a
//! `--rate` override, an edited workload). It is not a defence against a
//! participant who forges a submission by hand.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use crate::data::RunData;

/// The longest name the board takes, in characters.
pub const NAME_MAX: usize = 32;
/// The longest check key or workload key, in characters.
const KEY_MAX: usize = 64;
/// The most checks or edited workload keys one submission may carry.
const LIST_MAX: usize = 16;
/// The largest body the board reads: a real submission is under 2 KiB.
pub const BODY_MAX: usize = 16 * 1024;
/// The header that carries the room code.
pub const CODE_HEADER: &str = "lab-room-code";

/// One run, as the board receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Who ran it: letters, digits, spaces, `.`, `_` and `-`.
    pub name: String,
    pub scenario: String,
    /// As in the SCORE line: `run=...`.
    pub run_id: String,
    /// 0 to 100.
    pub score: u32,
    /// As in the SCORE line: `fp=...`.
    pub fingerprint: String,
    pub checks: Vec<SubmittedCheck>,
    pub flags: Flags,
}

/// One check of the run: its key (as LEADERBOARD.md names it), its value
/// and whether it met its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedCheck {
    pub key: String,
    pub value: Option<f64>,
    pub met: bool,
}

/// What keeps a run from being ranked, whatever its fingerprint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flags {
    /// Stopped before its end (Ctrl-C).
    pub interrupted: bool,
    /// The lab's workload keys that differ from what the scenario expects,
    /// and the lab files that are not as shipped.
    pub workload_edited: Vec<String>,
}

impl Submission {
    /// The submission of a written run, under `name`.
    pub fn of_run(name: &str, data: &RunData) -> Self {
        Self {
            name: name.trim().to_owned(),
            scenario: data.scenario.clone(),
            run_id: data.run_id.clone(),
            score: data.score.total,
            fingerprint: data.fingerprint.clone(),
            checks: data
                .score
                .checks
                .iter()
                .map(|check| SubmittedCheck {
                    key: check.label.clone(),
                    value: check.value,
                    met: check.met,
                })
                .collect(),
            flags: Flags {
                interrupted: data.interrupted,
                workload_edited: data
                    .workload_edits
                    .iter()
                    .map(|edit| edit.key.clone())
                    .chain(data.lab_edits.iter().map(|edit| edit.file.clone()))
                    .take(LIST_MAX)
                    .collect(),
            },
        }
    }

    /// The first thing wrong with the submission's fields, if any. Whether
    /// its scenario is one of the board's is checked by the board.
    pub fn problem(&self) -> Option<String> {
        if let Err(problem) = check_name(&self.name) {
            return Some(problem);
        }
        if self.score > 100 {
            return Some(format!("score {} is over 100", self.score));
        }
        if !bounded_word(&self.run_id, 40) {
            return Some(
                "run_id must be 1-40 letters, digits and `-`, as in the SCORE line's run=".into(),
            );
        }
        if !bounded_word(&self.fingerprint, 16) {
            return Some("fingerprint must be 1-16 letters and digits, as in fp=".into());
        }
        if self.checks.len() > LIST_MAX || self.flags.workload_edited.len() > LIST_MAX {
            return Some(format!(
                "at most {LIST_MAX} checks and {LIST_MAX} edited keys"
            ));
        }
        let keys = self.checks.iter().map(|check| &check.key);
        if keys
            .chain(&self.flags.workload_edited)
            .any(|key| key.is_empty() || key.chars().count() > KEY_MAX)
        {
            return Some(format!(
                "check and workload keys must be 1-{KEY_MAX} characters"
            ));
        }
        None
    }
}

/// A participant's name: 1-32 letters, digits, spaces, `.`, `_` or `-`,
/// not starting or ending with a space. The runner checks it before a run,
/// the board on every submission.
pub fn check_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-');
    let length = name.chars().count();
    if length == 0 || length > NAME_MAX {
        Err(format!("a name must be 1-{NAME_MAX} characters long"))
    } else if let Some(c) = name.chars().find(|&c| !allowed(c)) {
        Err(format!(
            "a name may hold letters, digits, spaces, `.`, `_` and `-`, not {c:?}"
        ))
    } else if name.trim() != name {
        Err("a name may not start or end with a space".into())
    } else {
        Ok(())
    }
}

/// 1 to `max` ASCII letters, digits or `-`.
fn bounded_word(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Why the board did not keep a submission. Each but the last is a 4xx with a JSON body
/// `{"error": "..."}` that says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("wrong or missing room code: ask the facilitator for it (--code or LAB_BOARD_CODE)")]
    WrongCode,
    #[error("too many submissions {from}: try again in {} s", retry.as_secs().max(1))]
    TooMany { from: String, retry: Duration },
    #[error("the body is over {} KiB; a run's submission is about 2 KiB", BODY_MAX / 1024)]
    TooLarge,
    #[error("the body is not a submission: {0}")]
    Malformed(String),
    #[error("{0}")]
    Invalid(String),
    #[error("no scenario `{scenario}` on this board; it knows {known}")]
    UnknownScenario { scenario: String, known: String },
    #[error("run {run_id} is already on the board, sent by {name}: each run counts once")]
    Replayed { run_id: String, name: String },
    /// Not the submission's fault: the board's file failed (a 500).
    #[error("the board could not keep the submission: {0}; the run is saved, try again")]
    Failed(String),
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::WrongCode => StatusCode::UNAUTHORIZED,
            Self::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) | Self::UnknownScenario { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Replayed { .. } => StatusCode::CONFLICT,
            Self::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.to_string() });
        // Lets a runner that retries tell its own earlier submission apart.
        if let Self::Replayed { name, .. } = &self {
            body["sent_by"] = name.as_str().into();
        }
        let mut response = (self.status(), Json(body)).into_response();
        if let Self::TooMany { retry, .. } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry.as_secs().max(1)),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_in_length_and_charset() {
        for good in ["ada", "Ada Lovelace", "j.doe-2_b", "José"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            " ada",
            "ada ",
            "<b>ada</b>",
            "a\"b",
            "tab\there",
            &"x".repeat(NAME_MAX + 1),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
