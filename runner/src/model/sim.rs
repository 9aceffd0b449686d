//! The simulation itself: a clock in 5 ms steps, the scenario's arrivals,
//! pods, connections, metrics-server and the HPA (see the module above).

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, VecDeque},
    time::{Duration, Instant},
};

use anyhow::bail;
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{
    Assumptions,
    hpa::{self, History, PodMetric},
};
use crate::{
    load::{
        arrivals::Arrivals,
        collector::{Collector, ErrorKind, Outcome, Totals},
    },
    manifests::Scaling,
    probe::{ProbeRecord, Series},
    run,
    scenario::{KubeKind, Scenario, Source},
    score::Score,
};

/// The simulation's step.
const STEP: f64 = 0.005;
/// The CFS period in which a pod's CPU limit is its quota.
const CFS_PERIOD: f64 = 0.1;
/// metrics-server's resolution and the HPA's sync period.
const PERIOD: f64 = 15.0;
/// When the first scrape and the first sync happen, from the start.
const FIRST_SCRAPE: f64 = 5.0;
const FIRST_SYNC: f64 = 10.0;
/// How often the scenario's Kubernetes probes sample.
const PROBE_EVERY: f64 = 5.0;
/// reqwest closes a connection idle this long.
const IDLE_CLOSE: f64 = 90.0;
/// Fixed, so that a prediction is the same on every run.
const SEED: u64 = 4;

/// What the model predicts.
#[derive(Debug)]
pub struct Prediction {
    pub scaling: Scaling,
    pub score: Score,
    pub totals: Totals,
    /// One row per HPA period.
    pub timeline: Vec<Window>,
    pub first_ready: u32,
    pub max_ready: u32,
}

/// One 15 s stretch of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub from_secs: u32,
    pub to_secs: u32,
    /// Requests per second meant to be sent.
    pub offered: f64,
    /// Ready pods at the end.
    pub ready: u32,
    /// What the HPA asked for at its sync in this stretch.
    pub desired: u32,
    /// The HPA's average utilisation (usage / request) at that sync.
    pub utilisation: Option<f64>,
    /// p95 of the requests meant to be sent in this stretch.
    pub p95_ms: Option<f64>,
    /// Of those, how many failed (timed out, or found no ready pod).
    pub failed: u64,
}

struct Pod {
    ready_at: f64,
    removed: bool,
    /// CPU seconds each active request has received (processor sharing).
    virtual_time: f64,
    /// (virtual time at which it is done, request)
    jobs: BinaryHeap<Reverse<(u64, usize)>>,
    cpu_used: f64,
    /// CPU seconds left in this CFS period.
    quota: f64,
    /// (scrape time, cumulative CPU seconds) of the last two scrapes.
    scrapes: VecDeque<(f64, f64)>,
}

impl Pod {
    fn new(ready_at: f64) -> Self {
        Self {
            ready_at,
            removed: false,
            virtual_time: 0.0,
            jobs: BinaryHeap::new(),
            cpu_used: 0.0,
            quota: 0.0,
            scrapes: VecDeque::new(),
        }
    }

    /// Never placed: its CPU request did not fit the node.
    fn pending(&self) -> bool {
        self.ready_at == f64::INFINITY
    }

    fn ready(&self, now: f64) -> bool {
        !self.removed && self.ready_at <= now
    }
}

struct Connection {
    pod: usize,
    open: bool,
    idle_since: f64,
}

#[derive(Clone, Copy)]
struct Request {
    intended: f64,
    connection: Option<usize>,
    done: Option<(f64, Outcome)>,
}

/// Virtual time as an integer key: nanoseconds of CPU.
fn key(seconds: f64) -> u64 {
    (seconds * 1e9) as u64
}

pub(super) fn simulate(
    scenario: &Scenario,
    scaling: &Scaling,
    assumptions: &Assumptions,
) -> anyhow::Result<Prediction> {
    let spec = scaling.hpa.as_ref().and_then(|hpa| hpa.spec.clone());
    // The HPA cannot compute a utilisation without a request.
    let spec = spec.filter(|_| scaling.cpu_request.is_some_and(|r| r > 0.0));
    let request_cpu = scaling.cpu_request.unwrap_or(0.0);
    let pod_cpu = scaling
        .cpu_limit
        .unwrap_or(assumptions.node_cpus)
        .min(assumptions.node_cpus);
    if pod_cpu <= 0.0 {
        bail!("the api pod's CPU limit is 0: it could serve nothing");
    }
    let mut replicas = scaling.replicas.unwrap_or(1);
    if let Some(spec) = &spec {
        replicas = replicas.clamp(spec.min, spec.max);
    }
    if replicas == 0 {
        bail!("the api Deployment asks for 0 replicas and no HPA raises it");
    }
    let cost = assumptions.cpu_cost.as_secs_f64();
    let cap = scenario.request_cap.as_secs_f64();
    let arrivals = Arrivals::new(scenario.rate, scenario.duration, scenario.ramp);
    let total = usize::try_from(arrivals.total()).unwrap_or(usize::MAX);
    let end = scenario.duration.as_secs_f64() + cap + STEP;

    let mut rng = StdRng::seed_from_u64(SEED);
    // Running since before the run, so ready, where their requests fit.
    let mut pods: Vec<Pod> = (0..replicas)
        .map(|index| {
            let fits = f64::from(index + 1) * request_cpu <= assumptions.node_cpus;
            Pod::new(if fits {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        })
        .collect();
    let mut connections: Vec<Connection> = Vec::new();
    let mut idle: Vec<usize> = Vec::new();
    let mut requests: Vec<Request> = Vec::with_capacity(total);
    let mut waiting: VecDeque<usize> = VecDeque::new();
    let mut history = History::default();
    let mut ready_series = Vec::new();
    let mut hpa_series: [Vec<(f64, f64)>; 3] = Default::default();
    let mut syncs: Vec<(f64, u32, Option<f64>)> = Vec::new();
    let (mut next_scrape, mut next_sync, mut next_probe) = (FIRST_SCRAPE, FIRST_SYNC, 0.0);
    let mut next_period = 0.0;

    let mut step = 0u64;
    loop {
        let now = step as f64 * STEP;
        if now > end {
            break;
        }
        step += 1;

        // Arrivals due by now: a connection, a pod, a job.
        while requests.len() < total {
            let intended = arrivals.offset(requests.len() as u64).as_secs_f64();
            if intended > now {
                break;
            }
            let id = requests.len();
            let mut request = Request {
                intended,
                connection: None,
                done: None,
            };
            let pod = if assumptions.sticky {
                reuse(&mut idle, &connections, &pods, now)
                    .or_else(|| {
                        let pod = random_ready(&pods, now, &mut rng)?;
                        connections.push(Connection {
                            pod,
                            open: true,
                            idle_since: now,
                        });
                        Some(connections.len() - 1)
                    })
                    .map(|connection| {
                        request.connection = Some(connection);
                        connections[connection].pod
                    })
            } else {
                random_ready(&pods, now, &mut rng)
            };
            match pod {
                Some(pod) => {
                    let pod = &mut pods[pod];
                    pod.jobs.push(Reverse((key(pod.virtual_time + cost), id)));
                    waiting.push_back(id);
                }
                None => request.done = Some((now, Outcome::Failed(ErrorKind::Connect))),
            }
            requests.push(request);
        }

        // The pods work. Each active request runs on a core of its own, as
        // CFS runs it, while the pod's quota for this 100 ms period lasts
        // (its CPU limit × 100 ms); then the pod is throttled until the
        // next period. The node's CPUs bound all pods together.
        if now >= next_period {
            next_period += CFS_PERIOD;
            for pod in &mut pods {
                pod.quota = pod_cpu * CFS_PERIOD;
            }
        }
        let wants: Vec<f64> = pods
            .iter()
            .map(|pod| (pod.jobs.len() as f64 * STEP).min(pod.quota))
            .collect();
        let demand: f64 = wants.iter().sum::<f64>() / STEP;
        let node_share = if demand > assumptions.node_cpus {
            assumptions.node_cpus / demand
        } else {
            1.0
        };
        for (pod, want) in pods.iter_mut().zip(wants) {
            let active = pod.jobs.len() as f64;
            if active == 0.0 || want <= 0.0 {
                continue;
            }
            let used = want * node_share;
            pod.quota -= used;
            pod.virtual_time += used / active;
            pod.cpu_used += used;
            while let Some(&Reverse((done_at, id))) = pod.jobs.peek() {
                if done_at > key(pod.virtual_time) {
                    break;
                }
                pod.jobs.pop();
                let request = &mut requests[id];
                if request.done.is_none() {
                    // Done by the end of this step.
                    request.done = Some((now + STEP, Outcome::Status(200)));
                    if let Some(connection) = request.connection {
                        connections[connection].idle_since = now + STEP;
                        idle.push(connection);
                    }
                }
            }
        }

        // The client gives up at the cap and closes the connection; the
        // pod keeps burning the CPU.
        while let Some(&id) = waiting.front() {
            let request = &mut requests[id];
            if request.done.is_none() && request.intended + cap > now {
                break;
            }
            waiting.pop_front();
            if request.done.is_none() {
                request.done = Some((now, Outcome::Failed(ErrorKind::Timeout)));
                if let Some(connection) = request.connection {
                    connections[connection].open = false;
                }
            }
        }

        if now >= next_scrape {
            next_scrape += PERIOD;
            for pod in pods.iter_mut().filter(|pod| !pod.removed) {
                pod.scrapes.push_back((now, pod.cpu_used));
                if pod.scrapes.len() > 2 {
                    pod.scrapes.pop_front();
                }
            }
        }

        if now >= next_sync {
            next_sync += PERIOD;
            let current = pods.iter().filter(|pod| !pod.removed).count() as u32;
            match &spec {
                None => syncs.push((now, current, None)),
                Some(spec) => {
                    let decision = sync(spec, &pods, &mut history, now, current, request_cpu);
                    syncs.push((now, decision.next, decision.average));
                    hpa_series[0].push((now, f64::from(current)));
                    hpa_series[1].push((now, f64::from(decision.next)));
                    if let Some(average) = decision.average {
                        hpa_series[2].push((now, (100.0 * average).round()));
                    }
                    resize(
                        &mut pods,
                        &mut connections,
                        decision.next,
                        now,
                        request_cpu,
                        assumptions,
                    );
                }
            }
        }

        if now >= next_probe {
            next_probe += PROBE_EVERY;
            let ready = pods.iter().filter(|pod| pod.ready(now)).count();
            ready_series.push((now, ready as f64));
        }

        if requests.len() == total && waiting.is_empty() {
            break;
        }
    }

    let collector = record(scenario, &arrivals, &requests);
    let probes = probe_records(scenario, spec.as_ref(), ready_series.clone(), hpa_series);
    let score = run::score(scenario, &collector, &probes);
    let ready_counts = ready_series.iter().map(|&(_, ready)| ready as u32);
    Ok(Prediction {
        scaling: scaling.clone(),
        score,
        totals: collector.totals(),
        timeline: timeline(scenario, &requests, &ready_series, &syncs),
        first_ready: ready_series.first().map_or(0, |&(_, ready)| ready as u32),
        max_ready: ready_counts.max().unwrap_or(0),
    })
}

/// What the HPA decided at one sync.
struct Decision {
    next: u32,
    /// The average utilisation it computed from.
    average: Option<f64>,
}

fn sync(
    spec: &hpa::Spec,
    pods: &[Pod],
    history: &mut History,
    now: f64,
    current: u32,
    request_cpu: f64,
) -> Decision {
    let metrics: Vec<PodMetric> = pods
        .iter()
        .filter(|pod| !pod.removed)
        .map(|pod| metric(pod, now, request_cpu))
        .collect();
    let counted: Vec<f64> = metrics
        .iter()
        .filter_map(|metric| match metric {
            PodMetric::Counted(usage) => Some(*usage),
            _ => None,
        })
        .collect();
    let average = (!counted.is_empty()).then(|| counted.iter().sum::<f64>() / counted.len() as f64);
    let target = f64::from(spec.target_percent) / 100.0;
    let desired = hpa::desired_from_metrics(&metrics, target, current);
    Decision {
        next: history.decide(spec, now, current, desired),
        average,
    }
}

/// The most recently idle connection still open to a pod still there.
fn reuse(
    idle: &mut Vec<usize>,
    connections: &[Connection],
    pods: &[Pod],
    now: f64,
) -> Option<usize> {
    while let Some(connection) = idle.pop() {
        let found = &connections[connection];
        if found.open && !pods[found.pod].removed && now - found.idle_since < IDLE_CLOSE {
            return Some(connection);
        }
    }
    None
}

fn random_ready(pods: &[Pod], now: f64, rng: &mut StdRng) -> Option<usize> {
    let ready: Vec<usize> = (0..pods.len()).filter(|&i| pods[i].ready(now)).collect();
    (!ready.is_empty()).then(|| ready[rng.gen_range(0..ready.len())])
}

/// A pod's metric at a sync, as the HPA groups it.
fn metric(pod: &Pod, now: f64, request_cpu: f64) -> PodMetric {
    let (Some(&(from, before)), Some(&(to, after))) = (pod.scrapes.front(), pod.scrapes.back())
    else {
        return PodMetric::Missing;
    };
    if pod.scrapes.len() < 2 || to <= from {
        return PodMetric::Missing;
    }
    // Not ready, or its window began before it was ready.
    if !pod.ready(now) || from < pod.ready_at {
        return PodMetric::NotYet;
    }
    PodMetric::Counted((after - before) / (to - from) / request_cpu)
}

/// Creates or removes pods to reach `replicas`; the newest go first.
fn resize(
    pods: &mut Vec<Pod>,
    connections: &mut [Connection],
    replicas: u32,
    now: f64,
    request_cpu: f64,
    assumptions: &Assumptions,
) {
    let live = pods.iter().filter(|pod| !pod.removed).count() as u32;
    for _ in live..replicas {
        // The scheduler places a pod only where its request fits: one that
        // does not stays Pending, never ready.
        let placed = pods.iter().filter(|pod| !pod.removed && !pod.pending());
        let requested = (placed.count() + 1) as f64 * request_cpu;
        let ready_at = if requested <= assumptions.node_cpus {
            now + assumptions.ready_delay.as_secs_f64()
        } else {
            f64::INFINITY
        };
        pods.push(Pod::new(ready_at));
    }
    for _ in replicas..live {
        if let Some(index) = pods.iter().rposition(|pod| !pod.removed) {
            pods[index].removed = true;
            for connection in connections.iter_mut().filter(|c| c.pod == index) {
                connection.open = false;
            }
        }
    }
}

/// Every request into a real [`Collector`], on a clock that starts now:
/// the model's metrics are computed exactly as a run's.
fn record(scenario: &Scenario, arrivals: &Arrivals, requests: &[Request]) -> Collector {
    let start = Instant::now();
    let collector = Collector::new(start, scenario.answers.as_ref());
    let at = |secs: f64| start + Duration::from_secs_f64(secs.max(0.0));
    for (index, request) in requests.iter().enumerate() {
        let intended = start + arrivals.offset(index as u64);
        collector.intended(intended);
        collector.sending(intended);
        let (done, outcome) = request
            .done
            .unwrap_or((request.intended, Outcome::Failed(ErrorKind::Other)));
        collector.finished(intended, intended, at(done), outcome, None);
    }
    collector
}

/// The scenario's Kubernetes probes as a run would have recorded them.
fn probe_records(
    scenario: &Scenario,
    spec: Option<&hpa::Spec>,
    ready: Vec<(f64, f64)>,
    hpa: [Vec<(f64, f64)>; 3],
) -> Vec<ProbeRecord> {
    let [current, desired, utilisation] = hpa;
    // The spec's minimum, as each sync would read it.
    let minimum: Vec<(f64, f64)> = match spec {
        Some(spec) => current
            .iter()
            .map(|&(t, _)| (t, f64::from(spec.min)))
            .collect(),
        None => Vec::new(),
    };
    scenario
        .probes
        .iter()
        .filter_map(|probe| {
            let Source::Kubernetes(object) = &probe.source else {
                return None;
            };
            let known: Vec<(&str, &Vec<(f64, f64)>)> = match object.kind {
                KubeKind::Deployment => vec![("status.readyReplicas", &ready)],
                KubeKind::HorizontalPodAutoscaler => vec![
                    ("spec.minReplicas", &minimum),
                    ("status.currentReplicas", &current),
                    ("status.desiredReplicas", &desired),
                    (
                        "status.currentMetrics.0.resource.current.averageUtilization",
                        &utilisation,
                    ),
                ],
            };
            let series = known
                .into_iter()
                .filter(|(field, _)| probe.fields.iter().any(|wanted| wanted == field))
                .map(|(field, points)| Series {
                    probe: probe.name.clone(),
                    field: field.to_owned(),
                    points: points.clone(),
                })
                .collect();
            Some(ProbeRecord {
                name: probe.name.clone(),
                url: format!("model of {}", object.kind.as_str()),
                polls: 0,
                failed_polls: 0,
                series,
            })
        })
        .collect()
}

/// One row per HPA period.
fn timeline(
    scenario: &Scenario,
    requests: &[Request],
    ready: &[(f64, f64)],
    syncs: &[(f64, u32, Option<f64>)],
) -> Vec<Window> {
    let duration = scenario.duration.as_secs_f64();
    let mut windows = Vec::new();
    let mut from = 0.0;
    while from < duration {
        let to = (from + PERIOD).min(duration);
        let within = |t: f64| t >= from && t < to;
        let mut latencies: Vec<f64> = Vec::new();
        let mut failed = 0;
        for request in requests.iter().filter(|r| within(r.intended)) {
            if let Some((done, outcome)) = request.done {
                latencies.push(1000.0 * (done - request.intended));
                failed += u64::from(!outcome.is_success());
            }
        }
        latencies.sort_by(f64::total_cmp);
        let p95_ms = (!latencies.is_empty())
            .then(|| latencies[((latencies.len() as f64 * 0.95).ceil() as usize).max(1) - 1]);
        let sync = syncs.iter().rev().find(|(t, ..)| *t < to);
        let ready_at_end = ready
            .iter()
            .rev()
            .find(|(t, _)| *t < to)
            .map_or(0, |&(_, n)| n as u32);
        windows.push(Window {
            from_secs: from as u32,
            to_secs: to as u32,
            offered: latencies.len() as f64 / (to - from),
            ready: ready_at_end,
            desired: sync.map_or(ready_at_end, |&(_, desired, _)| desired),
            utilisation: sync.and_then(|&(_, _, utilisation)| utilisation),
            p95_ms,
            failed,
        });
        from = to;
    }
    windows
}
