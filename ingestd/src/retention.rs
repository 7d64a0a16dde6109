//! Retention: a background task that deletes whole sealed hour directories older than
//! `retention_days` from `settings.json` (unset: keep everything).
//!
//! It runs once at start-up and then every `interval`, reading the live settings each time,
//! so a change made through queryd applies without a restart.

use std::sync::Arc;
use std::time::Duration;

use opentrace_shared::HourId;
use opentrace_shared::datadir::DataDir;
use opentrace_shared::time::now_micros;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::engine::prune_hours_before;
use crate::settings_watch::LiveSettings;

/// The first hour to keep when rows older than `days` days are dropped.
pub fn cutoff_hour(now_us: i64, days: u32) -> HourId {
    HourId(HourId::from_micros(now_us).0 - i64::from(days) * 24)
}

/// Starts the retention task; it stops when `stop` turns true.
pub fn spawn(
    data_dir: DataDir,
    settings: Arc<LiveSettings>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let days = settings.current().settings.retention_days;
            if let Some(days) = days.filter(|d| *d > 0) {
                let dd = data_dir.clone();
                let cutoff = cutoff_hour(now_micros(), days);
                match tokio::task::spawn_blocking(move || prune_hours_before(&dd, cutoff)).await {
                    Ok(Ok(removed)) if !removed.is_empty() => {
                        let names: Vec<String> = removed.iter().map(|h| h.dir_name()).collect();
                        tracing::info!(
                            "retention ({days} days): deleted {} hour(s): {}",
                            removed.len(),
                            names.join(", ")
                        );
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!("retention failed: {e}"),
                    Err(e) => tracing::error!("retention task failed: {e}"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_is_whole_days_of_hours() {
        let now = HourId(1000).start_micros() + 5;
        assert_eq!(cutoff_hour(now, 1), HourId(976));
        assert_eq!(cutoff_hour(now, 30), HourId(1000 - 720));
    }
}
