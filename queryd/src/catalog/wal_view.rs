//! The decoded view of a live WAL: [`WalFollower`] (owned by the refresher, holds the
//! tailer) and [`WalView`] (immutable, shared by snapshots).
//!
//! Rows are kept in append-only segments (`Arc<Vec<Row>>`, one per poll that found
//! records), so publishing a new snapshot clones a vector of `Arc`s, never the rows.

use std::path::Path;
use std::sync::Arc;

use opentrace_shared::wal::{WalError, WalTailer};
use opentrace_shared::{ChunkId, HourId, Row, Seq};

/// An immutable prefix of a WAL's rows, as seen by one snapshot.
#[derive(Debug, Clone)]
pub struct WalView {
    hour: HourId,
    chunk: ChunkId,
    segments: Vec<Arc<Vec<Row>>>,
    rows: usize,
    ts: Option<(i64, i64)>,
    seq: Option<(Seq, Seq)>,
}

impl WalView {
    /// The hour directory of the WAL.
    pub fn hour(&self) -> HourId {
        self.hour
    }

    /// The chunk number the WAL will become.
    pub fn chunk(&self) -> ChunkId {
        self.chunk
    }

    /// Number of rows visible.
    pub fn row_count(&self) -> usize {
        self.rows
    }

    /// Inclusive `ts` range of the visible rows (`None` when empty).
    pub fn ts_range(&self) -> Option<(i64, i64)> {
        self.ts
    }

    /// Inclusive `seq` range of the visible rows (`None` when empty).
    pub fn seq_range(&self) -> Option<(Seq, Seq)> {
        self.seq
    }

    /// The visible rows, in WAL (= seq) order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> + '_ {
        self.segments.iter().flat_map(|s| s.iter())
    }

    /// The row segments (each one poll's worth of records).
    pub fn segments(&self) -> &[Arc<Vec<Row>>] {
        &self.segments
    }
}

/// What a poll of a followed WAL found.
#[derive(Debug, PartialEq, Eq)]
pub enum PollOutcome {
    /// Nothing new.
    Idle,
    /// This many new rows.
    Grew(usize),
    /// The file is gone (normally replaced by its chunk): rescan before publishing.
    Vanished,
    /// The file is unreadable or holds a corrupt record; the view keeps what it had.
    Failed,
}

/// Follows one WAL file and accumulates its rows.
#[derive(Debug)]
pub struct WalFollower {
    tailer: WalTailer,
    view: WalView,
    failed: bool,
}

impl WalFollower {
    /// Starts following `path`. `Err(Vanished)` if it is already gone.
    pub fn open(path: &Path, hour: HourId, chunk: ChunkId) -> Result<WalFollower, WalError> {
        Ok(WalFollower {
            tailer: WalTailer::open(path)?,
            view: WalView {
                hour,
                chunk,
                segments: Vec::new(),
                rows: 0,
                ts: None,
                seq: None,
            },
            failed: false,
        })
    }

    /// Reads the records appended since the last poll.
    pub fn poll(&mut self) -> PollOutcome {
        match self.tailer.poll() {
            Ok(records) => {
                let rows: Vec<Row> = records.into_iter().flat_map(|r| r.rows).collect();
                if rows.is_empty() {
                    return PollOutcome::Idle;
                }
                let v = &mut self.view;
                for r in &rows {
                    v.ts = Some(match v.ts {
                        Some((lo, hi)) => (lo.min(r.ts), hi.max(r.ts)),
                        None => (r.ts, r.ts),
                    });
                    v.seq = Some(match v.seq {
                        Some((lo, hi)) => (lo.min(r.seq), hi.max(r.seq)),
                        None => (r.seq, r.seq),
                    });
                }
                let n = rows.len();
                v.rows += n;
                v.segments.push(Arc::new(rows));
                PollOutcome::Grew(n)
            }
            Err(e) if e.is_vanished() => PollOutcome::Vanished,
            Err(e) => {
                if !self.failed {
                    tracing::error!("WAL {}: {e}", self.tailer.path().display());
                    self.failed = true;
                }
                PollOutcome::Failed
            }
        }
    }

    /// The rows read so far, as an immutable view.
    pub fn view(&self) -> Arc<WalView> {
        Arc::new(self.view.clone())
    }

    /// Whether a poll has failed (reported once).
    pub fn has_failed(&self) -> bool {
        self.failed
    }
}
