//! Turns a data directory into a typed description of its hours, chunks and WALs.
//!
//! The scanner never fails on what it finds: stray `.tmp` files, half-published chunks,
//! unknown names and unreadable entries are reported as [`Problem`]s next to the usable
//! state, so that a daemon can recover (ingestd) or skip and report (queryd).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::layout::{DataDir, FileKind};
use crate::ids::{ChunkId, HourId};

/// A file found by the scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Full path.
    pub path: PathBuf,
    /// Size in bytes when scanned.
    pub len: u64,
}

/// The published files of one chunk number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkFiles {
    /// The chunk number.
    pub id: ChunkId,
    /// `chunk_NNN.col`: present means the chunk is committed.
    pub col: Option<FileInfo>,
    /// `chunk_NNN.idx`.
    pub idx: Option<FileInfo>,
}

impl ChunkFiles {
    /// A chunk is committed, and readable, when its `.col` and `.idx` both exist.
    pub fn is_committed(&self) -> bool {
        self.col.is_some() && self.idx.is_some()
    }
}

/// Everything found in one hour directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourScan {
    /// The hour.
    pub hour: HourId,
    /// Its directory.
    pub dir: PathBuf,
    /// `meta.json`, present once the hour is sealed.
    pub meta: Option<FileInfo>,
    /// Chunk files by chunk number (ascending).
    pub chunks: Vec<ChunkFiles>,
    /// WAL files by chunk number (ascending).
    pub wals: Vec<(ChunkId, FileInfo)>,
}

impl HourScan {
    /// Whether the hour has been sealed (its `meta.json` exists).
    pub fn is_sealed(&self) -> bool {
        self.meta.is_some()
    }

    /// Committed chunks only.
    pub fn committed_chunks(&self) -> impl Iterator<Item = &ChunkFiles> {
        self.chunks.iter().filter(|c| c.is_committed())
    }

    /// The WAL of a chunk number, if present.
    pub fn wal(&self, id: ChunkId) -> Option<&FileInfo> {
        self.wals.iter().find(|(c, _)| *c == id).map(|(_, f)| f)
    }

    /// The highest chunk number used by any WAL or chunk file, if any.
    pub fn max_chunk_id(&self) -> Option<ChunkId> {
        let a = self.chunks.iter().map(|c| c.id).max();
        let b = self.wals.iter().map(|(c, _)| *c).max();
        a.max(b)
    }
}

/// Something in the data directory that is not part of a consistent state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A `*.tmp` file: a publish that did not finish (safe to delete for the file's writer).
    StrayTmp(PathBuf),
    /// A `.idx` without its `.col`: a publish interrupted before its commit point.
    OrphanIndex(PathBuf),
    /// A `.col` without its `.idx`: should never happen under the protocol.
    MissingIndex(PathBuf),
    /// A name the layout does not define.
    UnknownFile(PathBuf),
    /// A directory under `logs/` whose name is not an hour.
    UnknownDir(PathBuf),
    /// An entry that could not be read.
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The I/O error, as text.
        error: String,
    },
    /// A file whose content failed validation.
    Corrupt {
        /// The path.
        path: PathBuf,
        /// Why it was judged corrupt.
        reason: String,
    },
}

impl Problem {
    /// The path the problem is about.
    pub fn path(&self) -> &Path {
        match self {
            Problem::StrayTmp(p)
            | Problem::OrphanIndex(p)
            | Problem::MissingIndex(p)
            | Problem::UnknownFile(p)
            | Problem::UnknownDir(p) => p,
            Problem::Unreadable { path, .. } | Problem::Corrupt { path, .. } => path,
        }
    }
}

/// A whole data directory's log store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreScan {
    /// Hours, oldest first.
    pub hours: Vec<HourScan>,
    /// Everything inconsistent that was found.
    pub problems: Vec<Problem>,
}

impl StoreScan {
    /// The scan of one hour, if present.
    pub fn hour(&self, hour: HourId) -> Option<&HourScan> {
        self.hours.iter().find(|h| h.hour == hour)
    }
}

/// Scans `DATA_DIR/logs`. A missing `logs/` directory is an empty store.
pub fn scan(dir: &DataDir) -> io::Result<StoreScan> {
    let logs = dir.logs_dir();
    let mut out = StoreScan::default();
    let entries = match fs::read_dir(&logs) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    let mut hours = BTreeMap::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.problems.push(Problem::Unreadable {
                    path: logs.clone(),
                    error: e.to_string(),
                });
                continue;
            }
        };
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        match HourId::parse_dir_name(&name) {
            Some(h) if is_dir => {
                hours.insert(h, path);
            }
            _ => out.problems.push(Problem::UnknownDir(path)),
        }
    }
    for (hour, path) in hours {
        let h = scan_hour(hour, &path, &mut out.problems);
        out.hours.push(h);
    }
    Ok(out)
}

/// Scans one hour directory, appending what is wrong to `problems`.
pub fn scan_hour(hour: HourId, dir: &Path, problems: &mut Vec<Problem>) -> HourScan {
    let mut scan = HourScan {
        hour,
        dir: dir.to_path_buf(),
        meta: None,
        chunks: Vec::new(),
        wals: Vec::new(),
    };
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem::Unreadable {
                path: dir.to_path_buf(),
                error: e.to_string(),
            });
            return scan;
        }
    };
    let mut chunks: BTreeMap<ChunkId, ChunkFiles> = BTreeMap::new();
    let mut wals = BTreeMap::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let len = match entry.metadata() {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => {
                problems.push(Problem::UnknownFile(path));
                continue;
            }
            // Raced with a rename or delete by the writer: not a problem, just gone.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                problems.push(Problem::Unreadable {
                    path,
                    error: e.to_string(),
                });
                continue;
            }
        };
        let info = FileInfo { path, len };
        match FileKind::parse(&name) {
            FileKind::Wal(c) => {
                wals.insert(c, info);
            }
            FileKind::Col(c) => {
                chunks.entry(c).or_insert_with(|| empty_chunk(c)).col = Some(info);
            }
            FileKind::Idx(c) => {
                chunks.entry(c).or_insert_with(|| empty_chunk(c)).idx = Some(info);
            }
            FileKind::Meta => scan.meta = Some(info),
            FileKind::Tmp => problems.push(Problem::StrayTmp(info.path)),
            FileKind::Unknown => problems.push(Problem::UnknownFile(info.path)),
        }
    }
    for c in chunks.values() {
        match (&c.col, &c.idx) {
            (None, Some(idx)) => problems.push(Problem::OrphanIndex(idx.path.clone())),
            (Some(col), None) => problems.push(Problem::MissingIndex(col.path.clone())),
            _ => {}
        }
    }
    scan.chunks = chunks.into_values().collect();
    scan.wals = wals.into_iter().collect();
    scan
}

fn empty_chunk(id: ChunkId) -> ChunkFiles {
    ChunkFiles {
        id,
        col: None,
        idx: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_reports_strays_and_half_publishes() {
        let root = tempfile::tempdir().unwrap();
        let d = DataDir::new(root.path());
        assert!(scan(&d).unwrap().hours.is_empty());
        let h = HourId(490_000);
        let hd = d.hour_dir(h);
        fs::create_dir_all(&hd).unwrap();
        fs::create_dir_all(d.logs_dir().join("not-an-hour")).unwrap();
        for n in [
            "wal_000.log",
            "chunk_000.col",
            "chunk_000.idx",
            "chunk_001.idx",
            "chunk_002.col",
            "wal_003.log",
            "chunk_003.col.tmp",
            "junk",
        ] {
            fs::write(hd.join(n), b"x").unwrap();
        }
        let s = scan(&d).unwrap();
        assert_eq!(s.hours.len(), 1);
        let hs = &s.hours[0];
        assert!(!hs.is_sealed());
        assert_eq!(hs.committed_chunks().count(), 1);
        assert_eq!(hs.wals.len(), 2);
        assert_eq!(hs.max_chunk_id(), Some(ChunkId(3)));
        let mut kinds: Vec<&str> = s
            .problems
            .iter()
            .map(|p| match p {
                Problem::StrayTmp(_) => "tmp",
                Problem::OrphanIndex(_) => "orphan",
                Problem::MissingIndex(_) => "missing",
                Problem::UnknownFile(_) => "file",
                Problem::UnknownDir(_) => "dir",
                _ => "other",
            })
            .collect();
        kinds.sort();
        assert_eq!(kinds, ["dir", "file", "missing", "orphan", "tmp"]);
    }
}
