//! Time from acknowledgement to searchable.
//!
//! queryd has no MCP `logs search` tool yet (only `queryd/src/mcp/tools/admin.rs`), so this
//! is measured with the same code queryd runs: an in-process
//! [`opentrace_queryd::catalog::Catalog`] with queryd's default options (WAL tails polled
//! every 100 ms, rescans every 2 s, inotify watcher) over the daemon's data directory, and
//! [`opentrace_queryd::query::search`] for the marker.
//!
//! A probe posts one entry of service `bench-marker` with a unique timestamp (the current
//! wall clock, µs), notes when the 2xx arrives, then searches the latest snapshot every
//! millisecond for `service = bench-marker AND ts in [t, t+1)` until it is found.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentrace_queryd::catalog::Catalog;
use opentrace_queryd::query::{EnvRestriction, Filter, SearchOpts, search};
use serde::Serialize;

use crate::loadgen::report::LatencySummary;
use crate::loadgen::ts::{Micros, TsPrecision, format_rfc3339};

use super::ingest::BENCH_KEY;

/// Service name of probe entries.
pub const MARKER_SERVICE: &str = "bench-marker";

/// The distribution of ack → searchable.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Freshness {
    /// Probes that became visible.
    pub samples: u64,
    /// Probes not visible within the timeout (5 s).
    pub timeouts: u64,
    /// Probes whose POST failed.
    pub post_errors: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Largest, ms.
    pub max_ms: f64,
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Whether the marker with timestamp `ts` is visible in the catalog's current snapshot.
pub fn visible(catalog: &Catalog, ts: i64) -> bool {
    let snap = catalog.snapshot();
    let mut f = Filter::new(EnvRestriction::All);
    f.service = Some(MARKER_SERVICE.into());
    f.ts_from = Some(ts);
    // `ts_to` is exclusive.
    f.ts_to = Some(ts + 1);
    let r = search(
        &snap,
        &f,
        SearchOpts {
            limit: 1,
            ..SearchOpts::default()
        },
    );
    !r.rows.is_empty()
}

/// Posts probes to `url` (`/api/v2/logs`) one after another for `duration`, `gap` apart,
/// and measures ack → visible in `catalog`.
pub async fn probe(url: &str, catalog: &Catalog, duration: Duration, gap: Duration) -> Freshness {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let uri = format!("{}/api/v2/logs", url.trim_end_matches('/'));
    let mut out = Freshness::default();
    let mut samples = Vec::new();
    let start = Instant::now();
    let mut k = 0u64;
    while start.elapsed() < duration {
        k += 1;
        let ts = now_us();
        let body = format!(
            r#"[{{"ts":"{}","level":"info","service":"{MARKER_SERVICE}","env":"production","message":"freshness probe {k}"}}]"#,
            format_rfc3339(Micros(ts), TsPrecision::Micros)
        );
        let req = Request::post(uri.as_str())
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {BENCH_KEY}"))
            .header(
                "x-batch-id",
                format!(
                    "{:08x}-0000-4000-8000-{:012x}",
                    k as u32,
                    ts & 0xffff_ffff_ffff
                ),
            )
            .body(Full::new(Bytes::from(body)));
        let Ok(req) = req else {
            out.post_errors += 1;
            continue;
        };
        let ok = match tokio::time::timeout(Duration::from_secs(10), client.request(req)).await {
            Ok(Ok(resp)) => {
                let st = resp.status();
                let _ = resp.into_body().collect().await;
                st.is_success()
            }
            _ => false,
        };
        if !ok {
            out.post_errors += 1;
            tokio::time::sleep(gap).await;
            continue;
        }
        let acked = Instant::now();
        loop {
            if visible(catalog, ts) {
                samples.push(acked.elapsed());
                break;
            }
            if acked.elapsed() > Duration::from_secs(5) {
                out.timeouts += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(gap).await;
    }
    let s = LatencySummary::from_samples(&mut samples);
    out.samples = s.count;
    out.p50_ms = s.p50_ms;
    out.p99_ms = s.p99_ms;
    out.max_ms = s.max_ms;
    out
}
