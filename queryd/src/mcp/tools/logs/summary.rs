//! `logs summary`: the state of the window at a glance: totals, levels, services, live
//! commits, the top distinct errors (by fingerprint) and the slowest endpoints, with
//! warnings (error rate over 5 %, more than one commit live).

use opentrace_shared::{Col, Value as CellValue};
use serde_json::{Value, json};

use super::rows::{by_level, counts_by, cut, key_text, pct};
use super::{apply_filters, scoped_filter};
use crate::mcp::args::Window;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::query::{
    AggMode, AggSpec, GroupKey, Metric, MetricValue, Order, SearchOpts, aggregate, search,
};

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = Window::for_call(call, "1h", now)?;
    let (mut filter, scope) = scoped_filter(call, Some(&window))?;
    let applied = apply_filters(call, &mut filter)?;
    let snap = call.catalog.snapshot();
    let levels = by_level(&snap, &filter);
    let total: u64 = levels
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    let errors: u64 = ["error", "fatal"]
        .iter()
        .filter_map(|l| levels.get(l).and_then(Value::as_u64))
        .sum();
    let (_, services) = counts_by(&snap, &filter, Col::Service, 10);
    let (_, commits) = counts_by(&snap, &filter, Col::Version, 10);
    let live_commits = commits
        .iter()
        .filter(|c| c.get("version").is_some_and(|v| !v.is_null()))
        .count();

    // Top distinct errors by fingerprint, each with its newest example.
    let mut ef = filter.clone();
    ef.has_error = Some(true);
    let fps = aggregate(
        &snap,
        &ef,
        &AggSpec {
            group_by: vec![GroupKey::Column(Col::ErrorFingerprint)],
            metrics: vec![Metric::Count, Metric::Max(Col::Ts)],
            limit_groups: 10,
        },
        AggMode::Auto,
    );
    let mut unique_errors = Vec::new();
    for g in &fps.groups {
        let mut f = ef.clone();
        match g.key.first() {
            Some(CellValue::Str(fp)) => f.fingerprint = Some(fp.clone()),
            _ => continue,
        }
        let ex = search(
            &snap,
            &f,
            SearchOpts {
                limit: 1,
                order: Order::NewestFirst,
                cursor: None,
            },
        );
        if let Some(r) = ex.rows.first() {
            unique_errors.push(json!({
                "error_fingerprint": key_text(g.key.first()),
                "count": g.count,
                "service": r.service,
                "error_class": r.error_class,
                "message": cut(r.error_message.as_deref().unwrap_or(&r.message), 200).0,
                "last_log_id": r.seq.0,
                "last_seen": crate::mcp::args::fmt_ts(r.ts),
            }));
        }
    }

    // Slowest endpoints by exact p95.
    let mut rf = filter.clone();
    rf.kind = Some(String::from("request"));
    let eps = aggregate(
        &snap,
        &rf,
        &AggSpec {
            group_by: vec![GroupKey::Column(Col::Method), GroupKey::Column(Col::Route)],
            metrics: vec![
                Metric::Count,
                Metric::Percentiles(Col::DurationMs, vec![95.0]),
            ],
            limit_groups: 0,
        },
        AggMode::Auto,
    );
    let mut slowest: Vec<(i64, Value)> = eps
        .groups
        .iter()
        .filter_map(|g| {
            let p = match g.metrics.get(1) {
                Some(MetricValue::Percentiles(v)) => v.first().and_then(|x| x.1)?,
                _ => return None,
            };
            Some((
                p,
                json!({"method": key_text(g.key.first()), "route": key_text(g.key.get(1)), "requests": g.count, "p95_ms": p}),
            ))
        })
        .collect();
    slowest.sort_by_key(|(p, _)| std::cmp::Reverse(*p));
    let slowest: Vec<Value> = slowest.into_iter().take(5).map(|x| x.1).collect();

    let rate = pct(errors, total);
    let mut warnings = Vec::new();
    if rate > 5.0 {
        warnings.push(format!("error rate {rate}% is above 5%"));
    }
    if live_commits > 1 {
        warnings.push(format!(
            "{live_commits} commits (versions) are live in this window: a deploy may be in progress or mixed"
        ));
    }
    let mut out = ToolOutput::new(json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "filters": applied,
        "total": total,
        "errors": errors,
        "error_rate_pct": rate,
        "by_level": levels,
        "by_service": services,
        "active_commits": commits,
        "warnings": warnings,
        "unique_errors": unique_errors,
        "slowest_endpoints": slowest,
        "note": "error groups with resolve/ignore state are in the errors tool",
    }));
    if let Some(e) = unique_errors.first() {
        out = out.suggest(
            "logs",
            json!({"action": "context", "log_id": e["last_log_id"], "same_service": true}),
            "the most frequent error in context",
        );
        out = out.suggest(
            "logs",
            json!({"action": "stats", "group_by": "pattern", "since": window.since}),
            "error messages grouped into patterns",
        );
    }
    if let Some(s) = slowest.first() {
        out = out.suggest(
            "logs",
            json!({"action": "performance", "route": s["route"], "since": window.since}),
            "the slowest endpoint's requests",
        );
    }
    Ok(out)
}
