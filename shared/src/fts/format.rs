//! Layout constants and the footer of the `.idx` file (`docs/format/idx.md`).
//!
//! ```text
//! header     8 bytes   "OTIX", version u16 LE, flags u16 LE (0)
//! postings   P bytes   postings lists of terms with df >= 2, in term order
//! dictionary D bytes   front-coded blocks of up to BLOCK_TERMS terms
//! block idx  8*B bytes per block: u32 LE offset in dictionary, u32 LE postings base
//! footer     56 bytes  see [`Footer`]
//! trailer    4 bytes   "OTIX"
//! ```

use super::error::{IndexError, Section};

/// File magic, at the start and at the very end of the file.
pub const MAGIC: [u8; 4] = *b"OTIX";
/// Format version written and read by this build.
pub const VERSION: u16 = 1;
/// Header length: magic, version, flags.
pub const HEADER_LEN: usize = 8;
/// Footer length (without the 4-byte trailer magic).
pub const FOOTER_LEN: usize = 56;
/// Footer plus trailer magic.
pub const TAIL_LEN: usize = FOOTER_LEN + 4;
/// Maximum number of terms in one dictionary block.
pub const BLOCK_TERMS: usize = 64;
/// Size of one block-index entry.
pub const INDEX_ENTRY_LEN: usize = 8;

/// The decoded footer: counts, section lengths and checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// Rows in the chunk (every postings row is below this).
    pub row_count: u32,
    /// Distinct terms in the dictionary.
    pub term_count: u32,
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
}

impl Footer {
    /// Serializes the footer, including its own CRC (of the header and footer bytes 0..52).
    pub fn encode(&self, header: &[u8; HEADER_LEN]) -> [u8; FOOTER_LEN] {
        let mut b = [0u8; FOOTER_LEN];
        b[0..4].copy_from_slice(&self.row_count.to_le_bytes());
        b[4..8].copy_from_slice(&self.term_count.to_le_bytes());
        b[8..12].copy_from_slice(&self.block_count.to_le_bytes());
        // 12..16 reserved, zero.
        b[16..24].copy_from_slice(&self.postings_len.to_le_bytes());
        b[24..32].copy_from_slice(&self.dict_len.to_le_bytes());
        b[32..40].copy_from_slice(&self.index_len.to_le_bytes());
        b[40..44].copy_from_slice(&self.postings_crc.to_le_bytes());
        b[44..48].copy_from_slice(&self.dict_crc.to_le_bytes());
        b[48..52].copy_from_slice(&self.index_crc.to_le_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(header), &b[..52]);
        b[52..56].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses and checksums a footer.
    pub fn decode(header: &[u8], b: &[u8]) -> Result<Footer, IndexError> {
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
        let stored = u32_at(52)?;
        let body = b
            .get(..52)
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
            block_count: u32_at(8)?,
            postings_len: u64_at(16)?,
            dict_len: u64_at(24)?,
            index_len: u64_at(32)?,
            postings_crc: u32_at(40)?,
            dict_crc: u32_at(44)?,
            index_crc: u32_at(48)?,
        })
    }
}
