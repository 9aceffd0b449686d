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

use crate::{
    report::sample_run,
    support::{eventually, scratch},
};

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

    let profile = folder.join("chromium-profile");
    let _browser = launch(&profile);
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
    let (mut socket, _) = connect_async(page).await.expect("DevTools socket");

    // A DevTools command with its id, to match the answer to it.
    let mut next_id = 0_u64;
    let mut command = move |method: &str, params: Value| {
        next_id += 1;
        let message = json!({ "id": next_id, "method": method, "params": params });
        (next_id, Message::text(message.to_string()))
    };
    for method in [
        "Runtime.enable",
        "Log.enable",
        "Network.enable",
        "Page.enable",
    ] {
        socket
            .send(command(method, json!({})).1)
            .await
            .expect("send");
    }
    socket
        .send(command("Page.navigate", json!({ "url": url })).1)
        .await
        .expect("navigate");

    let mut problems = Vec::new();
    let mut requests = Vec::new();
    let mut complete_at: Option<Instant> = None;
    let mut asked_at = Instant::now();
    let mut ready_question = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    // Listen until a second after the document is complete: late errors
    // count too. Readiness is asked for, not awaited as an event, so a
    // missed event cannot stall the test.
    while complete_at.is_none_or(|at| at.elapsed() < Duration::from_secs(1)) {
        assert!(
            Instant::now() < deadline,
            "the report did not finish loading"
        );
        if complete_at.is_none() && asked_at.elapsed() > Duration::from_millis(300) {
            asked_at = Instant::now();
            let expression = "document.readyState + ' ' + location.href";
            let (id, question) = command(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            );
            ready_question = Some(id);
            socket.send(question).await.expect("ask for readiness");
        }
        let message = match tokio::time::timeout(Duration::from_millis(100), socket.next()).await {
            Err(_) => continue,
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(error))) => panic!("the DevTools socket failed: {error}"),
            Ok(None) => panic!("Chromium closed the DevTools socket"),
        };
        let Ok(event) = serde_json::from_str::<Value>(message.to_text().unwrap_or_default()) else {
            continue;
        };
        if event["id"]
            .as_u64()
            .is_some_and(|id| Some(id) == ready_question)
            && event["result"]["result"]["value"].as_str() == Some(&format!("complete {url}"))
        {
            complete_at.get_or_insert_with(Instant::now);
        }
        match event["method"].as_str().unwrap_or_default() {
            "Network.requestWillBeSent" => requests.push(
                event["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            "Runtime.exceptionThrown" => problems.push(event["params"].to_string()),
            "Runtime.consoleAPICalled"
                if matches!(event["params"]["type"].as_str(), Some("error" | "warning")) =>
            {
                problems.push(event["params"].to_string());
            }
            "Log.entryAdded"
                if matches!(
                    event["params"]["entry"]["level"].as_str(),
                    Some("error" | "warning")
                ) =>
            {
                problems.push(event["params"].to_string());
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "console errors: {problems:#?}");
    assert_eq!(
        requests,
        std::slice::from_ref(&url),
        "the report fetched something besides itself"
    );

    let probe = "JSON.stringify({ charts: document.querySelectorAll('figure.chart svg').length, \
                 lines: document.querySelectorAll('polyline.series').length, \
                 score: document.getElementById('score').textContent, \
                 compared: !!document.getElementById('comparison'), \
                 title: document.title })";
    let (probe_id, question) = command(
        "Runtime.evaluate",
        json!({ "expression": probe, "returnByValue": true }),
    );
    socket.send(question).await.expect("evaluate");
    let answer_by = Instant::now() + Duration::from_secs(10);
    let result = loop {
        assert!(Instant::now() < answer_by, "no answer to evaluate");
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an answer to evaluate")
            .expect("socket open")
            .expect("a message");
        let answer: Value =
            serde_json::from_str(message.to_text().unwrap_or_default()).unwrap_or_default();
        if answer["id"].as_u64() == Some(probe_id) {
            let value = answer["result"]["result"]["value"]
                .as_str()
                .unwrap_or_default();
            break serde_json::from_str::<Value>(value).expect("probe JSON");
        }
    };
    assert!(
        result["charts"].as_u64().is_some_and(|n| n >= 4),
        "{result}"
    );
    assert!(result["lines"].as_u64().is_some_and(|n| n >= 8), "{result}");
    assert_eq!(result["score"], "95/100");
    assert_eq!(result["compared"], true);
    let _ = std::fs::remove_dir_all(&folder);
}
