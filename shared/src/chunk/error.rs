//! The one error type of the chunk format: every failure to write or read a `.col` file.

use std::fmt;

use crate::schema::Col;

/// A part of a chunk file, named in errors so a corrupt file can be diagnosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The fixed header at the start of the file.
    Header,
    /// The fixed trailer at the end of the file.
    Trailer,
    /// The footer (zone map and column directory).
    Footer,
    /// The block of one column.
    Column(Col),
    /// The batch-id section.
    Batches,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Section::Header => f.write_str("header"),
            Section::Trailer => f.write_str("trailer"),
            Section::Footer => f.write_str("footer"),
            Section::Column(c) => write!(f, "column {}", c.name()),
            Section::Batches => f.write_str("batch section"),
        }
    }
}

/// Errors of the chunk writer and reader. Decoding never panics: every malformed input ends
/// in one of these variants.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    /// The file does not start (or end) with the `OTCL` magic.
    #[error("not a chunk file: bad magic in {0}")]
    BadMagic(Section),
    /// The header names a format version this reader does not understand.
    #[error("unsupported chunk format version {0}")]
    UnsupportedVersion(u16),
    /// The header sets flag bits this reader does not understand.
    #[error("unsupported chunk header flags {0:#06x}")]
    UnsupportedFlags(u16),
    /// The file or one of its sections ends before its declared length.
    #[error("truncated chunk file: {0}")]
    Truncated(Section),
    /// A CRC32C does not match the bytes it covers.
    #[error("checksum mismatch in {0}")]
    ChecksumMismatch(Section),
    /// A section's bytes passed their checksum but do not decode.
    #[error("corrupt encoding in {section}: {reason}")]
    CorruptEncoding {
        /// Where the problem is.
        section: Section,
        /// What is wrong.
        reason: &'static str,
    },
    /// The writer was given more rows than one chunk may hold.
    #[error("too many rows for one chunk: {0} (limit {limit})", limit = crate::chunk::format::MAX_ROWS)]
    TooManyRows(usize),
    /// The writer was given more than 4 GiB of strings for one column.
    #[error("column {0} holds more than 4 GiB of strings")]
    ColumnTooLarge(&'static str),
    /// A row index past the end of the chunk.
    #[error("row {index} out of range: chunk has {rows} rows")]
    RowOutOfRange {
        /// The index asked for.
        index: u32,
        /// Rows in the chunk.
        rows: u32,
    },
    /// Writing the file to an `io::Write` failed.
    #[error("i/o error writing chunk: {0}")]
    Io(#[from] std::io::Error),
}

impl ChunkError {
    /// Shorthand for [`ChunkError::CorruptEncoding`].
    pub(crate) fn corrupt(section: Section, reason: &'static str) -> ChunkError {
        ChunkError::CorruptEncoding { section, reason }
    }
}
