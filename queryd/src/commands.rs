//! What each subcommand does: `serve`, `user create`, `invite create`, `backup`, `restore`.

pub mod backup;

use std::sync::Arc;

use crate::auth::password::hash_password;
use opentrace_shared::datadir::DataDir;

use crate::auth::ratelimit::RateLimiter;
use crate::catalog::{Catalog, CatalogOptions};
use crate::config::ServeConfig;
use crate::follower::{self, FollowerHandle, FollowerOptions};
use crate::http::metrics::Metrics;
use crate::http::router::serve;
use crate::http::sessions::SessionBindings;
use crate::mcp::tools;
use crate::platform::audit::Actor;
use crate::platform::invites::{CreatedInvite, parse_duration_secs};
use crate::platform::tokens::random_secret_for_cli;
use crate::platform::users::User;
use crate::platform::{Platform, PlatformError, Role};
use crate::state::AppState;

/// Errors of a subcommand.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The platform store failed or refused.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// Listening or serving failed.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
}

/// Opens the store, publishes settings.json, binds and serves until Ctrl-C or SIGTERM.
pub async fn run_serve(config: ServeConfig) -> Result<(), CommandError> {
    let dir = config.data_dir.clone();
    let (platform, catalog, follower) = tokio::task::spawn_blocking(
        move || -> Result<(Platform, Arc<Catalog>, FollowerHandle), CommandError> {
            let p = Platform::open(&dir)?;
            p.publish_settings()?;
            // One catalog serves both the MCP tools and the follower.
            let catalog = Arc::new(
                Catalog::open(DataDir::new(dir.clone()), CatalogOptions::default())
                    .map_err(|e| CommandError::Invalid(e.to_string()))?,
            );
            // Derived state (error groups, deploys): its own SQLite connection.
            let f = follower::spawn(
                &dir,
                &dir.join("platform.db"),
                Some(catalog.clone()),
                FollowerOptions::default(),
            )
            .map_err(|e| CommandError::Invalid(format!("cannot start the follower: {e}")))?;
            Ok((p, catalog, f))
        },
    )
    .await
    .map_err(|e| CommandError::Invalid(format!("start-up task failed: {e}")))??;
    {
        let snap = catalog.snapshot();
        tracing::info!(
            hours = snap.hours().len(),
            chunks = snap.chunk_count(),
            wals = snap.wal_count(),
            rows = snap.row_count(),
            corrupt_files = catalog
                .stats()
                .corrupt_files
                .load(std::sync::atomic::Ordering::Relaxed),
            "log catalog opened"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    let local = listener.local_addr()?;
    if config.insecure_no_auth {
        tracing::warn!(
            "MCP authentication is OFF (--insecure-no-auth-for-conformance); loopback only, for conformance tests"
        );
    }
    tracing::info!(addr = %local, public_url = %config.public_url, "opentrace-queryd listening");
    let state = Arc::new(AppState {
        auth_limiter: RateLimiter::per_minute(config.auth_rate_limit_per_minute),
        config,
        platform: Arc::new(platform),
        registry: tools::registry(),
        metrics: Metrics::default(),
        sessions: SessionBindings::default(),
        catalog,
        follower: follower.shared_stats(),
    });
    serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Result of `user create`.
pub struct CreatedUser {
    /// The account.
    pub user: User,
    /// Its first token, plaintext.
    pub token: String,
    /// The generated password, if none was given.
    pub generated_password: Option<String>,
}

/// `user create`: creates the account and issues a token.
pub fn user_create(
    platform: &Platform,
    email: &str,
    role: Role,
    envs: &[String],
    password: Option<&str>,
) -> Result<CreatedUser, CommandError> {
    let generated = match password {
        Some(_) => None,
        None => Some(random_secret_for_cli()),
    };
    let pw = password.or(generated.as_deref()).unwrap_or_default();
    let hash = hash_password(pw).map_err(|e| CommandError::Invalid(e.to_string()))?;
    let actor = Actor::operator();
    let user = platform.create_user(email, &hash, role, envs, &actor)?;
    let (_, token) = platform.issue_token(user.id, &actor)?;
    Ok(CreatedUser {
        token: token.expose().to_string(),
        user,
        generated_password: generated,
    })
}

/// `invite create`.
pub fn invite_create(
    platform: &Platform,
    role: &str,
    envs: &[String],
    expires: &str,
) -> Result<CreatedInvite, CommandError> {
    let role = Role::parse(role.trim()).ok_or_else(|| {
        CommandError::Invalid(format!("role {role:?} is invalid: use member or admin"))
    })?;
    let secs = parse_duration_secs(expires)?;
    Ok(platform.create_invite(role, envs, secs, &Actor::operator())?)
}
