//! Typed errors of the index reader and builder.

use std::fmt;

/// A region of an `.idx` file, named in errors so a corrupt file can be diagnosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The 8-byte header (magic, version).
    Header,
    /// The concatenated postings lists.
    Postings,
    /// The front-coded term dictionary blocks.
    Dictionary,
    /// The sparse block index (one fixed-size entry per dictionary block).
    BlockIndex,
    /// The fixed-size footer and trailer.
    Footer,
    /// The bloom filters of id columns (version 3).
    Bloom,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Header => "header",
            Section::Postings => "postings",
            Section::Dictionary => "dictionary",
            Section::BlockIndex => "block index",
            Section::Footer => "footer",
            Section::Bloom => "bloom filters",
        })
    }
}

/// Why an index file could not be built, opened or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The file does not start (or end) with the `OTIX` magic.
    #[error("not an OpenTrace index file: bad magic {found:02x?} in {section}")]
    BadMagic {
        /// Where the magic was expected.
        section: Section,
        /// The bytes found instead.
        found: [u8; 4],
    },
    /// The file's format version is not one this build reads.
    #[error("unsupported index format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version in the file.
        found: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// The file is shorter than its structure requires.
    #[error("index file truncated: {len} bytes, at least {needed} needed")]
    Truncated {
        /// Actual length.
        len: usize,
        /// Minimum length implied by the header/footer.
        needed: usize,
    },
    /// A section's CRC32C does not match its bytes.
    #[error(
        "checksum mismatch in {section} section: stored {stored:#010x}, computed {computed:#010x}"
    )]
    Checksum {
        /// The damaged section.
        section: Section,
        /// The CRC recorded in the footer.
        stored: u32,
        /// The CRC of the bytes present.
        computed: u32,
    },
    /// A section's content is structurally invalid.
    #[error("corrupt {section} section: {reason}")]
    Corrupt {
        /// The damaged section.
        section: Section,
        /// What is wrong.
        reason: String,
    },
    /// The builder was given more data than the format can address (u32 offsets/counts).
    #[error("index too large: {what}")]
    TooLarge {
        /// Which limit was exceeded.
        what: &'static str,
    },
}

impl IndexError {
    /// Shorthand for a [`IndexError::Corrupt`] error.
    pub(crate) fn corrupt(section: Section, reason: impl Into<String>) -> IndexError {
        IndexError::Corrupt {
            section,
            reason: reason.into(),
        }
    }
}
