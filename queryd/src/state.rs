//! Shared state of the running server.

use std::sync::Arc;

use crate::auth::ratelimit::RateLimiter;
use crate::catalog::Catalog;
use crate::config::ServeConfig;
use crate::follower::FollowerStats;
use crate::http::metrics::Metrics;
use crate::http::sessions::SessionBindings;
use crate::mcp::registry::Registry;
use crate::platform::Platform;

/// Everything request handlers share.
pub struct AppState {
    /// Resolved configuration.
    pub config: ServeConfig,
    /// The platform store.
    pub platform: Arc<Platform>,
    /// Registered MCP tools.
    pub registry: Registry,
    /// Prometheus counters.
    pub metrics: Metrics,
    /// Auth endpoint limiter.
    pub auth_limiter: RateLimiter,
    /// MCP session → owning user.
    pub sessions: SessionBindings,
    /// Live view of the log store (`DATA_DIR/logs`), read by the log tools.
    pub catalog: Arc<Catalog>,
    /// Counters of the follower deriving error groups and deploys (for `/metrics`).
    pub follower: Arc<FollowerStats>,
}
