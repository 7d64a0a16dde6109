//! Why there are two daemons: either can restart without the other noticing.
//!
//! 1. **queryd restarts while ingest continues**: a client streams batches to ingestd while
//!    queryd is stopped (SIGTERM) and started again on the same data directory. Every batch
//!    is acknowledged (no ingest error), and afterwards every row is searchable and the error
//!    group derived by the follower counts every error row exactly once.
//! 2. **ingestd restarts while agents query**: an agent queries in a loop while ingestd is
//!    killed (SIGKILL), restarted (recovery turns its WALs into chunks) and stopped cleanly
//!    (SIGTERM seals everything). Every answer during all of it is complete: the same row
//!    count, never an error, never a row counted twice while a WAL is replaced by its chunk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentrace_tests::daemon::{Daemon, binary, free_addr};
use opentrace_tests::ingest_client::post_raw;
use opentrace_tests::ingestd::{Ingestd, SIGTERM};
use opentrace_tests::mcp::{Client, call, mcp_client};
use serde_json::{Value, json};

const BATCHES: usize = 60;
const ROWS_PER_BATCH: usize = 50;
/// Every n-th row is an error of the one class the follower groups.
const ERROR_EVERY: usize = 10;

fn batch(b: usize) -> Vec<u8> {
    let now = chrono::Utc::now();
    let rows: Vec<Value> = (0..ROWS_PER_BATCH)
        .map(|i| {
            let n = b * ROWS_PER_BATCH + i;
            let ts = (now - chrono::Duration::milliseconds((BATCHES * ROWS_PER_BATCH - n) as i64))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            if n.is_multiple_of(ERROR_EVERY) {
                json!({"ts": ts, "level": "error", "service": "api", "env": "production",
                       "message": format!("Stripe timeout for order {n}"),
                       "error_class": "StripeTimeout", "user_id": format!("u{}", n % 13),
                       "version": "v1"})
            } else {
                json!({"ts": ts, "level": "info", "service": "api", "env": "production",
                       "message": format!("GET /orders/{n} 200"), "version": "v1"})
            }
        })
        .collect();
    serde_json::to_vec(&rows).unwrap()
}

fn start_queryd(
    data: &std::path::Path,
    addr: std::net::SocketAddr,
    log: &std::path::Path,
) -> Daemon {
    Daemon::spawn(
        &binary("opentrace-queryd").unwrap(),
        &[
            "--data-dir",
            &data.display().to_string(),
            "--listen-addr",
            &addr.to_string(),
        ],
        &[],
        addr,
        log,
    )
    .unwrap()
}

fn admin_token(data: &std::path::Path) -> String {
    let out = std::process::Command::new(binary("opentrace-queryd").unwrap())
        .args(["user", "create", "--email", "agent@example.com", "--admin"])
        .env("OPENTRACE_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// (total rows matched, occurrences of the StripeTimeout group) as the agent sees them.
async fn counts(client: &Client) -> (Option<u64>, Option<u64>) {
    let (err, v) = call(
        client,
        "logs",
        json!({"action": "search", "since": "2h", "limit": 1}),
    )
    .await;
    assert!(!err, "logs search failed: {v}");
    let total = v["total_matched"].as_u64();
    let (err, g) = call(client, "errors", json!({"action": "list", "since": "2h"})).await;
    assert!(!err, "errors list failed: {g}");
    let occ = g["groups"].as_array().and_then(|gs| {
        gs.iter()
            .find(|g| g["error_class"] == "StripeTimeout")
            .and_then(|g| g["occurrences"].as_u64())
    });
    (total, occ)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_daemon_restarts_without_the_other_noticing() {
    let work = tempfile::tempdir().unwrap();
    let mut ingest = Ingestd::start(work.path(), &[]).unwrap();
    let data = ingest.data_dir.clone();
    let qaddr = free_addr().unwrap();
    let qlog = work.path().join("queryd.log");
    let mut queryd = start_queryd(&data, qaddr, &qlog);
    let token = admin_token(&data);
    let mcp_url = format!("http://{qaddr}/mcp");

    // 1. Stream batches; restart queryd in the middle.
    let url = ingest.url();
    let key = ingest.api_key.clone();
    let writer = tokio::spawn(async move {
        let mut failures = Vec::new();
        for b in 0..BATCHES {
            let id = format!("restart-split-{b}");
            let a = post_raw(&url, "/api/v2/logs", &key, &[("x-batch-id", id)], batch(b))
                .await
                .unwrap();
            if a.status != 201 {
                failures.push((b, a.status, a.json));
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        failures
    });
    tokio::time::sleep(Duration::from_millis(600)).await;
    let st = queryd
        .signal_and_wait(SIGTERM, Duration::from_secs(20))
        .unwrap();
    assert!(st.success(), "queryd exit status {st:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(queryd);
    let _queryd = start_queryd(&data, qaddr, &qlog);
    let failures = writer.await.unwrap();
    assert!(
        failures.is_empty(),
        "ingest errors during the queryd restart: {failures:?}"
    );

    let expected_rows = (BATCHES * ROWS_PER_BATCH) as u64;
    let expected_errors = expected_rows / ERROR_EVERY as u64;
    let client = mcp_client(&mcp_url, &token).await;
    let t = Instant::now();
    loop {
        let c = counts(&client).await;
        if c == (Some(expected_rows), Some(expected_errors)) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "after the queryd restart: {c:?}, expected ({expected_rows}, {expected_errors})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 2. Query in a loop while ingestd is killed, recovers, and stops cleanly.
    let stop = Arc::new(AtomicBool::new(false));
    let looping = {
        let stop = stop.clone();
        let client = mcp_client(&mcp_url, &token).await;
        tokio::spawn(async move {
            let mut answers = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let c = counts(&client).await;
                assert_eq!(
                    c,
                    (Some(expected_rows), Some(expected_errors)),
                    "an answer changed while ingestd restarted (answer {answers})"
                );
                answers += 1;
            }
            answers
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    ingest.kill9().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    ingest.restart().unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let st = ingest.sigterm(Duration::from_secs(30)).unwrap();
    assert!(st.success(), "ingestd exit status {st:?}: {}", ingest.log());
    let sealed = std::fs::read_dir(data.join("logs"))
        .unwrap()
        .flatten()
        .flat_map(|h| std::fs::read_dir(h.path()).unwrap().flatten())
        .filter(|f| f.file_name().to_string_lossy().ends_with(".col"))
        .count();
    assert!(sealed > 0, "no chunk after ingestd's clean stop");
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, Ordering::Relaxed);
    let answers = looping.await.unwrap();
    assert!(
        answers >= 3,
        "only {answers} answers while ingestd restarted"
    );
}
