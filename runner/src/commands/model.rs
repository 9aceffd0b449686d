//! `runner model <scenario>`: the cluster case simulated from its
//! manifests, the prediction printed.

use std::process::ExitCode;

use crate::{cli::ModelArgs, model, scenario::Scenarios};

pub fn run(scenarios: &Scenarios, args: &ModelArgs) -> anyhow::Result<ExitCode> {
    let scenario = scenarios.named(&args.scenario)?;
    let mut assumptions = model::Assumptions::defaults(scenario);
    if let Some(cost) = args.cpu_cost {
        assumptions.cpu_cost = cost;
    }
    assumptions.overhead = args.overhead;
    assumptions.ready_delay = args.ready_delay;
    assumptions.sticky = args.sticky;
    assumptions.rerun_after = args.rerun_after;
    assumptions.sync_phase = args.sync_phase;
    assumptions.metrics_age = args.metrics_age;
    assumptions.node_cpus = args.node_cpus;
    let folder = scenarios.root().join(&args.manifests);
    let prediction = model::predict(scenario, &folder, &assumptions)?;
    crate::out!("{}", model::render(scenario, &prediction, &assumptions));
    Ok(ExitCode::SUCCESS)
}
