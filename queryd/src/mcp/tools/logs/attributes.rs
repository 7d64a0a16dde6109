//! `logs attributes`: the distinct values of one field with their counts, most frequent
//! first, paged with an offset cursor.

use opentrace_shared::Col;
use serde_json::{Value, json};

use super::{apply_filters, arg_str, scoped_filter};
use crate::mcp::args::{Window, encode_offset, limit, offset_cursor};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::query::distinct_values;

/// Field names agents may ask for, and the column behind each.
const FIELDS: &[(&str, Col)] = &[
    ("service", Col::Service),
    ("level", Col::Level),
    ("environment", Col::Env),
    ("kind", Col::Kind),
    ("event_type", Col::EventType),
    ("version", Col::Version),
    ("commit_hash", Col::Version),
    ("host", Col::Host),
    ("request_id", Col::RequestId),
    ("trace_id", Col::TraceId),
    ("user_id", Col::UserId),
    ("tenant_id", Col::TenantId),
    ("method", Col::Method),
    ("path", Col::Path),
    ("route", Col::Route),
    ("handler", Col::Handler),
    ("status", Col::Status),
    ("error_class", Col::ErrorClass),
    ("exception_class", Col::ErrorClass),
    ("error_fingerprint", Col::ErrorFingerprint),
    ("source_file", Col::SourceFile),
    ("job_class", Col::JobClass),
    ("job_queue", Col::JobQueue),
];

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let names = || {
        FIELDS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let field = arg_str(call, "field")?.ok_or_else(|| {
        ToolError::InvalidArguments(format!("missing `field`: one of {}", names()))
    })?;
    let col = FIELDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(field))
        .map(|(_, c)| *c)
        .ok_or_else(|| {
            ToolError::InvalidArguments(format!("unknown field {field:?}: use one of {}", names()))
        })?;
    let window = Window::for_call(call, "24h", now)?;
    let (mut filter, scope) = scoped_filter(call, Some(&window))?;
    let applied = apply_filters(call, &mut filter)?;
    let limit = limit(call.args, 50, 500)?;
    let offset = offset_cursor(call.args)?;
    let snap = call.catalog.snapshot();
    let all = distinct_values(&snap, &filter, col, usize::MAX);
    let total_values = all.len();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(v, n)| json!({"value": v, "count": n}))
        .collect();
    let next = (offset + page.len() < total_values).then(|| encode_offset(offset + page.len()));
    let mut out = ToolOutput::new(json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "filters": applied,
        "field": field,
        "distinct_values": total_values,
        "returned": page.len(),
        "values": page,
        "next_cursor": next,
    }));
    if let Some((top, _)) = all.first()
        && col != Col::Env
    {
        let name = if col == Col::Level { "level" } else { field };
        out = out.suggest(
            "logs",
            json!({"action": "search", name: top, "since": window.since}),
            "rows with the most frequent value",
        );
    }
    if total_values == 0 {
        out = out.suggest(
            "logs",
            json!({"action": "attributes", "field": field, "since": "7d"}),
            "no values in this window; try a wider one",
        );
    }
    Ok(out)
}
