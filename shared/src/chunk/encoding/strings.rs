//! String values: an owned list of strings stored as one buffer plus end offsets, and the
//! `StrConst` and `StrPlain` encodings.
//!
//! Layouts, after the `u8` [`ValueEncoding`] tag (`n` values, known from context):
//! - `StrConst` (8): `uvarint len`, `len` UTF-8 bytes; every value equals it.
//! - `StrPlain` (10): an integer sequence ([`super::delta`], with its own tag) of the `n`
//!   byte lengths, then a section holding the concatenated UTF-8 bytes (zstd when smaller).

use super::delta::{decode_ints, encode_ints};
use super::varint::put_uvarint;
use super::zstd_block::{Zstd, put_section, read_section_with_dict};
use super::{Corrupt, Cursor, MAX_SECTION_BYTES};

/// A list of strings in one buffer; cheap to append to and to index. End offsets are `u32`
/// (4 bytes per value, most of what a chunk builder holds for short strings), so a list
/// holds at most [`StrValues::MAX_BYTES`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StrValues {
    data: String,
    ends: Vec<u32>,
}

impl StrValues {
    /// An empty list.
    pub fn new() -> StrValues {
        StrValues::default()
    }

    /// An empty list with room for `count` strings of `bytes` bytes in all.
    pub fn with_capacity(count: usize, bytes: usize) -> StrValues {
        StrValues {
            data: String::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// Most bytes a list holds.
    pub const MAX_BYTES: usize = u32::MAX as usize;

    /// Whether `s` fits after the bytes already held.
    pub fn fits(&self, s: &str) -> bool {
        s.len() <= Self::MAX_BYTES - self.data.len()
    }

    /// Appends one string.
    ///
    /// # Panics
    /// If the list would pass [`StrValues::MAX_BYTES`]; callers holding outside input
    /// check [`StrValues::fits`] first (lists copied from another list always fit).
    pub fn push(&mut self, s: &str) {
        assert!(self.fits(s), "string list past 4 GiB");
        self.data.push_str(s);
        self.ends.push(self.data.len() as u32);
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Total bytes of all strings.
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }

    /// String `i` (`""` when out of range).
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).map_or(0, |&e| e as usize)
        };
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.data.get(start..end).unwrap_or("")
    }

    /// The concatenated bytes of every string.
    pub fn bytes(&self) -> &[u8] {
        self.data.as_bytes()
    }

    /// A copy of strings `start..end` (clamped to the list).
    pub fn slice(&self, start: usize, end: usize) -> StrValues {
        let end = end.min(self.len());
        let mut out = StrValues::new();
        for i in start.min(end)..end {
            out.push(self.get(i));
        }
        out
    }

    /// Removes every string, keeping the buffers' capacity.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    /// Every string in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Builds from a buffer and per-string lengths, checking UTF-8 and char boundaries.
    pub fn from_parts(data: Vec<u8>, lengths: &[i64]) -> Result<StrValues, Corrupt> {
        if data.len() > Self::MAX_BYTES {
            return Err(Corrupt("string bytes past 4 GiB"));
        }
        let data = String::from_utf8(data).map_err(|_| Corrupt("string bytes are not UTF-8"))?;
        let mut ends = Vec::with_capacity(lengths.len());
        let mut pos = 0usize;
        for &l in lengths {
            let l = usize::try_from(l).map_err(|_| Corrupt("negative string length"))?;
            pos = pos
                .checked_add(l)
                .filter(|&p| p <= data.len())
                .ok_or(Corrupt("string lengths exceed the bytes"))?;
            if !data.is_char_boundary(pos) {
                return Err(Corrupt("string boundary inside a UTF-8 character"));
            }
            ends.push(pos as u32);
        }
        if pos != data.len() {
            return Err(Corrupt("string bytes longer than the lengths"));
        }
        Ok(StrValues { data, ends })
    }
}

/// Appends a `StrConst` payload (without tag).
pub fn put_const(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Reads a `StrConst` payload (without tag).
pub fn read_const(cur: &mut Cursor<'_>) -> Result<String, Corrupt> {
    let len = cur.len_varint(cur.remaining())?;
    std::str::from_utf8(cur.take(len)?)
        .map(str::to_owned)
        .map_err(|_| Corrupt("string is not UTF-8"))
}

/// Appends a `StrPlain` payload (without tag): lengths with `zi`, bytes with `zs`.
pub fn put_plain(out: &mut Vec<u8>, values: &StrValues, zi: &mut Zstd, zs: &mut Zstd) {
    let lengths: Vec<i64> = values.iter().map(|s| s.len() as i64).collect();
    encode_ints(out, &lengths, zi);
    put_section(out, values.data.as_bytes(), Some(zs));
}

/// Reads a `StrPlain` payload (without tag) of `n` strings.
pub fn read_plain(cur: &mut Cursor<'_>, n: usize) -> Result<StrValues, Corrupt> {
    read_plain_with_dict(cur, n, &[])
}

/// [`read_plain`] where the byte section was compressed with the raw-content dictionary
/// `dict` (the frames of `StrFramed`); an empty `dict` is none.
pub fn read_plain_with_dict(
    cur: &mut Cursor<'_>,
    n: usize,
    dict: &[u8],
) -> Result<StrValues, Corrupt> {
    let lengths = decode_ints(cur, n)?;
    let bytes = read_section_with_dict(cur, MAX_SECTION_BYTES, dict)?;
    StrValues::from_parts(bytes.into_owned(), &lengths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn plain_round_trip(values in proptest::collection::vec("\\PC{0,40}", 0..100)) {
            let mut sv = StrValues::new();
            for v in &values { sv.push(v); }
            let mut out = Vec::new();
            put_plain(&mut out, &sv, &mut Zstd::new(1), &mut Zstd::new(3));
            let mut cur = Cursor::new(&out);
            let back = read_plain(&mut cur, values.len()).unwrap();
            prop_assert!(cur.is_empty());
            prop_assert_eq!(back.iter().collect::<Vec<_>>(), values.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        }

        #[test]
        fn const_round_trip(s in "\\PC{0,100}") {
            let mut out = Vec::new();
            put_const(&mut out, &s);
            prop_assert_eq!(read_const(&mut Cursor::new(&out)).unwrap(), s);
        }

        #[test]
        fn garbage_never_panics(bytes: Vec<u8>, n in 0usize..50) {
            let _ = read_plain(&mut Cursor::new(&bytes), n);
            let _ = read_const(&mut Cursor::new(&bytes));
        }
    }

    #[test]
    fn boundary_inside_char_is_rejected() {
        assert!(StrValues::from_parts("é".as_bytes().to_vec(), &[1, 1]).is_err());
        assert!(StrValues::from_parts(b"ab".to_vec(), &[1]).is_err());
        assert!(StrValues::from_parts(b"ab".to_vec(), &[-1, 3]).is_err());
        let ok = StrValues::from_parts("éa".as_bytes().to_vec(), &[2, 1]).unwrap();
        assert_eq!(ok.get(0), "é");
        assert_eq!(ok.get(1), "a");
    }

    #[test]
    fn megabyte_string_round_trips() {
        let big: String = "日本語 text ".repeat(100_000);
        let mut sv = StrValues::new();
        sv.push(&big);
        sv.push("");
        let mut out = Vec::new();
        put_plain(&mut out, &sv, &mut Zstd::new(1), &mut Zstd::new(3));
        let back = read_plain(&mut Cursor::new(&out), 2).unwrap();
        assert_eq!(back.get(0), big);
        assert_eq!(back.get(1), "");
    }
}
