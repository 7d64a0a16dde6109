//! How rows and common aggregates are shown to agents: compact row objects (only present
//! fields, messages cut to [`MESSAGE_CHARS`]), counts by level and service, a time
//! histogram, and the time range the caller's data actually covers.

use opentrace_shared::{Col, Row, Value as CellValue};
use serde_json::{Map, Value, json};

use crate::catalog::Snapshot;
use crate::mcp::args::{Window, fmt_duration, fmt_ts};
use crate::query::{AggMode, AggSpec, Filter, GroupKey, Metric, MetricValue, aggregate};

/// Characters of a message kept in lists.
pub const MESSAGE_CHARS: usize = 500;

/// Characters of a message kept for a single row shown in full.
pub const FULL_MESSAGE_CHARS: usize = 8_000;

/// Cuts `s` to `max` characters; returns whether it was cut.
pub fn cut(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (format!("{}…", &s[..i]), true),
        None => (s.to_string(), false),
    }
}

/// A percentage with one decimal (0 when `total` is 0).
pub fn pct(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / total as f64).round() / 10.0
    }
}

/// Counts rows whose message was cut, for the response note.
#[derive(Debug, Default)]
pub struct Cuts(pub usize);

impl Cuts {
    /// The note to add when something was cut.
    pub fn note(&self) -> Option<Value> {
        (self.0 > 0).then(|| {
            json!(format!(
                "{} message(s) were cut to {MESSAGE_CHARS} characters; call logs context with the log_id to read a row in full",
                self.0
            ))
        })
    }
}

const LIST_FIELDS: &[(&str, Col)] = &[
    ("kind", Col::Kind),
    ("version", Col::Version),
    ("host", Col::Host),
    ("event_type", Col::EventType),
    ("trace_id", Col::TraceId),
    ("span_id", Col::SpanId),
    ("request_id", Col::RequestId),
    ("user_id", Col::UserId),
    ("method", Col::Method),
    ("path", Col::Path),
    ("route", Col::Route),
    ("handler", Col::Handler),
    ("status", Col::Status),
    ("duration_ms", Col::DurationMs),
    ("db_ms", Col::DbMs),
    ("db_count", Col::DbCount),
    ("dup_queries", Col::DupQueries),
    ("n_plus_one", Col::NPlusOne),
    ("error_class", Col::ErrorClass),
    ("error_message", Col::ErrorMessage),
    ("source_file", Col::SourceFile),
    ("source_line", Col::SourceLine),
    ("error_fingerprint", Col::ErrorFingerprint),
    ("job_class", Col::JobClass),
];

/// The columns [`row_json`] shows: what a list of rows needs decoded (not `body`, SQL and
/// the other large columns a single row shown in full adds).
pub fn list_columns() -> &'static [Col] {
    static COLS: std::sync::OnceLock<Vec<Col>> = std::sync::OnceLock::new();
    COLS.get_or_init(|| {
        let mut v = vec![
            Col::Seq,
            Col::Ts,
            Col::Level,
            Col::Service,
            Col::Env,
            Col::Message,
        ];
        v.extend(LIST_FIELDS.iter().map(|(_, c)| *c));
        v
    })
}

const FULL_EXTRA: &[(&str, Col)] = &[
    ("parent_span_id", Col::ParentSpanId),
    ("tenant_id", Col::TenantId),
    ("session_id", Col::SessionId),
    ("cache_ms", Col::CacheMs),
    ("ext_ms", Col::ExtMs),
    ("ext_count", Col::ExtCount),
    ("render_ms", Col::RenderMs),
    ("slow_queries", Col::SlowQueries),
    ("job_queue", Col::JobQueue),
    ("job_id", Col::JobId),
    ("queue_ms", Col::QueueMs),
];

fn put(m: &mut Map<String, Value>, name: &str, v: opentrace_shared::ValueRef<'_>, max: usize) {
    use opentrace_shared::ValueRef;
    match v {
        ValueRef::Null => {}
        ValueRef::Int(i) => {
            m.insert(name.to_string(), json!(i));
        }
        ValueRef::Bool(b) => {
            m.insert(name.to_string(), json!(b));
        }
        ValueRef::Str(s) => {
            m.insert(name.to_string(), json!(cut(s, max).0));
        }
    }
}

/// A row as a list item: `log_id`, `ts`, `level`, `service`, `env`, the (cut) message and
/// every other present field of interest.
pub fn row_json(row: &Row, cuts: &mut Cuts) -> Value {
    let (message, was_cut) = cut(&row.message, MESSAGE_CHARS);
    if was_cut {
        cuts.0 += 1;
    }
    let mut m = Map::new();
    m.insert("log_id".into(), json!(row.seq.0));
    m.insert("ts".into(), json!(fmt_ts(row.ts)));
    m.insert("level".into(), json!(row.level.as_str()));
    m.insert("service".into(), json!(row.service));
    m.insert("env".into(), json!(row.env));
    m.insert("message".into(), json!(message));
    for (name, col) in LIST_FIELDS {
        put(&mut m, name, row.get(*col), MESSAGE_CHARS);
    }
    Value::Object(m)
}

/// A row shown in full (context anchor): every field, message up to
/// [`FULL_MESSAGE_CHARS`], and `body` parsed as JSON when it is.
pub fn row_full_json(row: &Row) -> Value {
    let mut m = Map::new();
    m.insert("log_id".into(), json!(row.seq.0));
    m.insert("ts".into(), json!(fmt_ts(row.ts)));
    m.insert("received_at".into(), json!(fmt_ts(row.received_at)));
    m.insert("level".into(), json!(row.level.as_str()));
    m.insert("service".into(), json!(row.service));
    m.insert("env".into(), json!(row.env));
    m.insert(
        "message".into(),
        json!(cut(&row.message, FULL_MESSAGE_CHARS).0),
    );
    for (name, col) in LIST_FIELDS.iter().chain(FULL_EXTRA) {
        put(&mut m, name, row.get(*col), FULL_MESSAGE_CHARS);
    }
    if let Some(b) = &row.body {
        let (text, was_cut) = cut(b, FULL_MESSAGE_CHARS);
        let v = if was_cut {
            json!(text)
        } else {
            serde_json::from_str(b).unwrap_or(json!(text))
        };
        m.insert("body".into(), v);
    }
    Value::Object(m)
}

/// A group key value as text (`null` for absent).
pub fn key_text(v: Option<&CellValue>) -> Value {
    match v {
        Some(CellValue::Str(s)) => json!(s),
        Some(CellValue::Int(i)) => json!(i),
        Some(CellValue::Bool(b)) => json!(b),
        Some(CellValue::Null) | None => Value::Null,
    }
}

/// Row counts of `filter` grouped by `col`, top `n` as `{value: count}` pairs in a list,
/// plus the total.
pub fn counts_by(snap: &Snapshot, filter: &Filter, col: Col, n: usize) -> (u64, Vec<Value>) {
    let r = aggregate(
        snap,
        filter,
        &AggSpec {
            group_by: vec![GroupKey::Column(col)],
            metrics: vec![Metric::Count],
            limit_groups: n,
        },
        AggMode::Auto,
    );
    let name = col.name();
    let mut list: Vec<Value> = r
        .groups
        .iter()
        .map(|g| json!({name: key_text(g.key.first()), "count": g.count}))
        .collect();
    if r.other_groups > 0 {
        list.push(json!({name: format!("({} others)", r.other_groups), "count": r.other_count}));
    }
    (r.total_count, list)
}

/// Counts by level as an object `{level: count}`, most frequent first.
pub fn by_level(snap: &Snapshot, filter: &Filter) -> Value {
    let r = aggregate(
        snap,
        filter,
        &AggSpec {
            group_by: vec![GroupKey::Column(Col::Level)],
            metrics: vec![Metric::Count],
            limit_groups: 0,
        },
        AggMode::Auto,
    );
    let mut m = Map::new();
    for g in &r.groups {
        if let Some(CellValue::Str(l)) = g.key.first() {
            m.insert(l.clone(), json!(g.count));
        }
    }
    Value::Object(m)
}

/// A time histogram of `filter` over `window` with bucket width `width_us`: every bucket
/// of the window, empty ones included, as `{start, count, errors}`.
pub fn histogram(snap: &Snapshot, filter: &Filter, window: &Window, width_us: i64) -> Value {
    let r = aggregate(
        snap,
        filter,
        &AggSpec {
            group_by: vec![GroupKey::TimeBucket { width_us }],
            metrics: vec![Metric::Count, Metric::CountErrors],
            limit_groups: 0,
        },
        AggMode::Auto,
    );
    let mut found: std::collections::HashMap<i64, (u64, u64)> = Default::default();
    for g in &r.groups {
        if let Some(CellValue::Int(start)) = g.key.first() {
            let errors = match g.metrics.get(1) {
                Some(MetricValue::Count(e)) => *e,
                _ => 0,
            };
            found.insert(*start, (g.count, errors));
        }
    }
    histogram_json(&found, window, width_us)
}

/// Renders bucket counts (`start → (count, errors)`) as the histogram of `window`: every
/// bucket, empty ones included, as `{start, count, errors}`.
pub fn histogram_json(
    found: &std::collections::HashMap<i64, (u64, u64)>,
    window: &Window,
    width_us: i64,
) -> Value {
    let first = window.from_us.div_euclid(width_us) * width_us;
    let mut buckets = Vec::new();
    let mut t = first;
    while t < window.to_us && buckets.len() < 500 {
        let (count, errors) = found.get(&t).copied().unwrap_or((0, 0));
        buckets.push(json!({"start": fmt_ts(t), "count": count, "errors": errors}));
        t = t.saturating_add(width_us);
    }
    json!({"bucket": fmt_duration(width_us), "buckets": buckets})
}

/// The first and last `ts` of all rows the filter's environment restriction allows (used
/// to tell an agent where the data is when its window matched nothing).
pub fn data_range(snap: &Snapshot, filter: &Filter) -> Option<(i64, i64, u64)> {
    let all = Filter::new(filter.envs().clone());
    let r = aggregate(
        snap,
        &all,
        &AggSpec {
            group_by: vec![],
            metrics: vec![Metric::Min(Col::Ts), Metric::Max(Col::Ts)],
            limit_groups: 0,
        },
        AggMode::ScanOnly,
    );
    let g = r.groups.first()?;
    match (g.metrics.first(), g.metrics.get(1)) {
        (Some(MetricValue::Int(Some(lo))), Some(MetricValue::Int(Some(hi)))) => {
            Some((*lo, *hi, g.count))
        }
        _ => None,
    }
}

/// [`data_range`] as response JSON.
pub fn data_range_json(snap: &Snapshot, filter: &Filter) -> Value {
    match data_range(snap, filter) {
        Some((lo, hi, n)) => json!({"first": fmt_ts(lo), "last": fmt_ts(hi), "rows": n}),
        None => json!({"rows": 0, "note": "no rows at all in your environments yet"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_is_char_safe() {
        assert_eq!(cut("héllo", 2), ("hé…".to_string(), true));
        assert_eq!(cut("hé", 2), ("hé".to_string(), false));
    }
}
