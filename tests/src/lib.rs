//! End-to-end test support: the deterministic load generator ([`loadgen`]) used by the
//! end-to-end tests, the crash test and the benchmarks.

// `gen` is a reserved word in edition 2024, so the `gen/` directory is the `loadgen` module.
#[path = "gen/mod.rs"]
pub mod loadgen;
