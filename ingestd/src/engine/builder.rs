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
    let bytes = fs::read(&wal_path)?;
    let wal_len = bytes.len() as u64;
    let mut cb = ChunkBuilder::new();
    let mut ib = IndexBuilder::new();
    let mut n: u32 = 0;
    // Stream record by record: only one decoded batch is alive at a time, the rest of the
    // chunk lives in the column and index builders' compact buffers.
    let (_header, tail) = for_each_wal_record(&bytes, |rec| {
        if let (Some(id), Some(first)) = (&rec.batch_id, rec.rows.first()) {
            cb.push_batch(id, first.seq, rec.rows.len() as u32);
        }
        for row in &rec.rows {
            ib.add_row(n, row);
            cb.push(row);
            n += 1;
        }
    })?;
    drop(bytes);
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
    let col = cb.finish()?;
    let idx = ib.finish()?;
    publish_chunk(&dir, chunk, &idx, &col).map_err(EngineError::from_io)?;
    fs::remove_file(&wal_path)?;
    fsync_dir(&dir)?;
    Ok((col.len() as u64, idx.len() as u64, wal_len))
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
