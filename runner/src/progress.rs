//! The live progress line: elapsed, rate, p95, errors, in flight. A
//! redrawn line (indicatif) when stderr is a terminal; otherwise a plain
//! line every few seconds, so logs and CI output stay readable.

use std::{
    collections::VecDeque,
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
    rate: RateWindow,
}

/// The send rate over the last few intervals between requests (at least a
/// second): at 50 req/s the last second, at 0.25 req/s (a batch every 4 s)
/// the last 16 s, so a slow scenario does not read `rate 0.0/s`.
#[derive(Debug)]
struct RateWindow {
    window: Duration,
    /// (elapsed, sent so far), oldest first, spanning at most `window`.
    samples: VecDeque<(Duration, u64)>,
}

impl RateWindow {
    fn new(intended_rate: f64) -> Self {
        let intervals = if intended_rate > 0.0 {
            4.0 / intended_rate
        } else {
            1.0
        };
        Self {
            window: Duration::from_secs_f64(intervals.clamp(1.0, 60.0)),
            samples: VecDeque::new(),
        }
    }

    /// Records the count sent by `elapsed` and returns the rate over the
    /// window (over the run so far while it is shorter).
    fn update(&mut self, elapsed: Duration, sent: u64) -> f64 {
        self.samples.push_back((elapsed, sent));
        while let Some(&(oldest, _)) = self.samples.front() {
            if elapsed.saturating_sub(oldest) <= self.window || self.samples.len() <= 2 {
                break;
            }
            self.samples.pop_front();
        }
        let (since, sent_then) = self.samples.front().copied().unwrap_or_default();
        let seconds = (elapsed.saturating_sub(since)).as_secs_f64();
        if seconds > 0.0 {
            sent.saturating_sub(sent_then) as f64 / seconds
        } else {
            0.0
        }
    }
}

impl Progress {
    /// A progress line for a run of `duration` at `intended_rate` req/s.
    pub fn new(duration: Duration, intended_rate: f64) -> Self {
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
            rate: RateWindow::new(intended_rate),
        }
    }

    /// Called every quarter second with the collector.
    pub fn tick(&mut self, collector: &Collector) {
        let snapshot = collector.snapshot(Instant::now());
        let rate = self.rate.update(snapshot.elapsed, snapshot.sent);
        let line = line(&snapshot, rate);
        match &self.bar {
            Some(bar) => {
                bar.set_position(snapshot.elapsed.as_secs());
                bar.set_message(line);
            }
            None => {
                if self.last_plain.is_none_or(|at| at.elapsed() >= PLAIN_EVERY) {
                    self.last_plain = Some(Instant::now());
                    crate::errln!("{line}");
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
    // Two decimals under one request a second: 0.25/s, not 0.2/s.
    let rate = if rate < 1.0 {
        format!("{rate:.2}")
    } else {
        format!("{rate:.1}")
    };
    format!(
        "{:>5.1}s  rate {rate:>6}/s  p95 {:>7}  errors {:>5}  in flight {:>4}",
        snapshot.elapsed.as_secs_f64(),
        p95,
        snapshot.errors,
        snapshot.in_flight
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks every quarter second for `seconds`, one request released every
    /// `1 / rate` s; returns the last rate shown.
    fn shown_after(rate: f64, seconds: f64) -> f64 {
        let mut window = RateWindow::new(rate);
        let mut shown = 0.0;
        for tick in 1..=(seconds * 4.0) as u64 {
            let elapsed = Duration::from_millis(250 * tick);
            let sent = (elapsed.as_secs_f64() * rate).floor() as u64;
            shown = window.update(elapsed, sent);
        }
        shown
    }

    #[test]
    fn the_rate_shown_is_the_rate_sent_fast_or_slow() {
        let fast = shown_after(50.0, 10.0);
        assert!((fast - 50.0).abs() <= 5.0, "{fast}");
        // A batch every 4 s: over a 16 s window, not a second of nothing.
        let slow = shown_after(0.25, 30.0);
        assert!((slow - 0.25).abs() <= 0.07, "{slow}");
    }
}
