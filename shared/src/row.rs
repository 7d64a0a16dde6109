//! The in-memory form of one stored row, with typed access by [`Col`].

use std::fmt;
use std::str::FromStr;

use crate::ids::Seq;
use crate::schema::Col;

/// Severity of a row. Stored as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    /// `trace`
    Trace,
    /// `debug`
    Debug,
    /// `info`
    #[default]
    Info,
    /// `warn` (the wire's `warning` is accepted as `warn`)
    Warn,
    /// `error`
    Error,
    /// `fatal`
    Fatal,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The lowercase stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// Whether rows of this level count as errors (fingerprinted, grouped).
    pub fn is_error(self) -> bool {
        matches!(self, Level::Error | Level::Fatal)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned for a level name that is not one of the accepted ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid level {0:?}: expected one of trace, debug, info, warn (or warning), error, fatal")]
pub struct InvalidLevel(pub String);

impl FromStr for Level {
    type Err = InvalidLevel;

    /// Case-insensitive; `warning` means `warn`.
    fn from_str(s: &str) -> Result<Level, InvalidLevel> {
        let l = s.trim().to_ascii_lowercase();
        Ok(match l.as_str() {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" => Level::Error,
            "fatal" | "critical" => Level::Fatal,
            _ => return Err(InvalidLevel(s.to_string())),
        })
    }
}

/// A borrowed column value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// Absent.
    Null,
    /// An integer (also `seq`, timestamps in µs, `status`...).
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string, or JSON text for `body`.
    Str(&'a str),
}

impl<'a> ValueRef<'a> {
    /// The string, if this is a string value.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer value.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            ValueRef::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Whether the value is absent.
    pub fn is_null(&self) -> bool {
        matches!(self, ValueRef::Null)
    }
}

/// An owned column value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Value {
    /// Absent.
    #[default]
    Null,
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string, or JSON text for `body`.
    Str(String),
}

impl Value {
    /// Borrows the value.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Int(*i),
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Str(s) => ValueRef::Str(s),
        }
    }
}

/// Error for a value whose type does not match its column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column} cannot hold {got}")]
pub struct TypeMismatch {
    /// The column name.
    pub column: &'static str,
    /// What was offered.
    pub got: &'static str,
}

/// One stored row: the 47 columns of [`crate::schema::COLUMNS`].
///
/// Timestamps are microseconds since the Unix epoch (UTC). `body` is compact JSON text.
/// Non-nullable string columns hold `""` rather than being absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct Row {
    pub seq: Seq,
    pub ts: i64,
    pub received_at: i64,
    pub level: Level,
    pub service: String,
    pub message: String,
    pub env: String,
    pub version: Option<String>,
    pub host: Option<String>,
    pub kind: String,
    pub event_type: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub request_id: Option<String>,
    pub user_id: Option<String>,
    pub tenant_id: Option<String>,
    pub session_id: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub route: Option<String>,
    pub handler: Option<String>,
    pub status: Option<i64>,
    pub duration_ms: Option<i64>,
    pub db_ms: Option<i64>,
    pub db_count: Option<i64>,
    pub cache_ms: Option<i64>,
    pub cache_hits: Option<i64>,
    pub cache_misses: Option<i64>,
    pub ext_ms: Option<i64>,
    pub ext_count: Option<i64>,
    pub render_ms: Option<i64>,
    pub alloc_count: Option<i64>,
    /// Memory delta in hundredths of a megabyte (the wire's float ×100, rounded).
    pub mem_delta_mb: Option<i64>,
    pub n_plus_one: Option<bool>,
    pub slow_queries: Option<i64>,
    pub dup_queries: Option<i64>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub source_file: Option<String>,
    pub source_line: Option<i64>,
    pub error_fingerprint: Option<String>,
    pub job_class: Option<String>,
    pub job_queue: Option<String>,
    pub job_id: Option<String>,
    pub queue_ms: Option<i64>,
    /// Free-form JSON object as compact text.
    pub body: Option<String>,
}

fn opt_str(v: &Option<String>) -> ValueRef<'_> {
    match v {
        Some(s) => ValueRef::Str(s),
        None => ValueRef::Null,
    }
}

fn opt_int(v: Option<i64>) -> ValueRef<'static> {
    match v {
        Some(i) => ValueRef::Int(i),
        None => ValueRef::Null,
    }
}

impl Row {
    /// The value of one column.
    pub fn get(&self, col: Col) -> ValueRef<'_> {
        use Col as C;
        match col {
            C::Seq => ValueRef::Int(self.seq.0 as i64),
            C::Ts => ValueRef::Int(self.ts),
            C::ReceivedAt => ValueRef::Int(self.received_at),
            C::Level => ValueRef::Str(self.level.as_str()),
            C::Service => ValueRef::Str(&self.service),
            C::Message => ValueRef::Str(&self.message),
            C::Env => ValueRef::Str(&self.env),
            C::Version => opt_str(&self.version),
            C::Host => opt_str(&self.host),
            C::Kind => ValueRef::Str(&self.kind),
            C::EventType => opt_str(&self.event_type),
            C::TraceId => opt_str(&self.trace_id),
            C::SpanId => opt_str(&self.span_id),
            C::ParentSpanId => opt_str(&self.parent_span_id),
            C::RequestId => opt_str(&self.request_id),
            C::UserId => opt_str(&self.user_id),
            C::TenantId => opt_str(&self.tenant_id),
            C::SessionId => opt_str(&self.session_id),
            C::Method => opt_str(&self.method),
            C::Path => opt_str(&self.path),
            C::Route => opt_str(&self.route),
            C::Handler => opt_str(&self.handler),
            C::Status => opt_int(self.status),
            C::DurationMs => opt_int(self.duration_ms),
            C::DbMs => opt_int(self.db_ms),
            C::DbCount => opt_int(self.db_count),
            C::CacheMs => opt_int(self.cache_ms),
            C::CacheHits => opt_int(self.cache_hits),
            C::CacheMisses => opt_int(self.cache_misses),
            C::ExtMs => opt_int(self.ext_ms),
            C::ExtCount => opt_int(self.ext_count),
            C::RenderMs => opt_int(self.render_ms),
            C::AllocCount => opt_int(self.alloc_count),
            C::MemDeltaMb => opt_int(self.mem_delta_mb),
            C::NPlusOne => match self.n_plus_one {
                Some(b) => ValueRef::Bool(b),
                None => ValueRef::Null,
            },
            C::SlowQueries => opt_int(self.slow_queries),
            C::DupQueries => opt_int(self.dup_queries),
            C::ErrorClass => opt_str(&self.error_class),
            C::ErrorMessage => opt_str(&self.error_message),
            C::SourceFile => opt_str(&self.source_file),
            C::SourceLine => opt_int(self.source_line),
            C::ErrorFingerprint => opt_str(&self.error_fingerprint),
            C::JobClass => opt_str(&self.job_class),
            C::JobQueue => opt_str(&self.job_queue),
            C::JobId => opt_str(&self.job_id),
            C::QueueMs => opt_int(self.queue_ms),
            C::Body => opt_str(&self.body),
        }
    }

    /// Sets one column. Non-nullable columns given `Null` are set to their empty value
    /// (`""`, 0); a value of the wrong type is an error and leaves the row unchanged.
    pub fn set(&mut self, col: Col, v: Value) -> Result<(), TypeMismatch> {
        use Col as C;
        let mismatch = |got: &'static str| TypeMismatch {
            column: col.name(),
            got,
        };
        fn s(v: Value) -> Result<Option<String>, &'static str> {
            match v {
                Value::Null => Ok(None),
                Value::Str(s) => Ok(Some(s)),
                Value::Int(_) => Err("an integer"),
                Value::Bool(_) => Err("a boolean"),
            }
        }
        fn i(v: Value) -> Result<Option<i64>, &'static str> {
            match v {
                Value::Null => Ok(None),
                Value::Int(i) => Ok(Some(i)),
                Value::Str(_) => Err("a string"),
                Value::Bool(_) => Err("a boolean"),
            }
        }
        match col {
            C::Seq => self.seq = Seq(i(v).map_err(mismatch)?.unwrap_or(0) as u64),
            C::Ts => self.ts = i(v).map_err(mismatch)?.unwrap_or(0),
            C::ReceivedAt => self.received_at = i(v).map_err(mismatch)?.unwrap_or(0),
            C::Level => {
                let l = s(v).map_err(mismatch)?.unwrap_or_default();
                self.level = l.parse().map_err(|_| mismatch("an unknown level"))?;
            }
            C::Service => self.service = s(v).map_err(mismatch)?.unwrap_or_default(),
            C::Message => self.message = s(v).map_err(mismatch)?.unwrap_or_default(),
            C::Env => self.env = s(v).map_err(mismatch)?.unwrap_or_default(),
            C::Version => self.version = s(v).map_err(mismatch)?,
            C::Host => self.host = s(v).map_err(mismatch)?,
            C::Kind => self.kind = s(v).map_err(mismatch)?.unwrap_or_default(),
            C::EventType => self.event_type = s(v).map_err(mismatch)?,
            C::TraceId => self.trace_id = s(v).map_err(mismatch)?,
            C::SpanId => self.span_id = s(v).map_err(mismatch)?,
            C::ParentSpanId => self.parent_span_id = s(v).map_err(mismatch)?,
            C::RequestId => self.request_id = s(v).map_err(mismatch)?,
            C::UserId => self.user_id = s(v).map_err(mismatch)?,
            C::TenantId => self.tenant_id = s(v).map_err(mismatch)?,
            C::SessionId => self.session_id = s(v).map_err(mismatch)?,
            C::Method => self.method = s(v).map_err(mismatch)?,
            C::Path => self.path = s(v).map_err(mismatch)?,
            C::Route => self.route = s(v).map_err(mismatch)?,
            C::Handler => self.handler = s(v).map_err(mismatch)?,
            C::Status => self.status = i(v).map_err(mismatch)?,
            C::DurationMs => self.duration_ms = i(v).map_err(mismatch)?,
            C::DbMs => self.db_ms = i(v).map_err(mismatch)?,
            C::DbCount => self.db_count = i(v).map_err(mismatch)?,
            C::CacheMs => self.cache_ms = i(v).map_err(mismatch)?,
            C::CacheHits => self.cache_hits = i(v).map_err(mismatch)?,
            C::CacheMisses => self.cache_misses = i(v).map_err(mismatch)?,
            C::ExtMs => self.ext_ms = i(v).map_err(mismatch)?,
            C::ExtCount => self.ext_count = i(v).map_err(mismatch)?,
            C::RenderMs => self.render_ms = i(v).map_err(mismatch)?,
            C::AllocCount => self.alloc_count = i(v).map_err(mismatch)?,
            C::MemDeltaMb => self.mem_delta_mb = i(v).map_err(mismatch)?,
            C::NPlusOne => {
                self.n_plus_one = match v {
                    Value::Null => None,
                    Value::Bool(b) => Some(b),
                    Value::Int(_) => return Err(mismatch("an integer")),
                    Value::Str(_) => return Err(mismatch("a string")),
                }
            }
            C::SlowQueries => self.slow_queries = i(v).map_err(mismatch)?,
            C::DupQueries => self.dup_queries = i(v).map_err(mismatch)?,
            C::ErrorClass => self.error_class = s(v).map_err(mismatch)?,
            C::ErrorMessage => self.error_message = s(v).map_err(mismatch)?,
            C::SourceFile => self.source_file = s(v).map_err(mismatch)?,
            C::SourceLine => self.source_line = i(v).map_err(mismatch)?,
            C::ErrorFingerprint => self.error_fingerprint = s(v).map_err(mismatch)?,
            C::JobClass => self.job_class = s(v).map_err(mismatch)?,
            C::JobQueue => self.job_queue = s(v).map_err(mismatch)?,
            C::JobId => self.job_id = s(v).map_err(mismatch)?,
            C::QueueMs => self.queue_ms = i(v).map_err(mismatch)?,
            C::Body => self.body = s(v).map_err(mismatch)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{COLUMNS, LogicalType};

    #[test]
    fn get_set_round_trip_every_column() {
        let mut row = Row::default();
        for d in COLUMNS {
            let v = match (d.ty, d.col) {
                (_, Col::Level) => Value::Str("error".into()),
                (LogicalType::Str | LogicalType::Json, _) => Value::Str(format!("v-{}", d.name)),
                (LogicalType::Bool, _) => Value::Bool(true),
                _ => Value::Int(d.col.id() as i64 + 1000),
            };
            row.set(d.col, v.clone()).unwrap();
            assert_eq!(row.get(d.col), v.as_ref(), "{}", d.name);
        }
        assert!(row.set(Col::Status, Value::Str("x".into())).is_err());
    }

    #[test]
    fn level_parsing() {
        assert_eq!("WARNING".parse::<Level>(), Ok(Level::Warn));
        assert_eq!("Info".parse::<Level>(), Ok(Level::Info));
        assert!("loud".parse::<Level>().is_err());
    }
}
