//! Presence (null) tracking: a bitmap of present rows, and the presence part of a column
//! block.
//!
//! Presence part layout, after the `u8` [`PresenceKind`]:
//! - `AllPresent`, `AllNull`: nothing.
//! - `Bitmap`: a section ([`super::zstd_block`]) holding `ceil(rows / 8)` bytes; bit `i`
//!   (byte `i / 8`, bit `i % 8`, least significant first) is 1 when row `i` has a value.
//!   Padding bits past the last row are ignored.
//! - `SameAs`: `u8` id of an earlier column whose presence part is a `Bitmap`.
//!
//! Values of a sparse column are stored for the present rows only, in row order.

use super::zstd_block::{Zstd, put_section, read_section};
use super::{Corrupt, Cursor};

/// A fixed-length bitmap, one bit per row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Bitmap {
    words: Vec<u64>,
    len: usize,
}

impl Bitmap {
    /// An empty bitmap.
    pub fn new() -> Bitmap {
        Bitmap::default()
    }

    /// A bitmap of `len` bits, all set to `value`.
    pub fn filled(len: usize, value: bool) -> Bitmap {
        let mut words = vec![if value { u64::MAX } else { 0 }; len.div_ceil(64)];
        if value
            && !len.is_multiple_of(64)
            && let Some(last) = words.last_mut()
        {
            *last = (1u64 << (len % 64)) - 1;
        }
        Bitmap { words, len }
    }

    /// Appends one bit.
    pub fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        if bit && let Some(w) = self.words.last_mut() {
            *w |= 1u64 << (self.len % 64);
        }
        self.len += 1;
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bit `i` (false when out of range).
    pub fn get(&self, i: usize) -> bool {
        i < self.len
            && self
                .words
                .get(i / 64)
                .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Number of set bits before bit `i` (the position of row `i`'s value among the
    /// present rows' values).
    pub fn rank(&self, i: usize) -> usize {
        let i = i.min(self.len);
        let full: usize = self
            .words
            .iter()
            .take(i / 64)
            .map(|w| w.count_ones() as usize)
            .sum();
        let part = match (self.words.get(i / 64), i % 64) {
            (Some(w), r) if r > 0 => (w & ((1u64 << r) - 1)).count_ones() as usize,
            _ => 0,
        };
        full + part
    }

    /// Indices of set bits, ascending.
    pub fn iter_ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(wi * 64 + b)
            })
        })
    }

    /// The bitmap as `ceil(len / 8)` bytes, least significant bit first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        out.truncate(self.len.div_ceil(8));
        out
    }

    /// Parses `ceil(len / 8)` bytes; padding bits are cleared.
    pub fn from_bytes(bytes: &[u8], len: usize) -> Result<Bitmap, Corrupt> {
        if bytes.len() != len.div_ceil(8) {
            return Err(Corrupt("bitmap length does not match row count"));
        }
        let mut words: Vec<u64> = bytes
            .chunks(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(a)
            })
            .collect();
        if !len.is_multiple_of(64)
            && let Some(last) = words.last_mut()
        {
            *last &= (1u64 << (len % 64)) - 1;
        }
        Ok(Bitmap { words, len })
    }
}

/// Appends a bitmap presence payload (the part after the kind byte).
pub fn put_bitmap(out: &mut Vec<u8>, bitmap: &Bitmap, z: Option<&mut Zstd>) {
    put_section(out, &bitmap.to_bytes(), z);
}

/// Reads a bitmap presence payload for `rows` rows.
pub fn read_bitmap(cur: &mut Cursor<'_>, rows: usize) -> Result<Bitmap, Corrupt> {
    let bytes = read_section(cur, rows.div_ceil(8))?;
    Bitmap::from_bytes(&bytes, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bitmap_round_trip(bits in proptest::collection::vec(any::<bool>(), 0..500), compress: bool) {
            let mut b = Bitmap::new();
            for &x in &bits { b.push(x); }
            prop_assert_eq!(b.len(), bits.len());
            prop_assert_eq!(b.count_ones(), bits.iter().filter(|x| **x).count());
            let ones: Vec<usize> = b.iter_ones().collect();
            let expect: Vec<usize> = bits.iter().enumerate().filter(|(_, x)| **x).map(|(i, _)| i).collect();
            prop_assert_eq!(ones, expect);
            let mut z = Zstd::new(3);
            let mut out = Vec::new();
            put_bitmap(&mut out, &b, if compress { Some(&mut z) } else { None });
            let mut cur = Cursor::new(&out);
            prop_assert_eq!(read_bitmap(&mut cur, bits.len()).unwrap(), b);
            prop_assert!(cur.is_empty());
        }

        #[test]
        fn garbage_never_panics(bytes: Vec<u8>, rows in 0usize..100) {
            let _ = read_bitmap(&mut Cursor::new(&bytes), rows);
        }
    }

    #[test]
    fn padding_bits_are_ignored() {
        let b = Bitmap::from_bytes(&[0xff], 3).unwrap();
        assert_eq!(b.count_ones(), 3);
        assert_eq!(b, Bitmap::filled(3, true));
        assert_eq!(Bitmap::filled(64, true).count_ones(), 64);
        assert_eq!(Bitmap::filled(65, false).count_ones(), 0);
    }
}
