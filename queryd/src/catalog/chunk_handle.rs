//! [`ChunkHandle`]: one published chunk (`chunk_NNN.col` + `chunk_NNN.idx`), mmapped
//! read-only and validated once when the catalog first sees it.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use opentrace_shared::chunk::{ChunkError, ChunkReader, ZoneMap};
use opentrace_shared::fts::{IndexError, IndexReader};
use opentrace_shared::{ChunkId, HourId};

/// Why a published chunk could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ChunkOpenError {
    /// The file could not be opened or mapped.
    #[error("cannot map {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The `.col` failed validation.
    #[error("corrupt chunk {path}: {source}")]
    Col {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ChunkError,
    },
    /// The `.idx` failed validation.
    #[error("corrupt index {path}: {source}")]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: IndexError,
    },
    /// The `.idx` and `.col` disagree on the number of rows.
    #[error("{path}: index has {idx_rows} rows, chunk has {col_rows}")]
    RowMismatch {
        /// The `.idx` file.
        path: PathBuf,
        /// Rows in the index.
        idx_rows: u32,
        /// Rows in the chunk.
        col_rows: u32,
    },
}

/// A published, validated chunk. Immutable: the files are never modified after their
/// rename, and a mapping stays valid after the writer (or retention) unlinks them.
#[derive(Debug)]
pub struct ChunkHandle {
    hour: HourId,
    id: ChunkId,
    col_path: PathBuf,
    col: Mmap,
    idx: Mmap,
    zone: ZoneMap,
}

fn map(path: &Path) -> Result<Mmap, ChunkOpenError> {
    let io = |source| ChunkOpenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    // SAFETY: published chunk files are written under a `.tmp` name, fsynced and renamed;
    // nobody writes to them afterwards (the protocol in `datadir::publish`), so the mapped
    // bytes never change under us. Deletion keeps the inode alive while mapped.
    unsafe { Mmap::map(&file) }.map_err(io)
}

impl ChunkHandle {
    /// Maps and validates both files of a chunk (`ChunkReader::open` and
    /// `IndexReader::open`, which check every checksum of the footers and term dictionary).
    pub fn open(
        hour: HourId,
        id: ChunkId,
        col_path: &Path,
        idx_path: &Path,
    ) -> Result<ChunkHandle, ChunkOpenError> {
        let col = map(col_path)?;
        let idx = map(idx_path)?;
        let zone = {
            let reader = ChunkReader::open(&col).map_err(|source| ChunkOpenError::Col {
                path: col_path.to_path_buf(),
                source,
            })?;
            let index = IndexReader::open(&idx).map_err(|source| ChunkOpenError::Idx {
                path: idx_path.to_path_buf(),
                source,
            })?;
            if index.row_count() != reader.row_count() {
                return Err(ChunkOpenError::RowMismatch {
                    path: idx_path.to_path_buf(),
                    idx_rows: index.row_count(),
                    col_rows: reader.row_count(),
                });
            }
            reader.zone_map().clone()
        };
        Ok(ChunkHandle {
            hour,
            id,
            col_path: col_path.to_path_buf(),
            col,
            idx,
            zone,
        })
    }

    /// The hour directory the chunk is in.
    pub fn hour(&self) -> HourId {
        self.hour
    }

    /// The chunk number.
    pub fn id(&self) -> ChunkId {
        self.id
    }

    /// Path of the `.col` file (for error reports).
    pub fn col_path(&self) -> &Path {
        &self.col_path
    }

    /// The zone map read when the chunk was opened.
    pub fn zone(&self) -> &ZoneMap {
        &self.zone
    }

    /// Number of rows.
    pub fn row_count(&self) -> u32 {
        self.zone.row_count
    }

    /// A column reader over the mapped `.col` (parses only the footer again).
    pub fn reader(&self) -> Result<ChunkReader<'_>, ChunkError> {
        ChunkReader::open(&self.col)
    }

    /// An index reader over the mapped `.idx` (validated at open, so not re-checked).
    pub fn index(&self) -> Result<IndexReader<'_>, IndexError> {
        IndexReader::open_trusted(&self.idx)
    }

    /// Bytes mapped for this chunk (`.col` + `.idx`).
    pub fn mapped_bytes(&self) -> usize {
        self.col.len() + self.idx.len()
    }
}
