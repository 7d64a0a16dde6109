//! Live `DATA_DIR/settings.json`: loaded at start, reloaded within seconds of a change.
//!
//! queryd replaces the file by atomic rename, so the *directory* is watched (a watch on the
//! file itself would follow the old inode). File-system notifications trigger a check at
//! once; a periodic check of the file's (mtime, size, inode) catches anything notify misses
//! (overflow, network file systems). A malformed file is logged and the previous settings
//! stay in force.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use notify::Watcher;
use opentrace_shared::settings::{SETTINGS_FILE, Settings, SettingsError};
use tokio::sync::{mpsc, watch};

use crate::pipeline::scrub::Scrubber;

/// Settings in force, with the scrubber compiled from them.
#[derive(Debug)]
pub struct Active {
    /// The settings.
    pub settings: Settings,
    /// The PII scrubber built from `settings.pii`.
    pub scrubber: Arc<Scrubber>,
}

impl Active {
    fn new(settings: Settings) -> Active {
        let (scrubber, problems) = Scrubber::new(&settings.pii);
        for p in problems {
            tracing::warn!("settings.json: {p}");
        }
        Active {
            settings,
            scrubber: Arc::new(scrubber),
        }
    }
}

type Signature = Option<(SystemTime, u64, u64)>;

fn signature(path: &Path) -> Signature {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((m.modified().ok()?, m.len(), ino))
}

/// The live settings shared by all requests.
#[derive(Debug)]
pub struct LiveSettings {
    path: PathBuf,
    current: RwLock<Arc<Active>>,
    seen: RwLock<Signature>,
}

impl LiveSettings {
    /// Loads `DATA_DIR/settings.json` (defaults when missing; defaults and an error log when
    /// malformed at start-up).
    pub fn load(data_dir: &Path) -> LiveSettings {
        let path = data_dir.join(SETTINGS_FILE);
        let seen = signature(&path);
        let settings = match Settings::load(&path) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("{e}; starting with default settings");
                Settings::default()
            }
        };
        LiveSettings {
            path,
            current: RwLock::new(Arc::new(Active::new(settings))),
            seen: RwLock::new(seen),
        }
    }

    /// The settings in force.
    pub fn current(&self) -> Arc<Active> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Re-reads the file if its signature changed. `Ok(true)` when new settings took effect.
    pub fn check(&self) -> Result<bool, SettingsError> {
        let sig = signature(&self.path);
        {
            let mut seen = self.seen.write().unwrap_or_else(|e| e.into_inner());
            if *seen == sig {
                return Ok(false);
            }
            *seen = sig;
        }
        let settings = Settings::load(&self.path)?;
        let mut cur = self.current.write().unwrap_or_else(|e| e.into_inner());
        if cur.settings == settings {
            return Ok(false);
        }
        *cur = Arc::new(Active::new(settings));
        Ok(true)
    }

    fn check_and_log(&self) {
        match self.check() {
            Ok(true) => tracing::info!("settings.json reloaded"),
            Ok(false) => {}
            Err(e) => tracing::error!("{e}; keeping the previous settings"),
        }
    }

    /// Watches the data directory until `shutdown` becomes true.
    pub fn spawn_watcher(
        self: Arc<Self>,
        poll: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if res.is_ok() {
                let _ = tx.send(());
            }
        })
        .and_then(|mut w| {
            w.watch(&dir, notify::RecursiveMode::NonRecursive)
                .map(|()| w)
        });
        if let Err(e) = &watcher {
            tracing::warn!(
                "cannot watch {} for settings changes ({e}); polling only",
                dir.display()
            );
        }
        tokio::spawn(async move {
            let _keep_alive = watcher;
            let mut tick = tokio::time::interval(poll.max(Duration::from_millis(50)));
            loop {
                tokio::select! {
                    _ = tick.tick() => self.check_and_log(),
                    Some(()) = rx.recv() => {
                        // Let a burst of events (tmp write + rename) settle.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        while rx.try_recv().is_ok() {}
                        self.check_and_log();
                    }
                    res = shutdown.changed() => {
                        if res.is_err() || *shutdown.borrow() { break; }
                    }
                }
            }
        })
    }
}
