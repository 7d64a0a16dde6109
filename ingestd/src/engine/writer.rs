//! The writer thread: assigns sequence numbers, appends WAL records and group-commits.
//! Records arrive encoded ([`opentrace_shared::wal::PreparedRecord`]); the writer fills in
//! their seqs and receive time.
//!
//! One thread owns the active WAL. It takes every batch waiting in its queue, appends one
//! record per batch, fsyncs once, and only then acknowledges all of them. It rotates the WAL
//! when it is full or the hour changes, handing full WALs to the builder.

use std::fs;
use std::io;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use opentrace_shared::datadir::{DataDir, fsync_dir, scan_hour};
use opentrace_shared::time::now_micros;
use opentrace_shared::wal::{PreparedRecord, WalWriter};
use opentrace_shared::{BatchId, ChunkId, HourId, Seq};
use tokio::sync::oneshot;

use super::builder::BuildJob;
use super::dedupe::Dedupe;
use super::error::EngineError;
use super::stats::EngineStats;
use super::{AppendOutcome, EngineConfig, WriterMsg};

/// A batch appended but not yet acknowledged: its reply, row count and batch id.
type Waiting = (
    oneshot::Sender<Result<AppendOutcome, EngineError>>,
    u32,
    Option<BatchId>,
);

/// Most batches taken into one group commit.
const MAX_GROUP: usize = 4096;

/// The WAL being appended to.
pub(crate) struct ActiveWal {
    pub hour: HourId,
    pub chunk: ChunkId,
    pub wal: WalWriter,
    pub rows: u64,
}

/// Where the writer resumes after recovery.
pub(crate) struct WriterStart {
    pub next_seq: Seq,
    pub active: Option<ActiveWal>,
    /// The newest hour that holds data, so its seal is scheduled once it ends.
    pub last_hour: Option<HourId>,
}

struct Writer {
    cfg: EngineConfig,
    next_seq: Seq,
    active: Option<ActiveWal>,
    last_hour: Option<HourId>,
    build_tx: Sender<BuildJob>,
    dedupe: Arc<Dedupe>,
    stats: Arc<EngineStats>,
}

/// Starts the writer thread.
pub(crate) fn spawn(
    cfg: EngineConfig,
    start: WriterStart,
    rx: Receiver<WriterMsg>,
    build_tx: Sender<BuildJob>,
    dedupe: Arc<Dedupe>,
    stats: Arc<EngineStats>,
) -> io::Result<JoinHandle<()>> {
    stats.set_max_pending_builds(cfg.max_pending_builds as u64);
    let mut w = Writer {
        cfg,
        next_seq: start.next_seq,
        active: start.active,
        last_hour: start.last_hour,
        build_tx,
        dedupe,
        stats,
    };
    thread::Builder::new()
        .name("wal-writer".into())
        .spawn(move || w.run(rx))
}

impl Writer {
    fn run(&mut self, rx: Receiver<WriterMsg>) {
        let mut group = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(first) => group.push(first),
                Err(RecvTimeoutError::Timeout) => {
                    self.roll_hour(HourId::from_micros(now_micros()));
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(m) => group.push(m),
                    Err(_) => break,
                }
            }
            self.process(&mut group);
        }
        self.hand_off_active();
    }

    fn process(&mut self, group: &mut Vec<WriterMsg>) {
        let now = now_micros();
        let hour = HourId::from_micros(now);
        self.roll_hour(hour);
        let hour = self.active.as_ref().map_or(hour, |a| a.hour.max(hour));
        let mut waiting: Vec<Waiting> = Vec::new();
        let mut flushes = Vec::new();
        for msg in group.drain(..) {
            match msg {
                WriterMsg::Flush { reply } => flushes.push(reply),
                WriterMsg::Append {
                    batch_id,
                    mut record,
                    reply,
                } => {
                    if let Some(id) = &batch_id
                        && let Some(count) = self.dedupe.get(id)
                    {
                        self.stats.deduplicated();
                        let _ = reply.send(Ok(AppendOutcome {
                            count,
                            deduplicated: true,
                        }));
                        continue;
                    }
                    if record.is_empty() {
                        let _ = reply.send(Ok(AppendOutcome {
                            count: 0,
                            deduplicated: false,
                        }));
                        continue;
                    }
                    let count = record.rows();
                    match self.append_record(hour, &mut record, now) {
                        Ok(bytes) => {
                            if let Some(id) = &batch_id {
                                self.dedupe.insert(id.clone(), count, hour);
                            }
                            self.stats.appended(u64::from(count), bytes);
                            waiting.push((reply, count, batch_id));
                        }
                        Err(e) => {
                            tracing::warn!("append failed: {e}");
                            let _ = reply.send(Err(e));
                        }
                    }
                }
            }
        }
        if !waiting.is_empty() {
            let t = Instant::now();
            let synced = match self.active.as_mut() {
                Some(_) if !self.cfg.fsync => Ok(()),
                Some(a) => a.wal.sync().map_err(|e| e.to_string()),
                None => Err("no active WAL".to_string()),
            };
            match synced {
                Ok(()) => {
                    self.stats.fsynced(t.elapsed());
                    for (reply, count, _) in waiting {
                        let _ = reply.send(Ok(AppendOutcome {
                            count,
                            deduplicated: false,
                        }));
                    }
                }
                Err(e) => {
                    // After a failed fsync the page cache state is unknown (fsyncgate): the
                    // only safe continuation is to stop and let recovery re-read the WAL.
                    // Nothing here was acknowledged.
                    tracing::error!("WAL fsync failed: {e}; aborting so recovery re-reads the WAL");
                    for (_, _, id) in &waiting {
                        if let Some(id) = id {
                            self.dedupe.remove(id);
                        }
                    }
                    std::process::abort();
                }
            }
        }
        let full = self.active.as_ref().is_some_and(|a| {
            a.wal.len() >= self.cfg.chunk_max_bytes || a.rows >= self.cfg.chunk_max_rows
        });
        if full {
            self.hand_off_active();
        }
        if !flushes.is_empty() {
            self.hand_off_active();
            for reply in flushes {
                let _ = self.build_tx.send(BuildJob::Barrier(reply));
            }
        }
    }

    /// Appends one batch record to the WAL of `hour`, opening it if needed, with the next
    /// seqs and `now` as its receive time.
    fn append_record(
        &mut self,
        hour: HourId,
        record: &mut PreparedRecord,
        now: i64,
    ) -> Result<u64, EngineError> {
        if self.active.is_none() {
            self.active = Some(open_new_wal(&self.cfg.data_dir, hour)?);
            self.last_hour = Some(hour);
        }
        let Some(active) = self.active.as_mut() else {
            return Err(EngineError::Stopped("no active WAL"));
        };
        let n = u64::from(record.rows());
        let frame = record.finish(self.next_seq, now);
        active.wal.append_encoded(frame).map_err(|e| match e {
            opentrace_shared::wal::WalError::Io { source, .. } => EngineError::from_io(source),
            other => EngineError::Wal(other),
        })?;
        active.rows += n;
        self.next_seq = self.next_seq.after(n);
        Ok(frame.len() as u64)
    }

    /// On an hour change: hand the old WAL to the builder and schedule the old hour's seal.
    fn roll_hour(&mut self, hour: HourId) {
        if let Some(a) = &self.active
            && a.hour < hour
        {
            self.hand_off_active();
        }
        if let Some(last) = self.last_hour
            && last < hour
            && self.active.is_none()
        {
            let _ = self.build_tx.send(BuildJob::Seal { hour: last });
            self.last_hour = None;
        }
    }

    /// Sends the active WAL to the builder (or deletes it if it holds no rows).
    fn hand_off_active(&mut self) {
        let Some(a) = self.active.take() else { return };
        if a.rows == 0 {
            let path = a.wal.path().to_path_buf();
            drop(a);
            let _ = fs::remove_file(&path);
            return;
        }
        self.stats.build_queued();
        let _ = self.build_tx.send(BuildJob::Build {
            hour: a.hour,
            chunk: a.chunk,
        });
    }
}

/// Creates the hour directory if needed and a fresh WAL after its highest chunk number.
fn open_new_wal(dd: &DataDir, hour: HourId) -> Result<ActiveWal, EngineError> {
    let dir = dd.hour_dir(hour);
    if !dir.exists() {
        fs::create_dir_all(&dir).map_err(EngineError::from_io)?;
        fsync_dir(&dd.logs_dir()).map_err(EngineError::from_io)?;
    }
    let mut problems = Vec::new();
    let chunk = scan_hour(hour, &dir, &mut problems)
        .max_chunk_id()
        .map_or(ChunkId(0), ChunkId::next);
    let wal = WalWriter::create(&dd.wal_path(hour, chunk), hour, chunk).map_err(|e| match e {
        opentrace_shared::wal::WalError::Io { source, .. } => EngineError::from_io(source),
        other => EngineError::Wal(other),
    })?;
    Ok(ActiveWal {
        hour,
        chunk,
        wal,
        rows: 0,
    })
}
