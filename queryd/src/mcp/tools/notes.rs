//! Agent notes brought back into later responses: any tool that mentions a service, an
//! error fingerprint, a deploy or an endpoint attaches the notes written on those entities
//! (field `notes`, omitted when there are none), so what an agent learned once is seen again.

use serde_json::{Value, json};

use super::logs::rows::cut;
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
