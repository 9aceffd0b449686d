//! The docs match the code. Every `runner …` and `make …` command in the
//! README, LEADERBOARD.md and docs/ parses (with the runner's own command
//! line parser; `make -n` for make), and every scenario they name exists;
//! the scoring in LEADERBOARD.md is what `runner leaderboard --scoring`
//! prints from today's scenarios.toml; example SCORE lines carry today's
//! fingerprints; each case of LAB.md names files and markers that exist in
//! the code and every check its scenario scores, asks its questions before
//! it shows the answers and the fix; FACILITATOR.md's timeline adds up to 60
//! minutes with whole runs, debriefs and a buffer; the model's figures in
//! the docs are what the model predicts; AGENT_PROMPTS.md's numbers are the
//! scenarios' and the solutions'; every relative link reaches its file and
//! heading; and the cheat sheet names each case's files and marker.

use std::{path::Path, time::Duration};

use clap::Parser;
use runner::{
    cli::{Cli, Command},
    fingerprint, hint, leaderboard, model,
    scenario::Scenarios,
};

use crate::support::{manifests, repo_root, shipped};

const DOCS: &[&str] = &[
    "README.md",
    "LEADERBOARD.md",
    "docs/LAB.md",
    "docs/FACILITATOR.md",
    "docs/AGENT_PROMPTS.md",
    "docs/DEVELOPING.md",
    "docs/CHEATSHEET.md",
    "docs/GLOSSARY.md",
];

/// How the docs spell the runner: the alias, and what it stands for.
const RUNNER_PREFIXES: &[&str] = &[
    "cargo run -q -p runner -- ",
    "cargo run -p runner -- ",
    "runner ",
];

/// Placeholders in the docs' commands, and a value that stands for each.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("<scenario>", "timeouts"),
    ("<command>", "run"),
    ("RUN_ID", "20261129T120054Z-62d5"),
    ("URL", "http://localhost:8080"),
    ("DIR", "reports"),
    ("N", "1"),
];

fn read(doc: &str) -> String {
    std::fs::read_to_string(repo_root().join(doc)).unwrap_or_else(|error| panic!("{doc}: {error}"))
}

/// Every piece of code in a Markdown text: each line of a shell code block
/// whole, and each `inline span` elsewhere (text blocks included, since
/// prompts quote commands that way), joined across line breaks.
fn code(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut prose = String::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        if let Some(fence) = line.trim_start().strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(fence.trim().to_owned()),
            };
            prose.push('\n');
            continue;
        }
        match block.as_deref() {
            Some("sh") => found.push(line.trim().to_owned()),
            Some("") => {}
            _ => {
                prose.push_str(line);
                prose.push(' ');
            }
        }
    }
    found.extend(
        prose
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|span| span.split_whitespace().collect::<Vec<_>>().join(" ")),
    );
    found
}

/// The commands in one piece of code: split at `&&`, `;` and `|`, comments
/// cut.
fn commands(code: &str) -> impl Iterator<Item = String> + '_ {
    code.split(" #")
        .next()
        .unwrap_or_default()
        .split("&&")
        .flat_map(|part| part.split(';'))
        .flat_map(|part| part.split('|'))
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
}

fn words(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .filter(|word| !word.starts_with('[')) // an optional argument
        .map(|word| {
            PLACEHOLDERS
                .iter()
                .fold(word.to_owned(), |word, (placeholder, value)| {
                    if word == *placeholder || word.contains(&format!("={placeholder}")) {
                        word.replace(placeholder, value)
                    } else {
                        word
                    }
                })
        })
        .collect()
}

/// Parses a runner command line as the runner would; `Err` says why not.
fn parse_runner(args: &[String], scenarios: &Scenarios) -> Result<(), String> {
    let cli = match Cli::try_parse_from(std::iter::once("runner".to_owned()).chain(args.to_vec())) {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            return Ok(());
        }
        Err(error) => return Err(error.to_string()),
    };
    let named = match &cli.command {
        Command::Run(run) => Some(run.scenario.as_str()),
        Command::Watch(watch) => Some(watch.scenario.as_str()),
        Command::Model(model) => Some(model.scenario.as_str()),
        Command::Hint { scenario } => Some(scenario.as_str()),
        Command::Check { scenario } => scenario.as_deref(),
        _ => None,
    };
    match named {
        Some(name) if scenarios.get(name).is_none() => Err(format!(
            "no scenario `{name}`; the scenarios are {:?}",
            scenarios.names()
        )),
        _ => Ok(()),
    }
}

fn make_dry_run(root: &Path, args: &[String]) -> Result<(), String> {
    let output = std::process::Command::new("make")
        .arg("-n")
        .args(args)
        .current_dir(root)
        .output()
        .map_err(|error| format!("cannot run make: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn every_runner_and_make_command_in_the_docs_parses() {
    let scenarios = shipped();
    let root = repo_root();
    let mut problems = Vec::new();
    let (mut runner_commands, mut make_commands) = (0, 0);
    for doc in DOCS {
        let mut in_this_doc = 0;
        for piece in code(&read(doc)) {
            for command in commands(&piece) {
                let runner_args = RUNNER_PREFIXES
                    .iter()
                    .find_map(|prefix| command.strip_prefix(prefix));
                let outcome = if let Some(args) = runner_args {
                    runner_commands += 1;
                    parse_runner(&words(args), &scenarios)
                } else if let Some(args) = command.strip_prefix("make ") {
                    make_commands += 1;
                    make_dry_run(&root, &words(args))
                } else {
                    continue;
                };
                in_this_doc += 1;
                if let Err(why) = outcome {
                    problems.push(format!("{doc}: `{command}`: {why}"));
                }
            }
        }
        assert!(in_this_doc > 0, "{doc} shows no runner or make command");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The extraction works: the docs hold dozens of each.
    assert!(
        runner_commands >= 40,
        "only {runner_commands} runner commands found"
    );
    assert!(
        make_commands >= 20,
        "only {make_commands} make commands found"
    );
}

#[test]
fn a_misspelled_command_or_scenario_is_caught() {
    let scenarios = shipped();
    assert!(parse_runner(&words("run timeouts --local"), &scenarios).is_ok());
    assert!(parse_runner(&words("run <scenario> --local"), &scenarios).is_ok());
    assert!(parse_runner(&words("run timeout --local"), &scenarios).is_err());
    assert!(parse_runner(&words("run timeouts --locale"), &scenarios).is_err());
    assert!(parse_runner(&words("hints timeouts"), &scenarios).is_err());
    assert!(make_dry_run(&repo_root(), &words("smoke")).is_ok());
    assert!(make_dry_run(&repo_root(), &words("smok")).is_err());
    let found: Vec<String> =
        code("Run `runner run\ntx --local`, then:\n```sh\nmake up # go\n```\n")
            .iter()
            .flat_map(|piece| commands(piece).collect::<Vec<_>>())
            .collect();
    assert_eq!(found, ["make up", "runner run tx --local"]);
}

#[test]
fn the_scoring_in_leaderboard_md_is_generated_from_scenarios_toml() {
    let text = read("LEADERBOARD.md");
    let (_, after) = text
        .split_once(leaderboard::SCORING_BEGIN)
        .expect("LEADERBOARD.md marks where the scoring begins");
    let (section, _) = after
        .split_once(leaderboard::SCORING_END)
        .expect("and where it ends");
    let today = leaderboard::scoring(&shipped());
    assert_eq!(
        section.trim(),
        today.trim(),
        "LEADERBOARD.md is out of date: replace its scoring with `runner leaderboard --scoring`"
    );
}

#[test]
fn example_score_lines_carry_todays_fingerprints() {
    let scenarios = shipped();
    let mut seen = 0;
    for doc in DOCS {
        for line in read(doc).lines().filter(|line| line.contains("SCORE ")) {
            let Some(fp) = line
                .split_whitespace()
                .find_map(|word| word.strip_prefix("fp="))
            else {
                continue;
            };
            let name = line
                .split_whitespace()
                .skip_while(|word| *word != "SCORE")
                .nth(1)
                .expect("a scenario after SCORE");
            let scenario = scenarios
                .get(name)
                .unwrap_or_else(|| panic!("{doc}: no scenario {name}"));
            assert_eq!(fp, fingerprint::expected(scenario), "{doc}: {line}");
            seen += 1;
        }
    }
    assert!(
        seen >= 2,
        "the README and LEADERBOARD.md each show a SCORE line"
    );
}

#[test]
fn each_case_in_lab_md_names_its_files_markers_and_checks() {
    let text = read("docs/LAB.md");
    let root = repo_root();
    for scenario in &shipped().list {
        let heading = format!("## Case {}:", scenario.case);
        let section = text
            .split_once(&heading)
            .unwrap_or_else(|| panic!("LAB.md has no `{heading}`"))
            .1
            .split("\n## ")
            .next()
            .unwrap_or_default();
        let marker = hint::marker(scenario.case);
        assert!(
            section.contains(&format!("`{marker}`")),
            "case {}: LAB.md names `{marker}`",
            scenario.case
        );
        for file in &scenario.files {
            assert!(
                section.contains(&format!("`{file}`")),
                "case {}: LAB.md names {file}",
                scenario.case
            );
            let source = std::fs::read_to_string(root.join(file))
                .unwrap_or_else(|error| panic!("{file}: {error}"));
            assert!(source.contains(&marker), "{file} holds `{marker}`");
        }
        for span in section.split('`').skip(1).step_by(2) {
            if (span.starts_with("lab/") || span.starts_with("deploy/")) && span.contains('.') {
                assert!(
                    root.join(span).is_file(),
                    "LAB.md names {span}, which is missing"
                );
            }
        }
        for check in &scenario.checks {
            let label = check.label();
            assert!(
                section.contains(&format!("`{label}`")),
                "case {}: LAB.md's verify step names the check `{label}`",
                scenario.case
            );
        }
        for image in section.split("](img/").skip(1) {
            let name = image.split(')').next().unwrap_or_default();
            assert!(
                root.join("docs/img").join(name).is_file(),
                "LAB.md shows img/{name}, which is missing"
            );
        }
    }
}

/// One row of FACILITATOR.md's timeline.
#[derive(Debug)]
struct Slot {
    start: u32,
    minutes: u32,
    case: Option<u8>,
    step: String,
}

const TIMELINE_BEGIN: &str = "<!-- timeline: read by runner/tests/runner/docs.rs -->";
const TIMELINE_END: &str = "<!-- end of timeline -->";

/// What a verify slot holds beside the run: the rebuild on save (`runner
/// watch`), or case 4's preflight.
const VERIFY_BESIDE_THE_RUN_SECS: u64 = 30;

/// The table between the timeline's markers: start (h:mm), minutes, case
/// (`-` for none), step, what to say.
fn timeline() -> Vec<Slot> {
    let text = read("docs/FACILITATOR.md");
    let (_, after) = text
        .split_once(TIMELINE_BEGIN)
        .expect("FACILITATOR.md marks where the timeline begins");
    let (table, _) = after.split_once(TIMELINE_END).expect("and where it ends");
    table
        .lines()
        .filter(|line| line.starts_with('|'))
        .skip(2) // the header and its rule
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (hours, minutes) = cells[1].split_once(':').expect("a start like 0:05");
            Slot {
                start: hours.parse::<u32>().expect("hours") * 60
                    + minutes.parse::<u32>().expect("minutes"),
                minutes: cells[2].parse().expect("whole minutes"),
                case: cells[3].parse().ok(),
                step: cells[4].to_owned(),
            }
        })
        .collect()
}

#[test]
fn the_timeline_fits_sixty_minutes_with_debriefs_a_buffer_and_whole_runs() {
    let slots = timeline();
    let mut clock = 0;
    for slot in &slots {
        assert_eq!(
            slot.start, clock,
            "{slot:?} starts when the one before ends"
        );
        clock += slot.minutes;
    }
    assert_eq!(clock, 60, "the slots add up to 60 minutes");
    assert!(
        slots.iter().any(|s| s.step == "buffer" && s.minutes >= 5),
        "a buffer of 5 minutes or more"
    );
    assert_eq!(slots.last().map(|s| s.step.as_str()), Some("Q&A"));
    for scenario in &shipped().list {
        let step = |name: &str| {
            slots
                .iter()
                .find(|s| s.case == Some(scenario.case) && s.step == name)
                .unwrap_or_else(|| panic!("case {} has a {name} slot", scenario.case))
        };
        for name in ["observe", "find", "fix"] {
            assert!(step(name).minutes >= 1);
        }
        assert!(
            step("debrief").minutes >= 3,
            "case {}'s debrief",
            scenario.case
        );
        // A ramp is the start of the duration, not added to it
        // (runner::load::arrivals), so a run lasts its duration.
        let needed = scenario.duration.as_secs() + VERIFY_BESIDE_THE_RUN_SECS;
        assert!(
            u64::from(step("verify").minutes) * 60 >= needed,
            "case {}'s verify slot holds its {} s run and {VERIFY_BESIDE_THE_RUN_SECS} s more",
            scenario.case,
            scenario.duration.as_secs()
        );
    }
}

#[test]
fn lab_md_gives_each_case_the_minutes_of_the_timeline() {
    let text = read("docs/LAB.md");
    let slots = timeline();
    for scenario in &shipped().list {
        let minutes: u32 = slots
            .iter()
            .filter(|s| s.case == Some(scenario.case))
            .map(|s| s.minutes)
            .sum();
        let heading = text
            .lines()
            .find(|line| line.starts_with(&format!("## Case {}:", scenario.case)))
            .expect("a heading per case");
        assert!(
            heading.contains(&format!("({minutes} minutes")),
            "LAB.md `{heading}`: the timeline gives case {} {minutes} minutes",
            scenario.case
        );
    }
}

#[test]
fn each_case_in_lab_md_asks_before_it_tells() {
    let text = read("docs/LAB.md");
    for scenario in &shipped().list {
        let section = text
            .split_once(&format!("## Case {}:", scenario.case))
            .expect("a case")
            .1
            .split("\n## ")
            .next()
            .unwrap_or_default();
        let part = |name: &str| {
            section
                .split_once(&format!("### {name}"))
                .unwrap_or_else(|| panic!("case {} has `### {name}`", scenario.case))
                .1
                .split("\n### ")
                .next()
                .unwrap_or_default()
        };
        let observe = part("Observe");
        assert!(
            observe.contains("1. ") && observe.contains('?'),
            "case {}: Observe asks numbered questions",
            scenario.case
        );
        for name in ["Observe", "Fix"] {
            let text = part(name);
            let folded = text.split_once("<details><summary>").map(|(_, rest)| rest);
            assert!(
                folded
                    .is_some_and(|rest| rest.contains("</summary>") && rest.contains("</details>")),
                "case {}: {name}'s answer is folded in <details>",
                scenario.case
            );
        }
    }
}

/// The text between `<!-- model: ... -->` and `<!-- end of model -->`.
fn model_figures(doc: &str) -> String {
    let text = read(doc);
    let (_, after) = text
        .split_once("<!-- model: generated figures, checked by runner/tests/runner/docs.rs -->")
        .unwrap_or_else(|| panic!("{doc} marks the model's figures"));
    after
        .split_once("<!-- end of model -->")
        .expect("and where they end")
        .0
        .to_owned()
}

/// The model's predictions wherever the HPA's first sync falls and however
/// old its metrics are, the other assumptions at their defaults.
fn at_each_sync_timing(
    scenario: &runner::scenario::Scenario,
    folder: &Path,
) -> Vec<model::Prediction> {
    let mut predictions = Vec::new();
    for phase in [0, 7, 14] {
        for age in [0, 14] {
            let assumptions = model::Assumptions {
                sync_phase: Duration::from_secs(phase),
                metrics_age: Duration::from_secs(age),
                ..model::Assumptions::defaults(scenario)
            };
            predictions.push(model::predict(scenario, folder, &assumptions).expect("predicts"));
        }
    }
    predictions
}

#[test]
fn the_models_figures_in_the_docs_are_what_the_model_predicts() {
    let scenarios = shipped();
    let scenario = scenarios.get("autoscale").expect("autoscale");
    let folder = manifests("docs-reference", true, &[]);
    let hpa = runner::manifests::scaling(&folder, "api")
        .expect("the reference scales")
        .hpa
        .and_then(|hpa| hpa.spec)
        .expect("an HPA on CPU");
    let target = f64::from(hpa.target_percent);
    let (mut early, mut above, mut three) = (Vec::new(), Vec::new(), Vec::new());
    for prediction in at_each_sync_timing(scenario, &folder) {
        let percent = |w: &model::Window| w.utilisation.map(|u| (100.0 * u).round());
        for window in prediction.timeline.iter().filter(|w| w.to_secs <= 30) {
            early.extend(percent(window));
        }
        let first = prediction
            .timeline
            .iter()
            .find(|w| percent(w).is_some_and(|p| p > target))
            .expect("utilisation passes the target");
        above.extend([first.from_secs, first.to_secs]);
        let ready = prediction
            .timeline
            .iter()
            .find(|w| w.ready >= 3)
            .expect("3 replicas ready");
        three.push(ready.to_secs);
    }
    let range = |values: &[f64]| {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(0.0, f64::max);
        (min, max)
    };
    let (low, high) = range(&early);
    assert!(high < target);
    let span = |values: &[u32]| {
        (
            values.iter().min().copied().unwrap_or_default(),
            values.iter().max().copied().unwrap_or_default(),
        )
    };
    let ((from, to), (by_first, by_last)) = (span(&above), span(&three));
    let expected = format!(
        "`TARGETS` under {target}% for the first 30 s of the ramp ({low}-{high}%), first above \
         it at a sync {from}-{to} s into the load, and 3 replicas ready by {by_first}-{by_last} s"
    );
    assert_eq!(
        model_figures("docs/FACILITATOR.md"),
        expected,
        "FACILITATOR.md's checklist quotes the model"
    );
}

#[test]
fn lab_md_shows_the_models_prediction_for_the_baseline() {
    let scenarios = shipped();
    let scenario = scenarios.get("autoscale").expect("autoscale");
    let assumptions = model::Assumptions::defaults(scenario);
    let prediction = model::predict(scenario, &repo_root().join("deploy/k8s"), &assumptions)
        .expect("the baseline predicts");
    let line = model::predicted_line(scenario, &prediction, &assumptions);
    assert!(
        read("docs/LAB.md").contains(line.trim()),
        "LAB.md shows `{}`",
        line.trim()
    );
}

/// One value of a dep behaviour such as `latency_ms=20&hang_rate=0.1`.
fn query_value(query: &str, key: &str) -> f64 {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("`{key}` in {query}"))
}

/// What AGENT_PROMPTS.md must say, each figure read from scenarios.toml,
/// solutions/ or the manifests.
fn prompt_phrases(scenarios: &Scenarios) -> Vec<String> {
    let expect = |name: &str, key: &str| {
        scenarios
            .get(name)
            .and_then(|scenario| scenario.expect.get(key))
            .unwrap_or_else(|| panic!("{name} expects {key}"))
            .clone()
    };
    let number = |name: &str, key: &str| expect(name, key).as_f64().expect("a number");
    let text = |name: &str, key: &str| expect(name, key).as_str().expect("text").to_owned();
    let timeouts = text("timeouts", "workload.timeouts_dep");
    let deadline = read("solutions/step-1.patch")
        .split("Duration::from_millis(")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("step 1's deadline")
        .to_owned();
    let workers = number("bulkheads", "knobs.workers");
    let fast_workers = (workers / 4.0).floor().max(1.0);
    assert!(read("solutions/step-3.patch").contains("(workers / 4).max(1)"));
    let solved =
        runner::manifests::scaling(&manifests("docs-reference", true, &[]), "api").expect("scales");
    let hpa = solved.hpa.and_then(|hpa| hpa.spec).expect("an HPA");
    let baseline = runner::manifests::scaling(&repo_root().join("deploy/k8s"), "api")
        .expect("the baseline reads");
    let millicores = |cores: Option<f64>| format!("{}m", (cores.expect("CPU") * 1000.0).round());
    let mut wanted = vec![
        format!("hangs for {} s", query_value(&timeouts, "hang_ms") / 1000.0),
        format!(
            "dep's normal {} ms answer",
            query_value(&timeouts, "latency_ms")
        ),
        format!("{deadline} ms is a good value"),
        format!(
            "dep ({} ms)",
            query_value(&text("tx", "workload.tx_dep"), "latency_ms")
        ),
        format!("pool of {workers} workers"),
        format!(
            "fast jobs ({} ms)",
            number("bulkheads", "workload.fast_job_ms")
        ),
        format!(
            "slow jobs ({} s)",
            number("bulkheads", "workload.slow_job_ms") / 1000.0
        ),
        format!("({} of {workers}", workers - fast_workers),
        format!("only a {} CPU limit", millicores(baseline.cpu_limit)),
        format!("CPU request of\n{}", millicores(solved.cpu_request)),
        format!("limit of {}", millicores(solved.cpu_limit)),
        format!("from {} to {} replicas", hpa.min, hpa.max),
        format!("with a {}% target", hpa.target_percent),
    ];
    assert!(query_value(&timeouts, "hang_rate") == 0.1);
    wanted.push("one call in ten hangs".to_owned());
    if !hpa.behavior {
        wanted.push("Add no `behavior` block".to_owned());
    }
    wanted
}

#[test]
fn the_agent_prompts_agree_with_the_scenarios_and_the_solutions() {
    let prompts = read("docs/AGENT_PROMPTS.md");
    let flat = prompts.split_whitespace().collect::<Vec<_>>().join(" ");
    for phrase in prompt_phrases(&shipped()) {
        let phrase = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&phrase), "AGENT_PROMPTS.md says `{phrase}`");
    }
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every Markdown file the docs test reads, and those they link to.
const LINKED_DOCS: &[&str] = &["docs/ANSWER-KEY.md"];

#[test]
fn every_relative_link_in_the_docs_reaches_a_file_and_its_heading() {
    let root = repo_root();
    let mut problems = Vec::new();
    let mut links = 0;
    for doc in DOCS.iter().chain(LINKED_DOCS) {
        let base = root.join(doc).parent().expect("a folder").to_owned();
        let text = read(doc);
        let mut in_code = false;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            for link in line.split("](").skip(1) {
                let target = link.split(')').next().unwrap_or_default();
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                links += 1;
                let (file, heading) = target.split_once('#').unwrap_or((target, ""));
                let path = if file.is_empty() {
                    root.join(doc)
                } else {
                    base.join(file)
                };
                if !path.exists() {
                    problems.push(format!("{doc}: ({target}): no such file"));
                    continue;
                }
                let anchors: Vec<String> = std::fs::read_to_string(&path)
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|line| line.strip_prefix('#'))
                    .map(|line| anchor(line.trim_start_matches('#')))
                    .collect();
                if !heading.is_empty() && !anchors.iter().any(|a| a == heading) {
                    problems.push(format!("{doc}: ({target}): no heading #{heading}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(links >= 20, "only {links} links found");
    assert_eq!(anchor("The cluster path (k3d)"), "the-cluster-path-k3d");
}

#[test]
fn the_name_is_quoted_wherever_lab_name_is_set() {
    for doc in DOCS {
        for (at, _) in read(doc).match_indices("LAB_NAME=") {
            let after = &read(doc)[at + "LAB_NAME=".len()..];
            assert!(
                after.starts_with('"'),
                "{doc}: LAB_NAME=\"<your name>\", quoted: a name with a space keeps only its \
                 first word otherwise"
            );
        }
    }
}

#[test]
fn the_cheat_sheet_names_each_case_its_files_marker_and_the_pass_mark() {
    let text = read("docs/CHEATSHEET.md");
    assert!(text.contains(&format!("{}", runner::score::PASS_MARK)));
    for scenario in &shipped().list {
        assert!(text.contains(&format!("`{}`", hint::marker(scenario.case))));
        for file in &scenario.files {
            assert!(text.contains(file.as_str()), "CHEATSHEET.md names {file}");
        }
    }
}

/// The leaderboard's total is 100 a case: wherever the docs say "out of N"
/// for something larger than one run, N is that total for today's cases.
#[test]
fn every_total_in_the_docs_is_100_a_case() {
    let total = 100 * shipped().list.len();
    let mut seen = 0;
    for doc in DOCS {
        let text = read(doc);
        for (at, _) in text.match_indices("out of ") {
            let digits: String = text[at + "out of ".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            match digits.parse::<usize>() {
                Ok(100) | Err(_) => {}
                Ok(n) => {
                    assert_eq!(
                        n, total,
                        "{doc}: `out of {n}`, while the cases add up to {total}"
                    );
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 2, "the README and LEADERBOARD.md name the total");
}
