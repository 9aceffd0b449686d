//! `runner list`: the scenarios, one line each.

use std::process::ExitCode;

use crate::scenario::Scenarios;

pub fn run(scenarios: &Scenarios) -> ExitCode {
    crate::out!("{}", table(scenarios));
    ExitCode::SUCCESS
}

/// The `runner list` table.
pub fn table(scenarios: &Scenarios) -> String {
    let mut out = format!(
        "{:<4} {:<10} {:<30} {:>8} {:>6}  {}\n",
        "case", "scenario", "request", "rate/s", "for", "what it shows"
    );
    for scenario in &scenarios.list {
        let request = format!(
            "{} {} {}",
            scenario.service.as_str(),
            scenario.method.as_str(),
            scenario.path
        );
        out.push_str(&format!(
            "{:<4} {:<10} {:<30} {:>8} {:>6}  {}\n",
            scenario.case,
            scenario.name,
            request,
            scenario.rate,
            humantime::format_duration(scenario.duration).to_string(),
            if scenario.needs_cluster {
                format!("{} (needs a cluster)", scenario.description)
            } else {
                scenario.description.clone()
            }
        ));
    }
    out
}
