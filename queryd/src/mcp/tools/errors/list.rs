//! `errors list`, `errors ranking` and `errors new`: pages of error groups from the platform
//! store under the caller's scope. They differ only in defaults and in what they add:
//! list shows counts by status, ranking the parts of each group's impact score, new the
//! groups first seen in the window.

use serde_json::{Value, json};

use super::{opt_arg, score_parts, sort_arg, status_arg};
use crate::mcp::args::{Window, limit};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::groups::group_json;
use crate::mcp::tools::notes::attach_mentioned;
use crate::mcp::tools::platform_error;
use crate::platform::UnixMicros;
use crate::platform::errors::{GroupPage, GroupQuery, GroupSort, GroupStatus, parse_cursor};

/// Groups of `new`, at most.
const NEW_MAX: usize = 20;

/// How one action reads its page.
struct Defaults {
    status: Option<GroupStatus>,
    sort: GroupSort,
    /// Select by first sight in the window (`new`) rather than by last sight.
    by_first_seen: bool,
    max: usize,
}

const LIST: Defaults = Defaults {
    status: Some(GroupStatus::Unresolved),
    sort: GroupSort::LastSeen,
    by_first_seen: false,
    max: 100,
};

const RANKING: Defaults = Defaults {
    sort: GroupSort::Impact,
    ..LIST
};

const NEW: Defaults = Defaults {
    status: None,
    sort: GroupSort::FirstSeen,
    by_first_seen: true,
    max: NEW_MAX,
};

/// One page with what produced it.
struct Page {
    scope: EnvScope,
    window: Window,
    query: GroupQuery,
    page: GroupPage,
}

fn sort_name(s: GroupSort) -> &'static str {
    match s {
        GroupSort::LastSeen => "last_seen",
        GroupSort::Count => "occurrences",
        GroupSort::Impact => "impact",
        GroupSort::FirstSeen => "first_seen",
        GroupSort::UniqueUsers => "unique_users",
    }
}

fn read_page(
    call: &ToolCall<'_>,
    now: i64,
    d: &Defaults,
) -> Result<Page, crate::mcp::response::ToolError> {
    let window = Window::for_call(call, "24h", now)?;
    let scope = EnvScope::for_call(call)?;
    let since = Some(UnixMicros(window.from_us));
    let query = GroupQuery {
        status: status_arg(call, d.status)?,
        service: opt_arg(call, "service")?.map(str::to_string),
        since: (!d.by_first_seen).then_some(since).flatten(),
        first_seen_since: d.by_first_seen.then_some(since).flatten(),
        sort: sort_arg(call, d.sort)?,
        limit: limit(call.args, 20.min(d.max), d.max)? as u32,
        cursor: opt_arg(call, "cursor")?.map(str::to_string),
    };
    let page = call
        .platform
        .list_error_groups(&scope.restriction(), &query)
        .map_err(platform_error)?;
    Ok(Page {
        scope,
        window,
        query,
        page,
    })
}

impl Page {
    /// The fields every action returns.
    fn body(&self, groups: Vec<Value>) -> Value {
        json!({
            "environment": self.scope.describe(),
            "window": self.window.echo(),
            "filters": {
                "status": self.query.status.map_or("all", GroupStatus::as_str),
                "service": self.query.service,
                "sort_by": sort_name(self.query.sort),
            },
            "matched": self.page.total,
            "returned": groups.len(),
            "groups": groups,
            "next_cursor": self.page.next_cursor,
        })
    }

    /// Output with the notes on the listed groups and the obvious next calls for the first.
    fn output(&self, call: &ToolCall<'_>, mut body: Value, empty_hint: &str) -> ToolOutput {
        if self.page.groups.is_empty() {
            body["hint"] = json!(empty_hint);
        }
        let listed = body["groups"].as_array().cloned().unwrap_or_default();
        attach_mentioned(call, &mut body, self.query.service.as_deref(), &listed);
        let mut out = ToolOutput::new(body);
        if let Some(g) = self.page.groups.first() {
            out = out
                .suggest(
                    "errors",
                    json!({"action": "investigate", "fingerprint": g.fingerprint, "environment": g.environment}),
                    format!("stack trace and request of the latest {} occurrence", g.exception_class),
                )
                .suggest(
                    "errors",
                    json!({"action": "impact", "fingerprint": g.fingerprint, "environment": g.environment}),
                    "which users it hits",
                );
        }
        out
    }
}

const EMPTY_HINT: &str =
    "no group matches: widen the window (since=7d), pass status=all, or drop the service filter";

/// `errors list`.
pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let p = read_page(call, now, &LIST)?;
    let counts = call
        .platform
        .error_group_counts(&p.scope.restriction(), p.query.service.as_deref())
        .map_err(platform_error)?;
    let mut body = p.body(p.page.groups.iter().map(group_json).collect());
    body["total_unresolved"] = json!(counts.unresolved);
    body["counts_by_status"] = json!({
        "unresolved": counts.unresolved,
        "resolved": counts.resolved,
        "ignored": counts.ignored,
        "note": "all groups in your environments, whatever the window",
    });
    Ok(p.output(call, body, EMPTY_HINT))
}

/// `errors ranking`: like list, sorted by impact by default, with rank and score parts.
pub(super) fn ranking(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let p = read_page(call, now, &RANKING)?;
    let offset = parse_cursor(p.query.cursor.as_deref()).unwrap_or(0).max(0) as usize;
    let groups: Vec<Value> = p
        .page
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut v = group_json(g);
            v["rank"] = json!(offset + i + 1);
            v["score_parts"] = score_parts(g, now);
            v
        })
        .collect();
    let mut body = p.body(groups);
    body["formula"] = json!(
        "impact_score = unique_users × log2(occurrences + 1) × recency (1.0 seen < 1h ago, 0.8 < 24h, 0.5 < 7d, else 0.2)"
    );
    Ok(p.output(call, body, EMPTY_HINT))
}

/// `errors new`: groups first seen in the window, newest first.
pub(super) fn new_groups(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let p = read_page(call, now, &NEW)?;
    let body = p.body(p.page.groups.iter().map(group_json).collect());
    Ok(p.output(
        call,
        body,
        "no error group was first seen in the window: widen it (since=7d) or drop the service filter",
    ))
}
