//! `errors investigate`: everything about one occurrence in one response. The occurrence is
//! the row `log_id`, the last occurrence of group `fingerprint`, or the first error of
//! trace `trace_id`; all reads are under the caller's scope. Returns the row, its exception
//! (full stack trace and causes, see [`super::exception`]), the request it belongs to, up to
//! 30 rows of its trace with offsets, 5 rows of the same service before and after it, and
//! its error group.

use opentrace_shared::{Row, Seq};
use serde_json::{Value, json};

use super::exception::exception_json;
use super::{find_group, opt_arg, scoped_filter};
use crate::catalog::Snapshot;
use crate::mcp::args::fmt_ts;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::groups::group_json;
use crate::mcp::tools::logs::rows::{Cuts, cut, row_json};
use crate::mcp::tools::notes::attach_mentioned;
use crate::mcp::tools::{opt_i64, platform_error};
use crate::query::{Filter, Order, SearchOpts, around, get_by_seq, newest, search};

/// Rows of the trace read to place the occurrence in it.
const TRACE_READ: usize = 300;
/// Rows of the trace shown.
const TIMELINE_ROWS: usize = 30;
/// Rows of the same service shown on each side.
const SURROUNDING: usize = 5;
/// Characters of a message in the timeline and surrounding rows.
const BRIEF_CHARS: usize = 120;
/// Largest request params (as JSON text) shown whole.
const PARAMS_CHARS: usize = 2_000;

fn ms(us: i64) -> f64 {
    (us as f64 / 100.0).round() / 10.0
}

/// A row in the timeline or the surrounding logs: the fields that tell what happened.
fn brief(r: &Row) -> Value {
    let mut v = json!({
        "log_id": r.seq.0,
        "ts": fmt_ts(r.ts),
        "service": r.service,
        "level": r.level.as_str(),
        "kind": r.kind,
        "message": cut(&r.message, BRIEF_CHARS).0,
    });
    for (k, x) in [
        ("status", r.status.map(|s| json!(s))),
        ("duration_ms", r.duration_ms.map(|s| json!(s))),
        ("error_class", r.error_class.as_ref().map(|s| json!(s))),
    ] {
        if let Some(x) = x {
            v[k] = x;
        }
    }
    v
}

/// The occurrence to investigate and how it was chosen.
fn anchor(
    call: &ToolCall<'_>,
    snap: &Snapshot,
    scope: &EnvScope,
    filter: &Filter,
) -> Result<(Row, &'static str), ToolError> {
    let not_found = |what: String| {
        ToolError::NotFound(format!(
            "{what} not found in your environments ({}); take ids from errors list or logs search (rows may have been removed by retention)",
            scope.describe()
        ))
    };
    if let Some(id) = opt_i64(call.args, "log_id")? {
        let seq = u64::try_from(id).map_err(|_| {
            ToolError::InvalidArguments("`log_id` must be a non-negative integer".into())
        })?;
        return get_by_seq(snap, filter, Seq(seq))
            .map(|r| (r, "log_id"))
            .ok_or_else(|| not_found(format!("log_id {id}")));
    }
    if let Some(fp) = opt_arg(call, "fingerprint")? {
        let g = find_group(call, scope, fp)?;
        let mut f = filter.clone();
        f.narrow_env(&g.environment);
        let last = g.last_seq.and_then(|s| get_by_seq(snap, &f, s));
        let row = last.or_else(|| {
            f.fingerprint = Some(fp.to_string());
            newest(snap, &f)
        });
        return row
            .map(|r| (r, "fingerprint"))
            .ok_or_else(|| not_found(format!("an occurrence row of group {fp:?}")));
    }
    if let Some(t) = opt_arg(call, "trace_id")? {
        let mut f = filter.clone();
        f.trace_id = Some(t.to_string());
        let mut rows = search(snap, &f, SearchOpts::top(TRACE_READ, Order::OldestFirst)).rows;
        if rows.is_empty() {
            return Err(not_found(format!("trace_id {t:?}")));
        }
        let with_class = rows
            .iter()
            .position(|r| r.error_fingerprint.is_some() && r.error_class.is_some());
        let any_error = || {
            rows.iter()
                .position(|r| r.level.is_error() || r.error_fingerprint.is_some())
        };
        let Some(i) = with_class.or_else(any_error) else {
            return Err(ToolError::NotFound(format!(
                "trace {t:?} has {} row(s) but no error; read it with logs trace",
                rows.len()
            )));
        };
        return Ok((rows.swap_remove(i), "trace_id"));
    }
    Err(ToolError::InvalidArguments(
        "pass one of `log_id` (a row from logs search), `fingerprint` (a group from errors list: its last occurrence) or `trace_id` (its first error)".into(),
    ))
}

/// The rows of the occurrence's trace (else request), oldest first.
fn trace_rows(snap: &Snapshot, filter: &Filter, row: &Row) -> (Vec<Row>, bool) {
    let mut f = filter.clone();
    f.narrow_env(&row.env);
    if let Some(t) = &row.trace_id {
        f.trace_id = Some(t.clone());
    } else if let Some(r) = &row.request_id {
        f.request_id = Some(r.clone());
    } else {
        return (Vec::new(), false);
    }
    let res = search(snap, &f, SearchOpts::top(TRACE_READ, Order::OldestFirst));
    (res.rows, res.next_cursor.is_some())
}

/// At most [`TIMELINE_ROWS`] rows of the trace around the occurrence, with offsets from the
/// trace's first row.
fn timeline(rows: &[Row], anchor: &Row) -> Vec<Value> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let at = rows.iter().position(|r| r.seq == anchor.seq).unwrap_or(0);
    let start = at
        .saturating_sub(TIMELINE_ROWS / 2)
        .min(rows.len().saturating_sub(TIMELINE_ROWS));
    rows.iter()
        .skip(start)
        .take(TIMELINE_ROWS)
        .map(|r| {
            let mut v = brief(r);
            v["offset_ms"] = json!(ms(r.ts - first.ts));
            if r.seq == anchor.seq {
                v["this"] = json!(true);
            }
            v
        })
        .collect()
}

/// The request of the occurrence: the row itself when it is a request, else the trace's
/// request row of the same request (or any), with params from its body when present.
fn request_json(row: &Row, trace: &[Row]) -> Option<Value> {
    let is_request = |r: &Row| r.kind == "request" || r.method.is_some() || r.path.is_some();
    let req = if is_request(row) {
        row
    } else {
        trace
            .iter()
            .filter(|r| is_request(r))
            .find(|r| row.request_id.is_none() || r.request_id == row.request_id)?
    };
    let mut v = json!({"log_id": req.seq.0});
    for (k, x) in [
        ("method", req.method.as_ref().map(|s| json!(s))),
        ("path", req.path.as_ref().map(|s| json!(cut(s, 500).0))),
        ("route", req.route.as_ref().map(|s| json!(s))),
        ("handler", req.handler.as_ref().map(|s| json!(s))),
        ("status", req.status.map(|s| json!(s))),
        ("duration_ms", req.duration_ms.map(|s| json!(s))),
        ("request_id", req.request_id.as_ref().map(|s| json!(s))),
        ("user_id", req.user_id.as_ref().map(|s| json!(s))),
    ] {
        if let Some(x) = x {
            v[k] = x;
        }
    }
    let body: Option<Value> = req
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let params = body
        .as_ref()
        .and_then(|b| b.get("request_params").or_else(|| b.get("params")))
        .filter(|p| !p.is_null());
    if let Some(p) = params {
        let text = p.to_string();
        v["params"] = if text.chars().count() <= PARAMS_CHARS {
            p.clone()
        } else {
            json!(cut(&text, PARAMS_CHARS).0)
        };
    }
    Some(v)
}

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let (filter, scope) = scoped_filter(call, None)?;
    let snap = call.catalog.snapshot();
    let (row, by) = anchor(call, &snap, &scope, &filter)?;
    let (trace, more) = trace_rows(&snap, &filter, &row);
    let mut same_service = filter.clone();
    same_service.narrow_env(&row.env);
    same_service.service = Some(row.service.clone());
    let mut surrounding = Vec::new();
    if let Some(ctx) = around(&snap, row.seq, SURROUNDING, SURROUNDING, &same_service) {
        let n = ctx.before.len() as i64;
        for (i, r) in ctx.before.iter().enumerate() {
            let mut v = brief(r);
            v["position"] = json!(i as i64 - n);
            surrounding.push(v);
        }
        for (i, r) in ctx.after.iter().enumerate() {
            let mut v = brief(r);
            v["position"] = json!(i as i64 + 1);
            surrounding.push(v);
        }
    }
    let group = match &row.error_fingerprint {
        Some(fp) => call
            .platform
            .get_error_group(&scope.restriction(), fp, Some(&row.env))
            .map_err(platform_error)?,
        None => None,
    };
    let mut cuts = Cuts::default();
    let mut body = json!({
        "environment": row.env,
        "chosen_by": by,
        "log": row_json(&row, &mut cuts),
        "exception": exception_json(&row),
        "request": request_json(&row, &trace),
        "trace_rows": trace.len(),
        "trace_timeline": timeline(&trace, &row),
        "surrounding_logs": surrounding,
        "error_group": group.as_ref().map(group_json),
    });
    if more || trace.len() > TIMELINE_ROWS {
        body["trace_note"] = json!(format!(
            "the trace has {}{} rows; {TIMELINE_ROWS} around this occurrence are shown. Read all of it with logs trace",
            trace.len(),
            if more { "+" } else { "" }
        ));
    }
    if group.is_none() {
        body["group_note"] = json!(
            "this row has no error group (no fingerprint: only error/fatal rows are grouped, or the follower has not reached it yet)"
        );
    }
    let group_v = body["error_group"].clone();
    attach_mentioned(call, &mut body, Some(&row.service), &[group_v]);
    let mut out = ToolOutput::new(body);
    if let Some(t) = &row.trace_id {
        out = out.suggest(
            "logs",
            json!({"action": "trace", "trace_id": t}),
            "the whole request across services",
        );
    }
    out = out.suggest(
        "logs",
        json!({"action": "context", "log_id": row.seq.0, "before": 20, "after": 20}),
        "more of what happened around it, all services",
    );
    if let Some(g) = &group {
        out = out.suggest(
            "errors",
            json!({"action": "impact", "fingerprint": g.fingerprint, "environment": g.environment}),
            "which users this error hits",
        );
    }
    Ok(out)
}
