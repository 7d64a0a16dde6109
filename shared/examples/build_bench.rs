//! Time to build one chunk (`.col` and `.idx` together, as ingestd's builder thread does:
//! one pass pushing each row to both builders, then both `finish`es), repeated, on
//! `storage_bench`'s rows. Prints the fastest and the median build, per row, three ways:
//! - `rows in memory`: the builders alone, on owned rows;
//! - `from WAL, in place`: what ingestd does, reading a WAL image of the same rows with
//!   `for_each_wal_record` (rows borrowed from the WAL bytes);
//! - `from WAL, owned rows`: the same WAL decoded into owned `Row`s first (`read_records`,
//!   how ingestd read WALs until session 11), to price in-place decoding in one run.
//!
//! The three alternate build by build, so they see the same machine. A change to the
//! builders moves these numbers by a few percent, under the VM's noise from run to run:
//! compare two binaries by alternating them, e.g.
//!
//! ```sh
//! export MALLOC_MMAP_THRESHOLD_=1048576   # ingestd's allocator setting (see its main.rs)
//! for i in 1 2 3; do ./build_bench.old; ./build_bench.new; done
//! ```
//!
//! `cargo run --release -p opentrace-shared --example build_bench -- [ROWS] [REPEATS]`

use std::time::{Duration, Instant};

use opentrace_shared::chunk::ChunkBuilder;
use opentrace_shared::fts::IndexBuilder;
use opentrace_shared::wal::{
    HEADER_LEN, WalHeader, WalRecord, encode_record, for_each_wal_record, read_records,
};
use opentrace_shared::{ChunkId, HourId, Row, RowValues, Seq, testdata};

/// Rows per WAL record, as a batch-1000 client sends them.
const BATCH: usize = 1000;

/// The builders' work on one chunk's rows, as `ingestd`'s `build_chunk` does it.
#[derive(Default)]
struct Build {
    cb: ChunkBuilder,
    ib: IndexBuilder,
    n: u32,
}

impl Build {
    fn push<R: RowValues>(&mut self, r: &R) {
        self.ib.add_row(self.n, r);
        self.cb.push(r);
        self.n += 1;
    }

    /// Finishes both files; returns their total size.
    fn finish(mut self) -> usize {
        self.ib.release_scratch();
        let col = self.cb.finish().expect("chunk builds");
        let idx = self.ib.finish().expect("index builds");
        col.len() + idx.len()
    }
}

/// A WAL image holding `rows` in records of [`BATCH`] rows, with consecutive seqs.
fn wal_image(rows: &[Row]) -> Vec<u8> {
    let mut img = WalHeader {
        hour: HourId(0),
        chunk: ChunkId(0),
    }
    .encode()
    .to_vec();
    for (b, batch) in rows.chunks(BATCH).enumerate() {
        let rec = WalRecord {
            batch_id: None,
            rows: batch
                .iter()
                .enumerate()
                .map(|(i, r)| Row {
                    seq: Seq((b * BATCH + i) as u64 + 1),
                    ..r.clone()
                })
                .collect(),
        };
        encode_record(&rec, &mut img).expect("bench rows encode");
    }
    img
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(45_000);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let rows = testdata::bench_rows(n);
    let wal = wal_image(&rows);
    println!(
        "rows {n}, WAL {} B/row in records of {BATCH}",
        wal.len() / n.max(1)
    );
    let ways: [(&str, &dyn Fn() -> usize); 3] = [
        ("rows in memory", &|| {
            let mut b = Build::default();
            rows.iter().for_each(|r| b.push(r));
            b.finish()
        }),
        ("from WAL, in place", &|| {
            let mut b = Build::default();
            let (_, tail) = for_each_wal_record(&wal, |_, rs, _| rs.iter().for_each(|r| b.push(r)))
                .expect("WAL header");
            assert_eq!(tail.good_len, wal.len());
            b.finish()
        }),
        ("from WAL, owned rows", &|| {
            let mut b = Build::default();
            let (recs, tail) = read_records(&wal[HEADER_LEN..]);
            assert_eq!(tail.torn_bytes, 0);
            for rec in recs {
                rec.rows.iter().for_each(|r| b.push(r));
            }
            b.finish()
        }),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(repeats); ways.len()];
    let mut bytes = vec![0; ways.len()];
    for _ in 0..repeats.max(1) {
        for (i, (_, build)) in ways.iter().enumerate() {
            let t = Instant::now();
            bytes[i] = build();
            times[i].push(t.elapsed());
        }
    }
    let per_row = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    for (i, (name, _)) in ways.iter().enumerate() {
        let t = &mut times[i];
        t.sort();
        println!(
            "{name:<22} {} B/row: build min {:.3} µs/row, median {:.3} µs/row ({} builds)",
            bytes[i] / n.max(1),
            per_row(t[0]),
            per_row(t[t.len() / 2]),
            t.len()
        );
    }
}
