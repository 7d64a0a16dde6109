//! Full-text index benchmark: builds the `.idx` of a 65 536-row chunk whose messages are
//! loghub lines, then measures size, build throughput and term-lookup latency.
//!
//! Run: `cargo run --release -p opentrace-shared --example fts_bench`
//! (`-- --write-sample DIR` instead writes a few small `.idx` files, e.g. as fuzz seeds.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use opentrace_shared::Row;
use opentrace_shared::fts::{IndexBuilder, IndexReader, Query};

const ROWS: usize = 65_536;

fn loghub_lines() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/loghub");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("loghub directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).expect("read loghub file");
        lines.extend(String::from_utf8_lossy(&bytes).lines().map(str::to_string));
    }
    lines
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Times `f` once per item; returns (p50, p99).
fn latencies<T>(items: &[T], mut f: impl FnMut(&T)) -> (Duration, Duration) {
    let mut d: Vec<Duration> = items
        .iter()
        .map(|x| {
            let t = Instant::now();
            f(x);
            t.elapsed()
        })
        .collect();
    d.sort();
    (percentile(&d, 0.5), percentile(&d, 0.99))
}

fn write_samples(dir: &str, lines: &[String]) {
    std::fs::create_dir_all(dir).expect("create sample dir");
    for (n, step) in [(3usize, 1usize), (40, 97), (300, 31)] {
        let mut b = IndexBuilder::new();
        for (i, l) in lines.iter().step_by(step).take(n).enumerate() {
            b.add_text(i as u32, l);
        }
        let path = format!("{dir}/sample_{n}.idx");
        std::fs::write(&path, b.finish().expect("build")).expect("write sample");
        println!("wrote {path}");
    }
}

fn main() {
    let lines = loghub_lines();
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, dir] = args.as_slice()
        && flag == "--write-sample"
    {
        write_samples(dir, &lines);
        return;
    }
    // 65 536 rows: the corpus cycled; the second pass gets a distinguishing suffix so the
    // second half is not an exact copy of the first.
    let rows: Vec<Row> = (0..ROWS)
        .map(|i| {
            let line = &lines[i % lines.len()];
            let message = if i < lines.len() {
                line.clone()
            } else {
                format!("{line} req={}", i * 7919)
            };
            Row {
                message,
                ..Row::default()
            }
        })
        .collect();
    let text_bytes: usize = rows.iter().map(|r| r.message.len()).sum();

    // Tokenizer alone: best of 3.
    let mut tok = opentrace_shared::fts::Tokenizer::new();
    let mut tok_best = Duration::MAX;
    let mut n_tokens = 0usize;
    for _ in 0..3 {
        n_tokens = 0;
        let t = Instant::now();
        for r in &rows {
            tok.tokens(&r.message, |_| n_tokens += 1);
        }
        tok_best = tok_best.min(t.elapsed());
    }
    println!(
        "tokenizer alone: {:.1} MB/s, {:.1} tokens/row",
        text_bytes as f64 / tok_best.as_secs_f64() / 1e6,
        n_tokens as f64 / ROWS as f64
    );

    // Build: best of 3.
    let mut best = Duration::MAX;
    let mut file = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut b = IndexBuilder::new();
        for (i, r) in rows.iter().enumerate() {
            b.add_row(i as u32, r);
        }
        file = b.finish().expect("build");
        best = best.min(t.elapsed());
    }
    let secs = best.as_secs_f64();
    println!(
        "rows: {ROWS}, indexed text: {:.1} MB",
        text_bytes as f64 / 1e6
    );
    println!(
        ".idx size: {} bytes = {:.1} bytes/row ({:.1}% of text)",
        file.len(),
        file.len() as f64 / ROWS as f64,
        100.0 * file.len() as f64 / text_bytes as f64
    );
    println!(
        "build (tokenize + index + encode, best of 3): {:.1} ms = {:.0} rows/s, {:.1} MB/s of text",
        secs * 1e3,
        ROWS as f64 / secs,
        text_bytes as f64 / secs / 1e6
    );

    let t = Instant::now();
    let reader = IndexReader::open(&file).expect("open");
    let open_verified = t.elapsed();
    let t = Instant::now();
    let _ = IndexReader::open_trusted(&file).expect("open");
    println!(
        "open: verified (all CRCs) {:?}, trusted {:?}",
        open_verified,
        t.elapsed()
    );
    println!(
        "terms: {}, blocks: {}",
        reader.term_count(),
        reader.block_count()
    );

    let mut rare = Vec::new();
    let mut by_df: Vec<(u32, String)> = Vec::new();
    let mut storage: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    reader
        .for_each_term(|t, info| {
            let term = String::from_utf8_lossy(t).into_owned();
            let e = storage.entry(info.storage()).or_default();
            e.0 += 1;
            e.1 += info.postings_bytes();
            if info.doc_freq == 1 {
                rare.push(term.clone());
            }
            by_df.push((info.doc_freq, term));
        })
        .expect("walk");
    for (k, (n, bytes)) in &storage {
        println!("  postings {k:>6}: {n:>7} terms, {bytes:>8} bytes");
    }
    by_df.sort_by_key(|x| std::cmp::Reverse(x.0));
    let common: Vec<String> = by_df.iter().take(50).map(|x| x.1.clone()).collect();
    println!(
        "common terms: {} .. {} rows (e.g. {:?})",
        by_df.get(49).map_or(0, |x| x.0),
        by_df.first().map_or(0, |x| x.0),
        &common[..5.min(common.len())]
    );
    // Spread the rare sample over the dictionary.
    let step = (rare.len() / 20_000).max(1);
    let rare: Vec<String> = rare.into_iter().step_by(step).collect();

    let mut sink = 0usize;
    let (p50, p99) = latencies(&rare, |t| {
        sink += reader.postings(t).expect("lookup").map_or(0, |v| v.len());
    });
    println!(
        "rare-term lookup (1 hit, {} terms): p50 {:?}, p99 {:?}",
        rare.len(),
        p50,
        p99
    );
    let common_rep: Vec<&String> = common.iter().cycle().take(2000).collect();
    let (p50, p99) = latencies(&common_rep, |t| {
        sink += reader.postings(t).expect("lookup").map_or(0, |v| v.len());
    });
    println!(
        "common-term lookup + decode (top 50 terms): p50 {:?}, p99 {:?}",
        p50, p99
    );
    let absent: Vec<String> = (0..5000).map(|i| format!("absent{i}x")).collect();
    let (p50, p99) = latencies(&absent, |t| {
        sink += reader.postings(t).expect("lookup").map_or(0, |v| v.len());
    });
    println!("absent-term lookup: p50 {:?}, p99 {:?}", p50, p99);
    let queries: Vec<Query> = rare
        .iter()
        .zip(common.iter().cycle())
        .take(5000)
        .filter_map(|(r, c)| Query::parse(&format!("{c} {r}")).ok())
        .collect();
    let (p50, p99) = latencies(&queries, |q| {
        sink += q.candidates(&reader).expect("query").len();
    });
    println!(
        "2-term query (common AND rare) candidates: p50 {:?}, p99 {:?}",
        p50, p99
    );
    println!("(checksum of results: {sink})");
}
