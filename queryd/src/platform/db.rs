//! Opening `platform.db`: pragmas, migrations, and the shared connection handle.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use super::{Result, migrations};

/// Handle on the platform database. Cheap to share behind an `Arc`; every call takes the
/// connection lock for the duration of one statement or transaction. Calls block, so async
/// code runs them on the blocking pool.
#[derive(Debug)]
pub struct Platform {
    conn: Mutex<Connection>,
    data_dir: PathBuf,
}

impl Platform {
    /// Opens (creating if needed) `DATA_DIR/platform.db`, sets WAL mode, a 5 s busy timeout
    /// and foreign keys, and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let conn = Connection::open(data_dir.join("platform.db"))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut conn = conn;
        migrations::apply(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            data_dir: data_dir.to_path_buf(),
        })
    }

    /// The data directory this store lives in (settings.json is written next to it).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Locks the connection. A poisoned lock is recovered: SQLite rolls back any transaction
    /// a panicking holder left open when it is dropped.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}
