//! `errors user_errors`: the error groups one application user (the rows' `user_id`) ran
//! into in the window, most recent first, with that user's own count, under the caller's
//! scope.

use serde_json::{Value, json};

use crate::mcp::args::{Window, fmt_ts, limit};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::groups::group_json;
use crate::mcp::tools::notes::attach_mentioned;
use crate::mcp::tools::{platform_error, req_str};
use crate::platform::UnixMicros;

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let user = req_str(
        call.args,
        "user_id",
        "the application's user id as sent in the rows' user_id (see errors impact)",
    )?
    .trim();
    let window = Window::for_call(call, "24h", now)?;
    let scope = EnvScope::for_call(call)?;
    let limit = limit(call.args, 20, 100)?;
    let found = call
        .platform
        .user_error_groups(
            &scope.restriction(),
            user,
            Some(UnixMicros(window.from_us)),
            limit as u32,
        )
        .map_err(platform_error)?;
    let groups: Vec<Value> = found
        .iter()
        .map(|u| {
            let mut v = group_json(&u.group);
            v["user_occurrences"] = json!(u.user_occurrences);
            v["user_last_seen"] = json!(fmt_ts(u.user_last_seen_at.0));
            v
        })
        .collect();
    let mut body = json!({
        "environment": scope.describe(),
        "window": window.echo(),
        "user_id": user,
        "returned": groups.len(),
        "groups": groups,
    });
    if found.is_empty() {
        body["hint"] = json!(
            "this user ran into no error group in the window: widen it (since=7d) or check the id with logs search user_id=..."
        );
    }
    let listed = body["groups"].as_array().cloned().unwrap_or_default();
    attach_mentioned(call, &mut body, None, &listed);
    let out = ToolOutput::new(body).suggest(
        "logs",
        json!({"action": "search", "user_id": user, "since": window.since}),
        "everything this user did in the window",
    );
    Ok(match found.first() {
        Some(u) => out.suggest(
            "errors",
            json!({"action": "investigate", "fingerprint": u.group.fingerprint, "environment": u.group.environment}),
            "the latest occurrence of the user's most recent error",
        ),
        None => out,
    })
}
