//! What one call to dep does, chosen by the caller in the query string.
//!
//! `GET /work?latency_ms=20&dist=lognormal&hang_rate=0.1&hang_ms=10000&fail_rate=0.01`
//!
//! | parameter     | meaning                                                   | default |
//! |---------------|-----------------------------------------------------------|---------|
//! | `latency_ms`  | normal latency: fixed value, mean (exp) or median (lognormal) | 0   |
//! | `dist`        | `fixed`, `exp` or `lognormal`                             | fixed   |
//! | `sigma`       | spread of the lognormal distribution, 0 < sigma <= 3       | 0.5     |
//! | `hang_rate`   | brownout: fraction of calls, 0..=1, that hang              | 0       |
//! | `hang_ms`     | how long a hanging call hangs before it answers 200        | 30000   |
//! | `fail_rate`   | fraction of calls, 0..=1, that fail                        | 0       |
//! | `fail_status` | the status a failing call answers with, 400..=599          | 500     |
//!
//! The api keeps each case's dependency behaviour as one of these query
//! strings, so what a case asks of dep is visible in one line.
//!
//! Parsing is by hand over the decoded pairs rather than a serde struct so
//! that every error names the parameter and the accepted range.

use std::{fmt, str::FromStr, time::Duration};

use axum::http::StatusCode;
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};

/// The longest latency or hang dep accepts: ten minutes. Longer values are
/// almost certainly a unit mistake (seconds given as milliseconds).
pub const MAX_MS: u64 = 600_000;

const PARAMETERS: &str = "latency_ms, dist, sigma, hang_rate, hang_ms, fail_rate, fail_status";

/// A validated behaviour for one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    latency: Latency,
    hang_rate: f64,
    hang: Duration,
    fail_rate: f64,
    fail_status: StatusCode,
}

/// How the normal (not hanging) latency is drawn.
#[derive(Debug, Clone, PartialEq)]
enum Latency {
    Fixed(Duration),
    /// Exponential with this mean: many quick calls, a long thin tail.
    Exponential(Duration),
    /// Lognormal with this median and spread: the shape most real
    /// services' latency has.
    LogNormal {
        median: Duration,
        sigma: f64,
    },
}

/// What dep will do for one call, drawn from a [`Behaviour`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub delay: Duration,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The call hung for the brownout time, then answered 200.
    Hung,
    Fail(StatusCode),
}

/// A parameter that dep does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{parameter}`: {problem}")]
pub struct BehaviourError {
    pub parameter: String,
    pub problem: String,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            latency: Latency::Fixed(Duration::ZERO),
            hang_rate: 0.0,
            hang: Duration::from_secs(30),
            fail_rate: 0.0,
            fail_status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl Behaviour {
    /// Parses a query string such as `latency_ms=20&hang_rate=0.1`.
    pub fn parse(query: &str) -> Result<Self, BehaviourError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query).map_err(|error| BehaviourError {
                parameter: "(query string)".into(),
                problem: format!("cannot be decoded: {error}"),
            })?;

        let mut latency_ms = None;
        let mut dist = None;
        let mut sigma = None;
        let mut behaviour = Behaviour::default();
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in &pairs {
            let key = key.as_str();
            if seen.contains(&key) {
                return Err(problem(key, "is given twice; give it once"));
            }
            match key {
                "latency_ms" => latency_ms = Some(parse_ms(key, value)?),
                "dist" => dist = Some(value.as_str()),
                "sigma" => sigma = Some(parse_number(key, value, 0.0, 3.0, false)?),
                "hang_rate" => behaviour.hang_rate = parse_number(key, value, 0.0, 1.0, true)?,
                "hang_ms" => behaviour.hang = parse_ms(key, value)?,
                "fail_rate" => behaviour.fail_rate = parse_number(key, value, 0.0, 1.0, true)?,
                "fail_status" => behaviour.fail_status = parse_status(key, value)?,
                other => {
                    return Err(problem(
                        other,
                        &format!("is not a known parameter; known parameters are {PARAMETERS}"),
                    ));
                }
            }
            seen.push(key);
        }

        behaviour.latency = latency(latency_ms, dist, sigma)?;
        if behaviour.hang_rate + behaviour.fail_rate > 1.0 {
            return Err(problem(
                "fail_rate",
                "hang_rate + fail_rate is more than 1; lower one of them",
            ));
        }
        Ok(behaviour)
    }

    /// Draws what one call does. Hanging is decided first, then failing, so
    /// the two rates are shares of all calls.
    pub fn plan(&self, rng: &mut impl Rng) -> Plan {
        let roll: f64 = rng.r#gen();
        if roll < self.hang_rate {
            return Plan {
                delay: self.hang,
                outcome: Outcome::Hung,
            };
        }
        let delay = self.draw_latency(rng);
        let outcome = if roll < self.hang_rate + self.fail_rate {
            Outcome::Fail(self.fail_status)
        } else {
            Outcome::Ok
        };
        Plan { delay, outcome }
    }

    fn draw_latency(&self, rng: &mut impl Rng) -> Duration {
        let ms = match self.latency {
            Latency::Fixed(latency) => return latency,
            Latency::Exponential(mean) if mean.is_zero() => return Duration::ZERO,
            Latency::Exponential(mean) => match Exp::new(1.0 / mean.as_secs_f64() / 1000.0) {
                Ok(exp) => exp.sample(rng),
                Err(_) => return mean,
            },
            Latency::LogNormal { median, .. } if median.is_zero() => return Duration::ZERO,
            Latency::LogNormal { median, sigma } => {
                match LogNormal::new((median.as_secs_f64() * 1000.0).ln(), sigma) {
                    Ok(lognormal) => lognormal.sample(rng),
                    Err(_) => return median,
                }
            }
        };
        // A heavy tail can draw absurd values; cap them like any parameter.
        Duration::from_secs_f64(ms.min(MAX_MS as f64) / 1000.0)
    }
}

impl FromStr for Behaviour {
    type Err = BehaviourError;

    fn from_str(query: &str) -> Result<Self, Self::Err> {
        Self::parse(query)
    }
}

/// The canonical query string: parameters that differ from the defaults,
/// in a fixed order. `Behaviour::parse(&b.to_string()) == b`.
impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut pairs: Vec<String> = Vec::new();
        match self.latency {
            Latency::Fixed(latency) => pairs.push(format!("latency_ms={}", latency.as_millis())),
            Latency::Exponential(mean) => {
                pairs.push(format!("latency_ms={}&dist=exp", mean.as_millis()));
            }
            Latency::LogNormal { median, sigma } => pairs.push(format!(
                "latency_ms={}&dist=lognormal&sigma={sigma}",
                median.as_millis()
            )),
        }
        let default = Behaviour::default();
        if self.hang_rate > 0.0 || self.hang != default.hang {
            pairs.push(format!(
                "hang_rate={}&hang_ms={}",
                self.hang_rate,
                self.hang.as_millis()
            ));
        }
        if self.fail_rate > 0.0 || self.fail_status != default.fail_status {
            pairs.push(format!(
                "fail_rate={}&fail_status={}",
                self.fail_rate,
                self.fail_status.as_u16()
            ));
        }
        f.write_str(&pairs.join("&"))
    }
}

fn problem(parameter: &str, problem: &str) -> BehaviourError {
    BehaviourError {
        parameter: parameter.to_owned(),
        problem: problem.to_owned(),
    }
}

fn parse_ms(key: &str, value: &str) -> Result<Duration, BehaviourError> {
    match value.parse::<u64>() {
        Ok(ms) if ms <= MAX_MS => Ok(Duration::from_millis(ms)),
        _ => Err(problem(
            key,
            &format!("expected whole milliseconds from 0 to {MAX_MS}, got `{value}`"),
        )),
    }
}

fn parse_number(
    key: &str,
    value: &str,
    min: f64,
    max: f64,
    min_allowed: bool,
) -> Result<f64, BehaviourError> {
    let low = if min_allowed { "from" } else { "above" };
    match value.parse::<f64>() {
        Ok(n) if n <= max && (n > min || (min_allowed && n == min)) => Ok(n),
        _ => Err(problem(
            key,
            &format!("expected a number {low} {min} to {max}, got `{value}`"),
        )),
    }
}

fn parse_status(key: &str, value: &str) -> Result<StatusCode, BehaviourError> {
    value
        .parse::<u16>()
        .ok()
        .filter(|code| (400..=599).contains(code))
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| {
            problem(
                key,
                &format!("expected an error status from 400 to 599, got `{value}`"),
            )
        })
}

/// The latency `dist` describes around `latency_ms` (fixed by default);
/// `sigma` shapes only a lognormal one.
fn latency(
    latency_ms: Option<Duration>,
    dist: Option<&str>,
    sigma: Option<f64>,
) -> Result<Latency, BehaviourError> {
    let latency = latency_ms.unwrap_or(Duration::ZERO);
    match dist.unwrap_or("fixed") {
        "fixed" | "exp" if sigma.is_some() => {
            Err(problem("sigma", "only applies to dist=lognormal"))
        }
        "fixed" => Ok(Latency::Fixed(latency)),
        "exp" => Ok(Latency::Exponential(latency)),
        "lognormal" => Ok(Latency::LogNormal {
            median: latency,
            sigma: sigma.unwrap_or(0.5),
        }),
        other => Err(problem(
            "dist",
            &format!("`{other}` is not a distribution; use fixed, exp or lognormal"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn empty_query_is_an_instant_success() {
        let behaviour = Behaviour::parse("").expect("empty query parses");
        let plan = behaviour.plan(&mut StdRng::seed_from_u64(1));
        assert_eq!(plan.delay, Duration::ZERO);
        assert_eq!(plan.outcome, Outcome::Ok);
    }

    #[test]
    fn canonical_form_parses_back_to_the_same_behaviour() {
        for query in [
            "latency_ms=20",
            "latency_ms=20&dist=exp",
            "latency_ms=20&dist=lognormal&sigma=0.8&hang_rate=0.1&hang_ms=9000",
            "latency_ms=5&fail_rate=0.25&fail_status=503",
        ] {
            let behaviour = Behaviour::parse(query).expect(query);
            assert_eq!(behaviour.to_string(), query);
            assert_eq!(Behaviour::parse(&behaviour.to_string()), Ok(behaviour));
        }
    }

    #[test]
    fn errors_name_the_parameter() {
        for (query, parameter) in [
            ("latency_ms=abc", "latency_ms"),
            ("latency_ms=-1", "latency_ms"),
            ("hang_ms=600001", "hang_ms"),
            ("hang_rate=1.5", "hang_rate"),
            ("fail_rate=nan", "fail_rate"),
            ("fail_status=200", "fail_status"),
            ("dist=pareto", "dist"),
            ("sigma=0.5", "sigma"),
            ("latency_ms=1&dist=lognormal&sigma=0", "sigma"),
            ("speed=fast", "speed"),
            ("latency_ms=1&latency_ms=2", "latency_ms"),
            ("hang_rate=0.6&fail_rate=0.6", "fail_rate"),
        ] {
            let error = Behaviour::parse(query).expect_err(query);
            assert_eq!(error.parameter, parameter, "{query}: {error}");
        }
    }

    #[test]
    fn rates_are_shares_of_all_calls() {
        let behaviour = Behaviour::parse("latency_ms=1&hang_rate=0.2&hang_ms=5000&fail_rate=0.3")
            .expect("valid");
        let mut rng = StdRng::seed_from_u64(7);
        let plans: Vec<Plan> = (0..10_000).map(|_| behaviour.plan(&mut rng)).collect();
        let hung = plans.iter().filter(|p| p.outcome == Outcome::Hung).count();
        let failed = plans
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Fail(_)))
            .count();
        assert!((1800..2200).contains(&hung), "hung {hung}");
        assert!((2700..3300).contains(&failed), "failed {failed}");
        assert!(
            plans
                .iter()
                .filter(|p| p.outcome == Outcome::Hung)
                .all(|p| p.delay == Duration::from_secs(5))
        );
    }

    #[test]
    fn lognormal_median_is_close_to_latency_ms() {
        let behaviour = Behaviour::parse("latency_ms=40&dist=lognormal&sigma=0.5").expect("valid");
        let mut rng = StdRng::seed_from_u64(3);
        let mut delays: Vec<Duration> =
            (0..5_001).map(|_| behaviour.plan(&mut rng).delay).collect();
        delays.sort();
        let median = delays[2_500].as_secs_f64() * 1000.0;
        assert!((36.0..44.0).contains(&median), "median {median} ms");
    }
}
