//! The filesystem watcher: any create, rename or remove under `logs/` (or a watcher error,
//! such as an inotify queue overflow) marks the catalog dirty, and the refresher rescans on
//! its next tick. Plain appends to a WAL are ignored here: tailers poll for those.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

/// A live watcher; dropping it stops watching.
pub(crate) struct DirWatch {
    _watcher: RecommendedWatcher,
}

/// Watches `logs` recursively, setting `dirty` on every structural change.
pub(crate) fn watch(logs: &Path, dirty: Arc<AtomicBool>) -> notify::Result<DirWatch> {
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        let structural = match ev {
            Ok(ev) => !matches!(
                ev.kind,
                EventKind::Access(_) | EventKind::Modify(ModifyKind::Data(_))
            ),
            Err(_) => true,
        };
        if structural {
            dirty.store(true, Ordering::Release);
        }
    })?;
    watcher.watch(logs, RecursiveMode::Recursive)?;
    Ok(DirWatch { _watcher: watcher })
}
