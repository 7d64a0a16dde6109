//! The zone map: per-chunk statistics read on open so that queries can skip a chunk (time or
//! sequence range) or a column (all null) without decoding anything.

use super::encoding::varint::{put_ivarint, put_uvarint};
use super::encoding::{Corrupt, Cursor, Encoding};
use crate::ids::Seq;
use crate::schema::Col;

/// An inclusive range of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinMax<T> {
    /// Smallest value.
    pub min: T,
    /// Largest value.
    pub max: T,
}

impl<T: Ord + Copy> MinMax<T> {
    /// A range holding one value.
    pub fn of(v: T) -> MinMax<T> {
        MinMax { min: v, max: v }
    }

    /// Widens the range to include `v`.
    pub fn include(&mut self, v: T) {
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Whether `[lo, hi]` intersects this range.
    pub fn overlaps(&self, lo: T, hi: T) -> bool {
        lo <= self.max && self.min <= hi
    }
}

/// Per-column statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnStats {
    /// The column.
    pub col: Col,
    /// Its encoding in this chunk (from the footer directory).
    pub encoding: Encoding,
    /// Rows where the column is null.
    pub null_count: u32,
}

/// Chunk-level statistics. Ranges are `None` for a chunk of zero rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ZoneMap {
    /// Number of rows.
    pub row_count: u32,
    /// Range of `ts` (µs since the epoch).
    pub ts: Option<MinMax<i64>>,
    /// Range of `received_at` (µs since the epoch).
    pub received_at: Option<MinMax<i64>>,
    /// Range of `seq`.
    pub seq: Option<MinMax<Seq>>,
    /// Statistics of every column present in the file, in id order.
    pub columns: Vec<ColumnStats>,
}

impl ZoneMap {
    /// Statistics of one column, if the file has it.
    pub fn column(&self, col: Col) -> Option<&ColumnStats> {
        self.columns.iter().find(|c| c.col == col)
    }

    /// Appends the ranges part (`uvarint rows`, then for rows > 0: `ivarint` ts min/max,
    /// `ivarint` received_at min/max, `uvarint` seq min/max). Column statistics are written
    /// in the directory.
    pub fn put_ranges(&self, out: &mut Vec<u8>) {
        put_uvarint(out, u64::from(self.row_count));
        if let (Some(ts), Some(ra), Some(seq)) = (self.ts, self.received_at, self.seq) {
            put_ivarint(out, ts.min);
            put_ivarint(out, ts.max);
            put_ivarint(out, ra.min);
            put_ivarint(out, ra.max);
            put_uvarint(out, seq.min.0);
            put_uvarint(out, seq.max.0);
        }
    }

    /// Reads what [`ZoneMap::put_ranges`] wrote (with empty `columns`).
    pub fn read_ranges(c: &mut Cursor<'_>, max_rows: usize) -> Result<ZoneMap, Corrupt> {
        let rows = c.len_varint(max_rows)?;
        let row_count = u32::try_from(rows).map_err(|_| Corrupt("row count out of range"))?;
        if row_count == 0 {
            return Ok(ZoneMap::default());
        }
        let range_i = |c: &mut Cursor<'_>| -> Result<MinMax<i64>, Corrupt> {
            let (min, max) = (c.ivarint()?, c.ivarint()?);
            if min > max {
                return Err(Corrupt("zone map minimum above maximum"));
            }
            Ok(MinMax { min, max })
        };
        let ts = range_i(c)?;
        let received_at = range_i(c)?;
        let (smin, smax) = (c.uvarint()?, c.uvarint()?);
        if smin > smax {
            return Err(Corrupt("zone map minimum above maximum"));
        }
        Ok(ZoneMap {
            row_count,
            ts: Some(ts),
            received_at: Some(received_at),
            seq: Some(MinMax {
                min: Seq(smin),
                max: Seq(smax),
            }),
            columns: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let z = ZoneMap {
            row_count: 3,
            ts: Some(MinMax {
                min: i64::MIN,
                max: i64::MAX,
            }),
            received_at: Some(MinMax::of(5)),
            seq: Some(MinMax {
                min: Seq(1),
                max: Seq(u64::MAX),
            }),
            columns: Vec::new(),
        };
        let mut out = Vec::new();
        z.put_ranges(&mut out);
        let mut c = Cursor::new(&out);
        assert_eq!(ZoneMap::read_ranges(&mut c, 10).unwrap(), z);
        assert!(c.is_empty());
        assert!(ZoneMap::read_ranges(&mut Cursor::new(&out), 2).is_err());
        let mut out = Vec::new();
        ZoneMap::default().put_ranges(&mut out);
        assert_eq!(out, vec![0]);
    }

    #[test]
    fn overlap() {
        let r = MinMax { min: 10, max: 20 };
        assert!(r.overlaps(20, 30));
        assert!(!r.overlaps(21, 30));
        assert!(r.overlaps(0, 10));
        assert!(!r.overlaps(0, 9));
    }
}
