//! Builds one chunk's `.idx` file in memory from its rows.

use rustc_hash::FxHashMap;

use super::bloom::{BLOOM_COLUMNS, value_hash, write_filter};
use super::error::IndexError;
use super::fields::indexed_texts;
use super::format::{
    BLOCK_TERMS, DICT_ZSTD_LEVEL, FOOTER_LEN, Footer, HEADER_LEN, ID_COLUMNS, LIST_SHARED, MAGIC,
    SECTION_RAW, SECTION_ZSTD, VERSION, id_key, id_mask_bit,
};
use super::occurrences::{Grouped, Occurrences, TermId};
use super::postings::{encode, write_varint};
use super::tokenizer::{Tokenizer, for_each_compound, index_key};
use crate::row_ref::RowValues;
use crate::schema::{Col, LogicalType};
use crate::strtable::StrTable;

/// Term to term id, keys held in one arena.
type TermMap = StrTable<TermId>;

/// Most distinct compounds whose term ids are cached: 7/8 of 2^17, the most a table of
/// 2^17 slots holds (about 2 MB with its keys). The compounds that repeat (levels, class
/// names, paths, log templates' words) show up in a chunk's first rows; the ones seen
/// after the cache is full are mostly one-off numbers and ids, which gain nothing from it.
const COMPOUND_CACHE_LIMIT: usize = (1 << 17) / 8 * 7;

/// Term ids of recently seen compounds: log text repeats the same compounds (`INFO`,
/// class names, paths) on most rows, so tokenizing each distinct compound once and reusing
/// its term ids makes indexing much cheaper. The ids live in one arena, the compounds in
/// the table's.
#[derive(Default)]
struct CompoundCache {
    map: StrTable<(u32, u32)>,
    arena: Vec<u32>,
}

/// The mutable state of one build, split from the builder so closures can borrow it.
#[derive(Default)]
struct Terms {
    terms: TermMap,
    occurrences: Occurrences,
    tokenizer: Tokenizer,
    cache: CompoundCache,
    key_buf: String,
}

impl Terms {
    fn intern(terms: &mut TermMap, occurrences: &mut Occurrences, tok: &str) -> TermId {
        Terms::intern_key(terms, occurrences, index_key(tok))
    }

    fn intern_key(terms: &mut TermMap, occurrences: &mut Occurrences, key: &str) -> TermId {
        terms.get_or_insert_with(key, || {
            let id = occurrences.term_count() as TermId;
            occurrences.new_term();
            id
        })
    }

    /// Adds the exact-id key of `value` in column `col` (never truncated).
    fn add_id(&mut self, row_idx: u32, col: Col, value: &str) {
        id_key(col, value, &mut self.key_buf);
        let id = Terms::intern_key(&mut self.terms, &mut self.occurrences, &self.key_buf);
        self.occurrences.add(id, row_idx);
    }

    fn add_text(&mut self, row_idx: u32, text: &str) {
        let Terms {
            terms,
            occurrences,
            tokenizer,
            cache,
            ..
        } = self;
        for_each_compound(text, |c| {
            let (start, len, cached) = match cache.map.get(c) {
                Some((s, l)) => (s as usize, l as usize, true),
                None => {
                    let start = cache.arena.len();
                    tokenizer.compound_tokens(c, &mut |tok| {
                        let id = Terms::intern(terms, occurrences, tok);
                        if !cache.arena[start..].contains(&id) {
                            cache.arena.push(id);
                        }
                    });
                    let len = cache.arena.len() - start;
                    let mut cached = false;
                    if cache.map.len() < COMPOUND_CACHE_LIMIT
                        && !cache.map.overflowed()
                        && let (Ok(s), Ok(l)) = (u32::try_from(start), u32::try_from(len))
                    {
                        cache.map.get_or_insert_with(c, || (s, l));
                        cached = !cache.map.overflowed();
                    }
                    (start, len, cached)
                }
            };
            for &id in &cache.arena[start..start + len] {
                occurrences.add(id, row_idx);
            }
            if !cached {
                cache.arena.truncate(start);
            }
        });
    }
}

/// Accumulates the terms of a chunk's rows and writes the `.idx` file.
///
/// Memory is one interned key per distinct term plus 1 to 2 bytes per (term, row) pair
/// (see `occurrences`), and 4 bytes more per pair while [`IndexBuilder::finish`] groups
/// the pairs by term.
pub struct IndexBuilder {
    state: Terms,
    row_count: u64,
    last_row: Option<u32>,
    out_of_order: bool,
    id_cols: Vec<Col>,
    id_mask: u32,
    /// Per bloom column (ascending id), the hashes of its values so far.
    blooms: Vec<(Col, Vec<u64>)>,
}

impl Default for IndexBuilder {
    fn default() -> IndexBuilder {
        IndexBuilder::with_id_columns(ID_COLUMNS)
    }
}

impl IndexBuilder {
    /// An empty builder giving exact-id keys to the default [`ID_COLUMNS`].
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// An empty builder whose [`IndexBuilder::add_row`] gives exact-id keys to `cols`
    /// (string columns with ids below 32; others are ignored). The file records the set,
    /// so [`super::IndexReader::id_postings`] answers `None` for columns left out.
    pub fn with_id_columns(cols: &[Col]) -> IndexBuilder {
        let mut id_cols = Vec::new();
        let mut id_mask = 0;
        for &c in cols {
            if let Some(bit) = id_mask_bit(c)
                && id_mask & bit == 0
                && matches!(c.def().ty, LogicalType::Str)
            {
                id_mask |= bit;
                id_cols.push(c);
            }
        }
        let mut bloom_cols: Vec<Col> = BLOOM_COLUMNS
            .iter()
            .copied()
            .filter(|c| id_mask_bit(*c).is_some())
            .collect();
        bloom_cols.sort();
        bloom_cols.dedup();
        IndexBuilder {
            state: Terms::default(),
            row_count: 0,
            last_row: None,
            out_of_order: false,
            id_cols,
            id_mask,
            blooms: bloom_cols.into_iter().map(|c| (c, Vec::new())).collect(),
        }
    }

    /// Indexes the full-text fields of `row`, which is row number `row_idx` of the chunk,
    /// and the exact-id keys of its id columns (by default [`ID_COLUMNS`]: trace, request,
    /// span and user ids; see [`super::IndexReader::id_postings`]).
    ///
    /// Call it for every row of the chunk, including rows without text: the file's row
    /// count is the largest `row_idx` plus one. Rows are expected in increasing order
    /// (any order works, at the cost of a sort in [`IndexBuilder::finish`]).
    pub fn add_row<R: RowValues + ?Sized>(&mut self, row_idx: u32, row: &R) {
        self.note_row(row_idx);
        let state = &mut self.state;
        indexed_texts(row, |_, text| state.add_text(row_idx, text));
        for &col in &self.id_cols {
            if let Some(v) = row.value(col).as_str()
                && !v.is_empty()
            {
                state.add_id(row_idx, col, v);
            }
        }
        for (col, hashes) in &mut self.blooms {
            if let Some(v) = row.value(*col).as_str()
                && !v.is_empty()
            {
                hashes.push(value_hash(v));
            }
        }
    }

    /// Adds the exact-id key of `value` in `col` for row `row_idx` (what
    /// [`IndexBuilder::add_row`] does for each non-empty id-column value) and marks `col`
    /// as having id keys. Ignored for columns with ids of 32 and above.
    pub fn add_id(&mut self, row_idx: u32, col: Col, value: &str) {
        let Some(bit) = id_mask_bit(col) else {
            return;
        };
        self.id_mask |= bit;
        self.note_row(row_idx);
        if !value.is_empty() {
            self.state.add_id(row_idx, col, value);
        }
    }

    /// Indexes one piece of text for row `row_idx` (what [`IndexBuilder::add_row`] does
    /// for each indexed field).
    pub fn add_text(&mut self, row_idx: u32, text: &str) {
        self.note_row(row_idx);
        self.state.add_text(row_idx, text);
    }

    fn note_row(&mut self, row_idx: u32) {
        self.row_count = self.row_count.max(u64::from(row_idx) + 1);
        if self.last_row.is_some_and(|l| row_idx < l) {
            self.out_of_order = true;
        }
        self.last_row = Some(row_idx);
    }

    /// Frees the scratch state only adding rows needs (the compound cache, several MB for
    /// a large chunk). [`IndexBuilder::finish`] does not need it; a caller with other
    /// memory-heavy work to do between its last row and `finish` (building the `.col`)
    /// calls this first to lower its peak. Rows added afterwards are indexed correctly,
    /// only slower.
    pub fn release_scratch(&mut self) {
        self.state.cache = CompoundCache::default();
        self.state.tokenizer = Tokenizer::default();
    }

    /// Number of distinct terms so far.
    pub fn term_count(&self) -> usize {
        self.state.terms.len()
    }

    /// Writes the index file.
    pub fn finish(self) -> Result<Vec<u8>, IndexError> {
        let IndexBuilder {
            state,
            row_count,
            out_of_order,
            id_mask,
            blooms,
            ..
        } = self;
        let Terms {
            terms, occurrences, ..
        } = state;
        if terms.overflowed() {
            return Err(IndexError::TooLarge { what: "term bytes" });
        }
        let postings: Grouped = occurrences.group(out_of_order);
        let row_count =
            u32::try_from(row_count).map_err(|_| IndexError::TooLarge { what: "row count" })?;
        let term_count =
            u32::try_from(terms.len()).map_err(|_| IndexError::TooLarge { what: "term count" })?;
        let mut order: Vec<(&str, u32)> = terms.iter().collect();
        order.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

        let mut post = Vec::new();
        let mut dict = Vec::new();
        let mut index = Vec::new();
        let to_u32 = |n: usize, what| u32::try_from(n).map_err(|_| IndexError::TooLarge { what });
        // Identical lists (terms that always occur together, a compound and its prefixes)
        // are stored once; later terms point back at the first copy.
        let mut stored: FxHashMap<&[u32], (u8, usize, usize)> = FxHashMap::default();
        let mut block = Vec::new();
        let mut zstd =
            zstd::bulk::Compressor::new(DICT_ZSTD_LEVEL).map_err(|_| IndexError::TooLarge {
                what: "zstd context",
            })?;
        for terms_of_block in order.chunks(BLOCK_TERMS) {
            index.extend_from_slice(&to_u32(dict.len(), "dictionary size")?.to_le_bytes());
            index.extend_from_slice(&to_u32(post.len(), "postings size")?.to_le_bytes());
            write_varint(&mut dict, terms_of_block.len() as u64);
            let first = terms_of_block.first().map_or("", |t| t.0);
            write_varint(&mut dict, first.len() as u64);
            dict.extend_from_slice(first.as_bytes());
            block.clear();
            let mut prev: &str = "";
            for &(term, id) in terms_of_block {
                let shared = prev
                    .as_bytes()
                    .iter()
                    .zip(term.as_bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                write_varint(&mut block, shared as u64);
                write_varint(&mut block, (term.len() - shared) as u64);
                block.extend_from_slice(&term.as_bytes()[shared..]);
                let rows = postings.rows(id);
                write_varint(&mut block, rows.len() as u64);
                if let [only] = rows {
                    write_varint(&mut block, u64::from(*only));
                } else if let Some(&(enc, offset, len)) = stored.get(rows) {
                    block.push(enc | LIST_SHARED);
                    write_varint(&mut block, len as u64);
                    write_varint(&mut block, offset as u64);
                } else {
                    let start = post.len();
                    let enc = encode(rows, &mut post);
                    block.push(enc);
                    write_varint(&mut block, (post.len() - start) as u64);
                    stored.insert(rows, (enc, start, post.len() - start));
                }
                prev = term;
            }
            write_varint(&mut dict, block.len() as u64);
            match zstd.compress(&block) {
                Ok(z) if z.len() < block.len() => {
                    dict.push(SECTION_ZSTD);
                    write_varint(&mut dict, z.len() as u64);
                    dict.extend_from_slice(&z);
                }
                _ => {
                    dict.push(SECTION_RAW);
                    dict.extend_from_slice(&block);
                }
            }
        }
        to_u32(post.len(), "postings size")?;
        to_u32(dict.len(), "dictionary size")?;

        // Bloom filters of the id columns that have values in this chunk.
        let mut bloom = Vec::new();
        let mut bloom_columns = 0u32;
        for (col, mut hashes) in blooms {
            if hashes.is_empty() {
                continue;
            }
            if let Some(bit) = id_mask_bit(col) {
                bloom_columns |= bit;
                write_filter(&mut hashes, &mut bloom);
            }
        }

        let mut header = [0u8; HEADER_LEN];
        header[..4].copy_from_slice(&MAGIC);
        header[4..6].copy_from_slice(&VERSION.to_le_bytes());
        let footer = Footer {
            row_count,
            term_count,
            id_columns: id_mask,
            block_count: to_u32(index.len() / 8, "block count")?,
            postings_len: post.len() as u64,
            dict_len: dict.len() as u64,
            index_len: index.len() as u64,
            postings_crc: crc32c::crc32c(&post),
            dict_crc: crc32c::crc32c(&dict),
            index_crc: crc32c::crc32c(&index),
            bloom_columns,
            bloom_len: bloom.len() as u64,
            bloom_crc: crc32c::crc32c(&bloom),
        };
        let mut out = Vec::with_capacity(
            HEADER_LEN + post.len() + dict.len() + index.len() + bloom.len() + FOOTER_LEN + 4,
        );
        out.extend_from_slice(&header);
        out.extend_from_slice(&post);
        out.extend_from_slice(&dict);
        out.extend_from_slice(&index);
        out.extend_from_slice(&bloom);
        out.extend_from_slice(&footer.encode(&header));
        out.extend_from_slice(&MAGIC);
        Ok(out)
    }
}
