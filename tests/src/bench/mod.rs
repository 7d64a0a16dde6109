//! The benchmark harness behind `cargo run --release -p opentrace-tests --bin bench -- all`.
//!
//! It starts the real `opentrace-ingestd` (and `opentrace-queryd`) binaries on temporary data
//! directories, drives them with the load generator ([`crate::loadgen`]) and measures what a
//! user comparing log stores would ask: ingest throughput and ack latency over HTTP, time from
//! ack to searchable, bytes per row on disk, daemon memory, and query latency of agent-style
//! queries. The same rows are written as NDJSON and loaded into peer stores (ClickHouse via
//! `chdb`, DuckDB, SQLite FTS5; `tests/bench/peers/run_peers.py`) and compressed with zstd as
//! a size floor, in the same run. Results go to `target/bench/results-<ts>.json` plus a
//! markdown rendering pasted into `BENCHMARKS.md`.
//!
//! Module map: [`options`] (what to run), [`dataset`] (pre-generated, pre-encoded batches and
//! the probe values queries look for), [`ingest`] (daemon start/stop and load phases),
//! [`freshness`] (ack → searchable), [`queries`] (the query set, in-process), [`disk`],
//! [`procfs`], [`machine`], [`floor`] (zstd), [`peers`] (the Python peers), [`results`]
//! (JSON + markdown) and [`run`] (the orchestration). [`hours`] is the separate 24-hour query
//! benchmark (`bench hours`): 24 hourly segments of 1M entries, queried through queryd's MCP
//! endpoint.

pub mod cpu;
pub mod dataset;
pub mod disk;
pub mod floor;
pub mod freshness;
pub mod hours;
pub mod ingest;
pub mod machine;
pub mod options;
pub mod peers;
pub mod procfs;
pub mod queries;
pub mod results;
pub mod run;

pub use options::Options;
pub use results::Results;
pub use run::run;
