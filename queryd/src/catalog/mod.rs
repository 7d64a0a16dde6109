//! The catalog: an always-current, immutable [`Snapshot`] of the log store.
//!
//! [`Catalog::open`] scans the data directory once, publishes the first snapshot and starts
//! a background refresher thread driven by three sources:
//!
//! * a `notify` watcher on `logs/` (recursive): creations, renames and removals mark the
//!   catalog dirty and the next tick rescans;
//! * a periodic full rescan ([`CatalogOptions::rescan_interval`]), because inotify queues
//!   can overflow and events can be lost;
//! * a frequent poll ([`CatalogOptions::poll_interval`]) of every live WAL's tailer, which
//!   decodes newly fsynced records into the WAL's view.
//!
//! A query calls [`Catalog::snapshot`] (an `Arc` clone under a read lock) and sees one
//! consistent state for its whole duration. queryd never writes under `logs/`.
//!
//! # Consistency rules
//!
//! The writer (ingestd) publishes a chunk as: `chunk_NNN.idx` renamed, then `chunk_NNN.col`
//! renamed (the commit point), then `wal_NNN.log` deleted; a new WAL `N+1` is only created
//! after WAL `N` received its last append. The catalog relies on exactly that order:
//!
//! 1. **A chunk is visible iff its `.col` and `.idx` both exist and validate.** Both files
//!    are mmapped read-only and validated once (`ChunkReader::open`, `IndexReader::open`);
//!    a file that fails is logged once with `tracing::error!`, counted in
//!    [`CatalogStats::corrupt_files`] and skipped (retried only if its size changes).
//! 2. **A WAL whose chunk is committed is never visible.** The rescan that discovers
//!    `chunk_NNN.col` drops WAL view `NNN` in the same reconcile, so the next snapshot has
//!    the chunk instead of the WAL: no row twice, none missing (the chunk holds every row of
//!    its WAL, and the WAL view only ever holds a prefix of them).
//! 3. **A vanished WAL forces a rescan before the next publish.** When a tailer reports its
//!    file gone, no snapshot is published until a rescan has found the chunk that replaced
//!    it (or established that there is none: an empty WAL is deleted without a chunk).
//! 4. **Listings can race renames.** `readdir` may miss a file renamed during the listing.
//!    For unsealed hours the refresher therefore stats `chunk_NNN.col` directly for every
//!    number up to one past the highest seen that is neither listed as committed nor as a
//!    WAL, and a followed WAL missing from a listing is kept while its path still exists.
//! 5. **WALs are polled newest first.** Rows visible in WAL `N+1` (or chunk `N+1`) imply
//!    WAL `N` had received its last append before it was polled, so the visible set of seqs
//!    is prefix-closed and only grows from one snapshot to the next.
//! 6. **Sealed hours** carry their parsed `meta.json`; a hour or chunk deleted by retention
//!    disappears from the next snapshot (mappings held by running queries stay valid).
//!
//! Freshness: a row fsynced to a WAL is visible after at most one poll interval plus the
//! poll itself (see `tests/catalog_freshness.rs` for the measured distribution).

mod chunk_handle;
mod refresher;
mod snapshot;
mod wal_view;
mod watch;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentrace_shared::datadir::DataDir;

pub use chunk_handle::{ChunkHandle, ChunkOpenError};
pub use snapshot::{HourView, Snapshot};
pub use wal_view::{PollOutcome, WalFollower, WalView};

use refresher::Refresher;

/// Tuning of the background refresher.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// How often every live WAL is polled for new records (freshness).
    pub poll_interval: Duration,
    /// How often `logs/` is fully rescanned even without watcher events.
    pub rescan_interval: Duration,
    /// Whether to run the `notify` watcher (the periodic rescan works without it).
    pub watch: bool,
}

impl Default for CatalogOptions {
    fn default() -> CatalogOptions {
        CatalogOptions {
            poll_interval: Duration::from_millis(100),
            rescan_interval: Duration::from_secs(2),
            watch: true,
        }
    }
}

/// Counters describing what the catalog has done, for metrics and tests.
#[derive(Debug, Default)]
pub struct CatalogStats {
    /// Snapshots published.
    pub snapshots: AtomicU64,
    /// Full directory rescans.
    pub rescans: AtomicU64,
    /// Chunks mapped and validated.
    pub chunks_opened: AtomicU64,
    /// Files found corrupt or unreadable (each counted once).
    pub corrupt_files: AtomicU64,
    /// Rows decoded from WAL tails.
    pub wal_rows: AtomicU64,
    /// Failed WAL polls.
    pub wal_errors: AtomicU64,
}

/// Why the catalog could not start.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The refresher thread could not be spawned.
    #[error("cannot start the catalog refresher: {0}")]
    Spawn(std::io::Error),
}

struct Shared {
    current: RwLock<Arc<Snapshot>>,
    refresher: Mutex<Refresher>,
    stats: Arc<CatalogStats>,
    dirty: Arc<AtomicBool>,
    stop: AtomicBool,
}

impl Shared {
    fn publish(&self, snap: Snapshot) {
        let mut cur = self.current.write().unwrap_or_else(PoisonError::into_inner);
        *cur = Arc::new(snap);
    }

    /// Runs one refresher cycle and publishes its snapshot, if any.
    fn cycle(&self, rescan: bool) {
        let mut r = self
            .refresher
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = r.cycle(rescan) {
            self.publish(s);
        }
    }
}

/// A live view of a data directory's log store. Dropping it stops the refresher.
pub struct Catalog {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("generation", &self.snapshot().generation())
            .finish()
    }
}

impl Catalog {
    /// Scans `dir`, publishes the first snapshot and starts the background refresher.
    /// A missing `logs/` directory is an empty store (watched once it appears).
    pub fn open(dir: DataDir, opts: CatalogOptions) -> Result<Catalog, CatalogError> {
        let stats = Arc::new(CatalogStats::default());
        let shared = Arc::new(Shared {
            current: RwLock::new(Arc::new(Snapshot::default())),
            refresher: Mutex::new(Refresher::new(dir.clone(), stats.clone())),
            stats,
            dirty: Arc::new(AtomicBool::new(false)),
            stop: AtomicBool::new(false),
        });
        shared.cycle(true);
        let bg = shared.clone();
        let thread = std::thread::Builder::new()
            .name("catalog-refresher".into())
            .spawn(move || run(bg, dir, opts))
            .map_err(CatalogError::Spawn)?;
        Ok(Catalog {
            shared,
            thread: Some(thread),
        })
    }

    /// The current snapshot (cheap: an `Arc` clone).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Rescans and polls now, on the calling thread, and publishes the result: after it
    /// returns, everything durable before the call is in [`Catalog::snapshot`].
    pub fn refresh_now(&self) {
        self.shared.cycle(true);
    }

    /// The catalog's counters.
    pub fn stats(&self) -> &CatalogStats {
        &self.shared.stats
    }
}

impl Drop for Catalog {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

fn run(shared: Arc<Shared>, dir: DataDir, opts: CatalogOptions) {
    let mut watcher = None;
    let mut last_scan = Instant::now();
    let mut first = true;
    while !shared.stop.load(Ordering::Acquire) {
        std::thread::park_timeout(opts.poll_interval);
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        let due = last_scan.elapsed() >= opts.rescan_interval;
        if opts.watch && watcher.is_none() && (due || first) {
            // (Re)try to watch: `logs/` may not exist yet.
            match watch::watch(&dir.logs_dir(), shared.dirty.clone()) {
                Ok(w) => watcher = Some(w),
                Err(e) => tracing::debug!("catalog: not watching yet: {e}"),
            }
        }
        first = false;
        let dirty = shared.dirty.swap(false, Ordering::AcqRel);
        let rescan = due || dirty;
        if rescan {
            last_scan = Instant::now();
        }
        shared.cycle(rescan);
    }
}
