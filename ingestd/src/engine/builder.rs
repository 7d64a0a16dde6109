//! The builder thread: turns full WALs into published chunks and seals ended hours.
//!
//! Jobs run in the order they were queued, so an hour's seal always follows the builds of
//! its WALs. A failed build leaves its WAL in place (queryd keeps serving it from the WAL and
//! the next start-up retries it).

use std::fs;
use std::io;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use opentrace_shared::chunk::{ChunkBuilder, ChunkReader};
use opentrace_shared::datadir::{DataDir, fsync_dir, publish_chunk, publish_file, scan_hour};
use opentrace_shared::fts::IndexBuilder;
use opentrace_shared::meta::HourMetaBuilder;
use opentrace_shared::time::now_micros;
use opentrace_shared::wal::for_each_wal_record;
use opentrace_shared::{ChunkId, HourId};
use tokio::sync::oneshot;

use super::error::EngineError;
use super::stats::EngineStats;

/// Work for the builder thread.
pub(crate) enum BuildJob {
    /// Build `chunk_NNN` of `hour` from `wal_NNN.log`, publish it and delete the WAL.
    Build { hour: HourId, chunk: ChunkId },
    /// Write `meta.json` for an hour that has ended.
    Seal { hour: HourId },
    /// Reply once every job queued before this one is done.
    Barrier(oneshot::Sender<()>),
}

/// Starts the builder thread; it exits when every sender is gone.
pub(crate) fn spawn(
    dd: DataDir,
    rx: Receiver<BuildJob>,
    stats: Arc<EngineStats>,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("chunk-builder".into())
        .spawn(move || {
            for job in rx {
                match job {
                    BuildJob::Build { hour, chunk } => {
                        let t = Instant::now();
                        match build_chunk(&dd, hour, chunk) {
                            Ok((col, idx, wal)) => {
                                stats.wal_removed(wal);
                                if col > 0 {
                                    stats.built(t.elapsed(), col, idx);
                                }
                            }
                            Err(e) => {
                                stats.build_failed();
                                tracing::error!(
                                    "building chunk {chunk} of {hour} failed, WAL kept: {e}"
                                );
                            }
                        }
                        stats.build_done();
                        release_freed_memory();
                    }
                    BuildJob::Seal { hour } => {
                        let t = Instant::now();
                        match seal_hour(&dd, hour) {
                            Ok(true) => stats.sealed(t.elapsed()),
                            Ok(false) => {}
                            Err(e) => tracing::error!("sealing {hour} failed: {e}"),
                        }
                    }
                    BuildJob::Barrier(reply) => {
                        let _ = reply.send(());
                    }
                }
            }
        })
}

/// Builds and publishes one chunk from its WAL, then deletes the WAL.
///
/// Returns the sizes of the `.col` and `.idx` written (0 if the WAL held no rows) and of
/// the WAL removed.
pub(crate) fn build_chunk(
    dd: &DataDir,
    hour: HourId,
    chunk: ChunkId,
) -> Result<(u64, u64, u64), EngineError> {
    let wal_path = dd.wal_path(hour, chunk);
    let dir = dd.hour_dir(hour);
    let wal = WalMap::open(&wal_path)?;
    let wal_len = wal.len() as u64;
    let mut cb = ChunkBuilder::new();
    let mut ib = IndexBuilder::new();
    let mut n: u32 = 0;
    // Stream record by record: only one decoded batch is alive at a time, the rest of the
    // chunk lives in the column and index builders' compact buffers, and the pages of the
    // WAL already consumed are given back as we go.
    // Rows are decoded in place (their strings borrow the mapped WAL), so decoding
    // allocates nothing; the builders copy what they keep.
    let (_header, tail) = for_each_wal_record(wal.bytes(), |head, rows, end| {
        if let Some(id) = &head.batch_id
            && !rows.is_empty()
        {
            cb.push_batch(id, head.first_seq, rows.len() as u32);
        }
        for row in rows {
            ib.add_row(n, row);
            cb.push(row);
            n += 1;
        }
        wal.consumed(end);
    })?;
    drop(wal);
    if tail.stop.is_torn() {
        tracing::warn!(
            "WAL {chunk} of {hour} has {} torn bytes at its end; built from its complete records",
            tail.torn_bytes
        );
    }
    if n == 0 {
        fs::remove_file(&wal_path)?;
        fsync_dir(&dir)?;
        return Ok((0, 0, wal_len));
    }
    ib.release_scratch();
    let col = cb.finish()?;
    let idx = ib.finish()?;
    publish_chunk(&dir, chunk, &idx, &col).map_err(EngineError::from_io)?;
    fs::remove_file(&wal_path)?;
    fsync_dir(&dir)?;
    Ok((col.len() as u64, idx.len() as u64, wal_len))
}

/// Hands the memory a chunk build freed back to the operating system. A build allocates
/// and frees tens of MB (column and term buffers); glibc keeps freed memory mapped in its
/// arenas unless asked, which would leave the daemon's resident set at its peak forever.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it touches no live
    // allocation and is thread-safe.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

/// A read-only mapping of a WAL that is no longer written (it was rotated before its build
/// was queued), which releases the pages the builder has consumed, so that building a chunk
/// never holds the whole WAL in memory (resident set stays at the builders' buffers).
struct WalMap {
    map: Option<memmap2::Mmap>,
    released: std::cell::Cell<usize>,
}

impl WalMap {
    /// Consumed pages are released in steps of this many bytes (a multiple of every page
    /// size in use: 4, 16 and 64 KiB).
    const RELEASE_STEP: usize = 4 << 20;

    fn open(path: &std::path::Path) -> io::Result<WalMap> {
        let file = fs::File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(WalMap {
                map: None,
                released: std::cell::Cell::new(0),
            });
        }
        // SAFETY: the file is a rotated WAL: the writer has moved on to the next one and
        // nothing truncates or rewrites it before the build deletes it. The mapping is
        // read-only and shared, so a torn or corrupt tail is only ever read, never trusted
        // beyond the frame checks of the WAL reader.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(WalMap {
            map: Some(map),
            released: std::cell::Cell::new(0),
        })
    }

    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Everything before `offset` has been decoded: drop those pages from the resident set
    /// once a whole step has accumulated.
    fn consumed(&self, offset: usize) {
        let Some(map) = &self.map else { return };
        let from = self.released.get();
        let upto = offset / Self::RELEASE_STEP * Self::RELEASE_STEP;
        if upto <= from {
            return;
        }
        // SAFETY: MADV_DONTNEED on a shared read-only file mapping only unmaps the pages
        // from this process; reading them again faults them back in from the file, so no
        // byte the reader may still look at changes.
        let r = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, upto - from)
        };
        if r.is_ok() {
            self.released.set(upto);
        }
    }
}

/// Writes `meta.json` for `hour` from its committed chunks.
///
/// Returns false (and writes nothing) if WALs remain in the hour: it is not complete yet.
pub(crate) fn seal_hour(dd: &DataDir, hour: HourId) -> Result<bool, EngineError> {
    let dir = dd.hour_dir(hour);
    if !dir.exists() {
        return Ok(false);
    }
    let mut problems = Vec::new();
    let scan = scan_hour(hour, &dir, &mut problems);
    if !scan.wals.is_empty() {
        tracing::warn!(
            "not sealing {hour}: {} WAL(s) not yet built",
            scan.wals.len()
        );
        return Ok(false);
    }
    let mut mb = HourMetaBuilder::new(hour);
    for c in scan.committed_chunks() {
        let (Some(col), Some(idx)) = (&c.col, &c.idx) else {
            continue;
        };
        let bytes = fs::read(&col.path)?;
        let reader = ChunkReader::open(&bytes)?;
        mb.add_chunk_reader(c.id, &reader, (col.len, idx.len))?;
    }
    let meta = mb.finish(now_micros());
    publish_file(&dir, opentrace_shared::datadir::META_FILE, &meta.to_json())
        .map_err(EngineError::from_io)?;
    Ok(true)
}
