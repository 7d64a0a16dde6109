//! Column encodings of the chunk format, each in its own module, and the byte cursor they
//! share. Every decoder takes untrusted bytes and returns [`Corrupt`] instead of panicking.
//!
//! A column block is a presence part ([`sparse`]) followed by a value part whose first byte is
//! a [`ValueEncoding`]; the layouts are specified in `docs/format/col.md`.

pub mod bitpack;
pub mod delta;
pub mod dict;
pub mod framed;
pub mod sparse;
pub mod strings;
pub mod varint;
pub mod zstd_block;

/// Why some bytes could not be decoded; the reader wraps it with the section it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

/// Upper bound on the decoded size of any one section (1 GiB), so a corrupt length can never
/// make the reader allocate without bound.
pub const MAX_SECTION_BYTES: usize = 1 << 30;

/// A panic-free reader over a byte slice.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes }
    }

    /// Whether every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// The unconsumed bytes.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, Corrupt> {
        let (&b, rest) = self
            .bytes
            .split_first()
            .ok_or(Corrupt("unexpected end of data"))?;
        self.bytes = rest;
        Ok(b)
    }

    /// Reads `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        if n > self.bytes.len() {
            return Err(Corrupt("unexpected end of data"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// Reads a little-endian `u16`.
    pub fn u16_le(&mut self) -> Result<u16, Corrupt> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Reads a little-endian `u32`.
    pub fn u32_le(&mut self) -> Result<u32, Corrupt> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    /// Reads a little-endian `u64`.
    pub fn u64_le(&mut self) -> Result<u64, Corrupt> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), Corrupt> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(Corrupt("trailing bytes after encoded data"))
        }
    }
}

/// How a column's values (its non-null entries) are laid out: the first byte of the value
/// part of a column block, and the low nibble of the encoding byte in the footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValueEncoding {
    /// No values (all-null or zero-row column).
    None = 0,
    /// Integers: every value equal.
    IntConst = 1,
    /// Integers: zigzag varints, in a raw or zstd section.
    IntVarint = 2,
    /// Integers: frame of reference (minimum) plus bit-packed offsets.
    IntFor = 3,
    /// Integers: first value, then zigzag deltas as frame of reference plus bit-packing.
    IntDeltaFor = 4,
    /// Integers: sorted distinct values plus bit-packed ids.
    IntDict = 5,
    /// Strings: every value equal.
    StrConst = 8,
    /// Strings: sorted dictionary plus bit-packed ids.
    StrDict = 9,
    /// Strings: lengths (as an integer sequence) plus concatenated bytes, raw or zstd.
    StrPlain = 10,
    /// Strings: `StrPlain` frames of a fixed number of values each, so one row can be read
    /// without decompressing the whole column (`.col` version 2).
    StrFramed = 11,
}

impl ValueEncoding {
    /// The encoding with the given id.
    pub fn from_u8(b: u8) -> Option<ValueEncoding> {
        use ValueEncoding as V;
        Some(match b {
            0 => V::None,
            1 => V::IntConst,
            2 => V::IntVarint,
            3 => V::IntFor,
            4 => V::IntDeltaFor,
            5 => V::IntDict,
            8 => V::StrConst,
            9 => V::StrDict,
            10 => V::StrPlain,
            11 => V::StrFramed,
            _ => return None,
        })
    }

    /// Whether values are kept as ids into a sorted dictionary (so equality filters compare
    /// ids, not values).
    pub fn is_dictionary(self) -> bool {
        matches!(self, ValueEncoding::IntDict | ValueEncoding::StrDict)
    }
}

/// How a column records which rows are null: the first byte of a column block and the high
/// nibble of the encoding byte in the footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PresenceKind {
    /// No row is null.
    AllPresent = 0,
    /// Every row is null (no values follow).
    AllNull = 1,
    /// A bitmap of present rows follows.
    Bitmap = 2,
    /// Same presence as an earlier column (a column id follows) whose presence is a bitmap.
    SameAs = 3,
}

impl PresenceKind {
    /// The kind with the given id.
    pub fn from_u8(b: u8) -> Option<PresenceKind> {
        Some(match b {
            0 => PresenceKind::AllPresent,
            1 => PresenceKind::AllNull,
            2 => PresenceKind::Bitmap,
            3 => PresenceKind::SameAs,
            _ => return None,
        })
    }
}

/// The full encoding of one column: presence kind and value encoding. Stored as one byte
/// (`presence << 4 | values`) in the footer directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encoding {
    /// How nulls are recorded.
    pub presence: PresenceKind,
    /// How the non-null values are laid out.
    pub values: ValueEncoding,
}

impl Encoding {
    /// The one-byte form stored in the footer.
    pub fn to_byte(self) -> u8 {
        ((self.presence as u8) << 4) | self.values as u8
    }

    /// Parses the one-byte form.
    pub fn from_byte(b: u8) -> Option<Encoding> {
        Some(Encoding {
            presence: PresenceKind::from_u8(b >> 4)?,
            values: ValueEncoding::from_u8(b & 0x0f)?,
        })
    }
}
