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

use crate::report::sample_run;

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
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(port) = std::fs::read_to_string(&file).ok().and_then(|text| {
            text.lines()
                .next()
                .and_then(|line| line.trim().parse().ok())
        }) {
            return port;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium did not open its DevTools port"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_report_renders_offline_without_errors() {
    let folder = std::env::temp_dir().join(format!("runner-browser-{}", std::process::id()));
    let run_folder = folder.join("reports/timeouts/20261129T120000Z-0002");
    std::fs::create_dir_all(&run_folder).expect("run folder");
    let before = sample_run("timeouts", "20261129T110000Z-0001", 30, "before", "p95_ms");
    let previous_folder = folder.join("reports/timeouts/20261129T110000Z-0001");
    std::fs::create_dir_all(&previous_folder).expect("previous run folder");
    std::fs::write(previous_folder.join("data.json"), before.to_string()).expect("data.json");
    let data = sample_run(
        "timeouts",
        "20261129T120000Z-0002",
        95,
        "a brownout <b>",
        "p95_ms",
    );
    let report =
        runner::report::write_report(&folder.join("reports"), &run_folder, &data).expect("report");
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

    let mut next_id = 0;
    let mut send = |method: &str, params: Value| {
        next_id += 1;
        Message::text(json!({ "id": next_id, "method": method, "params": params }).to_string())
    };
    for method in [
        "Runtime.enable",
        "Log.enable",
        "Network.enable",
        "Page.enable",
    ] {
        socket.send(send(method, json!({}))).await.expect("send");
    }
    socket
        .send(send("Page.navigate", json!({ "url": url })))
        .await
        .expect("navigate");

    let mut problems = Vec::new();
    let mut requests = Vec::new();
    let mut loaded_at = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    // Listen until a second after the load event: late errors count too.
    while loaded_at.is_none_or(|at: Instant| at.elapsed() < Duration::from_secs(1)) {
        assert!(
            Instant::now() < deadline,
            "the report did not finish loading"
        );
        let message = match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
            Err(_) => continue,
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(error))) => panic!("the DevTools socket failed: {error}"),
            Ok(None) => panic!("Chromium closed the DevTools socket"),
        };
        let Ok(event) = serde_json::from_str::<Value>(message.to_text().unwrap_or_default()) else {
            continue;
        };
        match event["method"].as_str().unwrap_or_default() {
            "Page.loadEventFired" => loaded_at = Some(Instant::now()),
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
    socket
        .send(send(
            "Runtime.evaluate",
            json!({ "expression": probe, "returnByValue": true }),
        ))
        .await
        .expect("evaluate");
    let result = loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an answer to evaluate")
            .expect("socket open")
            .expect("a message");
        let answer: Value =
            serde_json::from_str(message.to_text().unwrap_or_default()).unwrap_or_default();
        if let Some(value) = answer["result"]["result"]["value"].as_str() {
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
