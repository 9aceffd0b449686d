//! `runner watch <scenario>`: the participant's loop, as rustlings runs
//! it. Save a file under `lab/`, and the lab is rebuilt, its roles
//! restarted and the scenario run again, the score set against the
//! previous run of the session.
//!
//! - The local stack starts once; PostgreSQL stays up between runs, only
//!   the roles (`lab dep`, `api`, `worker`) restart on the new build.
//! - Code that does not compile shows the compiler's first error and waits
//!   for the next save, the stack still up.
//! - A save during a run stops that run (it is written, marked
//!   interrupted) and starts over on the new code.
//! - Keys: `r` rerun, `h` hint, `s` the last report, `q` quit. On a
//!   terminal a key press is enough; otherwise (a pipe, a test) each key is
//!   a line on stdin. Ctrl-C stops as in `runner run`: the run in progress
//!   is scored and written, marked interrupted, then the stack stops.

use std::{
    io::{BufRead, IsTerminal, Read},
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use notify_debouncer_full::{
    DebounceEventResult, Debouncer, RecommendedCache, new_debouncer,
    notify::{EventKind, RecommendedWatcher, RecursiveMode},
};
use tokio::sync::mpsc;

use crate::{
    cli::{KEYS, WatchArgs},
    data::RunData,
    hint::{self, Rerun},
    load::Controls,
    local::{
        LocalConfig, Stack,
        build::{self, Messages},
    },
    run::{self, Options, Overrides},
    scenario::{Scenario, Scenarios},
    submit::Board,
};

/// What is watched, under the repository root: the lab's code, its
/// migrations and its manifest.
const WATCHED: &[&str] = &["lab/src", "lab/migrations", "lab/Cargo.toml"];

/// The files whose change rebuilds: an editor's swap and backup files do
/// not.
const SOURCE_EXTENSIONS: &[&str] = &["rs", "sql", "toml"];

/// How long the files must be quiet before a rebuild: an editor's save is
/// often several writes and a rename.
const DEBOUNCE: Duration = Duration::from_millis(200);

pub async fn watch(
    scenarios: &Scenarios,
    args: &WatchArgs,
    controls: &Controls,
) -> anyhow::Result<ExitCode> {
    // A missing name or code for the board stops watch before its build.
    let board = args.link.board()?;
    let overrides = Overrides {
        duration: args.duration,
        rate: None,
    };
    let scenario = run::chosen(scenarios, &args.scenario, overrides)?;
    if scenario.needs_cluster {
        bail!(
            "{name} (case {case}) needs a Kubernetes cluster, and watch runs the local stack. \
             After editing the manifests, `runner check {name}` models them; on a cluster, \
             `make dev` then `runner run {name}`",
            name = scenario.name,
            case = scenario.case
        );
    }
    let root = std::path::absolute(scenarios.root()).context("cannot resolve the tree's root")?;
    let mut session = Session {
        config: LocalConfig {
            case_files: scenarios.case_files(),
            ..LocalConfig::from_env(&root)
        },
        saves: Saves::watch(&root)?,
        keys: Keys::start(),
        root,
        scenario,
        options: Options::on_local_stack(args.reports.clone()),
        board,
        stack: None,
        previous: None,
        report: None,
    };
    let quit = session.main_loop(controls).await;
    if let Some(stack) = session.stack.take() {
        crate::errln!("stopping the local stack");
        stack.stop().await?;
    }
    quit?;
    Ok(if controls.stop_sending.is_cancelled() {
        ExitCode::from(run::INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Why a round (build, restart, run) starts.
#[derive(Debug)]
enum Cause {
    Start,
    Saved(Vec<PathBuf>),
    Rerun,
}

/// What comes after a round.
enum After {
    /// Wait for a save or a key.
    Wait,
    /// Go again at once: a save came during the run.
    Again(Cause),
    Quit,
}

/// What happened while a run went: its result, what comes after it, and
/// the keys pressed meanwhile, answered once it is written.
struct During {
    finished: anyhow::Result<RunData>,
    after: After,
    later: Vec<Key>,
}

struct Session {
    root: PathBuf,
    config: LocalConfig,
    scenario: Scenario,
    options: Options,
    /// Where each run is submitted, with `--submit`.
    board: Option<Board>,
    saves: Saves,
    keys: Keys,
    /// Up from the first good build to the end of the session.
    stack: Option<Stack>,
    /// The score of the session's last complete run.
    previous: Option<u32>,
    /// The last run's report.
    report: Option<PathBuf>,
}

impl Session {
    async fn main_loop(&mut self, controls: &Controls) -> anyhow::Result<()> {
        let mut next = Some(Cause::Start);
        loop {
            if let Some(cause) = next.take() {
                match self.round(cause, controls).await? {
                    After::Wait => self.prompt(),
                    After::Again(cause) => next = Some(cause),
                    After::Quit => return Ok(()),
                }
                continue;
            }
            tokio::select! {
                saved = self.saves.next() => next = Some(Cause::Saved(saved)),
                key = self.keys.next() => match key {
                    Key::Rerun => next = Some(Cause::Rerun),
                    Key::Quit => return Ok(()),
                    other => self.answer(other),
                },
                () = controls.stop_sending.cancelled() => return Ok(()),
            }
        }
    }

    /// Build, (re)start, run; or stop at the first thing that fails, say
    /// what it was, and wait.
    async fn round(&mut self, cause: Cause, controls: &Controls) -> anyhow::Result<After> {
        crate::outln!("\n── {} ──", self.describe(&cause));
        let Some(lab) = self.build().await? else {
            return Ok(After::Wait);
        };
        if !self.restart(&lab).await {
            return Ok(After::Wait);
        }
        let Some(during) = self.run(controls).await else {
            return Ok(After::Wait);
        };
        match during.finished {
            Ok(data) => self.compare(&data),
            Err(error) => crate::outln!("✗ the run failed: {error:#}"),
        }
        if controls.stop_sending.is_cancelled() {
            return Ok(After::Quit);
        }
        let mut after = during.after;
        for key in during.later {
            match key {
                Key::Rerun if matches!(after, After::Wait) => after = After::Again(Cause::Rerun),
                Key::Quit => after = After::Quit,
                other => self.answer(other),
            }
        }
        Ok(after)
    }

    /// One run on the stack, listening meanwhile: a save stops it to go
    /// again, `q` stops it to quit, other keys wait for its end. `None`
    /// when there is no stack to run on.
    async fn run(&mut self, controls: &Controls) -> Option<During> {
        let stack = self.stack.as_ref()?;
        // The run's own controls: Ctrl-C (the session's) reaches it, and so
        // do a save and `q` (this run's alone).
        let run_controls = Controls {
            stop_sending: controls.stop_sending.child_token(),
            stop_waiting: controls.stop_waiting.child_token(),
        };
        let mut after = After::Wait;
        let mut later = Vec::new();
        let running = run::execute(
            &self.scenario,
            &self.options,
            stack.targets(),
            Some(&self.config),
            self.board.as_ref(),
            &run_controls,
        );
        tokio::pin!(running);
        let finished = loop {
            tokio::select! {
                finished = &mut running => break finished,
                saved = self.saves.next(), if matches!(after, After::Wait) => {
                    crate::errln!("\nsaved {}: stopping this run to rebuild", shown(&self.root, &saved));
                    run_controls.stop_sending.cancel();
                    after = After::Again(Cause::Saved(saved));
                }
                key = self.keys.next() => match key {
                    Key::Quit => {
                        crate::errln!(
                            "\nq: no more requests; the run is written when those in flight end, then the session stops"
                        );
                        run_controls.stop_sending.cancel();
                        after = After::Quit;
                    }
                    other => later.push(other),
                },
            }
        };
        Some(During {
            finished,
            after,
            later,
        })
    }

    fn describe(&self, cause: &Cause) -> String {
        match cause {
            Cause::Start => format!(
                "{}: first build and run (watching {})",
                self.scenario.name,
                WATCHED.join(", ")
            ),
            Cause::Saved(paths) => format!("saved {}", shown(&self.root, paths)),
            Cause::Rerun => "r: rerun".to_owned(),
        }
    }

    /// Builds the lab; `None` (after saying why) when it does not compile.
    async fn build(&self) -> anyhow::Result<Option<PathBuf>> {
        let started = Instant::now();
        // Cargo's progress for the first build, which may take minutes; a
        // rebuild takes seconds and says how long.
        let messages = Messages::FirstError {
            progress: self.stack.is_none(),
        };
        let built = tokio::task::spawn_blocking({
            let root = self.root.clone();
            move || build::build(&root, None, messages)
        })
        .await
        .context("the build task failed")?;
        match built {
            Ok(Ok(lab)) => {
                crate::outln!("built the lab in {:.1} s", started.elapsed().as_secs_f64());
                Ok(Some(lab))
            }
            Ok(Err(failed)) => {
                let more = match failed.errors {
                    1 => String::new(),
                    n => format!(" (the first of {n} errors)"),
                };
                crate::outln!(
                    "✗ the lab does not compile{more}:\n{}\n\n{}\n{}",
                    failed.first,
                    failed.rendered.trim_end(),
                    if self.stack.is_some() {
                        "Fix it and save. The stack stays up, the last good build still in it."
                    } else {
                        "Fix it and save."
                    }
                );
                Ok(None)
            }
            Err(error) => {
                crate::outln!("✗ cannot build the lab: {error:#}");
                Ok(None)
            }
        }
    }

    /// Starts the stack on the first good build, or restarts its roles on
    /// a new one; false (after saying why) when that failed.
    async fn restart(&mut self, lab: &Path) -> bool {
        let started = Instant::now();
        let restarted = match &mut self.stack {
            Some(stack) => stack.restart_roles(lab).await.map(|()| {
                crate::outln!(
                    "restarted dep, api and worker in {:.2} s",
                    started.elapsed().as_secs_f64()
                );
            }),
            None => Stack::start_built(&self.config, lab)
                .await
                .map(|stack| self.stack = Some(stack)),
        };
        match restarted {
            Ok(()) => true,
            Err(error) => {
                crate::outln!("✗ the lab built, but did not start: {error:#}\nFix it and save.");
                false
            }
        }
    }

    /// The score against the session's previous complete run, and the
    /// next step when it is under the pass mark.
    fn compare(&mut self, data: &RunData) {
        let score = data.score.total;
        if data.interrupted {
            crate::outln!("score: {score} (interrupted: not compared)");
        } else {
            match self.previous {
                Some(before) => crate::outln!(
                    "score: {before} -> {score} ({:+}) against this session's previous run",
                    i64::from(score) - i64::from(before)
                ),
                None => crate::outln!("score: {score} (the session's first run)"),
            }
            self.previous = Some(score);
        }
        if let Some(next) = hint::next_step(&self.root, &self.scenario, data, Rerun::Watch) {
            crate::outln!("{next}");
        }
        self.report = Some(
            data.folder(&self.options.reports)
                .join(crate::report::REPORT_FILE),
        );
    }

    fn answer(&self, key: Key) {
        match key {
            Key::Hint => crate::out!("\n{}", hint::hint(&self.root, &self.scenario)),
            Key::Show => match &self.report {
                Some(report) => {
                    crate::outln!("report: {}", report.display());
                    if self.keys.terminal
                        && let Err(error) = opener::open(report)
                    {
                        crate::outln!("could not open it in a browser ({error})");
                    }
                }
                None => crate::outln!("no report yet: the first run writes one"),
            },
            Key::Other(text) => crate::outln!("`{text}` is not a key here.\n{KEYS}"),
            Key::Rerun | Key::Quit => {}
        }
    }

    fn prompt(&self) {
        let how = if self.keys.terminal {
            "press"
        } else {
            "type, then Enter:"
        };
        crate::outln!(
            "\nwatching: save a file under lab/ to rebuild and rerun; {how} r rerun, h hint, \
             s report, q quit"
        );
    }
}

/// Paths as the participant knows them: from the tree's root.
fn shown(root: &Path, paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| {
            path.strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Saves under [`WATCHED`], debounced, as they come.
struct Saves {
    /// Watching stops when this drops.
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    changes: mpsc::UnboundedReceiver<DebounceEventResult>,
}

impl Saves {
    fn watch(root: &Path) -> anyhow::Result<Self> {
        let (sender, changes) = mpsc::unbounded_channel();
        let mut debouncer = new_debouncer(DEBOUNCE, None, move |result| {
            let _ = sender.send(result);
        })
        .context("cannot watch the lab's files")?;
        for watched in WATCHED {
            let path = root.join(watched);
            if path.exists() {
                debouncer
                    .watch(&path, RecursiveMode::Recursive)
                    .with_context(|| format!("cannot watch {}", path.display()))?;
            }
        }
        Ok(Self {
            _debouncer: debouncer,
            changes,
        })
    }

    /// The next save of a source file: every such path changed since the
    /// last call, sorted.
    async fn next(&mut self) -> Vec<PathBuf> {
        loop {
            let Some(first) = self.changes.recv().await else {
                return std::future::pending().await;
            };
            let mut results = vec![first];
            while let Ok(more) = self.changes.try_recv() {
                results.push(more);
            }
            let mut paths = Vec::new();
            for result in results {
                match result {
                    // A file opened or read (by cargo, say) is not a save.
                    Ok(events) => paths.extend(
                        events
                            .into_iter()
                            .filter(|event| !matches!(event.kind, EventKind::Access(_)))
                            .flat_map(|event| event.event.paths)
                            .filter(|path| is_source(path)),
                    ),
                    Err(errors) => {
                        for error in errors {
                            crate::errln!("warning: watching the files: {error}");
                        }
                    }
                }
            }
            paths.sort();
            paths.dedup();
            if !paths.is_empty() {
                return paths;
            }
        }
    }
}

fn is_source(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| SOURCE_EXTENSIONS.contains(&extension))
}

#[derive(Debug, PartialEq, Eq)]
enum Key {
    Rerun,
    Hint,
    Show,
    Quit,
    Other(String),
}

impl Key {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "" => return None,
            "r" => Self::Rerun,
            "h" => Self::Hint,
            "s" => Self::Show,
            "q" => Self::Quit,
            other => Self::Other(other.to_owned()),
        })
    }
}

/// The keys from stdin, read on a thread of their own.
struct Keys {
    /// A key press is enough (stdin and stdout are a terminal); otherwise
    /// each key is a line.
    terminal: bool,
    /// `None` once stdin has ended: no more keys.
    pressed: Option<mpsc::UnboundedReceiver<Key>>,
    /// Puts the terminal back as it was when the session ends.
    _mode: Option<KeyPresses>,
}

impl Keys {
    fn start() -> Self {
        let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        let mode = terminal.then(KeyPresses::enable).flatten();
        let (sender, pressed) = mpsc::unbounded_channel();
        let by_press = mode.is_some();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            if by_press {
                for byte in stdin.lock().bytes() {
                    let Ok(byte) = byte else { return };
                    let key = Key::parse(&char::from(byte).to_string());
                    if key.is_some_and(|key| sender.send(key).is_err()) {
                        return;
                    }
                }
            } else {
                for line in stdin.lock().lines() {
                    let Ok(line) = line else { return };
                    if Key::parse(&line).is_some_and(|key| sender.send(key).is_err()) {
                        return;
                    }
                }
            }
        });
        Self {
            terminal: by_press,
            pressed: Some(pressed),
            _mode: mode,
        }
    }

    /// The next key; never, once stdin has ended.
    async fn next(&mut self) -> Key {
        if let Some(pressed) = &mut self.pressed {
            if let Some(key) = pressed.recv().await {
                return key;
            }
            self.pressed = None;
        }
        std::future::pending().await
    }
}

/// The terminal set to pass each key press at once, without echo; Ctrl-C
/// still interrupts. Dropping it puts the terminal back.
struct KeyPresses {
    saved: rustix::termios::Termios,
}

impl KeyPresses {
    fn enable() -> Option<Self> {
        use rustix::termios::{
            LocalModes, OptionalActions, SpecialCodeIndex, tcgetattr, tcsetattr,
        };
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).ok()?;
        let mut keys = saved.clone();
        keys.local_modes
            .remove(LocalModes::ICANON | LocalModes::ECHO);
        keys.special_codes[SpecialCodeIndex::VMIN] = 1;
        keys.special_codes[SpecialCodeIndex::VTIME] = 0;
        tcsetattr(&stdin, OptionalActions::Now, &keys).ok()?;
        Some(Self { saved })
    }
}

impl Drop for KeyPresses {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(
            std::io::stdin(),
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_as_typed() {
        assert_eq!(Key::parse("r\n"), Some(Key::Rerun));
        assert_eq!(Key::parse(" Q "), Some(Key::Quit));
        assert_eq!(Key::parse("h"), Some(Key::Hint));
        assert_eq!(Key::parse("s"), Some(Key::Show));
        assert_eq!(Key::parse("\n"), None);
        assert_eq!(Key::parse("x"), Some(Key::Other("x".to_owned())));
    }

    #[test]
    fn only_source_files_rebuild() {
        assert!(is_source(Path::new("lab/src/cases/timeouts.rs")));
        assert!(is_source(Path::new("lab/migrations/0001_init.sql")));
        assert!(is_source(Path::new("lab/Cargo.toml")));
        assert!(!is_source(Path::new("lab/src/cases/.timeouts.rs.swp")));
        assert!(!is_source(Path::new("lab/src/cases/timeouts.rs~")));
        assert!(!is_source(Path::new("lab/src/cases/4913")));
    }
}
