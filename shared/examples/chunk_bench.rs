//! Chunk (`.col`) benchmark: size per row, build and decode throughput, compared with zstd of
//! the same rows as NDJSON.
//!
//! `cargo run --release -p opentrace-shared --example chunk_bench [-- ROWS]`
//! (default 65 536 rows; set `CHUNK_BENCH_LEVELS=1` to also sweep the text zstd level.)

use std::time::{Duration, Instant};

use opentrace_shared::chunk::{ChunkBuilder, ChunkOptions, ChunkReader};
use opentrace_shared::testdata;
use opentrace_shared::{Col, Row};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        out = Some(v);
    }
    (best, out.expect("runs > 0"))
}

fn build(rows: &[Row], options: ChunkOptions) -> Vec<u8> {
    let mut b = ChunkBuilder::with_options(options);
    for r in rows {
        b.push(r);
    }
    b.finish().expect("chunk builds")
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(65_536);
    let rows = testdata::bench_rows(n);
    let ndjson: String = rows.iter().map(|r| testdata::to_ndjson(r) + "\n").collect();
    let nd_mb = ndjson.len() as f64 / 1e6;
    println!(
        "rows: {n}, NDJSON: {} bytes ({:.1} B/row)",
        ndjson.len(),
        ndjson.len() as f64 / n as f64
    );

    let (t_build, col) = best_of(3, || build(&rows, ChunkOptions::default()));
    println!(
        ".col: {} bytes = {:.2} B/row; build {:.1} ms = {:.1} MB/s NDJSON-equivalent, {:.0} rows/s",
        col.len(),
        col.len() as f64 / n as f64,
        t_build.as_secs_f64() * 1e3,
        nd_mb / t_build.as_secs_f64(),
        n as f64 / t_build.as_secs_f64()
    );

    let reader = ChunkReader::open(&col).expect("opens");
    let (t_cols, _) = best_of(3, || {
        Col::all()
            .map(|c| reader.column(c).expect("decodes").len())
            .sum::<usize>()
    });
    let (t_rows, back) = best_of(3, || reader.rows().expect("rows decode"));
    assert_eq!(back, rows, "round trip");
    println!(
        "decode all columns: {:.1} ms = {:.1} MB/s NDJSON-equivalent; rows(): {:.1} ms = {:.0} rows/s",
        t_cols.as_secs_f64() * 1e3,
        nd_mb / t_cols.as_secs_f64(),
        t_rows.as_secs_f64() * 1e3,
        n as f64 / t_rows.as_secs_f64()
    );

    for level in [3, 19] {
        let t = Instant::now();
        let z = zstd::bulk::compress(ndjson.as_bytes(), level).expect("zstd");
        println!(
            "zstd -{level} NDJSON: {} bytes = {:.2} B/row ({:.1} MB/s); .col is {:.1}% of it",
            z.len(),
            z.len() as f64 / n as f64,
            nd_mb / t.elapsed().as_secs_f64(),
            100.0 * col.len() as f64 / z.len() as f64
        );
    }

    println!("\nper column (bytes, B/row, encoding):");
    let mut sizes: Vec<(Col, u64)> = Col::all().map(|c| (c, reader.column_size(c))).collect();
    sizes.sort_by_key(|s| std::cmp::Reverse(s.1));
    for (c, s) in sizes {
        println!(
            "  {:<18} {:>9} {:>7.2}  {:?}",
            c.name(),
            s,
            s as f64 / n as f64,
            reader.encoding(c)
        );
    }

    if std::env::var_os("CHUNK_BENCH_LEVELS").is_some() {
        println!("\ntext zstd level sweep:");
        for (level, window_log) in [
            (1, 0),
            (3, 0),
            (5, 0),
            (7, 0),
            (9, 0),
            (3, 24),
            (5, 24),
            (7, 24),
            (9, 24),
        ] {
            let opts = ChunkOptions {
                text_level: level,
                text_window_log: window_log,
                ..ChunkOptions::default()
            };
            let (t, c) = best_of(1, || build(&rows, opts));
            println!(
                "  level {level:>2} window_log {window_log:>2}: {:.2} B/row, build {:.1} MB/s",
                c.len() as f64 / n as f64,
                nd_mb / t.as_secs_f64()
            );
        }
    }
}
