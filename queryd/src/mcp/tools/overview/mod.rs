//! The `overview` tool: where to look first. `status` (counts), `triage` (what needs
//! attention now, ranked), `diagnose` and `investigate` (one service), `timeline` (what
//! happened in order, with a probable root cause), `changes` (before/after a window such as
//! the last deploy), a read-only `settings` view, and agent `notes`.
//!
//! Every section is scoped to the caller's environments: log reads build their [`Filter`]
//! from [`EnvScope::for_call`], store reads take `scope.restriction()`. Every window comes
//! from [`Window::for_call`], so `since: "last_deploy"` works in every action.

mod changes;
mod diagnose;
mod investigate;
pub(crate) mod measure;
mod notes;
mod settings;
mod status;
mod timeline;
mod triage;

use std::sync::LazyLock;

use serde_json::json;

use super::notes::attach_mentioned;
use super::opt_str;
use super::params::schema;
use crate::mcp::args::Window;
use crate::mcp::registry::{ActionSpec, Hints, ToolCall, ToolHandler, ToolSpec};
use crate::mcp::response::{ToolError, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::platform::Role;
use crate::query::Filter;

const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        name: "status",
        summary: "logs and errors in the last hour, error groups by status, services seen, last deploy per service",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "triage",
        summary: "ranked list (max 20) of what needs attention now: new error groups (naming the deploy they followed), spiking groups, deploys followed by an error-rate change (since 24h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "diagnose",
        summary: "error summary, log volume by level and p95/p99 per route, optionally for one `service` (since 1h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "timeline",
        summary: "errors (first occurrence per group), deploys and error-group lifecycle events in time order, with probable_root_cause (since/until or start/end, default 2h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "investigate",
        summary: "one `service`: top 5 errors, unresolved groups, 10 recent error rows, volume by level (since 1h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "changes",
        summary: "error rate in the window vs the equal window before it (change_pct), error groups new in the window, recent error rows (since 2h; since=last_deploy for the last deploy)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "settings",
        summary: "read-only server settings (retention, PII rules, URLs)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "notes",
        summary: "with `note`: save it on entity_type+entity_id; with entity_type+entity_id: read it; else list (optionally of one entity_type)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "delete_note",
        summary: "delete the note on entity_type+entity_id",
        min_role: Role::Member,
    },
];

/// Alternative names of the window bounds (the reference server's `timeline` takes
/// `start`/`end`): (alternative, canonical).
const WINDOW_ALIASES: &[(&str, &str)] = &[("start", "since"), ("end", "until")];

const PARAMS: &[(&str, &str)] = &[
    ("since", "string"),
    ("until", "string"),
    ("start", "string"),
    ("end", "string"),
    ("environment", "string"),
    ("service", "string"),
    ("entity_type", "string"),
    ("entity_id", "string"),
    ("note", "string"),
    ("limit", "integer"),
];

/// The `overview` tool.
pub struct OverviewTool;

/// The tool's declaration.
static SPEC: LazyLock<ToolSpec> = LazyLock::new(|| ToolSpec {
    name: "overview",
    description: "Start here: what is happening in production, what needs attention now, what changed since the last deploy, and notes left by agents. Times: since/until take 15m, 24h, 7d or RFC 3339 UTC; since=last_deploy starts at the newest deploy (of `service` if given). Everything is limited to your environments.",
    actions: ACTIONS,
    params: schema(
        PARAMS,
        vec![
            (
                "since",
                json!({"description": "15m, 24h, 7d, RFC 3339 UTC, or last_deploy"}),
            ),
            (
                "until",
                json!({"description": "end of the window, default now"}),
            ),
            ("start", json!({"description": "same as since"})),
            ("end", json!({"description": "same as until"})),
            ("entity_type", json!({"enum": super::notes::ENTITY_TYPES})),
            (
                "entity_id",
                json!({"description": "service name, error fingerprint, service@version for a deploy, \"GET /route\" for an endpoint, or the query text"}),
            ),
        ],
    ),
    hints: Hints {
        read_only: false,
        destructive: true,
        idempotent: false,
    },
});

impl ToolHandler for OverviewTool {
    fn spec(&self) -> &ToolSpec {
        &SPEC
    }

    fn call(&self, call: &ToolCall<'_>) -> ToolResult {
        let now = opentrace_shared::time::now_micros();
        match call.action {
            "status" => status::run(call, now),
            "triage" => triage::run(call, now),
            "diagnose" => diagnose::run(call, now),
            "timeline" => timeline::run(call, now),
            "investigate" => investigate::run(call, now),
            "changes" => changes::run(call, now),
            "settings" => settings::run(call),
            "notes" => notes::run(call),
            "delete_note" => notes::delete(call),
            other => Err(ToolError::InvalidArguments(format!(
                "unknown action {other:?}"
            ))),
        }
    }
}

/// The optional `service` argument, trimmed.
fn service_arg<'a>(call: &'a ToolCall<'_>) -> Result<Option<&'a str>, ToolError> {
    Ok(opt_str(call.args, "service")?
        .map(str::trim)
        .filter(|s| !s.is_empty()))
}

/// The window of the call ([`Window::for_call`]), with `start`/`end` read as
/// `since`/`until` when those are absent.
fn window(call: &ToolCall<'_>, default_since: &str, now: i64) -> Result<Window, ToolError> {
    let mut renamed = None;
    for (alias, canonical) in WINDOW_ALIASES {
        if !call.args.contains_key(*canonical)
            && let Some(v) = call.args.get(*alias)
        {
            let args = renamed.get_or_insert_with(|| call.args.clone());
            args.insert((*canonical).to_string(), v.clone());
        }
    }
    match renamed {
        Some(args) => Window::for_call(
            &ToolCall {
                args: &args,
                ..*call
            },
            default_since,
            now,
        ),
        None => Window::for_call(call, default_since, now),
    }
}

/// The caller's scope and a log filter over the window (and `service`, when given), built
/// by the `logs` tool's [`scoped_filter`](crate::mcp::tools::logs::scoped_filter).
fn scoped_filter(
    call: &ToolCall<'_>,
    window: &Window,
    service: Option<&str>,
) -> Result<(Filter, EnvScope), ToolError> {
    let (mut f, scope) = super::logs::scoped_filter(call, Some(window))?;
    f.service = service.map(str::to_string);
    Ok((f, scope))
}
