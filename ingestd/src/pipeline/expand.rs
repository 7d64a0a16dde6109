//! Expansion of in-request logs (`body.logs[]`) into child rows.
//!
//! Ruby sends the log, error and event calls made inside a request as
//! `body.logs: [{level, message, metadata, at?}]` on the request row, including the request's
//! own exception. Each item becomes a row of its own so that it is searchable and its errors
//! are grouped:
//!
//! - `ts` = parent `ts` + `at` (milliseconds, fractional allowed; `offset_ms` is read too),
//!   else an item `ts`/`timestamp`, else the parent's `ts`;
//! - `level` case-insensitive (`ERROR` → error); missing or unknown → `info` with a warning;
//! - `message`; when missing, the metadata's `exception_class: exception_message`;
//! - `event_type = "in_request_log"`, `kind = "log"`;
//! - inherited from the parent: service, env, version, host, trace_id, span_id, request_id,
//!   user_id, tenant_id, session_id, received_at;
//! - `body = {"context": metadata}`; the normal pipeline then promotes
//!   `metadata.exception_class`/`exception_message`/`backtrace` into `error_class`,
//!   `error_message`, `source_file`/`source_line` and fingerprints the child.
//!
//! The parent keeps its `body.logs` unchanged. Caps: 1000 children per parent and 10 000
//! per request; items past a cap are not expanded (they stay in the parent's body) and a
//! warning says how many.

use opentrace_shared::{Level, Row};
use serde_json::{Map, Value};

use crate::wire::{Body, timestamp};

/// Children per parent row.
pub const MAX_PER_PARENT: usize = 1000;
/// Children per request.
pub const MAX_PER_BATCH: usize = 10_000;

/// A child row and its body, not yet through the rest of the pipeline.
pub type Child = (Row, Body<'static>);

/// Expands the parent's `body.logs`; `budget` is what is left of the per-request cap.
pub fn children(
    parent: &Row,
    body: &mut Body<'_>,
    budget: &mut usize,
    warnings: &mut Vec<String>,
) -> Vec<Child> {
    if !body.raw_contains("\"logs\"") {
        return Vec::new();
    }
    let Some(Value::Array(items)) = body.value_mut().and_then(|v| v.get("logs")) else {
        return Vec::new();
    };
    let allowed = items.len().min(MAX_PER_PARENT).min(*budget);
    if allowed < items.len() {
        warnings.push(format!(
            "{} in-request log(s) beyond the expansion cap were kept only in the parent's body",
            items.len() - allowed
        ));
    }
    let mut out = Vec::with_capacity(allowed);
    for (i, item) in items.iter().take(allowed).enumerate() {
        let Some(obj) = item.as_object() else {
            warnings.push(format!("body.logs[{i}] is not an object; not expanded"));
            continue;
        };
        out.push(child(parent, obj, i, warnings));
    }
    *budget -= out.len();
    out
}

fn child(parent: &Row, item: &Map<String, Value>, i: usize, warnings: &mut Vec<String>) -> Child {
    let meta = item.get("metadata").filter(|m| !m.is_null()).cloned();
    let level = match item
        .get("level")
        .and_then(Value::as_str)
        .map(str::parse::<Level>)
    {
        Some(Ok(l)) => l,
        other => {
            warnings.push(format!(
                "body.logs[{i}]: {}; stored as info",
                match other {
                    Some(Err(e)) => e.to_string(),
                    _ => "no level".to_string(),
                }
            ));
            Level::Info
        }
    };
    let meta_str = |k: &str| meta.as_ref().and_then(|m| m.get(k)).and_then(Value::as_str);
    let message = match item.get("message").and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => match (meta_str("exception_class"), meta_str("exception_message")) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.to_string(),
            (None, Some(m)) => m.to_string(),
            (None, None) => String::new(),
        },
    };
    let offset_ms = item
        .get("at")
        .or_else(|| item.get("offset_ms"))
        .and_then(Value::as_f64);
    let ts = match offset_ms {
        Some(ms) => parent
            .ts
            .saturating_add(crate::wire::lenient::round_to_int(ms * 1000.0)),
        None => item
            .get("ts")
            .or_else(|| item.get("timestamp"))
            .and_then(Value::as_str)
            .and_then(timestamp::parse)
            .unwrap_or(parent.ts),
    };
    let row = Row {
        ts,
        received_at: parent.received_at,
        level,
        service: parent.service.clone(),
        message,
        env: parent.env.clone(),
        version: parent.version.clone(),
        host: parent.host.clone(),
        kind: "log".to_string(),
        event_type: Some("in_request_log".to_string()),
        trace_id: parent.trace_id.clone(),
        span_id: parent.span_id.clone(),
        request_id: parent.request_id.clone(),
        user_id: parent.user_id.clone(),
        tenant_id: parent.tenant_id.clone(),
        session_id: parent.session_id.clone(),
        ..Row::default()
    };
    let body = match meta {
        Some(m) => {
            let mut b = Map::new();
            b.insert("context".to_string(), m);
            Body::Parsed(Value::Object(b))
        }
        None => Body::None,
    };
    (row, body)
}
