//! Paths and file names of the data directory.
//!
//! ```text
//! DATA_DIR/
//!   ingest.key              ingestd's SDK API key (0600)
//!   settings.json           written by queryd, watched by ingestd
//!   platform.db             queryd's SQLite database
//!   logs/YYYY-MM-DDTHH/     one directory per UTC *receive* hour
//!     wal_NNN.log           write-ahead log of future chunk NNN
//!     chunk_NNN.idx         full-text index of chunk NNN (published first)
//!     chunk_NNN.col         columnar chunk NNN (published last: the commit point)
//!     meta.json             written when the hour is sealed
//! ```

use std::path::{Path, PathBuf};

use crate::ids::{ChunkId, HourId};

/// Suffix of a file being written and not yet published.
pub const TMP_SUFFIX: &str = ".tmp";
/// Name of an hour's seal file.
pub const META_FILE: &str = "meta.json";

/// The root of a data directory, with typed accessors for every path in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Wraps a data-directory root (nothing is created or checked).
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `logs/`, the parent of every hour directory.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// `logs/YYYY-MM-DDTHH/`.
    pub fn hour_dir(&self, hour: HourId) -> PathBuf {
        self.logs_dir().join(hour.dir_name())
    }

    /// `logs/<hour>/wal_NNN.log`.
    pub fn wal_path(&self, hour: HourId, chunk: ChunkId) -> PathBuf {
        self.hour_dir(hour).join(FileKind::Wal(chunk).file_name())
    }

    /// `logs/<hour>/chunk_NNN.col`.
    pub fn col_path(&self, hour: HourId, chunk: ChunkId) -> PathBuf {
        self.hour_dir(hour).join(FileKind::Col(chunk).file_name())
    }

    /// `logs/<hour>/chunk_NNN.idx`.
    pub fn idx_path(&self, hour: HourId, chunk: ChunkId) -> PathBuf {
        self.hour_dir(hour).join(FileKind::Idx(chunk).file_name())
    }

    /// `logs/<hour>/meta.json`.
    pub fn meta_path(&self, hour: HourId) -> PathBuf {
        self.hour_dir(hour).join(META_FILE)
    }

    /// `settings.json`.
    pub fn settings_path(&self) -> PathBuf {
        self.root.join("settings.json")
    }

    /// `ingest.key`.
    pub fn ingest_key_path(&self) -> PathBuf {
        self.root.join("ingest.key")
    }

    /// `platform.db`.
    pub fn platform_db_path(&self) -> PathBuf {
        self.root.join("platform.db")
    }
}

/// What a file inside an hour directory is, judged by its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `wal_NNN.log`
    Wal(ChunkId),
    /// `chunk_NNN.col`
    Col(ChunkId),
    /// `chunk_NNN.idx`
    Idx(ChunkId),
    /// `meta.json`
    Meta,
    /// Any name ending in `.tmp`: an unfinished publish.
    Tmp,
    /// Anything else.
    Unknown,
}

impl FileKind {
    /// Classifies a file name.
    pub fn parse(name: &str) -> FileKind {
        if name.ends_with(TMP_SUFFIX) {
            return FileKind::Tmp;
        }
        if name == META_FILE {
            return FileKind::Meta;
        }
        let num = |s: &str| -> Option<ChunkId> {
            if s.len() >= 3 && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().ok().map(ChunkId)
            } else {
                None
            }
        };
        if let Some(n) = name
            .strip_prefix("wal_")
            .and_then(|r| r.strip_suffix(".log"))
        {
            return num(n).map_or(FileKind::Unknown, FileKind::Wal);
        }
        if let Some(rest) = name.strip_prefix("chunk_") {
            if let Some(n) = rest.strip_suffix(".col") {
                return num(n).map_or(FileKind::Unknown, FileKind::Col);
            }
            if let Some(n) = rest.strip_suffix(".idx") {
                return num(n).map_or(FileKind::Unknown, FileKind::Idx);
            }
        }
        FileKind::Unknown
    }

    /// The canonical file name (`Tmp` and `Unknown` have none and give `""`).
    pub fn file_name(&self) -> String {
        match self {
            FileKind::Wal(c) => format!("wal_{c}.log"),
            FileKind::Col(c) => format!("chunk_{c}.col"),
            FileKind::Idx(c) => format!("chunk_{c}.idx"),
            FileKind::Meta => META_FILE.to_string(),
            FileKind::Tmp | FileKind::Unknown => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [
            FileKind::Wal(ChunkId(0)),
            FileKind::Col(ChunkId(7)),
            FileKind::Idx(ChunkId(1234)),
            FileKind::Meta,
        ] {
            assert_eq!(FileKind::parse(&k.file_name()), k);
        }
        assert_eq!(FileKind::parse("chunk_001.col.tmp"), FileKind::Tmp);
        assert_eq!(FileKind::parse("chunk_1.col"), FileKind::Unknown);
        assert_eq!(FileKind::parse("wal_abc.log"), FileKind::Unknown);
        assert_eq!(FileKind::parse("notes.txt"), FileKind::Unknown);
        assert_eq!(FileKind::Wal(ChunkId(3)).file_name(), "wal_003.log");
    }

    #[test]
    fn paths() {
        let d = DataDir::new("/d");
        let h = HourId::parse_dir_name("2026-11-24T07").unwrap();
        assert_eq!(
            d.col_path(h, ChunkId(2)),
            PathBuf::from("/d/logs/2026-11-24T07/chunk_002.col")
        );
    }
}
