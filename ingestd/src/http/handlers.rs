//! Request handlers and routing.
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `POST /api/v2/logs`, `POST /api/logs` | Bearer | 201 `{"count": n}` (rows stored), 200 when 0 stored, 200 `{"count": n, "deduplicated": true}` for a replayed `X-Batch-ID`; `"rejected": [{"index", "error"}]` lists bad entries; 400 body not JSON / not array or object; 401; 413 too big or more than `max_entries`; 415 unknown encoding; 503 + `Retry-After` on backpressure or a full disk; 500 other storage errors |
//! | `…?validate=1` | Bearer | 200 `{"valid", "count", "entries", "results": [{"index", "errors", "warnings"}]}`; nothing stored |
//! | `GET /api/version` | none | the Ruby SDK's probe: `api_version` 2, `min_client_api_version` 1, capabilities |
//! | `GET /healthz` | none | 200 `{"status":"ok","version"}` |
//! | `GET /readyz` | none | 200 `{"status":"ready"}`, 503 while shutting down |
//! | `GET /metrics` | none | Prometheus text |

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue};
use hyper::{Method, Request, StatusCode};
use opentrace_shared::BatchId;
use serde_json::json;

use super::auth::authorized;
use super::body::{self, BodyError, BodyLimits};
use super::responses::{self, Resp};
use crate::apikey::ApiKeys;
use crate::metrics::Metrics;
use crate::pipeline::{self, BatchOutcome};
use crate::settings_watch::LiveSettings;
use crate::store::{Store, StoreError};
use crate::wire::{BatchError, DecodeCtx, Dialect};

/// Capabilities announced on `/api/version`.
pub const CAPABILITIES: [&str; 7] = [
    "batch_ingest",
    "gzip_request",
    "batch_dedup",
    "request_summaries",
    "flat_v2",
    "legacy_nested",
    "validate",
];

/// Everything a request handler needs.
pub struct App {
    /// Accepted API keys.
    pub keys: ApiKeys,
    /// The durable store.
    pub store: Arc<dyn Store>,
    /// Live settings (PII rules).
    pub settings: Arc<LiveSettings>,
    /// Counters.
    pub metrics: Metrics,
    /// Body limits.
    pub limits: BodyLimits,
    /// Most entries per request.
    pub max_entries: usize,
    /// `env` for entries without one.
    pub default_env: String,
    /// Set when shutdown has begun (`/readyz` turns 503).
    pub shutting_down: AtomicBool,
}

/// A valid `X-Batch-ID`: 1–128 visible ASCII characters. Anything else is ignored (the batch
/// is stored without dedupe) rather than refused, so no data is lost over a header.
fn batch_id<B>(req: &Request<B>) -> Option<BatchId> {
    let v = req.headers().get("x-batch-id")?.to_str().ok()?.trim();
    (!v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| BatchId(v.to_string()))
}

fn is_validate<B>(req: &Request<B>) -> bool {
    req.uri().query().is_some_and(|q| {
        q.split('&')
            .any(|kv| matches!(kv, "validate=1" | "validate=true" | "validate"))
    })
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl App {
    /// Routes one request and counts its status.
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Resp {
        let resp = self.route(req).await;
        self.metrics.count_status(resp.status().as_u16());
        resp
    }

    async fn route(&self, req: Request<Incoming>) -> Resp {
        let path = req.uri().path();
        let method = req.method();
        match (path, method) {
            ("/api/v2/logs", &Method::POST) => self.ingest(req, Dialect::V2).await,
            ("/api/logs", &Method::POST) => self.ingest(req, Dialect::Legacy).await,
            ("/api/version", &Method::GET | &Method::HEAD) => {
                responses::json(StatusCode::OK, &version_body())
            }
            ("/healthz", &Method::GET | &Method::HEAD) => responses::json(
                StatusCode::OK,
                &json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
            ),
            ("/readyz", &Method::GET | &Method::HEAD) => {
                if self.shutting_down.load(Ordering::Relaxed) {
                    responses::json(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &json!({"status": "shutting_down"}),
                    )
                } else {
                    responses::json(StatusCode::OK, &json!({"status": "ready"}))
                }
            }
            ("/metrics", &Method::GET) => responses::text(
                StatusCode::OK,
                self.metrics.render(&self.store.stats()),
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (
                "/api/v2/logs" | "/api/logs" | "/api/version" | "/healthz" | "/readyz" | "/metrics",
                _,
            ) => {
                let mut r = responses::error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("method {method} not allowed on {path}"),
                );
                let allow = if path.ends_with("logs") {
                    "POST"
                } else {
                    "GET"
                };
                r.headers_mut()
                    .insert("allow", HeaderValue::from_static(allow));
                r
            }
            _ => responses::error(StatusCode::NOT_FOUND, format!("no route for {path}")),
        }
    }

    async fn ingest(&self, req: Request<Incoming>, dialect: Dialect) -> Resp {
        if !authorized(&self.keys, &req) {
            return responses::error(
                StatusCode::UNAUTHORIZED,
                "missing or invalid API key (Authorization: Bearer <key>)",
            );
        }
        let validate = is_validate(&req);
        let batch = batch_id(&req);
        if !validate
            && let Some(id) = &batch
            && let Some(count) = self.store.lookup_batch(id)
        {
            Metrics::add(&self.metrics.batches_deduplicated, 1);
            return responses::json(
                StatusCode::OK,
                &json!({"count": count, "deduplicated": true}),
            );
        }
        // Overloaded: refuse before reading the body, so that the CPU goes to the work
        // that is behind rather than to inflating and parsing a batch that would be
        // refused anyway. (A dry run stores nothing and is still answered.)
        if !validate && let Some(retry_after) = self.store.overloaded() {
            return busy(retry_after);
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.limits.max_body_bytes as u64) {
            return body_error(BodyError::TooLarge(self.limits.max_body_bytes));
        }
        let encoding_header = req
            .headers()
            .get(CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let raw = match body::read_limited(req.into_body(), self.limits.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => return body_error(e),
        };
        Metrics::add(&self.metrics.bytes_received, raw.len() as u64);
        let decoded = match body::encoding(encoding_header.as_deref(), &raw)
            .and_then(|enc| body::decode(raw, enc, self.limits.max_decompressed_bytes))
        {
            Ok(b) => b,
            Err(e) => return body_error(e),
        };
        Metrics::add(&self.metrics.bytes_decompressed, decoded.len() as u64);

        let ctx = DecodeCtx {
            received_at: now_micros(),
            default_env: &self.default_env,
            dialect,
        };
        let active = self.settings.current();
        let (outcome, entries) =
            match pipeline::process_body(&decoded, self.max_entries, &ctx, &active.scrubber) {
                Ok(o) => o,
                Err(e @ BatchError::TooManyEntries { .. }) => {
                    return responses::error(StatusCode::PAYLOAD_TOO_LARGE, e.to_string());
                }
                Err(e) => return responses::error(StatusCode::BAD_REQUEST, e.to_string()),
            };
        if validate {
            return validation_report(&outcome, entries);
        }
        drop(decoded);
        Metrics::add(
            &self.metrics.entries_rejected,
            outcome.rejected.len() as u64,
        );
        let BatchOutcome {
            rows,
            accepted_entries,
            rejected,
            ..
        } = outcome;
        if rows.is_empty() {
            return responses::json(
                StatusCode::OK,
                &with_rejected(json!({"count": 0}), &rejected),
            );
        }
        match self.store.append(batch, rows).await {
            Ok(o) if o.deduplicated => {
                Metrics::add(&self.metrics.batches_deduplicated, 1);
                responses::json(
                    StatusCode::OK,
                    &json!({"count": o.count, "deduplicated": true}),
                )
            }
            Ok(o) => {
                Metrics::add(&self.metrics.entries_accepted, accepted_entries as u64);
                Metrics::add(&self.metrics.rows_stored, u64::from(o.count));
                let status = if o.count > 0 {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                responses::json(status, &with_rejected(json!({"count": o.count}), &rejected))
            }
            Err(StoreError::Backpressure { retry_after }) => busy(retry_after),
            Err(StoreError::DiskFull) => responses::unavailable("disk full; retry later", 30),
            Err(e) => {
                tracing::error!("store append failed: {e}");
                responses::error(StatusCode::INTERNAL_SERVER_ERROR, "failed to store entries")
            }
        }
    }
}

/// 503 for an overloaded store, `Retry-After` in whole seconds rounded up.
fn busy(retry_after: Duration) -> Resp {
    responses::unavailable(
        "ingest is overloaded; retry later",
        retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
    )
}

fn with_rejected(
    mut body: serde_json::Value,
    rejected: &[pipeline::Rejected],
) -> serde_json::Value {
    if !rejected.is_empty()
        && let Some(m) = body.as_object_mut()
    {
        m.insert("rejected".into(), json!(rejected));
    }
    body
}

fn validation_report(outcome: &BatchOutcome, entries: usize) -> Resp {
    let mut results: Vec<serde_json::Value> = (0..entries)
        .map(|index| json!({"index": index, "errors": [], "warnings": []}))
        .collect();
    for r in &outcome.rejected {
        if let Some(slot) = results.get_mut(r.index) {
            slot["errors"] = json!([r.error]);
        }
    }
    for w in &outcome.warnings {
        if let Some(slot) = results.get_mut(w.index) {
            slot["warnings"] = json!(w.warnings);
        }
    }
    responses::json(
        StatusCode::OK,
        &json!({
            "valid": outcome.rejected.is_empty(),
            "count": outcome.rows.len(),
            "entries": entries,
            "results": results,
        }),
    )
}

fn body_error(e: BodyError) -> Resp {
    let status = match e {
        BodyError::TooLarge(_) | BodyError::DecompressedTooLarge(_) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        BodyError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BodyError::BadEncoding(..) | BodyError::Read(_) => StatusCode::BAD_REQUEST,
    };
    responses::error(status, e.to_string())
}

/// The `/api/version` document (the Ruby SDK's probe).
pub fn version_body() -> serde_json::Value {
    json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "api_version": 2,
        "min_client_api_version": 1,
        "capabilities": CAPABILITIES,
    })
}
