//! The storage engine of ingestd: durable appends with group commit, chunk building, hourly
//! seal, crash recovery and batch dedupe.
//!
//! Data flows one way: [`Engine::append`] encodes a batch's rows as one WAL record on the
//! caller's thread and hands it to the writer thread, which fills in its sequence numbers
//! and receive time, appends it and fsyncs once for every batch waiting (group commit)
//! before any of them is acknowledged. Full WALs go to the builder thread,
//! which turns each into `chunk_NNN.{idx,col}` (published by rename) and deletes the WAL; once
//! an hour has ended and all its WALs are built, the builder writes its `meta.json`.

mod builder;
mod dedupe;
mod error;
mod recovery;
mod retention;
mod stats;
mod writer;

use std::sync::Arc;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

use opentrace_shared::datadir::DataDir;
use opentrace_shared::time::now_micros;
use opentrace_shared::wal::PreparedRecord;
use opentrace_shared::{BatchId, Row};
use tokio::sync::oneshot;

pub use dedupe::Dedupe;
pub use error::EngineError;
pub use retention::prune_hours_before;
pub use stats::{EngineStats, HistogramCopy, StatsSnapshot};

/// How the engine decides when a WAL becomes a chunk, and how much it buffers.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The data directory (its `logs/` is ingestd's alone).
    pub data_dir: DataDir,
    /// A WAL at least this large is turned into a chunk.
    pub chunk_max_bytes: u64,
    /// A WAL with at least this many rows is turned into a chunk.
    pub chunk_max_rows: u64,
    /// Batches that may wait for the writer before appends answer "busy".
    pub queue_depth: usize,
    /// WALs that may wait for the chunk builder before appends answer "busy".
    pub max_pending_builds: usize,
    /// Hours of batch ids remembered for dedupe (current hour included).
    pub dedupe_hours: u32,
    /// fsync before acknowledging (group commit). Off only for throw-away benchmarks.
    pub fsync: bool,
}

impl EngineConfig {
    /// Defaults suited to a small VM: 16 MiB / 64Ki-row chunks.
    pub fn new(data_dir: DataDir) -> EngineConfig {
        EngineConfig {
            data_dir,
            chunk_max_bytes: 16 << 20,
            chunk_max_rows: 65_536,
            queue_depth: 1024,
            max_pending_builds: 4,
            dedupe_hours: 3,
            fsync: true,
        }
    }
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Rows stored for the batch (for a replay: rows stored the first time).
    pub count: u32,
    /// The batch id had been seen before; nothing was stored this time.
    pub deduplicated: bool,
}

/// A request to the writer thread.
pub(crate) enum WriterMsg {
    /// Append one batch and reply once it is durable.
    Append {
        batch_id: Option<BatchId>,
        record: PreparedRecord,
        reply: oneshot::Sender<Result<AppendOutcome, EngineError>>,
    },
    /// Hand the current WAL to the builder, wait for every build, then reply.
    Flush { reply: oneshot::Sender<()> },
}

/// The running engine. Cheap to share behind an `Arc`.
pub struct Engine {
    tx: SyncSender<WriterMsg>,
    dedupe: Arc<Dedupe>,
    stats: Arc<EngineStats>,
    threads: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Engine {
    /// Recovers the data directory (see `docs/OPERATIONS.md`, "Crash recovery") and starts
    /// the writer and builder threads.
    pub fn open(cfg: EngineConfig) -> Result<Engine, EngineError> {
        let stats = Arc::new(EngineStats::default());
        let recovered = recovery::recover(&cfg)?;
        let dedupe = Arc::new(recovered.dedupe);
        let (build_tx, build_rx) = mpsc::channel();
        for job in recovered.pending_jobs {
            if matches!(job, builder::BuildJob::Build { .. }) {
                stats.build_queued();
            }
            build_tx
                .send(job)
                .map_err(|_| EngineError::Stopped("builder channel closed"))?;
        }
        let builder = builder::spawn(cfg.data_dir.clone(), build_rx, stats.clone())?;
        let (tx, rx) = mpsc::sync_channel(cfg.queue_depth);
        let writer = writer::spawn(
            cfg,
            recovered.writer_start,
            rx,
            build_tx,
            dedupe.clone(),
            stats.clone(),
        )?;
        Ok(Engine {
            tx,
            dedupe,
            stats,
            threads: std::sync::Mutex::new(vec![writer, builder]),
        })
    }

    /// Appends a batch; resolves once its rows are fsynced (or the batch was a replay).
    ///
    /// Rows must have been through the pipeline; `seq` and `received_at` are assigned here.
    /// The record is encoded on the caller's thread, so that the writer thread, which every
    /// acknowledgement waits for, only fills in those two values.
    /// Answers [`EngineError::Busy`] instead of queueing without bound.
    pub async fn append(
        &self,
        batch_id: Option<BatchId>,
        rows: Vec<Row>,
    ) -> Result<AppendOutcome, EngineError> {
        if let Some(id) = &batch_id
            && let Some(count) = self.dedupe.get(id)
        {
            return Ok(AppendOutcome {
                count,
                deduplicated: true,
            });
        }
        if let Some(retry_after_secs) = self.overloaded() {
            return Err(EngineError::Busy { retry_after_secs });
        }
        let record = PreparedRecord::encode(batch_id.clone(), rows, now_micros())?;
        let (reply, rx) = oneshot::channel();
        match self.tx.try_send(WriterMsg::Append {
            batch_id,
            record,
            reply,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(EngineError::Busy {
                    retry_after_secs: 1,
                });
            }
            Err(TrySendError::Disconnected(_)) => return Err(EngineError::Stopped("writer")),
        }
        rx.await.map_err(|_| EngineError::Stopped("writer"))?
    }

    /// `Some(seconds to wait)` while more WALs wait for the chunk builder than
    /// [`EngineConfig::max_pending_builds`]: every append is refused until it catches up.
    pub fn overloaded(&self) -> Option<u32> {
        (self.stats.builds_pending() > self.stats.max_pending_builds()).then_some(2)
    }

    /// The stored row count of a batch id seen recently, if any.
    pub fn lookup_batch(&self, id: &BatchId) -> Option<u32> {
        self.dedupe.get(id)
    }

    /// Counters for `/metrics`.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Turns the current WAL into a chunk and waits for every pending build.
    pub async fn flush(&self) -> Result<(), EngineError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriterMsg::Flush { reply })
            .map_err(|_| EngineError::Stopped("writer"))?;
        rx.await.map_err(|_| EngineError::Stopped("writer"))
    }

    /// Flushes every WAL into chunks and stops the threads. Appends after this fail.
    pub async fn shutdown(&self) -> Result<(), EngineError> {
        self.flush().await?;
        let threads = {
            let mut t = self
                .threads
                .lock()
                .map_err(|_| EngineError::Stopped("poisoned"))?;
            std::mem::take(&mut *t)
        };
        // The writer exits when its channel closes; the handles are joined by the caller
        // dropping the engine. Detach them here: every WAL is already built.
        drop(threads);
        Ok(())
    }
}
