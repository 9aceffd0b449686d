//! The simulation itself: a clock in 5 ms steps, the scenario's arrivals,
//! pods, connections, metrics-server and the HPA (see the module above).
//! Each step runs the same phases in order: requests arrive, the pods
//! work, clients give up, metrics-server scrapes, the HPA syncs, the probes
//! look.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use anyhow::bail;
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::Assumptions;
use crate::{
    hpa::{self, History, PodMetric},
    kube_fields,
    load::{
        arrivals::Arrivals,
        collector::{Collector, ErrorKind, Outcome, Totals},
    },
    manifests::Scaling,
    probe::{ProbeRecord, Series},
    scenario::{KubeKind, Scenario, Source},
    score::{self, Score},
};

/// The simulation's step.
const STEP: f64 = 0.005;
/// The CFS period in which a pod's CPU limit is its quota.
const CFS_PERIOD: f64 = 0.1;
/// metrics-server's resolution and the HPA's sync period.
const PERIOD: f64 = 15.0;
/// How often the scenario's Kubernetes probes sample.
const PROBE_EVERY: f64 = 5.0;
/// How often each pod's health endpoint is asked, and how long the asker
/// waits: kubelet's probe timeout (`timeoutSeconds`, 1 s by default). A
/// second and a few ms, so that the asks fall at every phase of the pod's
/// CFS periods, as kubelet's own clock does, not always at their start.
const HEALTH_EVERY: f64 = 1.013;
const HEALTH_TIMEOUT: f64 = 1.0;
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
    /// The pods' health endpoints, asked as kubelet asks them.
    pub health: Health,
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

/// Every ready pod's health endpoint, asked every second with kubelet's
/// 1 s timeout. The api runs its CPU work on at most as many threads as
/// its CPU limit has cores, so an answer waits at most for the pod's next
/// CFS period; it fails only if that is longer than the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Health {
    pub polls: u64,
    pub failed: u64,
    /// The longest an answer waited, in milliseconds.
    pub slowest_ms: f64,
}

/// A request a pod is computing, and the CPU seconds it still needs.
struct Running {
    request: usize,
    left: f64,
}

/// Cumulative CPU seconds as metrics-server read them.
#[derive(Clone, Copy)]
struct Scrape {
    at: f64,
    cpu: f64,
}

struct Pod {
    ready_at: f64,
    removed: bool,
    /// Requests waiting for one of the pod's CPU slots, oldest first.
    queue: VecDeque<usize>,
    /// At most `slots` requests computing, each on a core of its own.
    running: Vec<Running>,
    cpu_used: f64,
    /// CPU seconds left in this CFS period.
    quota: f64,
    /// The last two scrapes.
    scrapes: VecDeque<Scrape>,
}

impl Pod {
    fn new(ready_at: f64) -> Self {
        Self {
            ready_at,
            removed: false,
            queue: VecDeque::new(),
            running: Vec::new(),
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

/// What the HPA decided at one sync.
struct Decision {
    at: f64,
    next: u32,
    /// The average utilisation it computed from.
    average: Option<f64>,
}

/// The HPA's status fields over the run, as its probe would read them.
#[derive(Default)]
struct HpaSeries {
    current: Vec<(f64, f64)>,
    desired: Vec<(f64, f64)>,
    utilisation: Vec<(f64, f64)>,
}

/// When each periodic phase runs next.
struct Clock {
    next_period: f64,
    next_scrape: f64,
    next_sync: f64,
    next_probe: f64,
    next_health: f64,
}

/// The pods as the manifests deploy them.
struct Deployment {
    spec: Option<hpa::Spec>,
    request_cpu: f64,
    /// The CPU one pod can use: its limit, within the node.
    pod_cpu: f64,
    /// Requests one pod computes at once: the cores its limit spans, as
    /// the api sizes its CPU slots (`available_parallelism`).
    slots: usize,
    replicas: u32,
}

impl Deployment {
    fn read(scaling: &Scaling, assumptions: &Assumptions) -> anyhow::Result<Self> {
        let spec = scaling.hpa.as_ref().and_then(|hpa| hpa.spec.clone());
        // The HPA cannot compute a utilisation without a request.
        let spec = spec.filter(|_| scaling.cpu_request.is_some_and(|r| r > 0.0));
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
        Ok(Self {
            spec,
            request_cpu: scaling.cpu_request.unwrap_or(0.0),
            pod_cpu,
            slots: (pod_cpu - 1e-9).ceil().max(1.0) as usize,
            replicas,
        })
    }
}

struct Sim<'a> {
    scenario: &'a Scenario,
    assumptions: &'a Assumptions,
    deployment: Deployment,
    arrivals: Arrivals,
    total: usize,
    rng: StdRng,
    pods: Vec<Pod>,
    connections: Vec<Connection>,
    idle: Vec<usize>,
    requests: Vec<Request>,
    /// Requests not yet answered nor given up on, oldest first.
    waiting: VecDeque<usize>,
    history: History,
    clock: Clock,
    ready: Vec<(f64, f64)>,
    hpa: HpaSeries,
    syncs: Vec<Decision>,
    health: Health,
    /// When the scored run starts: 0, or after a first run and a pause.
    offset: f64,
}

pub(super) fn simulate(
    scenario: &Scenario,
    scaling: &Scaling,
    assumptions: &Assumptions,
) -> anyhow::Result<Prediction> {
    let mut sim = Sim::new(scenario, scaling, assumptions)?;
    let run = scenario.duration.as_secs_f64() + scenario.request_cap.as_secs_f64() + STEP;
    let mut step = sim.run_until(0, run);
    if let Some(after) = assumptions.rerun_after {
        // The cluster between the two runs: no load, the HPA at work.
        let start = scenario.duration.as_secs_f64() + after.as_secs_f64();
        while (step as f64) * STEP < start {
            sim.step(step as f64 * STEP);
            step += 1;
        }
        sim.begin_rerun(step as f64 * STEP);
        sim.run_until(step, sim.offset + run);
    }
    Ok(sim.predict(scaling))
}

impl<'a> Sim<'a> {
    fn new(
        scenario: &'a Scenario,
        scaling: &Scaling,
        assumptions: &'a Assumptions,
    ) -> anyhow::Result<Self> {
        let deployment = Deployment::read(scaling, assumptions)?;
        let arrivals = Arrivals::new(scenario.rate, scenario.duration, scenario.ramp);
        let total = usize::try_from(arrivals.total()).unwrap_or(usize::MAX);
        // Running since before the run, so ready, where their requests fit.
        let pods = (0..deployment.replicas)
            .map(|index| {
                let fits = f64::from(index + 1) * deployment.request_cpu <= assumptions.node_cpus;
                Pod::new(if fits {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                })
            })
            .collect();
        Ok(Self {
            scenario,
            assumptions,
            deployment,
            arrivals,
            total,
            rng: StdRng::seed_from_u64(SEED),
            pods,
            connections: Vec::new(),
            idle: Vec::new(),
            requests: Vec::with_capacity(total),
            waiting: VecDeque::new(),
            history: History::default(),
            clock: Clock {
                next_period: 0.0,
                next_scrape: (assumptions.sync_phase.as_secs_f64()
                    - assumptions.metrics_age.as_secs_f64())
                .rem_euclid(PERIOD),
                next_sync: assumptions.sync_phase.as_secs_f64(),
                next_probe: 0.0,
                next_health: 0.0,
            },
            ready: Vec::new(),
            hpa: HpaSeries::default(),
            syncs: Vec::new(),
            health: Health::default(),
            offset: 0.0,
        })
    }

    /// Steps from `step` until the run's requests are all answered or
    /// given up on, or `end`; returns the next step.
    fn run_until(&mut self, mut step: u64, end: f64) -> u64 {
        loop {
            let now = step as f64 * STEP;
            if now > end {
                return step;
            }
            step += 1;
            self.step(now);
            if self.requests.len() == self.total && self.waiting.is_empty() {
                return step;
            }
        }
    }

    /// One step: each phase in turn.
    fn step(&mut self, now: f64) {
        self.arrive(now);
        self.work(now);
        self.give_up(now);
        self.scrape(now);
        self.sync(now);
        self.observe(now);
    }

    /// The scored run starts again at `now`: the pods and the HPA's memory
    /// stay as the first run and the pause left them.
    fn begin_rerun(&mut self, now: f64) {
        self.offset = now;
        self.requests.clear();
        self.waiting.clear();
        self.ready.clear();
        self.hpa = HpaSeries::default();
        self.syncs.clear();
        self.health = Health::default();
        self.clock.next_probe = now;
    }

    /// Arrivals due by now: a connection, a pod, a place in its queue.
    fn arrive(&mut self, now: f64) {
        while self.requests.len() < self.total {
            let intended = self.offset
                + self
                    .arrivals
                    .offset(self.requests.len() as u64)
                    .as_secs_f64();
            if intended > now {
                break;
            }
            let id = self.requests.len();
            let mut request = Request {
                intended,
                connection: None,
                done: None,
            };
            let pod = if self.assumptions.sticky {
                self.connect(now).map(|connection| {
                    request.connection = Some(connection);
                    self.connections[connection].pod
                })
            } else {
                random_ready(&self.pods, now, &mut self.rng)
            };
            match pod {
                Some(pod) => {
                    self.pods[pod].queue.push_back(id);
                    self.waiting.push_back(id);
                }
                None => request.done = Some((now, Outcome::Failed(ErrorKind::Connect))),
            }
            self.requests.push(request);
        }
    }

    /// A kept-alive connection: the most recently idle one, or a new one
    /// to a random ready pod.
    fn connect(&mut self, now: f64) -> Option<usize> {
        if let Some(connection) = reuse(&mut self.idle, &self.connections, &self.pods, now) {
            return Some(connection);
        }
        let pod = random_ready(&self.pods, now, &mut self.rng)?;
        self.connections.push(Connection {
            pod,
            open: true,
            idle_since: now,
        });
        Some(self.connections.len() - 1)
    }

    /// The pods work. Each pod computes up to `slots` requests at once,
    /// oldest first, each on a core of its own, while its quota for this
    /// 100 ms period lasts (its CPU limit × 100 ms); then it is throttled
    /// until the next period. A slot whose request finishes within the
    /// step starts the next one. A request the client gave up on while it
    /// waited for a slot is dropped unstarted; one already computing runs
    /// to the end (the api cannot cancel CPU work). The node's CPUs bound
    /// all pods together.
    fn work(&mut self, now: f64) {
        if now >= self.clock.next_period {
            self.clock.next_period += CFS_PERIOD;
            for pod in &mut self.pods {
                pod.quota = self.deployment.pod_cpu * CFS_PERIOD;
            }
        }
        let cost = (self.assumptions.cpu_cost + self.assumptions.overhead).as_secs_f64();
        let slots = self.deployment.slots;
        let busy = |pod: &Pod| pod.running.len().max(pod.queue.len().min(slots)).min(slots);
        let demand: f64 = self
            .pods
            .iter()
            .map(|pod| (busy(pod) as f64 * STEP).min(pod.quota.max(0.0)))
            .sum::<f64>()
            / STEP;
        let node_share = if demand > self.assumptions.node_cpus {
            self.assumptions.node_cpus / demand
        } else {
            1.0
        };
        for pod in &mut self.pods {
            for slot in 0..slots {
                let mut time = STEP * node_share;
                while time > 1e-12 && pod.quota > 1e-12 {
                    let index = if slot < pod.running.len() {
                        slot
                    } else if start_next(pod, &self.requests, cost) {
                        pod.running.len() - 1
                    } else {
                        break;
                    };
                    let running = &mut pod.running[index];
                    let run = time.min(pod.quota).min(running.left);
                    running.left -= run;
                    time -= run;
                    pod.quota -= run;
                    pod.cpu_used += run;
                    if running.left > 1e-12 {
                        continue;
                    }
                    let finished = pod.running.remove(index);
                    let request = &mut self.requests[finished.request];
                    if request.done.is_none() {
                        // Done by the end of this step.
                        request.done = Some((now + STEP, Outcome::Status(200)));
                        if let Some(connection) = request.connection {
                            self.connections[connection].idle_since = now + STEP;
                            self.idle.push(connection);
                        }
                    }
                }
            }
        }
    }

    /// The client gives up at the cap and closes the connection.
    fn give_up(&mut self, now: f64) {
        let cap = self.scenario.request_cap.as_secs_f64();
        while let Some(&id) = self.waiting.front() {
            let request = &mut self.requests[id];
            if request.done.is_none() && request.intended + cap > now {
                break;
            }
            self.waiting.pop_front();
            if request.done.is_none() {
                request.done = Some((now, Outcome::Failed(ErrorKind::Timeout)));
                if let Some(connection) = request.connection {
                    self.connections[connection].open = false;
                }
            }
        }
    }

    fn scrape(&mut self, now: f64) {
        if now < self.clock.next_scrape {
            return;
        }
        self.clock.next_scrape += PERIOD;
        for pod in self.pods.iter_mut().filter(|pod| !pod.removed) {
            pod.scrapes.push_back(Scrape {
                at: now,
                cpu: pod.cpu_used,
            });
            if pod.scrapes.len() > 2 {
                pod.scrapes.pop_front();
            }
        }
    }

    /// The HPA's sync: its decision, recorded, then carried out.
    fn sync(&mut self, now: f64) {
        if now < self.clock.next_sync {
            return;
        }
        self.clock.next_sync += PERIOD;
        let current = self.pods.iter().filter(|pod| !pod.removed).count() as u32;
        let Some(spec) = &self.deployment.spec else {
            self.syncs.push(Decision {
                at: now,
                next: current,
                average: None,
            });
            return;
        };
        let decision = decide(
            spec,
            &self.pods,
            &mut self.history,
            now,
            current,
            self.deployment.request_cpu,
        );
        self.hpa.current.push((now, f64::from(current)));
        self.hpa.desired.push((now, f64::from(decision.next)));
        if let Some(average) = decision.average {
            self.hpa.utilisation.push((now, (100.0 * average).round()));
        }
        self.resize(decision.next, now);
        self.syncs.push(decision);
    }

    /// Creates or removes pods to reach `replicas`; the newest go first.
    fn resize(&mut self, replicas: u32, now: f64) {
        let live = self.pods.iter().filter(|pod| !pod.removed).count() as u32;
        for _ in live..replicas {
            // The scheduler places a pod only where its request fits: one
            // that does not stays Pending, never ready.
            let placed = self
                .pods
                .iter()
                .filter(|pod| !pod.removed && !pod.pending());
            let requested = (placed.count() + 1) as f64 * self.deployment.request_cpu;
            let ready_at = if requested <= self.assumptions.node_cpus {
                now + self.assumptions.ready_delay.as_secs_f64()
            } else {
                f64::INFINITY
            };
            self.pods.push(Pod::new(ready_at));
        }
        for _ in replicas..live {
            if let Some(index) = self.pods.iter().rposition(|pod| !pod.removed) {
                self.pods[index].removed = true;
                for connection in self.connections.iter_mut().filter(|c| c.pod == index) {
                    connection.open = false;
                }
            }
        }
    }

    /// The scenario's Kubernetes probes, and kubelet's health checks. A
    /// health answer needs next to no CPU: it runs as soon as the pod has
    /// quota left, or at its next CFS period.
    fn observe(&mut self, now: f64) {
        if now >= self.clock.next_probe {
            self.clock.next_probe += PROBE_EVERY;
            let ready = self.pods.iter().filter(|pod| pod.ready(now)).count();
            self.ready.push((now, ready as f64));
        }
        if now >= self.clock.next_health {
            self.clock.next_health += HEALTH_EVERY;
            for pod in self.pods.iter().filter(|pod| pod.ready(now)) {
                let waited = if pod.quota > 0.0 {
                    0.0
                } else {
                    self.clock.next_period - now
                };
                self.health.polls += 1;
                self.health.failed += u64::from(waited > HEALTH_TIMEOUT);
                self.health.slowest_ms = self.health.slowest_ms.max(1000.0 * waited);
            }
        }
    }

    fn predict(mut self, scaling: &Scaling) -> Prediction {
        self.shift_to_run_start();
        let collector = record(self.scenario, &self.arrivals, &self.requests);
        let probes = probe_records(self.scenario, self.deployment.spec.as_ref(), &self);
        let score = score::measured(self.scenario, &collector, &probes);
        let ready_counts = self.ready.iter().map(|&(_, ready)| ready as u32);
        Prediction {
            scaling: scaling.clone(),
            score,
            totals: collector.totals(),
            timeline: timeline(self.scenario, &self.requests, &self.ready, &self.syncs),
            first_ready: self.ready.first().map_or(0, |&(_, ready)| ready as u32),
            max_ready: ready_counts.max().unwrap_or(0),
            health: self.health,
        }
    }
}

impl Sim<'_> {
    /// Every time recorded, from the scored run's start.
    fn shift_to_run_start(&mut self) {
        let offset = self.offset;
        if offset == 0.0 {
            return;
        }
        for request in &mut self.requests {
            request.intended -= offset;
            if let Some((done, _)) = &mut request.done {
                *done -= offset;
            }
        }
        let hpa = &mut self.hpa;
        for series in [
            &mut self.ready,
            &mut hpa.current,
            &mut hpa.desired,
            &mut hpa.utilisation,
        ] {
            for (t, _) in series.iter_mut() {
                *t -= offset;
            }
        }
        for sync in &mut self.syncs {
            sync.at -= offset;
        }
    }
}

/// Starts the oldest request still wanted in a free slot of `pod`; false
/// when none waits.
fn start_next(pod: &mut Pod, requests: &[Request], cost: f64) -> bool {
    while let Some(request) = pod.queue.pop_front() {
        if requests[request].done.is_none() {
            pod.running.push(Running {
                request,
                left: cost,
            });
            return true;
        }
    }
    false
}

/// What the HPA decides from the pods' metrics at `now`.
fn decide(
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
        at: now,
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
    // Pending or starting: unready to the controller, whatever
    // metrics-server has of it.
    if !pod.ready(now) {
        return PodMetric::NotYet;
    }
    let (Some(first), Some(last)) = (pod.scrapes.front(), pod.scrapes.back()) else {
        return PodMetric::Missing;
    };
    if pod.scrapes.len() < 2 || last.at <= first.at {
        return PodMetric::Missing;
    }
    // Its window began before it was ready.
    if first.at < pod.ready_at {
        return PodMetric::NotYet;
    }
    PodMetric::Counted((last.cpu - first.cpu) / (last.at - first.at) / request_cpu)
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
fn probe_records(scenario: &Scenario, spec: Option<&hpa::Spec>, sim: &Sim) -> Vec<ProbeRecord> {
    let hpa = &sim.hpa;
    // The spec's minimum, as each sync would read it.
    let minimum: Vec<(f64, f64)> = match spec {
        Some(spec) => hpa
            .current
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
                KubeKind::Deployment => vec![(kube_fields::READY_REPLICAS, &sim.ready)],
                KubeKind::HorizontalPodAutoscaler => vec![
                    (kube_fields::MIN_REPLICAS, &minimum),
                    (kube_fields::CURRENT_REPLICAS, &hpa.current),
                    (kube_fields::DESIRED_REPLICAS, &hpa.desired),
                    (kube_fields::CPU_UTILIZATION, &hpa.utilisation),
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
    syncs: &[Decision],
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
        let sync = syncs.iter().rev().find(|sync| sync.at < to);
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
            desired: sync.map_or(ready_at_end, |sync| sync.next),
            utilisation: sync.and_then(|sync| sync.average),
            p95_ms,
            failed,
        });
        from = to;
    }
    windows
}
