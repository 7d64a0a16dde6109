//! `overview changes`: what changed in the window (default the last 2 h; `since:
//! "last_deploy"` starts at the newest deploy, of `service` when given): the error rate in
//! the window against the equal window just before it (`change_pct`), the error groups first
//! seen in the window, and the newest error rows.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::measure::{Counts, RATE_BASIS, counts, recent_errors, window_groups};
use super::{attach_mentioned, scoped_filter, service_arg, window};
use crate::mcp::args::fmt_ts;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::tools::groups::group_json;
use crate::mcp::tools::platform_error;
use crate::platform::UnixMicros;
use crate::platform::errors::{GroupQuery, GroupSort};

/// New groups listed.
const NEW_GROUPS: u32 = 20;

/// `(now / before − 1) × 100` with one decimal, `None` when `before` is 0.
fn change_pct(now: f64, before: f64) -> Option<f64> {
    (before > 0.0).then(|| ((now / before - 1.0) * 1000.0).round() / 10.0)
}

fn verdict(cur: &Counts, prev: &Counts) -> String {
    match change_pct(cur.rate(), prev.rate()) {
        None if cur.errors == 0 => String::from("no errors in either window"),
        None => String::from("errors appeared: none in the window before"),
        Some(p) if p >= 25.0 => format!("error rate up {p}%"),
        Some(p) if p <= -25.0 => format!("error rate down {}%", -p),
        Some(p) => format!("error rate about the same ({p:+}%)"),
    }
}

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = window(call, "2h", now)?;
    let service = service_arg(call)?;
    let (filter, scope) = scoped_filter(call, &window, service)?;
    let snap = call.catalog.snapshot();
    let before_from = window.from_us.saturating_sub(window.len_us());
    let mut before_f = filter.clone();
    before_f.ts_from = Some(before_from);
    before_f.ts_to = Some(window.from_us);
    let cur = counts(&snap, &filter);
    let prev = counts(&snap, &before_f);

    let page = call
        .platform
        .list_error_groups(
            &scope.restriction(),
            &GroupQuery {
                service: service.map(str::to_string),
                first_seen_since: Some(UnixMicros(window.from_us)),
                sort: GroupSort::FirstSeen,
                limit: NEW_GROUPS,
                ..GroupQuery::default()
            },
        )
        .map_err(platform_error)?;
    let in_window: HashMap<(String, String), Value> = window_groups(&snap, &filter, 0)
        .into_iter()
        .map(|g| ((g.fingerprint.clone(), g.environment.clone()), g.json()))
        .collect();
    let new_groups: Vec<Value> = page
        .groups
        .iter()
        .filter(|g| g.first_seen_at.0 < window.to_us)
        .map(|g| {
            let mut v = group_json(g);
            if let Some(w) = in_window.get(&(g.fingerprint.clone(), g.environment.clone())) {
                v["in_window"] = w.clone();
            }
            v
        })
        .collect();
    let (recent, cut_note) = recent_errors(&snap, &filter, 10);

    let mut previous = prev.json();
    previous["from"] = json!(fmt_ts(before_from));
    previous["to"] = json!(fmt_ts(window.from_us));
    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "error_rate": {
            "basis": RATE_BASIS,
            "current": cur.json(),
            "previous": previous,
            "change_pct": change_pct(cur.rate(), prev.rate()),
            "errors_change_pct": change_pct(cur.errors as f64, prev.errors as f64),
            "verdict": verdict(&cur, &prev),
        },
        "new_error_groups_total": page.total,
        "new_error_groups": new_groups,
        "recent_errors": recent,
    });
    if let Some(s) = service {
        body["service"] = json!(s);
    }
    if let Some(n) = cut_note {
        body["messages_note"] = n;
    }
    let mut mentioned = new_groups.clone();
    mentioned.extend(window.deploy.clone());
    attach_mentioned(call, &mut body, service, &mentioned);
    let mut out = ToolOutput::new(body);
    if let Some(g) = new_groups.first() {
        out = out.suggest(
            "logs",
            json!({"action": "search", "error_fingerprint": g["fingerprint"], "since": window.since}),
            "the rows of the newest error group",
        );
    }
    let mut timeline = json!({"action": "timeline", "since": window.since});
    if let Some(s) = service {
        timeline["service"] = json!(s);
    }
    out = out.suggest(
        "overview",
        timeline,
        "the same window in time order, with the probable root cause",
    );
    Ok(out)
}
