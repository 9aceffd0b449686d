//! The open-model load engine, on goose.
//!
//! goose 0.19 is closed-loop: each user sends a request, waits for it, then
//! sends the next. Against a hanging server that quietly lowers the rate
//! and hides the overload. So goose is wrapped:
//!
//! 1. [`arrivals`]: the schedule says when each request is *meant* to go.
//! 2. The dispatcher releases a ticket at each of those moments into a
//!    bounded queue, whatever the responses are doing. A ticket that finds
//!    the queue full is counted *not sent*: the generator fell behind, and
//!    the report says so instead of hiding it.
//! 3. goose users are the workers: each takes a ticket, sends one request
//!    on goose's shared client, reads the whole body (and, where the
//!    scenario says how, reads the answer's class: [`answers`]), and
//!    records the outcome. There are enough of them for the full rate even
//!    if every request takes the request cap.
//! 4. [`collector`]: latency from the ticket's intended time (coordinated
//!    omission corrected) in HDR histograms, and a per-second timeline.
//!
//! Not used from goose, on purpose: `--throttle-requests` (a cap, measured
//! to run ~10% short), its coordinated-omission mitigation (whole
//! milliseconds, synthetic requests), its own Ctrl-C handler (a second
//! Ctrl-C exits the process and loses the run; the runner installs its own
//! first), and its per-request metrics unless `--goose-report` asks for
//! goose's report (they cost CPU the runner's own records make redundant).

pub mod answers;
pub mod arrivals;
pub mod collector;

use std::{
    path::PathBuf,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use async_channel::{Receiver, Sender, TrySendError};
use goose::{
    client::GooseClientBuilder, config::GooseConfiguration, goose::GooseResponse, prelude::*,
};
use tokio_util::sync::CancellationToken;

use crate::scenario::{Answers, Method};
use answers::AnswerClass;
use arrivals::Arrivals;
use collector::{Collector, ErrorKind, Outcome, Totals};

/// What every request of a run is.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// `http://host:port`, the service under load.
    pub base_url: String,
    pub method: Method,
    pub path: String,
    /// A JSON body, sent with `content-type: application/json`.
    pub body: Option<String>,
    /// The client's limit on one request, body included.
    pub cap: Duration,
    /// How to read what a successful answer carried, if the scenario says.
    pub answers: Option<Answers>,
}

/// How a run is stopped early. Cancelling `stop_sending` ends the schedule
/// (the first Ctrl-C); cancelling `stop_waiting` stops waiting for requests
/// in flight (the second).
#[derive(Debug, Clone, Default)]
pub struct Controls {
    pub stop_sending: CancellationToken,
    pub stop_waiting: CancellationToken,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub totals: Totals,
    /// For metrics over part of the run (`Collector::metric`).
    pub collector: Arc<Collector>,
    /// The schedule was cut short (Ctrl-C).
    pub interrupted: bool,
    pub users: usize,
}

/// How often `on_tick` is called while the load runs.
const TICK: Duration = Duration::from_millis(250);

/// How long starting goose's users may take before the run gives up.
const USERS_READY_WITHIN: Duration = Duration::from_secs(60);

/// A ticket: the right to send one request, due at `intended`.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    intended: Instant,
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
    pub request: RequestSpec,
    pub arrivals: Arrivals,
    /// How many goose users send requests; [`Plan::new`] sizes it so the
    /// schedule holds even if every request takes the whole cap. Fewer
    /// workers make a generator that falls behind (tests, benchmarks).
    pub workers: usize,
    /// Where goose writes its own HTML report, if wanted.
    pub goose_report: Option<PathBuf>,
}

impl Plan {
    pub fn new(request: RequestSpec, arrivals: Arrivals) -> Self {
        let workers = workers_needed(arrivals.rate(), request.cap);
        Self {
            request,
            arrivals,
            workers,
            goose_report: None,
        }
    }
}

/// How many workers a run needs: enough that every ticket finds one even
/// if each request takes the whole cap, plus a tenth for timer jitter.
pub fn workers_needed(rate: f64, cap: Duration) -> usize {
    ((rate * cap.as_secs_f64() * 1.1).ceil() as usize).max(4)
}

/// Runs `plan`. `on_tick` sees the collector every quarter second (the
/// progress line).
pub async fn run(
    plan: Plan,
    controls: Controls,
    mut on_tick: impl FnMut(&Collector),
) -> anyhow::Result<LoadResult> {
    silence_goose_log();
    let _stdout = StdoutSilenced::begin();
    let users = plan.workers;
    let (tickets, workers) = Workers::new(plan.request, users, plan.goose_report.is_some())?;
    let attack = build_attack(&workers, users, plan.goose_report)?;
    let mut goose = tokio::spawn(attack.execute());
    wait_for_users(&workers, users, &goose, &controls).await?;

    // The collector's clock starts at the first release.
    let collector = Arc::clone(workers.collector.get_or_init(|| {
        Arc::new(Collector::new(
            Instant::now(),
            workers.request.answers.as_ref(),
        ))
    }));
    let mut tick = tokio::time::interval(TICK);
    let interrupted = release(
        plan.arrivals,
        &tickets,
        &collector,
        &controls,
        &mut tick,
        &mut on_tick,
    )
    .await?;
    if interrupted {
        // Released tickets nobody took before the interruption are never
        // sent now.
        while let Ok(ticket) = workers.queue.try_recv() {
            collector.not_sent(ticket.intended);
        }
    }
    settle(
        &collector,
        workers.request.cap,
        &controls,
        &mut tick,
        &mut on_tick,
    )
    .await;
    stop_goose(&workers, &mut goose).await;
    Ok(LoadResult {
        totals: collector.totals(),
        collector,
        interrupted,
        users,
    })
}

/// Releases every ticket of `arrivals` on time, or until Ctrl-C, the
/// progress shown at each tick; true when Ctrl-C stopped it.
async fn release(
    arrivals: Arrivals,
    tickets: &Sender<Ticket>,
    collector: &Arc<Collector>,
    controls: &Controls,
    tick: &mut tokio::time::Interval,
    on_tick: &mut impl FnMut(&Collector),
) -> anyhow::Result<bool> {
    // A task of its own, on the runtime's workers with goose's users: a
    // released ticket then wakes a user on the same thread. Run in the
    // caller's `block_on` instead, every release would wake another thread
    // (measured: about 5% of the CPU per request at 1000 req/s).
    let mut dispatch = tokio::spawn(dispatch(
        arrivals,
        tickets.clone(),
        Arc::clone(collector),
        controls.stop_sending.clone(),
    ));
    loop {
        tokio::select! {
            finished = &mut dispatch => {
                finished.context("the dispatcher task failed")?;
                break;
            }
            _ = tick.tick() => on_tick(collector),
        }
    }
    Ok(controls.stop_sending.is_cancelled())
}

/// Waits for every worker before the first release, so start-up is not
/// mistaken for overload.
async fn wait_for_users(
    workers: &Workers,
    users: usize,
    goose: &tokio::task::JoinHandle<Result<GooseMetrics, GooseError>>,
    controls: &Controls,
) -> anyhow::Result<()> {
    let ready_by = Instant::now() + USERS_READY_WITHIN;
    while workers.ready.load(Ordering::Relaxed) < users {
        if goose.is_finished() || Instant::now() > ready_by {
            goose::trigger_killswitch("the runner gave up waiting for users");
            bail!("goose did not start its {users} users within {USERS_READY_WITHIN:?}");
        }
        if controls.stop_sending.is_cancelled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Tickets still queued are taken at once and requests in flight finish
/// within the cap; waits for them, unless told to stop waiting.
async fn settle(
    collector: &Collector,
    cap: Duration,
    controls: &Controls,
    tick: &mut tokio::time::Interval,
    on_tick: &mut impl FnMut(&Collector),
) {
    let drained_by = Instant::now() + cap + Duration::from_secs(1);
    while !collector.settled()
        && Instant::now() < drained_by
        && !controls.stop_waiting.is_cancelled()
    {
        tokio::select! {
            _ = tick.tick() => on_tick(collector),
            () = controls.stop_waiting.cancelled() => {}
        }
    }
    on_tick(collector);
}

/// Stops goose's users and waits a moment for goose to wind down. The
/// killswitch goes first: goose then tells each user to exit, and a user
/// woken by `done` finds that message at once instead of idling round
/// goose's loop until it comes.
async fn stop_goose(
    workers: &Workers,
    goose: &mut tokio::task::JoinHandle<Result<GooseMetrics, GooseError>>,
) {
    goose::trigger_killswitch("the runner's schedule is done");
    workers.done.cancel();
    match tokio::time::timeout(Duration::from_secs(5), &mut *goose).await {
        Ok(Ok(Ok(_metrics))) => {}
        Ok(Ok(Err(error))) => {
            crate::errln!("warning: goose reported an error at the end of the run: {error}")
        }
        Ok(Err(error)) => crate::errln!("warning: the goose task failed: {error}"),
        Err(_) => goose.abort(),
    }
}

/// Releases one ticket per arrival, on time; counts what cannot be queued.
async fn dispatch(
    arrivals: Arrivals,
    tickets: Sender<Ticket>,
    collector: Arc<Collector>,
    stop: CancellationToken,
) {
    let start = collector.start();
    for index in 0..arrivals.total() {
        let due = start + arrivals.offset(index);
        if due > Instant::now() {
            tokio::select! {
                () = tokio::time::sleep_until(due.into()) => {}
                () = stop.cancelled() => return,
            }
        }
        // The timer may wake late; the ticket keeps its intended time, so
        // the lateness counts in its latency instead of vanishing.
        collector.intended(due);
        match tickets.try_send(Ticket { intended: due }) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Closed(_)) => collector.not_sent(due),
        }
    }
}

/// What goose's users share.
struct Workers {
    queue: Receiver<Ticket>,
    request: RequestSpec,
    /// `base_url` + `path`, parsed once rather than per request.
    url: reqwest::Url,
    method: GooseMethod,
    /// Requests go through goose's `GooseUser::request`, which files each
    /// one in goose's own metrics, only when goose's report is wanted.
    /// Otherwise they go straight to the users' shared client: goose's
    /// bookkeeping (a request name, URL strings, its metric record) cost
    /// about a tenth of the generator's CPU per request in
    /// bench/generator.py, and the runner records every request itself.
    goose_files_requests: bool,
    /// Set when the first ticket is released; a worker only ever sees a
    /// ticket after that.
    collector: OnceLock<Arc<Collector>>,
    ready: AtomicUsize,
    /// Cancelled when the run is over: idle workers stop waiting.
    done: CancellationToken,
}

impl Workers {
    /// The workers' shared state, and the sender the dispatcher releases
    /// tickets into.
    fn new(
        request: RequestSpec,
        users: usize,
        goose_files_requests: bool,
    ) -> anyhow::Result<(Sender<Ticket>, Arc<Self>)> {
        // A short queue: a released ticket waits at most a moment for a
        // worker (that wait counts in its latency); beyond it the generator
        // is behind.
        let (tickets, queue) = async_channel::bounded::<Ticket>(users.clamp(16, 1024));
        let url = reqwest::Url::parse(&request.base_url)
            .and_then(|base| base.join(&request.path))
            .with_context(|| format!("`{}{}` is not a URL", request.base_url, request.path))?;
        // goose files each request under a method of its own; it is derived
        // from the HTTP one, so the two cannot disagree.
        let method =
            goose::goose::goose_method_from_method(request.method.http()).map_err(|error| {
                anyhow::anyhow!("goose cannot send {:?}: {error:?}", request.method)
            })?;
        let workers = Self {
            queue,
            url,
            method,
            goose_files_requests,
            request,
            collector: OnceLock::new(),
            ready: AtomicUsize::new(0),
            done: CancellationToken::new(),
        };
        Ok((tickets, Arc::new(workers)))
    }
}

/// How long a worker idles once the run is over, before goose (which runs
/// the transaction in a loop until it tells the user to exit) asks it
/// again. Until then an idle worker waits on the queue, which stays open
/// (the run holds its sender), so idle workers cost nothing. A quarter
/// second, not less: at 5000 req/s there are 5500 workers, and a 20 ms
/// idle loop while goose winds down cost a third of a 1 s run's CPU; goose
/// still stops them well within a second.
const IDLE: Duration = Duration::from_millis(250);

impl Workers {
    /// One turn of a goose user: take a ticket, send its request.
    async fn send_one(&self, user: &mut GooseUser) -> TransactionResult {
        let ticket = tokio::select! {
            biased;
            () = self.done.cancelled() => None,
            ticket = self.queue.recv() => ticket.ok(),
        };
        let (Some(ticket), Some(collector)) = (ticket, self.collector.get()) else {
            tokio::time::sleep(IDLE).await;
            return Ok(());
        };
        let sent = Instant::now();
        collector.sending(sent);
        let (outcome, answer) = self.send(user).await;
        collector.finished(ticket.intended, sent, Instant::now(), outcome, answer);
        Ok(())
    }

    /// Sends the request and reads the whole body: the latency a user feels
    /// ends with the last byte, not with the headers.
    async fn send(&self, user: &mut GooseUser) -> (Outcome, Option<AnswerClass>) {
        let mut builder = user
            .client
            .request(self.request.method.http(), self.url.clone())
            .timeout(self.request.cap);
        if let Some(body) = &self.request.body {
            builder = builder
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let answer = if self.goose_files_requests {
            let request = GooseRequest::builder()
                .method(self.method)
                .path(self.request.path.as_str())
                .set_request_builder(builder)
                .build();
            match user.request(request).await {
                Ok(GooseResponse { response, .. }) => response,
                Err(_) => return (Outcome::Failed(ErrorKind::Other), None),
            }
        } else {
            builder.send().await
        };
        let response = match answer {
            Ok(response) => response,
            Err(error) => return (Outcome::Failed(error_kind(&error)), None),
        };
        let outcome = Outcome::Status(response.status().as_u16());
        match response.bytes().await {
            Ok(body) => {
                let class = (self.request.answers.as_ref())
                    .filter(|_| outcome.is_success())
                    .map(|answers| answers::classify(answers, &body));
                (outcome, class)
            }
            Err(error) => (Outcome::Failed(error_kind(&error)), None),
        }
    }
}

fn error_kind(error: &reqwest::Error) -> ErrorKind {
    if error.is_timeout() {
        ErrorKind::Timeout
    } else if error.is_connect() {
        ErrorKind::Connect
    } else if error.is_body() || error.is_decode() {
        ErrorKind::Body
    } else {
        ErrorKind::Other
    }
}

fn build_attack(
    workers: &Arc<Workers>,
    users: usize,
    goose_report: Option<PathBuf>,
) -> anyhow::Result<GooseAttack> {
    let on_start = {
        let workers = Arc::clone(workers);
        Transaction::new(Arc::new(move |_user| {
            workers.ready.fetch_add(1, Ordering::Relaxed);
            Box::pin(async { Ok(()) })
        }))
        .set_on_start()
    };
    let send_one = {
        let workers = Arc::clone(workers);
        Transaction::new(Arc::new(move |user| {
            let workers = Arc::clone(&workers);
            Box::pin(async move { workers.send_one(user).await })
        }))
    };
    let users_per_second = users.to_string();
    let cap_secs = workers.request.cap.as_secs().max(1).to_string();
    let mut attack: Box<GooseAttack> =
        GooseAttack::initialize_with_config(GooseConfiguration::default())
            .context("goose would not initialise")?
            .register_scenario(
                scenario!("load")
                    .register_transaction(on_start)
                    .register_transaction(send_one),
            )
            // One HTTP client shared by every worker: the workers model
            // arrivals, not users, so they share one connection pool (as
            // many connections as requests in flight) instead of each
            // building a client of its own, which cost ~10x oha's CPU per
            // request in bench/generator.py.
            .set_client_builder_without_cookies(
                GooseClientBuilder::new()
                    .without_cookies()
                    .timeout(workers.request.cap),
            )?
            .set_default(GooseDefault::Host, workers.request.base_url.as_str())?
            .set_default(GooseDefault::Users, users)?
            // Start every user within a second.
            .set_default(GooseDefault::IncreaseRate, users_per_second.as_str())?
            // goose's own client timeout; each request also carries the cap.
            .set_default(GooseDefault::Timeout, cap_secs.as_str())?
            .set_default(GooseDefault::NoTelnet, true)?
            .set_default(GooseDefault::NoPrintMetrics, true)?
            .set_default(GooseDefault::NoErrorSummary, true)?
            .set_default(GooseDefault::NoResetMetrics, true)?
            .set_default(GooseDefault::Quiet, 1)?
            .set_default(GooseDefault::NoMetrics, goose_report.is_none())?;
    if let Some(report) = &goose_report {
        let report = report.to_string_lossy();
        attack = attack.set_default(GooseDefault::ReportFile, report.as_ref())?;
    }
    Ok(*attack)
}

/// goose logs a warning on stdout for every failed request: thousands of
/// lines in a brownout, over the progress line. The runner records every
/// failure itself, so goose's log records are dropped: a logger installed
/// before goose's own makes goose's installation fail quietly (it says so
/// in the very log being dropped).
fn silence_goose_log() {
    struct Silent;
    impl log::Log for Silent {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            false
        }
        fn log(&self, _: &log::Record<'_>) {}
        fn flush(&self) {}
    }
    static SILENT: Silent = Silent;
    // Fails when a logger is already installed (a second run in one
    // process), which is the state wanted.
    let _ = log::set_logger(&SILENT);
}

/// goose prints a status line ("All N users launched.") on stdout, which
/// the runner keeps for its results (checks and SCORE, or `--json`), and
/// which means nothing to a participant: the runner's own progress line
/// (on stderr) says what the load is doing. While a run is on, stdout
/// points at the null device; dropping the guard points it back. Nothing
/// of the runner's own is printed on stdout during a run.
struct StdoutSilenced {
    #[cfg(unix)]
    saved: Option<std::os::fd::OwnedFd>,
}

impl StdoutSilenced {
    fn begin() -> Self {
        #[cfg(unix)]
        {
            use std::{io::Write, os::fd::AsFd};
            let _ = std::io::stdout().flush();
            let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
                return Self { saved: None };
            };
            let saved = rustix::io::dup(std::io::stdout().as_fd()).ok();
            if saved.is_some() && rustix::stdio::dup2_stdout(null.as_fd()).is_err() {
                return Self { saved: None };
            }
            Self { saved }
        }
        #[cfg(not(unix))]
        Self {}
    }
}

impl Drop for StdoutSilenced {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = self.saved.take() {
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let _ = rustix::stdio::dup2_stdout(&saved);
        }
    }
}
