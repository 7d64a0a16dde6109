//! `overview notes` and `overview delete_note`: one note per entity (`query`, `endpoint`,
//! `service`, `error` = fingerprint, `deploy` = `service@version`). With `note`: save it
//! (create or replace); with `entity_type` + `entity_id`: read it; otherwise list the newest
//! notes (optionally of one type). Saved notes come back in later overview responses that
//! mention the entity.
//!
//! Notes on services, error groups and deploys follow environment scoping: a caller limited
//! to some environments reads, writes and deletes them only for entities present there
//! (a service with rows, a group or a deploy in those environments). Notes on queries and
//! endpoints are not tied to an environment.

use serde_json::{Value, json};

use crate::mcp::args::limit;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::notes::ENTITY_TYPES;
use crate::mcp::tools::opt_str;
use crate::mcp::tools::platform_error;
use crate::platform::deploys::DeployQuery;
use crate::platform::notes::Note;
use crate::query::{Filter, newest};

/// Longest note accepted, in characters.
const MAX_NOTE_CHARS: usize = 4_000;

/// The entity named by the call, validated.
fn entity<'a>(call: &'a ToolCall<'_>) -> Result<(Option<&'a str>, Option<&'a str>), ToolError> {
    let ty = opt_str(call.args, "entity_type")?
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(t) = ty
        && !ENTITY_TYPES.contains(&t)
    {
        return Err(ToolError::InvalidArguments(format!(
            "`entity_type` {t:?} is invalid: use one of {}",
            ENTITY_TYPES.join(", ")
        )));
    }
    let id = opt_str(call.args, "entity_id")?
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if id.is_some() && ty.is_none() {
        return Err(ToolError::InvalidArguments(format!(
            "`entity_id` needs `entity_type` ({})",
            ENTITY_TYPES.join(", ")
        )));
    }
    Ok((ty, id))
}

/// Whether the entity exists within the caller's scope (always for an unrestricted scope
/// and for queries and endpoints).
fn visible(call: &ToolCall<'_>, scope: &EnvScope, ty: &str, id: &str) -> Result<bool, ToolError> {
    if scope.environments().is_none() {
        return Ok(true);
    }
    let r = scope.restriction();
    let p = call.platform;
    Ok(match ty {
        "error" => p
            .get_error_group(&r, id, None)
            .map_err(platform_error)?
            .is_some(),
        "deploy" => match id.rsplit_once('@') {
            Some((svc, ver)) => p
                .list_deploys(
                    &r,
                    &DeployQuery {
                        service: Some(svc.to_string()),
                        limit: 200,
                        ..DeployQuery::default()
                    },
                )
                .map_err(platform_error)?
                .iter()
                .any(|d| d.version == ver),
            None => false,
        },
        "service" => {
            let in_store = !p
                .last_deploys(&r, Some(id))
                .map_err(platform_error)?
                .is_empty()
                || {
                    let c = p.error_group_counts(&r, Some(id)).map_err(platform_error)?;
                    c.unresolved + c.resolved + c.ignored > 0
                };
            in_store || {
                let mut f = Filter::new(r);
                f.service = Some(id.to_string());
                newest(&call.catalog.snapshot(), &f).is_some()
            }
        }
        _ => true,
    })
}

fn not_visible(ty: &str, id: &str, scope: &EnvScope) -> ToolError {
    ToolError::NotFound(format!(
        "no {ty} {id:?} in your environments ({}); list notes with action notes and no arguments",
        scope.describe()
    ))
}

fn note_json(n: &Note) -> Value {
    json!({"entity_type": n.entity_type, "entity_id": n.entity_id, "note": n.note, "updated_at": n.updated_at})
}

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let (ty, id) = entity(call)?;
    let scope = EnvScope::for_call(call)?;
    let text = opt_str(call.args, "note")?;
    match (text, ty, id) {
        (Some(text), Some(ty), Some(id)) => {
            let text = text.trim();
            if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
                return Err(ToolError::InvalidArguments(format!(
                    "`note` must be 1 to {MAX_NOTE_CHARS} characters; to remove a note use action delete_note"
                )));
            }
            if !visible(call, &scope, ty, id)? {
                return Err(not_visible(ty, id, &scope));
            }
            let n = call
                .platform
                .upsert_note(ty, id, text, Some(call.caller.user_id))
                .map_err(platform_error)?;
            Ok(ToolOutput::new(json!({
                "saved": note_json(&n),
                "note": "shown again in overview responses that mention this entity",
            })))
        }
        (Some(_), _, _) => Err(ToolError::InvalidArguments(format!(
            "saving a note needs `entity_type` ({}) and `entity_id`",
            ENTITY_TYPES.join(", ")
        ))),
        (None, Some(ty), Some(id)) => {
            let found = if visible(call, &scope, ty, id)? {
                call.platform.note(ty, id).map_err(platform_error)?
            } else {
                None
            };
            let n = found.ok_or_else(|| {
                ToolError::NotFound(format!(
                    "no note on {ty} {id:?}; save one with `note`, or list notes without entity_id"
                ))
            })?;
            Ok(ToolOutput::new(json!({"note": note_json(&n)})))
        }
        (None, ty, _) => {
            let limit = limit(call.args, 50, 200)?;
            let all = call.platform.list_notes(ty, 200).map_err(platform_error)?;
            let mut notes = Vec::new();
            for n in &all {
                if notes.len() >= limit {
                    break;
                }
                if visible(call, &scope, &n.entity_type, &n.entity_id)? {
                    notes.push(note_json(n));
                }
            }
            let mut body = json!({"returned": notes.len(), "notes": notes});
            if let Some(t) = ty {
                body["entity_type"] = json!(t);
            }
            Ok(ToolOutput::new(body))
        }
    }
}

pub(super) fn delete(call: &ToolCall<'_>) -> ToolResult {
    let (ty, id) = entity(call)?;
    let (Some(ty), Some(id)) = (ty, id) else {
        return Err(ToolError::InvalidArguments(format!(
            "delete_note needs `entity_type` ({}) and `entity_id`",
            ENTITY_TYPES.join(", ")
        )));
    };
    let scope = EnvScope::for_call(call)?;
    if !visible(call, &scope, ty, id)? {
        return Err(not_visible(ty, id, &scope));
    }
    let existed = call.platform.delete_note(ty, id).map_err(platform_error)?;
    if !existed {
        return Err(ToolError::NotFound(format!(
            "no note on {ty} {id:?}; list notes with action notes"
        )));
    }
    Ok(ToolOutput::new(
        json!({"deleted": {"entity_type": ty, "entity_id": id}}),
    ))
}
