//! Opening the durable store for the binary.
//!
//! This is the one seam between the ingest front end and the storage [`crate::engine`]
//! (WAL with group commit, chunk building, sealing, recovery): [`open`] recovers the data
//! directory, starts the engine and returns it as a `dyn Store` that `main` hands to
//! [`crate::server::serve`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use opentrace_shared::datadir::DataDir;
use opentrace_shared::{BatchId, Row};

use crate::config::{Config, SyncPolicy};
use crate::engine::{Engine, EngineConfig, EngineError, HistogramCopy};
use crate::store::{AppendOutcome, BoxFuture, HistogramSnapshot, Store, StoreError, StoreStats};

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Recovery or start-up of the storage engine failed.
    #[error("storage engine: {0}")]
    Engine(#[from] EngineError),
}

/// The engine's settings derived from the daemon's configuration.
pub fn engine_config(config: &Config) -> EngineConfig {
    let mut cfg = EngineConfig::new(DataDir::new(config.data_dir()));
    cfg.chunk_max_bytes = config.chunk_target_bytes.max(64 * 1024);
    cfg.chunk_max_rows = config.chunk_max_rows.max(1);
    cfg.max_pending_builds =
        (config.wal_max_bytes / cfg.chunk_max_bytes.max(1)).clamp(1, 1024) as usize;
    cfg.fsync = matches!(config.sync, SyncPolicy::Always);
    cfg
}

/// Opens (recovering if needed) the store in `config.data_dir()`.
pub fn open(config: &Config) -> Result<Arc<dyn Store>, OpenError> {
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir).map_err(|source| OpenError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    let engine = Engine::open(engine_config(config))?;
    Ok(Arc::new(EngineStore(engine)))
}

/// The storage engine behind the [`Store`] trait.
pub struct EngineStore(pub Engine);

fn store_error(e: EngineError) -> StoreError {
    match e {
        EngineError::Busy { retry_after_secs } => StoreError::Backpressure {
            retry_after: Duration::from_secs(u64::from(retry_after_secs)),
        },
        EngineError::DiskFull(_) => StoreError::DiskFull,
        EngineError::Io(io) => StoreError::Io(io),
        other => StoreError::Io(std::io::Error::other(other.to_string())),
    }
}

fn histogram(h: HistogramCopy) -> HistogramSnapshot {
    HistogramSnapshot {
        bounds: h.bounds,
        cumulative: h.cumulative,
        count: h.count,
        sum: h.sum,
    }
}

fn boxed<'a, T>(f: impl Future<Output = T> + Send + 'a) -> BoxFuture<'a, T> {
    Box::pin(f)
}

impl Store for EngineStore {
    fn append(
        &self,
        batch_id: Option<BatchId>,
        rows: Vec<Row>,
    ) -> BoxFuture<'_, Result<AppendOutcome, StoreError>> {
        boxed(async move {
            let out = self.0.append(batch_id, rows).await.map_err(store_error)?;
            Ok(AppendOutcome {
                count: out.count,
                deduplicated: out.deduplicated,
            })
        })
    }

    fn lookup_batch(&self, id: &BatchId) -> Option<u32> {
        self.0.lookup_batch(id)
    }

    fn overloaded(&self) -> Option<Duration> {
        self.0
            .overloaded()
            .map(|secs| Duration::from_secs(u64::from(secs)))
    }

    fn stats(&self) -> StoreStats {
        let s = self.0.stats();
        StoreStats {
            rows_durable: s.rows_appended,
            wal_bytes: s.wal_bytes_current,
            chunks_built: s.chunks_built,
            fsync_seconds: histogram(s.fsync),
            seal_seconds: histogram(s.seal),
        }
    }

    fn shutdown(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        boxed(async move { self.0.shutdown().await.map_err(store_error) })
    }
}
