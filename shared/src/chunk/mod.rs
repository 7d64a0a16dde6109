//! Columnar chunk files (`chunk_NNN.col`): per-column encodings, writer, lazy reader, zone
//! map. Byte-level format: `docs/format/col.md`.
//!
//! A chunk is immutable. [`ChunkBuilder`] takes rows (and the client batches they came from)
//! and produces the file's bytes; [`ChunkReader`] opens a byte slice (an mmap in queryd),
//! reading only the trailer, footer and zone map, and decodes single columns on demand.
//!
//! ```
//! use opentrace_shared::chunk::{ChunkBuilder, ChunkReader};
//! use opentrace_shared::{Col, Row, Seq, ValueRef};
//!
//! let mut b = ChunkBuilder::new();
//! b.push(&Row { seq: Seq(1), service: "api".into(), ..Row::default() });
//! let bytes = b.finish().unwrap();
//! let r = ChunkReader::open(&bytes).unwrap();
//! assert_eq!(r.row_count(), 1);
//! assert_eq!(r.column(Col::Service).unwrap().get(0), ValueRef::Str("api"));
//! assert_eq!(r.filter_eq(Col::Service, ValueRef::Str("api")).unwrap().as_slice(), &[0]);
//! ```

pub mod batches;
pub mod column;
pub mod encoding;
pub mod error;
pub mod format;
mod interned;
pub mod point;
pub mod reader;
pub mod rowset;
pub mod writer;
pub mod zonemap;

pub use batches::BatchRecord;
pub use column::{Column, ColumnValues, Nulls};
pub use encoding::{Encoding, PresenceKind, ValueEncoding};
pub use error::{ChunkError, Section};
pub use reader::ChunkReader;
pub use rowset::RowSet;
pub use writer::{ChunkBuilder, ChunkOptions};
pub use zonemap::{ColumnStats, MinMax, ZoneMap};
