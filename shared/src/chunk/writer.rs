//! [`ChunkBuilder`]: transposes rows into per-column buffers as they arrive, then encodes the
//! file column by column, choosing each column's encoding by measuring its data.

use std::borrow::Cow;
use std::io::Write;

use super::batches::{BatchRecord, put_batches};
use super::encoding::delta::encode_ints;
use super::encoding::dict::{StrDictBuild, build_str_dict, put_str_dict};
use super::encoding::framed::{FrameWriter, prefix_pays, put_framed, sample_prefix};
use super::encoding::sparse::{Bitmap, put_bitmap};
use super::encoding::strings::{StrValues, put_const, put_plain};
use super::encoding::zstd_block::Zstd;
use super::encoding::{Encoding, PresenceKind, ValueEncoding};
use super::error::ChunkError;
use super::format::{DirEntry, HEADER_LEN, MAX_ROWS, SectionRef, Trailer, put_header};
use super::interned::Interned;
use super::zonemap::{MinMax, ZoneMap};
use crate::ids::{BatchId, Seq};
use crate::row::ValueRef;
use crate::row_ref::RowValues;
use crate::schema::{COLUMNS, Cardinality, Col, LogicalType};

/// Tunables of the writer. The defaults are what `chunk_bench` measured as the best
/// size/speed trade-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// zstd level for string bytes and dictionaries (message, path, body...).
    pub text_level: i32,
    /// zstd level for identifier columns ([`Cardinality::Id`]: trace, span, request ids...).
    /// Random ids hold no redundancy but repeats of whole values, which the fastest level
    /// finds as well as any: `storage_bench` measured level 1 both smaller (by 3%) and
    /// three times faster than level 5 on them, which spends its time on (and pays bits
    /// for) short false matches inside random hex.
    pub id_level: i32,
    /// zstd level for integer varints, string lengths, presence bitmaps and batch ids.
    pub small_level: i32,
    /// Long-distance matching window (log2 bytes) for text; 0 = off (the default: since
    /// long columns are framed, `storage_bench` finds no byte it saves, and its context
    /// took 9 MB of a build's peak).
    pub text_window_log: u32,
    /// Values per frame of a long plain string column (`StrFramed`): reading one row
    /// decompresses one frame. Columns of at most this many values are stored unframed.
    pub text_frame_rows: usize,
    /// Compress the frames of long text and identifier columns (message, body, trace and
    /// request ids...) while rows arrive, instead of holding their raw values until
    /// [`ChunkBuilder::finish`]: the builder's memory is then mostly compressed text. The
    /// column's encoding is decided on its first four frames (framed unless a dictionary
    /// would do) and its prefix dictionary is sampled from them, instead of both from the
    /// whole column.
    pub stream_text: bool,
    /// Rows a chunk is expected to reach, for what streaming decides before the chunk is
    /// complete (whether a prefix dictionary pays over the frames to come).
    pub expected_rows: usize,
}

impl Default for ChunkOptions {
    fn default() -> ChunkOptions {
        ChunkOptions {
            text_level: 5,
            id_level: 1,
            small_level: 3,
            text_window_log: 0,
            text_frame_rows: DEFAULT_FRAME_ROWS,
            stream_text: true,
            expected_rows: 65536,
        }
    }
}

/// Default [`ChunkOptions::text_frame_rows`]: measured by `storage_bench` as the point where
/// framing costs little size and a row read stays well under a millisecond.
pub const DEFAULT_FRAME_ROWS: usize = 4096;

/// One column's pending values (non-null only) and presence bitmap.
#[derive(Debug)]
enum ColBuf {
    Int {
        values: Vec<i64>,
        present: Bitmap,
    },
    /// A low-cardinality string column, interned until it has too many distinct values
    /// (then it becomes a `Str`).
    Low {
        values: Interned,
        present: Bitmap,
    },
    Str {
        values: StrValues,
        present: Bitmap,
        stream: Stream,
    },
}

/// Whether a string column's frames are compressed as rows arrive
/// ([`ChunkOptions::stream_text`]).
#[derive(Debug)]
enum Stream {
    /// Values are kept until `finish`, which picks the encoding.
    Off,
    /// A long text column whose first [`STREAM_DECIDE_FRAMES`] frames have not filled yet.
    Undecided,
    /// Framed: `values` holds only the frame being filled.
    Frames(Box<FrameWriter>),
}

impl ColBuf {
    fn present(&self) -> &Bitmap {
        match self {
            ColBuf::Int { present, .. }
            | ColBuf::Low { present, .. }
            | ColBuf::Str { present, .. } => present,
        }
    }

    /// Turns an interned column into a plain list (no-op for other columns).
    fn spill_interned(&mut self) {
        if let ColBuf::Low { values, present } = self {
            *self = ColBuf::Str {
                values: values.to_values(),
                present: std::mem::take(present),
                stream: Stream::Off,
            };
        }
    }
}

/// Builds one chunk file. Rows are transposed into per-column buffers on [`push`]
/// (no row is kept), so memory is about the size of the raw values.
///
/// [`push`]: ChunkBuilder::push
#[derive(Debug)]
pub struct ChunkBuilder {
    options: ChunkOptions,
    rows: usize,
    cols: Vec<ColBuf>,
    batches: Vec<BatchRecord>,
    ts: Option<MinMax<i64>>,
    received_at: Option<MinMax<i64>>,
    seq: Option<MinMax<Seq>>,
    /// A column given more than 4 GiB of strings (`finish` fails with it).
    too_large: Option<&'static str>,
}

impl Default for ChunkBuilder {
    fn default() -> ChunkBuilder {
        ChunkBuilder::new()
    }
}

impl ChunkBuilder {
    /// An empty builder with default options.
    pub fn new() -> ChunkBuilder {
        ChunkBuilder::with_options(ChunkOptions::default())
    }

    /// An empty builder with the given options.
    pub fn with_options(options: ChunkOptions) -> ChunkBuilder {
        let cols = COLUMNS
            .iter()
            .map(|d| match d.ty {
                LogicalType::Str if d.cardinality == Cardinality::Low => ColBuf::Low {
                    values: Interned::default(),
                    present: Bitmap::new(),
                },
                LogicalType::Str | LogicalType::Json => ColBuf::Str {
                    values: StrValues::new(),
                    present: Bitmap::new(),
                    stream: if options.stream_text
                        && matches!(d.cardinality, Cardinality::High | Cardinality::Id)
                    {
                        Stream::Undecided
                    } else {
                        Stream::Off
                    },
                },
                _ => ColBuf::Int {
                    values: Vec::new(),
                    present: Bitmap::new(),
                },
            })
            .collect();
        ChunkBuilder {
            options,
            rows: 0,
            cols,
            batches: Vec::new(),
            ts: None,
            received_at: None,
            seq: None,
            too_large: None,
        }
    }

    /// Number of rows pushed so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was pushed.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row (owned, or borrowed from a WAL record), copying each column's value
    /// into that column's buffer.
    pub fn push<R: RowValues + ?Sized>(&mut self, row: &R) {
        for (def, buf) in COLUMNS.iter().zip(self.cols.iter_mut()) {
            let value = row.value(def.col);
            if let (ColBuf::Low { values, present }, ValueRef::Str(s)) = (&mut *buf, value) {
                if values.push(s) {
                    present.push(true);
                    continue;
                }
                buf.spill_interned();
            }
            match (buf, value) {
                (ColBuf::Int { values, present }, ValueRef::Int(v)) => {
                    values.push(v);
                    present.push(true);
                }
                (ColBuf::Int { values, present }, ValueRef::Bool(b)) => {
                    values.push(i64::from(b));
                    present.push(true);
                }
                (
                    ColBuf::Str {
                        values,
                        present,
                        stream,
                    },
                    ValueRef::Str(s),
                ) => {
                    if values.fits(s) {
                        values.push(s);
                        present.push(true);
                        let level = if def.cardinality == Cardinality::Id {
                            self.options.id_level
                        } else {
                            self.options.text_level
                        };
                        stream_frames(values, stream, level, &self.options);
                    } else {
                        present.push(false);
                        self.too_large.get_or_insert(def.name);
                    }
                }
                (
                    ColBuf::Int { present, .. }
                    | ColBuf::Low { present, .. }
                    | ColBuf::Str { present, .. },
                    _,
                ) => {
                    present.push(false);
                }
            }
        }
        self.rows += 1;
        include(&mut self.ts, row.value(Col::Ts).as_int().unwrap_or(0));
        include(
            &mut self.received_at,
            row.value(Col::ReceivedAt).as_int().unwrap_or(0),
        );
        include(&mut self.seq, row.seq());
    }

    /// Records that `rows` rows starting at `first_seq` came from client batch `batch_id`.
    pub fn push_batch(&mut self, batch_id: &BatchId, first_seq: Seq, rows: u32) {
        self.batches.push((batch_id.clone(), first_seq, rows));
    }

    /// Encodes the chunk and returns the file's bytes.
    pub fn finish(self) -> Result<Vec<u8>, ChunkError> {
        let raw: usize = self
            .cols
            .iter()
            .map(|c| match c {
                ColBuf::Int { values, .. } => values.len() * 2,
                ColBuf::Low { values, .. } => values.len(),
                ColBuf::Str { values, .. } => values.byte_len() / 3,
            })
            .sum();
        let mut out = Vec::with_capacity(raw + 1024);
        self.finish_into(&mut out)?;
        Ok(out)
    }

    /// Encodes the chunk and writes it to `w` (buffered in memory first: the trailer points
    /// back at the footer).
    pub fn write_to(self, mut w: impl Write) -> Result<(), ChunkError> {
        let bytes = self.finish()?;
        w.write_all(&bytes)?;
        Ok(())
    }

    fn finish_into(self, out: &mut Vec<u8>) -> Result<(), ChunkError> {
        if self.rows > MAX_ROWS {
            return Err(ChunkError::TooManyRows(self.rows));
        }
        if let Some(col) = self.too_large {
            return Err(ChunkError::ColumnTooLarge(col));
        }
        let rows = self.rows;
        let mut zs = Zstd::new(self.options.small_level);
        let mut zt = Zstd::with_window(self.options.text_level, self.options.text_window_log);
        let mut zid = Zstd::new(self.options.id_level);
        put_header(out);
        debug_assert_eq!(out.len(), HEADER_LEN);

        let mut dir: Vec<DirEntry> = Vec::with_capacity(COLUMNS.len());
        // Columns whose presence is stored as a bitmap, for `SameAs` sharing.
        let mut bitmaps: Vec<(Col, Bitmap)> = Vec::new();
        let mut block = Vec::new();
        for (def, buf) in COLUMNS.iter().zip(self.cols) {
            block.clear();
            let present_count = buf.present().count_ones();
            let null_count = rows - present_count;
            let presence = if present_count == 0 {
                PresenceKind::AllNull
            } else if null_count == 0 {
                PresenceKind::AllPresent
            } else if let Some((same, _)) = bitmaps.iter().find(|(_, b)| b == buf.present()) {
                block.push(PresenceKind::SameAs as u8);
                block.push(same.id());
                PresenceKind::SameAs
            } else {
                block.push(PresenceKind::Bitmap as u8);
                put_bitmap(&mut block, buf.present(), Some(&mut zs));
                bitmaps.push((def.col, buf.present().clone()));
                PresenceKind::Bitmap
            };
            if matches!(presence, PresenceKind::AllNull | PresenceKind::AllPresent) {
                block.push(presence as u8);
            }
            let values = match buf {
                ColBuf::Int { values, .. } => encode_ints(&mut block, &values, &mut zs),
                ColBuf::Low { values, .. } => encode_interned(
                    &mut block,
                    &values,
                    &mut zs,
                    &mut zt,
                    self.options.text_frame_rows,
                ),
                ColBuf::Str {
                    values,
                    stream: Stream::Frames(w),
                    ..
                } => {
                    let mut w = *w;
                    w.push_values(&values, &mut zs);
                    block.push(ValueEncoding::StrFramed as u8);
                    w.finish(&mut block);
                    ValueEncoding::StrFramed
                }
                ColBuf::Str { values, .. } => encode_strs(
                    &mut block,
                    &values,
                    &mut zs,
                    if def.cardinality == Cardinality::Id {
                        &mut zid
                    } else {
                        &mut zt
                    },
                    self.options.text_frame_rows,
                ),
            };
            let offset = out.len() as u64;
            out.extend_from_slice(&block);
            dir.push(DirEntry {
                col_id: def.col.id(),
                encoding: Encoding { presence, values },
                null_count: null_count as u32,
                block: SectionRef {
                    offset,
                    len: block.len() as u64,
                    crc: crc32c::crc32c(&block),
                },
            });
        }

        block.clear();
        put_batches(&mut block, &self.batches, &mut zs);
        let batch_ref = SectionRef {
            offset: out.len() as u64,
            len: block.len() as u64,
            crc: crc32c::crc32c(&block),
        };
        out.extend_from_slice(&block);

        let zone = ZoneMap {
            row_count: rows as u32,
            ts: self.ts,
            received_at: self.received_at,
            seq: self.seq,
            columns: Vec::new(),
        };
        let mut footer = Vec::new();
        zone.put_ranges(&mut footer);
        super::encoding::varint::put_uvarint(&mut footer, dir.len() as u64);
        for e in &dir {
            e.put(&mut footer);
        }
        batch_ref.put(&mut footer);
        let trailer = Trailer {
            footer_offset: out.len() as u64,
            footer_len: footer.len() as u32,
            footer_crc: crc32c::crc32c(&footer),
        };
        out.extend_from_slice(&footer);
        trailer.put(out);
        Ok(())
    }
}

/// Frames a streamable column fills before its encoding and prefix are decided: the
/// prefix sampled from fewer is less representative (`storage_bench`: message 17.5 B/row
/// with 2, 15.9 with 4, as with the whole column).
const STREAM_DECIDE_FRAMES: usize = 4;

/// After a value was added to a streamable column: decides, once its first
/// [`STREAM_DECIDE_FRAMES`] frames have filled, whether it is framed or kept for a
/// dictionary (as [`encode_strs`] would decide on the whole column: a dictionary when few
/// values are distinct, else whichever of the two is smaller on those frames), and
/// compresses each frame as it fills.
///
/// Between frames the column holds no zstd context (each is megabytes, against the
/// hundreds of kilobytes a compressed frame takes): they are set up for each frame.
fn stream_frames(values: &mut StrValues, stream: &mut Stream, level: i32, options: &ChunkOptions) {
    let frame_rows = options.text_frame_rows.max(1);
    match stream {
        Stream::Off => {}
        Stream::Undecided => {
            let n = values.len();
            if n < STREAM_DECIDE_FRAMES * frame_rows {
                return;
            }
            let dict = build_str_dict(values, n / 2);
            if dict.as_ref().is_some_and(|d| d.entries.len() * 8 <= n) {
                *stream = Stream::Off;
                return;
            }
            // Whether a prefix pays is tried on the last of these frames against a sample
            // of the others; the prefix itself is then sampled from all of them.
            let (first, last) = (
                values.slice(0, n - frame_rows),
                values.slice(n - frame_rows, n),
            );
            let frames = options.expected_rows.div_ceil(frame_rows).max(2);
            let prefix = if prefix_pays(level, &sample_prefix(&first), &last, frames) {
                sample_prefix(values)
            } else {
                Vec::new()
            };
            let mut w = FrameWriter::new(frame_rows, level, prefix);
            w.push_values(values, &mut Zstd::new(options.small_level));
            w.release_context();
            if let Some(d) = dict {
                let mut b = Vec::new();
                put_str_dict(&mut b, &d, &mut Zstd::new(level));
                if b.len() < w.encoded_len() {
                    *stream = Stream::Off;
                    return;
                }
            }
            // From now on the list holds one frame: give back the room the first frames
            // took (a quarter more than their average frame, for the frames to come).
            let frame_bytes = values.byte_len() / STREAM_DECIDE_FRAMES;
            *values = StrValues::with_capacity(frame_rows, frame_bytes + frame_bytes / 4);
            *stream = Stream::Frames(Box::new(w));
        }
        Stream::Frames(w) => {
            if values.len() >= w.frame_rows() {
                w.push_values(values, &mut Zstd::new(options.small_level));
                w.release_context();
                values.clear();
            }
        }
    }
}

fn include<T: Ord + Copy>(range: &mut Option<MinMax<T>>, v: T) {
    match range {
        Some(r) => r.include(v),
        None => *range = Some(MinMax::of(v)),
    }
}

/// Appends the value part of a string column in the smallest encoding tried.
fn encode_strs(
    out: &mut Vec<u8>,
    values: &StrValues,
    zs: &mut Zstd,
    zt: &mut Zstd,
    frame_rows: usize,
) -> ValueEncoding {
    let n = values.len();
    // A dictionary only pays when values repeat: give up past n/2 distinct values.
    let dict = build_str_dict(values, (n / 2).max(1));
    encode_str_choice(out, n, dict, || Cow::Borrowed(values), zs, zt, frame_rows)
}

/// [`encode_strs`] for an interned column: the same choice and bytes, from the dictionary
/// it already holds (its plain list is only made if a plain encoding must be tried).
fn encode_interned(
    out: &mut Vec<u8>,
    values: &Interned,
    zs: &mut Zstd,
    zt: &mut Zstd,
    frame_rows: usize,
) -> ValueEncoding {
    let n = values.len();
    let dict = Some(values.dict()).filter(|d| d.entries.len() <= (n / 2).max(1));
    encode_str_choice(
        out,
        n,
        dict,
        || Cow::Owned(values.to_values()),
        zs,
        zt,
        frame_rows,
    )
}

/// Writes `n` string values: constant or dictionary (`dict`, when they have few enough
/// distinct values) when that is smaller, else plain or framed (`values` gives the list).
fn encode_str_choice<'v>(
    out: &mut Vec<u8>,
    n: usize,
    dict: Option<StrDictBuild<'_>>,
    values: impl FnOnce() -> Cow<'v, StrValues>,
    zs: &mut Zstd,
    zt: &mut Zstd,
    frame_rows: usize,
) -> ValueEncoding {
    if n == 0 {
        out.push(ValueEncoding::None as u8);
        return ValueEncoding::None;
    }
    if let Some(d) = &dict
        && d.entries.len() == 1
    {
        out.push(ValueEncoding::StrConst as u8);
        put_const(out, d.entries.first().copied().unwrap_or(""));
        return ValueEncoding::StrConst;
    }
    let mut dict_bytes = None;
    if let Some(d) = &dict {
        let mut b = vec![ValueEncoding::StrDict as u8];
        put_str_dict(&mut b, d, zt);
        // With few distinct values the dictionary always wins; skip the costly plain try.
        if d.entries.len() * 8 <= n {
            out.extend_from_slice(&b);
            return ValueEncoding::StrDict;
        }
        dict_bytes = Some(b);
    }
    drop(dict);
    let values = values();
    let values: &StrValues = &values;
    let framed = n > frame_rows.max(1);
    let plain_tag = if framed {
        ValueEncoding::StrFramed
    } else {
        ValueEncoding::StrPlain
    };
    let mut plain = vec![plain_tag as u8];
    if framed {
        put_framed(&mut plain, values, frame_rows, zs, zt);
    } else {
        put_plain(&mut plain, values, zs, zt);
    }
    match dict_bytes {
        Some(b) if b.len() < plain.len() => {
            out.extend_from_slice(&b);
            ValueEncoding::StrDict
        }
        _ => {
            out.extend_from_slice(&plain);
            plain_tag
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::Row;

    /// The builder's buffer of `col`.
    fn buf(b: &ChunkBuilder, col: Col) -> Option<&ColBuf> {
        let i = COLUMNS.iter().position(|d| d.col == col)?;
        b.cols.get(i)
    }

    fn streamed(b: &ChunkBuilder, col: Col) -> bool {
        matches!(
            buf(b, col),
            Some(ColBuf::Str {
                stream: Stream::Frames(_),
                ..
            })
        )
    }

    /// Identifier columns stream like text once their first frames show no dictionary
    /// would do (trace ids repeat a few times, over neighbouring rows); columns with few
    /// distinct values keep their raw values for a dictionary.
    #[test]
    fn id_and_text_columns_stream_and_repetitive_ones_do_not() {
        let options = ChunkOptions {
            text_frame_rows: 64,
            ..ChunkOptions::default()
        };
        let mut b = ChunkBuilder::with_options(options);
        for i in 0..1000u64 {
            let r = Row {
                trace_id: Some(format!(
                    "{:032x}",
                    (i / 2).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                )),
                message: format!("request {i} took {} ms", i * 7 % 1000),
                service: format!("svc-{}", i % 3),
                ..Row::default()
            };
            b.push(&r);
        }
        assert!(streamed(&b, Col::TraceId), "trace ids are streamed");
        assert!(streamed(&b, Col::Message), "messages are streamed");
        assert!(!streamed(&b, Col::Service), "three services are not");
        let bytes = b.finish().unwrap();
        let r = crate::chunk::ChunkReader::open(&bytes).unwrap();
        assert_eq!(
            r.encoding(Col::TraceId).map(|e| e.values),
            Some(ValueEncoding::StrFramed)
        );
    }

    /// A low-cardinality column is interned until it has too many distinct values, then
    /// carries on as a plain list; either way every value reads back, nulls included.
    #[test]
    fn interned_columns_spill_to_plain_lists() {
        let n = Interned::MAX_DISTINCT + 3000;
        let mut b = ChunkBuilder::new();
        let mut want = Vec::new();
        for i in 0..n {
            let r = Row {
                service: format!("svc-{}", i % 5),
                host: (i % 7 != 0).then(|| format!("host-{i}")),
                ..Row::default()
            };
            want.push(r.host.clone());
            b.push(&r);
        }
        let low = |b: &ChunkBuilder, col: Col| matches!(buf(b, col), Some(ColBuf::Low { .. }));
        assert!(low(&b, Col::Service), "five services stay interned");
        assert!(!low(&b, Col::Host), "distinct hosts spilled");
        let bytes = b.finish().unwrap();
        let r = crate::chunk::ChunkReader::open(&bytes).unwrap();
        assert_eq!(
            r.encoding(Col::Service).map(|e| e.values),
            Some(ValueEncoding::StrDict)
        );
        let hosts = r.column(Col::Host).unwrap();
        let services = r.column(Col::Service).unwrap();
        for (i, h) in want.iter().enumerate() {
            let got = hosts.get(i);
            match h {
                Some(h) => assert_eq!(got, ValueRef::Str(h)),
                None => assert_eq!(got, ValueRef::Null),
            }
            assert_eq!(services.get(i), ValueRef::Str(&format!("svc-{}", i % 5)));
        }
    }
}
