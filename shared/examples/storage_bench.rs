//! Combined storage benchmark: the same 65 536 SDK-shaped rows (`testdata::generate`, loghub
//! messages) → `.col` + `.idx`; bytes/row of each and together against `zstd -3`/`-19` of
//! the rows as NDJSON, build throughput on one core, and lookup latencies (rare term,
//! trace id) including fetching the matching rows.
//!
//! `cargo run --release -p opentrace-shared --example storage_bench [-- ROWS]`

use std::time::{Duration, Instant};

use opentrace_shared::chunk::{ChunkBuilder, ChunkOptions, ChunkReader};
use opentrace_shared::fts::{IndexBuilder, IndexReader, KEYABLE_ID_COLUMNS, Query, indexed_texts};
use opentrace_shared::testdata;
use opentrace_shared::{Col, Row, ValueRef};

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
    let p = |q: f64| d[((d.len() as f64 - 1.0) * q).round() as usize];
    (p(0.5), p(0.99))
}

/// The writer's options; `OT_FRAME_ROWS` overrides the rows per string frame (to compare
/// frame sizes), `OT_TEXT_LEVEL` and `OT_ID_LEVEL` the zstd levels of text and id columns,
/// `OT_STREAM=0` turns off compressing text frames as rows arrive.
fn col_options() -> ChunkOptions {
    let mut o = ChunkOptions::default();
    if let Some(n) = std::env::var("OT_FRAME_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        o.text_frame_rows = n;
    }
    if let Some(l) = std::env::var("OT_TEXT_LEVEL")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        o.text_level = l;
    }
    if let Some(l) = std::env::var("OT_ID_LEVEL")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        o.id_level = l;
    }
    if std::env::var("OT_STREAM").is_ok_and(|v| v == "0") {
        o.stream_text = false;
    }
    o
}

fn build_col(rows: &[Row]) -> Vec<u8> {
    let mut b = ChunkBuilder::with_options(col_options());
    for r in rows {
        b.push(r);
    }
    b.finish().expect("chunk builds")
}

/// The index of the text plus the id keys of `ids` only (no bloom filters: rows are added
/// text by text), to show what each id column costs.
fn build_text_idx(rows: &[Row], ids: &[Col]) -> Vec<u8> {
    let mut b = IndexBuilder::with_id_columns(ids);
    for (i, r) in rows.iter().enumerate() {
        b.add_text(i as u32, "");
        indexed_texts(r, |_, t| b.add_text(i as u32, t));
        for &c in ids {
            if let Some(v) = r.get(c).as_str().filter(|v| !v.is_empty()) {
                b.add_id(i as u32, c, v);
            }
        }
    }
    b.finish().expect("index builds")
}

fn build_idx(rows: &[Row]) -> Vec<u8> {
    let mut b = IndexBuilder::new();
    for (i, r) in rows.iter().enumerate() {
        b.add_row(i as u32, r);
    }
    b.finish().expect("index builds")
}

/// Columns an agent-facing result row shows (the projection used for materialisation).
const RESULT_COLS: &[Col] = &[
    Col::Seq,
    Col::Ts,
    Col::Service,
    Col::Level,
    Col::Message,
    Col::TraceId,
];

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(65_536);
    let rows = testdata::bench_rows(n);
    let ndjson: String = rows.iter().map(|r| testdata::to_ndjson(r) + "\n").collect();
    let nd_mb = ndjson.len() as f64 / 1e6;
    let per_row = |b: usize| b as f64 / n as f64;

    let (t_col, col) = best_of(3, || build_col(&rows));
    if std::env::var_os("OT_COLUMNS").is_some() {
        let r = ChunkReader::open(&col).expect("chunk opens");
        for c in Col::all() {
            eprintln!(
                "{:>16} {:?} {:>9} B {:>6.2} B/row",
                c.name(),
                r.encoding(c).map(|e| e.values),
                r.column_size(c),
                r.column_size(c) as f64 / rows.len() as f64
            );
        }
    }
    let (t_idx, idx) = best_of(3, || build_idx(&rows));
    let text_idx = build_text_idx(&rows, &[]);
    let id_costs: Vec<(String, usize)> = KEYABLE_ID_COLUMNS
        .iter()
        .map(|&c| {
            let distinct: std::collections::HashSet<&str> =
                rows.iter().filter_map(|r| r.get(c).as_str()).collect();
            let extra = build_text_idx(&rows, &[c]).len() - text_idx.len();
            (
                format!(
                    ".idx: id keys of {} ({} distinct)",
                    c.name(),
                    distinct.len()
                ),
                extra,
            )
        })
        .collect();
    let z3 = zstd::bulk::compress(ndjson.as_bytes(), 3).expect("zstd");
    let z19 = zstd::bulk::compress(ndjson.as_bytes(), 19).expect("zstd");

    let chunk = ChunkReader::open(&col).expect("chunk opens");
    let index = IndexReader::open(&idx).expect("index opens");
    assert_eq!(chunk.rows().expect("rows decode"), rows, "round trip");

    // Rare terms: df = 1 terms of the message column, spread over the dictionary.
    let mut rare = Vec::new();
    index
        .for_each_term(|t, info| {
            if info.doc_freq == 1
                && let Ok(s) = std::str::from_utf8(t)
                && !s.starts_with('\u{1}')
            {
                rare.push(s.to_string());
            }
        })
        .expect("walk");
    let step = (rare.len() / 2000).max(1);
    let rare: Vec<Query> = rare
        .iter()
        .step_by(step)
        .filter_map(|t| Query::parse(&format!("\"{t}\"")).ok())
        .collect();
    // Trace ids: one per 37 rows that has one.
    let traces: Vec<String> = rows
        .iter()
        .step_by(37)
        .filter_map(|r| r.trace_id.clone())
        .take(1000)
        .collect();

    let mut sink = 0usize;
    // Rare term → candidates → verify on the row → materialise it.
    let (rare_idx50, rare_idx99) = latencies(&rare, |q| {
        sink += q.candidates(&index).expect("query").len();
    });
    let (rare_row50, rare_row99) = latencies(&rare[..rare.len().min(200)], |q| {
        for r in q.candidates(&index).expect("query") {
            let row = chunk.row(r).expect("row");
            sink += usize::from(q.matches_row(&row));
        }
    });
    let (rare_proj50, rare_proj99) = latencies(&rare, |q| {
        let cands = q.candidates(&index).expect("query");
        let got = chunk.rows_at(&cands, RESULT_COLS).expect("rows_at");
        sink += got.len();
    });
    // Trace id: column scan (filter_eq) vs the index's exact-id keys.
    let (tr_scan50, tr_scan99) = latencies(&traces[..traces.len().min(200)], |t| {
        let rs = chunk
            .filter_eq(Col::TraceId, ValueRef::Str(t))
            .expect("filter");
        sink += chunk
            .rows_at(rs.as_slice(), RESULT_COLS)
            .expect("rows")
            .len();
    });
    let (tr_idx50, tr_idx99) = latencies(&traces, |t| {
        let rs = index
            .id_postings(Col::TraceId, t)
            .expect("ids")
            .unwrap_or_default();
        sink += chunk.rows_at(&rs, RESULT_COLS).expect("rows").len();
    });

    let both = col.len() + idx.len();
    println!(
        "rows: {n}, NDJSON {} bytes ({:.1} B/row)",
        ndjson.len(),
        per_row(ndjson.len())
    );
    println!("| what | bytes | B/row | vs zstd -19 |");
    println!("|---|---:|---:|---:|");
    let table: Vec<(&str, usize)> = [
        (".col", col.len()),
        (".idx", idx.len()),
        (".idx: text terms only", text_idx.len()),
        (
            ".idx: bloom filters of the id columns (difference)",
            idx.len() - text_idx.len(),
        ),
    ]
    .into_iter()
    .chain(id_costs.iter().map(|(w, b)| (w.as_str(), *b)))
    .chain([
        (".col + .idx", both),
        ("zstd -3 NDJSON", z3.len()),
        ("zstd -19 NDJSON", z19.len()),
    ])
    .collect();
    for (what, b) in table {
        println!(
            "| {what} | {b} | {:.2} | {:.0}% |",
            per_row(b),
            100.0 * b as f64 / z19.len() as f64
        );
    }
    let t_both = t_col + t_idx;
    println!(
        "build, one core (best of 3): .col {:.0} ms ({:.0} MB/s), .idx {:.0} ms ({:.0} MB/s), both {:.0} MB/s NDJSON-equivalent",
        t_col.as_secs_f64() * 1e3,
        nd_mb / t_col.as_secs_f64(),
        t_idx.as_secs_f64() * 1e3,
        nd_mb / t_idx.as_secs_f64(),
        nd_mb / t_both.as_secs_f64()
    );
    println!("| lookup | p50 | p99 |");
    println!("|---|---:|---:|");
    for (what, p50, p99) in [
        ("rare term: candidates", rare_idx50, rare_idx99),
        ("rare term: + row(i) + verify", rare_row50, rare_row99),
        ("rare term: + rows_at(6 cols)", rare_proj50, rare_proj99),
        ("trace id: filter_eq + rows_at", tr_scan50, tr_scan99),
        ("trace id: id_postings + rows_at", tr_idx50, tr_idx99),
    ] {
        println!("| {what} | {p50:?} | {p99:?} |");
    }
    println!(
        "(rare queries {}, traces {}, checksum {sink})",
        rare.len(),
        traces.len()
    );
}
