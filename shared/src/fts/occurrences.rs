//! The (term, row) pairs of an index build, gathered in arrival order and grouped by term
//! once at the end.
//!
//! A build adds millions of pairs spread over a hundred thousand terms. Appending each row
//! to its term's own growing list touches a different, cold cache line per pair and
//! reallocates every list several times; here the pairs go to one sequential stream (a
//! term id per pair, one row marker per run of pairs of the same row) and a counting sort
//! by term lays out every term's rows contiguously at the end: two passes, no per-term
//! allocation. A dense per-term "last row" array (4 bytes per term) drops the repeats of a
//! term within a row.

/// Term ids of an index build (dense, from 0, in order of first appearance).
pub(crate) type TermId = u32;

/// Every (term, row) pair of a build, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Occurrences {
    /// Term id per pair.
    terms: Vec<TermId>,
    /// `(row, end)`: the pairs `terms[previous end..end]` belong to `row`.
    runs: Vec<(u32, usize)>,
    /// Per term, the last row it was added for (`u32::MAX`: none yet).
    last: Vec<u32>,
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
        self.last.push(u32::MAX);
    }

    /// Number of terms registered.
    pub(crate) fn term_count(&self) -> usize {
        self.last.len()
    }

    /// Records that `row` holds `term` (a repeat of the pair just recorded for the same
    /// row is ignored). `term` must have been registered.
    pub(crate) fn add(&mut self, term: TermId, row: u32) {
        let Some(last) = self.last.get_mut(term as usize) else {
            return;
        };
        if *last == row {
            return;
        }
        *last = row;
        if self.runs.last().map(|r| r.0) != Some(row) {
            self.runs.push((row, self.terms.len()));
        }
        self.terms.push(term);
        if let Some(run) = self.runs.last_mut() {
            run.1 = self.terms.len();
        }
    }

    /// Groups the pairs by term. Rows keep their arrival order within a term; with
    /// `sort`, each term's rows are also sorted and deduplicated (for rows added out of
    /// order).
    pub(crate) fn group(self, sort: bool) -> Grouped {
        let Occurrences { terms, runs, last } = self;
        let n = last.len();
        drop(last);
        let mut starts = vec![0usize; n + 1];
        for &t in &terms {
            starts[t as usize + 1] += 1;
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let mut fill = starts.clone();
        let mut rows = vec![0u32; terms.len()];
        let mut from = 0;
        for (row, end) in runs {
            for &t in &terms[from..end] {
                let slot = &mut fill[t as usize];
                rows[*slot] = row;
                *slot += 1;
            }
            from = end;
        }
        drop(terms);
        let mut grouped = Grouped { rows, starts };
        if sort {
            grouped.sort_and_dedup();
        }
        grouped
    }
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
    }
}
