//! Invites: single-use, expiring codes that let a new account join with a preset role and
//! environments. Only the SHA-256 of a code is stored. Redemption is one conditional UPDATE
//! (`used_at IS NULL AND expires_at > now`), so two concurrent redemptions cannot both win.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde_json::json;

use super::audit::{Actor, record};
use super::tokens::{hash_secret, random_secret};
use super::types::normalize_envs;
use super::users::{User, insert_user, normalize_email};
use super::{Platform, PlatformError, Result, Role, UnixMicros};

/// Prefix of invite codes.
pub const INVITE_PREFIX: &str = "oti_";

/// A created invite; `code` is the plaintext, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedInvite {
    /// The code to hand to the new user.
    pub code: String,
    /// Role the new account gets.
    pub role: Role,
    /// Environments the new account gets.
    pub environments: Vec<String>,
    /// Expiry, RFC 3339 UTC.
    pub expires_at: String,
}

/// Parses a duration like `45s`, `30m`, `12h`, `7d` into seconds (positive, ≤ 365 days).
pub fn parse_duration_secs(s: &str) -> Result<i64> {
    let s = s.trim();
    let bad = || {
        PlatformError::Invalid(format!(
            "duration {s:?} is invalid: use a number followed by s, m, h or d, e.g. 7d"
        ))
    };
    let unit = s.chars().last().ok_or_else(bad)?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(mult).ok_or_else(bad)?;
    if secs <= 0 || secs > 365 * 86_400 {
        return Err(bad());
    }
    Ok(secs)
}

impl Platform {
    /// Creates an invite valid for `expires_in_secs`.
    pub fn create_invite(
        &self,
        role: Role,
        envs: &[String],
        expires_in_secs: i64,
        actor: &Actor,
    ) -> Result<CreatedInvite> {
        let envs = normalize_envs(envs).map_err(PlatformError::Invalid)?;
        let code = random_secret(INVITE_PREFIX, 16);
        let now = UnixMicros::now();
        let expires = now.plus_secs(expires_in_secs);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO invites (code_hash, role, environments, created_by, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                hash_secret(&code),
                role.as_str(),
                serde_json::to_string(&envs)?,
                actor.user_id.map(|u| u.0),
                now.0,
                expires.0
            ],
        )?;
        let id = tx.last_insert_rowid();
        record(
            &tx,
            actor,
            "invite.created",
            Some(&format!("invite:{id}")),
            &json!({"role": role.as_str(), "environments": envs, "expires_at": expires.to_rfc3339()}),
        )?;
        tx.commit()?;
        Ok(CreatedInvite {
            code,
            role,
            environments: envs,
            expires_at: expires.to_rfc3339(),
        })
    }

    /// Creates an account from an invite code. Returns `None` when the code is unknown,
    /// used or expired (the caller answers all three alike). The invite is consumed only if
    /// the account is created.
    pub fn register_with_invite(
        &self,
        code: &str,
        email: &str,
        password_hash: &str,
        actor: &Actor,
    ) -> Result<Option<User>> {
        let email = normalize_email(email)?;
        let now = UnixMicros::now();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let claimed = tx
            .query_row(
                "UPDATE invites SET used_at = ?1
                 WHERE code_hash = ?2 AND used_at IS NULL AND expires_at > ?1
                 RETURNING id, role, environments",
                params![now.0, hash_secret(code.trim())],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((invite_id, role, envs)) = claimed else {
            return Ok(None);
        };
        let role = Role::parse(&role).unwrap_or(Role::Member);
        let envs: Vec<String> = serde_json::from_str(&envs)?;
        let user = insert_user(&tx, &email, password_hash, role, &envs)?;
        tx.execute(
            "UPDATE invites SET used_by = ?1 WHERE id = ?2",
            params![user.id.0, invite_id],
        )?;
        let actor = Actor {
            user_id: Some(user.id),
            email: Some(user.email.clone()),
            ip: actor.ip.clone(),
        };
        record(
            &tx,
            &actor,
            "user.joined_by_invite",
            Some(&format!("user:{}", user.id)),
            &json!({"invite_id": invite_id, "role": role.as_str()}),
        )?;
        tx.commit()?;
        Ok(Some(user))
    }
}
