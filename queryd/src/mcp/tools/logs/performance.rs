//! `logs performance`: request rows (`kind = request`). Exact nearest-rank p50/p95/p99 of
//! `duration_ms` overall and per endpoint (method + route, or method + path when a request
//! has no route) over **all** requests of the window, then the slowest requests by
//! `sort_by`.

use std::cmp::Reverse;

use opentrace_shared::{Col, Row, Value as CellValue};
use serde_json::{Value, json};

use super::rows::{Cuts, key_text, row_json};
use super::{apply_filters, arg_str, scan_note, scoped_filter};
use crate::mcp::args::{Window, encode_offset, limit, offset_cursor};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::query::{
    AggMode, AggResult, AggSpec, Filter, GroupKey, Metric, MetricValue, Order, SearchOpts,
    aggregate, search,
};

/// Percentiles reported.
const PS: [f64; 3] = [50.0, 95.0, 99.0];
/// Endpoints listed.
const ENDPOINTS: usize = 15;
/// Most request rows read to sort by a column the engine cannot filter on.
const SORT_SCAN_CAP: usize = 20_000;

fn metrics() -> Vec<Metric> {
    vec![
        Metric::Count,
        Metric::CountErrors,
        Metric::Percentiles(Col::DurationMs, PS.to_vec()),
        Metric::Avg(Col::DurationMs),
        Metric::Max(Col::DurationMs),
        Metric::Avg(Col::DbMs),
    ]
}

/// The request metrics of `f` grouped by `group_by` (every group).
pub(crate) fn agg(snap: &crate::catalog::Snapshot, f: &Filter, group_by: Vec<Col>) -> AggResult {
    aggregate(
        snap,
        f,
        &AggSpec {
            group_by: group_by.into_iter().map(GroupKey::Column).collect(),
            metrics: metrics(),
            limit_groups: 0,
        },
        AggMode::Auto,
    )
}

/// The metrics of one group of [`agg`] as JSON fields.
pub(crate) fn stats_json(count: u64, m: &[MetricValue]) -> Value {
    let mut v = json!({"requests": count});
    if let Some(MetricValue::Count(e)) = m.get(1) {
        v["errors"] = json!(e);
    }
    if let Some(MetricValue::Percentiles(ps)) = m.get(2) {
        for (p, x) in ps {
            v[format!("p{}_ms", *p as i64)] = json!(x);
        }
    }
    if let Some(MetricValue::Float(Some(a))) = m.get(3) {
        v["avg_ms"] = json!((a * 10.0).round() / 10.0);
    }
    if let Some(MetricValue::Int(x)) = m.get(4) {
        v["max_ms"] = json!(x);
    }
    if let Some(MetricValue::Float(Some(a))) = m.get(5) {
        v["avg_db_ms"] = json!((a * 10.0).round() / 10.0);
    }
    v
}

/// The `p95_ms` of a [`stats_json`] object (0 when absent).
pub(crate) fn p95(v: &Value) -> i64 {
    v["p95_ms"].as_i64().unwrap_or(0)
}

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = Window::for_call(call, "24h", now)?;
    let (mut filter, scope) = scoped_filter(call, Some(&window))?;
    let applied = apply_filters(call, &mut filter)?;
    filter.kind = Some(String::from("request"));
    let sort_by = arg_str(call, "sort_by")?.unwrap_or("duration_ms");
    let sort_col = match sort_by {
        "duration_ms" => Col::DurationMs,
        "db_time_ms" | "db_ms" => Col::DbMs,
        "sql_count" | "db_count" => Col::DbCount,
        "duplicate_queries" | "dup_queries" => Col::DupQueries,
        other => {
            return Err(ToolError::InvalidArguments(format!(
                "`sort_by` {other:?} is invalid: use duration_ms, db_time_ms, sql_count or duplicate_queries"
            )));
        }
    };
    let limit = limit(call.args, 20, 100)?;
    let offset = offset_cursor(call.args)?;
    let snap = call.catalog.snapshot();

    let overall = agg(&snap, &filter, vec![]);
    let total = overall.total_count;
    let summary = overall
        .groups
        .first()
        .map_or(json!({"requests": 0}), |g| stats_json(g.count, &g.metrics));

    // Endpoints: exact per (method, route); requests without a route per (method, path).
    let by_route = agg(&snap, &filter, vec![Col::Method, Col::Route]);
    let by_path = agg(&snap, &filter, vec![Col::Method, Col::Route, Col::Path]);
    let mut endpoints: Vec<Value> = Vec::new();
    for g in &by_route.groups {
        if matches!(g.key.get(1), Some(CellValue::Str(_))) {
            let mut v = stats_json(g.count, &g.metrics);
            v["method"] = key_text(g.key.first());
            v["route"] = key_text(g.key.get(1));
            endpoints.push(v);
        }
    }
    for g in &by_path.groups {
        if matches!(g.key.get(1), None | Some(CellValue::Null)) {
            let mut v = stats_json(g.count, &g.metrics);
            v["method"] = key_text(g.key.first());
            v["path"] = key_text(g.key.get(2));
            endpoints.push(v);
        }
    }
    endpoints.sort_by_key(|v| Reverse(p95(v)));
    let endpoints_total = endpoints.len();
    endpoints.truncate(ENDPOINTS);

    // Slowest requests by sort_by.
    let (rows, capped, errors) = slowest(&snap, &filter, sort_col, offset + limit + 1, total);
    let page: Vec<&Row> = rows.iter().skip(offset).take(limit).collect();
    let more = rows.len() > offset + page.len();
    let mut cuts = Cuts::default();
    let list: Vec<Value> = page.iter().map(|r| row_json(r, &mut cuts)).collect();
    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "filters": applied,
        "summary": summary,
        "percentiles": "exact nearest-rank over every request in the window",
        "endpoints_total": endpoints_total,
        "endpoints": endpoints,
        "sort_by": sort_by,
        "returned": list.len(),
        "requests": list,
        "next_cursor": more.then(|| encode_offset(offset + page.len())),
    });
    if endpoints_total > ENDPOINTS {
        body["endpoints_note"] = json!(format!(
            "{ENDPOINTS} of {endpoints_total} endpoints shown, slowest p95 first; filter by route or path for others"
        ));
    }
    if capped {
        body["sort_note"] = json!(format!(
            "sorted among the newest {SORT_SCAN_CAP} matching requests; narrow the window for an exact ranking"
        ));
    }
    if let Some(n) = scan_note(&errors) {
        body["storage_note"] = n;
    }
    if total == 0 {
        body["hint"] =
            json!("no request rows (kind=request) in this window; widen `since` or drop filters");
    }
    let mut out = ToolOutput::new(body);
    if let Some(r) = page.first()
        && let Some(t) = &r.trace_id
    {
        out = out.suggest(
            "logs",
            json!({"action": "trace", "trace_id": t}),
            format!(
                "where the time of the slowest request (log_id {}) went",
                r.seq.0
            ),
        );
    }
    if let Some(e) = endpoints.first()
        && let Some(route) = e["route"].as_str()
    {
        out = out.suggest(
            "logs",
            json!({"action": "performance", "route": route, "sort_by": "db_time_ms", "since": window.since}),
            "the slowest endpoint's requests by database time",
        );
    }
    Ok(out)
}

/// The `want` requests with the largest `col`, largest first (ties: newest first). For
/// `duration_ms` and `db_count` an exact threshold (a percentile) limits what is read;
/// otherwise up to [`SORT_SCAN_CAP`] newest requests are read (`capped` says so).
fn slowest(
    snap: &crate::catalog::Snapshot,
    filter: &Filter,
    col: Col,
    want: usize,
    total: u64,
) -> (Vec<Row>, bool, Vec<String>) {
    let mut f = filter.clone();
    if total > want as u64 && matches!(col, Col::DurationMs | Col::DbCount) {
        let p = 100.0 * (total - want as u64) as f64 / total as f64;
        let r = aggregate(
            snap,
            filter,
            &AggSpec {
                group_by: vec![],
                metrics: vec![Metric::Percentiles(col, vec![p])],
                limit_groups: 0,
            },
            AggMode::Auto,
        );
        if let Some(MetricValue::Percentiles(v)) = r.groups.first().and_then(|g| g.metrics.first())
            && let Some((_, Some(t))) = v.first()
        {
            match col {
                Col::DurationMs => f.min_duration_ms = Some(*t),
                _ => f.min_db_count = Some(*t),
            }
        }
    }
    let res = search(
        snap,
        &f,
        SearchOpts {
            limit: SORT_SCAN_CAP,
            order: Order::NewestFirst,
            cursor: None,
        },
    );
    let capped = res.next_cursor.is_some();
    let mut rows = res.rows;
    rows.sort_by_key(|r| Reverse((r.get(col).as_int(), r.ts, r.seq)));
    rows.truncate(want);
    (rows, capped, res.stats.errors)
}
