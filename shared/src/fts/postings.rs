//! Postings list codec: sorted, deduplicated row numbers of one term, compressed.
//!
//! A list of `df >= 2` rows is written in whichever of three encodings is smallest
//! (a single row is stored inline in the term dictionary instead). All encodings start
//! from the *gaps*: `g[0] = row[0]`, `g[i] = row[i] - row[i-1] - 1`.
//!
//! * [`ENC_VARINT`]: each gap as an unsigned LEB128 varint.
//! * [`ENC_PACKED`]: gaps in blocks of [`PACK_BLOCK`] (the last block may be shorter);
//!   each block is one byte `w` (0..=32) followed by `ceil(n * w / 8)` bytes holding the
//!   `n` gaps as `w`-bit little-endian integers packed LSB-first.
//! * [`ENC_BITMAP`]: `ceil((last_row + 1) / 8)` bytes; row `r` is present when bit
//!   `r % 8` (LSB = bit 0) of byte `r / 8` is set.

use super::error::{IndexError, Section};

/// Encoding id: LEB128 varint gaps.
pub const ENC_VARINT: u8 = 0;
/// Encoding id: bit-packed gap blocks.
pub const ENC_PACKED: u8 = 1;
/// Encoding id: bitmap over row numbers.
pub const ENC_BITMAP: u8 = 2;
/// Gaps per bit-packed block.
pub const PACK_BLOCK: usize = 128;

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// A bounds-checked reader over one section's bytes.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    section: Section,
}

impl<'a> Cursor<'a> {
    /// Reads `buf` from its start; errors name `section`.
    pub(crate) fn new(buf: &'a [u8], section: Section) -> Cursor<'a> {
        Cursor {
            buf,
            pos: 0,
            section,
        }
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Reads one byte.
    pub(crate) fn u8(&mut self) -> Result<u8, IndexError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| IndexError::corrupt(self.section, "unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes.
    pub(crate) fn varint(&mut self) -> Result<u64, IndexError> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(IndexError::corrupt(self.section, "varint overflows u64"));
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(IndexError::corrupt(
            self.section,
            "varint longer than 10 bytes",
        ))
    }

    /// Reads a varint that must fit in u32.
    pub(crate) fn varint_u32(&mut self) -> Result<u32, IndexError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| IndexError::corrupt(self.section, "value exceeds u32"))
    }

    /// Reads `n` raw bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        let end = self.pos.checked_add(n);
        let s = end
            .and_then(|e| self.buf.get(self.pos..e))
            .ok_or_else(|| IndexError::corrupt(self.section, "length points past the end"))?;
        self.pos += n;
        Ok(s)
    }
}

fn gaps(rows: &[u32]) -> impl Iterator<Item = u32> + '_ {
    rows.iter()
        .enumerate()
        .map(|(i, &r)| if i == 0 { r } else { r - rows[i - 1] - 1 })
}

fn packed_len(rows: &[u32]) -> usize {
    let mut len = 0;
    let g: Vec<u32> = gaps(rows).collect();
    for block in g.chunks(PACK_BLOCK) {
        let w = block_width(block);
        len += 1 + (block.len() * w as usize).div_ceil(8);
    }
    len
}

fn block_width(block: &[u32]) -> u32 {
    32 - block.iter().fold(0u32, |a, &g| a | g).leading_zeros()
}

/// Byte lengths of `rows` (strictly increasing) as varint gaps, bit-packed gaps and bitmap.
fn encoding_lens(rows: &[u32]) -> (usize, usize, usize) {
    let varint: usize = gaps(rows).map(|g| varint_len(u64::from(g))).sum();
    let bitmap = rows.last().map_or(0, |&l| l as usize / 8 + 1);
    (varint, packed_len(rows), bitmap)
}

/// Bytes [`encode`] stores for `rows` (strictly increasing, at least two): the smallest
/// of the three encodings. For size studies (`idx_anatomy`) of other row granularities.
pub fn encoded_len(rows: &[u32]) -> usize {
    let (varint, packed, bitmap) = encoding_lens(rows);
    varint.min(packed).min(bitmap)
}

/// Appends `rows` (strictly increasing, at least two) in the smallest encoding and returns
/// the encoding id.
pub(crate) fn encode(rows: &[u32], out: &mut Vec<u8>) -> u8 {
    let (varint, packed, bitmap) = encoding_lens(rows);
    if varint <= packed && varint <= bitmap {
        gaps(rows).for_each(|g| write_varint(out, u64::from(g)));
        ENC_VARINT
    } else if packed <= bitmap {
        let g: Vec<u32> = gaps(rows).collect();
        for block in g.chunks(PACK_BLOCK) {
            let w = block_width(block);
            out.push(w as u8);
            let mut acc: u64 = 0;
            let mut nbits = 0u32;
            for &x in block {
                acc |= u64::from(x) << nbits;
                nbits += w;
                while nbits >= 8 {
                    out.push(acc as u8);
                    acc >>= 8;
                    nbits -= 8;
                }
            }
            if nbits > 0 {
                out.push(acc as u8);
            }
        }
        ENC_PACKED
    } else {
        let start = out.len();
        out.resize(start + bitmap, 0);
        for &r in rows {
            let i = start + r as usize / 8;
            out[i] |= 1 << (r % 8);
        }
        ENC_BITMAP
    }
}

/// Decodes a postings list of `df` rows, every one of which must be `< row_count` and
/// strictly increasing; `bytes` must be consumed exactly.
pub(crate) fn decode(
    enc: u8,
    bytes: &[u8],
    df: u32,
    row_count: u32,
) -> Result<Vec<u32>, IndexError> {
    let bad = |r: &str| IndexError::corrupt(Section::Postings, r);
    let df = df as usize;
    if df > bytes.len().saturating_mul(PACK_BLOCK) || df > row_count as usize {
        return Err(bad("document frequency impossible for the postings length"));
    }
    let mut rows = Vec::with_capacity(df);
    match enc {
        ENC_VARINT | ENC_PACKED => {
            let mut cur = Cursor::new(bytes, Section::Postings);
            let mut next: u64 = 0;
            let mut push = |g: u64, rows: &mut Vec<u32>| -> Result<(), IndexError> {
                let r = next + g;
                if r >= u64::from(row_count) {
                    return Err(bad("row number beyond the chunk's row count"));
                }
                rows.push(r as u32);
                next = r + 1;
                Ok(())
            };
            if enc == ENC_VARINT {
                for _ in 0..df {
                    let g = cur.varint()?;
                    push(g, &mut rows)?;
                }
            } else {
                let mut left = df;
                while left > 0 {
                    let n = left.min(PACK_BLOCK);
                    let w = u32::from(cur.u8()?);
                    if w > 32 {
                        return Err(bad("bit width above 32"));
                    }
                    let data = cur.bytes((n * w as usize).div_ceil(8))?;
                    let mut acc: u64 = 0;
                    let mut nbits = 0u32;
                    let mut it = data.iter();
                    let mask = if w == 32 {
                        u64::from(u32::MAX)
                    } else {
                        (1u64 << w) - 1
                    };
                    for _ in 0..n {
                        while nbits < w {
                            let b = it.next().ok_or_else(|| bad("packed block too short"))?;
                            acc |= u64::from(*b) << nbits;
                            nbits += 8;
                        }
                        push(acc & mask, &mut rows)?;
                        acc = acc.checked_shr(w).unwrap_or(0);
                        nbits -= w;
                    }
                    left -= n;
                }
            }
            if cur.remaining() != 0 {
                return Err(bad("trailing bytes after the postings list"));
            }
        }
        ENC_BITMAP => {
            if bytes.len() > (row_count as usize).div_ceil(8) {
                return Err(bad("bitmap longer than the chunk's rows"));
            }
            for (i, &b) in bytes.iter().enumerate() {
                let mut b = b;
                while b != 0 {
                    let r = (i * 8) as u32 + b.trailing_zeros();
                    if r >= row_count || rows.len() >= df {
                        return Err(bad("bitmap holds rows beyond the row count or frequency"));
                    }
                    rows.push(r);
                    b &= b - 1;
                }
            }
            if rows.len() != df {
                return Err(bad("bitmap population differs from the document frequency"));
            }
        }
        _ => return Err(bad("unknown postings encoding")),
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(rows: &[u32], want_enc: Option<u8>) {
        let mut out = Vec::new();
        let enc = encode(rows, &mut out);
        if let Some(w) = want_enc {
            assert_eq!(enc, w, "{rows:?}");
        }
        let back = decode(enc, &out, rows.len() as u32, 1 << 20).unwrap();
        assert_eq!(back, rows);
        assert_eq!(encoded_len(rows), out.len(), "{rows:?}");
    }

    #[test]
    fn all_encodings_round_trip() {
        round_trip(&[3, 900_000], Some(ENC_VARINT));
        // gaps cycling 0, 0, 2 need 2 bits each at density 3/5: the bitmap is smaller.
        let mut dense = Vec::new();
        let mut r = 0u32;
        for i in 0..5000 {
            dense.push(r);
            r += if i % 3 == 2 { 3 } else { 1 };
        }
        round_trip(&dense, Some(ENC_BITMAP));
        let halves: Vec<u32> = (0..5000).filter(|r| r % 3 != 0).collect();
        round_trip(&halves, Some(ENC_PACKED));
        let mid: Vec<u32> = (0..3000).map(|i| i * 37 + (i % 5)).collect();
        round_trip(&mid, Some(ENC_PACKED));
        let all: Vec<u32> = (0..1000).collect();
        round_trip(&all, None);
    }

    #[test]
    fn varint_rejects_overlong() {
        let mut c = Cursor::new(&[0xff; 11], Section::Postings);
        assert!(c.varint().is_err());
        let mut out = Vec::new();
        write_varint(&mut out, u64::MAX);
        assert_eq!(
            Cursor::new(&out, Section::Postings).varint().unwrap(),
            u64::MAX
        );
    }
}
