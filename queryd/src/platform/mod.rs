//! Platform store: everything queryd keeps that is not a log row (users, token hashes,
//! invites, settings, audit log, error-group state, deploys, notes, follower cursor), in one
//! SQLite file `DATA_DIR/platform.db` owned by queryd.

pub mod audit;
pub mod db;
pub mod deploys;
pub mod errors;
pub mod invites;
pub mod migrations;
pub mod notes;
pub mod settings;
pub mod tokens;
pub mod types;
pub mod users;

pub use db::Platform;
pub use types::{Role, UnixMicros, UserId};

/// Errors of the platform store.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// SQLite failed (I/O, corruption, busy past the timeout, constraint).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file next to the database (settings.json) could not be written or read.
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    /// A JSON column or settings file did not parse.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The addressed row does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change would break an invariant (duplicate email, last admin removed, ...).
    #[error("{0}")]
    Conflict(String),
    /// The input is not acceptable (bad email, bad role, bad duration, ...).
    #[error("{0}")]
    Invalid(String),
}

/// Result type of the platform store.
pub type Result<T> = std::result::Result<T, PlatformError>;
