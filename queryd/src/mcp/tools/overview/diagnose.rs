//! `overview diagnose`: the health of the caller's environments (or one `service`) in the
//! window (default the last hour): an error summary (counts, rate, unresolved groups, top
//! groups), log volume by level, and request performance (exact p50/p95/p99 per route over
//! every request row), with the calls to make next.

use opentrace_shared::Col;
use serde_json::{Value, json};

use super::measure::{RATE_BASIS, counts, top_errors};
use super::{attach_mentioned, scoped_filter, service_arg, window};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::tools::logs::performance::{agg, p95, stats_json};
use crate::mcp::tools::logs::rows::{by_level, key_text};
use crate::mcp::tools::platform_error;

/// Routes listed, slowest p95 first.
const ROUTES: usize = 10;

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = window(call, "1h", now)?;
    let service = service_arg(call)?;
    let (filter, scope) = scoped_filter(call, &window, service)?;
    let snap = call.catalog.snapshot();
    let c = counts(&snap, &filter);
    let top = top_errors(call, &scope, &snap, &filter, 5)?;
    let groups = call
        .platform
        .error_group_counts(&scope.restriction(), service)
        .map_err(platform_error)?;

    let mut rf = filter.clone();
    rf.kind = Some(String::from("request"));
    let overall = agg(&snap, &rf, vec![]);
    let requests = overall
        .groups
        .first()
        .map_or(json!({"requests": 0}), |g| stats_json(g.count, &g.metrics));
    let mut routes: Vec<Value> = agg(&snap, &rf, vec![Col::Method, Col::Route])
        .groups
        .iter()
        .map(|g| {
            let mut v = stats_json(g.count, &g.metrics);
            v["method"] = key_text(g.key.first());
            v["route"] = key_text(g.key.get(1));
            v
        })
        .collect();
    routes.sort_by_key(|v| std::cmp::Reverse(p95(v)));
    let routes_total = routes.len();
    routes.truncate(ROUTES);

    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "error_summary": {
            "logs": c.json(),
            "rate_basis": RATE_BASIS,
            "error_groups": groups,
            "top_errors": top,
        },
        "log_volume": by_level(&snap, &filter),
        "request_performance": {
            "overall": requests,
            "routes_total": routes_total,
            "routes": routes,
            "percentiles": "exact nearest-rank over every request row (kind=request) in the window; routes sorted by p95, slowest first; route null = requests without a route",
        },
    });
    if let Some(s) = service {
        body["service"] = json!(s);
    }
    attach_mentioned(call, &mut body, service, &top);
    let mut scoped = json!({"since": window.since});
    if let Some(s) = service {
        scoped["service"] = json!(s);
    }
    let with = |action: &str, extra: Value| {
        let mut a = scoped.clone();
        a["action"] = json!(action);
        if let (Value::Object(m), Value::Object(e)) = (&mut a, extra) {
            m.extend(e);
        }
        a
    };
    let mut out = ToolOutput::new(body);
    if c.errors > 0 {
        out = out.suggest(
            "logs",
            with("search", json!({"min_level": "error"})),
            "the error rows of the window",
        );
    }
    if routes_total > 0 {
        out = out.suggest(
            "logs",
            with("performance", json!({})),
            "slowest requests and every endpoint's percentiles",
        );
    }
    if let Some(s) = service {
        out = out.suggest(
            "overview",
            json!({"action": "changes", "service": s, "since": "last_deploy"}),
            "what changed since the last deploy",
        );
    } else {
        out = out.suggest(
            "overview",
            json!({"action": "triage"}),
            "what needs attention now, ranked",
        );
    }
    Ok(out)
}
