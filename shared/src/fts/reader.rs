//! Reads an `.idx` file in place (`&[u8]`, typically an mmap): term lookup and postings.
//!
//! A lookup binary-searches the block index (reading only the first term of each probed
//! block), scans one dictionary block, then decodes that term's postings; nothing else of
//! the file is touched. No input bytes can make the reader panic: every length, offset and
//! value is checked and reported as a typed [`IndexError`].

use std::cmp::Ordering;

use super::error::{IndexError, Section};
use super::format::{FOOTER_LEN, Footer, HEADER_LEN, INDEX_ENTRY_LEN, MAGIC, TAIL_LEN, VERSION};
use super::postings::{Cursor, ENC_BITMAP, ENC_PACKED, ENC_VARINT, decode};
use super::tokenizer::index_key;

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

/// An opened index file borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct IndexReader<'a> {
    postings: &'a [u8],
    dict: &'a [u8],
    index: &'a [u8],
    footer: Footer,
}

impl<'a> IndexReader<'a> {
    /// Opens an index, validating its structure and the CRC32C of every section.
    /// Costs one pass over the file (hardware CRC32C); do it once per mmap.
    pub fn open(bytes: &'a [u8]) -> Result<IndexReader<'a>, IndexError> {
        let r = IndexReader::open_trusted(bytes)?;
        for (section, data, stored) in [
            (Section::Postings, r.postings, r.footer.postings_crc),
            (Section::Dictionary, r.dict, r.footer.dict_crc),
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
    /// section layout, but not the postings and dictionary checksums (O(blocks), not
    /// O(file)). Damage in those sections is still reported as an error whenever it makes
    /// the data inconsistent, but may go unnoticed otherwise.
    pub fn open_trusted(bytes: &'a [u8]) -> Result<IndexReader<'a>, IndexError> {
        let needed = HEADER_LEN + TAIL_LEN;
        if bytes.len() < needed {
            return Err(IndexError::Truncated {
                len: bytes.len(),
                needed,
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
        if version != VERSION {
            return Err(IndexError::UnsupportedVersion {
                found: version,
                supported: VERSION,
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
        let footer_start = bytes.len() - TAIL_LEN;
        let footer = Footer::decode(
            &bytes[..HEADER_LEN],
            &bytes[footer_start..footer_start + FOOTER_LEN],
        )?;
        let lens = [footer.postings_len, footer.dict_len, footer.index_len];
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
        let r = IndexReader {
            postings: &bytes[HEADER_LEN..p_end],
            dict: &bytes[p_end..d_end],
            index: &bytes[d_end..i_end],
            footer,
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

    /// Looks up a term as the tokenizer emits it (lowercase). Terms longer than
    /// [`super::MAX_TERM_BYTES`] are looked up by their truncated key, so the answer is a
    /// superset of the rows holding the full term.
    pub fn term_info(&self, term: &str) -> Result<Option<TermInfo>, IndexError> {
        let key = index_key(term).as_bytes();
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
        let shared = c.varint()?;
        if n == 0 || shared != 0 {
            return Err(IndexError::corrupt(Section::Dictionary, "bad block start"));
        }
        let len = c.varint()?;
        let len = usize::try_from(len)
            .map_err(|_| IndexError::corrupt(Section::Dictionary, "term length"))?;
        c.bytes(len)
    }

    /// Decodes block `block` term by term, calling `f(term, info)` until it returns false.
    fn scan_block(
        &self,
        block: usize,
        mut f: impl FnMut(&[u8], TermInfo) -> bool,
    ) -> Result<(), IndexError> {
        let corrupt = |r: &str| IndexError::corrupt(Section::Dictionary, r);
        let (bytes, pbase) = self.block(block)?;
        let mut c = Cursor::new(bytes, Section::Dictionary);
        let n = c.varint()?;
        if n == 0 || n > super::format::BLOCK_TERMS as u64 {
            return Err(corrupt("block term count out of range"));
        }
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
                    let enc = c.u8()?;
                    if !matches!(enc, ENC_VARINT | ENC_PACKED | ENC_BITMAP) {
                        return Err(corrupt("unknown postings encoding"));
                    }
                    let len = c.varint()?;
                    let len = usize::try_from(len)
                        .ok()
                        .filter(|&l| {
                            poff.checked_add(l)
                                .is_some_and(|e| e <= self.postings.len())
                        })
                        .ok_or_else(|| corrupt("postings length past the section end"))?;
                    let loc = Location::List {
                        enc,
                        offset: poff,
                        len,
                    };
                    poff += len;
                    loc
                }
            };
            if !f(&term, TermInfo { doc_freq, loc }) {
                return Ok(());
            }
        }
        Ok(())
    }
}
