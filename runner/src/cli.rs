//! The command line: `runner [--scenarios PATH] <command>`.

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, str::FromStr, time::Duration};

use clap::{Args, Parser, Subcommand};

use crate::{
    scenario::validate::{MAX_DURATION, MAX_RATE, MIN_DURATION},
    targets::Targets,
};

#[derive(Debug, Parser)]
#[command(
    name = "runner",
    version,
    about = "Runs Resilience Lab scenarios, scores them and writes reports"
)]
pub struct Cli {
    /// The scenarios file.
    #[arg(
        long,
        env = "LAB_SCENARIOS",
        default_value = "scenarios.toml",
        global = true
    )]
    pub scenarios: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario against the lab, score it and write data.json.
    Run(RunArgs),
    /// Rerun a scenario on the local stack at every save: the lab rebuilt,
    /// its roles restarted, the checks and the score against the previous
    /// run. PostgreSQL stays up between runs.
    #[command(after_help = KEYS)]
    Watch(WatchArgs),
    /// Compare a run with an earlier one (by default the previous run of the
    /// same scenario): print the deltas and write an HTML comparison.
    Compare(CompareArgs),
    /// List the scenarios: case, target, load and what each one shows.
    List,
    /// Validate the scenarios file and print every problem with its line.
    /// With a scenario, also check what it needs: its files, and for a
    /// cluster case, whether the manifests let an HPA scale the api.
    Check {
        /// The scenario to check (see `runner list`).
        scenario: Option<String>,
    },
    /// Simulate a cluster case from its manifests, no cluster needed: the
    /// replicas over time, each check and a PREDICTED line shaped like the
    /// SCORE line. What the files cannot say is assumed, each with a flag.
    Model(ModelArgs),
    /// Print a scenario's hint, the files to edit with the line of each
    /// `LAB: STEPn TODO` marker, and how to rerun or catch up.
    Hint {
        /// The scenario (see `runner list`).
        scenario: String,
    },
    /// The best score of each scenario among your runs in reports/, and the
    /// total (out of 100 per case), as a Markdown table. Only runs of today's
    /// scenarios against their workload are ranked.
    Leaderboard(LeaderboardArgs),
    /// The room's live leaderboard (the facilitator runs it): a page that
    /// ranks everyone's submitted runs, served until Ctrl-C. Participants
    /// submit with `runner run ... --submit URL`.
    Board(BoardArgs),
    /// Send a saved run to the room's board again (after a failed
    /// submission): the run id is in its SCORE line.
    Submit(SubmitArgs),
    /// Start the local stack (PostgreSQL, dep, api, worker) and keep it up
    /// until Ctrl-C, for curl or `runner run --target ...`.
    Stack,
    /// Run a command (`make test` runs the test suite) with a private
    /// PostgreSQL for it, named by LAB_TEST_DATABASE_URL, then stop it.
    /// When LAB_TEST_DATABASE_URL is already set, just run the command.
    WithPostgres {
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Apply a step's reference solution (solutions/step-N.patch). Refuses,
    /// changing nothing, when your own edits are in the way.
    Solve(StepArgs),
    /// Take a step's reference solution back out. Refuses, changing
    /// nothing, when the code no longer matches the solution.
    Unsolve(StepArgs),
    /// Print the JSON schema of a run's data.json or of `run --json`'s
    /// summary, generated from the runner's types (runner/schemas/ holds
    /// both).
    Schema {
        #[arg(value_enum)]
        of: SchemaOf,
    },
    /// The workshop end to end on the local stack: every local case, its
    /// baseline and then its solution, in a scratch copy of the tree, and a
    /// page that shows each pair side by side.
    Demo(DemoArgs),
}

/// `runner watch`'s keys, as its `--help` lists them and the loop repeats
/// after a key it does not know.
pub const KEYS: &str = "\
Keys (on a terminal, a key press; otherwise a line on stdin, then Enter):
  r  rerun now (rebuild if needed, restart the roles, run)
  h  the hint: what the case is about and the line to edit
  s  where the last report is, and open it in the browser
  q  quit: stop the run in progress (it is written, marked interrupted)
     and the local stack
Ctrl-C quits too, with the same rules as `runner run`: once stops sending
and waits for requests in flight, twice stops waiting.";

/// Which JSON document `runner schema` describes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SchemaOf {
    /// reports/<scenario>/<run-id>/data.json
    Data,
    /// The one line `runner run --json` prints
    Summary,
}

#[derive(Debug, Args)]
pub struct LeaderboardArgs {
    /// Print how each scenario is scored (generated from the scenarios
    /// file, as LEADERBOARD.md shows it) instead of the table.
    #[arg(long)]
    pub scoring: bool,

    /// Folder the runs are in.
    #[arg(long, env = "LAB_REPORTS", default_value = "reports")]
    pub reports: PathBuf,
}

#[derive(Debug, Args)]
pub struct BoardArgs {
    /// Where to listen. Loopback by default (this machine only); in the
    /// room, 0.0.0.0:7878 lets the participants' laptops reach it.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,

    /// The room code participants submit with (6 characters or more).
    /// Default: the code kept in the board's file, or a new one.
    #[arg(long, env = "LAB_BOARD_CODE")]
    pub code: Option<String>,

    /// The SQLite file the submissions are kept in, across restarts.
    #[arg(long, default_value = ".lab/board.sqlite")]
    pub db: PathBuf,

    /// Write the table as board.md and board.csv into DIR (default:
    /// reports) and exit, for the debrief. Works beside a running board.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "reports")]
    pub export: Option<PathBuf>,

    /// Submissions a minute that one name may send. An honest run takes
    /// 30 s or more, so a participant sends about two a minute.
    #[arg(long, value_name = "N", default_value_t = NonZeroU32::new(12).expect("12 > 0"))]
    pub per_name: NonZeroU32,

    /// Submissions a minute from one address. A room behind one NAT shares
    /// an address: 30 participants send about 60 a minute.
    #[arg(long, value_name = "N", default_value_t = NonZeroU32::new(240).expect("240 > 0"))]
    pub per_address: NonZeroU32,
}

/// Where a run is submitted: the room's board, under a name, with the room
/// code. Without --submit (or LAB_BOARD), nothing is sent anywhere.
#[derive(Debug, Clone, Default, Args)]
pub struct BoardLink {
    /// Post each run's summary to the room's board at URL (the facilitator
    /// shares it). A failed submission never fails the run.
    #[arg(long = "submit", value_name = "URL", env = "LAB_BOARD")]
    pub board: Option<String>,

    /// Your name on the board: 1-32 letters, digits, spaces, `.`, `_`, `-`.
    #[arg(long, env = "LAB_NAME", requires = "board")]
    pub name: Option<String>,

    /// The room code, from the facilitator.
    #[arg(long, env = "LAB_BOARD_CODE", requires = "board")]
    pub code: Option<String>,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The run to send (its id, as in the SCORE line: run=...).
    pub run: String,

    #[command(flatten)]
    pub link: BoardLink,

    /// Folder the runs are in.
    #[arg(long, env = "LAB_REPORTS", default_value = "reports")]
    pub reports: PathBuf,
}

#[derive(Debug, Args)]
pub struct StepArgs {
    /// The step: a case number that has a solution (solutions/step-N.patch;
    /// see `runner list`).
    #[arg(value_parser = clap::value_parser!(u8).range(1..))]
    pub step: u8,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run each scenario for this long instead of its own duration.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Folder the runs and the demo page are written to.
    #[arg(long, env = "LAB_REPORTS", default_value = "reports")]
    pub reports: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario to run (see `runner list`).
    pub scenario: String,

    /// Run for this long instead of the scenario's duration (e.g. 15s, 2m).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Release this many requests per second instead of the scenario's rate.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Where the services are, as service=URL pairs separated by commas.
    /// Defaults: api=http://localhost:8080, worker=http://localhost:8081
    /// (the cluster's NodePorts).
    #[arg(
        long = "target",
        value_name = "SERVICE=URL,...",
        default_value = "",
        value_parser = Targets::from_str,
        hide_default_value = true
    )]
    pub targets: Targets,

    /// The kubeconfig context whose cluster the Kubernetes probes read
    /// (a cluster case), whatever context is current.
    #[arg(long, env = "LAB_KUBE_CONTEXT", default_value = "k3d-resilience-lab")]
    pub context: String,

    /// Run against a local stack that the runner builds, starts and stops
    /// itself: no Docker, no cluster. It uses a private PostgreSQL in
    /// .lab/ (or DATABASE_URL when set).
    #[arg(long, conflicts_with = "targets")]
    pub local: bool,

    /// Do not open the report in the browser. It never opens when stdout is
    /// not a terminal.
    #[arg(long)]
    pub no_open: bool,

    /// Print a JSON summary on stdout instead of the checks and the SCORE
    /// line (which then go to stderr). Implies --no-open.
    #[arg(long)]
    pub json: bool,

    /// Exit with status 3 when the score is below N (0-100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub fail_under: Option<u8>,

    /// Also write goose's own HTML report into the run's folder. It is a
    /// secondary artifact, and its charts load from a CDN, so it needs a
    /// network to display.
    #[arg(long)]
    pub goose_report: bool,

    /// Folder the runs are written to.
    #[arg(long, env = "LAB_REPORTS", default_value = "reports")]
    pub reports: PathBuf,

    #[command(flatten)]
    pub link: BoardLink,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The scenario to run (see `runner list`); a local one, not a cluster
    /// case.
    pub scenario: String,

    /// Run for this long instead of the scenario's duration (e.g. 10s): a
    /// quicker loop. The SCORE line's fingerprint then says the run was
    /// shorter, and the leaderboard does not rank it.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Folder the runs are written to.
    #[arg(long, env = "LAB_REPORTS", default_value = "reports")]
    pub reports: PathBuf,

    #[command(flatten)]
    pub link: BoardLink,
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    /// The cluster scenario to model (autoscale).
    pub scenario: String,

    /// The folder of manifests to read.
    #[arg(long, default_value = "deploy/k8s")]
    pub manifests: PathBuf,

    /// CPU time one request costs; default: the scenario's pinned
    /// workload.autoscale_cpu_ms.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub cpu_cost: Option<Duration>,

    /// CPU the api spends on each request besides that work (connection,
    /// HTTP), as the kernel harness measures it.
    #[arg(long, default_value = "700us", value_parser = humantime::parse_duration)]
    pub overhead: Duration,

    /// From the HPA asking for a pod to the pod being ready.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub ready_delay: Duration,

    /// Keep connections alive and reuse them, as an HTTP client does when
    /// the server lets it; false (the api closes each connection) sends
    /// every request to a random ready pod.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    pub sticky: bool,

    /// When the HPA's first sync comes, from the start of the load (0 to
    /// 15 s: it syncs every 15 s on its own clock).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub sync_phase: Duration,

    /// How old the metrics are at each sync (0 to 15 s: metrics-server
    /// scrapes every 15 s on its own clock).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub metrics_age: Duration,

    /// Predict a rerun that starts this long after a first run ends (the
    /// HPA keeps replicas for 5 minutes): what `runner run` refuses.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub rerun_after: Option<Duration>,

    /// CPUs the node gives the api pods together: their usage shares
    /// them, and a pod whose CPU request does not fit stays Pending.
    /// Docker's CPUs less about half a CPU for k3s and the other roles.
    #[arg(long, default_value_t = 3.5)]
    pub node_cpus: f64,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The run to look at (its id, as in the SCORE line: run=...).
    pub run: String,

    /// The run to compare it with; default: the previous run of the same
    /// scenario.
    pub with: Option<String>,

    /// Folder the runs are in.
    #[arg(long, env = "LAB_REPORTS", default_value = "reports")]
    pub reports: PathBuf,
}

/// A duration within what a scenario may ask for (the same bounds as
/// `runner check`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if (MIN_DURATION..=MAX_DURATION).contains(&duration) => Ok(duration),
        Ok(_) => Err(format!(
            "`{text}` is outside {} to {}",
            humantime::format_duration(MIN_DURATION),
            humantime::format_duration(MAX_DURATION)
        )),
        Err(error) => Err(format!(
            "`{text}` is not a duration like 30s or 2m ({error})"
        )),
    }
}

/// A rate within what a scenario may ask for.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= MAX_RATE => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate above 0 and at most {MAX_RATE} requests per second"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
