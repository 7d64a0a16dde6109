//! `opentrace-queryd`: the read side of OpenTrace. It owns `DATA_DIR/platform.db` (accounts,
//! tokens, invites, settings, audit, derived error-group state) and publishes
//! `DATA_DIR/settings.json`; it serves `/connect` onboarding, the MCP endpoint `/mcp` with
//! per-user bearer tokens, `/healthz` and `/metrics`.

pub mod auth;
pub mod catalog;
pub mod commands;
pub mod config;
pub mod follower;
pub mod http;
pub mod mcp;
pub mod platform;
pub mod query;
pub mod state;
