//! Personal MCP tokens: `otq_` + 64 hex characters, shown once, stored only as a SHA-256
//! hash, revocable one by one.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::audit::{Actor, record};
use super::users::{USER_COLS, User};
use super::{Platform, PlatformError, Result, UnixMicros, UserId};

/// Prefix of every queryd token, so secret scanners and humans can recognise one.
pub const TOKEN_PREFIX: &str = "otq_";

/// Row id of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TokenId(pub i64);

/// A freshly issued token in plaintext. It exists only in memory, long enough to be shown
/// once; `Debug` does not print it.
pub struct PlainToken(String);

impl PlainToken {
    /// The token text, to hand to the user.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainToken(otq_…)")
    }
}

/// Token metadata (never the token itself).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// Row id, used to revoke.
    pub id: TokenId,
    /// First characters of the token, for recognising it.
    pub prefix: String,
    /// When it was issued.
    pub created_at: String,
    /// Last successful use (updated at most once a minute).
    pub last_used_at: Option<String>,
    /// Whether it has been revoked.
    pub revoked: bool,
}

/// A token that matched, and the account it belongs to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    /// The token's row id.
    pub token_id: TokenId,
    /// Its account (check `active`).
    pub user: User,
}

/// Hex SHA-256 of a secret; the only form in which tokens and invite codes are stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `prefix` followed by `bytes` random bytes in hex, from the thread CSPRNG.
pub(crate) fn random_secret(prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    format!("{prefix}{}", hex::encode(buf))
}

/// Whether `s` has the shape of a queryd token (cheap pre-check before hashing).
pub fn looks_like_token(s: &str) -> bool {
    s.len() == TOKEN_PREFIX.len() + 64
        && s.starts_with(TOKEN_PREFIX)
        && s[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl Platform {
    /// Issues a new token for `user` and returns it in plaintext (the only time it is seen).
    pub fn issue_token(&self, user: UserId, actor: &Actor) -> Result<(TokenId, PlainToken)> {
        let token = random_secret(TOKEN_PREFIX, 32);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO tokens (user_id, token_hash, prefix, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                user.0,
                hash_secret(&token),
                &token[..12],
                UnixMicros::now().0
            ],
        )?;
        let id = TokenId(tx.last_insert_rowid());
        record(
            &tx,
            actor,
            "token.issued",
            Some(&format!("user:{user}")),
            &json!({"token_id": id.0, "prefix": &token[..12]}),
        )?;
        tx.commit()?;
        Ok((id, PlainToken(token)))
    }

    /// Finds the unrevoked token with this plaintext, and its account. Lookup is by hash,
    /// so timing reveals nothing about stored tokens. Marks it used (at most once a minute).
    pub fn authenticate_token(&self, token: &str) -> Result<Option<TokenOwner>> {
        if !looks_like_token(token) {
            return Ok(None);
        }
        let hash = hash_secret(token);
        let conn = self.conn();
        let sql = format!(
            "SELECT t.id, t.last_used_at, {cols} FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL",
            cols = USER_COLS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let found = conn
            .query_row(&sql, [hash], |r| {
                let id: i64 = r.get(0)?;
                let last: Option<i64> = r.get(1)?;
                let user = user_from_row_offset(r)?;
                Ok((TokenId(id), last, user))
            })
            .optional()?;
        let Some((token_id, last, user)) = found else {
            return Ok(None);
        };
        let now = UnixMicros::now();
        if last.is_none_or(|l| now.0.saturating_sub(l) > 60_000_000) {
            conn.execute(
                "UPDATE tokens SET last_used_at = ?1 WHERE id = ?2",
                params![now.0, token_id.0],
            )?;
        }
        Ok(Some(TokenOwner { token_id, user }))
    }

    /// Lists a user's tokens (metadata only), newest first.
    pub fn list_tokens(&self, user: UserId) -> Result<Vec<TokenInfo>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, prefix, created_at, last_used_at, revoked_at FROM tokens
             WHERE user_id = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([user.0], |r| {
            Ok(TokenInfo {
                id: TokenId(r.get(0)?),
                prefix: r.get(1)?,
                created_at: UnixMicros(r.get(2)?).to_rfc3339(),
                last_used_at: r
                    .get::<_, Option<i64>>(3)?
                    .map(|t| UnixMicros(t).to_rfc3339()),
                revoked: r.get::<_, Option<i64>>(4)?.is_some(),
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Revokes one token of `user`. Revoking twice is an error (`NotFound`).
    pub fn revoke_token(&self, user: UserId, token: TokenId, actor: &Actor) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE tokens SET revoked_at = ?1 WHERE id = ?2 AND user_id = ?3 AND revoked_at IS NULL",
            params![UnixMicros::now().0, token.0, user.0],
        )?;
        if n == 0 {
            return Err(PlatformError::NotFound("active token"));
        }
        record(
            &tx,
            actor,
            "token.revoked",
            Some(&format!("user:{user}")),
            &json!({"token_id": token.0}),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Reads a `User` from columns 2.. of a row (after the two token columns).
fn user_from_row_offset(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    use super::Role;
    let role: String = r.get(4)?;
    let envs: String = r.get(5)?;
    Ok(User {
        id: UserId(r.get(2)?),
        email: r.get(3)?,
        role: Role::parse(&role).unwrap_or(Role::Member),
        environments: serde_json::from_str(&envs).unwrap_or_default(),
        active: r.get::<_, i64>(6)? != 0,
        created_at: UnixMicros(r.get(7)?),
    })
}

/// A random password for accounts created by the operator CLI without one (32 hex chars).
pub fn random_secret_for_cli() -> String {
    random_secret("", 16)
}
