//! Full-text index files (`chunk_NNN.idx`): tokenizer, term dictionary, postings, queries.
//!
//! One `.idx` file per chunk maps every token of the chunk's full-text fields to the
//! sorted row numbers (within the chunk) holding it. The pieces, in the spirit of
//! tantivy's separation but much simpler:
//!
//! * [`tokenizer`]: text → lowercase tokens (identifier-aware; rules in its docs);
//! * [`fields`]: which text of a row is indexed ([`indexed_texts`]);
//! * [`postings`]: row-list compression (varint / bit-packed / bitmap);
//! * `occurrences`: the build's (term, row) pairs, grouped by term at the end;
//! * the build's term map and compound cache are `crate::strtable` tables (keys in one
//!   arena);
//! * [`builder`]: [`IndexBuilder`] writes the file; [`reader`]: [`IndexReader`] reads it
//!   in place from an mmap;
//! * [`query`]: [`Query`] parsing, candidate intersection and row verification.
//!
//! Byte-level format: `docs/format/idx.md`.

pub mod bloom;
pub mod builder;
pub mod error;
pub mod fields;
pub mod format;
mod occurrences;
pub mod postings;
pub mod query;
pub mod reader;
pub mod tokenizer;

pub use bloom::BLOOM_COLUMNS;
pub use builder::IndexBuilder;
pub use error::{IndexError, Section};
pub use fields::indexed_texts;
pub use format::{ID_COLUMNS, ID_KEY_PREFIX, KEYABLE_ID_COLUMNS, id_key, id_mask_bit};
pub use query::{Clause, Query, QueryError, intersect, search};
pub use reader::{IndexReader, TermInfo};
pub use tokenizer::{MAX_TERM_BYTES, Tokenizer, compounds, for_each_compound, index_key, tokenize};
