//! The 47 stored columns, their logical types and what the store does with each.
//!
//! 44 columns come from the SDK wire format (see `docs/FORMAT.md` §Schema), three are
//! assigned by ingestd: `seq` (the row's global sequence number), `received_at` and
//! `error_fingerprint`. The numeric value of [`Col`] is the column's id in every file format,
//! so the order here is part of the on-disk contract: append new columns, never reorder.

/// Logical type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogicalType {
    /// Unsigned 64-bit integer (only `seq`).
    U64,
    /// Microseconds since the Unix epoch, UTC.
    TimestampMicros,
    /// Signed 64-bit integer.
    Int,
    /// Boolean.
    Bool,
    /// UTF-8 string.
    Str,
    /// A JSON document, stored as its compact UTF-8 text.
    Json,
}

/// How values of a string column are distributed; the chunk writer uses it as a first guess
/// and then measures the data (a "low-cardinality" column with many distinct values is still
/// written without a dictionary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cardinality {
    /// Few distinct values per chunk (level, service, env, method...): dictionary encoded.
    Low,
    /// Free text and measurements: mostly distinct values.
    High,
    /// Identifiers (trace, span, request, user, session and job ids): mostly distinct,
    /// random-looking tokens whose only redundancy is the repetition of whole values.
    Id,
}

/// Static description of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    /// The column as an enum value (its id).
    pub col: Col,
    /// Column name, identical to the SDK wire key where there is one.
    pub name: &'static str,
    /// Logical type.
    pub ty: LogicalType,
    /// Whether the value may be absent. Non-nullable columns always hold a value.
    pub nullable: bool,
    /// Expected cardinality (strings only; `High` for other types).
    pub cardinality: Cardinality,
    /// Whether the column's text feeds the full-text index.
    pub full_text: bool,
}

macro_rules! columns {
    ($( $variant:ident = $id:literal, $name:literal, $ty:ident, $nullable:literal, $card:ident, $fts:literal; )*) => {
        /// A column id. The discriminant is the on-disk column id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum Col {
            $(
                #[doc = concat!("The `", $name, "` column.")]
                $variant = $id,
            )*
        }

        /// Every column, in id order.
        pub const COLUMNS: &[ColumnDef] = &[
            $( ColumnDef {
                col: Col::$variant,
                name: $name,
                ty: LogicalType::$ty,
                nullable: $nullable,
                cardinality: Cardinality::$card,
                full_text: $fts,
            }, )*
        ];
    };
}

columns! {
    Seq = 0, "seq", U64, false, High, false;
    Ts = 1, "ts", TimestampMicros, false, High, false;
    ReceivedAt = 2, "received_at", TimestampMicros, false, High, false;
    Level = 3, "level", Str, false, Low, false;
    Service = 4, "service", Str, false, Low, false;
    Message = 5, "message", Str, false, High, true;
    Env = 6, "env", Str, false, Low, false;
    Version = 7, "version", Str, true, Low, false;
    Host = 8, "host", Str, true, Low, false;
    Kind = 9, "kind", Str, false, Low, false;
    EventType = 10, "event_type", Str, true, Low, false;
    TraceId = 11, "trace_id", Str, true, Id, false;
    SpanId = 12, "span_id", Str, true, Id, false;
    ParentSpanId = 13, "parent_span_id", Str, true, Id, false;
    RequestId = 14, "request_id", Str, true, Id, false;
    UserId = 15, "user_id", Str, true, Id, false;
    TenantId = 16, "tenant_id", Str, true, Low, false;
    SessionId = 17, "session_id", Str, true, Id, false;
    Method = 18, "method", Str, true, Low, false;
    Path = 19, "path", Str, true, High, true;
    Route = 20, "route", Str, true, Low, false;
    Handler = 21, "handler", Str, true, Low, true;
    Status = 22, "status", Int, true, High, false;
    DurationMs = 23, "duration_ms", Int, true, High, false;
    DbMs = 24, "db_ms", Int, true, High, false;
    DbCount = 25, "db_count", Int, true, High, false;
    CacheMs = 26, "cache_ms", Int, true, High, false;
    CacheHits = 27, "cache_hits", Int, true, High, false;
    CacheMisses = 28, "cache_misses", Int, true, High, false;
    ExtMs = 29, "ext_ms", Int, true, High, false;
    ExtCount = 30, "ext_count", Int, true, High, false;
    RenderMs = 31, "render_ms", Int, true, High, false;
    AllocCount = 32, "alloc_count", Int, true, High, false;
    MemDeltaMb = 33, "mem_delta_mb", Int, true, High, false;
    NPlusOne = 34, "n_plus_one", Bool, true, High, false;
    SlowQueries = 35, "slow_queries", Int, true, High, false;
    DupQueries = 36, "dup_queries", Int, true, High, false;
    ErrorClass = 37, "error_class", Str, true, Low, true;
    ErrorMessage = 38, "error_message", Str, true, High, true;
    SourceFile = 39, "source_file", Str, true, Low, true;
    SourceLine = 40, "source_line", Int, true, High, false;
    ErrorFingerprint = 41, "error_fingerprint", Str, true, Low, false;
    JobClass = 42, "job_class", Str, true, Low, false;
    JobQueue = 43, "job_queue", Str, true, Low, false;
    JobId = 44, "job_id", Str, true, Id, false;
    QueueMs = 45, "queue_ms", Int, true, High, false;
    Body = 46, "body", Json, true, High, true;
}

/// Number of columns in the schema.
pub const NUM_COLUMNS: usize = 47;

impl Col {
    /// The column with the given on-disk id, if any.
    pub fn from_id(id: u8) -> Option<Col> {
        COLUMNS.get(usize::from(id)).map(|d| d.col)
    }

    /// The column with the given name, if any.
    pub fn from_name(name: &str) -> Option<Col> {
        COLUMNS.iter().find(|d| d.name == name).map(|d| d.col)
    }

    /// The on-disk id.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// Position in [`COLUMNS`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The column's static description.
    pub fn def(self) -> &'static ColumnDef {
        &COLUMNS[self.index()]
    }

    /// The column's name.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Iterates over every column in id order.
    pub fn all() -> impl Iterator<Item = Col> {
        COLUMNS.iter().map(|d| d.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_ordered() {
        assert_eq!(COLUMNS.len(), NUM_COLUMNS);
        for (i, d) in COLUMNS.iter().enumerate() {
            assert_eq!(d.col.index(), i);
            assert_eq!(Col::from_id(d.col.id()), Some(d.col));
            assert_eq!(Col::from_name(d.name), Some(d.col));
        }
        assert_eq!(Col::from_id(47), None);
    }
}
