//! Opening the durable store for the binary.
//!
//! This is the one seam between the ingest front end and the storage engine (WAL with group
//! commit, chunk building and sealing, in `opentrace_shared::{wal, chunk, fts, datadir}`):
//! [`open`] returns the engine as a `dyn Store`, and `main` hands it to
//! [`crate::server::serve`]. Until the engine is linked in here, `open` reports
//! [`OpenError::NoEngine`] and the daemon exits with that message instead of acknowledging
//! entries it could not keep.

use std::sync::Arc;

use crate::config::Config;
use crate::store::Store;

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No durable storage engine is linked into this build.
    #[error(
        "no durable storage engine is linked into this build of opentrace-ingestd \
         (ingestd/src/storage/mod.rs); refusing to accept entries that could not be kept"
    )]
    NoEngine,
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Opens (recovering if needed) the store in `config.data_dir()`.
pub fn open(config: &Config) -> Result<Arc<dyn Store>, OpenError> {
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir).map_err(|source| OpenError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    Err(OpenError::NoEngine)
}
