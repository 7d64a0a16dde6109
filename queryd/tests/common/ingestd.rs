//! The real `opentrace-ingestd` for end-to-end tests: started on a free loopback port over
//! a test's data directory, fed SDK-shaped batches over HTTP.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use serde_json::Value;

use super::request;

/// The ingest API key every test ingestd runs with.
pub const API_KEY: &str = "test-ingest-key-0123456789";

/// The workspace binary `name` next to this test executable, built with cargo if missing
/// (the lookup of `tests/src/daemon.rs`).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap()
    } else {
        deps
    };
    let path = dir.join(name);
    if !path.exists() {
        let release = dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "-p", name, "--bin", name]);
        if release {
            cmd.arg("--release");
        }
        assert!(cmd.status().unwrap().success(), "cargo build {name}");
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// A running ingestd; killed on drop.
pub struct Ingestd {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Ingestd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts ingestd over `data` and waits until it listens.
pub fn start_ingestd(data: &Path) -> Ingestd {
    let bin = workspace_binary("opentrace-ingestd");
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = Command::new(bin)
        .env("OPENTRACE_DATA_DIR", data)
        .env("OPENTRACE_INGEST_ADDR", addr.to_string())
        .env("OPENTRACE_API_KEY", API_KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let d = Ingestd { child, addr };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return d;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("ingestd did not listen");
}

/// Both daemons over one temporary data directory: ingestd, then queryd.
pub fn start_both() -> (Ingestd, super::Server) {
    let data = tempfile::tempdir().unwrap();
    let ingest = start_ingestd(data.path());
    (ingest, super::Server::start_in(data, &[]))
}

/// Posts one batch to `/api/v2/logs`, asserting a 2xx; returns the moment of the ack.
pub fn post(ingest: &Ingestd, rows: &[Value]) -> Instant {
    post_with_key(ingest, API_KEY, rows)
}

/// [`post`] with another API key.
pub fn post_with_key(ingest: &Ingestd, key: &str, rows: &[Value]) -> Instant {
    let body = serde_json::to_vec(rows).unwrap();
    let auth = format!("Bearer {key}");
    let r = request(
        ingest.addr,
        "POST",
        "/api/v2/logs",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ],
        &body,
    );
    let acked = Instant::now();
    assert!(
        (200..300).contains(&r.status),
        "ingest {}: {}",
        r.status,
        r.body
    );
    acked
}

/// `now` minus `ms_ago`, as RFC 3339 with milliseconds.
pub fn ts(now: chrono::DateTime<Utc>, ms_ago: i64) -> String {
    (now - chrono::Duration::milliseconds(ms_ago)).to_rfc3339_opts(SecondsFormat::Millis, true)
}
