//! The follower: reads every new log row in **sequence order** from the catalog and
//! maintains derived state in `platform.db` in the same transaction as its cursor: error
//! groups (count, first/last seen, reopen on recurrence), per-user impact and the impact
//! score, and deploys (first sight of a service/env/version).
//!
//! # Exactly once
//!
//! The cursor (`follower_cursor.last_seq`, the last applied seq) and every change derived
//! from the rows up to it commit in one SQLite transaction. A crash (of queryd, or a
//! restart of ingestd under it) before the commit leaves both unchanged and the rows are
//! read again; after the commit they are never read again. The transaction is IMMEDIATE
//! and re-reads the cursor first: if another follower (a second queryd on the same
//! database) moved it, the batch is dropped and re-read from the new cursor.
//!
//! # Reading in seq order
//!
//! ingestd assigns seqs in increasing order and the catalog's visible set of seqs only
//! grows and is prefix-closed (see [`crate::catalog`]), so the follower asks for the seq
//! window `[cursor + 1, cursor + page]` (all environments, [`crate::query::search`]), sorts
//! it by seq and applies the run that is contiguous from `cursor + 1`.
//!
//! # Gaps
//!
//! A seq can be missing for good: ingestd may crash after assigning seqs to rows that
//! never became durable. When the smallest visible seq `s` after the cursor is not
//! `cursor + 1`, the seqs `cursor + 1 ..= s − 1` are a gap, and the gap is **final** (skipped,
//! counted in [`FollowerStats::gaps_skipped`]) when rows beyond it are visible **and**
//! either
//!
//! * the hour directory holding row `s` is sealed (its `meta.json` exists: ingestd adds
//!   nothing to a sealed hour, and seqs below `s` would be in that hour or an older one), or
//! * the same gap has been observed continuously for [`FollowerOptions::gap_grace`]
//!   (default 5 s; a row fsynced to a WAL is visible within about one catalog poll, so a
//!   row still missing seconds after later rows became visible was never made durable).
//!
//! While scans report unreadable units (a missing row might be an unreadable one) the
//! grace is ten times longer. Until a gap is final nothing after it is applied.
//!
//! # Threads
//!
//! [`spawn`] runs one std thread; [`Follower`] is the synchronous core (also used by tests,
//! which drive it step by step and inject crashes).

mod apply;
mod source;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use opentrace_shared::Seq;
use opentrace_shared::datadir::DataDir;
use rusqlite::Connection;

use crate::catalog::{Catalog, CatalogError, CatalogOptions};
use crate::platform::{PlatformError, UnixMicros, migrations};

use source::{GapClock, Next};

/// Errors of the follower.
#[derive(Debug, thiserror::Error)]
pub enum FollowerError {
    /// SQLite failed (busy past the timeout, I/O, corruption).
    #[error("platform database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Opening or migrating the database failed.
    #[error("platform database: {0}")]
    Platform(#[from] PlatformError),
    /// The catalog could not be opened.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The follower thread could not be started.
    #[error("cannot start the follower thread: {0}")]
    Spawn(std::io::Error),
    /// Another writer moved the cursor since it was read; the batch was not applied.
    #[error("follower cursor moved from {expected:?} to {found:?} under us")]
    CursorMoved {
        /// The cursor the batch was read after.
        expected: Seq,
        /// The cursor found in the database.
        found: Seq,
    },
}

/// Tuning of the follower.
#[derive(Debug, Clone)]
pub struct FollowerOptions {
    /// Most rows applied per transaction.
    pub page_rows: usize,
    /// Pause between polls when caught up (or waiting on a gap).
    pub poll_interval: Duration,
    /// How long a gap must persist before it is skipped (see the module documentation).
    pub gap_grace: Duration,
    /// Options of the catalog [`spawn`] opens when it is not given one.
    pub catalog: CatalogOptions,
}

impl Default for FollowerOptions {
    fn default() -> FollowerOptions {
        FollowerOptions {
            page_rows: 2000,
            poll_interval: Duration::from_millis(200),
            gap_grace: Duration::from_secs(5),
            catalog: CatalogOptions::default(),
        }
    }
}

/// Counters of a follower, for metrics and tests.
#[derive(Debug, Default)]
pub struct FollowerStats {
    /// The last applied seq (the committed cursor).
    pub cursor: AtomicU64,
    /// Rows applied.
    pub rows: AtomicU64,
    /// Error rows (with a fingerprint) applied.
    pub error_rows: AtomicU64,
    /// Transactions committed.
    pub batches: AtomicU64,
    /// Gaps declared final and skipped.
    pub gaps_skipped: AtomicU64,
    /// Seqs inside skipped gaps.
    pub seqs_skipped: AtomicU64,
    /// Groups reopened by recurrence.
    pub reopened: AtomicU64,
    /// Failed steps (retried).
    pub failures: AtomicU64,
}

/// What one [`Follower::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing new after the cursor.
    Idle,
    /// Rows exist after a gap that is not final yet.
    WaitingOnGap {
        /// First missing seq.
        from: Seq,
        /// Last missing seq.
        to: Seq,
    },
    /// A batch was applied (or, for [`Follower::step_uncommitted`], rolled back).
    Applied {
        /// Rows in the batch.
        rows: u64,
        /// The cursor after the batch.
        cursor: Seq,
    },
}

/// Opens `path` with the platform pragmas and applies pending migrations.
fn open_db(path: &Path) -> Result<Connection, FollowerError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(PlatformError::from)?;
    }
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrations::apply(&mut conn)?;
    Ok(conn)
}

/// The synchronous follower: one catalog, one SQLite connection, one cursor.
pub struct Follower {
    catalog: Arc<Catalog>,
    conn: Connection,
    cursor: Seq,
    opts: FollowerOptions,
    clock: GapClock,
    stats: Arc<FollowerStats>,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl Follower {
    /// Opens its own connection to `platform_db` (migrating it) and reads the cursor.
    pub fn open(
        catalog: Arc<Catalog>,
        platform_db: &Path,
        opts: FollowerOptions,
    ) -> Result<Follower, FollowerError> {
        let conn = open_db(platform_db)?;
        let cursor = apply::read_cursor(&conn)?;
        let stats = Arc::new(FollowerStats::default());
        stats.cursor.store(cursor.0, Ordering::Relaxed);
        Ok(Follower {
            catalog,
            conn,
            cursor,
            opts,
            clock: GapClock::default(),
            stats,
        })
    }

    /// The last applied seq.
    pub fn cursor(&self) -> Seq {
        self.cursor
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<FollowerStats> {
        &self.stats
    }

    /// Reads the next page from the current catalog snapshot and applies it.
    pub fn step(&mut self) -> Result<Step, FollowerError> {
        self.step_inner(true)
    }

    /// Fault injection for tests: does all the work of [`Follower::step`], then rolls the
    /// transaction back instead of committing, exactly as a crash just before the commit
    /// would. The in-memory cursor is reloaded from the database afterwards.
    pub fn step_uncommitted(&mut self) -> Result<Step, FollowerError> {
        let r = self.step_inner(false);
        self.cursor = apply::read_cursor(&self.conn)?;
        r
    }

    fn step_inner(&mut self, commit: bool) -> Result<Step, FollowerError> {
        let snap = self.catalog.snapshot();
        let next = source::next(
            &snap,
            self.cursor,
            self.opts.page_rows,
            self.opts.gap_grace,
            &mut self.clock,
        );
        let (rows, skipped) = match next {
            Next::Idle => return Ok(Step::Idle),
            Next::Gap { from, to } => return Ok(Step::WaitingOnGap { from, to }),
            Next::Rows { rows, skipped } => (rows, skipped),
        };
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(Step::Idle);
        };
        let applied = match apply::apply_batch(
            &mut self.conn,
            self.cursor,
            &rows,
            UnixMicros::now().0,
            commit,
        ) {
            Ok(a) => a,
            Err(FollowerError::CursorMoved { expected, found }) => {
                tracing::warn!(
                    ?expected,
                    ?found,
                    "follower: cursor moved by another writer"
                );
                self.cursor = found;
                self.stats.cursor.store(found.0, Ordering::Relaxed);
                return Err(FollowerError::CursorMoved { expected, found });
            }
            Err(e) => return Err(e),
        };
        if commit {
            if let Some((from, to)) = skipped {
                tracing::info!(
                    from = from.0,
                    to = to.0,
                    "follower: seq gap is final (never made durable), skipped"
                );
                self.stats.gaps_skipped.fetch_add(1, Ordering::Relaxed);
                self.stats
                    .seqs_skipped
                    .fetch_add(to.0.saturating_sub(from.0) + 1, Ordering::Relaxed);
            }
            self.cursor = last;
            let s = &self.stats;
            s.cursor.store(last.0, Ordering::Relaxed);
            s.rows.fetch_add(applied.rows, Ordering::Relaxed);
            s.error_rows
                .fetch_add(applied.error_rows, Ordering::Relaxed);
            s.reopened.fetch_add(applied.reopened, Ordering::Relaxed);
            s.batches.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Step::Applied {
            rows: applied.rows,
            cursor: last,
        })
    }
}

/// A running follower thread. Dropping it (or [`FollowerHandle::stop`]) stops the thread
/// between batches and joins it.
pub struct FollowerHandle {
    stop: Arc<AtomicBool>,
    stats: Arc<FollowerStats>,
    catalog: Arc<Catalog>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FollowerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FollowerHandle")
            .field("cursor", &self.cursor())
            .finish()
    }
}

impl FollowerHandle {
    /// The counters of the running follower.
    pub fn stats(&self) -> &FollowerStats {
        &self.stats
    }

    /// The last applied seq.
    pub fn cursor(&self) -> Seq {
        Seq(self.stats.cursor.load(Ordering::Relaxed))
    }

    /// The counters, shared (for `/metrics`, which outlives no follower but is built apart).
    pub fn shared_stats(&self) -> Arc<FollowerStats> {
        self.stats.clone()
    }

    /// The catalog the follower reads (its own, or the one it was given).
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Stops the thread after its current batch and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for FollowerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the follower thread for `data_dir`, writing to `platform_db` through its own
/// SQLite connection. It reads through `catalog` when given (queryd's shared one),
/// otherwise opens its own catalog on `data_dir` with `opts.catalog`.
pub fn spawn(
    data_dir: &Path,
    platform_db: &Path,
    catalog: Option<Arc<Catalog>>,
    opts: FollowerOptions,
) -> Result<FollowerHandle, FollowerError> {
    let catalog = match catalog {
        Some(c) => c,
        None => Arc::new(Catalog::open(DataDir::new(data_dir), opts.catalog.clone())?),
    };
    let poll = opts.poll_interval;
    let mut f = Follower::open(catalog.clone(), platform_db, opts)?;
    let stats = f.stats().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new()
        .name("follower".into())
        .spawn(move || run(&mut f, &stop2, poll))
        .map_err(FollowerError::Spawn)?;
    Ok(FollowerHandle {
        stop,
        stats,
        catalog,
        thread: Some(thread),
    })
}

fn run(f: &mut Follower, stop: &AtomicBool, poll: Duration) {
    let mut backoff = poll;
    while !stop.load(Ordering::Acquire) {
        match f.step() {
            Ok(Step::Applied { .. }) => {
                backoff = poll;
                continue;
            }
            Ok(Step::Idle | Step::WaitingOnGap { .. }) => {
                backoff = poll;
                std::thread::park_timeout(poll);
            }
            Err(FollowerError::CursorMoved { .. }) => {}
            Err(e) => {
                f.stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!("follower: {e}; retrying in {backoff:?}");
                std::thread::park_timeout(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}
