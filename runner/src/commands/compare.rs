//! `runner compare RUN [WITH]`: deltas on the terminal, and the later run's
//! report rendered against the earlier one as `compare-<earlier>.html`.

use std::process::ExitCode;

use crate::{
    cli::CompareArgs,
    data::{self, Runs},
    report,
};

pub fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let runs = Runs::read(&args.reports);
    let find = |id: &str| {
        runs.find(id).ok_or_else(|| {
            let unreadable = if runs.unreadable.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} runs could not be read: {})",
                    runs.unreadable.len(),
                    runs.unreadable.join("; ")
                )
            };
            anyhow::anyhow!(
                "no run `{id}` under {}; run ids are in the SCORE lines and in \
                 reports/index.html{unreadable}",
                args.reports.display()
            )
        })
    };
    let data = find(&args.run)?;
    let earlier = match &args.with {
        Some(id) => find(id)?,
        None => runs.previous(data).ok_or_else(|| {
            anyhow::anyhow!(
                "`{}` is the first run of its scenario: nothing to compare it with",
                args.run
            )
        })?,
    };
    let comparison = report::compare(data, earlier);
    let width = comparison.rows.iter().map(|row| row.metric.len()).max();
    let width = width.unwrap_or_default().max(12);
    crate::outln!("{:<width$} {:>22} {:>22}", "", comparison.run_id, args.run);
    for row in &comparison.rows {
        crate::outln!(
            "{:<width$} {:>12} {:>12}  {}",
            row.metric,
            row.before,
            row.after,
            row.verdict.as_str()
        );
    }
    let html = report::render_report(data, Some(earlier))?;
    let path = data
        .folder(&args.reports)
        .join(format!("compare-{}.html", comparison.run_id));
    data::write_atomically(&path, html.as_bytes())?;
    crate::errln!("comparison: {}", path.display());
    Ok(ExitCode::SUCCESS)
}
