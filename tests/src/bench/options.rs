//! What a benchmark run does.

use std::path::PathBuf;

/// Knobs of one run. [`Options::quick`] is the CI smoke configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rows in the main data set (the one measured for size and queries and given to peers).
    pub rows: u64,
    /// Smoke mode: one ingest run (batch 50), bytes per row, RSS and one query; no fixed-rate
    /// phase, no freshness probe, no peers, no zstd floor.
    pub quick: bool,
    /// Generator seed.
    pub seed: u64,
    /// Concurrent HTTP connections of the load generator.
    pub concurrency: usize,
    /// Length of the fixed-rate (ack latency + freshness) phase, in seconds.
    pub fixed_rate_secs: f64,
    /// Warm iterations per query.
    pub query_iters: usize,
    /// Whether to run the Python peers (only outside quick mode).
    pub peers: bool,
    /// Where results (JSON, markdown) and scratch data go; default `<target>/bench`.
    pub out_dir: PathBuf,
    /// Keep the temporary data directories instead of deleting them.
    pub keep_data: bool,
}

impl Options {
    /// The full benchmark at `rows` rows.
    pub fn all(rows: u64, out_dir: PathBuf) -> Options {
        Options {
            rows,
            quick: false,
            seed: 1,
            concurrency: 8,
            fixed_rate_secs: 20.0,
            query_iters: 20,
            peers: true,
            out_dir,
            keep_data: false,
        }
    }

    /// The CI smoke run: `rows` rows (5–20K), ingest + bytes/row + one query.
    pub fn quick(rows: u64, out_dir: PathBuf) -> Options {
        Options {
            rows,
            quick: true,
            peers: false,
            query_iters: 3,
            ..Options::all(rows, out_dir)
        }
    }
}
