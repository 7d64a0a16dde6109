//! Assembly of the daemon: keys, live settings, HTTP server, store shutdown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::apikey::{ApiKeys, KeyError, KeySource};
use crate::config::Config;
use crate::http::body::BodyLimits;
use crate::http::handlers::App;
use crate::http::server::accept_loop;
use crate::metrics::Metrics;
use crate::settings_watch::LiveSettings;
use crate::store::{Store, StoreError};

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
    /// The API key could not be set up.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The store failed to shut down cleanly.
    #[error("store shutdown failed: {0}")]
    StoreShutdown(#[from] StoreError),
}

/// Binds `config.addr` and serves until SIGTERM or SIGINT, then drains and shuts the store
/// down.
pub async fn serve(config: Config, store: Arc<dyn Store>) -> Result<(), ServeError> {
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.addr.to_string(),
            source,
        })?;
    serve_on(listener, config, store, shutdown_signal()).await
}

/// Serves on an already bound listener until `shutdown` resolves: stop accepting, finish
/// in-flight requests (up to `shutdown_grace_secs`), stop the settings watcher, then
/// [`Store::shutdown`].
pub async fn serve_on(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let data_dir = config.data_dir();
    let (keys, source) = ApiKeys::resolve(config.api_key.as_deref(), &data_dir)?;
    match source {
        KeySource::Generated(path, key) => {
            println!(
                "Generated an ingest API key (stored in {}; shown only this once):\n{key}",
                path.display()
            );
        }
        KeySource::File(path) => tracing::info!("using API key(s) from {}", path.display()),
        KeySource::Config => tracing::info!("using the API key from OPENTRACE_API_KEY"),
    }
    let settings = Arc::new(LiveSettings::load(&data_dir));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watcher = settings.clone().spawn_watcher(
        Duration::from_millis(config.settings_poll_ms),
        stop_rx.clone(),
    );
    let retention = crate::retention::spawn(
        opentrace_shared::datadir::DataDir::new(data_dir.clone()),
        settings.clone(),
        Duration::from_secs(config.retention_interval_secs.max(1)),
        stop_rx,
    );
    let app = Arc::new(App {
        keys,
        store: store.clone(),
        settings,
        metrics: Metrics::default(),
        limits: BodyLimits {
            max_body_bytes: config.max_body_bytes,
            max_decompressed_bytes: config.max_decompressed_bytes,
        },
        max_entries: config.max_entries,
        default_env: config.default_env.clone(),
        shutting_down: AtomicBool::new(false),
    });
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("opentrace-ingestd listening on http://{addr}");
    }
    accept_loop(
        listener,
        app,
        shutdown,
        Duration::from_secs(config.shutdown_grace_secs),
    )
    .await;
    let _ = stop_tx.send(true);
    let _ = watcher.await;
    let _ = retention.await;
    store.shutdown().await?;
    tracing::info!("opentrace-ingestd stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
