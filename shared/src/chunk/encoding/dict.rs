//! Dictionary encodings: the distinct values, sorted ascending, then one bit-packed id per
//! value. Because the dictionary is sorted, an equality (or range) filter looks the value up
//! once and then compares ids only.
//!
//! Layouts, after the `u8` [`ValueEncoding`] tag (`n` values, known from context):
//! - `IntDict` (5): `uvarint k` (1..), `ivarint d[0]`, `k - 1` × `uvarint d[i] - d[i-1]`
//!   (each > 0), then `n` ids bit-packed with width `bits(k - 1)`.
//! - `StrDict` (9): `uvarint k` (1..), a section holding `k` × (`uvarint len`, UTF-8 bytes)
//!   in strictly ascending byte order, then `n` ids bit-packed with width `bits(k - 1)`.

use rustc_hash::{FxHashMap, FxHashSet};

use super::bitpack::{Packed, pack, packed_len, width_for};
use super::strings::StrValues;
use super::varint::{put_ivarint, put_uvarint, uvarint_len, zigzag};
use super::zstd_block::{Zstd, put_section, read_section};
use super::{Corrupt, Cursor, MAX_SECTION_BYTES};

/// The sorted distinct values, or `None` if there are more than `limit`.
pub fn distinct_ints(values: &[i64], limit: usize) -> Option<Vec<i64>> {
    let mut set = FxHashSet::default();
    for &v in values {
        if set.insert(v) && set.len() > limit {
            return None;
        }
    }
    let mut d: Vec<i64> = set.into_iter().collect();
    d.sort_unstable();
    Some(d)
}

/// Encoded size (without tag) of an integer dictionary over `n` values.
pub fn int_dict_size(distinct: &[i64], n: usize) -> usize {
    let k = distinct.len();
    let head = uvarint_len(k as u64)
        + distinct.first().map_or(0, |&v| uvarint_len(zigzag(v)))
        + distinct
            .windows(2)
            .map(|w| uvarint_len(w[1].wrapping_sub(w[0]) as u64))
            .sum::<usize>();
    head + 1 + packed_len(n, width_for(k.saturating_sub(1) as u64)).unwrap_or(usize::MAX)
}

/// Appends an integer dictionary (without tag); `distinct` is [`distinct_ints`] of `values`.
pub fn put_int_dict(out: &mut Vec<u8>, values: &[i64], distinct: &[i64]) {
    put_uvarint(out, distinct.len() as u64);
    if let Some(&first) = distinct.first() {
        put_ivarint(out, first);
    }
    for w in distinct.windows(2) {
        put_uvarint(out, w[1].wrapping_sub(w[0]) as u64);
    }
    let width = width_for(distinct.len().saturating_sub(1) as u64);
    pack(
        out,
        width,
        values
            .iter()
            .map(|v| distinct.binary_search(v).unwrap_or(0) as u64),
    );
}

/// Reads an integer dictionary's sorted values and its packed ids (ids not yet checked).
pub fn read_int_dict_parts<'a>(
    cur: &mut Cursor<'a>,
    n: usize,
) -> Result<(Vec<i64>, Packed<'a>), Corrupt> {
    let k = cur.len_varint(cur.remaining())?;
    if k == 0 {
        return Err(Corrupt("empty dictionary"));
    }
    let mut dict = Vec::with_capacity(k);
    let mut prev = cur.ivarint()?;
    dict.push(prev);
    for _ in 1..k {
        let gap = cur.uvarint()?;
        let next = prev.wrapping_add(gap as i64);
        if gap == 0 || next <= prev {
            return Err(Corrupt("integer dictionary not strictly ascending"));
        }
        dict.push(next);
        prev = next;
    }
    let ids = Packed::read(cur, n)?;
    Ok((dict, ids))
}

/// Reads an integer dictionary and materialises its `n` values.
pub fn read_int_dict(cur: &mut Cursor<'_>, n: usize) -> Result<Vec<i64>, Corrupt> {
    let (dict, ids) = read_int_dict_parts(cur, n)?;
    let mut out = Vec::with_capacity(n);
    let mut bad = false;
    ids.for_each(
        |id| match usize::try_from(id).ok().and_then(|i| dict.get(i)) {
            Some(&v) => out.push(v),
            None => bad = true,
        },
    );
    if bad {
        return Err(Corrupt("dictionary id out of range"));
    }
    Ok(out)
}

/// A string dictionary being written: sorted distinct values and one id per value.
#[derive(Debug)]
pub struct StrDictBuild<'a> {
    /// Distinct values in ascending byte order.
    pub entries: Vec<&'a str>,
    /// Per value, its index in `entries`.
    pub ids: Vec<u32>,
}

/// Builds a sorted dictionary, or `None` if there are more than `limit` distinct values.
pub fn build_str_dict(values: &StrValues, limit: usize) -> Option<StrDictBuild<'_>> {
    let mut map: FxHashMap<&str, u32> = FxHashMap::default();
    let mut first_ids = Vec::with_capacity(values.len());
    let mut order: Vec<&str> = Vec::new();
    for s in values.iter() {
        let next = order.len() as u32;
        let id = *map.entry(s).or_insert(next);
        if id == next {
            order.push(s);
            if order.len() > limit {
                return None;
            }
        }
        first_ids.push(id);
    }
    Some(StrDictBuild::sorted(order, first_ids))
}

impl<'a> StrDictBuild<'a> {
    /// The sorted dictionary of values given as their distinct values in order of first
    /// appearance (`order`) and, per value, its index in `order` (`first_ids`, each below
    /// `order.len()`).
    pub fn sorted(
        order: Vec<&'a str>,
        first_ids: impl IntoIterator<Item = u32>,
    ) -> StrDictBuild<'a> {
        let mut sorted: Vec<u32> = (0..order.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| order[a as usize].cmp(order[b as usize]));
        let mut remap = vec![0u32; order.len()];
        for (new, &old) in sorted.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        StrDictBuild {
            entries: sorted.iter().map(|&i| order[i as usize]).collect(),
            ids: first_ids.into_iter().map(|i| remap[i as usize]).collect(),
        }
    }
}

/// Appends a string dictionary (without tag).
pub fn put_str_dict(out: &mut Vec<u8>, d: &StrDictBuild<'_>, z: &mut Zstd) {
    put_uvarint(out, d.entries.len() as u64);
    let mut raw = Vec::new();
    for e in &d.entries {
        put_uvarint(&mut raw, e.len() as u64);
        raw.extend_from_slice(e.as_bytes());
    }
    put_section(out, &raw, Some(z));
    let width = width_for(d.entries.len().saturating_sub(1) as u64);
    pack(out, width, d.ids.iter().map(|&i| u64::from(i)));
}

/// Reads a string dictionary (validated: UTF-8, strictly ascending) and its packed ids
/// (ids not yet checked against the dictionary size).
pub fn read_str_dict<'a>(
    cur: &mut Cursor<'a>,
    n: usize,
) -> Result<(Vec<String>, Packed<'a>), Corrupt> {
    let (view, ids) = read_str_dict_view(cur, n)?;
    let mut dict: Vec<String> = Vec::with_capacity(view.len());
    for id in 0..view.len() {
        let s = view.get(id)?;
        if dict.last().is_some_and(|p| p.as_str() >= s) {
            return Err(Corrupt("string dictionary not strictly ascending"));
        }
        dict.push(s.to_owned());
    }
    Ok((dict, ids))
}

/// A string dictionary read for lookups: its section decompressed once and the entries
/// located, but no entry copied or checked until it is asked for. A search page needs a
/// few entries of dictionaries with tens of thousands (ids, paths).
#[derive(Debug, Clone)]
pub struct DictView<'a> {
    raw: std::borrow::Cow<'a, [u8]>,
    /// `(start, len)` of each entry in `raw`.
    spans: Vec<(u32, u32)>,
}

impl DictView<'_> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the dictionary is empty (never, for a decoded one).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn bytes(&self, id: usize) -> Option<&[u8]> {
        let &(start, len) = self.spans.get(id)?;
        self.raw.get(start as usize..start as usize + len as usize)
    }

    /// Entry `id`, checked to be UTF-8.
    pub fn get(&self, id: usize) -> Result<&str, Corrupt> {
        let b = self
            .bytes(id)
            .ok_or(Corrupt("dictionary id out of range"))?;
        std::str::from_utf8(b).map_err(|_| Corrupt("dictionary entry is not UTF-8"))
    }

    /// The id of `value` by binary search over the sorted entries.
    pub fn find(&self, value: &str) -> Option<usize> {
        let want = value.as_bytes();
        let mut lo = 0usize;
        let mut hi = self.spans.len();
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.bytes(mid)?.cmp(want) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// Reads a string dictionary as a [`DictView`] plus its packed ids: entries are located
/// (lengths checked against the section) but neither copied nor checked for UTF-8 and
/// order; [`read_str_dict`] validates everything.
pub fn read_str_dict_view<'a>(
    cur: &mut Cursor<'a>,
    n: usize,
) -> Result<(DictView<'a>, Packed<'a>), Corrupt> {
    let k = cur.len_varint(MAX_SECTION_BYTES)?;
    if k == 0 {
        return Err(Corrupt("empty dictionary"));
    }
    let raw = read_section(cur, MAX_SECTION_BYTES)?;
    if k > raw.len() || raw.len() > u32::MAX as usize {
        return Err(Corrupt("dictionary count exceeds its bytes"));
    }
    let mut spans = Vec::with_capacity(k);
    {
        let mut c = Cursor::new(&raw);
        for _ in 0..k {
            let len = c.len_varint(c.remaining())?;
            let start = raw.len() - c.remaining();
            c.take(len)?;
            spans.push((start as u32, len as u32));
        }
        c.finish()?;
    }
    let ids = Packed::read(cur, n)?;
    Ok((DictView { raw, spans }, ids))
}

/// Checks that every id is below `k` and returns them as a vector.
pub fn checked_ids(ids: &Packed<'_>, k: usize) -> Result<Vec<u32>, Corrupt> {
    let mut out = Vec::with_capacity(ids.len());
    let mut bad = false;
    ids.for_each(|id| {
        if id < k as u64 {
            out.push(id as u32);
        } else {
            bad = true;
        }
    });
    if bad {
        Err(Corrupt("dictionary id out of range"))
    } else {
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::encoding::ValueEncoding;
    use crate::chunk::encoding::delta::decode_ints;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn int_dict_round_trip(values in proptest::collection::vec(prop_oneof![Just(i64::MIN), Just(i64::MAX), -3i64..3, any::<i64>()], 1..200)) {
            let distinct = distinct_ints(&values, usize::MAX).unwrap();
            let mut out = vec![ValueEncoding::IntDict as u8];
            put_int_dict(&mut out, &values, &distinct);
            prop_assert_eq!(out.len() - 1, int_dict_size(&distinct, values.len()));
            let mut cur = Cursor::new(&out);
            prop_assert_eq!(decode_ints(&mut cur, values.len()).unwrap(), values);
            prop_assert!(cur.is_empty());
        }

        #[test]
        fn str_dict_round_trip(values in proptest::collection::vec(prop_oneof![Just(String::new()), "[a-c]{0,3}", "\\PC{0,8}"], 1..200)) {
            let mut sv = StrValues::new();
            for v in &values { sv.push(v); }
            let d = build_str_dict(&sv, usize::MAX).unwrap();
            let mut sorted = d.entries.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(&sorted, &d.entries);
            let mut out = Vec::new();
            put_str_dict(&mut out, &d, &mut Zstd::new(3));
            let mut cur = Cursor::new(&out);
            let (dict, ids) = read_str_dict(&mut cur, values.len()).unwrap();
            prop_assert!(cur.is_empty());
            let ids = checked_ids(&ids, dict.len()).unwrap();
            let back: Vec<&str> = ids.iter().map(|&i| dict[i as usize].as_str()).collect();
            prop_assert_eq!(back, values.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        }

        #[test]
        fn garbage_never_panics(bytes: Vec<u8>, n in 0usize..100) {
            if let Ok((d, ids)) = read_str_dict(&mut Cursor::new(&bytes), n) {
                let _ = checked_ids(&ids, d.len());
            }
            let _ = read_int_dict(&mut Cursor::new(&bytes), n);
        }
    }

    #[test]
    fn limit_stops_building() {
        let mut sv = StrValues::new();
        for i in 0..100 {
            sv.push(&i.to_string());
        }
        assert!(build_str_dict(&sv, 99).is_none());
        assert_eq!(build_str_dict(&sv, 100).unwrap().entries.len(), 100);
        assert!(distinct_ints(&[1, 2, 3], 2).is_none());
    }
}
