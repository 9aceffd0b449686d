//! The command line as a participant meets it.

use std::process::Command;

fn lab(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run lab");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn help_describes_every_role_and_option() {
    let (ok, text) = lab(&["--help"]);
    assert!(ok);
    for role in ["dep", "api", "worker"] {
        assert!(text.contains(role), "{text}");
    }
    let (ok, text) = lab(&["api", "--help"]);
    assert!(ok);
    for option in [
        "--database-url",
        "--dep-url",
        "--db-pool-size",
        "--db-acquire-timeout-ms",
        "--dep-max-connections",
        "--timeouts-dep",
        "--tx-dep",
        "--autoscale-cpu-ms",
        "--drain-timeout-secs",
        "[env: DATABASE_URL=]",
    ] {
        assert!(text.contains(option), "api --help lacks {option}");
    }
    let (ok, text) = lab(&["worker", "--help"]);
    assert!(ok);
    for option in [
        "--workers",
        "--fast-job-ms",
        "--slow-job-ms",
        "--max-jobs-per-batch",
    ] {
        assert!(text.contains(option), "worker --help lacks {option}");
    }
}

#[test]
fn api_without_a_database_url_says_what_is_missing() {
    let (ok, text) = lab(&["api"]);
    assert!(!ok);
    assert!(text.contains("--database-url"), "{text}");
}

#[test]
fn a_taken_port_is_explained() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let (ok, text) = lab(&["dep", "--listen", &addr]);
    assert!(!ok);
    assert!(
        text.contains(&format!("could not listen on {addr}")),
        "{text}"
    );
}
