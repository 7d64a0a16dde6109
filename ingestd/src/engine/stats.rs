//! Counters the engine keeps for `/metrics`, updated with relaxed atomics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A Prometheus-style latency histogram with fixed [`BUCKETS`].
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// A copy of a [`Histogram`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramCopy {
    /// Upper bounds, seconds.
    pub bounds: Vec<f64>,
    /// Cumulative counts per bound.
    pub cumulative: Vec<u64>,
    /// Observations.
    pub count: u64,
    /// Sum of observations, seconds.
    pub sum: f64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(d.as_micros() as u64, Relaxed);
        let s = d.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if s <= *le {
                self.buckets[i].fetch_add(1, Relaxed);
            }
        }
    }

    /// Copies the histogram.
    pub fn copy(&self) -> HistogramCopy {
        HistogramCopy {
            bounds: BUCKETS.to_vec(),
            cumulative: self.buckets.iter().map(|b| b.load(Relaxed)).collect(),
            count: self.count.load(Relaxed),
            sum: self.sum_micros.load(Relaxed) as f64 / 1e6,
        }
    }
}

/// Live counters, shared by the engine's threads.
#[derive(Debug, Default)]
pub struct EngineStats {
    rows_appended: AtomicU64,
    batches_appended: AtomicU64,
    batches_deduplicated: AtomicU64,
    wal_bytes: AtomicU64,
    wal_bytes_current: AtomicU64,
    fsync: Histogram,
    chunk_build: Histogram,
    seal: Histogram,
    chunks_built: AtomicU64,
    chunk_col_bytes: AtomicU64,
    chunk_idx_bytes: AtomicU64,
    hours_sealed: AtomicU64,
    builds_pending: AtomicU64,
    max_pending_builds: AtomicU64,
    build_failures: AtomicU64,
}

/// A point-in-time copy of [`EngineStats`].
#[derive(Debug, Clone, Default, PartialEq)]
#[allow(missing_docs)]
pub struct StatsSnapshot {
    pub rows_appended: u64,
    pub batches_appended: u64,
    pub batches_deduplicated: u64,
    /// Bytes appended to WALs since start.
    pub wal_bytes: u64,
    /// Bytes currently in WALs not yet built into chunks.
    pub wal_bytes_current: u64,
    pub fsync: HistogramCopy,
    pub chunk_build: HistogramCopy,
    pub seal: HistogramCopy,
    pub chunks_built: u64,
    pub chunk_col_bytes: u64,
    pub chunk_idx_bytes: u64,
    pub hours_sealed: u64,
    pub builds_pending: u64,
    pub build_failures: u64,
}

impl EngineStats {
    pub(crate) fn appended(&self, rows: u64, bytes: u64) {
        self.rows_appended.fetch_add(rows, Relaxed);
        self.batches_appended.fetch_add(1, Relaxed);
        self.wal_bytes.fetch_add(bytes, Relaxed);
        self.wal_bytes_current.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn wal_removed(&self, bytes: u64) {
        let _ = self
            .wal_bytes_current
            .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(bytes)));
    }

    pub(crate) fn deduplicated(&self) {
        self.batches_deduplicated.fetch_add(1, Relaxed);
    }

    pub(crate) fn fsynced(&self, d: Duration) {
        self.fsync.observe(d);
    }

    pub(crate) fn built(&self, d: Duration, col: u64, idx: u64) {
        self.chunks_built.fetch_add(1, Relaxed);
        self.chunk_build.observe(d);
        self.chunk_col_bytes.fetch_add(col, Relaxed);
        self.chunk_idx_bytes.fetch_add(idx, Relaxed);
    }

    pub(crate) fn build_failed(&self) {
        self.build_failures.fetch_add(1, Relaxed);
    }

    pub(crate) fn sealed(&self, d: Duration) {
        self.hours_sealed.fetch_add(1, Relaxed);
        self.seal.observe(d);
    }

    pub(crate) fn build_queued(&self) {
        self.builds_pending.fetch_add(1, Relaxed);
    }

    pub(crate) fn build_done(&self) {
        // Saturating: never wrap below zero.
        let _ = self
            .builds_pending
            .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
    }

    pub(crate) fn set_max_pending_builds(&self, n: u64) {
        self.max_pending_builds.store(n, Relaxed);
    }

    pub(crate) fn builds_pending(&self) -> u64 {
        self.builds_pending.load(Relaxed)
    }

    pub(crate) fn max_pending_builds(&self) -> u64 {
        self.max_pending_builds.load(Relaxed)
    }

    /// Copies every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            rows_appended: self.rows_appended.load(Relaxed),
            batches_appended: self.batches_appended.load(Relaxed),
            batches_deduplicated: self.batches_deduplicated.load(Relaxed),
            wal_bytes: self.wal_bytes.load(Relaxed),
            wal_bytes_current: self.wal_bytes_current.load(Relaxed),
            fsync: self.fsync.copy(),
            chunk_build: self.chunk_build.copy(),
            seal: self.seal.copy(),
            chunks_built: self.chunks_built.load(Relaxed),
            chunk_col_bytes: self.chunk_col_bytes.load(Relaxed),
            chunk_idx_bytes: self.chunk_idx_bytes.load(Relaxed),
            hours_sealed: self.hours_sealed.load(Relaxed),
            builds_pending: self.builds_pending.load(Relaxed),
            build_failures: self.build_failures.load(Relaxed),
        }
    }
}
