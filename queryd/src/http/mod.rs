//! HTTP surface: the router, the /mcp guard (Host/Origin, bearer auth, session binding),
//! Prometheus metrics and the session→user table.

pub mod guard;
pub mod metrics;
pub mod router;
pub mod sessions;
