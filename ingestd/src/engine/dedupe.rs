//! Memory of recent `X-Batch-ID`s, so a retried batch is answered "deduplicated".
//!
//! Filled by the writer as it appends and, at start-up, from the batch ids recorded in WALs
//! and chunk files of the last few hours; entries older than the window are dropped.

use std::collections::HashMap;
use std::sync::Mutex;

use opentrace_shared::{BatchId, HourId};

/// Batch id → (rows stored, hour stored in).
#[derive(Debug, Default)]
pub struct Dedupe {
    map: Mutex<HashMap<BatchId, (u32, HourId)>>,
}

impl Dedupe {
    /// Rows stored under `id`, if it was seen.
    pub fn get(&self, id: &BatchId) -> Option<u32> {
        self.map.lock().ok()?.get(id).map(|(n, _)| *n)
    }

    /// Records `id` as stored in `hour` with `count` rows. Returns false if already present.
    pub fn insert(&self, id: BatchId, count: u32, hour: HourId) -> bool {
        match self.map.lock() {
            Ok(mut m) => match m.entry(id) {
                std::collections::hash_map::Entry::Occupied(_) => false,
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((count, hour));
                    true
                }
            },
            Err(_) => false,
        }
    }

    /// Forgets `id` (its append failed before being acknowledged).
    pub fn remove(&self, id: &BatchId) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(id);
        }
    }

    /// Drops every entry stored before `oldest`.
    pub fn prune_before(&self, oldest: HourId) {
        if let Ok(mut m) = self.map.lock() {
            m.retain(|_, (_, h)| *h >= oldest);
        }
    }

    /// Number of remembered batch ids.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
