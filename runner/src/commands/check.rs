//! `runner check [SCENARIO]`: the scenarios file is valid (loading it
//! already proved that), and a named scenario has what it needs: its files
//! with their markers, and for a cluster case, manifests that let an HPA
//! scale the api.

use std::{path::Path, process::ExitCode};

use crate::{
    hint, manifests, model,
    scenario::{Scenario, Scenarios},
    score::PASS_MARK,
};

/// The folder of Kubernetes manifests, relative to the repository root.
pub const MANIFESTS: &str = "deploy/k8s";

pub fn check(scenarios: &Scenarios, name: Option<&str>) -> anyhow::Result<ExitCode> {
    crate::outln!(
        "{}: {} scenarios, no problems",
        scenarios.path.display(),
        scenarios.list.len()
    );
    let Some(name) = name else {
        return Ok(ExitCode::SUCCESS);
    };
    let scenario = scenarios.named(name)?;
    let root = scenarios.root();
    let mut fine = true;
    for spot in hint::spots(&root, scenario) {
        let file = &spot.file;
        if !root.join(file).is_file() {
            fine = false;
            crate::outln!("  ✗ {file} does not exist: the scenario names it as the file to edit");
            continue;
        }
        match spot.line {
            Some(line) if spot.solved => crate::outln!("  ✓ {file}:{line}: the reference solution"),
            Some(line) => crate::outln!("  ✓ {file}:{line}: `{}`", hint::marker(scenario.case)),
            None => crate::outln!(
                "  ✓ {file} exists (no `{}` marker left: fine once you have fixed it)",
                hint::marker(scenario.case)
            ),
        }
    }
    if scenario.needs_cluster {
        fine &= cluster_case(&root, scenario);
    }
    Ok(if fine {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints whether the manifests let an HPA scale the scenario's service;
/// true when they do.
pub fn cluster_case(root: &Path, scenario: &Scenario) -> bool {
    let folder = root.join(MANIFESTS);
    let service = scenario.service.as_str();
    let findings = manifests::check_autoscaling(&folder, service);
    crate::outln!("can an HPA scale the {service}? ({})", folder.display());
    for finding in &findings {
        crate::outln!("  {} {}", if finding.ok { '✓' } else { '✗' }, finding.text);
    }
    // Static findings can all pass while the HPA acts too late or too
    // little for this scenario: the model judges that.
    let assumptions = model::Assumptions::defaults(scenario);
    let predicted = match model::predict(scenario, &folder, &assumptions) {
        Ok(prediction) => {
            let total = prediction.score.total;
            let mark = if total >= PASS_MARK { '✓' } else { '✗' };
            crate::outln!(
                "  {mark} the model predicts {total}/100 for this scenario ({PASS_MARK} passes): \
                 `runner model {}` shows the replicas over time",
                scenario.name
            );
            crate::outln!(
                "{}",
                model::predicted_line(scenario, &prediction, &assumptions)
            );
            total >= PASS_MARK
        }
        Err(error) => {
            crate::outln!("  ✗ the model cannot predict these manifests: {error:#}");
            false
        }
    };
    let scalable = findings.iter().all(|finding| finding.ok) && predicted;
    if scalable {
        crate::outln!(
            "yes, judging from the manifests. A run on the cluster shows whether it does: \
             `runner run {}`",
            scenario.name
        );
    } else {
        crate::outln!("not yet. Hint:\n{}", scenario.hint.trim_end());
    }
    scalable
}
