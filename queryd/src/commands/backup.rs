//! `backup --to DIR` and `restore --from DIR`: a consistent copy of a data directory taken
//! while both daemons run, and putting one back.
//!
//! A backup has the data directory's own layout (`platform.db`, `settings.json`,
//! `ingest.key`, `logs/HOUR/chunk_NNN.{idx,col}`, `meta.json`) plus `backup.json`, a small
//! manifest. What is copied and why it is consistent:
//!
//! - `platform.db` with `VACUUM INTO`: SQLite writes one transactionally consistent copy from
//!   a read transaction, so queryd may keep writing meanwhile. The copy is checked with
//!   `PRAGMA quick_check`.
//! - Committed chunks (`.col` with its `.idx`) of every hour, sealed or not, and `meta.json`
//!   of sealed hours. These files are immutable once published, so a hard link (same file
//!   system) or a plain copy is a consistent copy. The `.idx` is written before the `.col`,
//!   which stays the commit point in the backup too.
//! - WALs are **not** copied: rows acknowledged but not yet in a chunk (at most a few seconds
//!   to one chunk's worth in the current hour) are not in the backup. An hour that was not
//!   sealed when copied is restored without `meta.json`; ingestd's recovery seals it.
//! - An hour deleted by retention while it is being copied is left out (counted in
//!   [`BackupSummary::vanished_hours`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use opentrace_shared::datadir::{ChunkFiles, DataDir, FileKind, HourScan, fsync_dir, scan_hour};
use opentrace_shared::ids::{ChunkId, HourId};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

/// Name of the manifest a backup directory carries.
pub const MANIFEST_FILE: &str = "backup.json";
/// Version of the backup layout (bumped if the layout changes).
pub const BACKUP_FORMAT_VERSION: u32 = 1;

/// Errors of `backup` / `restore`.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// SQLite refused (copying or checking `platform.db`).
    #[error("platform.db: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The operation was refused (non-empty target, not a backup, check failed…).
    #[error("{0}")]
    Refused(String),
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// `backup.json`: what a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`BACKUP_FORMAT_VERSION`].
    pub format_version: u32,
    /// When the backup finished, RFC 3339 UTC.
    pub created_at: String,
    /// The data directory it was taken from.
    pub source: String,
    /// Counts of what was copied.
    pub summary: BackupSummary,
}

/// What a backup copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    /// Whether `platform.db` existed and was copied.
    pub platform_db: bool,
    /// Hour directories copied.
    pub hours: u32,
    /// Of which sealed (with `meta.json`).
    pub sealed_hours: u32,
    /// Committed chunks copied.
    pub chunks: u64,
    /// WAL files seen and deliberately not copied.
    pub wals_skipped: u64,
    /// Hours deleted (retention) while being copied, left out.
    pub vanished_hours: u32,
    /// Files hard-linked rather than copied.
    pub files_linked: u64,
    /// Files copied byte by byte.
    pub files_copied: u64,
    /// Bytes of chunk and meta files in the backup.
    pub bytes: u64,
}

/// Options of `backup`.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// The live data directory.
    pub data_dir: PathBuf,
    /// Where to write the backup: must not exist or be empty.
    pub to: PathBuf,
    /// Always copy chunk files, never hard-link them (for a backup on the same disk that must
    /// not share inodes with the live data).
    pub copy: bool,
}

/// Options of `restore`.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// A directory written by `backup`.
    pub from: PathBuf,
    /// The data directory to restore into (both daemons stopped).
    pub data_dir: PathBuf,
    /// Restore over a non-empty data directory: its `platform.db` (with `-wal`/`-shm`),
    /// `settings.json`, `ingest.key` and `logs/` are replaced.
    pub force: bool,
}

/// What `restore` put back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreSummary {
    /// Whether `platform.db` was restored.
    pub platform_db: bool,
    /// Hour directories restored.
    pub hours: u32,
    /// Committed chunks restored.
    pub chunks: u64,
}

/// True when `dir` does not exist or has no entries.
fn is_empty_or_missing(dir: &Path) -> Result<bool, BackupError> {
    match fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(io_err("reading", dir)(e)),
    }
}

fn create_dir(dir: &Path) -> Result<(), BackupError> {
    fs::create_dir_all(dir).map_err(io_err("creating", dir))
}

/// Makes `dst` a hard link to `src` (unless `copy`), else a copy; fsyncs a copy.
/// Returns whether it linked, or `None` if `src` vanished.
fn link_or_copy(src: &Path, dst: &Path, copy: bool) -> Result<Option<bool>, BackupError> {
    if !copy {
        match fs::hard_link(src, dst) {
            Ok(()) => return Ok(Some(true)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            // Other file system, protected_hardlinks, …: fall back to a copy.
            Err(_) => {}
        }
    }
    match copy_file(src, dst) {
        Ok(()) => Ok(Some(false)),
        Err(BackupError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            let _ = fs::remove_file(dst);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Copies `src` to `dst` (through `dst.tmp`) and fsyncs it.
fn copy_file(src: &Path, dst: &Path) -> Result<(), BackupError> {
    let mut tmp = dst.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::copy(src, &tmp).map_err(io_err("copying", src))?;
    let f = fs::File::open(&tmp).map_err(io_err("opening", &tmp))?;
    f.sync_all().map_err(io_err("fsyncing", &tmp))?;
    fs::rename(&tmp, dst).map_err(io_err("renaming", &tmp))
}

fn file_len(p: &Path) -> u64 {
    fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Copies `platform.db` consistently with `VACUUM INTO`; false if there is none.
fn backup_platform_db(src_dir: &Path, dst_dir: &Path) -> Result<bool, BackupError> {
    let src = src_dir.join("platform.db");
    if !src.exists() {
        return Ok(false);
    }
    let conn = Connection::open_with_flags(
        &src,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let tmp = dst_dir.join("platform.db.tmp");
    let _ = fs::remove_file(&tmp);
    let tmp_str = tmp
        .to_str()
        .ok_or_else(|| BackupError::Refused(format!("{} is not UTF-8", tmp.display())))?;
    conn.execute("VACUUM INTO ?1", [tmp_str])?;
    drop(conn);
    let check = Connection::open_with_flags(&tmp, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let verdict: String = check.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    drop(check);
    if verdict != "ok" {
        return Err(BackupError::Refused(format!(
            "the copy of platform.db failed its check: {verdict}"
        )));
    }
    let f = fs::File::open(&tmp).map_err(io_err("opening", &tmp))?;
    f.sync_all().map_err(io_err("fsyncing", &tmp))?;
    let dst = dst_dir.join("platform.db");
    fs::rename(&tmp, &dst).map_err(io_err("renaming", &tmp))?;
    Ok(true)
}

/// Copies a small top-level file if it exists, keeping its permissions.
fn copy_optional(src: &Path, dst: &Path) -> Result<bool, BackupError> {
    if !src.exists() {
        return Ok(false);
    }
    copy_file(src, dst)?;
    Ok(true)
}

/// Copies one committed chunk (`.idx` first, then the `.col` commit point). `None`: vanished.
fn copy_chunk(
    c: &ChunkFiles,
    dst_hour: &Path,
    copy: bool,
    s: &mut BackupSummary,
) -> Result<Option<()>, BackupError> {
    let (Some(col), Some(idx)) = (&c.col, &c.idx) else {
        return Ok(Some(()));
    };
    for (src, name) in [
        (&idx.path, FileKind::Idx(c.id).file_name()),
        (&col.path, FileKind::Col(c.id).file_name()),
    ] {
        let dst = dst_hour.join(name);
        match link_or_copy(src, &dst, copy)? {
            None => return Ok(None),
            Some(true) => s.files_linked += 1,
            Some(false) => s.files_copied += 1,
        }
        s.bytes += file_len(&dst);
    }
    s.chunks += 1;
    Ok(Some(()))
}

/// Copies one hour. `None` when retention removed it meanwhile.
fn backup_hour(
    hour: HourId,
    src_hour: &Path,
    dst_hour: &Path,
    copy: bool,
    s: &mut BackupSummary,
) -> Result<Option<bool>, BackupError> {
    let mut problems = Vec::new();
    let first = scan_hour(hour, src_hour, &mut problems);
    create_dir(dst_hour)?;
    let mut done: Vec<ChunkId> = Vec::new();
    let mut local = BackupSummary::default();
    let mut copy_all = |scan: &HourScan, local: &mut BackupSummary| {
        for c in scan.committed_chunks() {
            if done.contains(&c.id) {
                continue;
            }
            if copy_chunk(c, dst_hour, copy, local)?.is_none() {
                return Ok(None);
            }
            done.push(c.id);
        }
        Ok::<_, BackupError>(Some(()))
    };
    if copy_all(&first, &mut local)?.is_none() {
        return vanished(dst_hour, s);
    }
    // Not sealed when listed: it may have been sealed while we copied (new chunks built from
    // its WALs, then meta.json). Look again; only a meta.json seen *after* every chunk it
    // describes was copied goes into the backup.
    let last = if first.is_sealed() {
        first
    } else {
        let again = scan_hour(hour, src_hour, &mut problems);
        if again.is_sealed() && copy_all(&again, &mut local)?.is_none() {
            return vanished(dst_hour, s);
        }
        again
    };
    local.wals_skipped += last.wals.len() as u64;
    let sealed = match &last.meta {
        Some(meta) => {
            let dst = dst_hour.join(FileKind::Meta.file_name());
            match link_or_copy(&meta.path, &dst, copy)? {
                None => return vanished(dst_hour, s),
                Some(true) => local.files_linked += 1,
                Some(false) => local.files_copied += 1,
            }
            local.bytes += file_len(&dst);
            true
        }
        None => false,
    };
    fsync_dir(dst_hour).map_err(io_err("fsyncing", dst_hour))?;
    s.chunks += local.chunks;
    s.wals_skipped += local.wals_skipped;
    s.files_linked += local.files_linked;
    s.files_copied += local.files_copied;
    s.bytes += local.bytes;
    Ok(Some(sealed))
}

fn vanished(dst_hour: &Path, s: &mut BackupSummary) -> Result<Option<bool>, BackupError> {
    fs::remove_dir_all(dst_hour).map_err(io_err("removing", dst_hour))?;
    s.vanished_hours += 1;
    Ok(None)
}

/// Hour directories under `logs/`, oldest first.
fn list_hours(logs: &Path) -> Result<Vec<(HourId, PathBuf)>, BackupError> {
    let entries = match fs::read_dir(logs) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("reading", logs)(e)),
    };
    let mut hours = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_err("reading", logs))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if let (Some(h), true) = (HourId::parse_dir_name(&name), is_dir) {
            hours.push((h, entry.path()));
        }
    }
    hours.sort();
    Ok(hours)
}

/// `backup --to DIR`: copies the live data directory into `to` (see the module docs).
pub fn backup(opts: &BackupOptions) -> Result<Manifest, BackupError> {
    if !opts.data_dir.is_dir() {
        return Err(BackupError::Refused(format!(
            "data directory {} does not exist",
            opts.data_dir.display()
        )));
    }
    if !is_empty_or_missing(&opts.to)? {
        return Err(BackupError::Refused(format!(
            "backup directory {} is not empty: choose a new directory",
            opts.to.display()
        )));
    }
    create_dir(&opts.to)?;
    restrict_dir(&opts.to)?;
    let src = DataDir::new(&opts.data_dir);
    let dst = DataDir::new(&opts.to);
    let mut s = BackupSummary {
        platform_db: backup_platform_db(src.root(), dst.root())?,
        ..BackupSummary::default()
    };
    copy_optional(&src.settings_path(), &dst.settings_path())?;
    copy_optional(&src.ingest_key_path(), &dst.ingest_key_path())?;
    let dst_logs = dst.logs_dir();
    create_dir(&dst_logs)?;
    for (hour, path) in list_hours(&src.logs_dir())? {
        if let Some(sealed) = backup_hour(hour, &path, &dst.hour_dir(hour), opts.copy, &mut s)? {
            s.hours += 1;
            if sealed {
                s.sealed_hours += 1;
            }
        }
    }
    fsync_dir(&dst_logs).map_err(io_err("fsyncing", &dst_logs))?;
    let manifest = Manifest {
        format_version: BACKUP_FORMAT_VERSION,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source: opts.data_dir.display().to_string(),
        summary: s,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BackupError::Refused(format!("encoding the manifest: {e}")))?;
    opentrace_shared::datadir::publish_file(dst.root(), MANIFEST_FILE, &json)
        .map_err(io_err("writing", &dst.root().join(MANIFEST_FILE)))?;
    Ok(manifest)
}

#[cfg(unix)]
fn restrict_dir(dir: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err("chmod", dir))
}

#[cfg(not(unix))]
fn restrict_dir(_dir: &Path) -> Result<(), BackupError> {
    Ok(())
}

/// Reads and checks `backup.json`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, BackupError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = fs::read(&path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            BackupError::Refused(format!(
                "{} is not a backup (no {MANIFEST_FILE})",
                dir.display()
            ))
        } else {
            io_err("reading", &path)(e)
        }
    })?;
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| BackupError::Refused(format!("{}: {e}", path.display())))?;
    if m.format_version != BACKUP_FORMAT_VERSION {
        return Err(BackupError::Refused(format!(
            "backup format version {} is not supported (expected {BACKUP_FORMAT_VERSION})",
            m.format_version
        )));
    }
    Ok(m)
}

fn remove_if_exists(p: &Path) -> Result<(), BackupError> {
    let r = if p.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    };
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("removing", p)(e)),
    }
}

/// `restore --from DIR`: puts a backup into a data directory. Both daemons must be stopped.
pub fn restore(opts: &RestoreOptions) -> Result<RestoreSummary, BackupError> {
    read_manifest(&opts.from)?;
    if !is_empty_or_missing(&opts.data_dir)? {
        if !opts.force {
            return Err(BackupError::Refused(format!(
                "data directory {} is not empty: stop both daemons and pass --force to replace \
                 its platform.db, settings.json, ingest.key and logs/",
                opts.data_dir.display()
            )));
        }
        for name in [
            "platform.db",
            "platform.db-wal",
            "platform.db-shm",
            "platform.db-journal",
            "settings.json",
            "logs",
        ] {
            remove_if_exists(&opts.data_dir.join(name))?;
        }
    }
    create_dir(&opts.data_dir)?;
    let src = DataDir::new(&opts.from);
    let dst = DataDir::new(&opts.data_dir);
    let mut s = RestoreSummary {
        platform_db: copy_optional(&src.platform_db_path(), &dst.platform_db_path())?,
        ..RestoreSummary::default()
    };
    copy_optional(&src.settings_path(), &dst.settings_path())?;
    if src.ingest_key_path().exists() {
        remove_if_exists(&dst.ingest_key_path())?;
        copy_optional(&src.ingest_key_path(), &dst.ingest_key_path())?;
    }
    let dst_logs = dst.logs_dir();
    create_dir(&dst_logs)?;
    for (hour, path) in list_hours(&src.logs_dir())? {
        let mut problems = Vec::new();
        let scan = scan_hour(hour, &path, &mut problems);
        let dst_hour = dst.hour_dir(hour);
        create_dir(&dst_hour)?;
        for c in scan.committed_chunks() {
            let (Some(col), Some(idx)) = (&c.col, &c.idx) else {
                continue;
            };
            copy_file(&idx.path, &dst_hour.join(FileKind::Idx(c.id).file_name()))?;
            copy_file(&col.path, &dst_hour.join(FileKind::Col(c.id).file_name()))?;
            s.chunks += 1;
        }
        if let Some(meta) = &scan.meta {
            copy_file(&meta.path, &dst_hour.join(FileKind::Meta.file_name()))?;
        }
        fsync_dir(&dst_hour).map_err(io_err("fsyncing", &dst_hour))?;
        s.hours += 1;
    }
    fsync_dir(&dst_logs).map_err(io_err("fsyncing", &dst_logs))?;
    fsync_dir(dst.root()).map_err(io_err("fsyncing", dst.root()))?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_empty_target() {
        let data = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        fs::write(to.path().join("x"), b"x").unwrap();
        let err = backup(&BackupOptions {
            data_dir: data.path().into(),
            to: to.path().into(),
            copy: false,
        })
        .unwrap_err();
        assert!(matches!(err, BackupError::Refused(_)), "{err}");
    }

    #[test]
    fn restore_needs_a_manifest() {
        let from = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let err = restore(&RestoreOptions {
            from: from.path().into(),
            data_dir: data.path().join("new"),
            force: false,
        })
        .unwrap_err();
        assert!(err.to_string().contains("not a backup"), "{err}");
    }
}
