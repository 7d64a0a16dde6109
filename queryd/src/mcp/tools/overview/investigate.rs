//! `overview investigate`: one service in the window (default the last hour): its top 5
//! error groups with their counts in the window, unresolved groups, the 10 newest error
//! rows, and rows by level, all within the caller's environments.

use serde_json::json;

use super::measure::{RATE_BASIS, counts, recent_errors, top_errors};
use super::{attach_mentioned, scoped_filter, service_arg, window};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::tools::logs::rows::{by_level, pct};
use crate::mcp::tools::platform_error;

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let service = service_arg(call)?.ok_or_else(|| {
        ToolError::InvalidArguments(String::from(
            "missing `service`: the service to investigate (overview status lists the services seen)",
        ))
    })?;
    let window = window(call, "1h", now)?;
    let (filter, scope) = scoped_filter(call, &window, Some(service))?;
    let snap = call.catalog.snapshot();
    let c = counts(&snap, &filter);
    let levels = by_level(&snap, &filter);
    let top = top_errors(call, &scope, &snap, &filter, 5)?;
    let groups = call
        .platform
        .error_group_counts(&scope.restriction(), Some(service))
        .map_err(platform_error)?;
    let (recent, cut_note) = recent_errors(&snap, &filter, 10);
    let mut summary = format!(
        "{service}: {} rows, {} errors ({}%) since {}; {} unresolved error group(s)",
        c.rows,
        c.errors,
        pct(c.errors, c.rows),
        window.since,
        groups.unresolved
    );
    if let Some(t) = top.first() {
        summary.push_str(&format!(
            "; most frequent: {} ({} in the window)",
            t["error_class"].as_str().unwrap_or("error"),
            t["in_window"]["count"]
        ));
    }
    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "service": service,
        "summary": summary,
        "logs": c.json(),
        "rate_basis": RATE_BASIS,
        "by_level": levels,
        "error_groups": groups,
        "top_errors": top,
        "recent_errors": recent,
    });
    if let Some(n) = cut_note {
        body["messages_note"] = n;
    }
    if c.rows == 0 {
        body["hint"] = json!(format!(
            "no rows of service {service:?} in this window and your environments; check the name with overview status or widen `since`"
        ));
    }
    attach_mentioned(call, &mut body, Some(service), &top);
    let mut out = ToolOutput::new(body)
        .suggest(
            "overview",
            json!({"action": "changes", "service": service, "since": "last_deploy"}),
            "what changed since the service's last deploy",
        )
        .suggest(
            "logs",
            json!({"action": "performance", "service": service, "since": window.since}),
            "request latency of the service",
        );
    if let Some(id) = recent.first().and_then(|r| r.get("log_id")) {
        out = out.suggest(
            "logs",
            json!({"action": "context", "log_id": id, "same_service": true}),
            "the newest error row in context",
        );
    }
    Ok(out)
}
