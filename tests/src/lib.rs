//! End-to-end test support: the deterministic load generator ([`loadgen`]) used by the
//! end-to-end tests, the crash test and the benchmarks, and [`daemon`], which starts the real
//! `opentrace-ingestd` / `opentrace-queryd` binaries, [`ingestd`] (an ingestd with its data
//! directory, restartable), [`ingest_client`] (posting as a given SDK) and [`store_reader`]
//! (every stored row read back from a data directory).

pub mod bench;
pub mod daemon;
pub mod ingest_client;
pub mod ingestd;
pub mod loadgen;
pub mod mcp;
pub mod store_reader;
