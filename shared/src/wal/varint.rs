//! LEB128 varints, zigzag, and a bounds-checked payload cursor.

use super::error::CorruptReason;

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
#[inline]
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Maps a signed integer to an unsigned one so that small magnitudes stay small.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Reads fields from a payload, never past its end.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf, pos: 0 }
    }

    /// Current position.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Reads `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], CorruptReason> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(CorruptReason::UnexpectedEnd { at: self.pos })?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(CorruptReason::UnexpectedEnd { at: self.pos })?;
        self.pos = end;
        Ok(s)
    }

    /// Reads one byte.
    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, CorruptReason> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(CorruptReason::UnexpectedEnd { at: self.pos })?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads a little-endian u64.
    pub(crate) fn u64_le(&mut self) -> Result<u64, CorruptReason> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads a minimally encoded unsigned LEB128 varint.
    #[inline]
    pub(crate) fn uvarint(&mut self) -> Result<u64, CorruptReason> {
        let start = self.pos;
        // Fast path: one byte.
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(CorruptReason::BadVarint { at: start });
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                if b == 0 && shift > 0 {
                    // Overlong: a trailing zero group.
                    return Err(CorruptReason::BadVarint { at: start });
                }
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// Reads a zigzag varint.
    #[inline]
    pub(crate) fn ivarint(&mut self) -> Result<i64, CorruptReason> {
        self.uvarint().map(unzigzag)
    }

    /// Reads a varint length followed by that many bytes; the length is checked against
    /// the bytes left before anything is sliced or allocated.
    #[inline]
    pub(crate) fn len_prefixed(&mut self) -> Result<&'a [u8], CorruptReason> {
        let at = self.pos;
        let len = self.uvarint()?;
        let remaining = self.remaining();
        match usize::try_from(len) {
            Ok(n) if n <= remaining => self.take(n),
            _ => Err(CorruptReason::LengthOutOfBounds { at, len, remaining }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_edges() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            let mut c = Cursor::new(&b);
            assert_eq!(c.uvarint(), Ok(v));
            assert_eq!(c.remaining(), 0);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -64, 64] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn varint_rejects_overlong_and_overflow() {
        assert!(Cursor::new(&[0x80, 0x00]).uvarint().is_err());
        let mut too_long = vec![0xff; 10];
        too_long.push(0x01);
        assert!(Cursor::new(&too_long).uvarint().is_err());
        let mut overflow = vec![0xff; 9];
        overflow.push(0x02);
        assert!(Cursor::new(&overflow).uvarint().is_err());
        assert!(Cursor::new(&[0x80]).uvarint().is_err());
    }

    #[test]
    fn len_prefixed_checks_bounds() {
        let mut c = Cursor::new(&[5, 1, 2]);
        assert!(matches!(
            c.len_prefixed(),
            Err(CorruptReason::LengthOutOfBounds { len: 5, .. })
        ));
    }
}
