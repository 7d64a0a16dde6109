//! Where the bytes of a `.idx` go, and how far a row-level index can shrink.
//!
//! Builds the text index (no id keys, no bloom filters: `storage_bench`'s ".idx: text terms
//! only") of `storage_bench`'s rows and reports:
//! 1. the sections and the (term, row) pairs they encode;
//! 2. postings bits per pair by document frequency, beside the entropy of the same number of
//!    rows placed at random (what any lossless row-level code needs if rows were unordered);
//! 3. what each full-text field costs, alone and as the difference it makes;
//! 4. what postings of the frequent terms would take if they named blocks of rows instead
//!    of rows (a coarser index, whose candidates a query would then verify row by row).
//!
//! ```sh
//! cargo run --release -p opentrace-shared --example idx_anatomy [ROWS]
//! ```

use std::collections::HashSet;

use opentrace_shared::fts::postings::encoded_len;
use opentrace_shared::fts::{IndexBuilder, IndexReader, indexed_texts};
use opentrace_shared::schema::{COLUMNS, Col};
use opentrace_shared::{Row, testdata};

/// Terms at least this frequent get block-level postings in part 3.
const COARSE_MIN_DF: usize = 64;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(Ok(65_536), |a| a.parse())
        .expect("ROWS must be a number");
    let rows = testdata::bench_rows(n);
    let idx = text_index(&rows, |_| true);
    let reader = IndexReader::open(&idx).expect("index opens");
    let mut infos = Vec::new();
    reader
        .for_each_term(|_, info| infos.push(*info))
        .expect("dictionary walks");
    let lists: Vec<Vec<u32>> = infos
        .iter()
        .map(|i| reader.read_postings(i).expect("postings decode"))
        .collect();
    let per_row = |b: usize| b as f64 / n as f64;

    let [post, dict, index, bloom] = reader.section_sizes();
    let pairs: usize = lists.iter().map(Vec::len).sum();
    let single = lists.iter().filter(|l| l.len() == 1).count();
    println!("rows: {n}; .idx (text terms only) {} bytes", idx.len());
    println!("| what | bytes | B/row |");
    println!("|---|---:|---:|");
    for (what, b) in [
        ("postings section", post),
        (
            "dictionary section (terms, df, inline rows of df = 1 terms)",
            dict,
        ),
        ("block index", index),
        ("bloom filters", bloom),
    ] {
        println!("| {what} | {b} | {:.2} |", per_row(b));
    }
    println!(
        "terms {}, of which df = 1: {single}; (term, row) pairs {pairs} ({:.1} per row); \
         postings section {:.2} bits per pair of df >= 2 terms",
        lists.len(),
        per_row(pairs),
        post as f64 * 8.0 / (pairs - single) as f64
    );

    println!();
    println!("Postings by document frequency (a list shared by several terms counted once):");
    println!("| df | terms | pairs | bytes | bits/pair | random placement bits/pair |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut seen: HashSet<&[u32]> = HashSet::new();
    let mut lo = 2;
    while lo <= n {
        let hi = lo * 4;
        let (mut terms, mut pairs, mut bytes, mut entropy) = (0usize, 0usize, 0usize, 0f64);
        for l in lists.iter().filter(|l| (lo..hi).contains(&l.len())) {
            terms += 1;
            pairs += l.len();
            if seen.insert(l) {
                bytes += encoded_len(l);
            }
            entropy += log2_binomial(n, l.len());
        }
        if terms > 0 {
            println!(
                "| {lo}..{} | {terms} | {pairs} | {bytes} | {:.2} | {:.2} |",
                hi - 1,
                bytes as f64 * 8.0 / pairs as f64,
                entropy / pairs as f64
            );
        }
        lo = hi;
    }

    println!();
    println!("Each field indexed alone, and the index without it:");
    println!("| field | alone B/row | without it B/row |");
    println!("|---|---:|---:|");
    for def in COLUMNS.iter().filter(|d| d.full_text) {
        let alone = text_index(&rows, |c| c == def.col).len();
        let without = text_index(&rows, |c| c != def.col).len();
        println!(
            "| {} | {:.2} | {:.2} |",
            def.name,
            per_row(alone),
            per_row(without)
        );
    }

    println!();
    println!("Terms with df >= {COARSE_MIN_DF} listing blocks of rows instead of rows:");
    println!("| rows per block | row-level bytes | block-level bytes | saved B/row |");
    println!("|---:|---:|---:|---:|");
    for shift in 2..=6 {
        let (mut row_level, mut block_level) = (0usize, 0usize);
        let mut seen_rows: HashSet<&[u32]> = HashSet::new();
        let mut seen_blocks: HashSet<Vec<u32>> = HashSet::new();
        for l in lists.iter().filter(|l| l.len() >= COARSE_MIN_DF) {
            if !seen_rows.insert(l) {
                continue;
            }
            row_level += encoded_len(l);
            let mut blocks: Vec<u32> = l.iter().map(|r| r >> shift).collect();
            blocks.dedup();
            if blocks.len() >= 2 && !seen_blocks.contains(&blocks) {
                block_level += encoded_len(&blocks);
                seen_blocks.insert(blocks);
            }
        }
        println!(
            "| {} | {row_level} | {block_level} | {:.2} |",
            1 << shift,
            per_row(row_level - block_level)
        );
    }
}

/// The text index of `rows` over the fields `keep` accepts.
fn text_index(rows: &[Row], keep: impl Fn(Col) -> bool) -> Vec<u8> {
    let mut b = IndexBuilder::with_id_columns(&[]);
    for (i, r) in rows.iter().enumerate() {
        b.add_text(i as u32, "");
        indexed_texts(r, |c, t| {
            if keep(c) {
                b.add_text(i as u32, t);
            }
        });
    }
    b.finish().expect("index builds")
}

/// log2 of the number of ways to choose `k` of `n` rows: the bits an optimal code needs for
/// a list of `k` rows when every placement is equally likely.
fn log2_binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    (0..k)
        .map(|i| ((n - i) as f64 / (k - i) as f64).log2())
        .sum()
}
