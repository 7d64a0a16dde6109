//! The refresher: turns directory scans and WAL polls into published snapshots.
//!
//! It owns all mutable catalog state (open chunk maps, WAL tailers, parsed `meta.json`s)
//! and is driven by the background thread of [`super::Catalog`] (or synchronously by
//! [`super::Catalog::refresh_now`]). See the module documentation of [`crate::catalog`] for
//! the consistency rules implemented here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use opentrace_shared::datadir::{DataDir, HourScan, Problem, scan};
use opentrace_shared::meta::HourMeta;
use opentrace_shared::{ChunkId, HourId};

use super::CatalogStats;
use super::chunk_handle::ChunkHandle;
use super::snapshot::{HourView, Snapshot};
use super::wal_view::{PollOutcome, WalFollower, WalView};

/// A WAL being followed, with the view last handed to a snapshot.
struct Followed {
    follower: WalFollower,
    view: Arc<WalView>,
}

#[derive(Default)]
struct HourState {
    meta: Option<Arc<HourMeta>>,
    chunks: BTreeMap<ChunkId, Arc<ChunkHandle>>,
    wals: BTreeMap<ChunkId, Followed>,
}

/// The catalog's mutable state.
pub(crate) struct Refresher {
    dd: DataDir,
    hours: BTreeMap<HourId, HourState>,
    /// Files already reported as corrupt or unreadable, with the size they had then (a file
    /// replaced by one of another size is tried again).
    bad: HashMap<PathBuf, u64>,
    stats: Arc<CatalogStats>,
    generation: u64,
    changed: bool,
}

/// Most rescans one refresh cycle does when WALs keep vanishing under it.
const MAX_RESCANS_PER_CYCLE: usize = 4;

impl Refresher {
    pub(crate) fn new(dd: DataDir, stats: Arc<CatalogStats>) -> Refresher {
        Refresher {
            dd,
            hours: BTreeMap::new(),
            bad: HashMap::new(),
            stats,
            generation: 0,
            changed: true,
        }
    }

    /// One cycle: optionally rescan, poll every WAL (newest first), rescan again while a
    /// WAL vanished, and return a new snapshot if anything changed.
    pub(crate) fn cycle(&mut self, rescan: bool) -> Option<Snapshot> {
        let mut need_scan = rescan;
        for _ in 0..MAX_RESCANS_PER_CYCLE {
            if need_scan {
                self.rescan();
            }
            need_scan = self.poll_wals();
            if !need_scan {
                break;
            }
        }
        if need_scan {
            // Still vanishing: publish nothing rather than a state that may hide rows; the
            // next cycle rescans again.
            return None;
        }
        if !self.changed {
            return None;
        }
        self.changed = false;
        self.generation += 1;
        self.stats.snapshots.fetch_add(1, Ordering::Relaxed);
        Some(self.snapshot())
    }

    fn snapshot(&self) -> Snapshot {
        let hours = self
            .hours
            .iter()
            .map(|(&hour, st)| HourView {
                hour,
                meta: st.meta.clone(),
                chunks: st.chunks.values().cloned().collect(),
                wals: st.wals.values().map(|f| f.view.clone()).collect(),
            })
            .collect();
        Snapshot {
            generation: self.generation,
            hours,
        }
    }

    /// Polls every followed WAL, newest (hour, chunk) first, so that an older WAL is always
    /// read after any newer one: rows seen in WAL N+1 imply WAL N was complete when it was
    /// polled. Returns whether a WAL vanished (a rescan is needed before publishing).
    fn poll_wals(&mut self) -> bool {
        let mut vanished = false;
        for st in self.hours.values_mut().rev() {
            for f in st.wals.values_mut().rev() {
                match f.follower.poll() {
                    PollOutcome::Grew(n) => {
                        self.stats.wal_rows.fetch_add(n as u64, Ordering::Relaxed);
                        f.view = f.follower.view();
                        self.changed = true;
                    }
                    PollOutcome::Vanished => vanished = true,
                    PollOutcome::Failed => {
                        self.stats.wal_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    PollOutcome::Idle => {}
                }
            }
        }
        vanished
    }

    fn report_bad(&mut self, path: &Path, len: u64, what: &str) {
        if self.bad.get(path) == Some(&len) {
            return;
        }
        self.bad.insert(path.to_path_buf(), len);
        self.stats.corrupt_files.fetch_add(1, Ordering::Relaxed);
        tracing::error!("catalog: skipping {}: {what}", path.display());
    }

    fn is_bad(&self, path: &Path, len: u64) -> bool {
        self.bad.get(path) == Some(&len)
    }

    /// Scans `logs/` and reconciles the state with it.
    pub(crate) fn rescan(&mut self) {
        self.stats.rescans.fetch_add(1, Ordering::Relaxed);
        let s = match scan(&self.dd) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("catalog: cannot scan {}: {e}", self.dd.logs_dir().display());
                return;
            }
        };
        for p in &s.problems {
            match p {
                // Normal while ingestd publishes; recovery removes leftovers.
                Problem::StrayTmp(_) | Problem::OrphanIndex(_) | Problem::MissingIndex(_) => {}
                other => {
                    let path = other.path().to_path_buf();
                    if let std::collections::hash_map::Entry::Vacant(e) = self.bad.entry(path) {
                        e.insert(0);
                        tracing::warn!("catalog: {other:?}");
                    }
                }
            }
        }
        let present: BTreeSet<HourId> = s.hours.iter().map(|h| h.hour).collect();
        let before = self.hours.len();
        self.hours.retain(|h, _| present.contains(h));
        if self.hours.len() != before {
            self.changed = true;
        }
        for h in &s.hours {
            self.reconcile_hour(h);
        }
    }

    fn reconcile_hour(&mut self, h: &HourScan) {
        let mut st = self.hours.remove(&h.hour).unwrap_or_default();
        // meta.json: parsed once; a sealed hour's chunks never change again.
        match (&h.meta, &st.meta) {
            (Some(info), None) => match fs::read(&info.path) {
                Ok(bytes) => match HourMeta::from_json(&bytes) {
                    Ok(m) => {
                        st.meta = Some(Arc::new(m));
                        self.changed = true;
                    }
                    Err(e) => self.report_bad(&info.path, info.len, &e.to_string()),
                },
                Err(e) => self.report_bad(&info.path, info.len, &e.to_string()),
            },
            (None, Some(_)) => {
                st.meta = None;
                self.changed = true;
            }
            _ => {}
        }
        // Committed chunks: the scan's, plus any the listing may have missed while a
        // rename raced it (a gap below the highest number seen, or the number after it).
        let mut committed: BTreeMap<ChunkId, (PathBuf, PathBuf, u64)> = h
            .committed_chunks()
            .filter_map(|c| {
                let (col, idx) = (c.col.as_ref()?, c.idx.as_ref()?);
                Some((c.id, (col.path.clone(), idx.path.clone(), col.len)))
            })
            .collect();
        let listed: BTreeSet<ChunkId> = h.wals.iter().map(|(c, _)| *c).collect();
        if st.meta.is_none() {
            let max = h
                .max_chunk_id()
                .into_iter()
                .chain(st.wals.keys().copied())
                .max()
                .map_or(0, |c| c.0 + 1);
            for id in (0..=max).map(ChunkId) {
                if committed.contains_key(&id) || listed.contains(&id) {
                    continue;
                }
                let col = self.dd.col_path(h.hour, id);
                let idx = self.dd.idx_path(h.hour, id);
                if let (Ok(m), true) = (fs::metadata(&col), idx.exists()) {
                    committed.insert(id, (col, idx, m.len()));
                }
            }
        }
        for (&id, (col, idx, len)) in &committed {
            if st.chunks.contains_key(&id) || self.is_bad(col, *len) {
                continue;
            }
            match ChunkHandle::open(h.hour, id, col, idx) {
                Ok(c) => {
                    st.chunks.insert(id, Arc::new(c));
                    self.stats.chunks_opened.fetch_add(1, Ordering::Relaxed);
                    self.changed = true;
                }
                Err(e) => self.report_bad(col, *len, &e.to_string()),
            }
        }
        let n = st.chunks.len();
        st.chunks.retain(|id, _| committed.contains_key(id));
        if st.chunks.len() != n {
            self.changed = true;
        }
        // WALs: a WAL whose chunk is committed is dropped in this same reconcile, so the
        // snapshot built next has the chunk and not the WAL.
        let n = st.wals.len();
        st.wals.retain(|id, _| {
            !committed.contains_key(id)
                && (listed.contains(id) || self.dd.wal_path(h.hour, *id).exists())
        });
        if st.wals.len() != n {
            self.changed = true;
        }
        for (id, info) in &h.wals {
            if committed.contains_key(id) || st.wals.contains_key(id) {
                continue;
            }
            match WalFollower::open(&info.path, h.hour, *id) {
                Ok(follower) => {
                    let view = follower.view();
                    st.wals.insert(*id, Followed { follower, view });
                    self.changed = true;
                }
                Err(e) if e.is_vanished() => {}
                Err(e) => self.report_bad(&info.path, info.len, &e.to_string()),
            }
        }
        self.hours.insert(h.hour, st);
    }
}
