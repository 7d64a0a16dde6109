//! Audit log: who changed what, from where. Every mutating platform call takes an [`Actor`]
//! and writes its audit row in the same transaction as the change.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Platform, Result, UnixMicros, UserId};

/// Who is making a change: an account (MCP or HTTP caller), or the operator CLI (no user).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The acting account, if any.
    pub user_id: Option<UserId>,
    /// Its email at the time (kept in the row so deleting the user keeps the trail readable).
    pub email: Option<String>,
    /// The client IP the request came from, if over the network.
    pub ip: Option<String>,
}

impl Actor {
    /// The local operator running a CLI subcommand.
    pub fn operator() -> Self {
        Self {
            user_id: None,
            email: Some(String::from("operator (cli)")),
            ip: None,
        }
    }
}

/// One audit row as returned to admins.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// Row id; also the pagination cursor.
    pub id: i64,
    /// Acting account, if any.
    pub user_id: Option<UserId>,
    /// Acting account's email (or `operator (cli)`).
    pub user_email: Option<String>,
    /// What was done, e.g. `user.role_updated`.
    pub action: String,
    /// What it was done to, e.g. `user:3`.
    pub target: Option<String>,
    /// Extra JSON details (never secrets).
    pub details: serde_json::Value,
    /// Client IP.
    pub ip: Option<String>,
    /// When, RFC 3339 UTC.
    pub at: String,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    /// Entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` to get the next (older) page; absent at the end.
    pub next_cursor: Option<String>,
}

/// Writes one audit row on `conn` (inside the caller's transaction).
pub(crate) fn record(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    details: &serde_json::Value,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (user_id, user_email, action, target, details, ip, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            actor.user_id.map(|u| u.0),
            actor.email,
            action,
            target,
            details.to_string(),
            actor.ip,
            UnixMicros::now().0
        ],
    )?;
    Ok(())
}

impl Platform {
    /// Records an event that has no other row to commit with (logins, token issue).
    pub fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        details: &serde_json::Value,
    ) -> Result<()> {
        record(&self.conn(), actor, action, target, details)
    }

    /// Reads up to `limit` (1..=200) entries older than `cursor` (an id from a previous
    /// page), newest first.
    pub fn audit_page(&self, limit: u32, cursor: Option<i64>) -> Result<AuditPage> {
        let limit = limit.clamp(1, 200);
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, user_id, user_email, action, target, details, ip, at FROM audit_log
             WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![cursor.unwrap_or(i64::MAX), limit + 1], |r| {
            let details: Option<String> = r.get(5)?;
            Ok(AuditEntry {
                id: r.get(0)?,
                user_id: r.get::<_, Option<i64>>(1)?.map(UserId),
                user_email: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                details: details
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or(serde_json::Value::Null),
                ip: r.get(6)?,
                at: UnixMicros(r.get(7)?).to_rfc3339(),
            })
        })?;
        let mut entries = rows.collect::<std::result::Result<Vec<_>, _>>()?;
        let next_cursor = if entries.len() > limit as usize {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_cursor,
        })
    }

    /// Number of audit rows with this action (used by tests and the status view).
    pub fn audit_count(&self, action: &str) -> Result<i64> {
        let n = self
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
                [action],
                |r| r.get(0),
            )
            .optional()?;
        Ok(n.unwrap_or(0))
    }
}
