//! Full-text index files (`chunk_NNN.idx`): tokenizer, term dictionary, postings, queries.
//! Format: `docs/FORMAT.md` §Index.
