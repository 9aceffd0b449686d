//! `runner board`: the room's live leaderboard. The facilitator runs it;
//! each participant's runner posts its runs to it (`runner run --submit`,
//! [`crate::submit`]).
//!
//! - [`submission`]: what a runner posts, what the board checks, and each
//!   refusal with its status code;
//! - [`store`]: the SQLite file that keeps the room's submissions across
//!   restarts, one board per file;
//! - [`standings`]: the table worked out from them;
//! - this module: the HTTP server (axum). `GET /` is the page: one
//!   self-contained file that reloads itself every few seconds with no
//!   script. `POST /submissions` takes a run, with the room code in the
//!   `lab-room-code` header.
//!
//! A submission passes, in order: the per-address limit, the room code
//! (compared in constant time), the body (size, shape, fields), the
//! scenario (one of the board's own), the per-name limit, and the run id
//! (each run counts once).

pub mod standings;
pub mod store;
pub mod submission;

use std::{
    future::Future,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use anyhow::Context;
use axum::{
    Json, Router,
    extract::{ConnectInfo, DefaultBodyLimit, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    cli::BoardArgs,
    report::{self, chart},
    scenario::Scenarios,
    unit::Unit,
};
use standings::Standings;
use store::Store;
use submission::{BODY_MAX, CODE_HEADER, Refusal, Submission};

/// Seconds between the page's reloads.
const REFRESH_S: u32 = 5;

/// What the board needs to run.
#[derive(Debug)]
pub struct Config {
    pub db: PathBuf,
    /// The room code participants submit with; by default the one kept
    /// from the board's last start on this file, or a new one.
    pub code: Option<String>,
    /// Submissions per minute, per name and per address.
    pub per_name: NonZeroU32,
    pub per_address: NonZeroU32,
}

/// The running board's shared state.
#[derive(Debug)]
struct Room {
    store: Store,
    scenarios: Scenarios,
    /// The code's digest: comparing digests in constant time takes as long
    /// whatever the length of the guess.
    code: [u8; 32],
    /// One entry per name and per address for the board's lifetime: a
    /// room's worth is small, so nothing is evicted.
    per_name: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

/// `runner board`: the server until `shutdown` (Ctrl-C), or with
/// `--export` the table written as Markdown and CSV.
pub async fn board(
    scenarios: &Scenarios,
    args: &BoardArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<ExitCode> {
    let db = scenarios.root().join(&args.db);
    if let Some(folder) = &args.export {
        let folder = scenarios.root().join(folder);
        export(scenarios, &db, &folder).await?;
        return Ok(ExitCode::SUCCESS);
    }
    if args
        .code
        .as_ref()
        .is_some_and(|code| code.chars().count() < 6)
    {
        anyhow::bail!("a room code needs at least 6 characters, so it cannot be guessed quickly");
    }
    let config = Config {
        db,
        code: args.code.clone(),
        per_name: args.per_name,
        per_address: args.per_address,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another board on it? Give another --listen",
                args.listen
            )
        })?;
    serve(scenarios.clone(), &config, listener, shutdown, true).await?;
    crate::outln!(
        "board stopped; the submissions are kept in {}",
        config.db.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Opens the board's file and serves the board on `listener` until
/// `shutdown` completes. With `announce`, prints where to find it and the
/// room code.
pub async fn serve(
    scenarios: Scenarios,
    config: &Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    announce: bool,
) -> anyhow::Result<()> {
    let store = Store::open(&config.db).await?;
    let code = store.room_code(config.code.as_deref(), new_code).await?;
    let address = listener.local_addr().context("the board's address")?;
    if announce {
        crate::outln!("{}", announcement(address, &code, &config.db));
    }
    let room = Room {
        store,
        scenarios,
        code: Sha256::digest(code.as_bytes()).into(),
        per_name: RateLimiter::keyed(Quota::per_minute(config.per_name)),
        per_address: RateLimiter::keyed(Quota::per_minute(config.per_address)),
    };
    axum::serve(
        listener,
        app(Arc::new(room)).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the board's server failed")
}

fn app(room: Arc<Room>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/submissions", post(submit))
        .layer(DefaultBodyLimit::max(BODY_MAX))
        .with_state(room)
}

/// What the facilitator reads at start: the URL to share, the code, and
/// who can reach the board.
fn announcement(address: SocketAddr, code: &str, db: &Path) -> String {
    let port = address.port();
    let reach = if address.ip().is_loopback() {
        format!(
            "listening on {address}, this machine only (loopback): participants on other \
             machines cannot reach it. To open it to the room: runner board --listen 0.0.0.0:{port}"
        )
    } else {
        format!("listening on {address}: anyone who can reach this machine can open the page")
    };
    let url = if address.ip().is_unspecified() {
        let here =
            outward_address().map_or("<this machine's address>".to_owned(), |ip| ip.to_string());
        format!("http://{here}:{port}")
    } else {
        format!("http://{address}")
    };
    format!(
        "board: {url}\ncode: {code}\n{reach}\nsubmissions are kept in {}\n\
         participants join with: runner run <scenario> --submit {url} --name <their name> --code {code}\n\
         Ctrl-C stops the board; restarting it on the same file keeps everything.",
        db.display()
    )
}

/// The address this machine would use to reach a LAN host, if it has one:
/// connecting a UDP socket sends nothing, it only picks a route.
fn outward_address() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("10.255.255.255:9").ok()?;
    Some(socket.local_addr().ok()?.ip()).filter(|ip| !ip.is_loopback())
}

/// A new room code: 8 characters that read unambiguously aloud and on a
/// slide (no 0/O, 1/I/L).
fn new_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    (0..8)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// `GET /`: the board, reloading itself.
async fn page(State(room): State<Arc<Room>>) -> Response {
    let html = room
        .store
        .all()
        .await
        .and_then(|stored| render(&standings::standings(&room.scenarios, &stored)));
    match html {
        Ok(html) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                // Nothing but the page itself: no script, no request.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                ),
            ],
            Html(html),
        )
            .into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the board cannot be shown: {error:#}"),
        )
            .into_response(),
    }
}

/// The board's page, from `runner/templates/board.html.j2`.
pub fn render(standings: &Standings) -> anyhow::Result<String> {
    let env = report::environment()?;
    let points = standings
        .progress
        .iter()
        .map(|&(seconds, mean)| (seconds / 60.0, Some(mean)))
        .collect();
    let series = chart::Series {
        name: "the room's mean total".into(),
        unit: Unit::Points,
        points,
        previous: false,
    };
    let frame = chart::Frame {
        id: "progress".into(),
        title: "The room's progress".into(),
        unit: Unit::Points,
        x_end: chart::latest(std::slice::from_ref(&series)),
        y_reach: 100.0 * standings.scenarios.len() as f64,
    };
    let mut progress = chart::line_chart(frame, &[series]);
    // The x values are minutes, not the seconds the chart labels.
    for tick in &mut progress.x_ticks {
        tick.label = format!("{} min", tick.label.trim_end_matches('s'));
    }
    let html = env
        .get_template("board.html.j2")?
        .render(minijinja::context! {
            board => standings,
            progress => progress,
            out_of => 100 * standings.scenarios.len(),
            refresh_s => REFRESH_S,
        })?;
    Ok(html)
}

/// `POST /submissions`: the checks in the module's order, then the row.
async fn submit(
    State(room): State<Arc<Room>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Submission>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), Refusal> {
    limit(&room.per_address, peer.ip(), "from this address")?;
    let code = headers
        .get(CODE_HEADER)
        .map(|value| Sha256::digest(value.as_bytes()))
        .unwrap_or_default();
    if !bool::from(code.as_slice().ct_eq(room.code.as_slice())) {
        return Err(Refusal::WrongCode);
    }
    let Json(submission) = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Refusal::TooLarge,
        _ => Refusal::Malformed(rejection.body_text()),
    })?;
    if let Some(problem) = submission.problem() {
        return Err(Refusal::Invalid(problem));
    }
    if room.scenarios.get(&submission.scenario).is_none() {
        let known: Vec<&str> = room
            .scenarios
            .list
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        return Err(Refusal::UnknownScenario {
            scenario: submission.scenario,
            known: known.join(", "),
        });
    }
    limit(&room.per_name, submission.name.clone(), "under this name")?;
    let stored = room
        .store
        .insert(&submission, &peer.ip().to_string())
        .await
        .map_err(|error| Refusal::Failed(error.to_string()))?;
    stored?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "kept": submission.run_id })),
    ))
}

/// One more submission under `key`, or how long to wait.
fn limit<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: K,
    from: &str,
) -> Result<(), Refusal> {
    limiter
        .check_key(&key)
        .map_err(|not_until| Refusal::TooMany {
            from: from.to_owned(),
            retry: not_until.wait_time_from(limiter.clock().now()),
        })
}

/// `runner board --export DIR`: board.md and board.csv.
async fn export(scenarios: &Scenarios, db: &Path, folder: &Path) -> anyhow::Result<()> {
    let store = Store::read_only(db).await?;
    let standings = standings::standings(scenarios, &store.all().await?);
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    for (file, text) in [
        ("board.md", standings.markdown()),
        ("board.csv", standings.csv()),
    ] {
        let path = folder.join(file);
        crate::data::write_atomically(&path, text.as_bytes())?;
        crate::outln!("{}", path.display());
    }
    Ok(())
}
