//! The yardstick for dep's throughput benchmark (`bench/dep-throughput.sh`):
//! a plain axum route answering "hello", with nothing else in the way.
//!
//! `cargo run --release -p lab --example plain_hello -- 127.0.0.1:9100`

use axum::{Router, routing::get};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9100".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new().route("/", get(|| async { "hello" }));
    axum::serve(listener, app).await?;
    Ok(())
}
