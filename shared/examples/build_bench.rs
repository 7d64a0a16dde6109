//! Time to build one chunk (`.col` and `.idx` together, as ingestd's builder thread does:
//! one pass pushing each row to both builders, then both `finish`es), repeated, on
//! `storage_bench`'s rows. Prints the fastest and the median build, per row.
//!
//! A change to the builders moves these numbers by a few percent, under the VM's noise in
//! one run: compare two binaries by alternating them, e.g.
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
use opentrace_shared::testdata;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(45_000);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let rows = testdata::bench_rows(n);
    let mut times: Vec<Duration> = Vec::with_capacity(repeats);
    let mut bytes = 0;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let mut cb = ChunkBuilder::new();
        let mut ib = IndexBuilder::new();
        for (i, r) in rows.iter().enumerate() {
            ib.add_row(i as u32, r);
            cb.push(r);
        }
        ib.release_scratch();
        let col = cb.finish().expect("chunk builds");
        let idx = ib.finish().expect("index builds");
        times.push(t.elapsed());
        bytes = col.len() + idx.len();
    }
    times.sort();
    let per_row = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "rows {n}, {} B/row: build min {:.3} µs/row, median {:.3} µs/row ({} builds)",
        bytes / n,
        per_row(times[0]),
        per_row(times[times.len() / 2]),
        times.len()
    );
}
