//! The atomic publish protocol: every file another process may read appears under its final
//! name only when complete and durable.
//!
//! Steps for one file: write `name.tmp`, fsync it, rename it to `name`, fsync the directory.
//! A chunk publishes its `.idx` before its `.col`; the `.col` name is the commit point, so a
//! reader that sees `chunk_NNN.col` may rely on `chunk_NNN.idx` being complete too.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::layout::{FileKind, TMP_SUFFIX};
use crate::ids::ChunkId;

/// Fsyncs a directory so that renames and creations inside it are durable.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `bytes` to `dir/name` atomically and durably (tmp file, fsync, rename, fsync dir).
///
/// Readers never observe a partial file under `name`. An existing file of that name is
/// replaced.
pub fn publish_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    write_tmp(dir, name, bytes)?;
    fs::rename(dir.join(format!("{name}{TMP_SUFFIX}")), dir.join(name))?;
    fsync_dir(dir)
}

/// Publishes a chunk: `chunk_NNN.idx` first, then `chunk_NNN.col` (the commit point).
///
/// Both files are written and fsynced under temporary names before either is renamed, so a
/// crash leaves either nothing, a stray tmp, an `.idx` without `.col` (ignored by readers and
/// removed by recovery), or the complete pair.
pub fn publish_chunk(dir: &Path, chunk: ChunkId, idx: &[u8], col: &[u8]) -> io::Result<()> {
    let idx_name = FileKind::Idx(chunk).file_name();
    let col_name = FileKind::Col(chunk).file_name();
    write_tmp(dir, &idx_name, idx)?;
    write_tmp(dir, &col_name, col)?;
    fs::rename(
        dir.join(format!("{idx_name}{TMP_SUFFIX}")),
        dir.join(&idx_name),
    )?;
    fsync_dir(dir)?;
    fs::rename(
        dir.join(format!("{col_name}{TMP_SUFFIX}")),
        dir.join(&col_name),
    )?;
    fsync_dir(dir)
}

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_replaces_and_leaves_no_tmp() {
        let d = tempfile::tempdir().unwrap();
        publish_file(d.path(), "meta.json", b"{}").unwrap();
        publish_file(d.path(), "meta.json", b"{\"a\":1}").unwrap();
        assert_eq!(fs::read(d.path().join("meta.json")).unwrap(), b"{\"a\":1}");
        publish_chunk(d.path(), ChunkId(1), b"idx", b"col").unwrap();
        let mut names: Vec<String> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["chunk_001.col", "chunk_001.idx", "meta.json"]);
    }
}
