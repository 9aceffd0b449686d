//! The room's table, worked out from every submission against the board's
//! scenarios: one row per participant with their best ranked score per
//! scenario and the total, the runs that are not ranked and why, and the
//! room's progress over the session. The page, `--export`'s Markdown and
//! CSV all show this one computation.
//!
//! A run is ranked as `runner leaderboard` ranks one: finished, against
//! the expected workload, with the fingerprint the board's scenarios file
//! gives today.

use std::{collections::BTreeMap, fmt::Write as _};

use serde::Serialize;

use super::store::Stored;
use crate::{fingerprint, scenario::Scenarios};

/// The most not-ranked runs the page lists (newest first).
const NOT_RANKED_SHOWN: usize = 50;

#[derive(Debug, Serialize)]
pub struct Standings {
    /// The scenarios, in the file's order: the table's columns.
    pub scenarios: Vec<String>,
    /// Best total first; a tie goes to whoever reached it first.
    pub participants: Vec<Participant>,
    /// The newest of the runs not ranked, with why.
    pub not_ranked: Vec<NotRanked>,
    /// How many runs are not ranked in all.
    pub not_ranked_runs: usize,
    /// Every submission kept, ranked or not.
    pub submissions: usize,
    /// (seconds since the first submission, the room's mean total).
    pub progress: Vec<(f64, f64)>,
    /// When the first submission came, in ms since the Unix epoch.
    pub started_ms: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Participant {
    pub rank: usize,
    pub name: String,
    /// One per scenario, in the columns' order.
    pub best: Vec<Option<Best>>,
    pub total: u32,
    /// When the total was reached: the latest of the bests.
    pub reached: Elapsed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Best {
    pub score: u32,
    pub run_id: String,
    pub at: Elapsed,
}

#[derive(Debug, Serialize)]
pub struct NotRanked {
    pub name: String,
    pub scenario: String,
    pub score: u32,
    pub why: String,
    pub run_id: String,
    pub at: Elapsed,
}

/// A moment of the session: `0:42` (hours:minutes since the first
/// submission) to show, and the UTC time for a tooltip and the CSV.
#[derive(Debug, Clone, Serialize)]
pub struct Elapsed {
    pub ms: i64,
    pub since_start: String,
    pub utc: String,
}

/// Why a submission is not ranked, if it is not; `expected` is the
/// fingerprint the board's scenarios file gives its scenario.
fn left_out(stored: &Stored, expected: &str) -> Option<String> {
    let submission = &stored.submission;
    if submission.flags.interrupted {
        Some("interrupted".into())
    } else if !submission.flags.workload_edited.is_empty() {
        Some(format!(
            "flagged: edited ({})",
            submission.flags.workload_edited.join(", ")
        ))
    } else if submission.fingerprint != expected {
        Some(format!("other settings (fp={})", submission.fingerprint))
    } else {
        None
    }
}

pub fn standings(scenarios: &Scenarios, stored: &[Stored]) -> Standings {
    let started_ms = stored.iter().map(|s| s.received_ms).min();
    let elapsed = |ms: i64| Elapsed::at(ms, started_ms.unwrap_or(ms));
    let columns: Vec<String> = scenarios.list.iter().map(|s| s.name.clone()).collect();
    let expected: Vec<String> = scenarios.list.iter().map(fingerprint::expected).collect();
    let mut bests: BTreeMap<&str, Vec<Option<Best>>> = BTreeMap::new();
    let mut not_ranked = Vec::new();
    let mut progress: Vec<(f64, f64)> = Vec::new();
    for entry in stored {
        let submission = &entry.submission;
        let Some(column) = columns.iter().position(|c| *c == submission.scenario) else {
            continue;
        };
        if let Some(why) = left_out(entry, &expected[column]) {
            not_ranked.push(NotRanked {
                name: submission.name.clone(),
                scenario: submission.scenario.clone(),
                score: submission.score,
                why,
                run_id: submission.run_id.clone(),
                at: elapsed(entry.received_ms),
            });
            continue;
        }
        let row = bests
            .entry(&submission.name)
            .or_insert_with(|| vec![None; columns.len()]);
        // A tie keeps the earlier run: it reached the score first.
        if row[column]
            .as_ref()
            .is_none_or(|best| submission.score > best.score)
        {
            row[column] = Some(Best {
                score: submission.score,
                run_id: submission.run_id.clone(),
                at: elapsed(entry.received_ms),
            });
            let seconds = (entry.received_ms - started_ms.unwrap_or(0)) as f64 / 1000.0;
            let mean = mean_total(&bests);
            // At most one point per second: the last one.
            match progress.last_mut() {
                Some(last) if last.0.floor() == seconds.floor() => *last = (seconds, mean),
                _ => progress.push((seconds, mean)),
            }
        }
    }
    let not_ranked_runs = not_ranked.len();
    not_ranked.reverse();
    not_ranked.truncate(NOT_RANKED_SHOWN);
    Standings {
        scenarios: columns,
        participants: ranked(bests),
        not_ranked,
        not_ranked_runs,
        submissions: stored.len(),
        progress,
        started_ms,
    }
}

fn total(best: &[Option<Best>]) -> u32 {
    best.iter().flatten().map(|best| best.score).sum()
}

fn mean_total(bests: &BTreeMap<&str, Vec<Option<Best>>>) -> f64 {
    let sum: u32 = bests.values().map(|best| total(best)).sum();
    f64::from(sum) / bests.len().max(1) as f64
}

fn ranked(bests: BTreeMap<&str, Vec<Option<Best>>>) -> Vec<Participant> {
    let mut participants: Vec<Participant> = bests
        .into_iter()
        .map(|(name, best)| {
            let reached = best
                .iter()
                .flatten()
                .map(|best| best.at.clone())
                .max_by_key(|at| at.ms)
                .expect("a participant has at least one ranked run");
            Participant {
                rank: 0,
                name: name.to_owned(),
                total: total(&best),
                best,
                reached,
            }
        })
        .collect();
    participants.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then(a.reached.ms.cmp(&b.reached.ms))
            .then(a.name.cmp(&b.name))
    });
    for (index, participant) in participants.iter_mut().enumerate() {
        participant.rank = index + 1;
    }
    participants
}

impl Elapsed {
    fn at(ms: i64, started_ms: i64) -> Self {
        let minutes = (ms - started_ms).max(0) / 60_000;
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
        Self {
            ms,
            since_start: format!("{}:{:02}", minutes / 60, minutes % 60),
            utc: humantime::format_rfc3339_seconds(time).to_string(),
        }
    }
}

impl Standings {
    /// The final table in Markdown, for the debrief.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "| rank | name | {} | total | reached |\n|-----:|------|{}------:|---------|\n",
            self.scenarios.join(" | "),
            "-----:|".repeat(self.scenarios.len())
        );
        for participant in &self.participants {
            let cells: Vec<String> = participant
                .best
                .iter()
                .map(|best| best.as_ref().map_or("-".into(), |b| b.score.to_string()))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}/{} | {} |",
                participant.rank,
                participant.name,
                cells.join(" | "),
                participant.total,
                100 * self.scenarios.len(),
                participant.reached.since_start
            );
        }
        let _ = write!(
            out,
            "\n{} submissions, {} of them not ranked (interrupted, flagged or other settings).\n",
            self.submissions, self.not_ranked_runs
        );
        out
    }

    /// The final table as CSV: one row per participant, a column per
    /// scenario (empty: no ranked run), the total and when it was reached.
    pub fn csv(&self) -> String {
        let mut out = format!("rank,name,{},total,reached_utc\n", self.scenarios.join(","));
        for participant in &self.participants {
            let cells: Vec<String> = participant
                .best
                .iter()
                .map(|best| best.as_ref().map_or(String::new(), |b| b.score.to_string()))
                .collect();
            // Names hold no comma or quote (see `check_name`), so no quoting.
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                participant.rank,
                participant.name,
                cells.join(","),
                participant.total,
                participant.reached.utc
            );
        }
        out
    }
}
