//! Exact percentiles over integer values.
//!
//! Values are kept as a counting map `value -> occurrences` per group, so memory is
//! `O(distinct values)` (about 40 bytes per distinct value in a `HashMap`), not
//! `O(rows)`: durations in milliseconds of a group rarely have more than a few thousand
//! distinct values even over millions of rows. Partial maps of chunks merge by adding.
//!
//! Definition (nearest rank): for `n` values sorted ascending and `p` in `[0, 100]`, the
//! `p`-th percentile is the value at 1-based rank `max(1, ceil(p / 100 * n))`. It is always
//! one of the observed values.

use std::collections::HashMap;

/// A multiset of integers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueCounts {
    counts: HashMap<i64, u64>,
    n: u64,
}

impl ValueCounts {
    /// Adds one value.
    pub fn add(&mut self, v: i64) {
        *self.counts.entry(v).or_insert(0) += 1;
        self.n += 1;
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: ValueCounts) {
        for (v, c) in other.counts {
            *self.counts.entry(v).or_insert(0) += c;
        }
        self.n += other.n;
    }

    /// Number of values.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The nearest-rank percentiles `ps` (each clamped to `[0, 100]`), `None` when empty.
    pub fn percentiles(&self, ps: &[f64]) -> Vec<Option<i64>> {
        let mut sorted: Vec<(i64, u64)> = self.counts.iter().map(|(&v, &c)| (v, c)).collect();
        sorted.sort_unstable();
        ps.iter()
            .map(|&p| {
                if self.n == 0 {
                    return None;
                }
                let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
                let rank = ((p / 100.0) * self.n as f64).ceil().max(1.0) as u64;
                let mut seen = 0u64;
                for &(v, c) in &sorted {
                    seen += c;
                    if seen >= rank {
                        return Some(v);
                    }
                }
                sorted.last().map(|&(v, _)| v)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_matches_sorted_definition() {
        let vals: Vec<i64> = (0..1000).map(|i| (i * 7919) % 313).collect();
        let mut vc = ValueCounts::default();
        vals.iter().for_each(|&v| vc.add(v));
        let mut s = vals.clone();
        s.sort();
        for p in [0.0, 1.0, 50.0, 95.0, 99.0, 99.9, 100.0] {
            let rank = ((p / 100.0) * s.len() as f64).ceil().max(1.0) as usize;
            assert_eq!(vc.percentiles(&[p]), vec![Some(s[rank - 1])]);
        }
        assert_eq!(ValueCounts::default().percentiles(&[50.0]), vec![None]);
    }
}
