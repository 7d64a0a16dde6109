//! [`Interned`]: how the chunk builder holds a low-cardinality string column (level,
//! service, env, host, handler...) while rows arrive: each distinct value once, and a
//! 2-byte id per value.
//!
//! Held as a plain string list, such a column costs its bytes plus a 4-byte offset per
//! value (about 12 bytes a row for `service`, megabytes per column over a chunk), only for
//! [`super::writer`] to hash every value again at the end to build the dictionary it
//! almost always writes. Interned, it costs 2 bytes a row and the dictionary is ready. A
//! column that turns out to have many distinct values is handed back as a plain list
//! ([`Interned::to_values`]) and carries on as one.

use super::encoding::dict::StrDictBuild;
use super::encoding::strings::StrValues;
use crate::strtable::StrTable;

/// A string column as distinct values (in order of first appearance) and one id per value.
#[derive(Debug, Default)]
pub(crate) struct Interned {
    table: StrTable<u16>,
    ids: Vec<u16>,
}

impl Interned {
    /// Most distinct values held; past this a column is kept as a plain list. A chunk's
    /// dictionary with this many entries is still far smaller than its values.
    pub(crate) const MAX_DISTINCT: usize = 4096;
    /// Most bytes of distinct values held (long values that repeat, such as one error
    /// message on every row, still fit; a column of long distinct values does not).
    pub(crate) const MAX_BYTES: usize = 1 << 20;

    /// Appends `s`, unless it is a new value and the column is full
    /// ([`Interned::MAX_DISTINCT`], [`Interned::MAX_BYTES`]): then returns `false` and
    /// holds nothing more.
    pub(crate) fn push(&mut self, s: &str) -> bool {
        let id = match self.table.get(s) {
            Some(id) => id,
            None => {
                let n = self.table.len();
                if n >= Self::MAX_DISTINCT || self.table.key_bytes() + s.len() > Self::MAX_BYTES {
                    return false;
                }
                let Ok(id) = u16::try_from(n) else {
                    return false;
                };
                self.table.get_or_insert_with(s, || id)
            }
        };
        self.ids.push(id);
        true
    }

    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The distinct values by id.
    fn by_id(&self) -> Vec<&str> {
        let mut out = vec![""; self.table.len()];
        for (s, id) in self.table.iter() {
            if let Some(slot) = out.get_mut(usize::from(id)) {
                *slot = s;
            }
        }
        out
    }

    /// The dictionary of the values: what `build_str_dict` makes of [`Interned::to_values`]
    /// (distinct values in ascending byte order, each value's index among them), without
    /// hashing the values again.
    pub(crate) fn dict(&self) -> StrDictBuild<'_> {
        StrDictBuild::sorted(self.by_id(), self.ids.iter().map(|&i| u32::from(i)))
    }

    /// The values as a plain list, in order.
    pub(crate) fn to_values(&self) -> StrValues {
        let by_id = self.by_id();
        let bytes = self.ids.iter().map(|&i| by_id[usize::from(i)].len()).sum();
        let mut out = StrValues::with_capacity(self.ids.len(), bytes);
        for &i in &self.ids {
            out.push(by_id[usize::from(i)]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::encoding::dict::build_str_dict;
    use proptest::prelude::*;

    proptest! {
        /// The dictionary and the plain list equal what the writer would make of the
        /// values held as a plain list.
        #[test]
        fn agrees_with_the_plain_list(values in proptest::collection::vec("[a-c]{0,3}|\\PC{0,6}", 0..300)) {
            let mut interned = Interned::default();
            let mut plain = StrValues::new();
            for v in &values {
                prop_assert!(interned.push(v));
                plain.push(v);
            }
            prop_assert_eq!(interned.len(), values.len());
            prop_assert_eq!(&interned.to_values(), &plain);
            let want = build_str_dict(&plain, usize::MAX).expect("no limit");
            let got = interned.dict();
            prop_assert_eq!(got.entries, want.entries);
            prop_assert_eq!(got.ids, want.ids);
        }
    }

    #[test]
    fn refuses_a_new_value_once_full() {
        let mut v = Interned::default();
        for i in 0..Interned::MAX_DISTINCT {
            assert!(v.push(&format!("v{i}")));
        }
        assert!(v.push("v0"), "a known value is still taken");
        assert!(!v.push("new"), "a new one is not");
        assert_eq!(v.len(), Interned::MAX_DISTINCT + 1);
        let mut long = Interned::default();
        assert!(long.push(&"x".repeat(Interned::MAX_BYTES)));
        assert!(!long.push("y"));
        assert!(long.push(&"x".repeat(Interned::MAX_BYTES)));
    }
}
