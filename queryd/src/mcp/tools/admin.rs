//! The `admin` tool (admins only): accounts, invites, audit log and retention. Every change
//! goes through the platform store with the caller as the audit actor.

use serde_json::{Value, json};

use super::{opt_bool, opt_i64, opt_list, opt_str, platform_error};
use crate::mcp::registry::{ActionSpec, Hints, ToolCall, ToolHandler, ToolSpec};
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::platform::invites::parse_duration_secs;
use crate::platform::tokens::TokenId;
use crate::platform::{Role, UserId};

const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        name: "users",
        summary: "list accounts",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "update_role",
        summary: "set user_id's role (admin|member)",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "update_environments",
        summary: "set user_id's environments",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "toggle_active",
        summary: "enable/disable user_id (active, default: flip)",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "delete_user",
        summary: "delete user_id and its tokens",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "tokens",
        summary: "list user_id's tokens (metadata only)",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "revoke_token",
        summary: "revoke token_id of user_id",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "audit",
        summary: "audit log, newest first (limit, cursor)",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "invite",
        summary: "create a single-use invite (role, environments, expires)",
        min_role: Role::Admin,
    },
    ActionSpec {
        name: "update_retention",
        summary: "set retention_days (1-3650, null = keep all)",
        min_role: Role::Admin,
    },
];

/// The `admin` tool.
pub struct AdminTool;

fn spec() -> &'static ToolSpec {
    static SPEC: std::sync::OnceLock<ToolSpec> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| ToolSpec {
        name: "admin",
        description: "Manage OpenTrace accounts, invites, audit log and retention.",
        actions: ACTIONS,
        params: json!({
            "user_id": {"type": "integer"},
            "token_id": {"type": "integer"},
            "role": {"type": "string", "enum": ["admin", "member"]},
            "environments": {"type": "array", "items": {"type": "string"}},
            "active": {"type": "boolean"},
            "expires": {"type": "string", "description": "e.g. 7d, 12h"},
            "retention_days": {"type": ["integer", "null"]},
            "limit": {"type": "integer"},
            "cursor": {"type": "string"}
        }),
        hints: Hints {
            read_only: false,
            destructive: true,
            idempotent: false,
        },
    })
}

fn user_id(call: &ToolCall<'_>) -> Result<UserId, ToolError> {
    opt_i64(call.args, "user_id")?.map(UserId).ok_or_else(|| {
        ToolError::InvalidArguments(String::from(
            "missing `user_id`: get ids from action `users`",
        ))
    })
}

fn role_arg(call: &ToolCall<'_>, default: Option<Role>) -> Result<Role, ToolError> {
    match opt_str(call.args, "role")? {
        Some(r) => Role::parse(r.trim()).ok_or_else(|| {
            ToolError::InvalidArguments(format!("`role` {r:?} is invalid: use admin or member"))
        }),
        None => default.ok_or_else(|| {
            ToolError::InvalidArguments(String::from("missing `role`: admin or member"))
        }),
    }
}

fn user_json(u: &crate::platform::users::User) -> Value {
    json!({
        "id": u.id, "email": u.email, "role": u.role, "environments": u.environments,
        "active": u.active, "created_at": u.created_at.to_rfc3339()
    })
}

impl ToolHandler for AdminTool {
    fn spec(&self) -> &ToolSpec {
        spec()
    }

    fn call(&self, call: &ToolCall<'_>) -> ToolResult {
        let p = call.platform;
        let actor = call.caller.actor();
        match call.action {
            "users" => {
                let users = p.list_users().map_err(platform_error)?;
                let list: Vec<Value> = users.iter().map(user_json).collect();
                Ok(ToolOutput::new(json!({"total": list.len(), "users": list})))
            }
            "update_role" => {
                let id = user_id(call)?;
                let role = role_arg(call, None)?;
                let u = p.update_role(id, role, &actor).map_err(platform_error)?;
                Ok(ToolOutput::new(json!({"updated": user_json(&u)})).suggest(
                    "admin",
                    json!({"action": "users"}),
                    "review all accounts",
                ))
            }
            "update_environments" => {
                let id = user_id(call)?;
                let envs = opt_list(call.args, "environments")?.ok_or_else(|| {
                    ToolError::InvalidArguments(String::from(
                        "missing `environments`: a list such as [\"production\"]",
                    ))
                })?;
                let u = p
                    .set_environments(id, &envs, &actor)
                    .map_err(platform_error)?;
                Ok(ToolOutput::new(json!({"updated": user_json(&u)})))
            }
            "toggle_active" => {
                let id = user_id(call)?;
                if id == call.caller.user_id {
                    return Err(ToolError::Forbidden(String::from(
                        "you cannot disable your own account; ask another admin",
                    )));
                }
                let active = match opt_bool(call.args, "active")? {
                    Some(a) => a,
                    None => {
                        !p.user(id)
                            .map_err(platform_error)?
                            .ok_or_else(|| {
                                ToolError::NotFound(String::from(
                                    "user not found; get ids from action `users`",
                                ))
                            })?
                            .active
                    }
                };
                let u = p.set_active(id, active, &actor).map_err(platform_error)?;
                Ok(ToolOutput::new(json!({"updated": user_json(&u)})))
            }
            "delete_user" => {
                let id = user_id(call)?;
                if id == call.caller.user_id {
                    return Err(ToolError::Forbidden(String::from(
                        "you cannot delete your own account; ask another admin",
                    )));
                }
                let u = p.delete_user(id, &actor).map_err(platform_error)?;
                Ok(ToolOutput::new(json!({"deleted": user_json(&u)})))
            }
            "tokens" => {
                let id = user_id(call)?;
                let tokens = p.list_tokens(id).map_err(platform_error)?;
                Ok(ToolOutput::new(json!({"user_id": id, "tokens": tokens})))
            }
            "revoke_token" => {
                let id = user_id(call)?;
                let token = opt_i64(call.args, "token_id")?.ok_or_else(|| {
                    ToolError::InvalidArguments(String::from(
                        "missing `token_id`: get ids from action `tokens`",
                    ))
                })?;
                p.revoke_token(id, TokenId(token), &actor)
                    .map_err(platform_error)?;
                Ok(ToolOutput::new(json!({"revoked": token, "user_id": id})))
            }
            "audit" => {
                let limit = opt_i64(call.args, "limit")?.unwrap_or(50).clamp(1, 200) as u32;
                let cursor = match opt_str(call.args, "cursor")? {
                    Some(c) => Some(c.trim().parse::<i64>().map_err(|_| {
                        ToolError::InvalidArguments(String::from(
                            "`cursor` is invalid: pass the next_cursor of the previous page",
                        ))
                    })?),
                    None => None,
                };
                let page = p.audit_page(limit, cursor).map_err(platform_error)?;
                let mut out = ToolOutput::new(json!({
                    "returned": page.entries.len(), "entries": page.entries, "next_cursor": page.next_cursor
                }));
                if let Some(c) = page.next_cursor {
                    out = out.suggest(
                        "admin",
                        json!({"action": "audit", "limit": limit, "cursor": c}),
                        "older entries",
                    );
                }
                Ok(out)
            }
            "invite" => {
                let role = role_arg(call, Some(Role::Member))?;
                let envs = opt_list(call.args, "environments")?.unwrap_or_default();
                let expires = opt_str(call.args, "expires")?.unwrap_or("7d");
                let secs = parse_duration_secs(expires).map_err(platform_error)?;
                let inv = p
                    .create_invite(role, &envs, secs, &actor)
                    .map_err(platform_error)?;
                let command = format!(
                    "curl -s '{}/connect?invite={}' | bash",
                    call.public_url, inv.code
                );
                Ok(ToolOutput::new(json!({
                    "code": inv.code, "role": inv.role, "environments": inv.environments,
                    "expires_at": inv.expires_at, "connect_command": command,
                    "note": "single use; the code is shown only now"
                })))
            }
            "update_retention" => {
                let value = match call.args.get("retention_days") {
                    None => {
                        return Err(ToolError::InvalidArguments(String::from(
                            "missing `retention_days`: an integer from 1 to 3650, or null to keep everything",
                        )));
                    }
                    Some(Value::Null) => Value::Null,
                    Some(_) => json!(opt_i64(call.args, "retention_days")?),
                };
                let doc = p
                    .set_setting("retention_days", value, &actor)
                    .map_err(platform_error)?;
                Ok(ToolOutput::new(
                    json!({"retention_days": doc.get("retention_days"), "applied": "settings.json updated; ingestd applies it within seconds"}),
                ))
            }
            other => Err(ToolError::InvalidArguments(format!(
                "unknown action {other:?}"
            ))),
        }
    }
}
