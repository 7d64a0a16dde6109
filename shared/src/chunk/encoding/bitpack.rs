//! Fixed-width bit-packing of unsigned integers, least significant bit first.
//!
//! Layout: `u8 width` (0..=64), then `ceil(count * width / 8)` bytes; value `i` occupies bits
//! `i*width .. (i+1)*width` of the little-endian bit stream. Width 0 stores nothing (every
//! value is 0). The count is known from context and not stored.

use super::{Corrupt, Cursor};

/// Bits needed to represent `max` (0 for 0).
pub fn width_for(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// Bytes of packed data for `count` values of `width` bits.
pub fn packed_len(count: usize, width: u8) -> Option<usize> {
    count
        .checked_mul(usize::from(width))
        .map(|bits| bits.div_ceil(8))
}

/// Appends `width` then the packed values. Values wider than `width` are truncated, so
/// callers pass `width_for(max)`.
pub fn pack(out: &mut Vec<u8>, width: u8, values: impl IntoIterator<Item = u64>) {
    out.push(width);
    if width == 0 {
        return;
    }
    let mask = mask(width);
    let mut acc: u128 = 0;
    let mut bits: u32 = 0;
    for v in values {
        acc |= u128::from(v & mask) << bits;
        bits += u32::from(width);
        if bits >= 64 {
            out.extend_from_slice(&(acc as u64).to_le_bytes());
            acc >>= 64;
            bits -= 64;
        }
    }
    let tail = bits.div_ceil(8) as usize;
    out.extend_from_slice(&(acc as u64).to_le_bytes()[..tail]);
}

fn mask(width: u8) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// A validated view of packed values with random access.
#[derive(Debug, Clone, Copy)]
pub struct Packed<'a> {
    data: &'a [u8],
    width: u8,
    count: usize,
}

impl<'a> Packed<'a> {
    /// Reads the width byte and exactly the packed bytes for `count` values.
    pub fn read(cur: &mut Cursor<'a>, count: usize) -> Result<Packed<'a>, Corrupt> {
        let width = cur.u8()?;
        if width > 64 {
            return Err(Corrupt("bit width above 64"));
        }
        let len = packed_len(count, width).ok_or(Corrupt("packed size overflows"))?;
        let data = cur.take(len)?;
        Ok(Packed { data, width, count })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bits per value.
    pub fn width(&self) -> u8 {
        self.width
    }

    /// Value `i` (0 if out of range).
    pub fn get(&self, i: usize) -> u64 {
        if self.width == 0 || i >= self.count {
            return 0;
        }
        let bit = i * usize::from(self.width);
        let byte = bit / 8;
        let shift = bit % 8;
        let mut acc: u128 = 0;
        for (k, b) in self.data.iter().skip(byte).take(9).enumerate() {
            acc |= u128::from(*b) << (8 * k);
        }
        ((acc >> shift) as u64) & mask(self.width)
    }

    /// Calls `f` with every value in order (faster than repeated [`Packed::get`]).
    pub fn for_each(&self, mut f: impl FnMut(u64)) {
        if self.width == 0 {
            for _ in 0..self.count {
                f(0);
            }
            return;
        }
        let width = u32::from(self.width);
        let mask = mask(self.width);
        let mut acc: u128 = 0;
        let mut bits: u32 = 0;
        let mut chunks = self.data.chunks_exact(8);
        let mut tail = chunks.remainder().iter();
        for _ in 0..self.count {
            if bits < width {
                if let Some(c) = chunks.next() {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    acc |= u128::from(u64::from_le_bytes(a)) << bits;
                    bits += 64;
                } else {
                    while bits < width {
                        let b = tail.next().copied().unwrap_or(0);
                        acc |= u128::from(b) << bits;
                        bits += 8;
                    }
                }
            }
            f((acc as u64) & mask);
            acc >>= width;
            bits -= width;
        }
    }

    /// All values as a vector.
    pub fn to_vec(&self) -> Vec<u64> {
        let mut v = Vec::with_capacity(self.count);
        self.for_each(|x| v.push(x));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pack_round_trip(values in proptest::collection::vec(any::<u64>(), 0..300), shift in 0u32..64) {
            let values: Vec<u64> = values.into_iter().map(|v| v >> shift).collect();
            let width = width_for(values.iter().copied().max().unwrap_or(0));
            let mut out = Vec::new();
            pack(&mut out, width, values.iter().copied());
            prop_assert_eq!(out.len(), 1 + packed_len(values.len(), width).unwrap());
            let mut cur = Cursor::new(&out);
            let p = Packed::read(&mut cur, values.len()).unwrap();
            prop_assert!(cur.is_empty());
            prop_assert_eq!(p.to_vec(), values.clone());
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(p.get(i), *v);
            }
        }

        #[test]
        fn read_garbage_never_panics(bytes: Vec<u8>, count in 0usize..1000) {
            let mut cur = Cursor::new(&bytes);
            if let Ok(p) = Packed::read(&mut cur, count) {
                let _ = p.to_vec();
                let _ = p.get(count / 2);
            }
        }
    }

    #[test]
    fn width_zero_and_64() {
        let mut out = Vec::new();
        pack(&mut out, 0, [0u64; 5]);
        assert_eq!(out, vec![0]);
        let p = Packed::read(&mut Cursor::new(&out), 5).unwrap();
        assert_eq!(p.to_vec(), vec![0; 5]);
        let vals = [u64::MAX, 0, 1, u64::MAX - 1];
        let mut out = Vec::new();
        pack(&mut out, 64, vals);
        let p = Packed::read(&mut Cursor::new(&out), 4).unwrap();
        assert_eq!(p.to_vec(), vals.to_vec());
        assert_eq!(width_for(u64::MAX), 64);
        assert_eq!(width_for(1), 1);
        assert_eq!(width_for(0), 0);
    }
}
