//! CI smoke test of the benchmark harness: `bench --quick` on a tiny data set.
//!
//! Runs the real ingestd (built in this test profile if missing), ingests ~10K rows, flushes,
//! measures the data directory and runs one query in-process. Asserts only that numbers were
//! produced (rows stored, chunk files written, the needle found, the results file written),
//! never anything about time. Needs no Python: peers only run in `bench all`.

use opentrace_tests::bench::{Options, run};

#[test]
fn quick_bench_produces_numbers() {
    let out = tempfile::tempdir().unwrap();
    let opts = Options::quick(10_000, out.path().to_path_buf());
    let (r, json) = run(&opts, "bench --quick").unwrap();

    assert_eq!(r.rows, 10_000);
    assert!(r.rows_stored >= 10_000, "rows stored: {}", r.rows_stored);
    let main = &r.ingest[0];
    assert_eq!(main.entries_acked, 10_000);
    assert_eq!(main.entries_lost, 0);
    assert!(main.entries_per_s > 0.0);
    assert!(
        r.disk.chunks >= 1 && r.disk.col > 0 && r.disk.idx > 0,
        "{:?}",
        r.disk
    );
    assert!(r.bytes_per_row() > 0.0);
    assert!(r.ingestd_mem.vm_hwm_kb > 0);
    let fresh = r.freshness_idle.as_ref().unwrap();
    assert!(fresh.samples > 0 && fresh.timeouts == 0, "{fresh:?}");
    assert_eq!(r.queries.len(), 1);
    assert_eq!(r.queries[0].key, "needle");
    assert_eq!(
        r.queries[0].result, 1,
        "the needle term occurs in exactly one row"
    );

    let text = std::fs::read_to_string(&json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["rows"], 10_000);
    assert!(r.to_markdown().contains("| needle"));
}
