//! `overview status`: the state of the caller's environments at a glance: rows and errors
//! in the window (default the last hour), error groups by status, the services seen, the
//! last deploy of each service, and whether the derived state (error groups, deploys) is
//! up to date with the log store.

use opentrace_shared::Col;
use serde_json::{Value, json};

use super::measure::{RATE_BASIS, counts};
use super::{scoped_filter, service_arg, window};
use crate::catalog::Snapshot;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::tools::groups::deploy_json;
use crate::mcp::tools::logs::rows::counts_by;
use crate::mcp::tools::platform_error;

/// Services and deploys listed.
const LIST: usize = 20;

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = window(call, "1h", now)?;
    let service = service_arg(call)?;
    let (filter, scope) = scoped_filter(call, &window, service)?;
    let restriction = scope.restriction();
    let snap = call.catalog.snapshot();
    let c = counts(&snap, &filter);
    let (_, services) = counts_by(&snap, &filter, Col::Service, LIST);
    let groups = call
        .platform
        .error_group_counts(&restriction, service)
        .map_err(platform_error)?;
    let mut deploys = call
        .platform
        .last_deploys(&restriction, service)
        .map_err(platform_error)?;
    let deploys_total = deploys.len();
    deploys.truncate(LIST);
    let deploys: Vec<Value> = deploys.iter().map(deploy_json).collect();
    let cursor = call.platform.follower_cursor().map_err(platform_error)?;
    let derived = derived_state(&snap, cursor.map(|s| s.0), call.caller.is_admin());

    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "logs": c.json(),
        "rate_basis": RATE_BASIS,
        "error_groups": groups,
        "services": services,
        "last_deploys": deploys,
        "derived_state": derived,
    });
    if let Some(s) = service {
        body["service"] = json!(s);
    }
    if deploys_total > LIST {
        body["last_deploys_note"] = json!(format!(
            "{LIST} of {deploys_total} services shown, newest deploy first"
        ));
    }
    let mut out = ToolOutput::new(body).suggest(
        "overview",
        json!({"action": "triage"}),
        "what needs attention now, ranked",
    );
    if groups.unresolved > 0 {
        out = out.suggest(
            "logs",
            json!({"action": "search", "min_level": "error", "since": window.since}),
            "the newest error rows",
        );
    }
    Ok(out)
}

/// Whether the follower has applied every row the store holds. Admins see the row lag;
/// members only whether it is caught up (the lag counts rows of every environment).
fn derived_state(snap: &Snapshot, cursor: Option<u64>, admin: bool) -> Value {
    let newest = newest_seq(snap);
    let lag = newest.map(|n| n.saturating_sub(cursor.unwrap_or(0)));
    let state = match lag {
        None | Some(0) => "up to date",
        Some(_) => "catching up (error groups and deploys may miss the newest rows)",
    };
    if admin {
        json!({"state": state, "follower_lag_rows": lag.unwrap_or(0)})
    } else {
        json!({"state": state})
    }
}

/// The highest row sequence number the snapshot holds (chunk zone maps and WAL views).
fn newest_seq(snap: &Snapshot) -> Option<u64> {
    let mut best: Option<u64> = None;
    for h in snap.hours() {
        let chunks = h
            .chunks
            .iter()
            .filter_map(|c| c.zone().seq.map(|m| m.max.0));
        let wals = h
            .wals
            .iter()
            .filter_map(|w| w.seq_range().map(|(_, hi)| hi.0));
        for s in chunks.chain(wals) {
            best = Some(best.map_or(s, |b| b.max(s)));
        }
    }
    best
}
