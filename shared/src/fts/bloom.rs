//! Bloom filters of id columns (`.idx` version 3, `docs/format/idx.md` §3.5).
//!
//! A lookup by trace, span, request or user id would otherwise decode the whole id column
//! of every chunk in the time range. Each chunk's `.idx` carries, per id column, a bloom
//! filter of its distinct values: 16 bits per distinct value (about 0.05% false
//! positives, so a lookup over a day of 384 chunks scans 0.2 chunks in vain instead of 3),
//! about 2.4 B/row for the four columns, where exact-id postings cost 5–10 B/row each. A chunk
//! whose filter says "absent" is skipped; "maybe" means scan its column as before.
//!
//! Hashing: XXH3-64 of the value's UTF-8 bytes (case-sensitive, no normalisation), then
//! double hashing: probe `i` sets bit `(h + i·(rotl(h, 32) | 1)) mod m` of the `m = 64·words`
//! bits (wrapping 64-bit arithmetic), for `i` in `0..k`. Bits are numbered within
//! little-endian 64-bit words: bit `b` is bit `b % 64` of word `b / 64`.

use xxhash_rust::xxh3::xxh3_64;

use super::error::{IndexError, Section};
use crate::schema::Col;

/// Columns that get a bloom filter by default.
pub const BLOOM_COLUMNS: &[Col] = &[Col::TraceId, Col::SpanId, Col::RequestId, Col::UserId];

/// Bits per distinct value.
const BITS_PER_VALUE: u64 = 16;

/// Probes per value (optimal for 16 bits per value: 16 · ln 2 ≈ 11).
const PROBES: u8 = 11;

/// Largest probe count a reader accepts.
const MAX_PROBES: u8 = 16;

/// Bytes before the words of one filter: `u32` word count, `u8` probes, 3 reserved bytes.
const FILTER_HEAD: usize = 8;

/// The hash a value is filed under.
pub fn value_hash(value: &str) -> u64 {
    xxh3_64(value.as_bytes())
}

fn probes(h: u64, k: u8, bits: u64) -> impl Iterator<Item = u64> {
    let step = h.rotate_left(32) | 1;
    (0..u64::from(k)).map(move |i| h.wrapping_add(i.wrapping_mul(step)) % bits)
}

/// Appends the filter of `hashes` (any order, duplicates allowed) to `out`.
pub fn write_filter(hashes: &mut Vec<u64>, out: &mut Vec<u8>) {
    hashes.sort_unstable();
    hashes.dedup();
    let words = (hashes.len() as u64 * BITS_PER_VALUE).div_ceil(64).max(1);
    let bits = words * 64;
    let mut w = vec![0u64; words as usize];
    for &h in hashes.iter() {
        for b in probes(h, PROBES, bits) {
            if let Some(word) = w.get_mut((b / 64) as usize) {
                *word |= 1 << (b % 64);
            }
        }
    }
    out.extend_from_slice(&(words as u32).to_le_bytes());
    out.extend_from_slice(&[PROBES, 0, 0, 0]);
    for word in w {
        out.extend_from_slice(&word.to_le_bytes());
    }
}

/// One filter inside a mapped file.
#[derive(Debug, Clone, Copy)]
pub struct Filter<'a> {
    words: &'a [u8],
    k: u8,
}

impl Filter<'_> {
    /// Whether `value` may be present (`false`: certainly absent).
    pub fn may_contain(&self, value: &str) -> bool {
        let bits = (self.words.len() as u64) * 8;
        probes(value_hash(value), self.k, bits).all(|b| {
            self.words
                .get((b / 8) as usize)
                .is_some_and(|byte| byte & (1 << (b % 8)) != 0)
        })
    }
}

/// The filters of a bloom section, one per bit of `mask` in ascending column order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Blooms<'a> {
    section: &'a [u8],
    mask: u32,
}

fn bad(why: &'static str) -> IndexError {
    IndexError::corrupt(Section::Bloom, why)
}

impl<'a> Blooms<'a> {
    /// Validates a bloom section holding one filter per bit of `mask`.
    pub fn parse(section: &'a [u8], mask: u32) -> Result<Blooms<'a>, IndexError> {
        let b = Blooms { section, mask };
        let mut at = 0usize;
        for _ in 0..mask.count_ones() {
            let (_, next) = b.filter_at(at)?;
            at = next;
        }
        if at != section.len() {
            return Err(bad("bytes after the last filter"));
        }
        Ok(b)
    }

    /// The filter starting at byte `at` and the offset just past it.
    fn filter_at(&self, at: usize) -> Result<(Filter<'a>, usize), IndexError> {
        let head = self
            .section
            .get(at..at + FILTER_HEAD)
            .ok_or_else(|| bad("filter header past the section"))?;
        let words = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let k = head[4];
        if words == 0 || k == 0 || k > MAX_PROBES {
            return Err(bad("filter with no words or a bad probe count"));
        }
        let start = at + FILTER_HEAD;
        let end = words
            .checked_mul(8)
            .and_then(|n| start.checked_add(n))
            .ok_or_else(|| bad("filter length overflows"))?;
        let bytes = self
            .section
            .get(start..end)
            .ok_or_else(|| bad("filter words past the section"))?;
        Ok((Filter { words: bytes, k }, end))
    }

    /// The filter of `col`, if the file has one.
    pub fn filter(&self, col: Col) -> Option<Filter<'a>> {
        let id = u32::from(col as u8);
        let bit = 1u32.checked_shl(id)?;
        if self.mask & bit == 0 {
            return None;
        }
        let before = (self.mask & (bit - 1)).count_ones();
        let mut at = 0usize;
        for _ in 0..before {
            at = self.filter_at(at).ok()?.1;
        }
        self.filter_at(at).ok().map(|(f, _)| f)
    }

    /// The column mask.
    pub fn mask(&self) -> u32 {
        self.mask
    }

    /// The whole section.
    pub fn bytes(&self) -> &'a [u8] {
        self.section
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let values: Vec<String> = (0..5000).map(|i| format!("{i:032x}")).collect();
        let mut hashes: Vec<u64> = values.iter().map(|v| value_hash(v)).collect();
        let mut sec = Vec::new();
        write_filter(&mut hashes, &mut sec);
        let mask = 1 << (Col::TraceId as u8);
        let b = Blooms::parse(&sec, mask).unwrap();
        let f = b.filter(Col::TraceId).unwrap();
        assert!(values.iter().all(|v| f.may_contain(v)));
        let fp = (0..20_000)
            .filter(|i| f.may_contain(&format!("absent-{i}")))
            .count();
        assert!(fp < 400, "false-positive rate {fp}/20000 is over 2%");
        assert!(b.filter(Col::UserId).is_none());
    }

    #[test]
    fn damaged_sections_are_errors_not_panics() {
        let mut hashes = vec![1, 2, 3];
        let mut sec = Vec::new();
        write_filter(&mut hashes, &mut sec);
        let mask = 1 << (Col::TraceId as u8);
        for cut in 0..sec.len() {
            assert!(Blooms::parse(&sec[..cut], mask).is_err());
        }
        let mut two = sec.clone();
        two.push(0);
        assert!(Blooms::parse(&two, mask).is_err());
        assert!(Blooms::parse(&sec, mask | 1 << (Col::UserId as u8)).is_err());
    }
}
