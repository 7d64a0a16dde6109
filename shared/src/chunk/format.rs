//! Fixed parts of a `.col` file: header, trailer, column directory entries, limits.
//!
//! ```text
//! header (8 B) | column blocks ... | batch section | footer | trailer (20 B)
//! ```
//! The byte-level specification is `docs/format/col.md`.

use super::encoding::varint::put_uvarint;
use super::encoding::{Corrupt, Cursor, Encoding};

/// File magic, at the start of the header and the end of the trailer.
pub const MAGIC: [u8; 4] = *b"OTCL";
/// The format version this code writes. Version 2 added the `StrFramed` value encoding.
pub const FORMAT_VERSION: u16 = 2;
/// The oldest format version this code reads (version 1 files never hold `StrFramed`).
pub const MIN_READ_VERSION: u16 = 1;
/// Header length in bytes: magic, `u16` version, `u16` flags.
pub const HEADER_LEN: usize = 8;
/// Trailer length in bytes: `u64` footer offset, `u32` footer length, `u32` footer CRC32C,
/// magic.
pub const TRAILER_LEN: usize = 20;
/// Most rows one chunk may hold (16 Mi); bounds every allocation a reader makes.
pub const MAX_ROWS: usize = 1 << 24;

/// Writes the 8-byte header.
pub fn put_header(out: &mut Vec<u8>) {
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
}

/// The fixed trailer that lets a reader open the file from its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Byte offset of the footer.
    pub footer_offset: u64,
    /// Byte length of the footer.
    pub footer_len: u32,
    /// CRC32C of the footer bytes.
    pub footer_crc: u32,
}

impl Trailer {
    /// Appends the 20-byte trailer.
    pub fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.footer_offset.to_le_bytes());
        out.extend_from_slice(&self.footer_len.to_le_bytes());
        out.extend_from_slice(&self.footer_crc.to_le_bytes());
        out.extend_from_slice(&MAGIC);
    }

    /// Parses exactly [`TRAILER_LEN`] bytes; `None` on bad magic.
    pub fn parse(bytes: &[u8]) -> Option<Trailer> {
        let mut c = Cursor::new(bytes);
        let footer_offset = c.u64_le().ok()?;
        let footer_len = c.u32_le().ok()?;
        let footer_crc = c.u32_le().ok()?;
        let magic = c.take(4).ok()?;
        (magic == MAGIC && c.is_empty()).then_some(Trailer {
            footer_offset,
            footer_len,
            footer_crc,
        })
    }
}

/// Where a section lives and its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionRef {
    /// Byte offset from the start of the file.
    pub offset: u64,
    /// Byte length.
    pub len: u64,
    /// CRC32C of the bytes.
    pub crc: u32,
}

impl SectionRef {
    /// Appends `uvarint offset`, `uvarint len`, `u32 crc`.
    pub fn put(&self, out: &mut Vec<u8>) {
        put_uvarint(out, self.offset);
        put_uvarint(out, self.len);
        out.extend_from_slice(&self.crc.to_le_bytes());
    }

    /// Reads what [`SectionRef::put`] wrote.
    pub fn read(c: &mut Cursor<'_>) -> Result<SectionRef, Corrupt> {
        Ok(SectionRef {
            offset: c.uvarint()?,
            len: c.uvarint()?,
            crc: c.u32_le()?,
        })
    }

    /// The section's bytes within `file`, if in range.
    pub fn slice<'a>(&self, file: &'a [u8]) -> Option<&'a [u8]> {
        let start = usize::try_from(self.offset).ok()?;
        let end = start.checked_add(usize::try_from(self.len).ok()?)?;
        file.get(start..end)
    }
}

/// One column's entry in the footer directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry {
    /// The column id (a [`crate::schema::Col`] discriminant).
    pub col_id: u8,
    /// How the block is encoded.
    pub encoding: Encoding,
    /// Null rows in the column.
    pub null_count: u32,
    /// Where the block is.
    pub block: SectionRef,
}

impl DirEntry {
    /// Appends `u8 id`, `u8 encoding`, `uvarint null_count`, then the block reference.
    pub fn put(&self, out: &mut Vec<u8>) {
        out.push(self.col_id);
        out.push(self.encoding.to_byte());
        put_uvarint(out, u64::from(self.null_count));
        self.block.put(out);
    }

    /// Reads what [`DirEntry::put`] wrote.
    pub fn read(c: &mut Cursor<'_>) -> Result<DirEntry, Corrupt> {
        let col_id = c.u8()?;
        let encoding = Encoding::from_byte(c.u8()?).ok_or(Corrupt("unknown encoding byte"))?;
        let null_count =
            u32::try_from(c.uvarint()?).map_err(|_| Corrupt("null count out of range"))?;
        let block = SectionRef::read(c)?;
        Ok(DirEntry {
            col_id,
            encoding,
            null_count,
            block,
        })
    }
}
