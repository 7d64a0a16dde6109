//! [`RowSet`]: the rows a filter selected.

/// A set of row indices within one chunk, kept as a sorted, duplicate-free `Vec<u32>`.
///
/// A sorted vector (4 bytes per selected row) is compact for the selective filters queries
/// mostly run, iterates in row order for top-N scans, and intersects in linear time; a chunk
/// holds at most [`super::format::MAX_ROWS`] rows, so `u32` indices always suffice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowSet {
    rows: Vec<u32>,
}

impl RowSet {
    /// The empty set.
    pub fn new() -> RowSet {
        RowSet::default()
    }

    /// Every row `0..n`.
    pub fn all(n: u32) -> RowSet {
        RowSet {
            rows: (0..n).collect(),
        }
    }

    /// Builds from indices; they are sorted and de-duplicated.
    pub fn from_unsorted(mut rows: Vec<u32>) -> RowSet {
        rows.sort_unstable();
        rows.dedup();
        RowSet { rows }
    }

    /// Builds from indices produced in ascending order (as every scan does).
    pub(crate) fn from_ascending(rows: Vec<u32>) -> RowSet {
        debug_assert!(rows.windows(2).all(|w| w[0] < w[1]));
        RowSet { rows }
    }

    /// Number of rows in the set.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether row `i` is in the set.
    pub fn contains(&self, i: u32) -> bool {
        self.rows.binary_search(&i).is_ok()
    }

    /// The rows, ascending.
    pub fn as_slice(&self) -> &[u32] {
        &self.rows
    }

    /// Iterates the rows, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.rows.iter().copied()
    }

    /// The rows, ascending.
    pub fn into_vec(self) -> Vec<u32> {
        self.rows
    }

    /// Rows in both sets.
    pub fn intersect(&self, other: &RowSet) -> RowSet {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while let (Some(&a), Some(&b)) = (self.rows.get(i), other.rows.get(j)) {
            match a.cmp(&b) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    out.push(a);
                    i += 1;
                    j += 1;
                }
            }
        }
        RowSet { rows: out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let a = RowSet::from_unsorted(vec![5, 1, 3, 3, 9]);
        assert_eq!(a.as_slice(), &[1, 3, 5, 9]);
        let b = RowSet::from_unsorted(vec![3, 4, 9, 10]);
        assert_eq!(a.intersect(&b).as_slice(), &[3, 9]);
        assert!(a.contains(5) && !a.contains(4));
        assert_eq!(RowSet::all(3).as_slice(), &[0, 1, 2]);
        assert!(RowSet::new().is_empty());
    }
}
