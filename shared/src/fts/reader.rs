//! Reads an `.idx` file in place (`&[u8]`, typically an mmap): term lookup and postings.
//!
//! A lookup binary-searches the block index (reading only the first term of each probed
//! block), scans one dictionary block, then decodes that term's postings; nothing else of
//! the file is touched. No input bytes can make the reader panic: every length, offset and
//! value is checked and reported as a typed [`IndexError`].

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;

use super::bloom::Blooms;
use super::error::{IndexError, Section};
use super::format::{
    BLOCK_TERMS, BLOCK_TERMS_V1, Footer, HEADER_LEN, INDEX_ENTRY_LEN, LIST_SHARED, MAGIC,
    MAX_BLOCK_BYTES, SECTION_RAW, SECTION_ZSTD, VERSION, VERSION_1, VERSION_2, footer_len, id_key,
    id_mask_bit, tail_len,
};
use super::postings::{Cursor, ENC_BITMAP, ENC_PACKED, ENC_VARINT, decode};
use super::tokenizer::index_key;
use crate::schema::Col;

thread_local! {
    /// One zstd decompression context per thread, reused by every block lookup.
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// Decompresses one zstd frame that must produce exactly `raw_len` bytes.
fn unzstd(frame: &[u8], raw_len: usize) -> Result<Vec<u8>, IndexError> {
    let bad = || IndexError::corrupt(Section::Dictionary, "bad zstd block");
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new().map_err(|_| bad())?);
        }
        let d = slot.as_mut().ok_or_else(bad)?;
        let out = d.decompress(frame, raw_len).map_err(|_| bad())?;
        if out.len() != raw_len {
            return Err(bad());
        }
        Ok(out)
    })
}

/// Where a term's rows are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    /// A single row, stored inline in the dictionary.
    Inline(u32),
    /// A postings list in the postings section.
    List { enc: u8, offset: usize, len: usize },
}

/// A dictionary entry: how many rows hold the term and where they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermInfo {
    /// Number of rows containing the term (document frequency).
    pub doc_freq: u32,
    loc: Location,
}

impl TermInfo {
    /// How the rows are stored: `"inline"`, `"varint"`, `"packed"` or `"bitmap"`
    /// (for diagnostics and benchmarks).
    pub fn storage(&self) -> &'static str {
        match self.loc {
            Location::Inline(_) => "inline",
            Location::List {
                enc: ENC_VARINT, ..
            } => "varint",
            Location::List {
                enc: ENC_PACKED, ..
            } => "packed",
            Location::List {
                enc: ENC_BITMAP, ..
            } => "bitmap",
            Location::List { .. } => "unknown",
        }
    }

    /// Bytes of the postings section used by this term (0 when inline).
    pub fn postings_bytes(&self) -> usize {
        match self.loc {
            Location::Inline(_) => 0,
            Location::List { len, .. } => len,
        }
    }
}

/// One dictionary block ready to scan: its entry bytes (decompressed for version 2), term
/// count, first term (stored in front of the entries in version 2; `None` in version 1)
/// and postings base offset.
type BlockEntries<'a> = (Cow<'a, [u8]>, u64, Option<&'a [u8]>, usize);

/// An opened index file borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct IndexReader<'a> {
    postings: &'a [u8],
    dict: &'a [u8],
    index: &'a [u8],
    blooms: Blooms<'a>,
    footer: Footer,
    version: u16,
}

impl<'a> IndexReader<'a> {
    /// Opens an index, validating its structure and the CRC32C of every section.
    /// Costs one pass over the file (hardware CRC32C); do it once per mmap.
    pub fn open(bytes: &'a [u8]) -> Result<IndexReader<'a>, IndexError> {
        let r = IndexReader::open_trusted(bytes)?;
        for (section, data, stored) in [
            (Section::Postings, r.postings, r.footer.postings_crc),
            (Section::Dictionary, r.dict, r.footer.dict_crc),
            (Section::Bloom, r.blooms.bytes(), r.footer.bloom_crc),
        ] {
            let computed = crc32c::crc32c(data);
            if computed != stored {
                return Err(IndexError::Checksum {
                    section,
                    stored,
                    computed,
                });
            }
        }
        Ok(r)
    }

    /// Opens an index checking magic, version, footer and block-index checksums and the
    /// section layout, but not the postings, dictionary and bloom checksums (O(blocks), not
    /// O(file); [`IndexReader::may_contain`] checks the bloom section when it is used). Damage in those sections is still reported as an error whenever it makes
    /// the data inconsistent, but may go unnoticed otherwise.
    pub fn open_trusted(bytes: &'a [u8]) -> Result<IndexReader<'a>, IndexError> {
        if bytes.len() < HEADER_LEN + tail_len(VERSION_1) {
            return Err(IndexError::Truncated {
                len: bytes.len(),
                needed: HEADER_LEN + tail_len(VERSION_1),
            });
        }
        let magic4 = |s: &[u8]| -> [u8; 4] { s.try_into().unwrap_or([0; 4]) };
        let head = magic4(&bytes[..4]);
        if head != MAGIC {
            return Err(IndexError::BadMagic {
                section: Section::Header,
                found: head,
            });
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION && version != VERSION_2 && version != VERSION_1 {
            return Err(IndexError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        let needed = HEADER_LEN + tail_len(version);
        if bytes.len() < needed {
            return Err(IndexError::Truncated {
                len: bytes.len(),
                needed,
            });
        }
        let tail = magic4(&bytes[bytes.len() - 4..]);
        if tail != MAGIC {
            // A file cut short loses its trailer: report that as truncation.
            return Err(IndexError::BadMagic {
                section: Section::Footer,
                found: tail,
            });
        }
        let footer_start = bytes.len() - tail_len(version);
        let footer = Footer::decode(
            &bytes[..HEADER_LEN],
            &bytes[footer_start..footer_start + footer_len(version)],
            version,
        )?;
        let lens = [
            footer.postings_len,
            footer.dict_len,
            footer.index_len,
            footer.bloom_len,
        ];
        let body: u64 = lens
            .iter()
            .try_fold(0u64, |a, &l| a.checked_add(l))
            .unwrap_or(u64::MAX);
        let needed_total = body.saturating_add(needed as u64);
        if needed_total != bytes.len() as u64 {
            return if needed_total > bytes.len() as u64 {
                Err(IndexError::Truncated {
                    len: bytes.len(),
                    needed: usize::try_from(needed_total).unwrap_or(usize::MAX),
                })
            } else {
                Err(IndexError::corrupt(
                    Section::Footer,
                    "section lengths do not add up to the file size",
                ))
            };
        }
        // Lengths now fit in the file, so they fit in usize.
        let p_end = HEADER_LEN + footer.postings_len as usize;
        let d_end = p_end + footer.dict_len as usize;
        let i_end = d_end + footer.index_len as usize;
        let b_end = i_end + footer.bloom_len as usize;
        let bloom_bytes = &bytes[i_end..b_end];
        let r = IndexReader {
            postings: &bytes[HEADER_LEN..p_end],
            dict: &bytes[p_end..d_end],
            index: &bytes[d_end..i_end],
            blooms: Blooms::parse(bloom_bytes, footer.bloom_columns)?,
            footer,
            version,
        };
        let computed = crc32c::crc32c(r.index);
        if computed != footer.index_crc {
            return Err(IndexError::Checksum {
                section: Section::BlockIndex,
                stored: footer.index_crc,
                computed,
            });
        }
        if r.index.len() != footer.block_count as usize * INDEX_ENTRY_LEN {
            return Err(IndexError::corrupt(
                Section::BlockIndex,
                "length differs from block count",
            ));
        }
        if (footer.block_count == 0) != (footer.term_count == 0)
            || u64::from(footer.block_count) > u64::from(footer.term_count)
        {
            return Err(IndexError::corrupt(
                Section::Footer,
                "block count inconsistent with term count",
            ));
        }
        Ok(r)
    }

    /// Rows in the chunk this index covers.
    pub fn row_count(&self) -> u32 {
        self.footer.row_count
    }

    /// Distinct terms in the dictionary.
    pub fn term_count(&self) -> u32 {
        self.footer.term_count
    }

    /// Dictionary blocks.
    pub fn block_count(&self) -> u32 {
        self.footer.block_count
    }

    /// Bytes of the postings, dictionary, block index and bloom sections (for size
    /// studies; the rest of the file is the 8-byte header and the footer).
    pub fn section_sizes(&self) -> [usize; 4] {
        [
            self.postings.len(),
            self.dict.len(),
            self.index.len(),
            self.footer.bloom_len as usize,
        ]
    }

    /// Looks up a term as the tokenizer emits it (lowercase). Terms longer than
    /// [`super::MAX_TERM_BYTES`] are looked up by their truncated key, so the answer is a
    /// superset of the rows holding the full term.
    pub fn term_info(&self, term: &str) -> Result<Option<TermInfo>, IndexError> {
        self.key_info(index_key(term).as_bytes())
    }

    /// Format version of the file (1, 2 or 3).
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Whether `value` may occur in id column `col` of this chunk: `Some(false)` when the
    /// column's bloom filter rules it out, `Some(true)` when it may be there, `None` when the
    /// file has no filter for `col` (versions 1 and 2, or a column left out). Exact, case
    /// sensitive values, as stored.
    ///
    /// The bloom section's CRC is checked here (not at [`IndexReader::open_trusted`], so that
    /// text lookups do not pay for it): a damaged section answers `Some(true)`, which only
    /// costs the caller a scan.
    pub fn may_contain(&self, col: Col, value: &str) -> Option<bool> {
        let f = self.blooms.filter(col)?;
        if crc32c::crc32c(self.blooms.bytes()) != self.footer.bloom_crc {
            return Some(true);
        }
        Some(f.may_contain(value))
    }

    /// Whether the file holds exact-id keys for `col` (version 2 files written with `col`
    /// among the builder's id columns, by default [`super::ID_COLUMNS`]).
    pub fn has_id_keys(&self, col: Col) -> bool {
        self.version >= VERSION
            && id_mask_bit(col).is_some_and(|bit| self.footer.id_columns & bit != 0)
    }

    /// The sorted rows whose column `col` equals `value` exactly (byte for byte, case
    /// sensitive), answered from the exact-id keys: `Some(vec![])` when no row has it;
    /// `None` when this file has no id keys for `col` (see [`IndexReader::has_id_keys`];
    /// e.g. a version 1 file): scan the column instead. Costs one dictionary lookup.
    pub fn id_postings(&self, col: Col, value: &str) -> Result<Option<Vec<u32>>, IndexError> {
        if !self.has_id_keys(col) {
            return Ok(None);
        }
        if value.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let mut key = String::with_capacity(value.len() + 2);
        id_key(col, value, &mut key);
        match self.key_info(key.as_bytes())? {
            Some(info) => self.read_postings(&info).map(Some),
            None => Ok(Some(Vec::new())),
        }
    }

    /// Looks up an exact dictionary key.
    fn key_info(&self, key: &[u8]) -> Result<Option<TermInfo>, IndexError> {
        // Largest block whose first term is <= key.
        let (mut lo, mut hi) = (0usize, self.footer.block_count as usize);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.block_first_term(mid)? <= key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let Some(block) = lo.checked_sub(1) else {
            return Ok(None);
        };
        let mut found = None;
        self.scan_block(block, |term, info| match term.cmp(key) {
            Ordering::Less => true,
            Ordering::Equal => {
                found = Some(info);
                false
            }
            Ordering::Greater => false,
        })?;
        Ok(found)
    }

    /// The sorted rows containing `term`, or `None` when the term is absent.
    pub fn postings(&self, term: &str) -> Result<Option<Vec<u32>>, IndexError> {
        match self.term_info(term)? {
            Some(info) => self.read_postings(&info).map(Some),
            None => Ok(None),
        }
    }

    /// Decodes the rows of a term found by [`IndexReader::term_info`].
    pub fn read_postings(&self, info: &TermInfo) -> Result<Vec<u32>, IndexError> {
        match info.loc {
            Location::Inline(r) => Ok(vec![r]),
            Location::List { enc, offset, len } => {
                let bytes = offset
                    .checked_add(len)
                    .and_then(|e| self.postings.get(offset..e))
                    .ok_or_else(|| {
                        IndexError::corrupt(Section::Postings, "list past the section end")
                    })?;
                decode(enc, bytes, info.doc_freq, self.footer.row_count)
            }
        }
    }

    /// Calls `f(term, info)` for every term in order; walks the whole dictionary (for
    /// verification tools and tests, not for queries).
    pub fn for_each_term(&self, mut f: impl FnMut(&[u8], &TermInfo)) -> Result<(), IndexError> {
        let mut seen: u64 = 0;
        let mut last: Vec<u8> = Vec::new();
        let mut order_err = false;
        for b in 0..self.footer.block_count as usize {
            self.scan_block(b, |t, info| {
                if seen > 0 && t <= last.as_slice() {
                    order_err = true;
                    return false;
                }
                last.clear();
                last.extend_from_slice(t);
                seen += 1;
                f(t, &info);
                true
            })?;
            if order_err {
                return Err(IndexError::corrupt(
                    Section::Dictionary,
                    "terms not strictly sorted",
                ));
            }
        }
        if seen != u64::from(self.footer.term_count) {
            return Err(IndexError::corrupt(
                Section::Dictionary,
                "term count differs from footer",
            ));
        }
        Ok(())
    }

    fn index_entry(&self, block: usize) -> Result<(usize, usize), IndexError> {
        let at = |o: usize| -> Option<usize> {
            let s = self.index.get(o..o + 4)?;
            Some(u32::from_le_bytes(s.try_into().ok()?) as usize)
        };
        let base = block * INDEX_ENTRY_LEN;
        match (at(base), at(base + 4)) {
            (Some(d), Some(p)) => Ok((d, p)),
            _ => Err(IndexError::corrupt(
                Section::BlockIndex,
                "block number out of range",
            )),
        }
    }

    /// The bytes of one dictionary block and its postings base offset.
    fn block(&self, block: usize) -> Result<(&'a [u8], usize), IndexError> {
        let (start, pbase) = self.index_entry(block)?;
        let end = if block + 1 < self.footer.block_count as usize {
            self.index_entry(block + 1)?.0
        } else {
            self.dict.len()
        };
        let bytes = self.dict.get(start..end).ok_or_else(|| {
            IndexError::corrupt(Section::BlockIndex, "block offsets out of order or range")
        })?;
        Ok((bytes, pbase))
    }

    fn block_first_term(&self, block: usize) -> Result<&'a [u8], IndexError> {
        let (bytes, _) = self.block(block)?;
        let mut c = Cursor::new(bytes, Section::Dictionary);
        let n = c.varint()?;
        if self.version == VERSION_1 {
            let shared = c.varint()?;
            if n == 0 || shared != 0 {
                return Err(IndexError::corrupt(Section::Dictionary, "bad block start"));
            }
        } else if n == 0 {
            return Err(IndexError::corrupt(Section::Dictionary, "bad block start"));
        }
        let len = c.varint()?;
        let len = usize::try_from(len)
            .map_err(|_| IndexError::corrupt(Section::Dictionary, "term length"))?;
        c.bytes(len)
    }

    /// The entries of block `block` (decompressed for version 2), its term count and its
    /// first term (version 2 stores it in front of the entries; `None` for version 1).
    fn block_entries(&self, block: usize) -> Result<BlockEntries<'a>, IndexError> {
        let corrupt = |r: &'static str| IndexError::corrupt(Section::Dictionary, r);
        let (bytes, pbase) = self.block(block)?;
        let mut c = Cursor::new(bytes, Section::Dictionary);
        let n = c.varint()?;
        if self.version == VERSION_1 {
            if n == 0 || n > BLOCK_TERMS_V1 as u64 {
                return Err(corrupt("block term count out of range"));
            }
            return Ok((Cow::Borrowed(c.rest()), n, None, pbase));
        }
        if n == 0 || n > BLOCK_TERMS as u64 {
            return Err(corrupt("block term count out of range"));
        }
        let first_len = usize::try_from(c.varint()?).map_err(|_| corrupt("term length"))?;
        let first = c.bytes(first_len)?;
        let raw_len = usize::try_from(c.varint()?)
            .ok()
            .filter(|&l| l <= MAX_BLOCK_BYTES)
            .ok_or_else(|| corrupt("block too large"))?;
        let entries = match c.u8()? {
            SECTION_RAW => {
                let raw = c.bytes(raw_len)?;
                Cow::Borrowed(raw)
            }
            SECTION_ZSTD => {
                let stored = usize::try_from(c.varint()?).map_err(|_| corrupt("zstd length"))?;
                Cow::Owned(unzstd(c.bytes(stored)?, raw_len)?)
            }
            _ => return Err(corrupt("unknown block codec")),
        };
        if c.remaining() != 0 {
            return Err(corrupt("trailing bytes after a block"));
        }
        Ok((entries, n, Some(first), pbase))
    }

    /// Decodes block `block` term by term, calling `f(term, info)` until it returns false.
    fn scan_block(
        &self,
        block: usize,
        mut f: impl FnMut(&[u8], TermInfo) -> bool,
    ) -> Result<(), IndexError> {
        let corrupt = |r: &str| IndexError::corrupt(Section::Dictionary, r);
        let (entries, n, first, pbase) = self.block_entries(block)?;
        let mut c = Cursor::new(&entries, Section::Dictionary);
        let mut term: Vec<u8> = Vec::with_capacity(64);
        let mut poff = pbase;
        for i in 0..n {
            let shared = c.varint()?;
            let suffix = c.varint()?;
            if (i == 0 && shared != 0)
                || shared > term.len() as u64
                || suffix > c.remaining() as u64
            {
                return Err(corrupt("bad front coding"));
            }
            term.truncate(shared as usize);
            term.extend_from_slice(c.bytes(suffix as usize)?);
            if i == 0 && first.is_some_and(|f| f != term.as_slice()) {
                return Err(corrupt("block start differs from its first term"));
            }
            let doc_freq = c.varint_u32()?;
            let loc = match doc_freq {
                0 => return Err(corrupt("term with no rows")),
                1 => {
                    let r = c.varint_u32()?;
                    if r >= self.footer.row_count {
                        return Err(corrupt("inline row beyond the row count"));
                    }
                    Location::Inline(r)
                }
                _ => {
                    let flags = c.u8()?;
                    let shared = flags & LIST_SHARED != 0 && self.version != VERSION_1;
                    let enc = if shared { flags & !LIST_SHARED } else { flags };
                    if !matches!(enc, ENC_VARINT | ENC_PACKED | ENC_BITMAP) {
                        return Err(corrupt("unknown postings encoding"));
                    }
                    let len = usize::try_from(c.varint()?)
                        .map_err(|_| corrupt("postings length past the section end"))?;
                    let offset = if shared {
                        usize::try_from(c.varint()?)
                            .map_err(|_| corrupt("postings offset past the section end"))?
                    } else {
                        poff
                    };
                    if offset
                        .checked_add(len)
                        .is_none_or(|e| e > self.postings.len())
                    {
                        return Err(corrupt("postings length past the section end"));
                    }
                    if !shared {
                        poff += len;
                    }
                    Location::List { enc, offset, len }
                }
            };
            if !f(&term, TermInfo { doc_freq, loc }) {
                return Ok(());
            }
        }
        Ok(())
    }
}
