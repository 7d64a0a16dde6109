//! Retention: whole sealed hour directories older than the cutoff are deleted.

use std::fs;
use std::io;

use opentrace_shared::HourId;
use opentrace_shared::datadir::{DataDir, scan};

/// Deletes every *sealed* hour directory strictly before `cutoff`; returns the hours removed.
///
/// Unsealed hours are never deleted (their WALs may hold unbuilt rows); they are sealed first
/// by the builder and removed by a later pass.
pub fn prune_hours_before(dd: &DataDir, cutoff: HourId) -> io::Result<Vec<HourId>> {
    let s = scan(dd)?;
    let mut removed = Vec::new();
    for h in s.hours.iter().filter(|h| h.hour < cutoff && h.is_sealed()) {
        fs::remove_dir_all(&h.dir)?;
        removed.push(h.hour);
    }
    if !removed.is_empty() {
        opentrace_shared::datadir::fsync_dir(&dd.logs_dir())?;
    }
    Ok(removed)
}
