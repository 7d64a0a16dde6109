//! The storage seam: what the HTTP layer needs from the durable store.
//!
//! The real implementation (WAL with group commit, chunk building, sealing) lives behind this
//! trait so the ingest front end can be built and tested without it. Contract:
//!
//! - [`Store::append`] resolves only when every row is durable (fsynced, per the sync
//!   policy): the HTTP layer answers 2xx only after that. Rows keep their order; `seq` is
//!   assigned by the store (rows arrive with `seq == 0`).
//! - With a batch id, a store that has already made that batch durable must not store it
//!   again and answers `deduplicated: true` with the original count — also when two copies
//!   race and after a restart (the id is in the WAL).
//! - Overload (WAL/queue over its limit) is [`StoreError::Backpressure`]; a full disk is
//!   [`StoreError::DiskFull`]: both become 503 + `Retry-After`, so SDKs retry the same batch.
//!   [`Store::overloaded`] lets the HTTP layer answer that 503 before reading the body.
//! - [`Store::shutdown`] is called once after the HTTP server has drained: flush, fsync,
//!   close files.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentrace_shared::{BatchId, Row};

/// A boxed, sendable future (the trait must be object-safe: the server holds a `dyn Store`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Rows stored by this batch (for a duplicate: by the original).
    pub count: u32,
    /// The batch id had already been stored; nothing was written this time.
    pub deduplicated: bool,
}

/// Why an append failed. Nothing of the batch is durable after an error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store is overloaded; the client should retry after the given delay.
    #[error("storage is busy, retry after {retry_after:?}")]
    Backpressure {
        /// Suggested delay before a retry.
        retry_after: Duration,
    },
    /// The disk is full.
    #[error("disk full")]
    DiskFull,
    /// Any other I/O failure.
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// A histogram snapshot in Prometheus form (cumulative bucket counts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// Upper bounds of the buckets, in seconds, ascending (the `+Inf` bucket is implied).
    pub bounds: Vec<f64>,
    /// Cumulative count of observations `<=` each bound; same length as `bounds`.
    pub cumulative: Vec<u64>,
    /// Total observations (the `+Inf` bucket).
    pub count: u64,
    /// Sum of all observations, in seconds.
    pub sum: f64,
}

/// Counters the store exposes on `/metrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreStats {
    /// Rows made durable since start.
    pub rows_durable: u64,
    /// Bytes currently held in WAL files.
    pub wal_bytes: u64,
    /// Chunks built since start.
    pub chunks_built: u64,
    /// fsync latency.
    pub fsync_seconds: HistogramSnapshot,
    /// Time to seal an hour (meta.json and final chunk).
    pub seal_seconds: HistogramSnapshot,
}

/// The durable store, as seen by the ingest front end.
pub trait Store: Send + Sync + 'static {
    /// Appends rows; resolves once they are durable (see the module doc).
    fn append(
        &self,
        batch_id: Option<BatchId>,
        rows: Vec<Row>,
    ) -> BoxFuture<'_, Result<AppendOutcome, StoreError>>;

    /// The row count of an already durable batch, if this id was seen.
    fn lookup_batch(&self, id: &BatchId) -> Option<u32>;

    /// `Some(retry delay)` while an append would be refused with
    /// [`StoreError::Backpressure`] whatever its rows. The HTTP layer asks before it reads
    /// a request's body, so an overloaded server spends no CPU inflating and parsing
    /// batches it would refuse anyway, and keeps it for the work that is behind.
    fn overloaded(&self) -> Option<Duration> {
        None
    }

    /// Current counters.
    fn stats(&self) -> StoreStats;

    /// Flushes and closes; called once, after the HTTP server stopped taking requests.
    fn shutdown(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}
