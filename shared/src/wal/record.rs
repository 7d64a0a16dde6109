//! The record codec: one ingest batch <-> one CRC-framed byte string.
//!
//! Frame: `u32 payload_len | u32 crc32c(payload) | payload`, little-endian. The payload layout
//! is specified in `docs/format/wal.md`; in short: batch id, first seq, row count, then each
//! row as a presence bitmap of the nullable columns followed by the present values in
//! [`COLUMNS`] order, each encoded by its [`LogicalType`].

use super::error::{CorruptReason, WalError};
use super::varint::{Cursor, put_uvarint, zigzag};
use crate::ids::{BatchId, Seq};
use crate::row::{Level, Row, ValueRef};
use crate::row_ref::RowRef;
use crate::schema::{COLUMNS, Col, LogicalType, NUM_COLUMNS};

/// Bytes before a record's payload: payload length and CRC32C, both u32 little-endian.
pub const FRAME_HEADER_LEN: usize = 8;

/// Largest payload a frame may declare (64 MiB); longer lengths are treated as corruption.
pub const MAX_PAYLOAD_LEN: usize = 64 << 20;

/// Smallest possible payload: batch tag (1) + first seq (8) + row count (1).
pub const MIN_PAYLOAD_LEN: usize = 10;

/// One ingest batch as logged: all of its rows become durable together or not at all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WalRecord {
    /// The client's `X-Batch-ID`, if it sent one (for deduplication across restarts).
    pub batch_id: Option<BatchId>,
    /// The batch's rows, with consecutive `seq` values assigned by ingestd.
    pub rows: Vec<Row>,
}

impl WalRecord {
    /// The seq of the last row, if the record has rows.
    pub fn last_seq(&self) -> Option<Seq> {
        self.rows.last().map(|r| r.seq)
    }
}

const _: () = assert!(COLUMNS.len() == NUM_COLUMNS);

/// Marker in [`NULL_BIT`] for a column that is not nullable (has no presence bit).
const NO_BIT: u8 = u8::MAX;

/// For each column (by index), its bit in the presence bitmap, or [`NO_BIT`].
const NULL_BIT: [u8; NUM_COLUMNS] = {
    let mut bits = [NO_BIT; NUM_COLUMNS];
    let mut i = 0;
    let mut next = 0u8;
    while i < NUM_COLUMNS {
        if COLUMNS[i].nullable {
            bits[i] = next;
            next += 1;
        }
        i += 1;
    }
    bits
};

/// Number of nullable columns, i.e. bits in the presence bitmap.
const NULLABLE_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < NUM_COLUMNS {
        if COLUMNS[i].nullable {
            n += 1;
        }
        i += 1;
    }
    n
};

/// Bytes of the per-row presence bitmap.
const BITMAP_LEN: usize = NULLABLE_COUNT.div_ceil(8);

/// The fewest bytes any row can occupy: its bitmap plus one byte per always-present value.
const MIN_ROW_LEN: usize = {
    let mut n = BITMAP_LEN;
    let mut i = 0;
    while i < NUM_COLUMNS {
        if !COLUMNS[i].nullable && !matches!(COLUMNS[i].col, Col::Seq) {
            n += 1;
        }
        i += 1;
    }
    n
};

/// Appends the framed encoding of `rec` to `out`.
///
/// A free function so that ingestd can encode outside the lock that serialises appends.
/// On error `out` is left as it was. Fails if the rows' seqs are not consecutive or the
/// payload would exceed [`MAX_PAYLOAD_LEN`].
pub fn encode_record(rec: &WalRecord, out: &mut Vec<u8>) -> Result<(), WalError> {
    encode_frame(rec, out).map(|_| ())
}

/// [`encode_record`], returning where the payload's fill-in values went.
fn encode_frame(rec: &WalRecord, out: &mut Vec<u8>) -> Result<Slots, WalError> {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEADER_LEN]);
    let slots = match encode_payload(rec, out) {
        Ok(slots) => slots,
        Err(e) => {
            out.truncate(start);
            return Err(e);
        }
    };
    let payload_start = start + FRAME_HEADER_LEN;
    let payload_len = out.len() - payload_start;
    let len32 = match u32::try_from(payload_len) {
        Ok(n) if payload_len <= MAX_PAYLOAD_LEN => n,
        _ => {
            out.truncate(start);
            return Err(WalError::RecordTooLarge { len: payload_len });
        }
    };
    out[start..start + 4].copy_from_slice(&len32.to_le_bytes());
    write_crc(&mut out[start..]);
    Ok(slots)
}

/// Writes the CRC32C of a frame's payload into its header (`frame` starts at the header).
fn write_crc(frame: &mut [u8]) {
    let crc = crc32c::crc32c(&frame[FRAME_HEADER_LEN..]);
    frame[4..FRAME_HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
}

/// A batch's record encoded before the two values only the WAL's single writer knows: the
/// seq of its first row and the time the batch is appended.
///
/// ingestd encodes each batch on the thread that decoded it ([`PreparedRecord::encode`]);
/// its writer thread then only fills in those values and the CRC
/// ([`PreparedRecord::finish`]), which keeps the serial part of an append (the part every
/// waiting request's acknowledgement queues behind) small. The finished frame is byte for
/// byte what [`encode_record`] gives for the same rows with those values.
#[derive(Debug)]
pub struct PreparedRecord {
    frame: Vec<u8>,
    rows: u32,
    slots: Slots,
    received_at: i64,
}

impl PreparedRecord {
    /// Encodes `rows` as one record, every row with `received_at` (its final value is set
    /// by [`PreparedRecord::finish`]; pass the current time). The rows' own `seq` and
    /// `received_at` are ignored.
    ///
    /// Fails if the payload would exceed [`MAX_PAYLOAD_LEN`] or a row does not fit the
    /// schema.
    pub fn encode(
        batch_id: Option<BatchId>,
        mut rows: Vec<Row>,
        received_at: i64,
    ) -> Result<PreparedRecord, WalError> {
        let n = rows.len();
        for (i, r) in rows.iter_mut().enumerate() {
            r.seq = Seq(i as u64);
            r.received_at = received_at;
        }
        let mut frame = Vec::new();
        let slots = encode_frame(&WalRecord { batch_id, rows }, &mut frame)?;
        // Every row takes at least a byte of a payload capped at `MAX_PAYLOAD_LEN`, so a
        // record that encoded has fewer rows than `u32::MAX`.
        let count = u32::try_from(n).map_err(|_| WalError::RecordTooLarge { len: frame.len() })?;
        Ok(PreparedRecord {
            frame,
            rows: count,
            slots,
            received_at,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Whether the record has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The `received_at` the rows carry.
    pub fn received_at(&self) -> i64 {
        self.received_at
    }

    /// Sets the seq of the first row (the others follow it) and every row's
    /// `received_at`, and returns the frame, ready for [`super::WalWriter::append_encoded`].
    ///
    /// Row 0 holds `received_at` as a varint of the length the encoding time had, and every
    /// time from 1978 to 3111 has the same length. Should the clock jump outside that
    /// range between encoding and now, the rows keep the encoding time instead
    /// ([`PreparedRecord::received_at`] tells which).
    pub fn finish(&mut self, first: Seq, received_at: i64) -> &[u8] {
        if self.rows > 0 {
            // An empty record's first seq is 0, as `encode_record` writes it.
            let at = FRAME_HEADER_LEN + self.slots.first_seq;
            self.frame[at..at + 8].copy_from_slice(&first.0.to_le_bytes());
        }
        match self.slots.received_at {
            None => self.received_at = received_at,
            Some(at) => self.patch_received_at(at, received_at),
        }
        write_crc(&mut self.frame);
        &self.frame
    }

    /// Writes `received_at` over row 0's (at payload offset `at`) if its varint has the
    /// same length.
    fn patch_received_at(&mut self, at: usize, received_at: i64) {
        let mut new = Vec::with_capacity(10);
        put_uvarint(&mut new, zigzag(received_at));
        let at = FRAME_HEADER_LEN + at;
        let old_len = self.frame[at..]
            .iter()
            .position(|b| b & 0x80 == 0)
            .map_or(usize::MAX, |p| p + 1);
        if new.len() == old_len {
            self.frame[at..at + old_len].copy_from_slice(&new);
            self.received_at = received_at;
        }
    }
}

/// Where [`encode_payload`] put the two values a [`PreparedRecord`] fills in later,
/// relative to the start of the payload.
#[derive(Debug, Clone, Copy, Default)]
struct Slots {
    /// The 8 bytes of the first seq.
    first_seq: usize,
    /// Row 0's `received_at` varint (`None` without rows).
    received_at: Option<usize>,
}

/// Appends `rec`'s payload; returns where the first seq and row 0's `received_at` went.
fn encode_payload(rec: &WalRecord, out: &mut Vec<u8>) -> Result<Slots, WalError> {
    let payload_start = out.len();
    let mut slots = Slots::default();
    match &rec.batch_id {
        None => put_uvarint(out, 0),
        Some(b) => {
            put_uvarint(out, b.0.len() as u64 + 1);
            out.extend_from_slice(b.0.as_bytes());
        }
    }
    let first = rec.rows.first().map_or(0, |r| r.seq.0);
    slots.first_seq = out.len() - payload_start;
    out.extend_from_slice(&first.to_le_bytes());
    put_uvarint(out, rec.rows.len() as u64);
    let mut bases = [0i64; NUM_COLUMNS];
    for (i, row) in rec.rows.iter().enumerate() {
        let expected = first.checked_add(i as u64);
        if expected != Some(row.seq.0) {
            return Err(WalError::NonConsecutiveSeq {
                index: i,
                expected: expected.unwrap_or(u64::MAX),
                found: row.seq.0,
            });
        }
        let at = encode_row(row, i == 0, &mut bases, out)?;
        if i == 0 {
            slots.received_at = at.map(|a| a - payload_start);
        }
    }
    Ok(slots)
}

fn schema_mismatch(col: Col) -> WalError {
    WalError::Schema { column: col.name() }
}

/// Appends one row; for the first row, returns where its `received_at` varint starts.
#[inline]
fn encode_row(
    row: &Row,
    first_row: bool,
    bases: &mut [i64; NUM_COLUMNS],
    out: &mut Vec<u8>,
) -> Result<Option<usize>, WalError> {
    let mut received_at = None;
    let bm_at = out.len();
    out.extend_from_slice(&[0u8; BITMAP_LEN]);
    let mut bitmap = [0u8; BITMAP_LEN];
    for d in COLUMNS {
        if d.col == Col::Seq {
            continue; // implicit: first_seq + row index
        }
        let idx = d.col.index();
        let v = row.get(d.col);
        if v.is_null() {
            if d.nullable {
                continue;
            }
            // Row never yields Null for a non-nullable column.
            return Err(schema_mismatch(d.col));
        }
        let bit = NULL_BIT[idx];
        if bit != NO_BIT {
            bitmap[usize::from(bit / 8)] |= 1 << (bit % 8);
        }
        match (d.ty, v) {
            (LogicalType::U64, ValueRef::Int(x)) => put_uvarint(out, x as u64),
            (LogicalType::TimestampMicros, ValueRef::Int(x)) => {
                if first_row {
                    if d.col == Col::ReceivedAt {
                        received_at = Some(out.len());
                    }
                    bases[idx] = x;
                    put_uvarint(out, zigzag(x));
                } else {
                    put_uvarint(out, zigzag(x.wrapping_sub(bases[idx])));
                }
            }
            (LogicalType::Int, ValueRef::Int(x)) => put_uvarint(out, zigzag(x)),
            (LogicalType::Bool, ValueRef::Bool(b)) => out.push(u8::from(b)),
            (LogicalType::Str | LogicalType::Json, ValueRef::Str(s)) => {
                put_uvarint(out, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            _ => return Err(schema_mismatch(d.col)),
        }
    }
    out[bm_at..bm_at + BITMAP_LEN].copy_from_slice(&bitmap);
    Ok(received_at)
}

/// Decodes and validates one record payload (the bytes after the frame header).
///
/// Every length is checked against the bytes left before anything is allocated; every
/// string is validated UTF-8; the level must be one of the six canonical names; the seq
/// range must not overflow; no bytes may follow the last row.
pub fn decode_payload(payload: &[u8]) -> Result<WalRecord, CorruptReason> {
    let mut refs = Vec::new();
    let head = decode_payload_refs(payload, &mut refs)?;
    let rows = refs
        .iter()
        .map(|r| {
            r.to_row()
                .map_err(|e| CorruptReason::Schema { column: e.column })
        })
        .collect::<Result<Vec<Row>, _>>()?;
    Ok(WalRecord {
        batch_id: head.batch_id,
        rows,
    })
}

/// [`decode_payload`] without copying: clears `rows` and fills it with the record's rows,
/// whose strings borrow from `payload`, and returns the record's head. The same checks,
/// and the same errors, as [`decode_payload`] (which is this plus [`RowRef::to_row`]); on
/// error `rows` holds the rows decoded before the fault.
pub fn decode_payload_refs<'a>(
    payload: &'a [u8],
    rows: &mut Vec<RowRef<'a>>,
) -> Result<RecordSummary, CorruptReason> {
    rows.clear();
    let mut c = Cursor::new(payload);
    let head = read_head(&mut c)?;
    let (first, count) = (head.first_seq.0, head.rows);
    // `count` is bounded by the payload length above, so this allocation is too.
    rows.reserve(count as usize);
    let mut bases = [0i64; NUM_COLUMNS];
    for i in 0..count {
        rows.push(decode_row(&mut c, i as usize, Seq(first + i), &mut bases)?);
    }
    if c.remaining() != 0 {
        return Err(CorruptReason::TrailingBytes(c.remaining()));
    }
    Ok(head)
}

/// What recovery needs of a record without decoding its rows: the batch id, the first
/// sequence number and the row count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// The client's `X-Batch-ID`, if any.
    pub batch_id: Option<BatchId>,
    /// The seq of the first row (0 when there are no rows).
    pub first_seq: Seq,
    /// Number of rows.
    pub rows: u64,
}

impl RecordSummary {
    /// The seq of the last row, if the record has rows.
    pub fn last_seq(&self) -> Option<Seq> {
        self.rows
            .checked_sub(1)
            .and_then(|n| self.first_seq.0.checked_add(n))
            .map(Seq)
    }
}

/// Decodes the head of a record payload (batch id, first seq, row count) with the same
/// checks [`decode_payload`] makes on it, without decoding the rows: start-up recovery
/// reads every pending WAL this way, at the speed of the CRC rather than of row decoding.
pub fn decode_summary(payload: &[u8]) -> Result<RecordSummary, CorruptReason> {
    read_head(&mut Cursor::new(payload))
}

/// Reads and checks a payload's head: batch id tag and bytes, first seq, row count (bounded
/// by the bytes left), and a seq range that does not overflow.
fn read_head(c: &mut Cursor<'_>) -> Result<RecordSummary, CorruptReason> {
    let tag_at = c.pos();
    let tag = c.uvarint()?;
    let batch_id = if tag == 0 {
        None
    } else {
        let len = tag - 1;
        let remaining = c.remaining();
        let n = match usize::try_from(len) {
            Ok(n) if n <= remaining => n,
            _ => {
                return Err(CorruptReason::LengthOutOfBounds {
                    at: tag_at,
                    len,
                    remaining,
                });
            }
        };
        let s = std::str::from_utf8(c.take(n)?).map_err(|_| CorruptReason::BatchIdUtf8)?;
        Some(BatchId(s.to_owned()))
    };
    let first = c.u64_le()?;
    let count = c.uvarint()?;
    let remaining = c.remaining();
    if count > (remaining / MIN_ROW_LEN) as u64 {
        return Err(CorruptReason::RowCountTooLarge { count, remaining });
    }
    let seq_ok = match count {
        0 => first == 0,
        n => first.checked_add(n - 1).is_some(),
    };
    if !seq_ok {
        return Err(CorruptReason::BadSeqRange { first, count });
    }
    Ok(RecordSummary {
        batch_id,
        first_seq: Seq(first),
        rows: count,
    })
}

fn parse_level(b: &[u8]) -> Result<Level, CorruptReason> {
    Level::ALL
        .iter()
        .copied()
        .find(|l| l.as_str().as_bytes() == b)
        .ok_or_else(|| CorruptReason::UnknownLevel(String::from_utf8_lossy(b).into_owned()))
}

#[inline]
fn decode_row<'a>(
    c: &mut Cursor<'a>,
    row_index: usize,
    seq: Seq,
    bases: &mut [i64; NUM_COLUMNS],
) -> Result<RowRef<'a>, CorruptReason> {
    let bm = c.take(BITMAP_LEN)?;
    if !NULLABLE_COUNT.is_multiple_of(8)
        && bm.last().is_some_and(|b| b >> (NULLABLE_COUNT % 8) != 0)
    {
        return Err(CorruptReason::BitmapPadding { row: row_index });
    }
    let mut row = RowRef::new();
    row.set(Col::Seq, ValueRef::Int(seq.0 as i64));
    for d in COLUMNS {
        if d.col == Col::Seq {
            continue;
        }
        let idx = d.col.index();
        let bit = NULL_BIT[idx];
        if bit != NO_BIT {
            let present = bm
                .get(usize::from(bit / 8))
                .is_some_and(|b| (b >> (bit % 8)) & 1 == 1);
            if !present {
                continue;
            }
        }
        let value = match d.ty {
            LogicalType::U64 => ValueRef::Int(c.uvarint()? as i64),
            LogicalType::TimestampMicros => {
                let x = c.ivarint()?;
                if row_index == 0 {
                    bases[idx] = x;
                    ValueRef::Int(x)
                } else {
                    ValueRef::Int(x.wrapping_add(bases[idx]))
                }
            }
            LogicalType::Int => ValueRef::Int(c.ivarint()?),
            LogicalType::Bool => match c.u8()? {
                0 => ValueRef::Bool(false),
                1 => ValueRef::Bool(true),
                byte => {
                    return Err(CorruptReason::BadBool {
                        column: d.name,
                        byte,
                    });
                }
            },
            LogicalType::Str | LogicalType::Json => {
                let b = c.len_prefixed()?;
                if d.col == Col::Level {
                    ValueRef::Str(parse_level(b)?.as_str())
                } else {
                    ValueRef::Str(
                        std::str::from_utf8(b)
                            .map_err(|_| CorruptReason::InvalidUtf8 { column: d.name })?,
                    )
                }
            }
        };
        row.set(d.col, value);
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: u64) -> Row {
        Row {
            seq: Seq(seq),
            ts: 1_700_000_000_000_000 + seq as i64,
            received_at: 1_700_000_000_000_500,
            level: Level::Warn,
            service: "api".into(),
            message: "hello".into(),
            env: "prod".into(),
            kind: "log".into(),
            status: Some(200),
            n_plus_one: Some(false),
            body: Some("{}".into()),
            ..Row::default()
        }
    }

    #[test]
    fn layout_constants_match_schema() {
        assert_eq!(
            NULLABLE_COUNT,
            COLUMNS.iter().filter(|d| d.nullable).count()
        );
        assert_eq!(BITMAP_LEN, NULLABLE_COUNT.div_ceil(8));
    }

    #[test]
    fn round_trip_small_record() {
        let rec = WalRecord {
            batch_id: Some(BatchId("b-1".into())),
            rows: (10..13).map(row).collect(),
        };
        let mut buf = Vec::new();
        encode_record(&rec, &mut buf).unwrap();
        let len = u32::from_le_bytes(buf[0..4].try_into().unwrap()) as usize;
        assert_eq!(len + FRAME_HEADER_LEN, buf.len());
        assert_eq!(decode_payload(&buf[FRAME_HEADER_LEN..]).unwrap(), rec);
    }

    #[test]
    fn rejects_non_consecutive_seq_and_leaves_buffer() {
        let rec = WalRecord {
            batch_id: None,
            rows: vec![row(1), row(3)],
        };
        let mut buf = vec![7u8];
        assert!(matches!(
            encode_record(&rec, &mut buf),
            Err(WalError::NonConsecutiveSeq { index: 1, .. })
        ));
        assert_eq!(buf, vec![7u8]);
    }

    #[test]
    fn rejects_unknown_level_and_trailing_bytes() {
        let rec = WalRecord {
            batch_id: None,
            rows: vec![row(5)],
        };
        let mut buf = Vec::new();
        encode_record(&rec, &mut buf).unwrap();
        let mut payload = buf[FRAME_HEADER_LEN..].to_vec();
        payload.push(0);
        assert_eq!(
            decode_payload(&payload),
            Err(CorruptReason::TrailingBytes(1))
        );
        // The level string "warn" follows the bitmap and the two timestamps; flip its case.
        let pos = payload.windows(4).position(|w| w == b"warn").unwrap();
        payload.pop();
        payload[pos] = b'W';
        assert!(matches!(
            decode_payload(&payload),
            Err(CorruptReason::UnknownLevel(_))
        ));
    }

    /// The worked example of `docs/format/wal.md`, byte for byte.
    #[test]
    fn golden_example_from_format_doc() {
        let rec = WalRecord {
            batch_id: None,
            rows: vec![Row {
                seq: Seq(7),
                ts: 1,
                received_at: 1,
                level: Level::Info,
                ..Row::default()
            }],
        };
        let mut payload = vec![
            0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0x02, 0x02,
        ];
        payload.extend_from_slice(&[0x04, b'i', b'n', b'f', b'o', 0, 0, 0, 0]);
        let mut buf = Vec::new();
        encode_record(&rec, &mut buf).unwrap();
        assert_eq!(&buf[0..4], &[0x1A, 0, 0, 0]);
        assert_eq!(&buf[4..8], &crc32c::crc32c(&payload).to_le_bytes());
        assert_eq!(&buf[FRAME_HEADER_LEN..], &payload[..]);
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn huge_row_count_is_rejected_before_allocating() {
        let mut p = vec![0u8];
        p.extend_from_slice(&0u64.to_le_bytes());
        put_uvarint(&mut p, u64::MAX);
        assert!(matches!(
            decode_payload(&p),
            Err(CorruptReason::RowCountTooLarge { .. })
        ));
    }
}
