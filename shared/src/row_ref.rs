//! Rows whose values borrow their bytes from elsewhere (a WAL record's payload), and the
//! column access the chunk and index builders need from any row.
//!
//! Building a chunk from a WAL used to decode every record into owned [`Row`]s: a dozen
//! `String` allocations per row, freed again once the builders had copied the bytes. A
//! [`RowRef`] points into the record instead, so the builder's decoding allocates nothing.

use crate::ids::Seq;
use crate::row::{Row, TypeMismatch, Value, ValueRef};
use crate::schema::{COLUMNS, Col, NUM_COLUMNS};

/// Read access to one row's values by column: all the chunk and index builders ask of a
/// row, so they take owned [`Row`]s and borrowed [`RowRef`]s alike.
pub trait RowValues {
    /// The value of `col` (`ValueRef::Null` when absent).
    fn value(&self, col: Col) -> ValueRef<'_>;

    /// The row's sequence number (0 if the `seq` column is not an integer).
    fn seq(&self) -> Seq {
        Seq(self.value(Col::Seq).as_int().unwrap_or(0) as u64)
    }
}

impl RowValues for Row {
    #[inline]
    fn value(&self, col: Col) -> ValueRef<'_> {
        self.get(col)
    }

    #[inline]
    fn seq(&self) -> Seq {
        self.seq
    }
}

/// One row as borrowed values, one slot per column of [`COLUMNS`], indexed by
/// [`Col::index`]. Filled by the WAL decoder; [`RowRef::to_row`] makes an owned [`Row`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowRef<'a> {
    values: [ValueRef<'a>; NUM_COLUMNS],
}

impl Default for RowRef<'_> {
    fn default() -> Self {
        RowRef {
            values: [ValueRef::Null; NUM_COLUMNS],
        }
    }
}

impl<'a> RowRef<'a> {
    /// A row with every column absent.
    pub fn new() -> RowRef<'a> {
        RowRef::default()
    }

    /// Sets the value of `col`. Types are not checked here: [`RowRef::to_row`] checks them.
    #[inline]
    pub fn set(&mut self, col: Col, value: ValueRef<'a>) {
        self.values[col.index()] = value;
    }

    /// The value of `col`, with the lifetime of the borrowed bytes.
    #[inline]
    pub fn get(&self, col: Col) -> ValueRef<'a> {
        self.values[col.index()]
    }

    /// The owned row with the same values; fails if a value's type does not fit its column.
    pub fn to_row(&self) -> Result<Row, TypeMismatch> {
        let mut row = Row::default();
        for def in COLUMNS {
            if let (Col::Level, ValueRef::Str(s)) = (def.col, self.get(def.col)) {
                row.level = s.parse().map_err(|_| TypeMismatch {
                    column: def.name,
                    got: "an unknown level",
                })?;
                continue;
            }
            let v = match self.get(def.col) {
                ValueRef::Null => Value::Null,
                ValueRef::Int(x) => Value::Int(x),
                ValueRef::Bool(b) => Value::Bool(b),
                ValueRef::Str(s) => Value::Str(s.to_owned()),
            };
            row.set(def.col, v)?;
        }
        Ok(row)
    }
}

impl RowValues for RowRef<'_> {
    #[inline]
    fn value(&self, col: Col) -> ValueRef<'_> {
        self.get(col)
    }
}

impl<'a> From<&'a Row> for RowRef<'a> {
    fn from(row: &'a Row) -> RowRef<'a> {
        let mut r = RowRef::new();
        for def in COLUMNS {
            r.set(def.col, row.get(def.col));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::Level;

    #[test]
    fn to_row_gives_back_the_row_it_was_made_from() {
        let row = Row {
            seq: Seq(42),
            ts: 1_700_000_000_000_000,
            received_at: 1_700_000_000_000_500,
            level: Level::Error,
            service: "api".into(),
            message: "boom".into(),
            env: "prod".into(),
            kind: "log".into(),
            status: Some(500),
            n_plus_one: Some(true),
            trace_id: Some("abc".into()),
            body: Some("{\"a\":1}".into()),
            ..Row::default()
        };
        let r = RowRef::from(&row);
        assert_eq!(r.to_row().unwrap(), row);
        assert_eq!(RowValues::seq(&r), Seq(42));
        for def in COLUMNS {
            assert_eq!(r.value(def.col), row.value(def.col), "{}", def.name);
        }
    }

    #[test]
    fn to_row_rejects_a_value_of_the_wrong_type() {
        let row = Row::default();
        let mut r = RowRef::from(&row);
        r.set(Col::Status, ValueRef::Str("two hundred"));
        assert!(r.to_row().is_err());
    }
}
