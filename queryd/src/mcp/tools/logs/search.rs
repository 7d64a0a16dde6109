//! `logs search`: aggregates first (total, counts by level and service, time histogram),
//! then the newest matching rows with a cursor; when nothing matches, says why it might be
//! and where the data actually is.

use opentrace_shared::Col;
use serde_json::{Value, json};

use super::rows::{Cuts, data_range_json, list_columns, row_json};
use super::search_counts::search_counts;
use super::{apply_filters, arg_str, scan_note, scoped_filter};
use crate::mcp::args::{Window, limit};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::tools::opt_str;
use crate::query::{
    AggMode, AggSpec, Cursor, Filter, Order, SearchOpts, aggregate, distinct_values, search_columns,
};

/// Default and maximum rows per page.
const DEFAULT_LIMIT: usize = 30;
const MAX_LIMIT: usize = 200;

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = Window::for_call(call, "1h", now)?;
    let (mut filter, scope) = scoped_filter(call, Some(&window))?;
    let applied = apply_filters(call, &mut filter)?;
    let limit = limit(call.args, DEFAULT_LIMIT, MAX_LIMIT)?;
    let order = match opt_str(call.args, "order")?.map(str::trim) {
        None | Some("desc") => Order::NewestFirst,
        Some("asc") => Order::OldestFirst,
        Some(o) => {
            return Err(ToolError::InvalidArguments(format!(
                "`order` {o:?} is invalid: use desc (newest first, default) or asc"
            )));
        }
    };
    let cursor = match opt_str(call.args, "cursor")?.filter(|c| !c.trim().is_empty()) {
        Some(c) => Some(Cursor::decode(c.trim()).map_err(|e| {
            ToolError::InvalidArguments(format!(
                "{e}; the cursor of logs search comes from its next_cursor"
            ))
        })?),
        None => None,
    };
    let snap = call.catalog.snapshot();
    // The first page shows counts above the rows; later pages only the total.
    let counts = cursor
        .is_none()
        .then(|| search_counts(&snap, &filter, &window, window.auto_bucket_us(), 8));
    let total = match &counts {
        Some(c) => c.total,
        None => {
            aggregate(
                &snap,
                &filter,
                &AggSpec {
                    group_by: vec![],
                    metrics: vec![],
                    limit_groups: 0,
                },
                AggMode::Auto,
            )
            .total_count
        }
    };
    let page = search_columns(
        &snap,
        &filter,
        SearchOpts {
            limit,
            order,
            cursor,
        },
        Some(list_columns()),
    );
    let mut cuts = Cuts::default();
    let logs: Vec<Value> = page.rows.iter().map(|r| row_json(r, &mut cuts)).collect();
    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "filters": applied,
        "total_matched": total,
    });
    if total == 0 {
        body["logs"] = json!([]);
        body["hint"] = json!(empty_hint(call, &snap, &filter, &window));
        body["data_range"] = data_range_json(&snap, &filter);
        let mut out = ToolOutput::new(body);
        out = out.suggest(
            "logs",
            json!({"action": "search", "since": "7d"}),
            "widen the window to see whether anything matches at all",
        );
        if let Some(q) = arg_str(call, "query")? {
            out = out.suggest(
                "logs",
                json!({"action": "attributes", "field": "service", "since": "7d"}),
                format!("check whether {q:?} is a service name"),
            );
        }
        return Ok(out);
    }
    if let Some(c) = counts {
        body["by_level"] = c.by_level;
        body["by_service"] = c.by_service;
        body["time_distribution"] = c.histogram;
    }
    body["returned"] = json!(logs.len());
    body["logs"] = json!(logs);
    body["next_cursor"] = json!(page.next_cursor.map(|c| c.encode()));
    if let Some(n) = cuts.note() {
        body["note"] = n;
    }
    if let Some(n) = scan_note(&page.stats.errors) {
        body["storage_note"] = n;
    }
    let mut out = ToolOutput::new(body);
    if let Some(c) = page.next_cursor {
        let mut args = call.args.clone();
        args.insert("cursor".into(), json!(c.encode()));
        // Pin the window so the next page continues the same result.
        args.insert("since".into(), json!(window.echo()["from"]));
        args.insert("until".into(), json!(window.echo()["to"]));
        out = out.suggest("logs", Value::Object(args), "next page of the same search");
    }
    if let Some(err) = page.rows.iter().find(|r| r.level.is_error()) {
        if let Some(t) = &err.trace_id {
            out = out.suggest(
                "logs",
                json!({"action": "trace", "trace_id": t}),
                format!("follow the request of error log_id {}", err.seq.0),
            );
        }
        out = out.suggest(
            "logs",
            json!({"action": "context", "log_id": err.seq.0, "same_service": true}),
            "what the service logged around this error",
        );
    }
    Ok(out)
}

/// Why nothing may have matched: the query may be a service name, or the window may miss
/// the data.
fn empty_hint(
    call: &ToolCall<'_>,
    snap: &crate::catalog::Snapshot,
    filter: &Filter,
    window: &Window,
) -> String {
    let mut hints = vec![String::from("no rows match these filters in this window")];
    if let Ok(Some(q)) = arg_str(call, "query") {
        let mut wide = Filter::new(filter.envs().clone());
        wide.ts_to = Some(window.to_us);
        let services = distinct_values(snap, &wide, Col::Service, 200);
        if let Some((s, n)) = services
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(q.trim()))
        {
            hints.push(format!(
                "{q:?} is a service name ({n} rows in total): pass service={s:?} instead of query"
            ));
        }
    }
    hints.push(String::from(
        "widen `since` (e.g. 24h or 7d), drop a filter, or compare with data_range below",
    ));
    hints.join("; ")
}
