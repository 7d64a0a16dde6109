//! [`Column`]: one decoded column of a chunk, with typed, O(1) access by row.

use super::encoding::sparse::Bitmap;
use super::encoding::strings::StrValues;
use crate::row::{Value, ValueRef};
use crate::schema::{Col, LogicalType};

/// Which rows of a column are null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nulls {
    /// No row is null.
    None,
    /// Every row is null.
    All,
    /// Bit `i` set means row `i` has a value.
    Some(Bitmap),
}

/// The values of a decoded column, one slot per row (null rows hold 0, `""` or id 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnValues {
    /// No values (all-null column).
    Null,
    /// Integers (also timestamps, `seq`, and booleans as 0/1).
    Int(Vec<i64>),
    /// Strings stored one per row.
    Str(StrValues),
    /// Strings as ids into a sorted dictionary.
    Dict {
        /// Distinct values, ascending.
        dict: Vec<String>,
        /// Per row, an index into `dict`.
        ids: Vec<u32>,
    },
}

/// One decoded column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub(crate) col: Col,
    pub(crate) rows: usize,
    pub(crate) nulls: Nulls,
    pub(crate) values: ColumnValues,
}

impl Column {
    /// A column of `rows` nulls.
    pub(crate) fn all_null(col: Col, rows: usize) -> Column {
        Column {
            col,
            rows,
            nulls: Nulls::All,
            values: ColumnValues::Null,
        }
    }

    /// Which column this is.
    pub fn col(&self) -> Col {
        self.col
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Which rows are null.
    pub fn nulls(&self) -> &Nulls {
        &self.nulls
    }

    /// The values, one slot per row.
    pub fn values(&self) -> &ColumnValues {
        &self.values
    }

    /// Whether row `i` is null (true past the end).
    pub fn is_null(&self, i: usize) -> bool {
        if i >= self.rows {
            return true;
        }
        match &self.nulls {
            Nulls::None => false,
            Nulls::All => true,
            Nulls::Some(b) => !b.get(i),
        }
    }

    /// Number of null rows.
    pub fn null_count(&self) -> usize {
        match &self.nulls {
            Nulls::None => 0,
            Nulls::All => self.rows,
            Nulls::Some(b) => self.rows - b.count_ones(),
        }
    }

    /// The value of row `i` ([`ValueRef::Null`] past the end).
    pub fn get(&self, i: usize) -> ValueRef<'_> {
        if self.is_null(i) {
            return ValueRef::Null;
        }
        match &self.values {
            ColumnValues::Null => ValueRef::Null,
            ColumnValues::Int(v) => match v.get(i) {
                Some(&x) if self.col.def().ty == LogicalType::Bool => ValueRef::Bool(x != 0),
                Some(&x) => ValueRef::Int(x),
                None => ValueRef::Null,
            },
            ColumnValues::Str(s) => ValueRef::Str(s.get(i)),
            ColumnValues::Dict { dict, ids } => ids
                .get(i)
                .and_then(|&id| dict.get(id as usize))
                .map_or(ValueRef::Null, |s| ValueRef::Str(s)),
        }
    }

    /// The owned value of row `i`.
    pub fn get_owned(&self, i: usize) -> Value {
        match self.get(i) {
            ValueRef::Null => Value::Null,
            ValueRef::Int(x) => Value::Int(x),
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Str(s) => Value::Str(s.to_owned()),
        }
    }

    /// Every row as an optional integer (booleans as 0/1; `None` for nulls and strings).
    pub fn ints(&self) -> impl Iterator<Item = Option<i64>> + '_ {
        (0..self.rows).map(|i| match self.get(i) {
            ValueRef::Int(x) => Some(x),
            ValueRef::Bool(b) => Some(i64::from(b)),
            _ => None,
        })
    }

    /// Every row as an optional string (`None` for nulls and non-strings).
    pub fn strs(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        (0..self.rows).map(|i| self.get(i).as_str())
    }

    /// The sorted dictionary, if the column is dictionary encoded.
    pub fn dictionary(&self) -> Option<&[String]> {
        match &self.values {
            ColumnValues::Dict { dict, .. } => Some(dict),
            _ => None,
        }
    }

    /// Row `i`'s dictionary id, if the column is dictionary encoded and the row not null.
    pub fn dict_id(&self, i: usize) -> Option<u32> {
        match &self.values {
            ColumnValues::Dict { ids, .. } if !self.is_null(i) => ids.get(i).copied(),
            _ => None,
        }
    }
}
