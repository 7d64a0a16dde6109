//! `errors impact`: who one error group hits, in the group's own environment (impact is
//! keyed by fingerprint and environment, unlike the reference server): unique users,
//! occurrences, the impact score and its parts, the most affected users, and the traits
//! common to its latest occurrences (version, host, route... shared by at least 10 %).

use std::collections::HashMap;

use opentrace_shared::{Col, Row, ValueRef};
use serde_json::{Value, json};

use super::{find_group, fingerprint_arg, group_output, scoped_filter, score_parts};
use crate::mcp::args::{fmt_ts, limit};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::ToolResult;
use crate::mcp::tools::groups::group_json;
use crate::mcp::tools::platform_error;
use crate::query::{Order, SearchOpts, search};

/// Latest occurrences the common traits are computed over.
const TRAIT_SAMPLE: usize = 100;
/// Least share of the sample a value needs to count as a common trait.
const TRAIT_SHARE: f64 = 0.1;
/// Values per field reported, at most.
const TRAIT_VALUES: usize = 3;
/// Fields whose values are compared.
const TRAIT_FIELDS: &[(&str, Col)] = &[
    ("service", Col::Service),
    ("version", Col::Version),
    ("host", Col::Host),
    ("method", Col::Method),
    ("route", Col::Route),
    ("handler", Col::Handler),
    ("status", Col::Status),
    ("tenant_id", Col::TenantId),
    ("job_class", Col::JobClass),
];

fn cell_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Str(s) if !s.is_empty() => Some(s.to_string()),
        ValueRef::Int(i) => Some(i.to_string()),
        ValueRef::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Values shared by at least [`TRAIT_SHARE`] of `rows`, most common first.
fn common_traits(rows: &[Row]) -> Vec<Value> {
    let n = rows.len();
    if n == 0 {
        return Vec::new();
    }
    let mut out: Vec<(f64, Value)> = Vec::new();
    for (name, col) in TRAIT_FIELDS {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for r in rows {
            if let Some(t) = cell_text(r.get(*col)) {
                *counts.entry(t).or_default() += 1;
            }
        }
        let mut values: Vec<(String, usize)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for (value, count) in values.into_iter().take(TRAIT_VALUES) {
            let share = count as f64 / n as f64;
            if share >= TRAIT_SHARE {
                let share = (share * 100.0).round() / 100.0;
                out.push((
                    share,
                    json!({"field": name, "value": value, "count": count, "share": share}),
                ));
            }
        }
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.into_iter().map(|(_, v)| v).collect()
}

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let fp = fingerprint_arg(call)?;
    let limit = limit(call.args, 10, 100)?;
    let (mut filter, scope) = scoped_filter(call, None)?;
    let g = find_group(call, &scope, fp)?;
    let users = call
        .platform
        .error_group_users(&scope.restriction(), fp, Some(&g.environment), limit as u32)
        .map_err(platform_error)?;
    filter.narrow_env(&g.environment);
    filter.fingerprint = Some(fp.to_string());
    filter.ts_from = Some(g.first_seen_at.0);
    filter.ts_to = Some(g.last_seen_at.0.saturating_add(1));
    let sample = search(
        &call.catalog.snapshot(),
        &filter,
        SearchOpts::top(TRAIT_SAMPLE, Order::NewestFirst),
    )
    .rows;
    let affected: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({
                "user_id": u.user_id,
                "occurrences": u.occurrence_count,
                "first_seen": fmt_ts(u.first_seen_at.0),
                "last_seen": fmt_ts(u.last_seen_at.0),
                "last_log_id": u.last_seq.0,
                "service": u.service,
            })
        })
        .collect();
    let mut body = json!({
        "environment": g.environment,
        "fingerprint": g.fingerprint,
        "group": group_json(&g),
        "unique_users": g.unique_users,
        "total_occurrences": g.occurrence_count,
        "impact_score": g.impact_score,
        "score_parts": score_parts(&g, now),
        "affected_users_returned": affected.len(),
        "affected_users": affected,
        "common_traits": common_traits(&sample),
        "traits_sample": sample.len(),
    });
    if g.unique_users == 0 {
        body["note"] = json!(
            "no occurrence carried a user_id, so no users are known; the SDK sends user_id when the app sets it"
        );
    }
    let mut out = group_output(call, body, &g);
    if let Some(u) = users.first() {
        out = out.suggest(
            "errors",
            json!({"action": "user_errors", "user_id": u.user_id, "environment": g.environment}),
            "every error the most affected user ran into",
        );
    }
    Ok(out.suggest(
        "errors",
        json!({"action": "investigate", "fingerprint": fp, "environment": g.environment}),
        "stack trace and request of the latest occurrence",
    ))
}
