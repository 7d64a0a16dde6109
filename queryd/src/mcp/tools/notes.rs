//! Agent notes brought back into later responses: any tool that mentions a service, an
//! error fingerprint, a deploy or an endpoint attaches the notes written on those entities
//! (field `notes`, omitted when there are none), so what an agent learned once is seen again.

use serde_json::{Value, json};

use super::logs::rows::cut;
use crate::mcp::registry::ToolCall;
use crate::platform::Platform;

/// Entity types a note can be attached to.
pub const ENTITY_TYPES: &[&str] = &["query", "endpoint", "service", "error", "deploy"];

/// Most notes attached to one response.
const MAX_RELATED: usize = 10;

/// Most characters of a note shown when it is re-surfaced.
const NOTE_CHARS: usize = 500;

/// Most entities looked up for one response.
const MAX_LOOKUPS: usize = 40;

/// The id a deploy note is stored under: `service@version`.
pub fn deploy_entity_id(service: &str, version: &str) -> String {
    format!("{service}@{version}")
}

/// The notes on `entities` (`(entity_type, entity_id)` pairs, duplicates ignored), in the
/// order given, at most ten, texts cut to 500 characters. A store error is logged and
/// yields what was read so far: notes never fail the response they decorate.
pub fn related_notes(platform: &Platform, entities: &[(&str, &str)]) -> Vec<Value> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    let mut out = Vec::new();
    for &(ty, id) in entities {
        if out.len() >= MAX_RELATED || seen.len() >= MAX_LOOKUPS {
            break;
        }
        if id.is_empty() || seen.contains(&(ty, id)) {
            continue;
        }
        seen.push((ty, id));
        match platform.note(ty, id) {
            Ok(Some(n)) => out.push(json!({
                "entity_type": n.entity_type,
                "entity_id": n.entity_id,
                "note": cut(&n.note, NOTE_CHARS).0,
                "updated_at": n.updated_at,
            })),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading notes failed");
                break;
            }
        }
    }
    out
}

/// Inserts `notes` into a response body when there are any.
pub fn attach(body: &mut Value, notes: Vec<Value>) {
    if !notes.is_empty() {
        body["notes"] = json!(notes);
    }
}

/// Attaches the notes on `service` (when given) and on what `mentioned` (JSON objects such
/// as groups, deploys or triage ids) names: its `service`, its `fingerprint` (an error) and
/// its `service` + `version` (a deploy).
pub fn attach_mentioned(
    call: &ToolCall<'_>,
    body: &mut Value,
    service: Option<&str>,
    mentioned: &[Value],
) {
    let mut owned: Vec<(&str, String)> = Vec::new();
    if let Some(s) = service {
        owned.push(("service", s.to_string()));
    }
    for m in mentioned {
        let text = |k: &str| m.get(k).and_then(Value::as_str);
        if let Some(s) = text("service") {
            owned.push(("service", s.to_string()));
            if let Some(v) = text("version") {
                owned.push(("deploy", deploy_entity_id(s, v)));
            }
        }
        if let Some(fp) = text("fingerprint") {
            owned.push(("error", fp.to_string()));
        }
    }
    let entities: Vec<(&str, &str)> = owned.iter().map(|(t, id)| (*t, id.as_str())).collect();
    attach(body, related_notes(call.platform, &entities));
}
