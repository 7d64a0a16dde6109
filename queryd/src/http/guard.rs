//! The guard in front of rmcp on `/mcp`, run on every request before rmcp sees it:
//! 1. DNS-rebinding protection: `Host` must be a loopback name, the public URL's host or a
//!    configured host; a present `Origin` must be loopback, the public URL's origin or a
//!    configured origin. Otherwise 403.
//! 2. Bearer token: missing or unknown → 401 with `WWW-Authenticate: Bearer`; a disabled
//!    account → 403.
//! 3. Session binding: an `Mcp-Session-Id` created by another user → 403.
//! 4. The [`Caller`] is attached to the request; a new session id in the response is bound
//!    to the caller.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::sessions::SessionCheck;
use crate::auth::client_ip::client_ip;
use crate::config::{LOOPBACK_HOSTS, ServeConfig, split_host_port, split_url};
use crate::mcp::caller::Caller;
use crate::platform::{Role, UserId};
use crate::state::AppState;

const SESSION_HEADER: &str = "mcp-session-id";

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

fn unauthorized(message: &str, token_given: bool) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, message);
    let challenge = if token_given {
        "Bearer realm=\"opentrace\", error=\"invalid_token\""
    } else {
        "Bearer realm=\"opentrace\""
    };
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    r
}

/// Whether the `Host` header (or URI authority) names this server.
pub fn host_allowed(cfg: &ServeConfig, headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let raw = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.as_str().to_string()));
    match raw.as_deref().and_then(split_host_port) {
        Some((host, _)) => cfg.allowed_hosts.contains(&host),
        None => false,
    }
}

/// Whether an `Origin` header value is acceptable.
pub fn origin_allowed(cfg: &ServeConfig, origin: &str) -> bool {
    let Some((scheme, host, port)) = split_url(origin.trim()) else {
        return false;
    };
    if LOOPBACK_HOSTS.contains(&host.as_str()) {
        return true;
    }
    let default = if scheme == "https" { 443 } else { 80 };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let normal = if port == default {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{port}")
    };
    cfg.allowed_origins.contains(&normal)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Axum middleware for `/mcp`.
pub async fn mcp_guard(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let resp = guard(&state, peer, req, next).await;
    state.metrics.record_http("mcp", resp.status().as_u16());
    resp
}

async fn guard(state: &Arc<AppState>, peer: SocketAddr, mut req: Request, next: Next) -> Response {
    let cfg = &state.config;
    if !host_allowed(cfg, req.headers(), req.uri()) {
        return error(
            StatusCode::FORBIDDEN,
            "Host header is not allowed (DNS-rebinding protection); set OPENTRACE_PUBLIC_URL or OPENTRACE_ALLOWED_HOSTS",
        );
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let ok = origin.to_str().is_ok_and(|o| origin_allowed(cfg, o));
        if !ok {
            return error(
                StatusCode::FORBIDDEN,
                "Origin is not allowed; set OPENTRACE_ALLOWED_ORIGINS to allow a browser origin",
            );
        }
    }
    let xff: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = client_ip(peer.ip(), &xff, &cfg.trusted_proxies);

    let caller = if cfg.insecure_no_auth {
        Caller {
            user_id: UserId(0),
            email: String::from("conformance (no auth)"),
            role: Role::Member,
            allowed_envs: Vec::new(),
            ip: Some(ip),
        }
    } else {
        let Some(token) = bearer(req.headers()).map(str::to_string) else {
            return unauthorized(
                "missing bearer token: send Authorization: Bearer <token> (get one with curl -s <server>/connect | bash)",
                false,
            );
        };
        let platform = state.platform.clone();
        let found = tokio::task::spawn_blocking(move || platform.authenticate_token(&token)).await;
        let owner = match found {
            Ok(Ok(Some(owner))) => owner,
            Ok(Ok(None)) => return unauthorized("invalid or revoked token", true),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "token lookup failed");
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "token lookup failed; retry",
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "token lookup task failed");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "token lookup failed");
            }
        };
        if !owner.user.active {
            return error(
                StatusCode::FORBIDDEN,
                "this account is disabled; ask an admin",
            );
        }
        Caller {
            user_id: owner.user.id,
            email: owner.user.email,
            role: owner.user.role,
            allowed_envs: owner.user.environments,
            ip: Some(ip),
        }
    };

    let session = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(sid) = &session
        && state.sessions.check(sid, caller.user_id) == SessionCheck::Foreign
    {
        return error(
            StatusCode::FORBIDDEN,
            "this MCP session belongs to another user; initialize a new session",
        );
    }
    let user = caller.user_id;
    let is_delete = req.method() == Method::DELETE;
    req.extensions_mut().insert(caller);
    let resp = next.run(req).await;
    match &session {
        None => {
            if let Some(sid) = resp
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
            {
                state.sessions.bind(sid, user);
            }
        }
        Some(sid) if is_delete && resp.status().is_success() => state.sessions.unbind(sid),
        Some(_) => {}
    }
    resp
}
