//! A string-keyed hash table whose keys live in one arena, for the index build's term map
//! and compound cache and the chunk builder's low-cardinality columns.
//!
//! An index build interns a few hundred thousand distinct keys. As `HashMap<Box<str>, V>` each
//! key is its own heap allocation (16 bytes of box plus at least 32 of malloc chunk for a
//! ten-byte term) that malloc must later free one by one; here every key is appended to one
//! `String` and the table holds its offset and length, so a key costs its bytes plus a
//! slot of 8 bytes and its value, and dropping the table frees two buffers. Offsets are
//! `u32`: a table stops taking keys once its arena would pass 4 GiB (a chunk's index holds
//! a few megabytes) and says so ([`StrTable::overflowed`]).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rustc_hash::FxBuildHasher;

/// Where a key lies in the arena, and its value.
#[derive(Debug, Clone, Copy)]
struct Slot<V> {
    start: u32,
    len: u32,
    value: V,
}

/// A map from `&str` to `V` (small `Copy` values: ids, ranges) with arena-held keys.
///
/// Fx hashing: the keys come from our own rows, so HashDoS resistance is not needed.
#[derive(Debug)]
pub(crate) struct StrTable<V> {
    table: HashTable<Slot<V>>,
    arena: String,
    overflowed: bool,
}

impl<V> Default for StrTable<V> {
    fn default() -> StrTable<V> {
        StrTable {
            table: HashTable::new(),
            arena: String::new(),
            overflowed: false,
        }
    }
}

/// The key of `slot` (empty if the slot were ever out of the arena, which insertion rules
/// out).
fn key_of<'a, V>(arena: &'a str, slot: &Slot<V>) -> &'a str {
    let start = slot.start as usize;
    arena.get(start..start + slot.len as usize).unwrap_or("")
}

impl<V: Copy> StrTable<V> {
    /// Number of keys.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The value of `key`, if present.
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let hash = FxBuildHasher.hash_one(key);
        let arena = &self.arena;
        self.table
            .find(hash, |s| key_of(arena, s) == key)
            .map(|s| s.value)
    }

    /// Bytes of all keys.
    pub(crate) fn key_bytes(&self) -> usize {
        self.arena.len()
    }

    /// Whether a key was refused because the arena would have passed 4 GiB.
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The value of `key`, inserting `make()` first if it is absent. If the arena would
    /// pass 4 GiB the key is not stored: `make()` is returned and forgotten, and
    /// [`StrTable::overflowed`] turns true.
    #[inline]
    pub(crate) fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> V {
        let hash = FxBuildHasher.hash_one(key);
        let StrTable {
            table,
            arena,
            overflowed,
        } = self;
        let entry = {
            let arena: &str = arena;
            table.entry(
                hash,
                |s| key_of(arena, s) == key,
                |s| FxBuildHasher.hash_one(key_of(arena, s)),
            )
        };
        match entry {
            Entry::Occupied(o) => o.get().value,
            Entry::Vacant(v) => {
                let value = make();
                let end = arena.len().checked_add(key.len());
                match (u32::try_from(arena.len()), end.map(u32::try_from)) {
                    (Ok(start), Some(Ok(end))) => {
                        v.insert(Slot {
                            start,
                            len: end - start,
                            value,
                        });
                        arena.push_str(key);
                    }
                    _ => *overflowed = true,
                }
                value
            }
        }
    }

    /// Every key and its value, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, V)> + '_ {
        self.table.iter().map(|s| (key_of(&self.arena, s), s.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(keys in proptest::collection::vec("\\PC{0,12}", 0..400)) {
            let mut table = StrTable::default();
            let mut model: HashMap<String, u32> = HashMap::new();
            for k in &keys {
                let next = model.len() as u32;
                let want = *model.entry(k.clone()).or_insert(next);
                prop_assert_eq!(table.get_or_insert_with(k, || next), want);
                prop_assert_eq!(table.get(k), Some(want));
            }
            prop_assert_eq!(table.len(), model.len());
            let mut got: Vec<(String, u32)> = table.iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let mut want: Vec<(String, u32)> = model.into_iter().collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn absent_keys_and_empty_key() {
        let mut t = StrTable::default();
        assert_eq!(t.get("a"), None);
        assert_eq!(t.get_or_insert_with("", || 7u32), 7);
        assert_eq!(t.get_or_insert_with("", || 9u32), 7);
        assert_eq!(t.get(""), Some(7));
        assert_eq!(t.get("a"), None);
        // Growth rehashes from the arena: every key is still found after many inserts.
        for i in 0..10_000u32 {
            t.get_or_insert_with(&format!("k{i}"), || i);
        }
        assert!((0..10_000u32).all(|i| t.get(&format!("k{i}")) == Some(i)));
    }
}
