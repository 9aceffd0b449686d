//! When each request is meant to be sent: the arrival schedule.
//!
//! Arrivals are evenly spaced at the configured rate (after an optional
//! linear ramp from zero), not Poisson: the scenario offers a steady load,
//! so any burstiness in the results comes from the system under test, not
//! from the generator.

use std::time::Duration;

/// The schedule of one run: `rate` per second for `duration`, climbing
/// linearly from 0 over `ramp` first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrivals {
    rate: f64,
    duration: Duration,
    ramp: Duration,
}

impl Arrivals {
    pub fn new(rate: f64, duration: Duration, ramp: Option<Duration>) -> Self {
        Self {
            rate,
            duration,
            ramp: ramp.unwrap_or_default().min(duration),
        }
    }

    /// Requests per second once any ramp is over.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// How many requests the schedule holds: the integral of the rate.
    pub fn total(&self) -> u64 {
        self.count_before(self.duration)
    }

    /// How many arrivals are due strictly before `t`.
    pub fn count_before(&self, t: Duration) -> u64 {
        let t = t.min(self.duration).as_secs_f64();
        let ramp = self.ramp.as_secs_f64();
        let expected = if t < ramp {
            self.rate * t * t / (2.0 * ramp)
        } else {
            self.rate * (t - ramp / 2.0)
        };
        // Arrival i is at the moment the expected count reaches i + 1/2,
        // so the first one is not at t = 0 exactly but half a gap in.
        (expected + 0.5).floor() as u64
    }

    /// The offset from the start at which arrival `index` (from 0) is due.
    pub fn offset(&self, index: u64) -> Duration {
        let target = index as f64 + 0.5;
        let ramp = self.ramp.as_secs_f64();
        let in_ramp = self.rate * ramp / 2.0;
        let secs = if target < in_ramp {
            (2.0 * ramp * target / self.rate).sqrt()
        } else {
            (target - in_ramp) / self.rate + ramp
        };
        Duration::from_secs_f64(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_schedule_is_evenly_spaced() {
        let arrivals = Arrivals::new(100.0, Duration::from_secs(10), None);
        assert_eq!(arrivals.total(), 1000);
        assert_eq!(arrivals.offset(0), Duration::from_millis(5));
        assert_eq!(arrivals.offset(1), Duration::from_millis(15));
        assert_eq!(arrivals.offset(999), Duration::from_millis(9995));
    }

    #[test]
    fn a_ramp_starts_slow_and_reaches_the_rate() {
        let arrivals = Arrivals::new(100.0, Duration::from_secs(10), Some(Duration::from_secs(4)));
        // 4 s ramp holds 200 arrivals, then 6 s at 100/s.
        assert_eq!(arrivals.total(), 800);
        let gap = |i: u64| arrivals.offset(i + 1).as_secs_f64() - arrivals.offset(i).as_secs_f64();
        assert!(gap(0) > gap(100), "gaps shrink during the ramp");
        assert!((gap(500) - 0.01).abs() < 1e-9, "10 ms apart after the ramp");
    }

    #[test]
    fn offsets_and_counts_agree() {
        let arrivals = Arrivals::new(37.0, Duration::from_secs(5), Some(Duration::from_secs(2)));
        for index in 0..arrivals.total() {
            let at = arrivals.offset(index);
            assert_eq!(
                arrivals.count_before(at + Duration::from_micros(1)),
                index + 1,
                "arrival {index}"
            );
        }
    }
}
