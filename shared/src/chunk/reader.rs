//! [`ChunkReader`]: opens a chunk from a byte slice (an mmap, or bytes fetched from any other
//! storage) reading only the trailer and footer, then decodes columns one at a time.

use super::batches::{BatchRecord, read_batches};
use super::column::{Column, ColumnValues, Nulls};
use super::encoding::delta::decode_ints_as;
use super::encoding::dict::{checked_ids, read_int_dict_parts, read_str_dict, read_str_dict_view};
use super::encoding::framed::{Framed, read_framed};
use super::encoding::sparse::read_bitmap;
use super::encoding::strings::{StrValues, read_const, read_plain};
use super::encoding::{Corrupt, Cursor, Encoding, PresenceKind, ValueEncoding};
use super::error::{ChunkError, Section};
use super::format::{
    DirEntry, FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_ROWS, MIN_READ_VERSION, SectionRef,
    TRAILER_LEN, Trailer,
};
use super::point::POINT_READ_MAX_ROWS;
use super::rowset::RowSet;
use super::zonemap::{ColumnStats, ZoneMap};
use crate::row::{Row, ValueRef};
use crate::schema::{COLUMNS, Col, LogicalType, NUM_COLUMNS};

/// An open chunk file. Cheap to create: [`ChunkReader::open`] checks the header, trailer and
/// footer CRC and parses the zone map and column directory; column blocks are only read (and
/// their CRC checked) when a column is asked for.
#[derive(Debug, Clone)]
pub struct ChunkReader<'a> {
    bytes: &'a [u8],
    zone: ZoneMap,
    dir: Vec<Option<DirEntry>>,
    batches: SectionRef,
}

/// Whether `bytes` have the CRC32C `expected`. Fuzzing builds (`cfg(fuzzing)`, set by
/// cargo-fuzz) accept any CRC so that mutated inputs reach the decoders behind the checksums.
fn crc_ok(bytes: &[u8], expected: u32) -> bool {
    cfg!(fuzzing) || crc32c::crc32c(bytes) == expected
}

fn at(section: Section) -> impl Fn(Corrupt) -> ChunkError {
    move |c| ChunkError::corrupt(section, c.0)
}

impl<'a> ChunkReader<'a> {
    /// Opens a chunk file held in `bytes`.
    pub fn open(bytes: &'a [u8]) -> Result<ChunkReader<'a>, ChunkError> {
        if bytes.len() < HEADER_LEN + TRAILER_LEN {
            return Err(ChunkError::Truncated(Section::Header));
        }
        let mut h = Cursor::new(bytes);
        let fail = at(Section::Header);
        if h.take(4).map_err(&fail)? != MAGIC {
            return Err(ChunkError::BadMagic(Section::Header));
        }
        let version = h.u16_le().map_err(&fail)?;
        if !(MIN_READ_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(ChunkError::UnsupportedVersion(version));
        }
        let flags = h.u16_le().map_err(&fail)?;
        if flags != 0 {
            return Err(ChunkError::UnsupportedFlags(flags));
        }
        let data_end = bytes.len() - TRAILER_LEN;
        let trailer = bytes
            .get(data_end..)
            .and_then(Trailer::parse)
            .ok_or(ChunkError::BadMagic(Section::Trailer))?;
        let footer_ref = SectionRef {
            offset: trailer.footer_offset,
            len: u64::from(trailer.footer_len),
            crc: trailer.footer_crc,
        };
        let footer = footer_ref
            .slice(bytes.get(..data_end).unwrap_or_default())
            .filter(|_| trailer.footer_offset >= HEADER_LEN as u64)
            .ok_or(ChunkError::Truncated(Section::Footer))?;
        if !crc_ok(footer, trailer.footer_crc) {
            return Err(ChunkError::ChecksumMismatch(Section::Footer));
        }
        let body_end = trailer.footer_offset;
        let fail = at(Section::Footer);
        let mut c = Cursor::new(footer);
        let mut zone = ZoneMap::read_ranges(&mut c, MAX_ROWS).map_err(&fail)?;
        let ncols = c.len_varint(256).map_err(&fail)?;
        let mut dir: Vec<Option<DirEntry>> = vec![None; NUM_COLUMNS];
        let mut last_id: Option<u8> = None;
        let in_body = |s: &SectionRef| {
            s.offset >= HEADER_LEN as u64
                && s.offset.checked_add(s.len).is_some_and(|e| e <= body_end)
        };
        for _ in 0..ncols {
            let e = DirEntry::read(&mut c).map_err(&fail)?;
            if last_id.is_some_and(|l| l >= e.col_id) {
                return Err(ChunkError::corrupt(
                    Section::Footer,
                    "column ids not ascending",
                ));
            }
            last_id = Some(e.col_id);
            if !in_body(&e.block) {
                return Err(ChunkError::corrupt(
                    Section::Footer,
                    "column block outside the data area",
                ));
            }
            if e.null_count > zone.row_count {
                return Err(ChunkError::corrupt(
                    Section::Footer,
                    "null count above row count",
                ));
            }
            // Ids this version does not know belong to newer writers: ignored.
            if let Some(col) = Col::from_id(e.col_id)
                && let Some(slot) = dir.get_mut(col.index())
            {
                *slot = Some(e);
                zone.columns.push(ColumnStats {
                    col,
                    encoding: e.encoding,
                    null_count: e.null_count,
                });
            }
        }
        let batches = SectionRef::read(&mut c).map_err(&fail)?;
        if !in_body(&batches) {
            return Err(ChunkError::corrupt(
                Section::Footer,
                "batch section outside the data area",
            ));
        }
        c.finish().map_err(&fail)?;
        Ok(ChunkReader {
            bytes,
            zone,
            dir,
            batches,
        })
    }

    /// Number of rows.
    pub fn row_count(&self) -> u32 {
        self.zone.row_count
    }

    /// The zone map (ranges, per-column null counts and encodings).
    pub fn zone_map(&self) -> &ZoneMap {
        &self.zone
    }

    /// The encoding of a column, or `None` if the file does not have it (read as all null).
    pub fn encoding(&self, col: Col) -> Option<Encoding> {
        self.entry(col).map(|e| e.encoding)
    }

    /// Bytes of a column's block, or 0 if absent.
    pub fn column_size(&self, col: Col) -> u64 {
        self.entry(col).map_or(0, |e| e.block.len)
    }

    /// The client batches the rows came from: `(batch id, first seq, row count)`.
    pub fn batches(&self) -> Result<Vec<BatchRecord>, ChunkError> {
        let bytes = self
            .batches
            .slice(self.bytes)
            .ok_or(ChunkError::Truncated(Section::Batches))?;
        if !crc_ok(bytes, self.batches.crc) {
            return Err(ChunkError::ChecksumMismatch(Section::Batches));
        }
        read_batches(bytes).map_err(at(Section::Batches))
    }

    fn entry(&self, col: Col) -> Option<&DirEntry> {
        self.dir.get(col.index()).and_then(Option::as_ref)
    }

    pub(super) fn n_rows(&self) -> usize {
        self.zone.row_count as usize
    }

    /// The checksum-verified block of a column.
    pub(super) fn block(&self, col: Col) -> Result<Option<(DirEntry, &'a [u8])>, ChunkError> {
        let Some(e) = self.entry(col).copied() else {
            return Ok(None);
        };
        let bytes = e
            .block
            .slice(self.bytes)
            .ok_or(ChunkError::Truncated(Section::Column(col)))?;
        if !crc_ok(bytes, e.block.crc) {
            return Err(ChunkError::ChecksumMismatch(Section::Column(col)));
        }
        Ok(Some((e, bytes)))
    }

    /// Reads the presence part of `col`'s block; returns the nulls and the value count.
    pub(super) fn presence(
        &self,
        col: Col,
        e: &DirEntry,
        cur: &mut Cursor<'a>,
    ) -> Result<(Nulls, usize), ChunkError> {
        let fail = at(Section::Column(col));
        let kind = PresenceKind::from_u8(cur.u8().map_err(&fail)?)
            .filter(|k| *k == e.encoding.presence)
            .ok_or(ChunkError::corrupt(
                Section::Column(col),
                "presence kind differs from footer",
            ))?;
        let rows = self.n_rows();
        let nulls = match kind {
            PresenceKind::AllPresent => Nulls::None,
            PresenceKind::AllNull => Nulls::All,
            PresenceKind::Bitmap => Nulls::Some(read_bitmap(cur, rows).map_err(&fail)?),
            PresenceKind::SameAs => {
                let other = Col::from_id(cur.u8().map_err(&fail)?)
                    .filter(|o| *o < col)
                    .ok_or(ChunkError::corrupt(
                        Section::Column(col),
                        "bad shared-presence column",
                    ))?;
                let (oe, ob) = self
                    .block(other)?
                    .filter(|(oe, _)| oe.encoding.presence == PresenceKind::Bitmap)
                    .ok_or(ChunkError::corrupt(
                        Section::Column(col),
                        "shared presence is not a bitmap",
                    ))?;
                let mut oc = Cursor::new(ob);
                let (n, _) = self.presence(other, &oe, &mut oc)?;
                n
            }
        };
        let present = match &nulls {
            Nulls::None => rows,
            Nulls::All => 0,
            Nulls::Some(b) => b.count_ones(),
        };
        if rows - present != e.null_count as usize {
            return Err(ChunkError::corrupt(
                Section::Column(col),
                "null count differs from footer",
            ));
        }
        Ok((nulls, present))
    }

    pub(super) fn value_tag(
        &self,
        col: Col,
        e: &DirEntry,
        cur: &mut Cursor<'a>,
    ) -> Result<ValueEncoding, ChunkError> {
        ValueEncoding::from_u8(cur.u8().map_err(at(Section::Column(col)))?)
            .filter(|v| *v == e.encoding.values)
            .ok_or(ChunkError::corrupt(
                Section::Column(col),
                "value encoding differs from footer",
            ))
    }

    /// Decodes one column (verifying its block's CRC). A column missing from the file reads
    /// as all null.
    pub fn column(&self, col: Col) -> Result<Column, ChunkError> {
        let rows = self.n_rows();
        let Some((e, block)) = self.block(col)? else {
            return Ok(Column::all_null(col, rows));
        };
        let fail = at(Section::Column(col));
        let mut cur = Cursor::new(block);
        let (nulls, m) = self.presence(col, &e, &mut cur)?;
        let tag = self.value_tag(col, &e, &mut cur)?;
        let ty = col.def().ty;
        let is_str = matches!(ty, LogicalType::Str | LogicalType::Json);
        let values = if tag == ValueEncoding::None {
            if m != 0 {
                return Err(ChunkError::corrupt(
                    Section::Column(col),
                    "no values for present rows",
                ));
            }
            ColumnValues::Null
        } else if !is_str {
            let v = decode_ints_as(&mut cur, tag, m).map_err(&fail)?;
            if ty == LogicalType::Bool && v.iter().any(|x| !matches!(x, 0 | 1)) {
                return Err(ChunkError::corrupt(
                    Section::Column(col),
                    "boolean other than 0 or 1",
                ));
            }
            ColumnValues::Int(spread(&nulls, rows, v, 0))
        } else {
            match tag {
                ValueEncoding::StrConst => {
                    let s = read_const(&mut cur).map_err(&fail)?;
                    ColumnValues::Dict {
                        dict: vec![s],
                        ids: vec![0; rows],
                    }
                }
                ValueEncoding::StrDict => {
                    let (dict, packed) = read_str_dict(&mut cur, m).map_err(&fail)?;
                    let ids = checked_ids(&packed, dict.len()).map_err(&fail)?;
                    ColumnValues::Dict {
                        dict,
                        ids: spread(&nulls, rows, ids, 0),
                    }
                }
                ValueEncoding::StrPlain => {
                    let v = read_plain(&mut cur, m).map_err(&fail)?;
                    ColumnValues::Str(spread_strs(&nulls, rows, v))
                }
                ValueEncoding::StrFramed => {
                    let v = read_framed(&mut cur, m).map_err(&fail)?;
                    ColumnValues::Str(spread_strs(&nulls, rows, v))
                }
                _ => {
                    return Err(ChunkError::corrupt(
                        Section::Column(col),
                        "integer encoding in a string column",
                    ));
                }
            }
        };
        cur.finish().map_err(&fail)?;
        Ok(Column {
            col,
            rows,
            nulls,
            values,
        })
    }

    /// The sorted dictionary of a string column stored as a dictionary (or constant), without
    /// decoding its ids; `None` for other encodings.
    pub fn dictionary(&self, col: Col) -> Result<Option<Vec<String>>, ChunkError> {
        let Some((e, block)) = self.block(col)? else {
            return Ok(None);
        };
        let fail = at(Section::Column(col));
        let mut cur = Cursor::new(block);
        let (_, m) = self.presence(col, &e, &mut cur)?;
        let is_str = matches!(col.def().ty, LogicalType::Str | LogicalType::Json);
        match self.value_tag(col, &e, &mut cur)? {
            ValueEncoding::StrDict if is_str => {
                Ok(Some(read_str_dict(&mut cur, m).map_err(&fail)?.0))
            }
            ValueEncoding::StrConst if is_str => {
                Ok(Some(vec![read_const(&mut cur).map_err(&fail)?]))
            }
            _ => Ok(None),
        }
    }

    /// Rows whose `col` equals `value` ([`ValueRef::Null`] selects null rows). The value must
    /// have the column's type (`Bool` for `n_plus_one`, `Int` for numbers and timestamps,
    /// `Str` for strings); a value of another type matches nothing.
    ///
    /// On dictionary and constant columns the value is looked up once and only the packed
    /// ids are scanned (an absent value returns at once); other columns are decoded.
    pub fn filter_eq(&self, col: Col, value: ValueRef<'_>) -> Result<RowSet, ChunkError> {
        let rows = self.n_rows();
        let Some((e, block)) = self.block(col)? else {
            return Ok(if value.is_null() {
                RowSet::all(rows as u32)
            } else {
                RowSet::new()
            });
        };
        let fail = at(Section::Column(col));
        let mut cur = Cursor::new(block);
        let (nulls, m) = self.presence(col, &e, &mut cur)?;
        if value.is_null() {
            return Ok(RowSet::from_ascending(
                (0..rows as u32)
                    .filter(|&i| match &nulls {
                        Nulls::None => false,
                        Nulls::All => true,
                        Nulls::Some(b) => !b.get(i as usize),
                    })
                    .collect(),
            ));
        }
        let ty = col.def().ty;
        let is_str = matches!(ty, LogicalType::Str | LogicalType::Json);
        let tag = self.value_tag(col, &e, &mut cur)?;
        // The id to look for among the packed ids, and the ids themselves.
        let (target, packed) = match (tag, value) {
            (ValueEncoding::StrDict, ValueRef::Str(s)) if is_str => {
                let (dict, packed) = read_str_dict_view(&mut cur, m).map_err(&fail)?;
                (dict.find(s), packed)
            }
            (ValueEncoding::IntDict, ValueRef::Int(_) | ValueRef::Bool(_)) if !is_str => {
                let want = match (value, ty) {
                    (ValueRef::Int(x), t) if t != LogicalType::Bool => Some(x),
                    (ValueRef::Bool(b), LogicalType::Bool) => Some(i64::from(b)),
                    _ => None,
                };
                let (dict, packed) = read_int_dict_parts(&mut cur, m).map_err(&fail)?;
                (want.and_then(|w| dict.binary_search(&w).ok()), packed)
            }
            (ValueEncoding::StrFramed, ValueRef::Str(s)) if is_str => {
                // Frame by frame: the column is never assembled whole.
                let framed = Framed::read(&mut cur, m).map_err(&fail)?;
                let present = present_rows(&nulls, rows);
                let mut out = Vec::new();
                let mut k = 0usize;
                for f in 0..framed.frame_count() {
                    for v in framed.frame(f).map_err(&fail)?.iter() {
                        if v == s
                            && let Some(&row) = present.as_slice().get(k)
                        {
                            out.push(row);
                        }
                        k += 1;
                    }
                }
                return Ok(RowSet::from_ascending(out));
            }
            (ValueEncoding::StrConst, ValueRef::Str(s)) if is_str => {
                let c = read_const(&mut cur).map_err(&fail)?;
                return Ok(if c == s {
                    present_rows(&nulls, rows)
                } else {
                    RowSet::new()
                });
            }
            _ => {
                let column = self.column(col)?;
                return Ok(RowSet::from_ascending(
                    (0..rows)
                        .filter(|&i| column.get(i) == value)
                        .map(|i| i as u32)
                        .collect(),
                ));
            }
        };
        let Some(target) = target else {
            return Ok(RowSet::new());
        };
        let target = target as u64;
        let present = present_rows(&nulls, rows);
        let mut out = Vec::new();
        let mut k = 0usize;
        packed.for_each(|id| {
            if id == target
                && let Some(&row) = present.as_slice().get(k)
            {
                out.push(row);
            }
            k += 1;
        });
        Ok(RowSet::from_ascending(out))
    }

    /// Every column, decoded.
    fn all_columns(&self) -> Result<Vec<Column>, ChunkError> {
        Col::all().map(|c| self.column(c)).collect()
    }

    /// Row `i`, with every column, read point by point ([`ChunkReader::values_at`]): to
    /// read many rows use [`ChunkReader::rows`] or [`ChunkReader::column`].
    pub fn row(&self, i: u32) -> Result<Row, ChunkError> {
        let all: Vec<Col> = COLUMNS.iter().map(|d| d.col).collect();
        let mut rows = self.rows_at(&[i], &all)?;
        rows.pop().ok_or(ChunkError::RowOutOfRange {
            index: i,
            rows: self.row_count(),
        })
    }

    /// Rows `rows` (any order, duplicates allowed; returned in the same order) with only
    /// the columns `cols` decoded: every other field keeps its [`Row::default`] value. A few
    /// rows are read point by point ([`ChunkReader::values_at`]: a packed entry or one
    /// string frame per row); many rows decode each requested column once. Either way only
    /// the asked-for columns are touched.
    pub fn rows_at(&self, rows: &[u32], cols: &[Col]) -> Result<Vec<Row>, ChunkError> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.row_count()) {
            return Err(ChunkError::RowOutOfRange {
                index: bad,
                rows: self.row_count(),
            });
        }
        let mut out = vec![Row::default(); rows.len()];
        if rows.is_empty() {
            return Ok(out);
        }
        let point = rows.len() <= POINT_READ_MAX_ROWS;
        let mut seen = [false; NUM_COLUMNS];
        for &col in cols {
            let slot = seen.get_mut(col as usize);
            if slot.as_deref() == Some(&true) {
                continue;
            }
            if let Some(s) = slot {
                *s = true;
            }
            let misfit =
                |_| ChunkError::corrupt(Section::Column(col), "value does not fit the row");
            if point {
                for (row, v) in out.iter_mut().zip(self.values_at(col, rows)?) {
                    row.set(col, v).map_err(misfit)?;
                }
            } else {
                let column = self.column(col)?;
                for (row, &i) in out.iter_mut().zip(rows) {
                    row.set(col, column.get_owned(i as usize)).map_err(misfit)?;
                }
            }
        }
        Ok(out)
    }

    /// Every row, in file order (decodes every column once).
    pub fn rows(&self) -> Result<Vec<Row>, ChunkError> {
        let cols = self.all_columns()?;
        (0..self.n_rows()).map(|i| build_row(&cols, i)).collect()
    }
}

fn build_row(cols: &[Column], i: usize) -> Result<Row, ChunkError> {
    let mut row = Row::default();
    for (def, c) in COLUMNS.iter().zip(cols) {
        row.set(def.col, c.get_owned(i)).map_err(|_| {
            ChunkError::corrupt(Section::Column(def.col), "value does not fit the row")
        })?;
    }
    Ok(row)
}

/// The rows that have a value.
fn present_rows(nulls: &Nulls, rows: usize) -> RowSet {
    RowSet::from_ascending(match nulls {
        Nulls::None => (0..rows as u32).collect(),
        Nulls::All => Vec::new(),
        Nulls::Some(b) => b.iter_ones().map(|i| i as u32).collect(),
    })
}

/// Places the values of the present rows at their row positions, `fill` elsewhere.
fn spread<T: Copy>(nulls: &Nulls, rows: usize, values: Vec<T>, fill: T) -> Vec<T> {
    match nulls {
        Nulls::Some(b) => {
            let mut out = vec![fill; rows];
            for (row, v) in b.iter_ones().zip(values) {
                if let Some(slot) = out.get_mut(row) {
                    *slot = v;
                }
            }
            out
        }
        _ => values,
    }
}

fn spread_strs(nulls: &Nulls, rows: usize, values: StrValues) -> StrValues {
    match nulls {
        Nulls::Some(b) => {
            let mut out = StrValues::new();
            let mut k = 0;
            for i in 0..rows {
                if b.get(i) {
                    out.push(values.get(k));
                    k += 1;
                } else {
                    out.push("");
                }
            }
            out
        }
        _ => values,
    }
}
