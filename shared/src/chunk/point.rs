//! Point reads: the values of a few rows of one column, decoding only what those rows need.
//!
//! A search shows a handful of rows out of a 65 536-row chunk. Decoding whole columns for
//! them costs milliseconds per column (the message column alone is megabytes of zstd);
//! here a dictionary or frame-of-reference column costs one bit-packed lookup per row, and a
//! framed string column (`StrFramed`) one frame per distinct frame touched.

use std::collections::HashMap;

use super::column::Nulls;
use super::encoding::delta::decode_ints_as;
use super::encoding::dict::{read_int_dict_parts, read_str_dict_view};
use super::encoding::framed::Framed;
use super::encoding::strings::{StrValues, read_const, read_plain};
use super::encoding::{Corrupt, Cursor, ValueEncoding};
use super::error::{ChunkError, Section};
use super::reader::ChunkReader;
use crate::row::Value;
use crate::schema::{Col, LogicalType};

/// Above this many rows, [`ChunkReader::rows_at`] decodes whole columns instead: the
/// per-row lookups (a presence rank each) stop paying for themselves.
pub(super) const POINT_READ_MAX_ROWS: usize = 512;

impl ChunkReader<'_> {
    /// The values of `col` at `rows` (any order, duplicates allowed; returned in the same
    /// order), [`Value::Null`] for null rows. Dictionary, constant and frame-of-reference
    /// columns are read one packed entry per row, framed strings one frame per frame
    /// touched; the other encodings (delta, varint, unframed strings) are decoded whole.
    /// The block's CRC is checked as for [`ChunkReader::column`].
    pub fn values_at(&self, col: Col, rows: &[u32]) -> Result<Vec<Value>, ChunkError> {
        let n = self.n_rows();
        if let Some(&bad) = rows.iter().find(|&&r| r as usize >= n) {
            return Err(ChunkError::RowOutOfRange {
                index: bad,
                rows: n as u32,
            });
        }
        let Some((e, block)) = self.block(col)? else {
            return Ok(vec![Value::Null; rows.len()]);
        };
        let fail = |c: Corrupt| ChunkError::corrupt(Section::Column(col), c.0);
        let mut cur = Cursor::new(block);
        let (nulls, m) = self.presence(col, &e, &mut cur)?;
        // Each row's position among the present values; `None` for a null row.
        let ks: Vec<Option<usize>> = rows
            .iter()
            .map(|&r| {
                let r = r as usize;
                match &nulls {
                    Nulls::None => Some(r),
                    Nulls::All => None,
                    Nulls::Some(b) => b.get(r).then(|| b.rank(r)),
                }
            })
            .collect();
        let tag = self.value_tag(col, &e, &mut cur)?;
        let ty = col.def().ty;
        let is_str = matches!(ty, LogicalType::Str | LogicalType::Json);
        if tag == ValueEncoding::None {
            if m != 0 {
                return Err(fail(Corrupt("no values for present rows")));
            }
            return Ok(vec![Value::Null; rows.len()]);
        }
        let mut get: StrGetter<'_> = if is_str {
            str_getter(&mut cur, tag, m).map_err(fail)?
        } else {
            let ints = int_getter(&mut cur, tag, m).map_err(fail)?;
            let is_bool = ty == LogicalType::Bool;
            Box::new(move |k| {
                let v = ints(k)?;
                match (is_bool, v) {
                    (false, v) => Ok(Value::Int(v)),
                    (true, 0 | 1) => Ok(Value::Bool(v == 1)),
                    (true, _) => Err(Corrupt("boolean other than 0 or 1")),
                }
            })
        };
        ks.into_iter()
            .map(|k| match k {
                None => Ok(Value::Null),
                Some(k) if k < m => get(k).map_err(fail),
                Some(_) => Err(fail(Corrupt("presence rank beyond the values"))),
            })
            .collect()
    }
}

/// Value `k` (an index among the present values) of an integer column.
type IntGetter<'b> = Box<dyn Fn(usize) -> Result<i64, Corrupt> + 'b>;

/// Value `k` of a string column (mutable: framed columns keep the frames they decoded).
type StrGetter<'b> = Box<dyn FnMut(usize) -> Result<Value, Corrupt> + 'b>;

/// Value `k` of an integer value part, reading as little as the encoding allows.
fn int_getter<'b>(
    cur: &mut Cursor<'b>,
    tag: ValueEncoding,
    m: usize,
) -> Result<IntGetter<'b>, Corrupt> {
    Ok(match tag {
        ValueEncoding::IntConst => {
            let v = cur.ivarint()?;
            Box::new(move |_| Ok(v))
        }
        ValueEncoding::IntFor => {
            let min = cur.ivarint()?;
            let p = super::encoding::bitpack::Packed::read(cur, m)?;
            Box::new(move |k| Ok(min.wrapping_add(p.get(k) as i64)))
        }
        ValueEncoding::IntDict => {
            let (dict, p) = read_int_dict_parts(cur, m)?;
            Box::new(move |k| {
                usize::try_from(p.get(k))
                    .ok()
                    .and_then(|id| dict.get(id).copied())
                    .ok_or(Corrupt("dictionary id out of range"))
            })
        }
        ValueEncoding::StrConst
        | ValueEncoding::StrDict
        | ValueEncoding::StrPlain
        | ValueEncoding::StrFramed => {
            return Err(Corrupt("string encoding in an integer column"));
        }
        _ => {
            let all = decode_ints_as(cur, tag, m)?;
            Box::new(move |k| {
                all.get(k)
                    .copied()
                    .ok_or(Corrupt("value index out of range"))
            })
        }
    })
}

/// Value `k` of a string value part, reading as little as the encoding allows.
fn str_getter<'b>(
    cur: &mut Cursor<'b>,
    tag: ValueEncoding,
    m: usize,
) -> Result<StrGetter<'b>, Corrupt> {
    Ok(match tag {
        ValueEncoding::StrConst => {
            let s = read_const(cur)?;
            Box::new(move |_| Ok(Value::Str(s.clone())))
        }
        ValueEncoding::StrDict => {
            let (dict, p) = read_str_dict_view(cur, m)?;
            Box::new(move |k| {
                let id =
                    usize::try_from(p.get(k)).map_err(|_| Corrupt("dictionary id out of range"))?;
                Ok(Value::Str(dict.get(id)?.to_owned()))
            })
        }
        ValueEncoding::StrPlain => {
            let all = read_plain(cur, m)?;
            Box::new(move |k| Ok(Value::Str(all.get(k).to_owned())))
        }
        ValueEncoding::StrFramed => {
            let framed = Framed::read(cur, m)?;
            let mut frames: HashMap<usize, StrValues> = HashMap::new();
            Box::new(move |k| {
                let (f, pos) = framed.locate(k);
                let values = match frames.entry(f) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => v.insert(framed.frame(f)?),
                };
                Ok(Value::Str(values.get(pos).to_owned()))
            })
        }
        _ => {
            return Err(Corrupt("integer encoding in a string column"));
        }
    })
}
