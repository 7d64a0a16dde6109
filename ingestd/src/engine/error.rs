//! Errors of the storage engine.

use std::io;

use opentrace_shared::chunk::ChunkError;
use opentrace_shared::fts::IndexError;
use opentrace_shared::wal::WalError;

/// Why an append, a build or recovery failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The writer's queue or the builder's backlog is full: try again shortly.
    #[error("ingest is busy, retry in {retry_after_secs}s")]
    Busy {
        /// Seconds the client should wait.
        retry_after_secs: u32,
    },
    /// The disk is full; nothing of the batch was kept.
    #[error("disk full: {0}")]
    DiskFull(io::Error),
    /// Any other I/O failure.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// A WAL could not be read or written.
    #[error("wal: {0}")]
    Wal(#[from] WalError),
    /// A chunk could not be built or read.
    #[error("chunk: {0}")]
    Chunk(#[from] ChunkError),
    /// An index could not be built.
    #[error("index: {0}")]
    Index(#[from] IndexError),
    /// The engine is stopping or a thread is gone.
    #[error("storage engine stopped ({0})")]
    Stopped(&'static str),
}

impl EngineError {
    /// Classifies an I/O error, separating "disk full" so HTTP can answer 503.
    pub fn from_io(e: io::Error) -> EngineError {
        if e.raw_os_error() == Some(28) || e.kind() == io::ErrorKind::StorageFull {
            EngineError::DiskFull(e)
        } else {
            EngineError::Io(e)
        }
    }
}
