//! One-off throughput measurement of the record codec (not a benchmark suite, no timing
//! assertions). Run in release mode:
//!
//! `cargo test -p opentrace-shared --release --test wal_throughput -- --ignored --nocapture`

mod wal_support;

use std::time::Instant;

use opentrace_shared::schema::COLUMNS;
use opentrace_shared::wal::{encode_record, read_records};
use opentrace_shared::{Row, ValueRef};
use wal_support::{Rng, sample_record};

/// Bytes of field data in a row: string lengths plus 8 per integer or timestamp.
fn field_bytes(row: &Row) -> usize {
    COLUMNS
        .iter()
        .map(|d| match row.get(d.col) {
            ValueRef::Null => 0,
            ValueRef::Int(_) => 8,
            ValueRef::Bool(_) => 1,
            ValueRef::Str(s) => s.len(),
        })
        .sum()
}

#[test]
#[ignore = "measurement; run in release with --ignored --nocapture"]
fn codec_throughput() {
    const ROWS_PER_RECORD: usize = 100;
    const RECORDS: usize = 2000;
    let mut rng = Rng::new(2026);
    let records: Vec<_> = (0..RECORDS)
        .map(|i| sample_record(&mut rng, 1 + (i * ROWS_PER_RECORD) as u64, ROWS_PER_RECORD))
        .collect();
    let rows = RECORDS * ROWS_PER_RECORD;
    let raw: usize = records.iter().flat_map(|r| &r.rows).map(field_bytes).sum();

    let mut buf = Vec::with_capacity(raw);
    let mut best_enc = f64::MAX;
    for _ in 0..5 {
        buf.clear();
        let t = Instant::now();
        for r in &records {
            encode_record(r, &mut buf).unwrap();
        }
        best_enc = best_enc.min(t.elapsed().as_secs_f64());
    }
    let mut best_dec = f64::MAX;
    let mut decoded = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let (recs, tail) = read_records(&buf);
        best_dec = best_dec.min(t.elapsed().as_secs_f64());
        assert_eq!(tail.good_len, buf.len());
        decoded = recs;
    }
    assert!(decoded == records);
    println!(
        "rows: {rows}, field data {:.0} B/row, encoded {:.0} B/row ({} records of {ROWS_PER_RECORD})",
        raw as f64 / rows as f64,
        buf.len() as f64 / rows as f64,
        RECORDS
    );
    println!(
        "encode: {:.0} rows/s, {:.0} MB/s of field data (best of 5)",
        rows as f64 / best_enc,
        raw as f64 / best_enc / 1e6
    );
    println!(
        "decode+verify (CRC, UTF-8, build Rows): {:.0} rows/s, {:.0} MB/s (best of 5)",
        rows as f64 / best_dec,
        raw as f64 / best_dec / 1e6
    );
}
