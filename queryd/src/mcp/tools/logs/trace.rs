//! `logs trace`: every row of one trace (within the caller's environments) ordered by time:
//! a timeline with offsets from the first row, a per-service summary, the first error as the
//! probable root cause, and gaps over 500 ms.

use std::collections::BTreeMap;

use opentrace_shared::Row;
use serde_json::{Value, json};

use super::rows::{Cuts, cut, row_json};
use super::{arg_str, scoped_filter};
use crate::mcp::args::fmt_ts;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::tools::opt_bool;
use crate::query::{Order, SearchOpts, search};

/// Most rows of one trace returned.
const MAX_ROWS: usize = 300;
/// A pause between consecutive rows worth reporting, µs.
const GAP_US: i64 = 500_000;
/// Surrounding window for `include_context`, µs.
const CONTEXT_US: i64 = 2_000_000;

fn ms(us: i64) -> f64 {
    (us as f64 / 100.0).round() / 10.0
}

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let trace_id = arg_str(call, "trace_id")?.ok_or_else(|| {
        ToolError::InvalidArguments(String::from(
            "missing `trace_id`: take it from the trace_id field of a logs search row",
        ))
    })?;
    let (mut filter, scope) = scoped_filter(call, None)?;
    let base = filter.clone();
    filter.trace_id = Some(trace_id.to_string());
    let snap = call.catalog.snapshot();
    let res = search(
        &snap,
        &filter,
        SearchOpts {
            limit: MAX_ROWS,
            order: Order::OldestFirst,
            cursor: None,
        },
    );
    let rows = res.rows;
    let Some(first) = rows.first() else {
        return Err(ToolError::NotFound(format!(
            "no rows with trace_id {trace_id:?} in your environments ({}); copy the id from a logs search row, or search with query=<part of the id>",
            scope.describe()
        )));
    };
    let t0 = first.ts;
    let t_end = rows.last().map_or(t0, |r| r.ts);
    let mut timeline = Vec::new();
    let mut services: BTreeMap<&str, (u64, u64, i64, i64)> = BTreeMap::new();
    let mut gaps = Vec::new();
    let mut prev: Option<&Row> = None;
    for r in &rows {
        let mut item = json!({
            "log_id": r.seq.0,
            "offset_ms": ms(r.ts - t0),
            "service": r.service,
            "level": r.level.as_str(),
            "kind": r.kind,
            "message": cut(&r.message, 200).0,
        });
        for (k, v) in [
            ("span_id", r.span_id.as_ref().map(|s| json!(s))),
            (
                "parent_span_id",
                r.parent_span_id.as_ref().map(|s| json!(s)),
            ),
            ("status", r.status.map(|s| json!(s))),
            ("duration_ms", r.duration_ms.map(|s| json!(s))),
            ("error_class", r.error_class.as_ref().map(|s| json!(s))),
        ] {
            if let Some(v) = v {
                item[k] = v;
            }
        }
        timeline.push(item);
        let e = services
            .entry(r.service.as_str())
            .or_insert((0, 0, r.ts, r.ts));
        e.0 += 1;
        if r.level.is_error() || r.error_class.is_some() {
            e.1 += 1;
        }
        e.3 = r.ts;
        if let Some(p) = prev
            && r.ts - p.ts > GAP_US
        {
            gaps.push(json!({
                "after_log_id": p.seq.0, "before_log_id": r.seq.0,
                "gap_ms": ms(r.ts - p.ts), "at_offset_ms": ms(p.ts - t0)
            }));
        }
        prev = Some(r);
    }
    let root = rows
        .iter()
        .find(|r| r.level.is_error() || r.error_class.is_some());
    let mut warnings: Vec<String> = Vec::new();
    if let Some(r) = root {
        warnings.push(format!(
            "first error (probable root cause): log_id {} in {} at +{} ms: {}",
            r.seq.0,
            r.service,
            ms(r.ts - t0),
            cut(r.error_message.as_deref().unwrap_or(&r.message), 200).0
        ));
    }
    if !gaps.is_empty() {
        warnings.push(format!(
            "{} gap(s) over 500 ms between consecutive rows",
            gaps.len()
        ));
    }
    let svc: Vec<Value> = services
        .iter()
        .map(|(s, (n, e, a, b))| {
            json!({"service": s, "rows": n, "errors": e, "first_offset_ms": ms(a - t0), "last_offset_ms": ms(b - t0)})
        })
        .collect();
    let mut body = json!({
        "environment": scope.describe(),
        "trace_id": trace_id,
        "window": {"from": fmt_ts(t0), "to": fmt_ts(t_end)},
        "duration_ms": ms(t_end - t0),
        "rows": rows.len(),
        "services": svc,
        "warnings": warnings,
        "root_cause": root.map(|r| {
            let mut cuts = Cuts::default();
            row_json(r, &mut cuts)
        }),
        "gaps": gaps,
        "timeline": timeline,
    });
    if res.next_cursor.is_some() {
        body["note"] = json!(format!(
            "the trace has more than {MAX_ROWS} rows; the first {MAX_ROWS} are shown. Use logs search with trace_id and a cursor for the rest"
        ));
    }
    if opt_bool(call.args, "include_context")? == Some(true) {
        let mut around = base;
        around.ts_from = Some(t0 - CONTEXT_US);
        around.ts_to = Some(t_end + CONTEXT_US + 1);
        let names: Vec<&str> = services.keys().copied().collect();
        let ctx = search(
            &snap,
            &around,
            SearchOpts {
                limit: 200,
                order: Order::OldestFirst,
                cursor: None,
            },
        );
        let mut cuts = Cuts::default();
        let others: Vec<Value> = ctx
            .rows
            .iter()
            .filter(|r| {
                r.trace_id.as_deref() != Some(trace_id) && names.contains(&r.service.as_str())
            })
            .take(30)
            .map(|r| row_json(r, &mut cuts))
            .collect();
        body["context"] = json!({"note": "other rows of the same services within 2 s of the trace", "rows": others});
    }
    let mut out = ToolOutput::new(body);
    if let Some(r) = root {
        out = out.suggest(
            "logs",
            json!({"action": "context", "log_id": r.seq.0, "same_service": true}),
            "what the failing service logged around the root cause",
        );
    }
    Ok(out)
}
