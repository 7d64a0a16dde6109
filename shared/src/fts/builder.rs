//! Builds one chunk's `.idx` file in memory from its rows.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::error::IndexError;
use super::fields::indexed_texts;
use super::format::{BLOCK_TERMS, FOOTER_LEN, Footer, HEADER_LEN, MAGIC, VERSION};
use super::postings::{encode, write_varint};
use super::tokenizer::{Tokenizer, index_key};
use crate::row::Row;

/// Fast non-cryptographic hasher (the `FxHash` mixing step) for the build-time term map;
/// the keys come from our own rows, so HashDoS resistance is not needed.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(FX_K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(FX_K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(FX_K);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type TermMap = HashMap<Box<str>, u32, BuildHasherDefault<FxHasher>>;

/// Accumulates the terms of a chunk's rows and writes the `.idx` file.
///
/// Memory is one interned key per distinct term plus 4 bytes per (term, row) pair.
#[derive(Default)]
pub struct IndexBuilder {
    terms: TermMap,
    postings: Vec<Vec<u32>>,
    row_count: u64,
    last_row: Option<u32>,
    out_of_order: bool,
    tokenizer: Tokenizer,
}

impl IndexBuilder {
    /// An empty builder.
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// Indexes the full-text fields of `row`, which is row number `row_idx` of the chunk.
    ///
    /// Call it for every row of the chunk, including rows without text: the file's row
    /// count is the largest `row_idx` plus one. Rows are expected in increasing order
    /// (any order works, at the cost of a sort in [`IndexBuilder::finish`]).
    pub fn add_row(&mut self, row_idx: u32, row: &Row) {
        self.note_row(row_idx);
        let IndexBuilder {
            terms,
            postings,
            tokenizer,
            ..
        } = self;
        indexed_texts(row, |_, text| {
            add_tokens(tokenizer, terms, postings, row_idx, text)
        });
    }

    /// Indexes one piece of text for row `row_idx` (what [`IndexBuilder::add_row`] does
    /// for each indexed field).
    pub fn add_text(&mut self, row_idx: u32, text: &str) {
        self.note_row(row_idx);
        let IndexBuilder {
            terms,
            postings,
            tokenizer,
            ..
        } = self;
        add_tokens(tokenizer, terms, postings, row_idx, text);
    }

    fn note_row(&mut self, row_idx: u32) {
        self.row_count = self.row_count.max(u64::from(row_idx) + 1);
        if self.last_row.is_some_and(|l| row_idx < l) {
            self.out_of_order = true;
        }
        self.last_row = Some(row_idx);
    }

    /// Number of distinct terms so far.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Writes the index file.
    pub fn finish(self) -> Result<Vec<u8>, IndexError> {
        let IndexBuilder {
            terms,
            mut postings,
            row_count,
            out_of_order,
            ..
        } = self;
        let row_count =
            u32::try_from(row_count).map_err(|_| IndexError::TooLarge { what: "row count" })?;
        let term_count =
            u32::try_from(terms.len()).map_err(|_| IndexError::TooLarge { what: "term count" })?;
        let mut order: Vec<(&str, u32)> = terms.iter().map(|(k, &v)| (&**k, v)).collect();
        order.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

        let mut post = Vec::new();
        let mut dict = Vec::new();
        let mut index = Vec::new();
        let mut prev: &str = "";
        let to_u32 = |n: usize, what| u32::try_from(n).map_err(|_| IndexError::TooLarge { what });
        for (i, &(term, id)) in order.iter().enumerate() {
            if i % BLOCK_TERMS == 0 {
                index.extend_from_slice(&to_u32(dict.len(), "dictionary size")?.to_le_bytes());
                index.extend_from_slice(&to_u32(post.len(), "postings size")?.to_le_bytes());
                write_varint(&mut dict, BLOCK_TERMS.min(order.len() - i) as u64);
                prev = "";
            }
            let shared = prev
                .as_bytes()
                .iter()
                .zip(term.as_bytes())
                .take_while(|(a, b)| a == b)
                .count();
            write_varint(&mut dict, shared as u64);
            write_varint(&mut dict, (term.len() - shared) as u64);
            dict.extend_from_slice(&term.as_bytes()[shared..]);
            let rows = &mut postings[id as usize];
            if out_of_order {
                rows.sort_unstable();
                rows.dedup();
            }
            write_varint(&mut dict, rows.len() as u64);
            if let [only] = rows.as_slice() {
                write_varint(&mut dict, u64::from(*only));
            } else {
                let start = post.len();
                let enc = encode(rows, &mut post);
                dict.push(enc);
                write_varint(&mut dict, (post.len() - start) as u64);
            }
            prev = term;
        }
        to_u32(post.len(), "postings size")?;
        to_u32(dict.len(), "dictionary size")?;

        let mut header = [0u8; HEADER_LEN];
        header[..4].copy_from_slice(&MAGIC);
        header[4..6].copy_from_slice(&VERSION.to_le_bytes());
        let footer = Footer {
            row_count,
            term_count,
            block_count: to_u32(index.len() / 8, "block count")?,
            postings_len: post.len() as u64,
            dict_len: dict.len() as u64,
            index_len: index.len() as u64,
            postings_crc: crc32c::crc32c(&post),
            dict_crc: crc32c::crc32c(&dict),
            index_crc: crc32c::crc32c(&index),
        };
        let mut out =
            Vec::with_capacity(HEADER_LEN + post.len() + dict.len() + index.len() + FOOTER_LEN + 4);
        out.extend_from_slice(&header);
        out.extend_from_slice(&post);
        out.extend_from_slice(&dict);
        out.extend_from_slice(&index);
        out.extend_from_slice(&footer.encode(&header));
        out.extend_from_slice(&MAGIC);
        Ok(out)
    }
}

fn add_tokens(
    tokenizer: &mut Tokenizer,
    terms: &mut TermMap,
    postings: &mut Vec<Vec<u32>>,
    row_idx: u32,
    text: &str,
) {
    tokenizer.tokens(text, |tok| {
        let key = index_key(tok);
        let id = match terms.get(key) {
            Some(&id) => id as usize,
            None => {
                let id = postings.len();
                terms.insert(key.into(), id as u32);
                postings.push(Vec::new());
                id
            }
        };
        let list = &mut postings[id];
        if list.last() != Some(&row_idx) {
            list.push(row_idx);
        }
    });
}
