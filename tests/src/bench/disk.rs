//! On-disk footprint of a data directory, by file type.

use std::path::Path;

use serde::Serialize;

/// Bytes under `logs/`, summed by file suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DiskUsage {
    /// `chunk_*.col` column files.
    pub col: u64,
    /// `chunk_*.idx` full-text indexes.
    pub idx: u64,
    /// `meta.json` hour summaries.
    pub meta: u64,
    /// `wal_*.log` write-ahead logs.
    pub wal: u64,
    /// Anything else.
    pub other: u64,
    /// Number of `.col` files (chunks).
    pub chunks: u64,
}

impl DiskUsage {
    /// Everything counted.
    pub fn total(&self) -> u64 {
        self.col + self.idx + self.meta + self.wal + self.other
    }

    fn add(&mut self, name: &str, len: u64) {
        if name.ends_with(".col") {
            self.col += len;
            self.chunks += 1;
        } else if name.ends_with(".idx") {
            self.idx += len;
        } else if name == "meta.json" {
            self.meta += len;
        } else if name.ends_with(".log") {
            self.wal += len;
        } else {
            self.other += len;
        }
    }
}

/// Walks `dir` recursively (no symlinks) and sums file sizes by suffix.
pub fn usage(dir: &Path) -> std::io::Result<DiskUsage> {
    let mut u = DiskUsage::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for ent in rd {
            let ent = ent?;
            let ft = ent.file_type()?;
            if ft.is_dir() {
                stack.push(ent.path());
            } else if ft.is_file() {
                // A file can vanish between listing and stat (a WAL turned into a chunk).
                if let Ok(md) = ent.metadata() {
                    u.add(&ent.file_name().to_string_lossy(), md.len());
                }
            }
        }
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_by_suffix() {
        let t = tempfile::tempdir().unwrap();
        let h = t.path().join("logs/2026/04/18/10");
        std::fs::create_dir_all(&h).unwrap();
        std::fs::write(h.join("chunk_000001.col"), [0u8; 10]).unwrap();
        std::fs::write(h.join("chunk_000001.idx"), [0u8; 7]).unwrap();
        std::fs::write(h.join("meta.json"), [0u8; 3]).unwrap();
        std::fs::write(h.join("wal_000002.log"), [0u8; 5]).unwrap();
        std::fs::write(t.path().join("settings.json"), [0u8; 2]).unwrap();
        let u = usage(t.path()).unwrap();
        assert_eq!((u.col, u.idx, u.meta, u.wal, u.other), (10, 7, 3, 5, 2));
        assert_eq!((u.chunks, u.total()), (1, 27));
    }
}
