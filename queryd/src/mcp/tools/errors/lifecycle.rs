//! `errors resolve`, `ignore` and `reopen`: change the status of the group(s) of a
//! fingerprint within the caller's scope (a member only within its environments), with a
//! required reason, recorded as a lifecycle event and an audit row with the caller as actor.

use serde_json::{Value, json};

use super::{event_json, fingerprint_arg, group_not_found};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::groups::group_json;
use crate::mcp::tools::{platform_error, req_str};
use crate::platform::PlatformError;
use crate::platform::errors::StatusAction;

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let fp = fingerprint_arg(call)?;
    let reason = req_str(
        call.args,
        "reason",
        "say why, e.g. \"fixed in a1b2c3\" or \"expected during the migration\"",
    )?;
    let (action, note) = match call.action {
        "resolve" => (
            StatusAction::Resolve,
            "resolved: an occurrence after now reopens it automatically",
        ),
        "ignore" => (
            StatusAction::Ignore,
            "ignored: occurrences are still counted but never reopen it; reopen it to track it again",
        ),
        _ => (StatusAction::Reopen, "unresolved again"),
    };
    let scope = EnvScope::for_call(call)?;
    let envs = scope.restriction();
    let groups = call
        .platform
        .set_error_group_status(&envs, fp, None, action, reason, &call.caller.actor())
        .map_err(|e| match e {
            PlatformError::NotFound(_) => group_not_found(&scope, fp),
            other => platform_error(other),
        })?;
    let mut events: Vec<Value> = Vec::new();
    for g in &groups {
        let latest = call
            .platform
            .error_group_events(&envs, fp, Some(&g.environment), 1)
            .map_err(platform_error)?;
        events.extend(latest.iter().map(event_json));
    }
    let body = json!({
        "action": call.action,
        "fingerprint": fp,
        "environment": scope.describe(),
        "note": note,
        "groups": groups.iter().map(group_json).collect::<Vec<_>>(),
        "events": events,
    });
    Ok(ToolOutput::new(body).suggest(
        "errors",
        json!({"action": "detail", "fingerprint": fp}),
        "the group's lifecycle history",
    ))
}
