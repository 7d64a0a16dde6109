//! The HTTP router and the server loop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::guard::mcp_guard;
use crate::auth::connect::{api_connect, connect_script};
use crate::mcp::server::McpServer;
use crate::state::AppState;

/// Builds the router: `/connect`, `/api/auth/connect`, `/healthz`, `/metrics`, and `/mcp`
/// behind [`mcp_guard`]. `cancel` stops open MCP sessions at shutdown.
pub fn router(state: Arc<AppState>, cancel: CancellationToken) -> Router {
    let mcp_config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(state.config.allowed_hosts.clone())
        .with_json_response(true)
        .with_cancellation_token(cancel);
    let st = state.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(McpServer::new(st.clone())),
        Arc::new(LocalSessionManager::default()),
        mcp_config,
    );
    let mcp_routes = Router::new()
        .route_service("/mcp", mcp)
        .layer(from_fn_with_state(state.clone(), mcp_guard));
    Router::new()
        .route("/connect", get(connect_script))
        .route("/api/auth/connect", post(api_connect))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(mcp_routes)
        .with_state(state)
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let platform = state.platform.clone();
    let ok = tokio::task::spawn_blocking(move || platform.user_count().is_ok())
        .await
        .unwrap_or(false);
    state
        .metrics
        .record_http("healthz", if ok { 200 } else { 503 });
    if ok {
        axum::Json(serde_json::json!({"status": "ok"})).into_response()
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "platform database unavailable"})),
        )
            .into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cancel = CancellationToken::new();
    let app = router(state, cancel.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        cancel.cancel();
    })
    .await
}
