//! The agent's queries over the 24-hour directory, asked through queryd's real MCP endpoint
//! with a real MCP client (rmcp), so the time includes HTTP, JSON-RPC, the environment scope
//! and the response rendering an agent pays for.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::loadgen::report::LatencySummary;
use crate::loadgen::ts::{Micros, TsPrecision, format_rfc3339};
use crate::mcp::{Client, call};

use super::synth::HourProbes;

/// One tool call's timings.
#[derive(Debug, Clone, Serialize)]
pub struct ToolTiming {
    /// Stable key (`needle`, `level_service`, ...).
    pub key: String,
    /// The arguments of the `logs` call.
    pub args: Value,
    /// First call after queryd started, ms.
    pub cold_ms: f64,
    /// Warm calls: median, ms.
    pub p50_ms: f64,
    /// Warm calls: 99th percentile, ms.
    pub p99_ms: f64,
    /// Rows matched (`total_matched`, or `total` for stats), as the tool reported it.
    pub matched: Option<u64>,
    /// Size of the response text, bytes (agents pay for it in tokens: ~4 bytes per token).
    pub response_bytes: usize,
}

/// The `logs` calls timed: needle, trace id and level+service searches, and stats.
pub fn query_set(p: &HourProbes) -> Vec<(&'static str, Value)> {
    let since = format_rfc3339(Micros(p.from_us), TsPrecision::Millis);
    let until = format_rfc3339(Micros(p.to_us), TsPrecision::Millis);
    let w = |mut v: Value| {
        v["since"] = json!(since);
        v["until"] = json!(until);
        v
    };
    vec![
        (
            "needle",
            w(json!({"action": "search", "query": p.needle, "limit": 20})),
        ),
        (
            "needle_service",
            w(json!({"action": "search", "query": p.needle, "service": p.service, "limit": 20})),
        ),
        (
            "trace_id",
            w(json!({"action": "search", "trace_id": p.trace_id, "limit": 50})),
        ),
        (
            "level_service",
            w(json!({"action": "search", "level": "error", "service": p.service, "limit": 50})),
        ),
        (
            "level_error",
            w(json!({"action": "search", "level": "error", "limit": 50})),
        ),
        (
            "stats_level",
            w(json!({"action": "stats", "group_by": "level", "bucket_interval": "1h"})),
        ),
        (
            "stats_service",
            w(json!({"action": "stats", "group_by": "service", "bucket_interval": "1h"})),
        ),
    ]
}

fn matched(v: &Value) -> Option<u64> {
    v["total_matched"].as_u64().or_else(|| v["total"].as_u64())
}

/// Calls each query once (cold) and `iters` times (warm), failing on a tool error.
pub async fn time_calls(
    client: &Client,
    qs: &[(&'static str, Value)],
    iters: usize,
) -> Result<Vec<ToolTiming>> {
    let mut out = Vec::with_capacity(qs.len());
    for (key, args) in qs {
        let t = Instant::now();
        let (err, v) = call(client, "logs", args.clone()).await;
        let cold_ms = t.elapsed().as_secs_f64() * 1000.0;
        if err || v.is_null() {
            bail!("logs {key} failed: {v}");
        }
        let response_bytes = v.to_string().len();
        let mut warm: Vec<Duration> = Vec::with_capacity(iters);
        for _ in 0..iters.max(1) {
            let t = Instant::now();
            let (err, _) = call(client, "logs", args.clone()).await;
            warm.push(t.elapsed());
            if err {
                bail!("logs {key} failed on a warm call");
            }
        }
        let s = LatencySummary::from_samples(&mut warm);
        out.push(ToolTiming {
            key: (*key).to_string(),
            args: args.clone(),
            cold_ms,
            p50_ms: s.p50_ms,
            p99_ms: s.p99_ms,
            matched: matched(&v),
            response_bytes,
        });
    }
    Ok(out)
}
