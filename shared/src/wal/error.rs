//! Typed errors of the WAL codec, writer and tailer.

use std::path::PathBuf;

/// Why a byte range is not a valid WAL record (or header).
///
/// Offsets named `at` are byte positions inside the record's payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorruptReason {
    /// The frame's payload length is below the minimum payload or above [`super::MAX_PAYLOAD_LEN`].
    #[error("frame payload length {0} is outside the allowed range")]
    BadFrameLength(u32),
    /// The payload's CRC32C does not match the one stored in the frame.
    #[error("crc mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// CRC stored in the frame.
        stored: u32,
        /// CRC computed over the payload.
        computed: u32,
    },
    /// The frame header or payload extends past the end of the available bytes.
    #[error("incomplete frame: {have} of {need} bytes present")]
    Incomplete {
        /// Bytes available from the frame start.
        have: usize,
        /// Bytes the frame needs.
        need: usize,
    },
    /// The payload ended in the middle of a field.
    #[error("payload ends early at payload byte {at}")]
    UnexpectedEnd {
        /// Payload position where more bytes were needed.
        at: usize,
    },
    /// A varint is longer than 10 bytes, overflows u64 or is not minimally encoded.
    #[error("malformed varint at payload byte {at}")]
    BadVarint {
        /// Payload position of the varint.
        at: usize,
    },
    /// A length prefix points past the end of the payload.
    #[error("length {len} at payload byte {at} exceeds the {remaining} bytes left")]
    LengthOutOfBounds {
        /// Payload position of the length prefix.
        at: usize,
        /// The declared length.
        len: u64,
        /// Bytes left after the prefix.
        remaining: usize,
    },
    /// The declared row count cannot possibly fit in the rest of the payload.
    #[error("row count {count} cannot fit in the {remaining} bytes left")]
    RowCountTooLarge {
        /// Declared row count.
        count: u64,
        /// Bytes left in the payload.
        remaining: usize,
    },
    /// The batch id is not valid UTF-8.
    #[error("batch id is not valid UTF-8")]
    BatchIdUtf8,
    /// A string column holds bytes that are not valid UTF-8.
    #[error("column {column}: invalid UTF-8")]
    InvalidUtf8 {
        /// The column's name.
        column: &'static str,
    },
    /// The `level` column holds a name other than the six canonical lowercase ones.
    #[error("unknown level name {0:?}")]
    UnknownLevel(String),
    /// A boolean byte other than 0 or 1.
    #[error("column {column}: boolean byte {byte}, expected 0 or 1")]
    BadBool {
        /// The column's name.
        column: &'static str,
        /// The byte found.
        byte: u8,
    },
    /// Unused bits of a presence bitmap are set.
    #[error("presence bitmap of row {row} has padding bits set")]
    BitmapPadding {
        /// Row index in the record.
        row: usize,
    },
    /// `first_seq + row_count` overflows, or an empty record carries a non-zero first seq.
    #[error("invalid sequence range: first seq {first}, {count} rows")]
    BadSeqRange {
        /// The record's first seq.
        first: u64,
        /// The record's row count.
        count: u64,
    },
    /// Bytes remain in the payload after the last row.
    #[error("{0} trailing bytes after the last row")]
    TrailingBytes(usize),
    /// The row type refused a decoded value (a schema/codec disagreement).
    #[error("column {column} rejected its decoded value")]
    Schema {
        /// The column's name.
        column: &'static str,
    },
}

/// Every failure of the WAL module.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// An I/O error on the WAL file or its directory.
    #[error("wal i/o on {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the WAL magic bytes.
    #[error("not a wal file: bad magic {found:02x?}")]
    BadMagic {
        /// The first bytes found.
        found: [u8; 4],
    },
    /// The file's format version is not one this build reads.
    #[error("unsupported wal format version {found} (this build reads {supported})")]
    UnsupportedVersion {
        /// Version in the file.
        found: u16,
        /// Version this build reads and writes.
        supported: u16,
    },
    /// The header's checksum or reserved field is wrong.
    #[error("corrupt wal header: {detail}")]
    BadHeader {
        /// What is wrong.
        detail: &'static str,
    },
    /// The file is shorter than the fixed header (a crash during `create`; holds no records).
    #[error("wal file is {len} bytes, shorter than its header")]
    TruncatedHeader {
        /// The file's length.
        len: u64,
    },
    /// A record whose CRC is valid (so it was written completely) does not decode.
    #[error("corrupt wal record at file offset {offset}: {reason}")]
    Corrupt {
        /// File offset of the record's frame.
        offset: u64,
        /// What is wrong.
        reason: CorruptReason,
    },
    /// The rows of a record to encode do not carry consecutive seq values.
    #[error("row {index} of the record has seq {found}, expected {expected}")]
    NonConsecutiveSeq {
        /// Row index in the record.
        index: usize,
        /// The seq the row should have had.
        expected: u64,
        /// The seq it has.
        found: u64,
    },
    /// A row value does not match its column's logical type (a schema/row disagreement).
    #[error("row value of column {column} does not match the column's type")]
    Schema {
        /// The column's name.
        column: &'static str,
    },
    /// An encoded record would exceed [`super::MAX_PAYLOAD_LEN`].
    #[error("wal record payload of {len} bytes exceeds the maximum")]
    RecordTooLarge {
        /// Payload size.
        len: usize,
    },
    /// Bytes handed to `append_encoded` are not a sequence of complete frames.
    #[error("append_encoded given bytes that are not complete frames")]
    NotAFrame,
    /// The writer failed to restore the file after a failed write; it refuses further appends.
    #[error("wal writer for {path} is poisoned after an unrecoverable write failure")]
    Poisoned {
        /// The WAL file.
        path: PathBuf,
    },
    /// The file being tailed was removed or replaced (normally: turned into a chunk).
    #[error("wal file {path} vanished (replaced by a chunk?)")]
    Vanished {
        /// The WAL path.
        path: PathBuf,
    },
}

impl WalError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> WalError {
        WalError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether this is the "file vanished" condition of [`super::WalTailer::poll`].
    pub fn is_vanished(&self) -> bool {
        matches!(self, WalError::Vanished { .. })
    }
}
