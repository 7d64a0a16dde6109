//! End-to-end test support: the deterministic load generator ([`loadgen`]) used by the
//! end-to-end tests, the crash test and the benchmarks, and [`daemon`], which starts the real
//! `opentrace-ingestd` / `opentrace-queryd` binaries.

pub mod bench;
pub mod daemon;
pub mod loadgen;
