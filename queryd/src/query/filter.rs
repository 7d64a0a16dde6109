//! [`Filter`]: what rows a query selects, and its compiled form [`Pred`] shared by the
//! column-wise chunk scan and the row-wise WAL scan (so both have one semantics).

use opentrace_shared::fts::Query;
use opentrace_shared::{Col, Level, Row, Seq, Value, ValueRef};

/// Which environments a caller may see. Required by [`Filter::new`]: the MCP layer builds
/// it from the caller's allowed environments, so no query can forget env scoping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvRestriction {
    /// Every environment.
    All,
    /// Only these environments (an empty list matches nothing).
    Only(Vec<String>),
}

impl EnvRestriction {
    /// Whether rows of `env` may be returned.
    pub fn allows(&self, env: &str) -> bool {
        match self {
            EnvRestriction::All => true,
            EnvRestriction::Only(list) => list.iter().any(|e| e == env),
        }
    }
}

/// An inclusive integer range; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntRange {
    /// Smallest accepted value.
    pub min: Option<i64>,
    /// Largest accepted value.
    pub max: Option<i64>,
}

impl IntRange {
    /// Exactly `v`.
    pub fn exact(v: i64) -> IntRange {
        IntRange {
            min: Some(v),
            max: Some(v),
        }
    }

    /// `v` or more.
    pub fn at_least(v: i64) -> IntRange {
        IntRange {
            min: Some(v),
            max: None,
        }
    }
}

/// A conjunction of row predicates. Every `Option` left `None` does not constrain.
/// There is deliberately no `Default`: build it with [`Filter::new`].
#[derive(Debug, Clone)]
pub struct Filter {
    envs: EnvRestriction,
    /// `ts >= ts_from` (µs).
    pub ts_from: Option<i64>,
    /// `ts < ts_to` (µs, exclusive).
    pub ts_to: Option<i64>,
    /// Level is one of these.
    pub levels: Option<Vec<Level>>,
    /// Level is at least this severe.
    pub min_level: Option<Level>,
    /// Exact service.
    pub service: Option<String>,
    /// Exact trace id.
    pub trace_id: Option<String>,
    /// Exact span id.
    pub span_id: Option<String>,
    /// Exact request id.
    pub request_id: Option<String>,
    /// Exact user id.
    pub user_id: Option<String>,
    /// Exact tenant id.
    pub tenant_id: Option<String>,
    /// Exact event type.
    pub event_type: Option<String>,
    /// Exact kind.
    pub kind: Option<String>,
    /// Exact error class.
    pub error_class: Option<String>,
    /// Exact error fingerprint.
    pub fingerprint: Option<String>,
    /// Exact version (commit).
    pub version: Option<String>,
    /// Exact HTTP method.
    pub method: Option<String>,
    /// Exact path.
    pub path: Option<String>,
    /// Path starts with this.
    pub path_prefix: Option<String>,
    /// Exact route.
    pub route: Option<String>,
    /// Exact handler.
    pub handler: Option<String>,
    /// Exact source file.
    pub source_file: Option<String>,
    /// HTTP status within this range (rows without a status never match).
    pub status: Option<IntRange>,
    /// `duration_ms >= min_duration_ms`.
    pub min_duration_ms: Option<i64>,
    /// `db_count >= min_db_count`.
    pub min_db_count: Option<i64>,
    /// `n_plus_one` equals this.
    pub n_plus_one: Option<bool>,
    /// `true`: level error/fatal or an `error_class`; `false`: neither.
    pub has_error: Option<bool>,
    /// `seq >= seq_min`.
    pub seq_min: Option<Seq>,
    /// `seq <= seq_max`.
    pub seq_max: Option<Seq>,
    /// Full-text query over the indexed text fields.
    pub text: Option<Query>,
}

impl Filter {
    /// A filter that selects every row of the allowed environments.
    pub fn new(envs: EnvRestriction) -> Filter {
        Filter {
            envs,
            ts_from: None,
            ts_to: None,
            levels: None,
            min_level: None,
            service: None,
            trace_id: None,
            span_id: None,
            request_id: None,
            user_id: None,
            tenant_id: None,
            event_type: None,
            kind: None,
            error_class: None,
            fingerprint: None,
            version: None,
            method: None,
            path: None,
            path_prefix: None,
            route: None,
            handler: None,
            source_file: None,
            status: None,
            min_duration_ms: None,
            min_db_count: None,
            n_plus_one: None,
            has_error: None,
            seq_min: None,
            seq_max: None,
            text: None,
        }
    }

    /// The environment restriction (read-only: it can only be narrowed).
    pub fn envs(&self) -> &EnvRestriction {
        &self.envs
    }

    /// Narrows the restriction to `env` (never widens: outside the allowed set the filter
    /// matches nothing).
    pub fn narrow_env(&mut self, env: &str) {
        let keep = self.envs.allows(env);
        self.envs = EnvRestriction::Only(if keep { vec![env.to_string()] } else { vec![] });
    }

    /// Whether the filter has no predicate besides the `ts` range and the environment
    /// restriction (the `meta.json` fast path then checks the restriction per hour). A
    /// full-text query is a predicate.
    pub(crate) fn only_time_range(&self) -> bool {
        // Each of these, when set, is a predicate of its own in `compile`.
        self.levels.is_none()
            && self.min_level.is_none()
            && self.service.is_none()
            && self.only_rollup_predicates()
    }

    /// Whether the filter constrains nothing but the `ts` range, the environments, the levels
    /// and the service: what the env/service/level counts of `meta.json` can apply.
    pub(crate) fn only_rollup_predicates(&self) -> bool {
        if self.text.is_some() {
            return false;
        }
        let mut f = self.clone();
        f.ts_from = None;
        f.ts_to = None;
        f.envs = EnvRestriction::All;
        f.levels = None;
        f.min_level = None;
        f.service = None;
        f.compile().is_empty()
    }

    /// The levels a row may have (`levels` intersected with `min_level` and above), or
    /// `None` when the level is not constrained.
    pub(crate) fn allowed_levels(&self) -> Option<Vec<Level>> {
        let mut levels: Option<Vec<Level>> = self.levels.clone();
        if let Some(min) = self.min_level {
            let at_least: Vec<Level> = Level::ALL.into_iter().filter(|l| *l >= min).collect();
            levels = Some(match levels {
                Some(l) => l.into_iter().filter(|x| at_least.contains(x)).collect(),
                None => at_least,
            });
        }
        levels
    }

    /// Evaluates the filter on a row (the reference semantics).
    pub fn matches(&self, row: &Row) -> bool {
        self.compile().iter().all(|p| p.matches_row(row))
            && self.text.as_ref().is_none_or(|q| q.matches_row(row))
    }

    /// The predicates, cheapest (dictionary lookups) first. The text query is separate.
    pub(crate) fn compile(&self) -> Vec<Pred> {
        let mut p = Vec::new();
        let s = |v: &str| Value::Str(v.to_string());
        if let EnvRestriction::Only(list) = &self.envs {
            p.push(Pred::AnyOf(Col::Env, list.iter().map(|e| s(e)).collect()));
        }
        if let Some(l) = self.allowed_levels() {
            p.push(Pred::AnyOf(
                Col::Level,
                l.iter().map(|l| s(l.as_str())).collect(),
            ));
        }
        for (col, v) in [
            (Col::Service, &self.service),
            (Col::Kind, &self.kind),
            (Col::EventType, &self.event_type),
            (Col::Version, &self.version),
            (Col::Method, &self.method),
            (Col::Route, &self.route),
            (Col::Handler, &self.handler),
            (Col::TenantId, &self.tenant_id),
            (Col::ErrorClass, &self.error_class),
            (Col::ErrorFingerprint, &self.fingerprint),
            (Col::TraceId, &self.trace_id),
            (Col::SpanId, &self.span_id),
            (Col::RequestId, &self.request_id),
            (Col::UserId, &self.user_id),
            (Col::Path, &self.path),
            (Col::SourceFile, &self.source_file),
        ] {
            if let Some(v) = v {
                p.push(Pred::AnyOf(col, vec![s(v)]));
            }
        }
        if let Some(b) = self.n_plus_one {
            p.push(Pred::AnyOf(Col::NPlusOne, vec![Value::Bool(b)]));
        }
        if self.ts_from.is_some() || self.ts_to.is_some() {
            let hi = self.ts_to.map_or(i64::MAX, |t| t.saturating_sub(1));
            p.push(Pred::Range(Col::Ts, self.ts_from.unwrap_or(i64::MIN), hi));
        }
        if self.seq_min.is_some() || self.seq_max.is_some() {
            let lo = self.seq_min.map_or(0, |s| s.0 as i64);
            let hi = self.seq_max.map_or(i64::MAX, |s| s.0 as i64);
            p.push(Pred::Range(Col::Seq, lo, hi));
        }
        if let Some(r) = self.status {
            p.push(Pred::Range(
                Col::Status,
                r.min.unwrap_or(i64::MIN),
                r.max.unwrap_or(i64::MAX),
            ));
        }
        if let Some(m) = self.min_duration_ms {
            p.push(Pred::Range(Col::DurationMs, m, i64::MAX));
        }
        if let Some(m) = self.min_db_count {
            p.push(Pred::Range(Col::DbCount, m, i64::MAX));
        }
        if let Some(pre) = &self.path_prefix {
            p.push(Pred::Prefix(Col::Path, pre.clone()));
        }
        if let Some(b) = self.has_error {
            p.push(Pred::HasError(b));
        }
        p
    }
}

/// One compiled predicate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pred {
    /// The column equals one of the values (an empty list matches nothing).
    AnyOf(Col, Vec<Value>),
    /// The integer column is within `[lo, hi]`; null never matches.
    Range(Col, i64, i64),
    /// The string column starts with the prefix; null never matches.
    Prefix(Col, String),
    /// Level error/fatal or error class present (`true`), or neither (`false`).
    HasError(bool),
}

impl Pred {
    /// Evaluates the predicate on one value of its column (`HasError` excluded).
    pub(crate) fn matches_value(&self, v: ValueRef<'_>) -> bool {
        match self {
            Pred::AnyOf(_, vals) => vals.iter().any(|x| x.as_ref() == v),
            Pred::Range(_, lo, hi) => v.as_int().is_some_and(|x| *lo <= x && x <= *hi),
            Pred::Prefix(_, pre) => v.as_str().is_some_and(|s| s.starts_with(pre.as_str())),
            Pred::HasError(_) => false,
        }
    }

    /// The error test of [`Pred::HasError`] on a level name and an error-class value.
    pub(crate) fn is_error(level: ValueRef<'_>, error_class: ValueRef<'_>) -> bool {
        matches!(level.as_str(), Some("error" | "fatal")) || !error_class.is_null()
    }

    /// Evaluates the predicate on a whole row.
    pub(crate) fn matches_row(&self, row: &Row) -> bool {
        match self {
            Pred::AnyOf(c, _) | Pred::Range(c, _, _) | Pred::Prefix(c, _) => {
                self.matches_value(row.get(*c))
            }
            Pred::HasError(want) => {
                Pred::is_error(row.get(Col::Level), row.get(Col::ErrorClass)) == *want
            }
        }
    }
}
