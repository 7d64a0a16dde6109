//! Reads every stored row back from a data directory, the way a reader of the storage
//! contract would: committed chunks through [`ChunkReader`], WAL files through [`read_wal`].
//!
//! A chunk and a WAL with the same number in the same hour hold the same rows (ingestd
//! deletes the WAL only after the chunk is published), so the chunk is preferred and the
//! WAL skipped. The end-to-end tests use this to check what the real `opentrace-ingestd`
//! stored, with or without the daemon running.

use std::io;
use std::path::{Path, PathBuf};

use opentrace_shared::chunk::{ChunkError, ChunkReader};
use opentrace_shared::datadir::{DataDir, Problem, scan};
use opentrace_shared::wal::{WalError, read_wal};
use opentrace_shared::{ChunkId, HourId, Row};

/// Where a row was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A committed `chunk_NNN.col`.
    Chunk,
    /// A `wal_NNN.log` with no committed chunk of the same number.
    Wal,
}

/// One row and where it came from.
#[derive(Debug, Clone)]
pub struct StoredRow {
    /// The receive hour directory it is in.
    pub hour: HourId,
    /// The chunk (or WAL) number.
    pub chunk: ChunkId,
    /// Chunk or WAL.
    pub source: Source,
    /// The row, every column.
    pub row: Row,
}

/// Everything found in a data directory's `logs/`.
#[derive(Debug, Default)]
pub struct StoreContents {
    /// Every row, hour by hour, chunk number by chunk number, in file order.
    pub rows: Vec<StoredRow>,
    /// Committed chunks read.
    pub chunks: usize,
    /// WAL files read (those without a committed chunk).
    pub wals: usize,
    /// WAL files skipped because their chunk is committed.
    pub wals_shadowed: usize,
    /// Hours that have a `meta.json`.
    pub sealed_hours: Vec<HourId>,
    /// What the scanner found inconsistent (`.tmp` files, orphan `.idx`, unknown names…).
    pub problems: Vec<Problem>,
}

impl StoreContents {
    /// `*.tmp` files found.
    pub fn tmp_files(&self) -> Vec<PathBuf> {
        self.problems
            .iter()
            .filter_map(|p| match p {
                Problem::StrayTmp(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// Just the rows.
    pub fn plain_rows(&self) -> Vec<&Row> {
        self.rows.iter().map(|r| &r.row).collect()
    }
}

/// Why a data directory could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum StoreReadError {
    /// Listing or reading a file failed.
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
    /// A committed chunk did not decode.
    #[error("chunk {0}: {1}")]
    Chunk(PathBuf, ChunkError),
    /// A WAL did not decode.
    #[error("WAL {0}: {1}")]
    Wal(PathBuf, WalError),
}

/// Reads every row of the data directory at `root`.
///
/// Safe while ingestd runs as long as no chunk is being built at the same moment (a WAL
/// deleted between the scan and its read is reported as an I/O error); the torn tail of a
/// WAL being appended to is ignored, as [`read_wal`] only returns complete records.
pub fn read_store(root: &Path) -> Result<StoreContents, StoreReadError> {
    let dd = DataDir::new(root);
    let s = scan(&dd).map_err(|e| StoreReadError::Io(dd.logs_dir(), e))?;
    let mut out = StoreContents {
        problems: s.problems.clone(),
        ..StoreContents::default()
    };
    for h in &s.hours {
        if h.is_sealed() {
            out.sealed_hours.push(h.hour);
        }
        let mut numbers: Vec<ChunkId> = h
            .committed_chunks()
            .map(|c| c.id)
            .chain(h.wals.iter().map(|(c, _)| *c))
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        for n in numbers {
            let committed = h
                .committed_chunks()
                .find(|c| c.id == n)
                .and_then(|c| c.col.as_ref());
            if let Some(col) = committed {
                let bytes = std::fs::read(&col.path)
                    .map_err(|e| StoreReadError::Io(col.path.clone(), e))?;
                let reader = ChunkReader::open(&bytes)
                    .map_err(|e| StoreReadError::Chunk(col.path.clone(), e))?;
                let rows = reader
                    .rows()
                    .map_err(|e| StoreReadError::Chunk(col.path.clone(), e))?;
                out.chunks += 1;
                if h.wal(n).is_some() {
                    out.wals_shadowed += 1;
                }
                out.rows.extend(rows.into_iter().map(|row| StoredRow {
                    hour: h.hour,
                    chunk: n,
                    source: Source::Chunk,
                    row,
                }));
            } else if let Some(wal) = h.wal(n) {
                let bytes = std::fs::read(&wal.path)
                    .map_err(|e| StoreReadError::Io(wal.path.clone(), e))?;
                let contents =
                    read_wal(&bytes).map_err(|e| StoreReadError::Wal(wal.path.clone(), e))?;
                out.wals += 1;
                for rec in contents.records {
                    out.rows.extend(rec.rows.into_iter().map(|row| StoredRow {
                        hour: h.hour,
                        chunk: n,
                        source: Source::Wal,
                        row,
                    }));
                }
            }
        }
    }
    Ok(out)
}
