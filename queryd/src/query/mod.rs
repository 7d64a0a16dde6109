//! The query engine: filters, top-N search with cursors, point lookups, neighbours,
//! grouped aggregates and distinct values over a catalog [`Snapshot`].
//!
//! # Plan
//!
//! 1. **Compile** the [`Filter`] into predicates ([`filter`]), cheapest first: equality on
//!    dictionary columns (env restriction, level, service, kind, ...), equality on other
//!    columns, then ranges (`ts`, `seq`, status, durations), prefixes and the error test.
//! 2. **Prune** ([`plan`]): sealed hours by `meta.json` (`ts`/`seq` ranges and the
//!    dictionaries of service, env, level, event type, version); chunks by their zone map
//!    (`ts`, `seq`); WAL views by their ranges.
//! 3. **Scan** each remaining unit ([`scan`]), in parallel (rayon): on a chunk, equality
//!    predicates via `filter_eq` (dictionary ids; an absent value ends the chunk at once),
//!    then the full-text candidates from the `.idx` (verified on the decoded text columns
//!    when the postings are not exact), then the remaining predicates on just their decoded
//!    columns over the surviving rows. WAL rows are filtered row by row with the same
//!    predicates ([`Filter::matches`] is the reference semantics).
//! 4. **Combine**: [`search`] keeps a bounded top-N per unit by `(ts, seq)`, merges, and
//!    materialises only the final rows; [`aggregate`] merges per-unit partial aggregates
//!    and may answer whole sealed hours from `meta.json` counts. Counts grouped by
//!    dictionary columns, small integer ranges and time buckets are counted per chunk in a
//!    flat array by dictionary id ([`dense`]), without touching strings.
//!
//! A unit that fails to decode mid-query is skipped and reported in
//! [`ScanStats::errors`]; it never fails the query.

pub mod aggregate;
pub mod cursor;
pub(crate) mod dense;
pub mod filter;
pub mod percentile;
pub(crate) mod plan;
pub(crate) mod scan;
pub mod search;

pub use aggregate::{
    AggMode, AggResult, AggSpec, Group, GroupKey, Metric, MetricValue, aggregate, distinct_values,
    key_cmp,
};
pub use cursor::Cursor;
pub use filter::{EnvRestriction, Filter, IntRange};
pub use percentile::ValueCounts;
pub use search::{
    Context, Order, SearchOpts, SearchResult, around, get_by_seq, newest, search, search_columns,
};

/// Errors of the query API (bad input; scan problems are reported in [`ScanStats`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A cursor string that [`Cursor::encode`] did not produce.
    #[error("invalid cursor {0:?}: pass back the next_cursor of a previous page unchanged")]
    BadCursor(String),
    /// A full-text query that does not parse.
    #[error(transparent)]
    Text(#[from] opentrace_shared::fts::QueryError),
}

/// What a query did, for diagnostics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Chunks in the snapshot.
    pub chunks_total: usize,
    /// Chunks ruled out without decoding (meta.json, zone map, top-N bound).
    pub chunks_skipped: usize,
    /// WAL views in the snapshot.
    pub wals_total: usize,
    /// Sealed hours ruled out by `meta.json`.
    pub hours_skipped: usize,
    /// Sealed hours answered from `meta.json` counts.
    pub hours_from_meta: usize,
    /// Chunks and WAL views scanned.
    pub units_scanned: usize,
    /// Rows in the scanned units.
    pub rows_scanned: u64,
    /// Rows that matched in the scanned units.
    pub rows_matched: u64,
    /// Units skipped because they failed to decode, with the reason.
    pub errors: Vec<String>,
}
