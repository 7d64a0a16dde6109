//! Layout constants and the footer of the `.idx` file (`docs/format/idx.md`).
//!
//! ```text
//! header     8 bytes   "OTIX", version u16 LE, flags u16 LE (0)
//! postings   P bytes   postings lists of terms with df >= 2, in term order
//! dictionary D bytes   blocks of up to BLOCK_TERMS front-coded terms (zstd when smaller)
//! block idx  8*B bytes per block: u32 LE offset in dictionary, u32 LE postings base
//! blooms     L bytes   version 3: a bloom filter per id column (`super::bloom`)
//! footer     72 bytes  see [`Footer`] (56 bytes in versions 1 and 2)
//! trailer    4 bytes   "OTIX"
//! ```

use super::error::{IndexError, Section};
use crate::schema::Col;

/// File magic, at the start and at the very end of the file.
pub const MAGIC: [u8; 4] = *b"OTIX";
/// Format version written by this build (readers also accept [`VERSION_1`] and
/// [`VERSION_2`]).
pub const VERSION: u16 = 3;
/// Version 2: like version 3 without the bloom section (56-byte footer).
pub const VERSION_2: u16 = 2;
/// The first format version: uncompressed dictionary blocks, no shared lists, no id keys.
pub const VERSION_1: u16 = 1;
/// Header length: magic, version, flags.
pub const HEADER_LEN: usize = 8;
/// Footer length of version 3 (without the 4-byte trailer magic).
pub const FOOTER_LEN: usize = 72;
/// Footer length of versions 1 and 2.
pub const FOOTER_LEN_V2: usize = 56;

/// Footer plus trailer magic for a file of `version`.
pub fn tail_len(version: u16) -> usize {
    footer_len(version) + 4
}

/// Footer length for a file of `version`.
pub fn footer_len(version: u16) -> usize {
    if version >= VERSION {
        FOOTER_LEN
    } else {
        FOOTER_LEN_V2
    }
}
/// Maximum number of terms in one dictionary block written by this build (version 2;
/// version 1 files have at most [`BLOCK_TERMS_V1`]).
pub const BLOCK_TERMS: usize = 256;
/// Maximum number of terms in one dictionary block of a version 1 file.
pub const BLOCK_TERMS_V1: usize = 64;
/// Largest decompressed dictionary block a reader accepts (bounds its allocation).
pub const MAX_BLOCK_BYTES: usize = 1 << 24;
/// zstd level of dictionary blocks.
pub const DICT_ZSTD_LEVEL: i32 = 3;
/// Dictionary block payload stored as is.
pub const SECTION_RAW: u8 = 0;
/// Dictionary block payload stored as one zstd frame.
pub const SECTION_ZSTD: u8 = 1;
/// Flag on a dictionary entry's encoding byte (version 2): the list is stored earlier in
/// the postings section (an identical list of another term), at an explicit offset.
pub const LIST_SHARED: u8 = 0x80;

/// Columns whose values get exact-id keys by default (`IndexBuilder::new`; see
/// `IndexReader::id_postings`): none. Measured with `storage_bench`, keys for trace, request,
/// span and user ids cost 24 B/row (more than a third of the whole `.idx`) for a lookup gain
/// of a few milliseconds per chunk, because materialising the matching rows dominates. A
/// reader falls back to scanning the column when a file has no keys for it.
pub const ID_COLUMNS: &[Col] = &[];

/// The id columns worth keys when lookups matter more than size (used by tests and by
/// `IndexBuilder::with_id_columns` callers that opt in).
pub const KEYABLE_ID_COLUMNS: &[Col] = &[Col::TraceId, Col::RequestId, Col::SpanId, Col::UserId];

/// The footer's id-column mask bit of `col` (bit = column id), or `None` for columns with
/// ids of 32 and above, which cannot have id keys.
pub fn id_mask_bit(col: Col) -> Option<u32> {
    1u32.checked_shl(u32::from(col as u8))
}

/// First byte of every exact-id key. A control character is a separator for the
/// tokenizer, so no text token can start with it: the two namespaces cannot collide.
pub const ID_KEY_PREFIX: char = '\u{1}';

/// Writes the exact-id key of `value` in `col` into `out`: [`ID_KEY_PREFIX`], the column
/// id as one character (U+0000..=U+00FF, so one or two UTF-8 bytes), then `value` verbatim
/// (case-sensitive, never truncated).
pub fn id_key(col: Col, value: &str, out: &mut String) {
    out.clear();
    out.push(ID_KEY_PREFIX);
    out.push(char::from(col as u8));
    out.push_str(value);
}
/// Size of one block-index entry.
pub const INDEX_ENTRY_LEN: usize = 8;

/// The decoded footer: counts, section lengths and checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// Rows in the chunk (every postings row is below this).
    pub row_count: u32,
    /// Distinct terms in the dictionary.
    pub term_count: u32,
    /// Version 2: bit `c` set when column id `c` has exact-id keys (0 in version 1).
    pub id_columns: u32,
    /// Dictionary blocks (entries in the block index).
    pub block_count: u32,
    /// Length of the postings section.
    pub postings_len: u64,
    /// Length of the dictionary section.
    pub dict_len: u64,
    /// Length of the block index section.
    pub index_len: u64,
    /// CRC32C of the postings section.
    pub postings_crc: u32,
    /// CRC32C of the dictionary section.
    pub dict_crc: u32,
    /// CRC32C of the block index section.
    pub index_crc: u32,
    /// Version 3: bit `c` set when column id `c` has a bloom filter (0 before).
    pub bloom_columns: u32,
    /// Version 3: length of the bloom section (0 before).
    pub bloom_len: u64,
    /// Version 3: CRC32C of the bloom section.
    pub bloom_crc: u32,
}

impl Footer {
    /// Serializes a version 3 footer, including its own CRC (of the header and footer bytes
    /// 0..68).
    pub fn encode(&self, header: &[u8; HEADER_LEN]) -> [u8; FOOTER_LEN] {
        let mut b = [0u8; FOOTER_LEN];
        b[0..4].copy_from_slice(&self.row_count.to_le_bytes());
        b[4..8].copy_from_slice(&self.term_count.to_le_bytes());
        b[8..12].copy_from_slice(&self.block_count.to_le_bytes());
        b[12..16].copy_from_slice(&self.id_columns.to_le_bytes());
        b[16..24].copy_from_slice(&self.postings_len.to_le_bytes());
        b[24..32].copy_from_slice(&self.dict_len.to_le_bytes());
        b[32..40].copy_from_slice(&self.index_len.to_le_bytes());
        b[40..44].copy_from_slice(&self.postings_crc.to_le_bytes());
        b[44..48].copy_from_slice(&self.dict_crc.to_le_bytes());
        b[48..52].copy_from_slice(&self.index_crc.to_le_bytes());
        b[52..56].copy_from_slice(&self.bloom_columns.to_le_bytes());
        b[56..64].copy_from_slice(&self.bloom_len.to_le_bytes());
        b[64..68].copy_from_slice(&self.bloom_crc.to_le_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(header), &b[..68]);
        b[68..72].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses and checksums the footer of a file of `version` (`b` is [`footer_len`] bytes).
    pub fn decode(header: &[u8], b: &[u8], version: u16) -> Result<Footer, IndexError> {
        let crc_at = footer_len(version) - 4;
        let u32_at = |o: usize| -> Result<u32, IndexError> {
            b.get(o..o + 4)
                .and_then(|s| s.try_into().ok())
                .map(u32::from_le_bytes)
                .ok_or_else(|| IndexError::corrupt(Section::Footer, "short footer"))
        };
        let u64_at = |o: usize| -> Result<u64, IndexError> {
            b.get(o..o + 8)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_le_bytes)
                .ok_or_else(|| IndexError::corrupt(Section::Footer, "short footer"))
        };
        let stored = u32_at(crc_at)?;
        let body = b
            .get(..crc_at)
            .ok_or_else(|| IndexError::corrupt(Section::Footer, "short footer"))?;
        let computed = crc32c::crc32c_append(crc32c::crc32c(header), body);
        if stored != computed {
            return Err(IndexError::Checksum {
                section: Section::Footer,
                stored,
                computed,
            });
        }
        Ok(Footer {
            row_count: u32_at(0)?,
            term_count: u32_at(4)?,
            id_columns: u32_at(12)?,
            block_count: u32_at(8)?,
            postings_len: u64_at(16)?,
            dict_len: u64_at(24)?,
            index_len: u64_at(32)?,
            postings_crc: u32_at(40)?,
            dict_crc: u32_at(44)?,
            index_crc: u32_at(48)?,
            bloom_columns: if crc_at > 52 { u32_at(52)? } else { 0 },
            bloom_len: if crc_at > 52 { u64_at(56)? } else { 0 },
            bloom_crc: if crc_at > 52 { u32_at(64)? } else { 0 },
        })
    }
}
