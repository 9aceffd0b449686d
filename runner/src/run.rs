//! `runner run <scenario>`: preflight, reset, load with probes beside it,
//! score, and write what was measured. Ctrl-C once stops sending and waits
//! for requests in flight; twice stops waiting. Either way the partial run
//! is scored and written, marked interrupted.

use std::{
    io::IsTerminal,
    process::ExitCode,
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use crate::{
    check,
    cli::{RunArgs, Targets},
    fingerprint, hint,
    load::{self, Controls, Plan, RequestSpec, arrivals::Arrivals},
    local::{LocalConfig, Stack},
    output::{self, RunData, Settings},
    probe::{self, Fetcher, ProbeRecord},
    progress::Progress,
    report,
    scenario::{Scenario, Scenarios, Source},
    score, workload,
};

/// How long preflight waits for a health answer.
const PREFLIGHT_WITHIN: Duration = Duration::from_secs(2);

/// Exit code of a run whose score is under `--fail-under`.
const BELOW_FAIL_UNDER: u8 = 3;
/// Exit code of an interrupted run (128 + SIGINT, as shells use).
pub const INTERRUPTED: u8 = 130;

pub async fn run(
    scenarios: &Scenarios,
    args: &RunArgs,
    controls: &Controls,
) -> anyhow::Result<ExitCode> {
    let scenario = chosen(scenarios, args)?;
    let root = scenarios.root();
    if !args.local {
        let data = execute(&scenario, args, &args.targets, controls).await?;
        print_next_step(&root, &scenario, &data, args);
        return Ok(exit_code(&data, args.fail_under));
    }
    if scenario.needs_cluster {
        eprintln!(
            "{name} (case {case}) needs a Kubernetes cluster, which --local does not start. \
             Checking its manifests instead; on a cluster (`make up`), run `runner run {name}`.",
            name = scenario.name,
            case = scenario.case
        );
        return Ok(if check::cluster_case(&root, &scenario) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    match on_local_stack(&LocalConfig::from_env(&root), &scenario, args, controls).await? {
        Some(data) => {
            print_next_step(&root, &scenario, &data, args);
            Ok(exit_code(&data, args.fail_under))
        }
        None => Ok(ExitCode::from(INTERRUPTED)),
    }
}

/// After a run that missed the pass mark: what to do next, where the
/// summary went (stderr when stdout carries `--json`).
fn print_next_step(root: &std::path::Path, scenario: &Scenario, data: &RunData, args: &RunArgs) {
    if let Some(next) = hint::next_step(root, scenario, data, args.local) {
        if args.json {
            eprintln!("{next}");
        } else {
            println!("{next}");
        }
    }
}

/// A finished run's exit code: interrupted, below `--fail-under` (a flagged
/// run always is), or success.
fn exit_code(data: &RunData, fail_under: Option<u8>) -> ExitCode {
    if data.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if fail_under
        .is_some_and(|floor| !data.workload_edits.is_empty() || data.score.total < u32::from(floor))
    {
        ExitCode::from(BELOW_FAIL_UNDER)
    } else {
        ExitCode::SUCCESS
    }
}

/// The scenario named on the command line, with its overrides.
pub fn chosen(scenarios: &Scenarios, args: &RunArgs) -> anyhow::Result<Scenario> {
    let mut scenario = scenarios.named(&args.scenario)?.clone();
    if let Some(rate) = args.rate {
        scenario.rate = rate;
    }
    if let Some(duration) = args.duration {
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
    args: &RunArgs,
    controls: &Controls,
) -> anyhow::Result<Option<RunData>> {
    let stack = tokio::select! {
        stack = Stack::start(config) => stack?,
        () = controls.stop_sending.cancelled() => {
            eprintln!("interrupted while the local stack was starting; nothing was measured");
            return Ok(None);
        }
    };
    let finished = execute(scenario, args, stack.targets(), controls).await;
    if let Err(error) = stack.stop().await {
        eprintln!("warning: the local stack did not stop cleanly: {error:#}");
    }
    finished.map(Some)
}

/// One run against `targets`: preflight, reset, load and probes, score,
/// data.json and the reports, and the summary on the terminal.
async fn execute(
    scenario: &Scenario,
    args: &RunArgs,
    targets: &Targets,
    controls: &Controls,
) -> anyhow::Result<RunData> {
    let base_url = targets.url(scenario.service);
    let fetchers = preflight(scenario, targets).await?;
    let workload_edits = workload::edits(&base_url, &scenario.expect).await;
    reset(&base_url).await;

    let request = RequestSpec {
        base_url: base_url.clone(),
        method: scenario.method,
        path: scenario.path.clone(),
        body: scenario.body.as_ref().map(serde_json::Value::to_string),
        cap: scenario.request_cap,
    };
    let mut plan = Plan::new(
        request,
        Arrivals::new(scenario.rate, scenario.duration, scenario.ramp),
    );
    let run_id = output::run_id(SystemTime::now());
    if args.goose_report {
        let folder = args.reports.join(&scenario.name).join(&run_id);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create the report folder {}", folder.display()))?;
        plan.goose_report = Some(folder.join("goose-report.html"));
    }
    let workers = plan.workers;
    eprintln!(
        "{}: {} {}{} at {}/s for {} ({} workers)",
        scenario.name,
        scenario.method.as_str(),
        base_url,
        scenario.path,
        scenario.rate,
        humantime::format_duration(scenario.duration),
        workers
    );

    let started_at = SystemTime::now();
    let probes_stop = CancellationToken::new();
    let probe_start = Instant::now();
    let probe_tasks: Vec<_> = scenario
        .probes
        .iter()
        .zip(fetchers)
        .map(|(probe_config, fetcher)| {
            tokio::spawn(probe::poll(
                probe_config.clone(),
                fetcher,
                probe_start,
                probes_stop.clone(),
            ))
        })
        .collect();
    let mut progress = Progress::new(scenario.duration);
    let result = load::run(plan, controls.clone(), |collector| progress.tick(collector)).await;
    progress.finish();
    probes_stop.cancel();
    let result = result?;
    // Probes started before goose's users did; put them on the load's clock.
    let load_started = result
        .collector
        .start()
        .saturating_duration_since(probe_start);
    let mut probes: Vec<ProbeRecord> = Vec::new();
    for task in probe_tasks {
        let mut record = task.await.context("a probe task failed")?;
        record.retime(load_started);
        probes.push(record);
    }

    let window_start = |last: Option<Duration>| {
        last.map_or(Duration::ZERO, |last| {
            scenario.duration.saturating_sub(last)
        })
    };
    let score = score::score(&scenario.checks, |check| {
        let from = window_start(check.last);
        match (&check.probe, check.stat) {
            (Some(name), Some(stat)) => probes
                .iter()
                .find(|probe| &probe.name == name)
                .and_then(|probe| probe.stat(&check.metric, stat, from)),
            _ => result.collector.metric(&check.metric, from),
        }
    });

    let data = RunData {
        version: output::DATA_VERSION,
        run_id,
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        case: scenario.case,
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        interrupted: result.interrupted,
        settings: settings(scenario, &base_url, workers),
        fingerprint: fingerprint::fingerprint(scenario, &workload_edits),
        workload_edits,
        totals: result.totals,
        probes,
        score,
    };
    let folder = output::write(&args.reports, &data)?;
    let value = serde_json::to_value(&data).context("cannot encode the run")?;
    let report = report::write_report(&args.reports, &folder, &value)?;
    let index = report::write_index(&args.reports)?;
    let flagged = if data.workload_edits.is_empty() {
        String::new()
    } else {
        workload::explain(&data.workload_edits)
    };
    let summary = format!(
        "{}{flagged}{}",
        output::checks(&data.score),
        output::score_line(&data)
    );
    if args.json {
        eprintln!("{summary}");
        println!("{}", output::json_summary(&data, &folder, &report));
    } else {
        println!("{summary}");
    }
    eprintln!("report: {}", report.display());
    eprintln!("all runs: {}", index.display());
    let open = !args.no_open && !args.json && std::io::stdout().is_terminal();
    if open && let Err(error) = opener::open(&report) {
        eprintln!(
            "could not open the report in a browser ({error}); open {} yourself",
            report.display()
        );
    }

    Ok(data)
}

fn settings(scenario: &Scenario, base_url: &str, workers: usize) -> Settings {
    Settings {
        url: format!("{base_url}{}", scenario.path),
        method: scenario.method.as_str().to_owned(),
        body: scenario.body.clone(),
        rate: scenario.rate,
        duration_s: scenario.duration.as_secs_f64(),
        ramp_s: scenario.ramp.map(|ramp| ramp.as_secs_f64()),
        request_cap_s: scenario.request_cap.as_secs_f64(),
        workers,
    }
}

/// Every service the run touches must answer its health check first, and
/// the Kubernetes API server when a probe reads the cluster: an unreachable
/// target is a clear error in two seconds, not a report full of connection
/// errors. Returns where each probe reads, in the scenario's order.
async fn preflight(scenario: &Scenario, targets: &Targets) -> anyhow::Result<Vec<Fetcher>> {
    let mut services = vec![scenario.service];
    let mut kubernetes = None;
    for probe in &scenario.probes {
        match probe.source() {
            Some(Source::Service { service, .. }) if !services.contains(&service) => {
                services.push(service);
            }
            Some(Source::Kubernetes(_)) if kubernetes.is_none() => {
                kubernetes = Some(probe::kubernetes::connect().await?);
            }
            _ => {}
        }
    }
    let client = reqwest::Client::new();
    for service in services {
        let url = format!("{}/healthz", targets.url(service));
        let answer = client.get(&url).timeout(PREFLIGHT_WITHIN).send().await;
        let problem = match answer {
            Ok(response) if response.status().is_success() => continue,
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
        );
    }
    scenario
        .probes
        .iter()
        .map(|probe| match (probe.source(), &kubernetes) {
            (Some(Source::Service { service, path }), _) => Ok(Fetcher::Http {
                client: client.clone(),
                url: format!("{}{path}", targets.url(service)),
            }),
            (Some(Source::Kubernetes(object)), Some(kube)) => Ok(Fetcher::Kubernetes(Box::new(
                probe::kubernetes::Object::new(kube, object),
            ))),
            _ => Err(anyhow::anyhow!(
                "probe `{}` names no source; `runner check` says what is wrong",
                probe.name
            )),
        })
        .collect()
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
        Ok(response) => eprintln!(
            "warning: reset at {url} answered {}; figures may include earlier state",
            response.status()
        ),
        Err(error) => {
            eprintln!("warning: reset at {url} failed ({error}); figures may include earlier state")
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
            eprintln!("\nsecond Ctrl-C: no more waiting; writing what was collected");
            controls.stop_waiting.cancel();
        } else {
            eprintln!(
                "\nCtrl-C: no more requests; waiting for those in flight (Ctrl-C again to stop waiting)"
            );
            controls.stop_sending.cancel();
        }
    });
    if let Err(error) = installed {
        eprintln!(
            "warning: cannot handle Ctrl-C ({error}); Ctrl-C will end the run without a report"
        );
    }
}
