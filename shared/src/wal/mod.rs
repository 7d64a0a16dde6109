//! Write-ahead log: CRC-framed batch records, an appending writer and a tailing reader.
//!
//! A WAL file `wal_NNN.log` is a 24-byte header followed by records; each record is one
//! ingest batch, durable (and acknowledged) as a whole or not at all. ingestd appends with
//! [`WalWriter`] and syncs once per group of batches; queryd follows the file with
//! [`WalTailer`]; [`read_records`] is the pure byte-level reader under both (and the fuzz
//! target). Format, byte by byte: `docs/format/wal.md`.

mod error;
mod header;
mod reader;
mod record;
mod tailer;
mod varint;
mod writer;

pub use error::{CorruptReason, WalError};
pub use header::{HEADER_LEN, WAL_MAGIC, WAL_VERSION, WalHeader};
pub use reader::{
    TailState, TailStop, WalContents, for_each_record, for_each_wal_record, read_records, read_wal,
    summarize_wal,
};
pub use record::{
    FRAME_HEADER_LEN, MAX_PAYLOAD_LEN, MIN_PAYLOAD_LEN, PreparedRecord, RecordSummary, WalRecord,
    decode_payload, decode_payload_refs, decode_summary, encode_record,
};
pub use tailer::WalTailer;
pub use writer::{Recovered, WalWriter};
