//! Shared helpers of the `fts_*` integration tests: the loghub corpus and a seeded PRNG.
#![allow(dead_code)]

use std::path::PathBuf;

use opentrace_shared::Row;

/// Every line of every `tests/data/loghub/*.log`, files in name order.
pub fn loghub_lines() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/loghub");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no loghub files in {}", dir.display());
    let mut lines = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        lines.extend(String::from_utf8_lossy(&bytes).lines().map(str::to_string));
    }
    lines
}

/// Rows whose `message` is each corpus line; some rows also carry other lines in
/// `error_message`, `path` and JSON `body` string values.
pub fn corpus_rows(lines: &[String]) -> Vec<Row> {
    let n = lines.len();
    (0..n)
        .map(|i| {
            let mut row = Row {
                message: lines[i].clone(),
                ..Row::default()
            };
            if i % 5 == 0 {
                row.error_message = Some(lines[(i * 7 + 3) % n].clone());
            }
            if i % 9 == 0 {
                row.path = Some(lines[(i * 3 + 1) % n].clone());
            }
            if i % 4 == 0 {
                let body = serde_json::json!({
                    "ctx": {"detail": lines[(i * 11 + 5) % n], "attempt": i % 17},
                    "tags": [lines[(i * 13 + 2) % n], "fixed-tag"],
                    "flag": true
                });
                row.body = Some(body.to_string());
            }
            row
        })
        .collect()
}

/// SplitMix64: a tiny seeded generator so test queries are reproducible.
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
