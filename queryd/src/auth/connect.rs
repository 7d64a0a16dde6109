//! `GET /connect` (the onboarding script) and `POST /api/auth/connect` (JSON
//! `{email, password, invite?}` → `{token, role, environments, ...}`).
//!
//! - No account with that email, no invite: the first such call creates the admin (decided
//!   by the database, see `platform::users`); afterwards it is refused.
//! - No account, with an invite: the invite is redeemed (single use, unexpired).
//! - Existing account, right password: a NEW token is issued (tokens are never shown twice).
//! - Anything else: one generic 401, so responses do not reveal which emails exist. Both
//!   paths cost one Argon2 computation (verify or hash), so timing does not tell them apart.
//!
//! Rate limited per client IP (429 with `Retry-After`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client_ip::client_ip;
use super::password::{check_policy, hash_password, verify_password};
use super::ratelimit::Decision;
use super::script;
use crate::platform::audit::Actor;
use crate::platform::users::{FirstAdmin, User};
use crate::platform::{Platform, PlatformError};
use crate::state::AppState;

/// The message of every refused credential check.
pub const GENERIC_REFUSAL: &str =
    "email, password or invite code not accepted; new accounts need an invite code from an admin";

#[derive(Debug, Deserialize)]
struct ConnectRequest {
    email: String,
    password: String,
    #[serde(default)]
    invite: Option<String>,
}

/// `GET /connect[?invite=CODE]`: the bash onboarding script for this server.
pub async fn connect_script(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let body = script::render(
        &state.config.public_url,
        q.get("invite").map(String::as_str),
    );
    state.metrics.record_http("connect", 200);
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/x-shellscript; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `POST /api/auth/connect`.
pub async fn api_connect(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = client_ip(peer.ip(), &xff, &state.config.trusted_proxies);
    let resp = match state.auth_limiter.check(ip) {
        Decision::Limited { retry_after_secs } => {
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(
                    json!({"error": format!("too many attempts; retry in {retry_after_secs} s")}),
                ),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Decision::Allow => match serde_json::from_slice::<ConnectRequest>(&body) {
            Err(_) => (
                StatusCode::BAD_REQUEST,
                axum::Json(
                    json!({"error": "body must be JSON {\"email\", \"password\", \"invite\"?}"}),
                ),
            )
                .into_response(),
            Ok(req) => {
                let st = state.clone();
                match tokio::task::spawn_blocking(move || {
                    connect(&st.platform, &st.config.public_url, req, ip)
                })
                .await
                {
                    Ok((status, v)) => (status, axum::Json(v)).into_response(),
                    Err(_) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        axum::Json(json!({"error": "internal error"})),
                    )
                        .into_response(),
                }
            }
        },
    };
    state
        .metrics
        .record_http("auth_connect", resp.status().as_u16());
    resp
}

fn refused() -> (StatusCode, Value) {
    (StatusCode::UNAUTHORIZED, json!({"error": GENERIC_REFUSAL}))
}

fn internal(e: PlatformError) -> (StatusCode, Value) {
    tracing::error!(error = %e, "connect failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"error": "internal error; retry later"}),
    )
}

fn issued(
    platform: &Platform,
    public_url: &str,
    user: &User,
    actor: &Actor,
    status: StatusCode,
) -> (StatusCode, Value) {
    match platform.issue_token(user.id, actor) {
        Ok((_, token)) => (
            status,
            json!({
                "token": token.expose(), "role": user.role, "environments": user.environments,
                "user_id": user.id, "email": user.email, "created": status == StatusCode::CREATED,
                "mcp_url": format!("{public_url}/mcp")
            }),
        ),
        Err(e) => internal(e),
    }
}

fn connect(
    platform: &Platform,
    public_url: &str,
    req: ConnectRequest,
    ip: IpAddr,
) -> (StatusCode, Value) {
    if let Err(e) = check_policy(&req.password) {
        return (StatusCode::BAD_REQUEST, json!({"error": e.to_string()}));
    }
    let mut actor = Actor {
        user_id: None,
        email: Some(req.email.trim().to_ascii_lowercase()),
        ip: Some(ip.to_string()),
    };
    let existing = match platform.user_with_hash(&req.email) {
        Ok(x) => x,
        Err(e) => return internal(e),
    };
    if let Some((user, hash)) = existing {
        if !verify_password(&req.password, &hash) {
            tracing::info!(%ip, "connect refused: bad credentials");
            return refused();
        }
        if !user.active {
            return (
                StatusCode::FORBIDDEN,
                json!({"error": "this account is disabled; ask an admin"}),
            );
        }
        actor.user_id = Some(user.id);
        return issued(platform, public_url, &user, &actor, StatusCode::OK);
    }
    let hash = match hash_password(&req.password) {
        Ok(h) => h,
        Err(e) => return (StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    };
    let invite = req
        .invite
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let created = match invite {
        Some(code) => platform.register_with_invite(code, &req.email, &hash, &actor),
        None => platform
            .register_first_admin(&req.email, &hash, &[], &actor)
            .map(|r| match r {
                FirstAdmin::Created(u) => Some(u),
                FirstAdmin::AlreadyTaken => None,
            }),
    };
    match created {
        Ok(Some(user)) => {
            actor.user_id = Some(user.id);
            issued(platform, public_url, &user, &actor, StatusCode::CREATED)
        }
        Ok(None) | Err(PlatformError::Conflict(_)) => {
            tracing::info!(%ip, "connect refused: no invite or invalid invite");
            refused()
        }
        Err(PlatformError::Invalid(m)) => (StatusCode::BAD_REQUEST, json!({"error": m})),
        Err(e) => internal(e),
    }
}
