//! LEB128 unsigned varints and zigzag mapping of signed integers.

use super::{Corrupt, Cursor};

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-mapped as an unsigned varint.
pub fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

/// Maps a signed integer to an unsigned one so that small magnitudes stay small.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Number of bytes [`put_uvarint`] writes for `v`.
pub fn uvarint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

impl<'a> Cursor<'a> {
    /// Reads an unsigned LEB128 varint; rejects overlong (more than 10 bytes) encodings.
    pub fn uvarint(&mut self) -> Result<u64, Corrupt> {
        let mut v: u64 = 0;
        for i in 0..10u32 {
            let b = self.u8()?;
            let low = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(Corrupt("varint overflows 64 bits"));
            }
            v |= low << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Corrupt("varint longer than 10 bytes"))
    }

    /// Reads a zigzag-mapped signed varint.
    pub fn ivarint(&mut self) -> Result<i64, Corrupt> {
        Ok(unzigzag(self.uvarint()?))
    }

    /// Reads an unsigned varint that must fit a `usize` no larger than `max`.
    pub fn len_varint(&mut self, max: usize) -> Result<usize, Corrupt> {
        let v = self.uvarint()?;
        match usize::try_from(v) {
            Ok(n) if n <= max => Ok(n),
            _ => Err(Corrupt("length out of range")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn uvarint_round_trip(v: u64) {
            let mut out = Vec::new();
            put_uvarint(&mut out, v);
            prop_assert_eq!(out.len(), uvarint_len(v));
            let mut c = Cursor::new(&out);
            prop_assert_eq!(c.uvarint().unwrap(), v);
            prop_assert!(c.is_empty());
        }

        #[test]
        fn ivarint_round_trip(v: i64) {
            let mut out = Vec::new();
            put_ivarint(&mut out, v);
            prop_assert_eq!(Cursor::new(&out).ivarint().unwrap(), v);
        }

        #[test]
        fn uvarint_garbage_never_panics(bytes: Vec<u8>) {
            let _ = Cursor::new(&bytes).uvarint();
        }
    }

    #[test]
    fn zigzag_extremes() {
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn overlong_varint_is_rejected() {
        assert!(Cursor::new(&[0xff; 11]).uvarint().is_err());
        assert!(
            Cursor::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])
                .uvarint()
                .is_err()
        );
        assert!(Cursor::new(&[0x80]).uvarint().is_err());
    }
}
