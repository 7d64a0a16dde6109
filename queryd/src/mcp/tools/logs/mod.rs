//! The `logs` tool: search, context, attributes, stats, summary, performance, trace and
//! compare over the log store, for members and admins.
//!
//! Every action builds its [`Filter`] through [`scoped_filter`], the one place where the
//! caller's [`EnvScope`] becomes the query's [`EnvRestriction`], so no action can read an
//! environment the caller may not see. Row ids shown to agents are the store's `seq`,
//! called `log_id`.

mod attributes;
mod compare;
mod context;
mod pattern;
pub(crate) mod performance;
pub(crate) mod rows;
mod search;
mod search_counts;
mod stats;
mod summary;
mod trace;

use std::sync::OnceLock;

use opentrace_shared::Level;
use serde_json::{Value, json};

use super::params::schema;
use super::{opt_bool, opt_i64, opt_list, opt_str};
use crate::mcp::args::Window;
use crate::mcp::registry::{ActionSpec, Hints, ToolCall, ToolHandler, ToolSpec};
use crate::mcp::response::{ToolError, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::platform::Role;
use crate::query::{Filter, IntRange};

const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        name: "search",
        summary: "rows matching filters/full-text `query`, newest first, with counts by level/service and a time histogram (since 1h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "context",
        summary: "rows just before/after `log_id` (before, after, same_service)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "attributes",
        summary: "distinct values of `field` with counts (since 24h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "stats",
        summary: "group_by level|service|pattern, time buckets (bucket_interval) and spike warnings (since 1h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "summary",
        summary: "overview: totals, levels, commits, top errors, slowest endpoints (since 1h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "performance",
        summary: "exact p50/p95/p99 per endpoint over all requests, slowest requests by sort_by (since 24h)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "trace",
        summary: "timeline of `trace_id` across services: offsets, first error, gaps",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "compare",
        summary: "`metric` errors|log_volume in current_period vs baseline_period",
        min_role: Role::Member,
    },
];

/// Parameter names accepted besides the schema's (aliases of the reference server).
const ALIASES: &[(&str, &str)] = &[
    ("commit_hash", "version"),
    ("exception_class", "error_class"),
    ("controller", "handler"),
    ("sql_count", "min_sql_count"),
];

/// The `logs` tool.
pub struct LogsTool;

/// Parameters as (name, JSON type); a few get an enum or a description in [`params`].
const PARAMS: &[(&str, &str)] = &[
    ("since", "string"),
    ("until", "string"),
    ("environment", "string"),
    ("query", "string"),
    ("service", "string"),
    ("level", "string"),
    ("min_level", "string"),
    ("trace_id", "string"),
    ("request_id", "string"),
    ("user_id", "string"),
    ("event_type", "string"),
    ("version", "string"),
    ("error_class", "string"),
    ("error_fingerprint", "string"),
    ("source_file", "string"),
    ("method", "string"),
    ("path", "string"),
    ("route", "string"),
    ("handler", "string"),
    ("kind", "string"),
    ("status", "integer"),
    ("min_duration_ms", "integer"),
    ("min_sql_count", "integer"),
    ("n_plus_one_only", "boolean"),
    ("limit", "integer"),
    ("cursor", "string"),
    ("order", "string"),
    ("log_id", "integer"),
    ("before", "integer"),
    ("after", "integer"),
    ("same_service", "boolean"),
    ("field", "string"),
    ("group_by", "string"),
    ("bucket_interval", "string"),
    ("sort_by", "string"),
    ("include_context", "boolean"),
    ("metric", "string"),
    ("current_period", "string"),
    ("baseline_period", "string"),
];

fn params() -> Value {
    schema(
        PARAMS,
        vec![
            (
                "query",
                json!({"description": "full text: words AND-ed, \"quoted phrase\""}),
            ),
            ("level", json!({"description": "one level or a comma list"})),
            ("order", json!({"enum": ["desc", "asc"]})),
            ("group_by", json!({"enum": ["level", "service", "pattern"]})),
            (
                "sort_by",
                json!({"enum": ["duration_ms", "db_time_ms", "sql_count", "duplicate_queries"]}),
            ),
            ("metric", json!({"enum": ["errors", "log_volume"]})),
            (
                "current_period",
                json!({"description": "last_1h|last_6h|last_24h|today|last_deploy or a duration"}),
            ),
            (
                "baseline_period",
                json!({"enum": ["previous", "yesterday_same_time", "last_week_same_time"]}),
            ),
        ],
    )
}

fn spec() -> &'static ToolSpec {
    static SPEC: OnceLock<ToolSpec> = OnceLock::new();
    SPEC.get_or_init(|| ToolSpec {
        name: "logs",
        description: "Query production logs, requests and traces. Times: since/until take 15m, 24h, 7d (before now) or RFC 3339 UTC, and since=last_deploy starts at the newest deploy (of `service` if given); since defaults per action, until to now; the resolved window is echoed. Lists take limit and cursor (pass next_cursor back). Row ids are log_id. Aliases: commit_hash=version, exception_class=error_class.",
        actions: ACTIONS,
        params: params(),
        hints: Hints {
            read_only: true,
            destructive: false,
            idempotent: true,
        },
    })
}

impl ToolHandler for LogsTool {
    fn spec(&self) -> &ToolSpec {
        spec()
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        ALIASES
    }

    fn call(&self, call: &ToolCall<'_>) -> ToolResult {
        let now = opentrace_shared::time::now_micros();
        match call.action {
            "search" => search::run(call, now),
            "context" => context::run(call),
            "attributes" => attributes::run(call, now),
            "stats" => stats::run(call, now),
            "summary" => summary::run(call, now),
            "performance" => performance::run(call, now),
            "trace" => trace::run(call),
            "compare" => compare::run(call, now),
            other => Err(ToolError::InvalidArguments(format!(
                "unknown action {other:?}"
            ))),
        }
    }
}

/// A string argument under its name or its alias.
fn arg_str<'a>(call: &'a ToolCall<'_>, name: &str) -> Result<Option<&'a str>, ToolError> {
    if let Some(v) = opt_str(call.args, name)?.filter(|s| !s.trim().is_empty()) {
        return Ok(Some(v.trim()));
    }
    for (alias, canonical) in ALIASES {
        if *canonical == name
            && let Some(v) = opt_str(call.args, alias)?.filter(|s| !s.trim().is_empty())
        {
            return Ok(Some(v.trim()));
        }
    }
    Ok(None)
}

/// THE way every action gets a [`Filter`]: the environment restriction comes only from the
/// caller's [`EnvScope`], then the optional window narrows `ts`.
pub(crate) fn scoped_filter(
    call: &ToolCall<'_>,
    window: Option<&Window>,
) -> Result<(Filter, EnvScope), ToolError> {
    let scope = EnvScope::for_call(call)?;
    let mut f = Filter::new(scope.restriction());
    if let Some(w) = window {
        f.ts_from = Some(w.from_us);
        f.ts_to = Some(w.to_us);
    }
    Ok((f, scope))
}

fn parse_level(s: &str) -> Result<Level, ToolError> {
    s.parse::<Level>().map_err(|e| {
        ToolError::InvalidArguments(format!("{e}; pass e.g. level=error or min_level=warn"))
    })
}

/// Applies the row filters shared by search-like actions (service, level, ids, request
/// fields, full text). Returns the names of the filters applied, for the response.
fn apply_filters(call: &ToolCall<'_>, f: &mut Filter) -> Result<Vec<&'static str>, ToolError> {
    let mut applied = Vec::new();
    let strs: [(&'static str, &mut Option<String>); 14] = [
        ("service", &mut f.service),
        ("trace_id", &mut f.trace_id),
        ("request_id", &mut f.request_id),
        ("user_id", &mut f.user_id),
        ("event_type", &mut f.event_type),
        ("version", &mut f.version),
        ("error_class", &mut f.error_class),
        ("error_fingerprint", &mut f.fingerprint),
        ("source_file", &mut f.source_file),
        ("method", &mut f.method),
        ("path", &mut f.path),
        ("route", &mut f.route),
        ("handler", &mut f.handler),
        ("kind", &mut f.kind),
    ];
    for (name, slot) in strs {
        if let Some(v) = arg_str(call, name)? {
            *slot = Some(if name == "method" {
                v.to_ascii_uppercase()
            } else {
                v.to_string()
            });
            applied.push(name);
        }
    }
    if let Some(levels) = opt_list(call.args, "level")? {
        let parsed = levels
            .iter()
            .map(|l| parse_level(l))
            .collect::<Result<Vec<_>, _>>()?;
        if !parsed.is_empty() {
            f.levels = Some(parsed);
            applied.push("level");
        }
    }
    if let Some(l) = arg_str(call, "min_level")? {
        f.min_level = Some(parse_level(l)?);
        applied.push("min_level");
    }
    if let Some(s) = opt_i64(call.args, "status")? {
        f.status = Some(IntRange::exact(s));
        applied.push("status");
    }
    if let Some(d) = opt_i64(call.args, "min_duration_ms")? {
        f.min_duration_ms = Some(d);
        applied.push("min_duration_ms");
    }
    if let Some(d) = opt_i64(call.args, "min_sql_count")?.or(opt_i64(call.args, "sql_count")?) {
        f.min_db_count = Some(d);
        applied.push("min_sql_count");
    }
    if opt_bool(call.args, "n_plus_one_only")? == Some(true) {
        f.n_plus_one = Some(true);
        applied.push("n_plus_one_only");
    }
    if let Some(q) = arg_str(call, "query")? {
        let parsed = opentrace_shared::fts::Query::parse(q).map_err(|e| {
            ToolError::InvalidArguments(format!(
                "`query` cannot be used: {e}. Syntax: words (all must match) and \"quoted phrases\"; no operators"
            ))
        })?;
        f.text = Some(parsed);
        applied.push("query");
    }
    Ok(applied)
}

/// Maps the scan's unit errors to a response note (files skipped, results may be partial).
fn scan_note(errors: &[String]) -> Option<Value> {
    (!errors.is_empty()).then(|| {
        json!(format!(
            "{} storage file(s) could not be read and were skipped; results may be incomplete",
            errors.len()
        ))
    })
}
