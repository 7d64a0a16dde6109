//! Prometheus text metrics: MCP tool calls by tool and status with a latency histogram,
//! and HTTP responses by route and status code.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds, seconds.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if self.counts.len() != BUCKETS.len() {
            self.counts = vec![0; BUCKETS.len()];
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }
}

/// Counters of the running server.
#[derive(Debug, Default)]
pub struct Metrics {
    tools: Mutex<BTreeMap<(String, &'static str), Histogram>>,
    http: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

impl Metrics {
    /// Records one tool call.
    pub fn record_tool(&self, tool: &str, ok: bool, elapsed: Duration) {
        let status = if ok { "ok" } else { "error" };
        let mut t = match self.tools.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        t.entry((tool.to_string(), status))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// Records one HTTP response on a named route.
    pub fn record_http(&self, route: &'static str, status: u16) {
        let mut h = match self.http.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *h.entry((route, status)).or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let tools = match self.tools.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let http = match self.http.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        out.push_str("# HELP opentrace_mcp_tool_calls_total MCP tool calls by tool and status.\n");
        out.push_str("# TYPE opentrace_mcp_tool_calls_total counter\n");
        for ((tool, status), h) in &tools {
            let _ = writeln!(
                out,
                "opentrace_mcp_tool_calls_total{{tool=\"{tool}\",status=\"{status}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP opentrace_mcp_tool_duration_seconds MCP tool call latency.\n");
        out.push_str("# TYPE opentrace_mcp_tool_duration_seconds histogram\n");
        for ((tool, status), h) in &tools {
            let labels = format!("tool=\"{tool}\",status=\"{status}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let c = h.counts.get(i).copied().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "opentrace_mcp_tool_duration_seconds_bucket{{{labels},le=\"{b}\"}} {c}"
                );
            }
            let _ = writeln!(
                out,
                "opentrace_mcp_tool_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "opentrace_mcp_tool_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "opentrace_mcp_tool_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP opentrace_http_responses_total HTTP responses by route and status.\n");
        out.push_str("# TYPE opentrace_http_responses_total counter\n");
        for ((route, status), n) in &http {
            let _ = writeln!(
                out,
                "opentrace_http_responses_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_buckets() {
        let m = Metrics::default();
        m.record_tool("admin", true, Duration::from_millis(3));
        m.record_tool("admin", true, Duration::from_millis(300));
        m.record_http("mcp", 401);
        let text = m.render();
        assert!(text.contains("opentrace_mcp_tool_calls_total{tool=\"admin\",status=\"ok\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("opentrace_http_responses_total{route=\"mcp\",status=\"401\"} 1"));
    }
}
