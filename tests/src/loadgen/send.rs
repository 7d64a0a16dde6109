//! Posts encoded batches to a loopback ingest server the way the SDKs do, and measures.
//!
//! `concurrency` worker tasks share one keep-alive connection pool (hyper-util's legacy
//! client). Batch `b` is not started before `start + b.first / rate` (entries per second), so
//! the offered load follows `rate`. Retries follow the SDKs: 5xx, 429 and connection errors are
//! retried up to `max_retries` times with exponential backoff and jitter (honouring a
//! `Retry-After` header up to `retry_max`), always with the same body and `X-Batch-ID`. A 401
//! stops the run. Every loop is bounded by `deadline`.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

use super::report::{AckedBatch, LatencySummary, Report};
use super::wire::EncodedBatch;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL could not be parsed or has no host.
    #[error("invalid url {0:?}: {1}")]
    BadUrl(String, String),
    /// The URL names a host outside the loopback range.
    #[error(
        "refusing to send load to {0:?}: only loopback targets (127.0.0.0/8, ::1, localhost) are allowed; load tests must not use the network"
    )]
    NotLoopback(String),
    /// The ack log could not be created.
    #[error("ack log {0}: {1}")]
    AckLog(PathBuf, std::io::Error),
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct SendConfig {
    /// Base URL, e.g. `http://127.0.0.1:8081` (must be loopback).
    pub url: String,
    /// Request path, `/api/v2/logs` (Node) or `/api/logs` (Ruby).
    pub path: String,
    /// Bearer token, if any.
    pub api_key: Option<String>,
    /// Number of requests in flight at once.
    pub concurrency: usize,
    /// Offered load in entries per second; 0 means as fast as possible.
    pub rate: f64,
    /// Retries after the first attempt (the SDKs use 2).
    pub max_retries: u32,
    /// First backoff delay (the SDKs use 100 ms).
    pub retry_base: Duration,
    /// Longest backoff delay, also the cap on `Retry-After` (the SDKs use 2 s).
    pub retry_max: Duration,
    /// Per-attempt timeout.
    pub request_timeout: Duration,
    /// Hard limit on the whole run; nothing is started after it.
    pub deadline: Duration,
    /// Whether to send `X-API-Version: 2` (the Ruby gem does; Node does not).
    pub api_version_header: bool,
    /// `User-Agent` value.
    pub user_agent: String,
    /// If set, one line `batch_id count first_entry_index` is appended per acked batch, as it
    /// is acknowledged.
    pub ack_log: Option<PathBuf>,
}

impl Default for SendConfig {
    fn default() -> Self {
        SendConfig {
            url: "http://127.0.0.1:8081".into(),
            path: "/api/v2/logs".into(),
            api_key: None,
            concurrency: 4,
            rate: 0.0,
            max_retries: 2,
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(600),
            api_version_header: false,
            user_agent: concat!("opentrace-loadgen/", env!("CARGO_PKG_VERSION")).into(),
            ack_log: None,
        }
    }
}

/// Checks that `url` is `http://` to a loopback host and returns the full request URI.
pub fn target_uri(url: &str, path: &str) -> Result<hyper::Uri, SendError> {
    let base: hyper::Uri = url
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| SendError::BadUrl(url.into(), e.to_string()))?;
    if base.scheme_str() != Some("http") {
        return Err(SendError::BadUrl(
            url.into(),
            "only http:// is supported".into(),
        ));
    }
    let host = base
        .host()
        .ok_or_else(|| SendError::BadUrl(url.into(), "no host".into()))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(SendError::NotLoopback(host.into()));
    }
    let authority = base
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let prefix = base.path().trim_end_matches('/');
    let full = format!("http://{authority}{prefix}{path}");
    full.parse()
        .map_err(|e: hyper::http::uri::InvalidUri| SendError::BadUrl(full.clone(), e.to_string()))
}

/// Counters shared by the workers.
#[derive(Default)]
struct Shared {
    report: Report,
    latencies: Vec<Duration>,
}

/// How one attempt ended.
enum Attempt {
    Ok {
        deduplicated: bool,
        server_count: Option<u64>,
    },
    /// Worth retrying; `answered` is false for a connection error or timeout.
    Retryable {
        answered: bool,
        retry_after: Option<Duration>,
    },
    Fatal {
        auth: bool,
    },
}

struct Worker {
    cfg: Arc<SendConfig>,
    uri: hyper::Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    rx: Arc<Mutex<mpsc::Receiver<EncodedBatch>>>,
    shared: Arc<std::sync::Mutex<Shared>>,
    ack_log: Arc<std::sync::Mutex<Option<std::fs::File>>>,
    stop: Arc<AtomicBool>,
    start: Instant,
    deadline: Instant,
}

impl Worker {
    fn with<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> R {
        let mut g = match self.shared.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut g)
    }

    fn count_response(&self, key: String) {
        self.with(|s| *s.report.responses.entry(key).or_default() += 1);
    }

    async fn run(self) {
        loop {
            if self.stop.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
                return;
            }
            let next = {
                let mut rx = self.rx.lock().await;
                tokio::select! {
                    b = rx.recv() => b,
                    _ = tokio::time::sleep_until(self.deadline) => None,
                }
            };
            let Some(batch) = next else { return };
            if self.cfg.rate > 0.0 {
                let at = self.start + Duration::from_secs_f64(batch.first.0 as f64 / self.cfg.rate);
                if at >= self.deadline {
                    self.with(|s| s.report.entries_unsent += batch.count as u64);
                    return;
                }
                tokio::time::sleep_until(at).await;
            }
            if self.stop.load(Ordering::Relaxed) {
                self.with(|s| s.report.entries_unsent += batch.count as u64);
                return;
            }
            self.send_batch(batch).await;
        }
    }

    async fn send_batch(&self, batch: EncodedBatch) {
        let n = batch.count as u64;
        self.with(|s| {
            s.report.batches_sent += 1;
            s.report.entries_sent += n;
            s.report.raw_bytes += batch.raw_len as u64;
        });
        let mut attempt = 0u32;
        loop {
            let outcome = self.attempt(&batch).await;
            match outcome {
                Attempt::Ok {
                    deduplicated,
                    server_count,
                } => {
                    let acked = AckedBatch {
                        batch_id: batch.batch_id.to_string(),
                        count: n,
                        first_entry_index: batch.first,
                        deduplicated,
                    };
                    self.write_ack(&acked);
                    self.with(|s| {
                        let r = &mut s.report;
                        r.batches_acked += 1;
                        if deduplicated {
                            r.entries_deduplicated += n;
                        } else {
                            r.entries_accepted += n;
                        }
                        if server_count.is_some_and(|c| c != n) {
                            r.server_count_mismatches += 1;
                        }
                        r.acked_batches.push(acked);
                    });
                    return;
                }
                Attempt::Fatal { auth } => {
                    if auth {
                        self.stop.store(true, Ordering::Relaxed);
                    }
                    self.with(|s| {
                        s.report.entries_rejected += n;
                        s.report.auth_failed |= auth;
                    });
                    return;
                }
                Attempt::Retryable {
                    answered,
                    retry_after,
                } => {
                    attempt += 1;
                    let give_up =
                        attempt > self.cfg.max_retries || self.stop.load(Ordering::Relaxed);
                    let delay = self.backoff(attempt, retry_after);
                    if give_up || Instant::now() + delay >= self.deadline {
                        self.with(|s| {
                            if answered {
                                s.report.entries_rejected += n;
                            } else {
                                s.report.entries_failed += n;
                            }
                        });
                        return;
                    }
                    tokio::time::sleep(delay).await;
                    self.with(|s| s.report.retries += 1);
                }
            }
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .cfg
            .retry_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let jitter = Duration::from_millis(rand::rng().random_range(0..50));
        let d = (exp + jitter).min(self.cfg.retry_max);
        match retry_after {
            Some(ra) => d.max(ra.min(self.cfg.retry_max)),
            None => d,
        }
    }

    fn write_ack(&self, a: &AckedBatch) {
        let mut g = match self.ack_log.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(f) = g.as_mut() {
            let _ = writeln!(f, "{} {} {}", a.batch_id, a.count, a.first_entry_index);
        }
    }

    async fn attempt(&self, batch: &EncodedBatch) -> Attempt {
        let mut req = Request::post(self.uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, self.cfg.user_agent.as_str())
            .header("X-Batch-ID", batch.batch_id.to_string());
        if let Some(k) = &self.cfg.api_key {
            req = req.header(AUTHORIZATION, format!("Bearer {k}"));
        }
        if self.cfg.api_version_header {
            req = req.header("X-API-Version", "2");
        }
        if batch.gzipped {
            req = req.header(CONTENT_ENCODING, "gzip");
        }
        let Ok(req) = req.body(Full::new(batch.body.clone())) else {
            self.count_response("bad_request_build".into());
            return Attempt::Fatal { auth: false };
        };
        self.with(|s| {
            s.report.requests += 1;
            s.report.wire_bytes += batch.body.len() as u64;
        });
        let started = Instant::now();
        let limit = self.deadline.min(started + self.cfg.request_timeout);
        let resp = match tokio::time::timeout_at(limit, self.client.request(req)).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => {
                self.count_response("connect_error".into());
                return Attempt::Retryable {
                    answered: false,
                    retry_after: None,
                };
            }
            Err(_) => {
                self.count_response("timeout".into());
                return Attempt::Retryable {
                    answered: false,
                    retry_after: None,
                };
            }
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let body = match tokio::time::timeout_at(
            limit,
            Limited::new(resp.into_body(), 64 * 1024).collect(),
        )
        .await
        {
            Ok(Ok(b)) => b.to_bytes(),
            _ => Bytes::new(),
        };
        let latency = started.elapsed();
        self.count_response(status.as_u16().to_string());
        if status.is_success() {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let deduplicated = v.get("deduplicated").and_then(|d| d.as_bool()) == Some(true);
            let server_count = v.get("count").and_then(|c| c.as_u64());
            self.with(|s| s.latencies.push(latency));
            return Attempt::Ok {
                deduplicated,
                server_count,
            };
        }
        if status.as_u16() == 401 {
            return Attempt::Fatal { auth: true };
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Attempt::Retryable {
                answered: true,
                retry_after,
            };
        }
        Attempt::Fatal { auth: false }
    }
}

/// Sends every batch from `rx` until it is closed, the deadline passes or the server answers
/// 401, then returns the report (`entries_generated` is left for the caller to fill in;
/// batches still queued when the run stops are counted as unsent).
pub async fn send_batches(
    cfg: SendConfig,
    rx: mpsc::Receiver<EncodedBatch>,
) -> Result<Report, SendError> {
    let uri = target_uri(&cfg.url, &cfg.path)?;
    let ack_file = match &cfg.ack_log {
        Some(p) => Some(std::fs::File::create(p).map_err(|e| SendError::AckLog(p.clone(), e))?),
        None => None,
    };
    let concurrency = cfg.concurrency.max(1);
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .pool_idle_timeout(Duration::from_secs(30))
        .build_http::<Full<Bytes>>();
    let start = Instant::now();
    let deadline = start + cfg.deadline;
    let cfg = Arc::new(cfg);
    let rx = Arc::new(Mutex::new(rx));
    let shared = Arc::new(std::sync::Mutex::new(Shared::default()));
    let ack_log = Arc::new(std::sync::Mutex::new(ack_file));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        tasks.spawn(
            Worker {
                cfg: cfg.clone(),
                uri: uri.clone(),
                client: client.clone(),
                rx: rx.clone(),
                shared: shared.clone(),
                ack_log: ack_log.clone(),
                stop: stop.clone(),
                start,
                deadline,
            }
            .run(),
        );
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed();
    // Whatever is still queued was never posted; closing makes the producer stop.
    let mut unsent = 0u64;
    {
        let mut rx = rx.lock().await;
        rx.close();
        while let Ok(b) = rx.try_recv() {
            unsent += b.count as u64;
        }
    }
    let mut g = match shared.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let Shared { report, latencies } = &mut *g;
    let mut report = std::mem::take(report);
    report.entries_unsent += unsent;
    report.ack_latency = LatencySummary::from_samples(latencies);
    report.finish(elapsed);
    Ok(report)
}
