//! `opentrace-ingestd`: the ingest daemon of OpenTrace.
//!
//! It accepts SDK batches over HTTP ([`http`]), turns every entry into a
//! [`opentrace_shared::Row`] ([`wire`] decoding, then the [`pipeline`]: in-request log
//! expansion, error-detail promotion, PII scrubbing, caps, kind, fingerprint) and hands the
//! rows to a [`store::Store`], whose `append` resolves only once the rows are durable.
//! [`server::serve`] wires it together; `main.rs` only parses the [`config`], opens the
//! store ([`storage::open`]) and calls it.

pub mod apikey;
pub mod config;
pub mod engine;
pub mod http;
pub mod metrics;
pub mod pipeline;
pub mod retention;
pub mod server;
pub mod settings_watch;
pub mod storage;
pub mod store;
pub mod wire;
