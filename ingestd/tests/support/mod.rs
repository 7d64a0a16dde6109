//! Test support: an in-memory `Store` test double and a loopback server harness.
//! Compiled only into the integration tests, never into the binary.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentrace_ingestd::config::Config;
use opentrace_ingestd::store::{AppendOutcome, BoxFuture, Store, StoreError, StoreStats};
use opentrace_shared::{BatchId, Row};

/// TEST DOUBLE: keeps rows in memory, "durable" immediately. Not a store.
#[derive(Default)]
pub struct MemStore {
    pub rows: Mutex<Vec<Row>>,
    pub batches: Mutex<HashMap<BatchId, u32>>,
    /// `append` answers Backpressure.
    pub backpressure: AtomicBool,
    /// `overloaded` answers a delay (the store says so before any body is read).
    pub overloaded: AtomicBool,
    pub shutdown_called: AtomicBool,
}

impl MemStore {
    pub fn rows(&self) -> Vec<Row> {
        self.rows.lock().unwrap().clone()
    }
}

impl Store for MemStore {
    fn append(
        &self,
        batch_id: Option<BatchId>,
        rows: Vec<Row>,
    ) -> BoxFuture<'_, Result<AppendOutcome, StoreError>> {
        Box::pin(async move {
            if self.backpressure.load(Ordering::SeqCst) {
                return Err(StoreError::Backpressure {
                    retry_after: Duration::from_millis(1500),
                });
            }
            let mut batches = self.batches.lock().unwrap();
            if let Some(id) = &batch_id
                && let Some(n) = batches.get(id)
            {
                return Ok(AppendOutcome {
                    count: *n,
                    deduplicated: true,
                });
            }
            let count = rows.len() as u32;
            self.rows.lock().unwrap().extend(rows);
            if let Some(id) = batch_id {
                batches.insert(id, count);
            }
            Ok(AppendOutcome {
                count,
                deduplicated: false,
            })
        })
    }

    fn lookup_batch(&self, id: &BatchId) -> Option<u32> {
        self.batches.lock().unwrap().get(id).copied()
    }

    fn overloaded(&self) -> Option<Duration> {
        self.overloaded
            .load(Ordering::SeqCst)
            .then_some(Duration::from_millis(1500))
    }

    fn stats(&self) -> StoreStats {
        StoreStats {
            rows_durable: self.rows.lock().unwrap().len() as u64,
            ..StoreStats::default()
        }
    }

    fn shutdown(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.shutdown_called.store(true, Ordering::SeqCst);
            Ok(())
        })
    }
}

pub const KEY: &str = "test-key-123";

/// A running ingestd on a loopback port.
pub struct Harness {
    pub addr: std::net::SocketAddr,
    pub store: Arc<MemStore>,
    pub dir: tempfile::TempDir,
    pub client: Client<HttpConnector, Full<Bytes>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), opentrace_ingestd::server::ServeError>>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::with_data_dir(dir.path());
        config.api_key = Some(KEY.to_string());
        config.settings_poll_ms = 500;
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let store = Arc::new(MemStore::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(opentrace_ingestd::server::serve_on(
            listener,
            config,
            store.clone(),
            async {
                let _ = rx.await;
            },
        ));
        let h = Harness {
            addr,
            store,
            dir,
            client: Client::builder(TokioExecutor::new()).build_http(),
            stop: Some(tx),
            task: Some(task),
        };
        // The server accepts only once keys and settings are set up.
        assert_eq!(h.get("/healthz").await.status, 200);
        h
    }

    pub async fn send(&self, req: Request<Full<Bytes>>) -> Reply {
        let resp = self.client.request(req).await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn post(&self, path: &str) -> hyper::http::request::Builder {
        Request::post(format!("http://{}{path}", self.addr))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {KEY}"))
    }

    pub async fn post_json(&self, path: &str, body: &str) -> Reply {
        let req = self
            .post(path)
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        self.send(req).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let req = Request::get(format!("http://{}{path}", self.addr))
            .body(Full::new(Bytes::new()))
            .unwrap();
        self.send(req).await
    }

    /// Triggers shutdown and waits for the server to finish.
    pub async fn stop(mut self) -> Result<(), opentrace_ingestd::server::ServeError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => t.await.unwrap(),
            None => Ok(()),
        }
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/fixtures/sdk/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}
