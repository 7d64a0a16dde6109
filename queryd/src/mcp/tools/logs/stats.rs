//! `logs stats`: volume and errors grouped by level, service or error pattern, with time
//! buckets and spike warnings. Patterns are exact over all error rows of the window: the
//! error messages are counted by the engine, then normalised ([`super::pattern`]) and merged.

use std::collections::HashMap;

use opentrace_shared::{Col, Level, Value as CellValue};
use serde_json::{Value, json};

use super::pattern::{normalize, search_words};
use super::rows::{by_level, counts_by, histogram, pct};
use super::{apply_filters, arg_str, scoped_filter};
use crate::mcp::args::{Window, encode_offset, limit, offset_cursor, parse_duration_us};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::query::{AggMode, AggSpec, GroupKey, Metric, MetricValue, aggregate};

/// A bucket is a spike when its errors exceed this multiple of the mean.
const SPIKE_FACTOR: f64 = 1.4;

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = Window::for_call(call, "1h", now)?;
    let (mut filter, scope) = scoped_filter(call, Some(&window))?;
    let applied = apply_filters(call, &mut filter)?;
    let width = match arg_str(call, "bucket_interval")? {
        None => {
            if window.len_us() <= 6 * 3_600_000_000 {
                300_000_000
            } else {
                window.auto_bucket_us()
            }
        }
        Some(b) => parse_duration_us(b)
            .filter(|w| *w >= 1_000_000)
            .ok_or_else(|| {
                ToolError::InvalidArguments(format!(
                    "`bucket_interval` {b:?} is invalid: use e.g. 1m, 5m, 1h"
                ))
            })?,
    };
    if window.len_us() / width > 500 {
        return Err(ToolError::InvalidArguments(String::from(
            "too many buckets (over 500): pass a larger bucket_interval or a shorter since",
        )));
    }
    let group_by = arg_str(call, "group_by")?.unwrap_or("level");
    let snap = call.catalog.snapshot();
    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "filters": applied,
        "group_by": group_by,
    });
    let mut out;
    match group_by {
        "level" => {
            let levels = by_level(&snap, &filter);
            let total: u64 = levels
                .as_object()
                .map(|m| m.values().filter_map(Value::as_u64).sum())
                .unwrap_or(0);
            let errors: u64 = ["error", "fatal"]
                .iter()
                .filter_map(|l| levels.get(l).and_then(Value::as_u64))
                .sum();
            let hist = histogram(&snap, &filter, &window, width);
            let (warnings, trend) = spikes(&hist);
            body["total"] = json!(total);
            body["by_level"] = levels;
            body["error_rate_pct"] = json!(pct(errors, total));
            body["trend"] = json!(trend);
            body["warnings"] = json!(warnings);
            body["time_distribution"] = hist;
            out = ToolOutput::new(body);
        }
        "service" => {
            let r = aggregate(
                &snap,
                &filter,
                &AggSpec {
                    group_by: vec![GroupKey::Column(Col::Service)],
                    metrics: vec![Metric::Count, Metric::CountErrors],
                    limit_groups: 0,
                },
                AggMode::Auto,
            );
            let total = r.total_count;
            let total_errors: u64 = r.groups.iter().map(|g| errors_of(&g.metrics, 1)).sum();
            let overall = pct(total_errors, total);
            let limit = limit(call.args, 20, 100)?;
            let offset = offset_cursor(call.args)?;
            let mut warnings = Vec::new();
            let list: Vec<Value> = r
                .groups
                .iter()
                .map(|g| {
                    let e = errors_of(&g.metrics, 1);
                    let rate = pct(e, g.count);
                    let name = super::rows::key_text(g.key.first());
                    if e >= 5 && rate > overall * 1.25 {
                        warnings.push(format!(
                            "service {name} has an error rate of {rate}% (overall {overall}%)"
                        ));
                    }
                    json!({"service": name, "count": g.count, "errors": e, "error_rate_pct": rate})
                })
                .collect();
            let services = list.len();
            let page: Vec<Value> = list.into_iter().skip(offset).take(limit).collect();
            let next = (offset + page.len() < services).then(|| encode_offset(offset + page.len()));
            body["total"] = json!(total);
            body["errors"] = json!(total_errors);
            body["error_rate_pct"] = json!(overall);
            body["services"] = json!(services);
            body["warnings"] = json!(warnings);
            body["by_service"] = json!(page);
            body["next_cursor"] = json!(next);
            out = ToolOutput::new(body);
            if let Some(w) = warnings.first() {
                out = out.suggest(
                    "logs",
                    json!({"action": "stats", "group_by": "pattern", "since": window.since}),
                    format!("which errors drive it: {w}"),
                );
            }
        }
        "pattern" => {
            if filter.levels.is_none() && filter.min_level.is_none() {
                filter.min_level = Some(Level::Error);
            }
            let r = aggregate(
                &snap,
                &filter,
                &AggSpec {
                    group_by: vec![GroupKey::Column(Col::Message)],
                    metrics: vec![Metric::Count],
                    limit_groups: 0,
                },
                AggMode::Auto,
            );
            let mut pats: HashMap<String, (u64, String, u64)> = HashMap::new();
            for g in &r.groups {
                let msg = match g.key.first() {
                    Some(CellValue::Str(s)) => s.as_str(),
                    _ => "",
                };
                let e = pats
                    .entry(normalize(msg))
                    .or_insert((0, msg.to_string(), 0));
                e.0 += g.count;
                if g.count > e.2 {
                    e.1 = msg.to_string();
                    e.2 = g.count;
                }
            }
            let mut list: Vec<(String, (u64, String, u64))> = pats.into_iter().collect();
            list.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
            let limit = limit(call.args, 20, 100)?;
            let offset = offset_cursor(call.args)?;
            let total_patterns = list.len();
            let page: Vec<Value> = list
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(p, (n, example, _))| {
                    json!({
                        "pattern": p,
                        "count": n,
                        "example": super::rows::cut(example, 300).0,
                    })
                })
                .collect();
            let next =
                (offset + page.len() < total_patterns).then(|| encode_offset(offset + page.len()));
            body["rows"] = json!(r.total_count);
            body["patterns_total"] = json!(total_patterns);
            body["patterns"] = json!(page);
            body["next_cursor"] = json!(next);
            body["normalisation"] = json!(
                "digits -> <n>, hex ids -> <hex>, UUIDs -> <uuid>, mixed ids -> <id>; default level filter: error and fatal"
            );
            out = ToolOutput::new(body);
            if let Some((p, _)) = list.first()
                && let Some(q) = search_words(p)
            {
                out = out.suggest(
                    "logs",
                    json!({"action": "search", "query": q, "min_level": "error", "since": window.since}),
                    "rows of the most frequent pattern",
                );
            }
        }
        other => {
            return Err(ToolError::InvalidArguments(format!(
                "`group_by` {other:?} is invalid: use level, service or pattern"
            )));
        }
    }
    if group_by != "service" {
        let (_, services) = counts_by(&snap, &filter, Col::Service, 1);
        if let Some(s) = services
            .first()
            .and_then(|v| v.get("service"))
            .and_then(Value::as_str)
        {
            out = out.suggest(
                "logs",
                json!({"action": "stats", "group_by": "service", "since": window.since}),
                format!("volume and errors per service (top: {s})"),
            );
        }
    }
    Ok(out)
}

fn errors_of(m: &[MetricValue], i: usize) -> u64 {
    match m.get(i) {
        Some(MetricValue::Count(n)) => *n,
        _ => 0,
    }
}

/// Spike warnings (buckets whose errors exceed [`SPIKE_FACTOR`] × the mean, at least 3)
/// and the trend of errors (second half vs first half of the window).
fn spikes(hist: &Value) -> (Vec<String>, &'static str) {
    let buckets: Vec<(String, u64)> = hist["buckets"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|x| {
                    (
                        x["start"].as_str().unwrap_or_default().to_string(),
                        x["errors"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if buckets.is_empty() {
        return (Vec::new(), "flat");
    }
    let sum: u64 = buckets.iter().map(|b| b.1).sum();
    let mean = sum as f64 / buckets.len() as f64;
    let warnings = buckets
        .iter()
        .filter(|(_, e)| *e >= 3 && *e as f64 > mean * SPIKE_FACTOR)
        .map(|(start, e)| {
            format!(
                "error spike at {start}: {e} errors ({:.1}x the average of {mean:.1} per bucket)",
                *e as f64 / mean.max(f64::MIN_POSITIVE)
            )
        })
        .collect();
    let half = buckets.len() / 2;
    let first: u64 = buckets.iter().take(half).map(|b| b.1).sum();
    let second: u64 = buckets.iter().skip(half).map(|b| b.1).sum();
    let trend = if second as f64 > first as f64 * 1.2 + 1.0 {
        "rising"
    } else if (second as f64) < first as f64 * 0.8 - 1.0 {
        "falling"
    } else {
        "flat"
    };
    (warnings, trend)
}
