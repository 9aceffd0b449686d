//! The docs match the code. Every `runner …` and `make …` command in the
//! README, LEADERBOARD.md and docs/ parses (with the runner's own command
//! line parser; `make -n` for make), and every scenario they name exists;
//! the scoring in LEADERBOARD.md is what `runner leaderboard --scoring`
//! prints from today's scenarios.toml; example SCORE lines carry today's
//! fingerprints; and each case of LAB.md names files and markers that exist
//! in the code, and every check its scenario scores.

use std::path::Path;

use clap::Parser;
use runner::{
    cli::{Cli, Command},
    fingerprint, hint, leaderboard,
    scenario::Scenarios,
};

use crate::support::{repo_root, shipped};

const DOCS: &[&str] = &[
    "README.md",
    "LEADERBOARD.md",
    "docs/LAB.md",
    "docs/FACILITATOR.md",
    "docs/AGENT_PROMPTS.md",
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

/// The commands in one piece of code: split at `&&` and `;`, comments cut.
fn commands(code: &str) -> impl Iterator<Item = String> + '_ {
    code.split(" #")
        .next()
        .unwrap_or_default()
        .split("&&")
        .flat_map(|part| part.split(';'))
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
