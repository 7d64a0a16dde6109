//! `errors detail`: one group (by fingerprint, in the caller's environments), its last 10
//! lifecycle events, its 5 most recent occurrences (log rows, newest first) and the full
//! stack trace of the latest one.

use serde_json::json;

use super::exception::exception_json;
use super::{event_json, find_group, fingerprint_arg, group_output, scoped_filter};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::ToolResult;
use crate::mcp::tools::groups::group_json;
use crate::mcp::tools::logs::rows::{Cuts, row_json};
use crate::mcp::tools::platform_error;
use crate::query::{Order, SearchOpts, search};

/// Lifecycle events shown.
const EVENTS: u32 = 10;
/// Recent occurrences shown.
const OCCURRENCES: usize = 5;

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let fp = fingerprint_arg(call)?;
    let (mut filter, scope) = scoped_filter(call, None)?;
    let group = find_group(call, &scope, fp)?;
    let events = call
        .platform
        .error_group_events(&scope.restriction(), fp, Some(&group.environment), EVENTS)
        .map_err(platform_error)?;
    filter.narrow_env(&group.environment);
    filter.fingerprint = Some(fp.to_string());
    filter.ts_from = Some(group.first_seen_at.0);
    filter.ts_to = Some(group.last_seen_at.0.saturating_add(1));
    let snap = call.catalog.snapshot();
    let recent = search(
        &snap,
        &filter,
        SearchOpts::top(OCCURRENCES, Order::NewestFirst),
    )
    .rows;
    let mut cuts = Cuts::default();
    let mut body = json!({
        "environment": group.environment,
        "group": group_json(&group),
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "recent_occurrences": recent.iter().map(|r| row_json(r, &mut cuts)).collect::<Vec<_>>(),
        "latest_exception": recent.first().map(exception_json),
    });
    if recent.is_empty() {
        body["note"] =
            json!("no occurrence rows are stored any more (retention); the group's counts remain");
    } else if let Some(n) = cuts.note() {
        body["note"] = n;
    }
    let mut out = group_output(call, body, &group);
    if let Some(r) = recent.first() {
        out = out.suggest(
            "errors",
            json!({"action": "investigate", "log_id": r.seq.0}),
            "the request, trace timeline and surrounding logs of the latest occurrence",
        );
    }
    Ok(out.suggest(
        "errors",
        json!({"action": "impact", "fingerprint": fp, "environment": group.environment}),
        "which users it hits",
    ))
}
