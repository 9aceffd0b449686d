//! Where every request's outcome lands: HDR histograms for the whole run
//! and per-second buckets for the timeline.
//!
//! Two latencies per request:
//! - *corrected*: from the intended send time to the end of the body. This
//!   is what a user arriving on schedule waits, including time the
//!   generator or the system made them queue (coordinated omission
//!   corrected). Scores and charts use it.
//! - *service*: from the actual send to the end of the body.
//!
//! A std Mutex, not a tokio one: nothing awaits while it is held, and each
//! record is a few histogram increments.

use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

use super::answers::AnswerClass;
use crate::scenario::{Answers, RequestMetric};

/// Latencies are recorded in microseconds, up to this: ten minutes.
const MAX_LATENCY_US: u64 = 600_000_000;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An answer, read to the end of its body.
    Status(u16),
    Failed(ErrorKind),
}

impl Outcome {
    pub fn is_success(self) -> bool {
        matches!(self, Self::Status(200..=299))
    }
}

/// Why a request got no answer.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
    IntoStaticStr,
    EnumString,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorKind {
    /// The request cap ran out.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The answer broke off while its body was read.
    Body,
    /// Anything else the HTTP client reported.
    Other,
}

impl ErrorKind {
    /// As data.json writes it (strum's spelling, the same as serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug)]
pub struct Collector {
    start: Instant,
    /// The scenario reads answer classes (its `answers`).
    reads_answers: bool,
    /// A full answer slower than this (from its intended send time) counts
    /// as late: the scenario's `answers.within`.
    late_after: Option<Duration>,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    corrected: Histogram<u64>,
    service: Histogram<u64>,
    seconds: Vec<Second>,
    statuses: BTreeMap<u16, u64>,
    errors: BTreeMap<ErrorKind, u64>,
    in_flight: u64,
    sent: u64,
    not_sent: u64,
    completed: u64,
    succeeded: u64,
    answers: AnswerCounts,
    recent: Recent,
}

/// Corrected latency of the requests that finished in the current second
/// and in the one before: what the progress line shows while a run is on.
/// (The timeline files latency by intended second, which stays empty while
/// requests are still stuck.)
#[derive(Debug)]
struct Recent {
    second: usize,
    current: Histogram<u64>,
    previous: Histogram<u64>,
}

impl Recent {
    fn record(&mut self, second: usize, latency_us: u64) {
        if second > self.second {
            if second == self.second + 1 {
                std::mem::swap(&mut self.previous, &mut self.current);
            } else {
                self.previous.reset();
            }
            self.current.reset();
            self.second = second;
        }
        self.current.saturating_record(latency_us);
    }

    /// The last full second's histogram, seen from second `now`.
    fn last_full(&self, now: usize) -> Option<&Histogram<u64>> {
        if now == self.second {
            Some(&self.previous)
        } else if now == self.second + 1 {
            Some(&self.current)
        } else {
            None
        }
    }
}

/// One second of the run.
#[derive(Debug)]
struct Second {
    intended: u64,
    sent: u64,
    succeeded: u64,
    failed: u64,
    not_sent: u64,
    in_flight_max: u64,
    /// Successful answers that finished in this second, by class.
    answers: AnswerCounts,
    /// Corrected latency of the requests intended in this second.
    latency: Histogram<u64>,
}

/// Successful answers by what they carried (see [`super::answers`]).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerCounts {
    /// Full answers, within the scenario's `answers.within` if it has one.
    pub full: u64,
    /// Full answers that came later than `answers.within`: the user had
    /// stopped waiting.
    #[serde(default)]
    pub late: u64,
    pub degraded: u64,
    /// No such field, or a value the scenario names neither full nor
    /// degraded.
    pub unreadable: u64,
}

impl AnswerCounts {
    fn add(&mut self, class: AnswerClass) {
        match class {
            AnswerClass::Full => self.full += 1,
            AnswerClass::Late => self.late += 1,
            AnswerClass::Degraded => self.degraded += 1,
            AnswerClass::Unreadable => self.unreadable += 1,
        }
    }

    fn sum(seconds: &[Second]) -> Self {
        seconds.iter().fold(Self::default(), |total, second| Self {
            full: total.full + second.answers.full,
            late: total.late + second.answers.late,
            degraded: total.degraded + second.answers.degraded,
            unreadable: total.unreadable + second.answers.unreadable,
        })
    }
}

/// One second of the timeline, as reported.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondSummary {
    /// Seconds from the start of the run.
    pub second: u64,
    /// Released in this second.
    pub intended: u64,
    /// Sent in this second.
    pub sent: u64,
    /// Finished in this second, 2xx.
    pub succeeded: u64,
    /// Finished in this second, not 2xx.
    pub failed: u64,
    pub not_sent: u64,
    pub in_flight_max: u64,
    /// Successful answers that finished in this second, by class; null
    /// when the scenario reads no answers.
    pub answers: Option<AnswerCounts>,
    /// Corrected latency percentiles of requests intended in this second;
    /// null when none of them finished.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// Latency percentiles in milliseconds; null when nothing was measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Percentiles {
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// The run's totals and timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    /// Requests the schedule released.
    pub intended: u64,
    pub sent: u64,
    /// Released but never sent: the generator fell behind or the run was
    /// interrupted.
    pub not_sent: u64,
    /// Sent but still in flight when the run stopped waiting.
    pub unfinished: u64,
    /// Answered 2xx, body read to the end.
    pub succeeded: u64,
    pub failed: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Successful answers by class; null when the scenario reads no
    /// answers.
    pub answers: Option<AnswerCounts>,
    pub corrected: Percentiles,
    pub service: Percentiles,
    /// The corrected latency distribution: (percentile, ms) pairs.
    pub distribution: Vec<(f64, f64)>,
    pub seconds: Vec<SecondSummary>,
}

impl Totals {
    /// Failed / finished; `None` when nothing finished.
    pub fn error_rate(&self) -> Option<f64> {
        error_rate(self.failed, self.succeeded)
    }

    /// Succeeded / intended; `None` when nothing was intended.
    pub fn goodput(&self) -> Option<f64> {
        goodput(self.succeeded, self.intended)
    }

    /// Degraded answers / succeeded; `None` without answer classes.
    pub fn degraded_rate(&self) -> Option<f64> {
        ratio(self.answers?.degraded, self.succeeded)
    }

    /// Full answers / intended; `None` without answer classes.
    pub fn full_goodput(&self) -> Option<f64> {
        goodput(self.answers?.full, self.intended)
    }

    /// A request metric over the whole run, from the totals (what
    /// [`Collector::metric`] measured from the start); `None` when it
    /// measured nothing.
    pub fn metric(&self, metric: RequestMetric) -> Option<f64> {
        match metric {
            RequestMetric::P50Ms => self.corrected.p50_ms,
            RequestMetric::P95Ms => self.corrected.p95_ms,
            RequestMetric::P99Ms => self.corrected.p99_ms,
            RequestMetric::MaxMs => self.corrected.max_ms,
            RequestMetric::ErrorRate => self.error_rate(),
            RequestMetric::Goodput => self.goodput(),
            RequestMetric::NotSent => Some(self.not_sent as f64),
            RequestMetric::DegradedRate => self.degraded_rate(),
            RequestMetric::FullGoodput => self.full_goodput(),
        }
    }
}

/// The error rate: failed / finished.
fn error_rate(failed: u64, succeeded: u64) -> Option<f64> {
    ratio(failed, failed + succeeded)
}

/// Goodput: requests that succeeded / requests the schedule intended.
fn goodput(succeeded: u64, intended: u64) -> Option<f64> {
    ratio(succeeded, intended)
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// What the progress line shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    pub elapsed: Duration,
    pub sent: u64,
    pub errors: u64,
    pub in_flight: u64,
    /// Corrected p95 of the requests that finished in the last full second.
    pub p95_ms: Option<f64>,
}

fn histogram(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, sigfig).expect("constant bounds are valid")
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_LATENCY_US)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn quantile(histogram: &Histogram<u64>, q: f64) -> Option<f64> {
    (!histogram.is_empty()).then(|| ms(histogram.value_at_quantile(q)))
}

impl Collector {
    /// A collector whose clock starts at `start`; `answers` when the
    /// scenario classifies its answers.
    pub fn new(start: Instant, answers: Option<&Answers>) -> Self {
        Self {
            start,
            reads_answers: answers.is_some(),
            late_after: answers.and_then(|answers| answers.within),
            inner: Mutex::new(Inner {
                corrected: histogram(3),
                service: histogram(3),
                seconds: Vec::new(),
                statuses: BTreeMap::new(),
                errors: BTreeMap::new(),
                in_flight: 0,
                sent: 0,
                not_sent: 0,
                completed: 0,
                succeeded: 0,
                answers: AnswerCounts::default(),
                recent: Recent {
                    second: 0,
                    current: histogram(2),
                    previous: histogram(2),
                },
            }),
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere leaves counters, not broken invariants.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn index(&self, at: Instant) -> usize {
        usize::try_from(at.saturating_duration_since(self.start).as_secs()).unwrap_or(usize::MAX)
    }

    /// A ticket was released at `intended`.
    pub fn intended(&self, intended: Instant) {
        let index = self.index(intended);
        self.lock().second(index).intended += 1;
    }

    /// A ticket found no worker and queue room: it was never sent.
    pub fn not_sent(&self, intended: Instant) {
        let index = self.index(intended);
        let mut inner = self.lock();
        inner.not_sent += 1;
        inner.second(index).not_sent += 1;
    }

    /// A worker is sending a request now.
    pub fn sending(&self, sent: Instant) {
        let index = self.index(sent);
        let mut inner = self.lock();
        inner.sent += 1;
        inner.in_flight += 1;
        let in_flight = inner.in_flight;
        let second = inner.second(index);
        second.sent += 1;
        second.in_flight_max = second.in_flight_max.max(in_flight);
    }

    /// A request finished (or failed); `answer` is how a successful answer
    /// read, when the scenario reads answers.
    pub fn finished(
        &self,
        intended: Instant,
        sent: Instant,
        done: Instant,
        outcome: Outcome,
        answer: Option<AnswerClass>,
    ) {
        let corrected = micros(done.saturating_duration_since(intended));
        let service = micros(done.saturating_duration_since(sent));
        let (intended_index, done_index) = (self.index(intended), self.index(done));
        let mut inner = self.lock();
        inner.in_flight = inner.in_flight.saturating_sub(1);
        inner.completed += 1;
        inner.corrected.saturating_record(corrected);
        inner.service.saturating_record(service);
        inner
            .second(intended_index)
            .latency
            .saturating_record(corrected);
        inner.recent.record(done_index, corrected);
        match outcome {
            Outcome::Status(status) => *inner.statuses.entry(status).or_default() += 1,
            Outcome::Failed(kind) => *inner.errors.entry(kind).or_default() += 1,
        }
        if outcome.is_success() {
            inner.succeeded += 1;
            let second = inner.second(done_index);
            second.succeeded += 1;
            if let Some(class) = answer {
                let late = self
                    .late_after
                    .is_some_and(|within| done.saturating_duration_since(intended) > within);
                let class = match class {
                    AnswerClass::Full if late => AnswerClass::Late,
                    class => class,
                };
                second.answers.add(class);
                inner.answers.add(class);
            }
        } else {
            inner.second(done_index).failed += 1;
        }
    }

    /// Every released ticket was sent or counted not sent, and nothing is
    /// in flight: the run has nothing left to wait for.
    pub fn settled(&self) -> bool {
        let inner = self.lock();
        let intended: u64 = inner.seconds.iter().map(|second| second.intended).sum();
        inner.in_flight == 0 && inner.sent + inner.not_sent >= intended
    }

    /// A request metric over the run from `from` on: latency by intended
    /// time, outcomes by completion time. `None` when there is nothing to
    /// measure.
    pub fn metric(&self, metric: RequestMetric, from: Duration) -> Option<f64> {
        let inner = self.lock();
        let first = usize::try_from(from.as_secs()).unwrap_or(usize::MAX);
        let window = inner.seconds.get(first..).unwrap_or_default();
        let merged;
        let latency = if first == 0 {
            &inner.corrected
        } else {
            let mut histogram = histogram(2);
            for second in window {
                let _ = histogram.add(&second.latency);
            }
            merged = histogram;
            &merged
        };
        let sum = |field: fn(&Second) -> u64| -> u64 { window.iter().map(field).sum() };
        match metric {
            RequestMetric::P50Ms => quantile(latency, 0.50),
            RequestMetric::P95Ms => quantile(latency, 0.95),
            RequestMetric::P99Ms => quantile(latency, 0.99),
            RequestMetric::MaxMs => (!latency.is_empty()).then(|| ms(latency.max())),
            RequestMetric::ErrorRate => error_rate(sum(|s| s.failed), sum(|s| s.succeeded)),
            RequestMetric::Goodput => goodput(sum(|s| s.succeeded), sum(|s| s.intended)),
            RequestMetric::NotSent => Some(sum(|s| s.not_sent) as f64),
            RequestMetric::DegradedRate => self
                .reads_answers
                .then(|| ratio(AnswerCounts::sum(window).degraded, sum(|s| s.succeeded)))
                .flatten(),
            RequestMetric::FullGoodput => self
                .reads_answers
                .then(|| goodput(AnswerCounts::sum(window).full, sum(|s| s.intended)))
                .flatten(),
        }
    }

    pub fn snapshot(&self, now: Instant) -> Snapshot {
        let elapsed = now.saturating_duration_since(self.start);
        let inner = self.lock();
        let p95_ms = inner
            .recent
            .last_full(self.index(now))
            .and_then(|histogram| quantile(histogram, 0.95));
        Snapshot {
            elapsed,
            sent: inner.sent,
            errors: inner.completed - inner.succeeded,
            in_flight: inner.in_flight,
            p95_ms,
        }
    }

    pub fn totals(&self) -> Totals {
        let inner = self.lock();
        let percentiles = |h: &Histogram<u64>| Percentiles {
            p50_ms: quantile(h, 0.50),
            p90_ms: quantile(h, 0.90),
            p95_ms: quantile(h, 0.95),
            p99_ms: quantile(h, 0.99),
            p999_ms: quantile(h, 0.999),
            max_ms: (!h.is_empty()).then(|| ms(h.max())),
        };
        let distribution = if inner.corrected.is_empty() {
            Vec::new()
        } else {
            [
                0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0,
            ]
            .into_iter()
            .map(|p| (p, ms(inner.corrected.value_at_percentile(p))))
            .collect()
        };
        let seconds = inner
            .seconds
            .iter()
            .enumerate()
            .map(|(index, second)| SecondSummary {
                second: index as u64,
                intended: second.intended,
                sent: second.sent,
                succeeded: second.succeeded,
                failed: second.failed,
                not_sent: second.not_sent,
                in_flight_max: second.in_flight_max,
                answers: self.reads_answers.then_some(second.answers),
                p50_ms: quantile(&second.latency, 0.50),
                p95_ms: quantile(&second.latency, 0.95),
                p99_ms: quantile(&second.latency, 0.99),
            })
            .collect();
        let intended = inner.seconds.iter().map(|second| second.intended).sum();
        Totals {
            intended,
            sent: inner.sent,
            not_sent: inner.not_sent,
            unfinished: inner.in_flight,
            succeeded: inner.succeeded,
            failed: inner.completed - inner.succeeded,
            statuses: inner.statuses.clone(),
            errors: inner.errors.clone(),
            answers: self.reads_answers.then_some(inner.answers),
            corrected: percentiles(&inner.corrected),
            service: percentiles(&inner.service),
            distribution,
            seconds,
        }
    }
}

impl Inner {
    fn second(&mut self, index: usize) -> &mut Second {
        while self.seconds.len() <= index {
            self.seconds.push(Second {
                intended: 0,
                sent: 0,
                succeeded: 0,
                failed: 0,
                not_sent: 0,
                in_flight_max: 0,
                answers: AnswerCounts::default(),
                // Two significant digits per second keep a long run small.
                latency: histogram(2),
            });
        }
        &mut self.seconds[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_measured_from_the_intended_time() {
        let start = Instant::now();
        let collector = Collector::new(start, None);
        let intended = start + Duration::from_millis(100);
        let sent = intended + Duration::from_millis(900);
        let done = sent + Duration::from_millis(10);
        collector.intended(intended);
        collector.sending(sent);
        collector.finished(intended, sent, done, Outcome::Status(200), None);
        let totals = collector.totals();
        let corrected = totals.corrected.p50_ms.unwrap_or_default();
        let service = totals.service.p50_ms.unwrap_or_default();
        assert!((corrected - 910.0).abs() < 1.0, "{corrected}");
        assert!((service - 10.0).abs() < 0.1, "{service}");
        assert_eq!((totals.intended, totals.sent, totals.succeeded), (1, 1, 1));
        assert_eq!(totals.seconds[0].intended, 1);
        assert_eq!(totals.seconds[1].sent, 1, "sent in the second it was sent");
    }

    #[test]
    fn metrics_can_look_at_the_end_of_the_run_only() {
        let start = Instant::now();
        let collector = Collector::new(start, None);
        for (second, latency_ms, status) in [(0, 900, 503), (1, 10, 200), (2, 20, 200)] {
            let intended = start + Duration::from_secs(second);
            collector.intended(intended);
            collector.sending(intended);
            collector.finished(
                intended,
                intended,
                intended + Duration::from_millis(latency_ms),
                Outcome::Status(status),
                None,
            );
        }
        let whole = |metric| collector.metric(metric, Duration::ZERO).unwrap_or(f64::NAN);
        let tail = |metric| {
            collector
                .metric(metric, Duration::from_secs(1))
                .unwrap_or(f64::NAN)
        };
        assert!(whole(RequestMetric::MaxMs) >= 899.0);
        assert!(tail(RequestMetric::MaxMs) <= 21.0);
        assert!((whole(RequestMetric::ErrorRate) - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(tail(RequestMetric::ErrorRate), 0.0);
        assert!((whole(RequestMetric::Goodput) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(tail(RequestMetric::Goodput), 1.0);
        assert_eq!(
            collector.metric(RequestMetric::P95Ms, Duration::from_secs(10)),
            None,
            "no data"
        );
    }

    #[test]
    fn failures_and_not_sent_are_counted() {
        let start = Instant::now();
        let collector = Collector::new(start, None);
        for outcome in [
            Outcome::Status(503),
            Outcome::Failed(ErrorKind::Timeout),
            Outcome::Status(201),
        ] {
            collector.intended(start);
            collector.sending(start);
            collector.finished(
                start,
                start,
                start + Duration::from_millis(5),
                outcome,
                None,
            );
        }
        collector.intended(start);
        collector.not_sent(start);
        let totals = collector.totals();
        assert_eq!(totals.intended, 4);
        assert_eq!(
            (totals.succeeded, totals.failed, totals.not_sent),
            (1, 2, 1)
        );
        assert_eq!(totals.statuses.get(&503), Some(&1));
        assert_eq!(totals.errors.get(&ErrorKind::Timeout), Some(&1));
        assert_eq!(totals.unfinished, 0);
    }

    #[test]
    fn answer_classes_give_degraded_rate_and_full_goodput() {
        let start = Instant::now();
        let reading = Answers {
            field: "source".into(),
            full: vec!["dep".into()],
            degraded: vec!["fallback".into()],
            within: Some(Duration::from_secs(1)),
        };
        let collector = Collector::new(start, Some(&reading));
        let (soon, late) = (Duration::from_millis(5), Duration::from_millis(1500));
        let answers = [
            (Outcome::Status(200), Some(AnswerClass::Full), soon),
            (Outcome::Status(200), Some(AnswerClass::Full), soon),
            (Outcome::Status(200), Some(AnswerClass::Full), late),
            (Outcome::Status(200), Some(AnswerClass::Degraded), soon),
            (Outcome::Status(200), Some(AnswerClass::Degraded), late),
            (Outcome::Status(200), Some(AnswerClass::Unreadable), soon),
            (Outcome::Status(503), None, soon),
            (Outcome::Failed(ErrorKind::Timeout), None, late),
        ];
        for (outcome, answer, after) in answers {
            collector.intended(start);
            collector.sending(start);
            collector.finished(start, start, start + after, outcome, answer);
        }
        let metric = |metric| collector.metric(metric, Duration::ZERO);
        // 2 of 6 successes degraded (late or not); 2 of 8 intended full in time.
        assert_eq!(metric(RequestMetric::DegradedRate), Some(2.0 / 6.0));
        assert_eq!(metric(RequestMetric::FullGoodput), Some(0.25));
        let totals = collector.totals();
        let counts = AnswerCounts {
            full: 2,
            late: 1,
            degraded: 2,
            unreadable: 1,
        };
        assert_eq!(totals.answers, Some(counts));
        // Per second, as they finished.
        let second_one = AnswerCounts {
            late: 1,
            degraded: 1,
            ..AnswerCounts::default()
        };
        assert_eq!(totals.seconds[1].answers, Some(second_one));
        assert_eq!(totals.degraded_rate(), Some(2.0 / 6.0));

        let without = Collector::new(start, None);
        assert_eq!(
            without.metric(RequestMetric::FullGoodput, Duration::ZERO),
            None
        );
        assert_eq!(without.totals().answers, None);
    }
}
