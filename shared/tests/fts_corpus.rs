//! The key full-text correctness test: 200 seeded random queries over the loghub corpus,
//! indexed in 8192-row chunks, must return exactly the rows a brute-force scan returns.

mod fts_support;

use std::collections::HashSet;

use fts_support::{Rng, corpus_rows, loghub_lines};
use opentrace_shared::Row;
use opentrace_shared::fts::{
    Clause, IndexBuilder, IndexError, IndexReader, Query, Tokenizer, indexed_texts, search,
};

const CHUNK_ROWS: usize = 8192;

/// What brute force knows about one row: its token set and each text's compound sequence.
struct RowTruth {
    tokens: HashSet<String>,
    texts: Vec<Vec<String>>,
}

fn truth(row: &Row, tok: &mut Tokenizer) -> RowTruth {
    let mut t = RowTruth {
        tokens: HashSet::new(),
        texts: Vec::new(),
    };
    indexed_texts(row, |_, text| {
        tok.tokens(text, |x| {
            t.tokens.insert(x.to_string());
        });
        let mut seq = Vec::new();
        tok.compounds(text, |c| seq.push(c.to_string()));
        t.texts.push(seq);
    });
    t
}

fn brute_force(q: &Query, rows: &[RowTruth]) -> Vec<u32> {
    let hit = |r: &RowTruth| {
        q.clauses().iter().all(|c| match c {
            Clause::Term(t) => r.tokens.contains(t),
            Clause::Phrase(p) => r
                .texts
                .iter()
                .any(|s| s.windows(p.len()).any(|w| w == p.as_slice())),
        })
    };
    (0..rows.len())
        .filter(|&i| hit(&rows[i]))
        .map(|i| i as u32)
        .collect()
}

#[test]
fn random_queries_match_brute_force() {
    let lines = loghub_lines();
    assert!(lines.len() > 30_000, "corpus has {} lines", lines.len());
    let rows = corpus_rows(&lines);
    let mut tok = Tokenizer::new();
    let truths: Vec<RowTruth> = rows.iter().map(|r| truth(r, &mut tok)).collect();

    let files: Vec<Vec<u8>> = rows
        .chunks(CHUNK_ROWS)
        .map(|chunk| {
            let mut b = IndexBuilder::new();
            for (i, r) in chunk.iter().enumerate() {
                b.add_row(i as u32, r);
            }
            b.finish().unwrap()
        })
        .collect();
    let readers: Vec<IndexReader<'_>> = files
        .iter()
        .map(|f| IndexReader::open(f).unwrap())
        .collect();

    let mut rng = Rng(0x5eed_0f0e);
    let random_token = |rng: &mut Rng| -> String {
        loop {
            let r = &truths[rng.below(truths.len())];
            let mut toks: Vec<&String> = r.tokens.iter().collect();
            toks.sort();
            if !toks.is_empty() {
                return toks[rng.below(toks.len())].clone();
            }
        }
    };
    let mut non_empty = 0;
    let mut kinds = [0usize; 4];
    for qi in 0..200 {
        let kind = match qi % 20 {
            0..=6 => 0,   // single term
            7..=12 => 1,  // 2-3 terms
            13..=18 => 2, // phrase of 2-4 compounds
            _ => 3,       // includes an absent term
        };
        kinds[kind] += 1;
        let text = match kind {
            0 => random_token(&mut rng),
            1 => {
                // Terms from the same row often co-occur; from random rows rarely: mix both.
                let n = 2 + rng.below(2);
                let row = &truths[rng.below(truths.len())];
                let mut toks: Vec<&String> = row.tokens.iter().collect();
                toks.sort();
                let mut words = Vec::new();
                for _ in 0..n {
                    if rng.below(4) == 0 || toks.is_empty() {
                        words.push(random_token(&mut rng));
                    } else {
                        words.push(toks[rng.below(toks.len())].clone());
                    }
                }
                words.join(" ")
            }
            2 => loop {
                let row = &truths[rng.below(truths.len())];
                let seqs: Vec<&Vec<String>> = row.texts.iter().filter(|s| s.len() >= 2).collect();
                if seqs.is_empty() {
                    continue;
                }
                let seq = seqs[rng.below(seqs.len())];
                let len = (2 + rng.below(3)).min(seq.len());
                let start = rng.below(seq.len() - len + 1);
                break format!("\"{}\"", seq[start..start + len].join(" "));
            },
            _ => format!("{} zq{}xv", random_token(&mut rng), rng.below(1_000_000)),
        };
        let q = Query::parse(&text).unwrap_or_else(|e| panic!("query {text:?}: {e}"));
        let want = brute_force(&q, &truths);
        let mut got = Vec::new();
        for (ci, reader) in readers.iter().enumerate() {
            let base = ci * CHUNK_ROWS;
            let rows_in_chunk = &rows[base..(base + CHUNK_ROWS).min(rows.len())];
            let cands = q.candidates(reader).unwrap();
            let hits = search(reader, &q, |r| -> Result<Row, IndexError> {
                Ok(rows_in_chunk[r as usize].clone())
            })
            .unwrap();
            // Candidates are a superset of the hits.
            assert!(
                hits.iter().all(|h| cands.binary_search(h).is_ok()),
                "query {text:?}"
            );
            got.extend(hits.iter().map(|&r| r + base as u32));
        }
        assert_eq!(got, want, "query {text:?} ({q:?})");
        if kind == 3 {
            assert!(got.is_empty(), "absent term matched: {text:?}");
        }
        if !got.is_empty() {
            non_empty += 1;
        }
    }
    // The queries must exercise real matches, not just agree on empty answers.
    assert!(
        non_empty >= 150,
        "only {non_empty} of 200 queries had hits ({kinds:?})"
    );
}

#[test]
fn identifiers_in_corpus_are_findable() {
    let lines = loghub_lines();
    // Android lines (camelCase class names) and HDFS lines (block ids).
    let sample: Vec<String> = lines[..2000]
        .iter()
        .chain(lines.iter().filter(|l| l.contains("blk_")).take(1500))
        .cloned()
        .collect();
    let rows = corpus_rows(&sample);
    let mut b = IndexBuilder::new();
    for (i, r) in rows.iter().enumerate() {
        b.add_row(i as u32, r);
    }
    let file = b.finish().unwrap();
    let reader = IndexReader::open(&file).unwrap();
    // Every HDFS block id mentioned in a message is found by itself (whole compound).
    let mut checked = 0;
    for (i, r) in rows.iter().enumerate() {
        for word in r
            .message
            .split_whitespace()
            .filter(|w| w.starts_with("blk_"))
        {
            let q = Query::parse(word).unwrap();
            let cands = q.candidates(&reader).unwrap();
            assert!(
                cands.contains(&(i as u32)),
                "{word:?} not found for row {i}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} block ids checked");
    // camelCase part from the Android log (`WindowManager` → `window`, `manager`).
    let q = Query::parse("manager window").unwrap();
    let c = q.candidates(&reader).unwrap();
    assert!(
        c.iter()
            .any(|&r| rows[r as usize].message.contains("WindowManager"))
    );
}
