//! Accounts: creation (first admin, operator, invite), listing, role and activation changes.
//!
//! The first admin is decided by the database: registering it inserts the singleton row of
//! `first_admin` in the same transaction as the user, and the table's `CHECK (singleton = 1)`
//! primary key makes every concurrent second attempt fail and roll back, whatever process or
//! connection it comes from.

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;
use serde_json::json;

use super::audit::{Actor, record};
use super::types::normalize_envs;
use super::{Platform, PlatformError, Result, Role, UnixMicros, UserId};

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id.
    pub id: UserId,
    /// Login email (unique, case-insensitive).
    pub email: String,
    /// Admin or member.
    pub role: Role,
    /// Environments a member may query (admins see all).
    pub environments: Vec<String>,
    /// Disabled accounts cannot log in and their tokens are refused with 403.
    pub active: bool,
    /// Creation time.
    pub created_at: UnixMicros,
}

/// Outcome of trying to register the first admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstAdmin {
    /// This call created the first admin.
    Created(User),
    /// Another account already holds the first-admin slot: an invite is needed.
    AlreadyTaken,
}

pub(crate) const USER_COLS: &str = "id, email, role, environments, active, created_at";

pub(crate) fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    let envs: String = r.get(3)?;
    Ok(User {
        id: UserId(r.get(0)?),
        email: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Member),
        environments: serde_json::from_str(&envs).unwrap_or_default(),
        active: r.get::<_, i64>(4)? != 0,
        created_at: UnixMicros(r.get(5)?),
    })
}

/// Validates an email address loosely: one `@`, something on both sides, no spaces, ≤ 254.
pub fn normalize_email(email: &str) -> Result<String> {
    let e = email.trim().to_ascii_lowercase();
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.contains('@'));
    if valid {
        Ok(e)
    } else {
        Err(PlatformError::Invalid(String::from(
            "email must look like name@example.com",
        )))
    }
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

/// Inserts a user row on `conn` (inside a transaction); a duplicate email is a `Conflict`.
pub(crate) fn insert_user(
    conn: &Connection,
    email: &str,
    password_hash: &str,
    role: Role,
    envs: &[String],
) -> Result<User> {
    let now = UnixMicros::now();
    let envs_json = serde_json::to_string(envs)?;
    match conn.execute(
        "INSERT INTO users (email, password_hash, role, environments, active, created_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5)",
        params![email, password_hash, role.as_str(), envs_json, now.0],
    ) {
        Ok(_) => {}
        Err(e) if is_constraint(&e) => {
            return Err(PlatformError::Conflict(String::from(
                "an account with this email already exists",
            )));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(User {
        id: UserId(conn.last_insert_rowid()),
        email: email.to_string(),
        role,
        environments: envs.to_vec(),
        active: true,
        created_at: now,
    })
}

impl Platform {
    /// Registers the first admin of this server, or reports that the slot is taken.
    pub fn register_first_admin(
        &self,
        email: &str,
        password_hash: &str,
        envs: &[String],
        actor: &Actor,
    ) -> Result<FirstAdmin> {
        let email = normalize_email(email)?;
        let envs = normalize_envs(envs).map_err(PlatformError::Invalid)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let user = insert_user(&tx, &email, password_hash, Role::Admin, &envs)?;
        match tx.execute(
            "INSERT INTO first_admin (singleton, user_id, created_at) VALUES (1, ?1, ?2)",
            params![user.id.0, user.created_at.0],
        ) {
            Ok(_) => {}
            Err(e) if is_constraint(&e) => return Ok(FirstAdmin::AlreadyTaken),
            Err(e) => return Err(e.into()),
        }
        record(
            &tx,
            actor,
            "user.first_admin_created",
            Some(&format!("user:{}", user.id)),
            &json!({"email": user.email}),
        )?;
        tx.commit()?;
        Ok(FirstAdmin::Created(user))
    }

    /// Creates an account directly (operator CLI). An admin created this way also takes the
    /// first-admin slot if it is free, so `/connect` will not mint another admin afterwards.
    pub fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
        envs: &[String],
        actor: &Actor,
    ) -> Result<User> {
        let email = normalize_email(email)?;
        let envs = normalize_envs(envs).map_err(PlatformError::Invalid)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let user = insert_user(&tx, &email, password_hash, role, &envs)?;
        if role == Role::Admin {
            tx.execute(
                "INSERT OR IGNORE INTO first_admin (singleton, user_id, created_at) VALUES (1, ?1, ?2)",
                params![user.id.0, user.created_at.0],
            )?;
        }
        record(
            &tx,
            actor,
            "user.created",
            Some(&format!("user:{}", user.id)),
            &json!({"email": user.email, "role": role.as_str(), "environments": envs}),
        )?;
        tx.commit()?;
        Ok(user)
    }

    /// Looks an account up by email, with its password hash (for login).
    pub fn user_with_hash(&self, email: &str) -> Result<Option<(User, String)>> {
        let Ok(email) = normalize_email(email) else {
            return Ok(None);
        };
        let conn = self.conn();
        let sql = format!("SELECT {USER_COLS}, password_hash FROM users WHERE email = ?1");
        Ok(conn
            .query_row(&sql, [email], |r| Ok((user_from_row(r)?, r.get(6)?)))
            .optional()?)
    }

    /// Looks an account up by id.
    pub fn user(&self, id: UserId) -> Result<Option<User>> {
        let conn = self.conn();
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ?1");
        Ok(conn.query_row(&sql, [id.0], user_from_row).optional()?)
    }

    /// Every account, oldest first.
    pub fn list_users(&self) -> Result<Vec<User>> {
        let conn = self.conn();
        let sql = format!("SELECT {USER_COLS} FROM users ORDER BY id");
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], user_from_row)?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Number of accounts.
    pub fn user_count(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
    }

    /// Changes an account's role; refuses to demote the last active admin.
    pub fn update_role(&self, id: UserId, role: Role, actor: &Actor) -> Result<User> {
        self.change_user(id, actor, "user.role_updated", |tx, before| {
            if before.role == Role::Admin && role != Role::Admin {
                ensure_other_active_admin(tx, id)?;
            }
            tx.execute(
                "UPDATE users SET role = ?1 WHERE id = ?2",
                params![role.as_str(), id.0],
            )?;
            Ok(json!({"from": before.role.as_str(), "to": role.as_str()}))
        })
    }

    /// Enables or disables an account; refuses to disable the last active admin.
    pub fn set_active(&self, id: UserId, active: bool, actor: &Actor) -> Result<User> {
        self.change_user(id, actor, "user.active_updated", |tx, before| {
            if before.role == Role::Admin && before.active && !active {
                ensure_other_active_admin(tx, id)?;
            }
            tx.execute(
                "UPDATE users SET active = ?1 WHERE id = ?2",
                params![i64::from(active), id.0],
            )?;
            Ok(json!({"from": before.active, "to": active}))
        })
    }

    /// Sets the environments a member may query.
    pub fn set_environments(&self, id: UserId, envs: &[String], actor: &Actor) -> Result<User> {
        let envs = normalize_envs(envs).map_err(PlatformError::Invalid)?;
        self.change_user(id, actor, "user.environments_updated", |tx, before| {
            tx.execute(
                "UPDATE users SET environments = ?1 WHERE id = ?2",
                params![serde_json::to_string(&envs)?, id.0],
            )?;
            Ok(json!({"from": before.environments, "to": envs}))
        })
    }

    /// Deletes an account and (by cascade) its tokens; refuses to delete the last active
    /// admin. Returns the deleted account.
    pub fn delete_user(&self, id: UserId, actor: &Actor) -> Result<User> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ?1");
        let before = tx
            .query_row(&sql, [id.0], user_from_row)
            .optional()?
            .ok_or(PlatformError::NotFound("user"))?;
        if before.role == Role::Admin && before.active {
            ensure_other_active_admin(&tx, id)?;
        }
        tx.execute("DELETE FROM users WHERE id = ?1", [id.0])?;
        record(
            &tx,
            actor,
            "user.deleted",
            Some(&format!("user:{id}")),
            &json!({"email": before.email}),
        )?;
        tx.commit()?;
        Ok(before)
    }

    fn change_user(
        &self,
        id: UserId,
        actor: &Actor,
        action: &str,
        f: impl FnOnce(&Connection, &User) -> Result<serde_json::Value>,
    ) -> Result<User> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ?1");
        let before = tx
            .query_row(&sql, [id.0], user_from_row)
            .optional()?
            .ok_or(PlatformError::NotFound("user"))?;
        let details = f(&tx, &before)?;
        record(&tx, actor, action, Some(&format!("user:{id}")), &details)?;
        let after = tx.query_row(&sql, [id.0], user_from_row)?;
        tx.commit()?;
        Ok(after)
    }
}

fn ensure_other_active_admin(conn: &Connection, id: UserId) -> Result<()> {
    let others: i64 = conn.query_row(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1 AND id != ?1",
        [id.0],
        |r| r.get(0),
    )?;
    if others == 0 {
        return Err(PlatformError::Conflict(String::from(
            "this is the last active admin; promote another account to admin first",
        )));
    }
    Ok(())
}
