//! The sender and the CLI against a recording test double of the ingest server on loopback.
//! The subject is the generator/sender, so a scripted peer is the right tool here.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// One request the double received.
#[derive(Debug, Clone)]
struct Seen {
    batch_id: Option<String>,
    gzip: bool,
    auth: Option<String>,
    wire: Bytes,
    json: Vec<u8>,
    at: Instant,
    status: u16,
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    attempts: HashMap<String, u32>,
    batches: u32,
}

/// How the double answers: (batch ordinal, attempt number for that id) -> (status, body).
type Policy = Arc<dyn Fn(u32, u32, usize) -> (u16, String) + Send + Sync>;

async fn serve(policy: Policy) -> (String, Arc<Mutex<State>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(State::default()));
    let st = state.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let st = st.clone();
            let policy = policy.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let st = st.clone();
                    let policy = policy.clone();
                    async move {
                        let h = req.headers().clone();
                        let wire = req.into_body().collect().await.unwrap().to_bytes();
                        let gzip = h.get("content-encoding").is_some_and(|v| v == "gzip");
                        let json = if gzip {
                            let mut out = Vec::new();
                            flate2::read::GzDecoder::new(&wire[..])
                                .read_to_end(&mut out)
                                .unwrap();
                            out
                        } else {
                            wire.to_vec()
                        };
                        let n = serde_json::from_slice::<Value>(&json)
                            .unwrap()
                            .as_array()
                            .unwrap()
                            .len();
                        let batch_id = h.get("x-batch-id").map(|v| v.to_str().unwrap().to_string());
                        let (status, body) = {
                            let mut s = st.lock().unwrap();
                            let id = batch_id.clone().unwrap_or_default();
                            let attempt = *s
                                .attempts
                                .entry(id.clone())
                                .and_modify(|a| *a += 1)
                                .or_insert(0);
                            if attempt == 0 {
                                s.batches += 1;
                            }
                            let ordinal = s.batches;
                            let (status, body) = policy(ordinal, attempt, n);
                            s.seen.push(Seen {
                                batch_id,
                                gzip,
                                auth: h.get("authorization").map(|v| v.to_str().unwrap().into()),
                                wire,
                                json,
                                at: Instant::now(),
                                status,
                            });
                            (status, body)
                        };
                        let mut resp = Response::new(Full::new(Bytes::from(body)));
                        *resp.status_mut() = StatusCode::from_u16(status).unwrap();
                        if status == 503 {
                            resp.headers_mut()
                                .insert("retry-after", "0".parse().unwrap());
                        }
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(sock), svc)
                    .await;
            });
        }
    });
    (url, state)
}

/// Every 3rd batch gets a 503 first; every 5th is "stored but the ack lost": 503, then a
/// deduplicated 200 on the retry. Everything else: 201 {"count": n}.
fn flaky_policy() -> Policy {
    Arc::new(
        |ordinal, attempt, n| match (ordinal % 5 == 0, ordinal % 3 == 0, attempt) {
            (true, _, 0) | (false, true, 0) => (503, "{}".into()),
            (true, _, _) => (200, format!("{{\"count\":{n},\"deduplicated\":true}}")),
            _ => (201, format!("{{\"count\":{n}}}")),
        },
    )
}

async fn run_cli(args: &[&str]) -> (std::process::Output, Value) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .env_remove("OPENTRACE_API_KEY")
        .output()
        .await
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_sends_what_it_reports_with_gzip_retries_dedupe_ndjson_and_ack_log() {
    let (url, state) = serve(flaky_policy()).await;
    let dir = tempfile::tempdir().unwrap();
    let nd = dir.path().join("rows.ndjson");
    let acks = dir.path().join("acks.txt");
    let (out, r) = run_cli(&[
        "--url",
        &url,
        "--api-key",
        "k3y",
        "--seed",
        "11",
        "--entries",
        "301",
        "--batch",
        "2",
        "--concurrency",
        "3",
        "--report",
        "json",
        "--batch-id-seed",
        "5",
        "--ndjson",
        nd.to_str().unwrap(),
        "--ack-log",
        acks.to_str().unwrap(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = state.lock().unwrap().seen.clone();

    // Headers: bearer key, a v4 batch id on every request, gzip exactly above 1 KiB.
    let mut small = 0;
    let mut big = 0;
    for s in &seen {
        assert_eq!(s.auth.as_deref(), Some("Bearer k3y"));
        let id = uuid::Uuid::parse_str(s.batch_id.as_deref().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(s.gzip, s.json.len() > 1024, "{} bytes", s.json.len());
        if s.gzip { big += 1 } else { small += 1 }
    }
    assert!(
        small > 0 && big > 0,
        "both sides of the threshold: {small} {big}"
    );

    // Retries reuse the id and the exact body.
    let mut by_id: BTreeMap<&str, Vec<&Seen>> = BTreeMap::new();
    for s in &seen {
        by_id
            .entry(s.batch_id.as_deref().unwrap())
            .or_default()
            .push(s);
    }
    let retried: Vec<_> = by_id.values().filter(|v| v.len() > 1).collect();
    assert!(!retried.is_empty());
    for v in &retried {
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].status, 503);
        assert_eq!(v[0].wire, v[1].wire);
    }

    // The report is what really went over the wire.
    let count_of = |s: &Seen| {
        serde_json::from_slice::<Value>(&s.json)
            .unwrap()
            .as_array()
            .unwrap()
            .len() as u64
    };
    let u = |k: &str| r[k].as_u64().unwrap();
    assert_eq!(u("requests"), seen.len() as u64);
    assert_eq!(
        u("retries"),
        seen.iter().filter(|s| s.status == 503).count() as u64
    );
    assert_eq!(u("batches_sent"), by_id.len() as u64);
    assert_eq!(
        u("wire_bytes"),
        seen.iter().map(|s| s.wire.len() as u64).sum::<u64>()
    );
    let firsts: Vec<&Seen> = by_id.values().map(|v| v[0]).collect();
    assert_eq!(
        u("raw_bytes"),
        firsts.iter().map(|s| s.json.len() as u64).sum::<u64>()
    );
    let acc: u64 = seen.iter().filter(|s| s.status == 201).map(count_of).sum();
    let dedup: u64 = seen.iter().filter(|s| s.status == 200).map(count_of).sum();
    assert!(dedup > 0);
    assert_eq!(u("entries_accepted"), acc);
    assert_eq!(u("entries_deduplicated"), dedup);
    assert_eq!(acc + dedup, 301);
    assert_eq!(u("entries_generated"), 301);
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    for s in &seen {
        *codes.entry(s.status.to_string()).or_default() += 1;
    }
    assert_eq!(r["responses"], serde_json::to_value(&codes).unwrap());
    assert_eq!(r["ack_latency"]["count"].as_u64(), Some(by_id.len() as u64));
    assert!(
        r["ack_latency"]["p50_ms"].as_f64().unwrap()
            <= r["ack_latency"]["max_ms"].as_f64().unwrap()
    );

    // NDJSON holds exactly the sent rows, in order.
    let mut sent: Vec<Value> = firsts
        .iter()
        .flat_map(|s| {
            serde_json::from_slice::<Value>(&s.json)
                .unwrap()
                .as_array()
                .unwrap()
                .clone()
        })
        .collect();
    sent.sort_by_key(|v| v["body"]["lg_seq"].as_u64().unwrap());
    let lines: Vec<Value> = std::fs::read_to_string(&nd)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, sent);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["body"]["lg_seq"].as_u64(), Some(i as u64));
        assert!(
            l["message"]
                .as_str()
                .unwrap()
                .ends_with(&format!(" lg-11-{i}"))
        );
    }

    // Ack log: one line per acked batch, matching the report and the server.
    let log = std::fs::read_to_string(&acks).unwrap();
    let mut covered = vec![0u32; 301];
    for line in log.lines() {
        let p: Vec<&str> = line.split(' ').collect();
        let (id, n, first): (&str, usize, usize) =
            (p[0], p[1].parse().unwrap(), p[2].parse().unwrap());
        let last = by_id[id].last().unwrap();
        assert!(last.status == 201 || last.status == 200);
        assert_eq!(count_of(last) as usize, n);
        let rows: Value = serde_json::from_slice(&last.json).unwrap();
        assert_eq!(rows[0]["body"]["lg_seq"].as_u64(), Some(first as u64));
        for c in &mut covered[first..first + n] {
            *c += 1;
        }
    }
    assert!(covered.iter().all(|&c| c == 1));
    assert_eq!(
        r["acked_batches"].as_array().unwrap().len(),
        log.lines().count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_paces_to_the_requested_rate() {
    let ok: Policy = Arc::new(|_, _, n| (201, format!("{{\"count\":{n}}}")));
    let (url, state) = serve(ok).await;
    let started = Instant::now();
    let (out, r) = run_cli(&[
        "--url",
        &url,
        "--entries",
        "200",
        "--batch",
        "10",
        "--rate",
        "400",
        "--report",
        "json",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = state.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 20);
    // Batch k starts no earlier than k*10/400 s after the first: 19 gaps of 25 ms.
    let span = seen.last().unwrap().at - seen[0].at;
    assert!(span >= Duration::from_millis(440), "{span:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(r["entries_accepted"].as_u64(), Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_stops_the_run_and_non_loopback_is_refused() {
    let deny: Policy = Arc::new(|_, _, _| (401, "{}".into()));
    let (url, state) = serve(deny).await;
    let (out, r) = run_cli(&[
        "--url",
        &url,
        "--entries",
        "5000",
        "--batch",
        "50",
        "--report",
        "json",
    ])
    .await;
    assert!(!out.status.success());
    assert_eq!(r["auth_failed"], true);
    let posted = state.lock().unwrap().seen.len() as u64;
    assert_eq!(r["requests"].as_u64(), Some(posted));
    assert!(posted <= 8, "kept sending after 401: {posted}");
    assert_eq!(r["entries_accepted"].as_u64(), Some(0));

    for target in [
        "http://10.1.2.3:8081",
        "http://example.com",
        "http://192.168.1.1",
    ] {
        let (out, _) = run_cli(&["--url", target, "--entries", "1"]).await;
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("only loopback"),
            "{target}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_sender_retries_then_gives_up_with_bounded_attempts() {
    use opentrace_tests::loadgen::send::{SendConfig, send_batches};
    use opentrace_tests::loadgen::wire::{Encoder, GzipMode};
    use opentrace_tests::loadgen::{Corpus, GenConfig, Generator};

    let always503: Policy = Arc::new(|_, _, _| (503, "{}".into()));
    let (url, state) = serve(always503).await;
    let mut g = Generator::new(
        GenConfig::default(),
        Arc::new(Corpus::load_default().unwrap()),
    );
    let mut enc = Encoder::new(GzipMode::Always, 1);
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    for _ in 0..3 {
        tx.send(enc.encode(&g.next_batch(10)).unwrap())
            .await
            .unwrap();
    }
    drop(tx);
    let cfg = SendConfig {
        url,
        concurrency: 2,
        retry_base: Duration::from_millis(5),
        ..SendConfig::default()
    };
    let r = send_batches(cfg, rx).await.unwrap();
    let seen = state.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 9, "3 batches x (1 + 2 retries)");
    assert!(seen.iter().all(|s| s.gzip));
    assert_eq!(r.requests, 9);
    assert_eq!(r.retries, 6);
    assert_eq!(r.entries_rejected, 30);
    assert_eq!(r.entries_accepted, 0);
    assert!(r.acked_batches.is_empty());
}
