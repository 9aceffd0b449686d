//! One run of a scenario, in phases, each a function below (`runner run`,
//! `runner watch` and `runner demo` all run through here):
//!
//! 1. [`prepare`]: the services (and the Kubernetes API server) answer,
//!    the lab's workload is read, its state reset, the load planned;
//! 2. [`measure`]: the load ([`crate::load`]) with the probes polling
//!    beside it ([`crate::probe::Probes`], stopped with the load);
//! 3. score: each check's value, then the 0-100 score
//!    ([`crate::score::measured`]);
//! 4. [`write`]: data.json, report.html and the runs index
//!    ([`crate::report::write_run`]);
//! 5. [`show`]: the checks and the SCORE line, and the report.
//!
//! Ctrl-C once stops sending and waits for requests in flight; twice stops
//! waiting. Either way the partial run is scored and written, marked
//! interrupted.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use anyhow::{Context, bail};

use crate::{
    data::{self, RunData, Settings},
    fingerprint,
    load::{self, Controls, LoadResult, Plan, RequestSpec, arrivals::Arrivals},
    local::{LocalConfig, Stack},
    open_files, output,
    probe::{self, Fetcher, ProbeRecord, Probes},
    progress::Progress,
    report::{self, Written},
    scenario::{KubeKind, Scenario, Scenarios, Service, Source},
    score, shipped,
    submit::Board,
    targets::Targets,
    workload,
};

/// How long preflight waits for a health answer.
const PREFLIGHT_WITHIN: Duration = Duration::from_secs(2);

/// Exit code of an interrupted run (128 + SIGINT, as shells use).
pub const INTERRUPTED: u8 = 130;

/// How one run goes, whoever asks for it: `runner run` from its command
/// line, `runner watch` and `runner demo` for their runs on the local
/// stack.
#[derive(Debug, Clone)]
pub struct Options {
    /// Folder the runs are written to.
    pub reports: PathBuf,
    /// The kubeconfig context whose cluster the Kubernetes probes read;
    /// `None` where no probe may read a cluster (the local stack's runs).
    pub kube_context: Option<String>,
    /// Also write goose's own HTML report into the run's folder.
    pub goose_report: bool,
    /// Where the checks and the SCORE line go.
    pub summary: Summary,
}

/// Where a run's checks and SCORE line go, and whether its report opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// On stdout; the report opens in the browser when `open` and stdout
    /// is a terminal.
    Terminal { open: bool },
    /// The `--json` summary on stdout, the checks and the SCORE line on
    /// stderr; the report does not open.
    Json,
}

impl Options {
    /// A run on the local stack that the runner starts itself, as the
    /// demo and `runner watch` make them: the summary on the terminal, the
    /// report not opened, no cluster to read.
    pub fn on_local_stack(reports: PathBuf) -> Self {
        Self {
            reports,
            kube_context: None,
            goose_report: false,
            summary: Summary::Terminal { open: false },
        }
    }
}

/// What the command line changes about a scenario for one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    pub rate: Option<f64>,
    pub duration: Option<Duration>,
}

/// The scenario named `name`, with its overrides.
pub fn chosen(scenarios: &Scenarios, name: &str, overrides: Overrides) -> anyhow::Result<Scenario> {
    let mut scenario = scenarios.named(name)?.clone();
    if let Some(rate) = overrides.rate {
        scenario.rate = rate;
    }
    if let Some(duration) = overrides.duration {
        scenario.duration = duration;
        scenario.ramp = scenario.ramp.filter(|ramp| *ramp < duration);
    }
    Ok(scenario)
}

/// Starts the local stack, runs the scenario against it, and stops the
/// stack whatever happened. `None` when Ctrl-C came before the run began.
pub async fn on_local_stack(
    config: &LocalConfig,
    scenario: &Scenario,
    options: &Options,
    board: Option<&Board>,
    controls: &Controls,
) -> anyhow::Result<Option<RunData>> {
    let stack = tokio::select! {
        stack = Stack::start(config) => stack?,
        () = controls.stop_sending.cancelled() => {
            crate::errln!("interrupted while the local stack was starting; nothing was measured");
            return Ok(None);
        }
    };
    let finished = execute(
        scenario,
        options,
        stack.targets(),
        Some(config),
        board,
        controls,
    )
    .await;
    if let Err(error) = stack.stop().await {
        crate::errln!("warning: the local stack did not stop cleanly: {error:#}");
    }
    finished.map(Some)
}

/// One run against `targets`, in phases: prepare, load with probes beside
/// it, score, write data.json and the reports, show the summary; then, with
/// a `board`, send it there. `local`: the local stack's tree, whose lab
/// the targets were built from, compared with the shipped lab.
pub(crate) async fn execute(
    scenario: &Scenario,
    options: &Options,
    targets: &Targets,
    local: Option<&LocalConfig>,
    board: Option<&Board>,
    controls: &Controls,
) -> anyhow::Result<RunData> {
    let lab_edits = match local {
        Some(config) => shipped::edits(&config.root, &config.case_files)?,
        None => Vec::new(),
    };
    let prepared = prepare(scenario, options, targets).await?;
    let measured = measure(scenario, prepared.plan, prepared.fetchers, controls).await?;
    let data = RunData {
        version: data::DATA_VERSION,
        score: score::measured(scenario, &measured.load.collector, &measured.probes),
        run_id: prepared.run_id,
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        case: scenario.case,
        started_at: humantime::format_rfc3339_seconds(measured.started_at).to_string(),
        interrupted: measured.load.interrupted,
        settings: prepared.settings,
        fingerprint: fingerprint::fingerprint(scenario, &prepared.workload_edits),
        workload_edits: prepared.workload_edits,
        lab_edits,
        totals: measured.load.totals,
        probes: measured.probes,
    };
    let written = write(&options.reports, &data).await?;
    show(&data, &written, options.summary);
    if let Some(board) = board {
        board.after_run(&data).await;
    }
    Ok(data)
}

/// What a run knows before its first request.
struct Prepared {
    plan: Plan,
    /// Where each probe reads, in the scenario's order.
    fetchers: Vec<Fetcher>,
    workload_edits: Vec<workload::Edit>,
    settings: Settings,
    run_id: String,
}

/// Checks that the targets answer, reads the lab's workload, resets the
/// service's state, and plans the load.
async fn prepare(
    scenario: &Scenario,
    options: &Options,
    targets: &Targets,
) -> anyhow::Result<Prepared> {
    let base_url = targets.url(scenario.service);
    let context = options.kube_context.as_deref();
    let (fetchers, kubernetes) = preflight(scenario, targets, context).await?;
    let at_rest = match (&kubernetes, context) {
        (Some(client), Some(context)) => at_rest(scenario, client, context).await?,
        _ => None,
    };
    if !kubernetes_probed(scenario) {
        warn_if_replicated(scenario, base_url).await;
    }
    let workload_edits = workload::edits(base_url, &scenario.expect).await;
    reset(base_url).await;

    let run_id = data::run_id(SystemTime::now());
    let plan = plan(scenario, base_url, options, &run_id)?;
    Ok(Prepared {
        settings: Settings {
            start_replicas: at_rest.map(|rest| rest.replicas),
            ..settings(scenario, base_url, plan.workers)
        },
        plan,
        fetchers,
        workload_edits,
        run_id,
    })
}

/// The load: the scenario's request at its arrivals, goose's own report
/// in the run's folder when asked for, and room for every worker's socket.
fn plan(
    scenario: &Scenario,
    base_url: &str,
    options: &Options,
    run_id: &str,
) -> anyhow::Result<Plan> {
    let request = RequestSpec {
        base_url: base_url.to_owned(),
        method: scenario.method,
        path: scenario.path.clone(),
        body: scenario.body.as_ref().map(serde_json::Value::to_string),
        cap: scenario.request_cap,
        answers: scenario.answers.clone(),
    };
    let mut plan = Plan::new(
        request,
        Arrivals::new(scenario.rate, scenario.duration, scenario.ramp),
    );
    if options.goose_report {
        let folder = options.reports.join(&scenario.name).join(run_id);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create the report folder {}", folder.display()))?;
        plan.goose_report = Some(folder.join("goose-report.html"));
    }
    crate::errln!(
        "{}: {} {base_url}{} at {}/s for {} ({} workers)",
        scenario.name,
        scenario.method.as_str(),
        scenario.path,
        scenario.rate,
        humantime::format_duration(scenario.duration),
        plan.workers
    );
    // A socket per worker, and room for the probes, the reports and the
    // local stack's pipes.
    if let Some(warning) = open_files::raise(plan.workers as u64 + 256) {
        crate::errln!("warning: {warning}");
    }
    Ok(plan)
}

/// What the load and the probes measured.
struct Measured {
    load: LoadResult,
    probes: Vec<ProbeRecord>,
    started_at: SystemTime,
}

/// Runs the load with the progress line, the probes polling beside it.
/// The probes stop with the load, also when it fails.
async fn measure(
    scenario: &Scenario,
    plan: Plan,
    fetchers: Vec<Fetcher>,
    controls: &Controls,
) -> anyhow::Result<Measured> {
    let started_at = SystemTime::now();
    let probes = Probes::start(&scenario.probes, fetchers);
    let mut progress = Progress::new(scenario.duration, scenario.rate);
    let load = load::run(plan, controls.clone(), |collector| progress.tick(collector)).await;
    progress.finish();
    let load = load?;
    let probes = probes.finish(load.collector.start()).await?;
    Ok(Measured {
        load,
        probes,
        started_at,
    })
}

/// data.json, report.html and the runs index, written on a blocking thread
/// (they take a file lock and read every earlier run).
async fn write(reports: &Path, data: &RunData) -> anyhow::Result<Written> {
    let (reports, data) = (reports.to_owned(), data.clone());
    tokio::task::spawn_blocking(move || report::write_run(&reports, &data))
        .await
        .context("the task writing the reports failed")?
}

/// The checks and the SCORE line (or the `--json` summary), where the
/// files are, and the report in the browser.
fn show(data: &RunData, written: &Written, to: Summary) {
    let mut flagged = String::new();
    if !data.workload_edits.is_empty() {
        flagged += &workload::explain(&data.workload_edits);
    }
    if !data.lab_edits.is_empty() {
        flagged += &shipped::explain(&data.lab_edits);
    }
    let summary = format!(
        "{}{flagged}{}",
        output::checks(&data.score),
        output::score_line(data)
    );
    if to == Summary::Json {
        crate::errln!("{summary}");
        match serde_json::to_string(&output::Summary::new(data, written.report.clone())) {
            Ok(json) => crate::outln!("{json}"),
            Err(error) => crate::errln!("error: cannot encode the JSON summary: {error}"),
        }
    } else {
        crate::outln!("{summary}");
    }
    crate::errln!("report: {}", written.report.display());
    crate::errln!("all runs: {}", written.index.display());
    let open = to == (Summary::Terminal { open: true }) && std::io::stdout().is_terminal();
    if open && let Err(error) = opener::open(&written.report) {
        crate::errln!(
            "could not open the report in a browser ({error}); open {} yourself",
            written.report.display()
        );
    }
}

fn settings(scenario: &Scenario, base_url: &str, workers: usize) -> Settings {
    Settings {
        url: format!("{base_url}{}", scenario.path),
        method: scenario.method,
        body: scenario.body.clone(),
        rate: scenario.rate,
        duration_s: scenario.duration.as_secs_f64(),
        ramp_s: scenario.ramp.map(|ramp| ramp.as_secs_f64()),
        request_cap_s: scenario.request_cap.as_secs_f64(),
        workers,
        answers: scenario.answers.clone(),
        start_replicas: None,
    }
}

/// For a scenario that reads an HPA and the Deployment it scales: the
/// replicas at rest, or an error that says how long until they are and
/// how to reset them now; then the cluster's metrics, waited for.
async fn at_rest(
    scenario: &Scenario,
    client: &kube::Client,
    context: &str,
) -> anyhow::Result<Option<probe::kubernetes::AtRest>> {
    let named = |kind: KubeKind| {
        scenario
            .probes
            .iter()
            .find_map(|probe| match &probe.source {
                Source::Kubernetes(object) if object.kind == kind => Some(object.name.as_str()),
                _ => None,
            })
    };
    let (Some(hpa), Some(deployment)) = (
        named(KubeKind::HorizontalPodAutoscaler),
        named(KubeKind::Deployment),
    ) else {
        return Ok(None);
    };
    let rest = probe::kubernetes::at_rest(client, hpa, deployment, context).await?;
    probe::kubernetes::metrics_ready(client, hpa, context).await?;
    Ok(Some(rest))
}

/// Every service the run touches must answer its health check first, and
/// the Kubernetes API server when a probe reads the cluster: an unreachable
/// target is a clear error in two seconds, not a report full of connection
/// errors; so is an object a probe reads that is not in the cluster.
/// Returns where each probe reads, in the scenario's order, and the
/// Kubernetes client when a probe reads the cluster.
async fn preflight(
    scenario: &Scenario,
    targets: &Targets,
    context: Option<&str>,
) -> anyhow::Result<(Vec<Fetcher>, Option<kube::Client>)> {
    // The API server first: on a laptop without the cluster, that is the
    // error that says what to do (`make up`).
    let kubernetes = match (kubernetes_probed(scenario), context) {
        (false, _) => None,
        (true, Some(context)) => Some(probe::kubernetes::connect(context).await?),
        (true, None) => bail!(
            "{} reads the cluster through its probes, and this run has no Kubernetes \
             context: run it with `runner run`",
            scenario.name
        ),
    };
    let client = reqwest::Client::new();
    let mut services = vec![scenario.service];
    for probe in &scenario.probes {
        if let Source::Service { service, .. } = probe.source
            && !services.contains(&service)
        {
            services.push(service);
        }
    }
    for service in services {
        healthy(&client, service, targets).await?;
    }
    let fetchers = probe::fetchers(&scenario.probes, targets, kubernetes.as_ref(), context).await?;
    Ok((fetchers, kubernetes))
}

/// The service answers its `/healthz` within [`PREFLIGHT_WITHIN`], or an
/// error that says how to start it.
async fn healthy(
    client: &reqwest::Client,
    service: Service,
    targets: &Targets,
) -> anyhow::Result<()> {
    let url = format!("{}/healthz", targets.url(service));
    let answer = client.get(&url).timeout(PREFLIGHT_WITHIN).send().await;
    let problem = match answer {
        Ok(response) if response.status().is_success() => return Ok(()),
        Ok(response) => format!("it answered {}", response.status()),
        Err(error) if error.is_timeout() => format!("no answer within {PREFLIGHT_WITHIN:?}"),
        Err(error) if error.is_connect() => "nothing is listening there".to_owned(),
        Err(error) => error.to_string(),
    };
    bail!(
        "the {service} is not reachable at {url}: {problem}.\n\
         Start the lab first (`make up` for the cluster), or point the runner at it \
         with --target {service}=URL.",
        service = service.as_str()
    )
}

/// Whether a probe of `scenario` reads the cluster.
fn kubernetes_probed(scenario: &Scenario) -> bool {
    scenario
        .probes
        .iter()
        .any(|probe| matches!(probe.source, Source::Kubernetes(_)))
}

/// Cases 1 to 3 read one process's counters through their probes. On the
/// cluster after case 4, the api may run several replicas: each probe then
/// reads one of them, and the gates see part of the run.
async fn warn_if_replicated(scenario: &Scenario, base_url: &str) {
    let replicas = probe::instances(base_url, 8).await;
    if replicas > 1 {
        crate::errln!(
            "warning: the {service} at {base_url} answers from {replicas} processes (replicas \
             behind a Service, after case 4?); this scenario's probes read one of them, so its \
             gates see part of the run. Scale back to one first: \
             `kubectl --context k3d-resilience-lab delete hpa api` and \
             `kubectl --context k3d-resilience-lab scale deployment/{service} --replicas=1`, \
             or `make unsolve STEP=4 && make apply`",
            service = scenario.service.as_str()
        );
    }
}

/// Puts the service's state back to its seed values, so runs compare. A
/// failed reset is reported, not fatal: the run still measures.
async fn reset(base_url: &str) {
    let url = format!("{base_url}/admin/reset");
    let answer = reqwest::Client::new()
        .post(&url)
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    match answer {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => crate::errln!(
            "warning: reset at {url} answered {}; figures may include earlier state",
            response.status()
        ),
        Err(error) => {
            crate::errln!(
                "warning: reset at {url} failed ({error}); figures may include earlier state"
            )
        }
    }
}

/// Ctrl-C once: stop sending, wait for requests in flight. Twice: stop
/// waiting. Installed once per process, before goose starts, so goose's own
/// handler (which exits the process on a second Ctrl-C) is never installed.
pub fn install_ctrl_c(controls: &Controls) {
    let controls = controls.clone();
    let installed = ctrlc::set_handler(move || {
        if controls.stop_sending.is_cancelled() {
            crate::errln!("\nsecond Ctrl-C: no more waiting; writing what was collected");
            controls.stop_waiting.cancel();
        } else {
            crate::errln!(
                "\nCtrl-C: no more requests; waiting for those in flight (Ctrl-C again to stop waiting)"
            );
            controls.stop_sending.cancel();
        }
    });
    if let Err(error) = installed {
        crate::errln!(
            "warning: cannot handle Ctrl-C ({error}); Ctrl-C will end the run without a report"
        );
    }
}
