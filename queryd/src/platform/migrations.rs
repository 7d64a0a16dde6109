//! Versioned schema migrations. Each migration is a numbered SQL file embedded in the
//! binary; the applied version is `PRAGMA user_version`. A migration and its version bump
//! commit in one transaction, so a crash leaves the schema at the old or the new version.

use rusqlite::{Connection, TransactionBehavior};

use super::Result;

/// Every migration, in order: (version, SQL). Versions are 1, 2, 3, ... without gaps.
pub const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_follower.sql")),
];

/// The schema version this binary expects.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Applies every migration newer than the database's `user_version`. Concurrent openers are
/// serialised by an IMMEDIATE transaction and re-check the version inside it.
pub fn apply(conn: &mut Connection) -> Result<()> {
    for &(version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current >= version {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}
