//! The storage contract shared by `opentrace-ingestd` and `opentrace-queryd`.
//!
//! This crate holds everything both daemons must agree on, and nothing else: the column
//! schema and row type, the write-ahead log codec, the columnar chunk (`.col`) and full-text
//! index (`.idx`) formats, and the data-directory layout with its atomic publish protocol.
//! The byte-level formats are specified in `docs/FORMAT.md`.

#![warn(missing_docs)]

pub mod backtrace;
pub mod chunk;
pub mod datadir;
pub mod fts;
pub mod ids;
pub mod meta;
pub mod row;
pub mod row_ref;
pub mod schema;
pub mod settings;
mod strtable;
#[cfg(feature = "testdata")]
#[doc(hidden)]
pub mod testdata;
pub mod time;
pub mod wal;

pub use ids::{BatchId, ChunkId, HourId, Seq};
pub use row::{Level, Row, Value, ValueRef};
pub use row_ref::{RowRef, RowValues};
pub use schema::{COLUMNS, Col, ColumnDef, LogicalType};
