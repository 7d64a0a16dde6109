//! Pure, byte-level reading of WAL contents: used by recovery, the tailer and fuzzing.

use super::error::{CorruptReason, WalError};
use super::header::{HEADER_LEN, WalHeader};
use super::record::{
    FRAME_HEADER_LEN, MAX_PAYLOAD_LEN, MIN_PAYLOAD_LEN, RecordSummary, WalRecord, decode_payload,
    decode_payload_refs, decode_summary,
};
use crate::row_ref::RowRef;

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailStop {
    /// Every byte belonged to a complete, valid record.
    End,
    /// The last frame is incomplete (torn by a crash, or still being written).
    Incomplete,
    /// A frame declares a payload length outside `MIN_PAYLOAD_LEN..=MAX_PAYLOAD_LEN`
    /// (garbage or zero-filled tail).
    BadLength(u32),
    /// A frame's payload does not match its CRC (torn, or still being written).
    CrcMismatch {
        /// CRC stored in the frame.
        stored: u32,
        /// CRC computed over the payload.
        computed: u32,
    },
    /// A frame's CRC is valid but its payload does not decode. This is not a torn write:
    /// the record was written whole, so the file is corrupt or from an incompatible writer.
    Undecodable(CorruptReason),
}

impl TailStop {
    /// Whether the stop is something a crash or an in-progress append can produce
    /// (everything except [`TailStop::Undecodable`]).
    pub fn is_torn(&self) -> bool {
        !matches!(self, TailStop::End | TailStop::Undecodable(_))
    }
}

/// Where the valid prefix of some WAL bytes ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailState {
    /// Length of the prefix made of complete, valid records.
    pub good_len: usize,
    /// Bytes after that prefix (a torn or corrupt tail).
    pub torn_bytes: usize,
    /// Why reading stopped at `good_len`.
    pub stop: TailStop,
}

/// One frame split off the front of some bytes.
enum Frame<'a> {
    /// A frame with a matching CRC: its payload and its total length.
    Ok { payload: &'a [u8], len: usize },
    /// No complete, CRC-valid frame here.
    Stop(TailStop),
}

fn next_frame(bytes: &[u8]) -> Frame<'_> {
    let Some(head) = bytes.first_chunk::<FRAME_HEADER_LEN>() else {
        return Frame::Stop(if bytes.is_empty() {
            TailStop::End
        } else {
            TailStop::Incomplete
        });
    };
    let len32 = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let stored = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let len = len32 as usize;
    if !(MIN_PAYLOAD_LEN..=MAX_PAYLOAD_LEN).contains(&len) {
        return Frame::Stop(TailStop::BadLength(len32));
    }
    let Some(payload) = bytes.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + len) else {
        return Frame::Stop(TailStop::Incomplete);
    };
    let computed = crc32c::crc32c(payload);
    if computed != stored {
        return Frame::Stop(TailStop::CrcMismatch { stored, computed });
    }
    Frame::Ok {
        payload,
        len: FRAME_HEADER_LEN + len,
    }
}

/// Reads every complete record from `bytes` (the record area of a WAL, i.e. the file
/// without its header) and reports where and why reading stopped. Never panics.
///
/// Reading stops at the first frame that is incomplete, has an impossible length, fails
/// its CRC, or does not decode; the records before it are returned.
pub fn read_records(bytes: &[u8]) -> (Vec<WalRecord>, TailState) {
    let mut records = Vec::new();
    let state = walk_frames(bytes, |payload, _| {
        records.push(decode_payload(payload)?);
        Ok(())
    });
    (records, state)
}

/// Like [`read_records`], but hands each record to `f` as soon as it is decoded instead of
/// collecting them, and without copying its rows: `f` gets the record's head and its rows
/// as [`RowRef`]s borrowing from `bytes` (one reused buffer, so decoding allocates nothing
/// once warm). The chunk builder holds one record at a time this way. The last argument
/// is the offset in `bytes` just past the record: everything before it has been consumed
/// (the builder releases those pages of its mapping).
pub fn for_each_record<'a>(
    bytes: &'a [u8],
    mut f: impl FnMut(&RecordSummary, &[RowRef<'a>], usize),
) -> TailState {
    let mut rows = Vec::new();
    walk_frames(bytes, |payload, end| {
        let head = decode_payload_refs(payload, &mut rows)?;
        f(&head, &rows, end);
        Ok(())
    })
}

/// Walks the CRC-valid frames of `bytes`, handing each payload and the offset just past
/// its frame to `f`, which decodes it (and uses it); stops at the first torn or corrupt
/// frame, or where `f` reports the payload undecodable (that frame is then not counted as
/// read). The one loop behind [`read_records`], [`for_each_record`] and
/// [`summarize_wal`], so all stop at the same place.
fn walk_frames<'a>(
    bytes: &'a [u8],
    mut f: impl FnMut(&'a [u8], usize) -> Result<(), CorruptReason>,
) -> TailState {
    let mut pos = 0usize;
    let stop = loop {
        let rest = bytes.get(pos..).unwrap_or(&[]);
        match next_frame(rest) {
            Frame::Stop(s) => break s,
            Frame::Ok { payload, len } => match f(payload, pos + len) {
                Ok(()) => pos += len,
                Err(reason) => break TailStop::Undecodable(reason),
            },
        }
    };
    TailState {
        good_len: pos,
        torn_bytes: bytes.len() - pos,
        stop,
    }
}

/// Streams a whole WAL file image: validates the header, then [`for_each_record`] on the
/// rest. The returned `good_len`, like the offsets given to `f`, counts from the start of
/// the file (header included).
pub fn for_each_wal_record<'a>(
    bytes: &'a [u8],
    mut f: impl FnMut(&RecordSummary, &[RowRef<'a>], usize),
) -> Result<(WalHeader, TailState), WalError> {
    let header = WalHeader::decode(bytes)?;
    let mut tail = for_each_record(bytes.get(HEADER_LEN..).unwrap_or(&[]), |h, rows, end| {
        f(h, rows, end + HEADER_LEN)
    });
    tail.good_len += HEADER_LEN;
    Ok((header, tail))
}

/// Summarises a whole WAL file image: validates the header, then every CRC-valid frame's
/// head ([`decode_summary`]), stopping where [`read_records`] would stop at a torn or
/// corrupt frame. Rows are not decoded.
pub fn summarize_wal(bytes: &[u8]) -> Result<(Vec<RecordSummary>, TailState), WalError> {
    WalHeader::decode(bytes)?;
    let mut out = Vec::new();
    let mut tail = walk_frames(bytes.get(HEADER_LEN..).unwrap_or(&[]), |payload, _| {
        out.push(decode_summary(payload)?);
        Ok(())
    });
    tail.good_len += HEADER_LEN;
    Ok((out, tail))
}

/// The decoded contents of a whole WAL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalContents {
    /// The file header.
    pub header: WalHeader,
    /// The complete records, in file order.
    pub records: Vec<WalRecord>,
    /// Where the valid prefix ends; `good_len` counts from the start of the file
    /// (header included).
    pub tail: TailState,
}

/// Reads a whole WAL file image: validates the header, then [`read_records`] on the rest.
pub fn read_wal(bytes: &[u8]) -> Result<WalContents, WalError> {
    let header = WalHeader::decode(bytes)?;
    let (records, mut tail) = read_records(bytes.get(HEADER_LEN..).unwrap_or(&[]));
    tail.good_len += HEADER_LEN;
    Ok(WalContents {
        header,
        records,
        tail,
    })
}

/// Whether `bytes` is a non-empty sequence of whole frames with plausible lengths
/// (CRCs are not checked: the bytes come from [`super::encode_record`]).
pub(crate) fn is_whole_frames(bytes: &[u8]) -> bool {
    let mut pos = 0usize;
    while pos < bytes.len() {
        let Some(head) = bytes.get(pos..).and_then(|b| b.first_chunk::<4>()) else {
            return false;
        };
        let len = u32::from_le_bytes(*head) as usize;
        if !(MIN_PAYLOAD_LEN..=MAX_PAYLOAD_LEN).contains(&len) {
            return false;
        }
        pos += FRAME_HEADER_LEN + len;
    }
    pos == bytes.len() && pos > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::encode_record;

    #[test]
    fn zero_filled_tail_is_a_bad_length_not_a_record() {
        let (recs, st) = read_records(&[0u8; 64]);
        assert!(recs.is_empty());
        assert_eq!(st.stop, TailStop::BadLength(0));
        assert_eq!(st.torn_bytes, 64);
    }

    #[test]
    fn whole_frames_check() {
        let mut b = Vec::new();
        encode_record(&WalRecord::default(), &mut b).unwrap();
        encode_record(&WalRecord::default(), &mut b).unwrap();
        assert!(is_whole_frames(&b));
        assert!(!is_whole_frames(&b[..b.len() - 1]));
        assert!(!is_whole_frames(&[]));
        let (recs, st) = read_records(&b);
        assert_eq!(recs.len(), 2);
        assert_eq!(st.stop, TailStop::End);
    }
}
