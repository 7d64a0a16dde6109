//! `logs compare`: errors or log volume in a current period against a baseline period, in
//! total and per service; for errors also the fingerprints new in the current period.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use opentrace_shared::{Col, Value as CellValue};
use serde_json::{Value, json};

use super::rows::key_text;
use super::{apply_filters, arg_str, scoped_filter};
use crate::mcp::args::{LAST_DEPLOY, Window, parse_duration_us};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::query::{AggMode, AggSpec, Filter, GroupKey, Metric, aggregate};

const DAY_US: i64 = 86_400_000_000;

fn current_window(spec: &str, now: i64) -> Result<Window, ToolError> {
    let len = match spec {
        "last_1h" => Some(3_600_000_000),
        "last_6h" => Some(6 * 3_600_000_000),
        "last_24h" => Some(DAY_US),
        "today" => None,
        other => Some(
            parse_duration_us(other.strip_prefix("last_").unwrap_or(other)).ok_or_else(|| {
                ToolError::InvalidArguments(format!(
                    "`current_period` {other:?} is invalid: use last_1h, last_6h, last_24h, today or a duration such as 30m"
                ))
            })?,
        ),
    };
    let from = match len {
        Some(l) => now - l,
        None => {
            let day = Utc
                .timestamp_micros(now)
                .single()
                .map(|t| t.date_naive())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc().timestamp_micros());
            day.unwrap_or(now - DAY_US)
        }
    };
    Ok(Window::between(from, now, spec))
}

fn baseline_window(spec: &str, cur: &Window) -> Result<Window, ToolError> {
    let shift = match spec {
        "previous" => cur.len_us(),
        "yesterday_same_time" => DAY_US,
        "last_week_same_time" => 7 * DAY_US,
        other => {
            return Err(ToolError::InvalidArguments(format!(
                "`baseline_period` {other:?} is invalid: use previous, yesterday_same_time or last_week_same_time"
            )));
        }
    };
    Ok(Window::between(
        cur.from_us - shift,
        cur.to_us - shift,
        spec,
    ))
}

fn with_window(f: &Filter, w: &Window) -> Filter {
    let mut f = f.clone();
    f.ts_from = Some(w.from_us);
    f.ts_to = Some(w.to_us);
    f
}

fn change_pct(cur: u64, base: u64) -> Value {
    if base == 0 {
        Value::Null
    } else {
        json!(((cur as f64 - base as f64) * 1000.0 / base as f64).round() / 10.0)
    }
}

fn by(snap: &crate::catalog::Snapshot, f: &Filter, col: Col) -> (u64, HashMap<String, u64>) {
    let r = aggregate(
        snap,
        f,
        &AggSpec {
            group_by: vec![GroupKey::Column(col)],
            metrics: vec![Metric::Count],
            limit_groups: 0,
        },
        AggMode::Auto,
    );
    let map = r
        .groups
        .iter()
        .map(|g| {
            let k = match g.key.first() {
                Some(CellValue::Str(s)) => s.clone(),
                other => key_text(other).to_string(),
            };
            (k, g.count)
        })
        .collect();
    (r.total_count, map)
}

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let metric = arg_str(call, "metric")?.ok_or_else(|| {
        ToolError::InvalidArguments(String::from("missing `metric`: errors or log_volume"))
    })?;
    if !matches!(metric, "errors" | "log_volume") {
        return Err(ToolError::InvalidArguments(format!(
            "`metric` {metric:?} is invalid: use errors or log_volume"
        )));
    }
    let period = arg_str(call, "current_period")?
        .or(arg_str(call, "since")?)
        .unwrap_or("last_1h");
    let cur = if period == LAST_DEPLOY {
        let mut args = call.args.clone();
        args.insert("since".into(), json!(LAST_DEPLOY));
        args.remove("until");
        Window::for_call(
            &ToolCall {
                args: &args,
                ..*call
            },
            "1h",
            now,
        )?
    } else {
        current_window(period, now)?
    };
    let base = baseline_window(
        arg_str(call, "baseline_period")?.unwrap_or("previous"),
        &cur,
    )?;
    let (mut filter, scope) = scoped_filter(call, None)?;
    let applied = apply_filters(call, &mut filter)?;
    if metric == "errors" {
        filter.has_error = Some(true);
    }
    let snap = call.catalog.snapshot();
    let (ct, cs) = by(&snap, &with_window(&filter, &cur), Col::Service);
    let (bt, bs) = by(&snap, &with_window(&filter, &base), Col::Service);
    let mut names: Vec<&String> = cs.keys().chain(bs.keys()).collect();
    names.sort();
    names.dedup();
    let mut services: Vec<Value> = names
        .iter()
        .map(|s| {
            let c = cs.get(*s).copied().unwrap_or(0);
            let b = bs.get(*s).copied().unwrap_or(0);
            json!({"service": s, "current": c, "baseline": b, "change_pct": change_pct(c, b)})
        })
        .collect();
    services.sort_by_key(|v| {
        std::cmp::Reverse(
            (v["current"].as_u64().unwrap_or(0) as i64
                - v["baseline"].as_u64().unwrap_or(0) as i64)
                .abs(),
        )
    });
    services.truncate(20);
    let mut body = json!({
        "metric": metric,
        "environment": scope.describe(),
        "filters": applied,
        "current": {"period": cur.since, "window": cur.echo(), "count": ct},
        "baseline": {"period": base.since, "window": base.echo(), "count": bt},
        "change_pct": change_pct(ct, bt),
        "by_service": services,
    });
    let mut out;
    if metric == "errors" {
        let (_, cf) = by(&snap, &with_window(&filter, &cur), Col::ErrorFingerprint);
        let (_, bf) = by(&snap, &with_window(&filter, &base), Col::ErrorFingerprint);
        let mut new: Vec<(String, u64)> = cf
            .into_iter()
            .filter(|(k, _)| k != "null" && !bf.contains_key(k))
            .collect();
        new.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let new_total = new.len();
        new.truncate(10);
        body["new_error_fingerprints_total"] = json!(new_total);
        body["new_error_fingerprints"] = json!(
            new.iter()
                .map(|(k, n)| json!({"error_fingerprint": k, "count": n}))
                .collect::<Vec<_>>()
        );
        out = ToolOutput::new(body);
        if let Some((fp, _)) = new.first() {
            out = out.suggest(
                "logs",
                json!({"action": "search", "error_fingerprint": fp, "since": crate::mcp::args::fmt_ts(cur.from_us)}),
                "rows of the most frequent new error",
            );
        }
    } else {
        out = ToolOutput::new(body);
    }
    Ok(out.suggest(
        "logs",
        json!({"action": "stats", "group_by": "level", "since": crate::mcp::args::fmt_ts(cur.from_us)}),
        "the current period in time buckets",
    ))
}
