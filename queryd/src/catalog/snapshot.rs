//! [`Snapshot`]: one immutable, consistent view of the store that a query runs against.

use std::sync::Arc;

use opentrace_shared::HourId;
use opentrace_shared::meta::HourMeta;

use super::chunk_handle::ChunkHandle;
use super::wal_view::WalView;

/// One hour directory as seen by a snapshot.
#[derive(Debug, Clone)]
pub struct HourView {
    /// The (receive) hour.
    pub hour: HourId,
    /// Parsed `meta.json`, present once the hour is sealed.
    pub meta: Option<Arc<HourMeta>>,
    /// Published chunks, by chunk number.
    pub chunks: Vec<Arc<ChunkHandle>>,
    /// Live WALs whose chunk is not (yet) published, by chunk number.
    pub wals: Vec<Arc<WalView>>,
}

impl HourView {
    /// Whether the hour is sealed (has a readable `meta.json`).
    pub fn is_sealed(&self) -> bool {
        self.meta.is_some()
    }

    /// Rows visible in this hour (chunks + WAL views).
    pub fn row_count(&self) -> u64 {
        let c: u64 = self.chunks.iter().map(|c| u64::from(c.row_count())).sum();
        let w: u64 = self.wals.iter().map(|w| w.row_count() as u64).sum();
        c + w
    }
}

/// An immutable view of the whole store. Every row is in exactly one chunk or one WAL view;
/// see the [`crate::catalog`] module documentation for the rules that guarantee it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub(crate) generation: u64,
    pub(crate) hours: Vec<HourView>,
}

impl Snapshot {
    /// Builds a snapshot from hour views (tests and tools; the catalog builds its own).
    pub fn from_hours(generation: u64, mut hours: Vec<HourView>) -> Snapshot {
        hours.sort_by_key(|h| h.hour);
        Snapshot { generation, hours }
    }

    /// Increases by one with every snapshot the catalog publishes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Hours, oldest first.
    pub fn hours(&self) -> &[HourView] {
        &self.hours
    }

    /// Total rows visible.
    pub fn row_count(&self) -> u64 {
        self.hours.iter().map(HourView::row_count).sum()
    }

    /// Number of published chunks.
    pub fn chunk_count(&self) -> usize {
        self.hours.iter().map(|h| h.chunks.len()).sum()
    }

    /// Number of live WAL views.
    pub fn wal_count(&self) -> usize {
        self.hours.iter().map(|h| h.wals.len()).sum()
    }
}
