//! The live progress line: elapsed, rate, p95, errors, in flight. A
//! redrawn line (indicatif) when stderr is a terminal; otherwise a plain
//! line every few seconds, so logs and CI output stay readable.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::load::collector::{Collector, Snapshot};

/// How often a plain (not terminal) progress line is written.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    last_plain: Option<Instant>,
    last: Option<(Duration, u64)>,
    rate: f64,
}

impl Progress {
    pub fn new(duration: Duration) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(duration.as_secs().max(1)),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            bar.set_style(
                ProgressStyle::with_template("{bar:20} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            last_plain: None,
            last: None,
            rate: 0.0,
        }
    }

    /// Called every quarter second with the collector.
    pub fn tick(&mut self, collector: &Collector) {
        let snapshot = collector.snapshot(Instant::now());
        if let Some((elapsed, sent)) = self.last {
            let seconds = (snapshot.elapsed - elapsed).as_secs_f64();
            if seconds > 0.0 {
                // Smoothed over about a second of ticks.
                let instant = (snapshot.sent - sent) as f64 / seconds;
                self.rate += (instant - self.rate) * 0.25;
            }
        }
        self.last = Some((snapshot.elapsed, snapshot.sent));
        let line = line(&snapshot, self.rate);
        match &self.bar {
            Some(bar) => {
                bar.set_position(snapshot.elapsed.as_secs());
                bar.set_message(line);
            }
            None => {
                if self.last_plain.is_none_or(|at| at.elapsed() >= PLAIN_EVERY) {
                    self.last_plain = Some(Instant::now());
                    eprintln!("{line}");
                }
            }
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn line(snapshot: &Snapshot, rate: f64) -> String {
    let p95 = snapshot
        .p95_ms
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0}ms"));
    format!(
        "{:>5.1}s  rate {:>6.1}/s  p95 {:>7}  errors {:>5}  in flight {:>4}",
        snapshot.elapsed.as_secs_f64(),
        rate,
        p95,
        snapshot.errors,
        snapshot.in_flight
    )
}
