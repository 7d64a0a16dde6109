//! The (term, row) pairs of an index build, gathered in arrival order and grouped by term
//! once at the end.
//!
//! A build adds millions of pairs spread over a hundred thousand terms. Appending each row
//! to its term's own growing list touches a different, cold cache line per pair and
//! reallocates every list several times; here the pairs go to one sequential stream and a
//! counting sort by term lays out every term's rows contiguously at the end: one pass, no
//! per-term allocation. A dense per-term record (its last row and its row count, 8 bytes
//! per term) drops the repeats of a term within a row and sizes the term's list.
//!
//! The stream is bytes, in blocks of bounded size (no doubling reallocation, at most one
//! partly filled block): a row starts with a `0` byte and the row number as a varint, then
//! each of its terms is the varint of `term id + 1` (never a `0` first byte). Term ids are
//! handed out in order of first appearance, so the frequent terms, which make most pairs,
//! have small ids: a pair takes 1 to 2 bytes instead of a 4-byte id.

use super::postings::write_varint;

/// Term ids of an index build (dense, from 0, in order of first appearance).
pub(crate) type TermId = u32;

/// Bytes of the first stream block; each next block doubles, up to [`MAX_BLOCK`].
const FIRST_BLOCK: usize = 4 << 10;
/// Largest stream block: what a build may hold beyond the bytes it used.
const MAX_BLOCK: usize = 256 << 10;
/// Longest item of the stream: a row marker (1 byte and a 5-byte varint) or a term.
const MAX_ITEM: usize = 6;

/// Every (term, row) pair of a build, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Occurrences {
    /// The encoded stream; no item straddles two blocks.
    blocks: Vec<Vec<u8>>,
    /// The row the pairs being added belong to (`None` before the first pair).
    row: Option<u32>,
    /// Pairs in the stream.
    pairs: usize,
    /// Per term id: its last row and its number of rows.
    terms: Vec<TermRows>,
}

/// What a build tracks per term while pairs are added.
#[derive(Debug, Clone, Copy)]
struct TermRows {
    /// The last row the term was added for (`u32::MAX`: none yet), to drop repeats.
    last_row: u32,
    /// Rows recorded for the term (where its rows start in [`Grouped`] follows from it).
    rows: u32,
}

/// Every term's rows, contiguous and in term id order, after [`Occurrences::group`].
#[derive(Debug)]
pub(crate) struct Grouped {
    rows: Vec<u32>,
    /// `rows[starts[t]..starts[t + 1]]` are term `t`'s rows.
    starts: Vec<usize>,
}

impl Occurrences {
    /// Registers a new term (ids are handed out in order by the caller: `0, 1, 2...`).
    pub(crate) fn new_term(&mut self) {
        self.terms.push(TermRows {
            last_row: u32::MAX,
            rows: 0,
        });
    }

    /// Number of terms registered.
    pub(crate) fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Records that `row` holds `term` (a repeat of the pair just recorded for the same
    /// row is ignored). `term` must have been registered.
    pub(crate) fn add(&mut self, term: TermId, row: u32) {
        let Some(t) = self.terms.get_mut(term as usize) else {
            return;
        };
        if t.last_row == row {
            return;
        }
        t.last_row = row;
        t.rows += 1;
        self.pairs += 1;
        // Most pairs: a frequent term of the row being added, one byte.
        if self.row == Some(row)
            && let Ok(byte) = u8::try_from(term + 1)
            && byte < 0x80
            && let Some(block) = self.blocks.last_mut()
            && block.len() < block.capacity()
        {
            block.push(byte);
            return;
        }
        let new_row = self.row != Some(row);
        self.row = Some(row);
        let block = self.block_with_room(2 * MAX_ITEM);
        if new_row {
            block.push(0);
            write_varint(block, u64::from(row));
        }
        write_varint(block, u64::from(term) + 1);
    }

    /// The last block, or a new one when it has less than `room` bytes left.
    fn block_with_room(&mut self, room: usize) -> &mut Vec<u8> {
        let full = self
            .blocks
            .last()
            .is_none_or(|b| b.capacity() - b.len() < room);
        if full {
            let size = self
                .blocks
                .last()
                .map_or(FIRST_BLOCK, |b| (b.capacity() * 2).min(MAX_BLOCK));
            self.blocks.push(Vec::with_capacity(size));
        }
        let last = self.blocks.len() - 1;
        &mut self.blocks[last]
    }

    /// Calls `f(term, row)` for every pair, in the order they were added.
    fn for_each_pair(&self, mut f: impl FnMut(TermId, u32)) {
        let mut row = 0;
        for block in &self.blocks {
            let mut i = 0;
            while i < block.len() {
                let b = block[i];
                if b == 0 {
                    let (v, n) = read_varint(&block[i + 1..]);
                    row = v as u32;
                    i += 1 + n;
                } else if b < 0x80 {
                    f(TermId::from(b - 1), row);
                    i += 1;
                } else {
                    let (v, n) = read_varint(&block[i..]);
                    f((v - 1) as TermId, row);
                    i += n;
                }
            }
        }
    }

    /// Groups the pairs by term. Rows keep their arrival order within a term; with
    /// `sort`, each term's rows are also sorted and deduplicated (for rows added out of
    /// order).
    pub(crate) fn group(self, sort: bool) -> Grouped {
        let mut starts = Vec::with_capacity(self.terms.len() + 1);
        let mut at = 0;
        starts.push(at);
        for t in &self.terms {
            at += t.rows as usize;
            starts.push(at);
        }
        let mut fill = starts.clone();
        let mut rows = vec![0u32; self.pairs];
        self.for_each_pair(|t, row| {
            let slot = &mut fill[t as usize];
            rows[*slot] = row;
            *slot += 1;
        });
        drop(self);
        let mut grouped = Grouped { rows, starts };
        if sort {
            grouped.sort_and_dedup();
        }
        grouped
    }
}

/// Reads a varint the stream wrote (at most 5 bytes: a `u32`, or a term id + 1): its value
/// and length. The stream is only ever written by [`Occurrences::add`], so it is well
/// formed.
fn read_varint(b: &[u8]) -> (u64, usize) {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(5) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return (v, i + 1);
        }
    }
    (v, b.len().min(5))
}

impl Grouped {
    /// The rows of term `t` (empty for an unknown term).
    pub(crate) fn rows(&self, t: TermId) -> &[u32] {
        let t = t as usize;
        match (self.starts.get(t), self.starts.get(t + 1)) {
            (Some(&a), Some(&b)) => self.rows.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Sorts every term's rows and removes duplicates, compacting the storage.
    fn sort_and_dedup(&mut self) {
        let mut write = 0;
        let mut new_starts = Vec::with_capacity(self.starts.len());
        new_starts.push(0);
        for w in 0..self.starts.len().saturating_sub(1) {
            let (a, b) = (self.starts[w], self.starts[w + 1]);
            self.rows[a..b].sort_unstable();
            let mut prev = None;
            for i in a..b {
                let r = self.rows[i];
                if prev != Some(r) {
                    self.rows[write] = r;
                    write += 1;
                    prev = Some(r);
                }
            }
            new_starts.push(write);
        }
        self.rows.truncate(write);
        self.starts = new_starts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(pairs: &[(TermId, u32)], terms: usize, sort: bool) -> Vec<Vec<u32>> {
        let mut o = Occurrences::default();
        for _ in 0..terms {
            o.new_term();
        }
        for &(t, r) in pairs {
            o.add(t, r);
        }
        let g = o.group(sort);
        (0..terms as u32).map(|t| g.rows(t).to_vec()).collect()
    }

    #[test]
    fn groups_by_term_in_row_order_without_repeats() {
        let got = build(&[(0, 0), (1, 0), (0, 0), (1, 1), (2, 1), (1, 3)], 4, false);
        assert_eq!(got, vec![vec![0], vec![0, 1, 3], vec![1], vec![]]);
    }

    #[test]
    fn out_of_order_rows_are_sorted_and_deduplicated() {
        let got = build(&[(0, 5), (1, 5), (0, 2), (0, 5), (1, 1)], 2, true);
        assert_eq!(got, vec![vec![2, 5], vec![1, 5]]);
    }

    proptest::proptest! {
        #[test]
        fn matches_a_naive_grouping(
            pairs in proptest::collection::vec((0u32..20, 0u32..50), 0..300),
        ) {
            let mut naive = vec![std::collections::BTreeSet::new(); 20];
            for &(t, r) in &pairs {
                naive[t as usize].insert(r);
            }
            let want: Vec<Vec<u32>> = naive.into_iter().map(|s| s.into_iter().collect()).collect();
            proptest::prop_assert_eq!(build(&pairs, 20, true), want);
        }

        #[test]
        fn multi_byte_ids_and_rows_survive_the_stream(
            pairs in proptest::collection::vec((0u32..20_000, 0u32..3_000_000), 0..3000),
        ) {
            let mut naive = std::collections::BTreeMap::<u32, std::collections::BTreeSet<u32>>::new();
            for &(t, r) in &pairs {
                naive.entry(t).or_default().insert(r);
            }
            let got = build(&pairs, 20_000, true);
            for (t, rows) in got.iter().enumerate() {
                let want: Vec<u32> = naive.get(&(t as u32)).map(|s| s.iter().copied().collect()).unwrap_or_default();
                proptest::prop_assert_eq!(rows, &want);
            }
        }
    }

    #[test]
    fn a_stream_of_many_blocks_groups_in_row_order() {
        // 65 536 rows of 40 terms each: a few megabytes of stream, dozens of blocks.
        let terms = 100_000u32;
        let mut pairs = Vec::new();
        for row in 0..65_536u32 {
            for k in 0..40u32 {
                pairs.push((
                    (row.wrapping_mul(2_654_435_761) >> 7).wrapping_add(k * 2503) % terms,
                    row,
                ));
            }
        }
        let mut o = Occurrences::default();
        for _ in 0..terms {
            o.new_term();
        }
        for &(t, r) in &pairs {
            o.add(t, r);
        }
        assert!(o.blocks.len() > 10, "{} blocks", o.blocks.len());
        assert!(o.blocks.iter().all(|b| b.capacity() <= MAX_BLOCK));
        let g = o.group(false);
        let mut want = vec![Vec::new(); terms as usize];
        for &(t, r) in &pairs {
            if want[t as usize].last() != Some(&r) {
                want[t as usize].push(r);
            }
        }
        for t in 0..terms {
            assert_eq!(g.rows(t), want[t as usize].as_slice(), "term {t}");
        }
    }
}
