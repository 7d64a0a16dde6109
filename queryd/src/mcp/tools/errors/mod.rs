//! The `errors` tool: error groups derived by the follower (list, ranking, new, detail,
//! impact, a user's errors), the investigation of one occurrence (full stack trace, cause
//! chain, request, trace timeline, surrounding logs), and the lifecycle actions resolve /
//! ignore / reopen.
//!
//! Every action resolves the caller's [`EnvScope`] first (through [`EnvScope::for_call`]
//! or the `logs` tool's [`scoped_filter`]) and reads error groups and log rows only under its restriction: a
//! group or row of an environment the caller may not see is "not found", exactly like one
//! that does not exist. Groups are keyed by (fingerprint, environment), so impact and
//! affected users are always those of one environment.

mod detail;
mod exception;
mod impact;
mod investigate;
mod lifecycle;
mod list;
mod user_errors;

use std::sync::LazyLock;

use serde_json::{Value, json};

use super::logs::scoped_filter;
use super::notes::attach_mentioned;
use super::params::schema;
use super::{opt_str, platform_error, req_str};
use crate::mcp::args::fmt_ts;
use crate::mcp::registry::{ActionSpec, Hints, ToolCall, ToolHandler, ToolSpec};
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::platform::Role;
use crate::platform::errors::{ErrorGroup, GroupEvent, GroupSort, GroupStatus, recency};

const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        name: "list",
        summary: "error groups seen in the window (since 24h; status default unresolved, `all` for every status), sort_by last_seen|occurrences|first_seen|unique_users|impact, counts by status, cursor",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "detail",
        summary: "one group by `fingerprint`: lifecycle history, 5 recent occurrences, full stack trace of the latest",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "investigate",
        summary: "one occurrence by `log_id`, `fingerprint` (its last occurrence) or `trace_id` (its first error): exception with full stack trace and causes, request, trace timeline, surrounding logs, group",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "impact",
        summary: "`fingerprint`'s affected users (limit), unique users, occurrences, impact score, common traits",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "user_errors",
        summary: "error groups application user `user_id` ran into (since 24h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "ranking",
        summary: "groups ranked by impact (sort_by impact|unique_users|occurrences|last_seen; since 24h; status default unresolved) with the score's parts",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "resolve",
        summary: "mark `fingerprint` fixed (`reason` required); a later occurrence reopens it",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "ignore",
        summary: "mute `fingerprint` (`reason` required); occurrences are counted but never reopen it",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "reopen",
        summary: "set `fingerprint` back to unresolved (`reason` required)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "new",
        summary: "groups first seen in the window (since 24h or last_deploy), newest first (at most 20)",
        min_role: Role::Member,
    },
];

/// The `errors` tool.
pub struct ErrorsTool;

/// Parameters as (name, JSON type); a few get an enum or a description in [`SPEC`].
const PARAMS: &[(&str, &str)] = &[
    ("since", "string"),
    ("environment", "string"),
    ("service", "string"),
    ("status", "string"),
    ("sort_by", "string"),
    ("limit", "integer"),
    ("cursor", "string"),
    ("fingerprint", "string"),
    ("log_id", "integer"),
    ("trace_id", "string"),
    ("user_id", "string"),
    ("reason", "string"),
];

/// The tool's declaration.
static SPEC: LazyLock<ToolSpec> = LazyLock::new(|| ToolSpec {
    name: "errors",
    description: "Error groups (one per fingerprint and environment): what is failing, how many users it hits, the full stack trace of an occurrence, and its lifecycle (resolve, ignore, reopen). Times are UTC RFC 3339; since takes 15m, 24h, 7d, RFC 3339 or last_deploy. Everything is limited to your environments.",
    actions: ACTIONS,
    params: schema(
        PARAMS,
        vec![
            (
                "since",
                json!({"description": "window start: 15m, 24h, 7d, RFC 3339 or last_deploy"}),
            ),
            (
                "status",
                json!({"enum": ["unresolved", "resolved", "ignored", "all"]}),
            ),
            (
                "sort_by",
                json!({"enum": ["last_seen", "occurrences", "first_seen", "unique_users", "impact"]}),
            ),
            (
                "user_id",
                json!({"description": "the application's user id (row user_id)"}),
            ),
            (
                "reason",
                json!({"description": "why (e.g. \"fixed in a1b2c3\")"}),
            ),
        ],
    ),
    hints: Hints {
        read_only: false,
        destructive: false,
        idempotent: false,
    },
});

impl ToolHandler for ErrorsTool {
    fn spec(&self) -> &ToolSpec {
        &SPEC
    }

    fn call(&self, call: &ToolCall<'_>) -> ToolResult {
        let now = opentrace_shared::time::now_micros();
        match call.action {
            "list" => list::run(call, now),
            "ranking" => list::ranking(call, now),
            "new" => list::new_groups(call, now),
            "detail" => detail::run(call),
            "investigate" => investigate::run(call),
            "impact" => impact::run(call, now),
            "user_errors" => user_errors::run(call, now),
            "resolve" | "ignore" | "reopen" => lifecycle::run(call),
            other => Err(ToolError::InvalidArguments(format!(
                "unknown action {other:?}"
            ))),
        }
    }
}

/// The required `fingerprint` argument, trimmed.
fn fingerprint_arg<'a>(call: &'a ToolCall<'_>) -> Result<&'a str, ToolError> {
    req_str(
        call.args,
        "fingerprint",
        "take it from the fingerprint of an errors list row",
    )
    .map(str::trim)
}

/// An optional, trimmed, non-empty string argument.
fn opt_arg<'a>(call: &'a ToolCall<'_>, name: &str) -> Result<Option<&'a str>, ToolError> {
    Ok(opt_str(call.args, name)?
        .map(str::trim)
        .filter(|s| !s.is_empty()))
}

/// The `status` filter: `None` for `all`, `default` when absent.
fn status_arg(
    call: &ToolCall<'_>,
    default: Option<GroupStatus>,
) -> Result<Option<GroupStatus>, ToolError> {
    match opt_arg(call, "status")? {
        None => Ok(default),
        Some("all") => Ok(None),
        Some(s) => GroupStatus::parse(s).map(Some).ok_or_else(|| {
            ToolError::InvalidArguments(format!(
                "`status` {s:?} is invalid: use unresolved, resolved, ignored or all"
            ))
        }),
    }
}

/// The `sort_by` order, `default` when absent.
fn sort_arg(call: &ToolCall<'_>, default: GroupSort) -> Result<GroupSort, ToolError> {
    match opt_arg(call, "sort_by")? {
        None => Ok(default),
        Some(s) => GroupSort::parse(s).ok_or_else(|| {
            ToolError::InvalidArguments(format!(
                "`sort_by` {s:?} is invalid: use last_seen, occurrences, first_seen, unique_users or impact"
            ))
        }),
    }
}

/// The group of `fingerprint` the caller may see (the most recently seen one when the scope
/// spans several environments), or a not-found error naming the scope.
fn find_group(
    call: &ToolCall<'_>,
    scope: &EnvScope,
    fingerprint: &str,
) -> Result<ErrorGroup, ToolError> {
    call.platform
        .get_error_group(&scope.restriction(), fingerprint, None)
        .map_err(platform_error)?
        .ok_or_else(|| group_not_found(scope, fingerprint))
}

fn group_not_found(scope: &EnvScope, fingerprint: &str) -> ToolError {
    ToolError::NotFound(format!(
        "no error group with fingerprint {fingerprint:?} in your environments ({}); take fingerprints from errors list (pass status=all to include resolved and ignored groups)",
        scope.describe()
    ))
}

/// The parts of a group's impact score (`unique_users × log2(occurrences + 1) × recency`).
fn score_parts(g: &ErrorGroup, now: i64) -> Value {
    let occ = ((g.occurrence_count.max(0) as f64) + 1.0).log2();
    json!({
        "unique_users": g.unique_users,
        "log2_occurrences_plus_1": (occ * 100.0).round() / 100.0,
        "recency": recency(now.saturating_sub(g.last_seen_at.0)),
    })
}

/// The output of a response about one group, with the notes agents left on it and on its
/// service attached.
fn group_output(call: &ToolCall<'_>, mut body: Value, group: &ErrorGroup) -> ToolOutput {
    let named = json!({"fingerprint": group.fingerprint});
    attach_mentioned(call, &mut body, Some(&group.service), &[named]);
    ToolOutput::new(body)
}

/// The agent-facing JSON of one lifecycle event.
fn event_json(e: &GroupEvent) -> Value {
    let mut v = json!({
        "action": e.action,
        "at": fmt_ts(e.created_at.0),
        "environment": e.environment,
    });
    if let Some(r) = &e.reason {
        v["reason"] = json!(r);
    }
    match e.user_id {
        Some(u) => v["by_user_id"] = json!(u.0),
        None => v["automatic"] = json!(true),
    }
    v
}
