//! How error groups and deploys are shown to agents, shared by the `errors` and `overview`
//! tools so a group looks the same wherever it appears: RFC 3339 UTC times, the last
//! occurrence as a `log_id`, and the current impact score.

use serde_json::{Value, json};

use crate::mcp::args::fmt_ts;
use crate::platform::deploys::Deploy;
use crate::platform::errors::ErrorGroup;

/// Longest group message shown in lists, in characters.
const MESSAGE_CHARS: usize = 300;

/// The agent-facing JSON of one error group.
pub fn group_json(g: &ErrorGroup) -> Value {
    let message: String = g.message.chars().take(MESSAGE_CHARS).collect();
    let mut v = json!({
        "fingerprint": g.fingerprint,
        "environment": g.environment,
        "service": g.service,
        "error_class": g.exception_class,
        "message": message,
        "status": g.status.as_str(),
        "occurrences": g.occurrence_count,
        "unique_users": g.unique_users,
        "impact_score": g.impact_score,
        "first_seen": fmt_ts(g.first_seen_at.0),
        "last_seen": fmt_ts(g.last_seen_at.0),
    });
    if let Some(f) = &g.source_file {
        v["source"] = match g.source_line {
            Some(l) => json!(format!("{f}:{l}")),
            None => json!(f),
        };
    }
    if let Some(s) = g.last_seq {
        v["last_log_id"] = json!(s.0);
    }
    if g.reopened_count > 0 {
        v["reopened_count"] = json!(g.reopened_count);
    }
    if let Some(t) = g.resolved_at {
        v["resolved_at"] = json!(fmt_ts(t.0));
    }
    if let Some(t) = g.ignored_at {
        v["ignored_at"] = json!(fmt_ts(t.0));
    }
    v
}

/// The agent-facing JSON of one deploy.
pub fn deploy_json(d: &Deploy) -> Value {
    json!({
        "service": d.service,
        "environment": d.environment,
        "version": d.version,
        "at": fmt_ts(d.first_seen_at.0),
    })
}
