//! report.html in a real headless Chromium, driven over the DevTools
//! protocol: no console errors, no network request besides the report
//! itself, and the charts are drawn.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{connect_async, tungstenite::Message};

use crate::support::{board, eventually, sample::sample_run, scratch};

/// Chromium, killed when the test ends however it ends.
struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

fn launch(profile: &Path) -> Browser {
    let _ = std::fs::remove_dir_all(profile);
    let child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-port=0",
            "about:blank",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot start {} ({error}): apt-get install -y chromium, or set CHROMIUM",
                chromium()
            )
        });
    Browser {
        child,
        profile: profile.to_owned(),
    }
}

/// The DevTools port Chromium chose, from the file it writes.
async fn devtools_port(profile: &Path) -> u16 {
    let file = profile.join("DevToolsActivePort");
    eventually(
        Duration::from_secs(30),
        "Chromium opens its DevTools port",
        || async {
            let text = std::fs::read_to_string(&file).ok()?;
            text.lines().next()?.trim().parse().ok()
        },
    )
    .await
}

/// A page in Chromium, driven over the DevTools protocol.
pub struct Tab {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
    _browser: Browser,
}

/// What happened while a page loaded.
pub struct Loaded {
    /// Console errors and warnings, and uncaught exceptions.
    pub problems: Vec<String>,
    /// Every URL the page requested, itself first.
    pub requests: Vec<String>,
}

impl Tab {
    /// Chromium on a fresh profile in `folder`, with one blank page.
    pub async fn open(folder: &Path) -> Self {
        let profile = folder.join("chromium-profile");
        let browser = launch(&profile);
        let port = devtools_port(&profile).await;
        let targets: Value = reqwest::get(format!("http://127.0.0.1:{port}/json/list"))
            .await
            .expect("DevTools answers")
            .json()
            .await
            .expect("JSON target list");
        let page = targets
            .as_array()
            .and_then(|targets| targets.iter().find(|t| t["type"] == "page"))
            .and_then(|page| page["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_owned();
        let (socket, _) = connect_async(page).await.expect("DevTools socket");
        let mut tab = Self {
            socket,
            next_id: 0,
            _browser: browser,
        };
        for method in [
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
            "Page.enable",
        ] {
            tab.send(method, json!({})).await;
        }
        tab
    }

    /// Sends a DevTools command; returns its id, to match the answer to it.
    async fn send(&mut self, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let message = json!({ "id": self.next_id, "method": method, "params": params });
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send a DevTools command");
        self.next_id
    }

    async fn next_event(&mut self, within: Duration) -> Option<Value> {
        let message = match tokio::time::timeout(within, self.socket.next()).await {
            Err(_) => return None,
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(error))) => panic!("the DevTools socket failed: {error}"),
            Ok(None) => panic!("Chromium closed the DevTools socket"),
        };
        serde_json::from_str(message.to_text().unwrap_or_default()).ok()
    }

    /// Navigates to `url` and listens until a second after the document is
    /// complete: late errors count too. Readiness is asked for, not awaited
    /// as an event, so a missed event cannot stall the test.
    pub async fn load(&mut self, url: &str) -> Loaded {
        self.send("Page.navigate", json!({ "url": url })).await;
        let mut loaded = Loaded {
            problems: Vec::new(),
            requests: Vec::new(),
        };
        let mut complete_at: Option<Instant> = None;
        let mut asked_at = Instant::now();
        let mut ready_question = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        while complete_at.is_none_or(|at| at.elapsed() < Duration::from_secs(1)) {
            assert!(Instant::now() < deadline, "{url} did not finish loading");
            if complete_at.is_none() && asked_at.elapsed() > Duration::from_millis(300) {
                asked_at = Instant::now();
                let expression = "document.readyState + ' ' + location.href";
                ready_question = Some(
                    self.send(
                        "Runtime.evaluate",
                        json!({ "expression": expression, "returnByValue": true }),
                    )
                    .await,
                );
            }
            let Some(event) = self.next_event(Duration::from_millis(100)).await else {
                continue;
            };
            if event["id"]
                .as_u64()
                .is_some_and(|id| Some(id) == ready_question)
                && event["result"]["result"]["value"].as_str() == Some(&format!("complete {url}"))
            {
                complete_at.get_or_insert_with(Instant::now);
            }
            record(&event, &mut loaded);
        }
        loaded
    }

    /// Loads `url` and asserts that nothing went wrong and nothing was
    /// requested besides the page itself.
    pub async fn load_alone(&mut self, url: &str) {
        let loaded = self.load(url).await;
        assert!(
            loaded.problems.is_empty(),
            "console errors: {:#?}",
            loaded.problems
        );
        assert_eq!(
            loaded.requests,
            [url],
            "{url} fetched something besides itself"
        );
    }

    /// The value of a JavaScript expression that returns a JSON string.
    pub async fn evaluate(&mut self, expression: &str) -> Value {
        let id = self
            .send(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        let answer_by = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < answer_by, "no answer to evaluate");
            let Some(answer) = self.next_event(Duration::from_secs(10)).await else {
                continue;
            };
            if answer["id"].as_u64() == Some(id) {
                let value = answer["result"]["result"]["value"]
                    .as_str()
                    .unwrap_or_default();
                return serde_json::from_str::<Value>(value).expect("the expression's JSON");
            }
        }
    }
}

/// Keeps a DevTools event that says the page requested something or went
/// wrong.
fn record(event: &Value, loaded: &mut Loaded) {
    match event["method"].as_str().unwrap_or_default() {
        "Network.requestWillBeSent" => loaded.requests.push(
            event["params"]["request"]["url"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        "Runtime.exceptionThrown" => loaded.problems.push(event["params"].to_string()),
        "Runtime.consoleAPICalled"
            if matches!(event["params"]["type"].as_str(), Some("error" | "warning")) =>
        {
            loaded.problems.push(event["params"].to_string());
        }
        "Log.entryAdded"
            if matches!(
                event["params"]["entry"]["level"].as_str(),
                Some("error" | "warning")
            ) =>
        {
            loaded.problems.push(event["params"].to_string());
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_report_renders_offline_without_errors() {
    // Not beside the load tests: a browser starved of CPU by a 1000 req/s
    // run proves nothing about the report.
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let folder = scratch("browser");
    let reports = folder.join("reports");
    let before = sample_run("timeouts", "20261129T110000Z-0001", 30, "before", "p95_ms");
    runner::data::write(&reports, &before).expect("the previous run's data.json");
    let data = sample_run(
        "timeouts",
        "20261129T120000Z-0002",
        95,
        "a brownout <b>",
        "p95_ms",
    );
    let report = runner::report::write_run(&reports, &data)
        .expect("report")
        .report;
    let url = format!("file://{}", report.display());

    let mut tab = Tab::open(&folder).await;
    tab.load_alone(&url).await;

    let probe = "JSON.stringify({ charts: document.querySelectorAll('figure.chart svg').length, \
                 lines: document.querySelectorAll('path.series').length, \
                 score: document.getElementById('score').textContent, \
                 compared: !!document.getElementById('comparison'), \
                 title: document.title })";
    let result = tab.evaluate(probe).await;
    assert!(
        result["charts"].as_u64().is_some_and(|n| n >= 4),
        "{result}"
    );
    assert!(result["lines"].as_u64().is_some_and(|n| n >= 8), "{result}");
    assert_eq!(result["score"], "95/100");
    assert_eq!(result["compared"], true);
    drop(tab);
    let _ = std::fs::remove_dir_all(&folder);
}

/// A run whose charts have something to get wrong: answers read with a
/// wait (seven request series in the old single rate chart), two probe
/// fields of different units, and a second with no answer between two
/// that had some.
fn run_to_chart() -> runner::data::RunData {
    let data = sample_run("timeouts", "20261129T120000Z-0003", 40, "charts", "p95_ms");
    let mut json = serde_json::to_value(&data).expect("a run serializes");
    json["settings"]["answers"] =
        json!({ "field": "source", "full": ["dep"], "degraded": ["fallback"], "within": "1s" });
    let answers = json!({ "full": 6, "late": 1, "degraded": 1, "unreadable": 0 });
    json["totals"]["answers"] = answers.clone();
    for (index, second) in json["totals"]["seconds"]
        .as_array_mut()
        .expect("seconds")
        .iter_mut()
        .enumerate()
    {
        second["answers"] = answers.clone();
        let p95 = if index == 1 {
            json!(null)
        } else {
            json!(20.0 + index as f64)
        };
        for key in ["p50_ms", "p95_ms", "p99_ms"] {
            second[key] = p95.clone();
        }
    }
    json["probes"][0]["series"] = json!([
        { "probe": "dbstats", "field": "in_use", "points": [[0.5, 10.0], [2.5, 10.0]] },
        { "probe": "dbstats", "field": "wait_max_ms", "points": [[0.5, 2000.0], [2.5, 2000.0]] }
    ]);
    serde_json::from_value(json).expect("still a run's data")
}

/// Each chart as the browser drew it: its unit, x axis end, the units named
/// on its axis, and each line's unit, computed colour and subpath count.
const CHARTS_IN_THE_DOM: &str = "JSON.stringify([...document.querySelectorAll('figure.chart')].map(f => ({ \
    id: f.id, unit: f.dataset.unit, x_end: Number(f.dataset.xEnd), \
    axis: [...f.querySelectorAll('.axis-unit')].map(t => t.dataset.unit), \
    lines: [...f.querySelectorAll('path.series')].map(p => ({ name: p.dataset.name, \
        unit: p.dataset.unit, color: getComputedStyle(p).stroke, \
        moves: (p.getAttribute('d').match(/M/g) || []).length })) })))";

#[tokio::test]
async fn each_chart_has_one_unit_distinct_colours_the_run_s_time_and_gaps() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let folder = scratch("browser-charts");
    let data = run_to_chart();
    let report = runner::report::write_run(&folder.join("reports"), &data)
        .expect("report")
        .report;
    let mut tab = Tab::open(&folder).await;
    tab.load_alone(&format!("file://{}", report.display()))
        .await;
    let charts = tab.evaluate(CHARTS_IN_THE_DOM).await;
    let charts = charts.as_array().expect("a list of charts");
    assert!(charts.len() >= 6, "{charts:#?}");
    assert_eq!(
        charts[0]["id"], "chart-latency",
        "the first check's chart leads"
    );
    // Three seconds of timeline; the probes' last poll is inside them.
    let run_span = data.totals.seconds.len() as f64;
    for chart in charts {
        let lines = chart["lines"].as_array().expect("lines");
        assert_eq!(chart["x_end"], run_span, "the run's time axis: {chart}");
        assert_eq!(
            chart["axis"],
            json!([chart["unit"]]),
            "one unit on the axis: {chart}"
        );
        assert!(
            lines.iter().all(|line| line["unit"] == chart["unit"]),
            "{chart}"
        );
        let mut colors: Vec<&str> = lines.iter().filter_map(|l| l["color"].as_str()).collect();
        colors.sort_unstable();
        colors.dedup();
        assert_eq!(colors.len(), lines.len(), "a colour per line: {chart}");
    }
    let latency = &charts[0]["lines"];
    let p95 = latency
        .as_array()
        .and_then(|lines| lines.iter().find(|line| line["name"] == "p95"))
        .expect("a p95 line");
    assert_eq!(p95["moves"], 2, "second 1 had no answer: a gap, not a zero");
    let units: Vec<&Value> = charts.iter().map(|chart| &chart["unit"]).collect();
    for unit in ["connections", "ms"] {
        assert!(
            units.contains(&&json!(unit)),
            "in_use and wait_max_ms apart: {units:?}"
        );
    }
    drop(tab);
    let _ = std::fs::remove_dir_all(&folder);
}

/// The room's board, served by the board on loopback, in Chromium: the
/// participants' rows in rank order, the progress chart drawn, nothing
/// requested besides the page, and no error.
#[tokio::test]
async fn the_board_renders_its_rows_in_a_browser() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let folder = scratch("browser-board");
    let board = board::start(&folder.join("board.sqlite"), Some("ROOM-1357"), 100, 1000).await;
    for (name, scenario, id, score) in [
        ("ada", "timeouts", "20261130T130000Z-0001", 62),
        ("bob", "timeouts", "20261130T130100Z-0002", 100),
        ("ada", "tx", "20261130T130200Z-0003", 97),
        ("carol", "bulkheads", "20261130T130300Z-0004", 12),
    ] {
        board::client(&board, name, "ROOM-1357")
            .send(&board::ranked_run(scenario, id, score))
            .await
            .expect("kept");
    }
    let url = format!("{}/", board.url);
    let mut tab = Tab::open(&folder).await;
    tab.load_alone(&url).await;
    let probe = "JSON.stringify({ \
                 names: [...document.querySelectorAll('tr.participant td.name')].map(td => td.textContent), \
                 totals: [...document.querySelectorAll('tr.participant td.total')].map(td => td.textContent), \
                 lines: document.querySelectorAll('#chart-progress path.series').length })";
    let result = tab.evaluate(probe).await;
    assert_eq!(result["names"], json!(["ada", "bob", "carol"]), "{result}");
    assert_eq!(
        result["totals"],
        json!(["159/400", "100/400", "12/400"]),
        "{result}"
    );
    assert_eq!(result["lines"], 1, "{result}");
    drop(tab);
    board.stop().await.expect("the board stops");
    let _ = std::fs::remove_dir_all(&folder);
}
