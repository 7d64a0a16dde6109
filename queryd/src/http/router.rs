//! The HTTP router and the server loop.

use std::fmt::Write;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

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
    let snap = state.catalog.snapshot();
    let stats = state.catalog.stats();
    let catalog = serde_json::json!({
        "generation": snap.generation(),
        "hours": snap.hours().len(),
        "sealed_hours": snap.hours().iter().filter(|h| h.is_sealed()).count(),
        "chunks": snap.chunk_count(),
        "wals": snap.wal_count(),
        "rows": snap.row_count(),
        "corrupt_files": stats.corrupt_files.load(Ordering::Relaxed),
    });
    if ok {
        axum::Json(serde_json::json!({"status": "ok", "catalog": catalog})).into_response()
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "platform database unavailable"})),
        )
            .into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = state.metrics.render();
    text.push_str(&catalog_metrics(&state));
    text.push_str(&follower_metrics(&state));
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Prometheus text of the catalog's counters and current snapshot size.
fn catalog_metrics(state: &AppState) -> String {
    let snap = state.catalog.snapshot();
    let st = state.catalog.stats();
    let counters = [
        (
            "snapshots",
            "Catalog snapshots published.",
            st.snapshots.load(Ordering::Relaxed),
        ),
        (
            "rescans",
            "Full rescans of the logs directory.",
            st.rescans.load(Ordering::Relaxed),
        ),
        (
            "chunks_opened",
            "Chunks mapped and validated.",
            st.chunks_opened.load(Ordering::Relaxed),
        ),
        (
            "corrupt_files",
            "Log files found corrupt or unreadable (skipped).",
            st.corrupt_files.load(Ordering::Relaxed),
        ),
        (
            "wal_rows",
            "Rows decoded from WAL tails.",
            st.wal_rows.load(Ordering::Relaxed),
        ),
        (
            "wal_errors",
            "Failed WAL polls.",
            st.wal_errors.load(Ordering::Relaxed),
        ),
    ];
    let gauges = [
        (
            "generation",
            "Generation of the current snapshot.",
            snap.generation(),
        ),
        (
            "rows",
            "Rows visible in the current snapshot.",
            snap.row_count(),
        ),
        (
            "chunks",
            "Chunks in the current snapshot.",
            snap.chunk_count() as u64,
        ),
        (
            "wals",
            "Live WAL views in the current snapshot.",
            snap.wal_count() as u64,
        ),
        (
            "hours",
            "Hour directories in the current snapshot.",
            snap.hours().len() as u64,
        ),
    ];
    let mut out = String::new();
    for (name, help, v) in counters {
        let _ = writeln!(out, "# HELP opentrace_catalog_{name}_total {help}");
        let _ = writeln!(out, "# TYPE opentrace_catalog_{name}_total counter");
        let _ = writeln!(out, "opentrace_catalog_{name}_total {v}");
    }
    for (name, help, v) in gauges {
        let _ = writeln!(out, "# HELP opentrace_catalog_{name} {help}");
        let _ = writeln!(out, "# TYPE opentrace_catalog_{name} gauge");
        let _ = writeln!(out, "opentrace_catalog_{name} {v}");
    }
    out
}

/// Prometheus text of the follower's progress: its cursor and what it has applied.
fn follower_metrics(state: &AppState) -> String {
    let f = &state.follower;
    let counters = [
        ("rows", "Log rows applied to derived state.", &f.rows),
        (
            "error_rows",
            "Error rows (with a fingerprint) applied.",
            &f.error_rows,
        ),
        ("batches", "Transactions committed.", &f.batches),
        (
            "gaps_skipped",
            "Sequence gaps declared final and skipped.",
            &f.gaps_skipped,
        ),
        (
            "seqs_skipped",
            "Sequence numbers inside skipped gaps.",
            &f.seqs_skipped,
        ),
        (
            "reopened",
            "Error groups reopened by recurrence.",
            &f.reopened,
        ),
        ("failures", "Failed follower steps (retried).", &f.failures),
    ];
    let mut out = String::new();
    for (name, help, v) in counters {
        let _ = writeln!(out, "# HELP opentrace_follower_{name}_total {help}");
        let _ = writeln!(out, "# TYPE opentrace_follower_{name}_total counter");
        let _ = writeln!(
            out,
            "opentrace_follower_{name}_total {}",
            v.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP opentrace_follower_cursor Last sequence number whose derived state is committed.\n# TYPE opentrace_follower_cursor gauge\nopentrace_follower_cursor {}",
        f.cursor.load(Ordering::Relaxed)
    );
    out
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
