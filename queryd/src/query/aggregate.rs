//! Grouped aggregates: per-unit partial aggregates computed in parallel and merged.
//!
//! Group keys are column values or `ts` buckets. Metrics: counts, error counts, sum, avg,
//! min, max, exact percentiles ([`super::percentile`]) and exact distinct counts. Groups
//! are ranked by count (ties by key); past `limit_groups` they are folded into the
//! `other_*` totals.
//!
//! **`meta.json` fast path** ([`AggMode::Auto`]): a sealed hour whose whole `ts` range lies
//! inside the filter's range, when the filter has no other predicate and the environment
//! restriction allows every environment of the hour, is answered from `meta.json` counts
//! without touching its chunks, for `Count`/`CountErrors` grouped by nothing, level,
//! service, env (count only), status (count only), error fingerprint (count only) or a
//! time bucket that is a whole number of minutes. When the filter also constrains level,
//! service or environment, or groups by several of level, service, env and a time bucket
//! holding the whole hour, the hour's env → service → level counts answer instead
//! ([`rollup_groups`]). Anything else falls back to scanning.
//! `CountErrors` counts rows of level error or fatal (the definition `meta.json` uses).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use opentrace_shared::chunk::Column;
use opentrace_shared::meta::HourMeta;
use opentrace_shared::{Col, Row, Value, ValueRef};
use rayon::prelude::*;

use super::ScanStats;
use super::filter::{EnvRestriction, Filter};
use super::percentile::ValueCounts;
use super::plan::Plan;
use super::scan::{Unit, scan_chunk, scan_wal, units};
use crate::catalog::Snapshot;

/// One grouping dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKey {
    /// The value of a column (null is its own group).
    Column(Col),
    /// `ts` floored to a multiple of `width_us` (key: the bucket start, µs).
    TimeBucket {
        /// Bucket width in µs (must be positive).
        width_us: i64,
    },
}

/// One computed metric.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// Rows in the group.
    Count,
    /// Rows of level error or fatal.
    CountErrors,
    /// Sum of a numeric column (nulls ignored).
    Sum(Col),
    /// Mean of a numeric column (nulls ignored).
    Avg(Col),
    /// Largest value.
    Max(Col),
    /// Smallest value.
    Min(Col),
    /// Exact nearest-rank percentiles (each `p` in `[0, 100]`).
    Percentiles(Col, Vec<f64>),
    /// Number of distinct non-null values.
    CountDistinct(Col),
}

/// What to aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct AggSpec {
    /// Grouping dimensions (empty: one group of everything).
    pub group_by: Vec<GroupKey>,
    /// Metrics per group.
    pub metrics: Vec<Metric>,
    /// Most groups returned (0: all).
    pub limit_groups: usize,
}

/// Whether `meta.json` may answer for whole sealed hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AggMode {
    /// Use `meta.json` where it gives the exact answer.
    #[default]
    Auto,
    /// Always scan (for checking the fast path).
    ScanOnly,
}

/// A metric's value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A count.
    Count(u64),
    /// An integer result (`None` when the group has no values).
    Int(Option<i64>),
    /// A mean.
    Float(Option<f64>),
    /// `(p, value)` pairs.
    Percentiles(Vec<(f64, Option<i64>)>),
}

/// One group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// One value per [`AggSpec::group_by`] entry.
    pub key: Vec<Value>,
    /// Rows in the group.
    pub count: u64,
    /// One value per [`AggSpec::metrics`] entry.
    pub metrics: Vec<MetricValue>,
}

/// The result of [`aggregate`].
#[derive(Debug, Clone)]
pub struct AggResult {
    /// The top groups by count.
    pub groups: Vec<Group>,
    /// Groups folded into "other".
    pub other_groups: u64,
    /// Rows in those groups.
    pub other_count: u64,
    /// Rows matched in total.
    pub total_count: u64,
    /// What the scan did.
    pub stats: ScanStats,
}

#[derive(Debug, Clone)]
enum MAcc {
    Nothing,
    Sum { sum: i128, n: u64 },
    Max(Option<i64>),
    Min(Option<i64>),
    Vals(ValueCounts),
    Distinct(HashSet<Value>),
}

#[derive(Debug, Clone)]
struct Acc {
    count: u64,
    errors: u64,
    m: Vec<MAcc>,
}

impl Acc {
    fn new(spec: &AggSpec) -> Acc {
        Acc {
            count: 0,
            errors: 0,
            m: spec
                .metrics
                .iter()
                .map(|m| match m {
                    Metric::Count | Metric::CountErrors => MAcc::Nothing,
                    Metric::Sum(_) | Metric::Avg(_) => MAcc::Sum { sum: 0, n: 0 },
                    Metric::Max(_) => MAcc::Max(None),
                    Metric::Min(_) => MAcc::Min(None),
                    Metric::Percentiles(..) => MAcc::Vals(ValueCounts::default()),
                    Metric::CountDistinct(_) => MAcc::Distinct(HashSet::new()),
                })
                .collect(),
        }
    }

    fn merge(&mut self, o: Acc) {
        self.count += o.count;
        self.errors += o.errors;
        for (a, b) in self.m.iter_mut().zip(o.m) {
            match (a, b) {
                (MAcc::Sum { sum, n }, MAcc::Sum { sum: s2, n: n2 }) => {
                    *sum += s2;
                    *n += n2;
                }
                (MAcc::Max(x), MAcc::Max(y)) => *x = (*x).max(y).or(*x).or(y),
                (MAcc::Min(x), MAcc::Min(y)) => {
                    *x = match (*x, y) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                }
                (MAcc::Vals(x), MAcc::Vals(y)) => x.merge(y),
                (MAcc::Distinct(x), MAcc::Distinct(y)) => x.extend(y),
                _ => {}
            }
        }
    }

    /// Adds one row; `get` reads the row's value of a column.
    fn add<'v>(&mut self, spec: &AggSpec, get: &dyn Fn(Col) -> ValueRef<'v>) {
        self.count += 1;
        if matches!(get(Col::Level).as_str(), Some("error" | "fatal")) {
            self.errors += 1;
        }
        for (a, m) in self.m.iter_mut().zip(&spec.metrics) {
            let num = |c: Col| match get(c) {
                ValueRef::Int(x) => Some(x),
                ValueRef::Bool(b) => Some(i64::from(b)),
                _ => None,
            };
            match (a, m) {
                (MAcc::Sum { sum, n }, Metric::Sum(c) | Metric::Avg(c)) => {
                    if let Some(x) = num(*c) {
                        *sum += i128::from(x);
                        *n += 1;
                    }
                }
                (MAcc::Max(x), Metric::Max(c)) => {
                    if let Some(v) = num(*c) {
                        *x = Some(x.map_or(v, |x| x.max(v)));
                    }
                }
                (MAcc::Min(x), Metric::Min(c)) => {
                    if let Some(v) = num(*c) {
                        *x = Some(x.map_or(v, |x| x.min(v)));
                    }
                }
                (MAcc::Vals(vc), Metric::Percentiles(c, _)) => {
                    if let Some(v) = num(*c) {
                        vc.add(v);
                    }
                }
                (MAcc::Distinct(set), Metric::CountDistinct(c)) => {
                    let v = get(*c);
                    if !v.is_null() {
                        set.insert(owned(v));
                    }
                }
                _ => {}
            }
        }
    }
}

fn owned(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Int(x) => Value::Int(x),
        ValueRef::Bool(b) => Value::Bool(b),
        ValueRef::Str(s) => Value::Str(s.to_string()),
    }
}

/// A borrowed group-key part, hashable (unlike `ValueRef`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum KeyRef<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Str(&'a str),
}

impl<'a> From<ValueRef<'a>> for KeyRef<'a> {
    fn from(v: ValueRef<'a>) -> KeyRef<'a> {
        match v {
            ValueRef::Null => KeyRef::Null,
            ValueRef::Int(x) => KeyRef::Int(x),
            ValueRef::Bool(b) => KeyRef::Bool(b),
            ValueRef::Str(s) => KeyRef::Str(s),
        }
    }
}

impl KeyRef<'_> {
    fn owned(self) -> Value {
        match self {
            KeyRef::Null => Value::Null,
            KeyRef::Int(x) => Value::Int(x),
            KeyRef::Bool(b) => Value::Bool(b),
            KeyRef::Str(s) => Value::Str(s.to_string()),
        }
    }
}

fn key_part<'a>(k: &GroupKey, get: &dyn Fn(Col) -> ValueRef<'a>) -> KeyRef<'a> {
    match k {
        GroupKey::Column(c) => get(*c).into(),
        GroupKey::TimeBucket { width_us } => match get(Col::Ts) {
            ValueRef::Int(ts) if *width_us > 0 => KeyRef::Int(ts.div_euclid(*width_us) * width_us),
            _ => KeyRef::Null,
        },
    }
}

type Groups = HashMap<Vec<Value>, Acc>;

fn merge_into(into: &mut Groups, from: Groups) {
    for (k, a) in from {
        match into.get_mut(&k) {
            Some(x) => x.merge(a),
            None => {
                into.insert(k, a);
            }
        }
    }
}

/// Columns a spec reads.
fn needed_cols(spec: &AggSpec) -> Vec<Col> {
    let mut cols = vec![Col::Level];
    for k in &spec.group_by {
        cols.push(match k {
            GroupKey::Column(c) => *c,
            GroupKey::TimeBucket { .. } => Col::Ts,
        });
    }
    for m in &spec.metrics {
        match m {
            Metric::Count | Metric::CountErrors => {}
            Metric::Sum(c)
            | Metric::Avg(c)
            | Metric::Max(c)
            | Metric::Min(c)
            | Metric::Percentiles(c, _)
            | Metric::CountDistinct(c) => cols.push(*c),
        }
    }
    cols.sort();
    cols.dedup();
    cols
}

/// Up to this many matching rows of a chunk are aggregated from point reads of their values
/// (`ChunkReader::rows_at`) instead of whole decoded columns.
const POINT_ROWS: usize = 64;

/// Groups whole rows (a WAL view's, or a chunk's few matches read point by point).
fn group_rows<'r>(rows: impl IntoIterator<Item = &'r Row>, spec: &AggSpec) -> Groups {
    let mut local: HashMap<Vec<KeyRef<'r>>, Acc> = HashMap::new();
    for r in rows {
        let get = |c: Col| r.get(c);
        let key: Vec<KeyRef<'r>> = spec.group_by.iter().map(|k| key_part(k, &get)).collect();
        local
            .entry(key)
            .or_insert_with(|| Acc::new(spec))
            .add(spec, &get);
    }
    local
        .into_iter()
        .map(|(k, a)| (k.into_iter().map(KeyRef::owned).collect(), a))
        .collect()
}

fn partial(u: Unit<'_>, plan: &Plan, spec: &AggSpec) -> Result<(Groups, u64, u64), String> {
    let finish = |local: HashMap<Vec<KeyRef<'_>>, Acc>| -> Groups {
        local
            .into_iter()
            .map(|(k, a)| (k.into_iter().map(KeyRef::owned).collect(), a))
            .collect()
    };
    match u {
        Unit::Wal(w) => {
            let rows: Vec<&Row> = scan_wal(w, plan);
            let matched = rows.len() as u64;
            Ok((group_rows(rows, spec), w.row_count() as u64, matched))
        }
        Unit::Chunk(h) => {
            let (r, set) = scan_chunk(h, plan)?;
            let n = u64::from(h.row_count());
            if set.is_empty() {
                return Ok((Groups::new(), n, 0));
            }
            if set.len() <= POINT_ROWS {
                // A handful of matches (a needle, an id): read just their values.
                let rows = r
                    .rows_at(set.as_slice(), &needed_cols(spec))
                    .map_err(|e| format!("{}: {e}", h.col_path().display()))?;
                return Ok((group_rows(rows.iter(), spec), n, set.len() as u64));
            }
            let cols: Vec<Column> = needed_cols(spec)
                .into_iter()
                .map(|c| r.column(c))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{}: {e}", h.col_path().display()))?;
            if let Some(dense) =
                super::dense::count(&cols, set.as_slice(), &spec.group_by, &spec.metrics)
            {
                let mut g = Groups::with_capacity(dense.len());
                for (key, count, errors) in dense {
                    let mut a = Acc::new(spec);
                    a.count = count;
                    a.errors = errors;
                    g.insert(key, a);
                }
                return Ok((g, n, set.len() as u64));
            }
            let by_col = |c: Col| cols.iter().find(|x| x.col() == c);
            let mut local2: HashMap<Vec<KeyRef<'_>>, Acc> = HashMap::new();
            // One key buffer for every row: a group's key is allocated once, when it is new.
            let mut key: Vec<KeyRef<'_>> = Vec::with_capacity(spec.group_by.len());
            for i in set.iter() {
                let i = i as usize;
                let get = |c: Col| by_col(c).map_or(ValueRef::Null, |x| x.get(i));
                key.clear();
                key.extend(spec.group_by.iter().map(|k| key_part(k, &get)));
                match local2.get_mut(key.as_slice()) {
                    Some(acc) => acc.add(spec, &get),
                    None => {
                        let mut acc = Acc::new(spec);
                        acc.add(spec, &get);
                        local2.insert(key.clone(), acc);
                    }
                }
            }
            Ok((finish(local2), n, set.len() as u64))
        }
    }
}

/// Whether `meta.json` of `m` answers `spec` exactly for the whole hour under `f`.
fn meta_applicable(m: &HourMeta, f: &Filter, spec: &AggSpec) -> bool {
    let Some(ts) = m.ts_us else {
        return true; // empty hour: nothing to count
    };
    let inside = f.ts_from.is_none_or(|lo| lo <= ts.min) && f.ts_to.is_none_or(|hi| ts.max < hi);
    let envs_ok = match f.envs() {
        EnvRestriction::All => true,
        EnvRestriction::Only(list) => m.dictionaries.env.iter().all(|e| list.contains(e)),
    };
    if !inside || !envs_ok || spec.group_by.len() > 1 {
        return false;
    }
    let errors_ok = match spec.group_by.first() {
        None | Some(GroupKey::Column(Col::Level | Col::Service)) => true,
        Some(GroupKey::TimeBucket { width_us }) => *width_us > 0 && width_us % 60_000_000 == 0,
        Some(GroupKey::Column(Col::Env | Col::Status | Col::ErrorFingerprint)) => false,
        Some(_) => return false,
    };
    if let Some(GroupKey::TimeBucket { width_us }) = spec.group_by.first()
        && (*width_us <= 0 || width_us % 60_000_000 != 0)
    {
        return false;
    }
    spec.metrics
        .iter()
        .all(|x| matches!(x, Metric::Count) || (matches!(x, Metric::CountErrors) && errors_ok))
}

/// The groups of one sealed hour from its env → service → level counts, when `f` only
/// constrains env, service, level and a time range containing the whole hour, the keys are
/// level, service, env or a time bucket holding the whole hour, and only counts are asked.
fn rollup_groups(m: &HourMeta, f: &Filter, spec: &AggSpec) -> Option<Groups> {
    enum Part {
        Level,
        Service,
        Env,
        Bucket(i64),
    }
    let roll = m.env_service_level.as_ref()?;
    let Some(ts) = m.ts_us else {
        return Some(Groups::new()); // empty hour
    };
    let inside = f.ts_from.is_none_or(|lo| lo <= ts.min) && f.ts_to.is_none_or(|hi| ts.max < hi);
    if !inside
        || !spec
            .metrics
            .iter()
            .all(|x| matches!(x, Metric::Count | Metric::CountErrors))
    {
        return None;
    }
    let mut parts = Vec::with_capacity(spec.group_by.len());
    for k in &spec.group_by {
        parts.push(match k {
            GroupKey::Column(Col::Level) => Part::Level,
            GroupKey::Column(Col::Service) => Part::Service,
            GroupKey::Column(Col::Env) => Part::Env,
            GroupKey::TimeBucket { width_us }
                if *width_us > 0
                    && ts.min.div_euclid(*width_us) == ts.max.div_euclid(*width_us) =>
            {
                Part::Bucket(ts.min.div_euclid(*width_us) * width_us)
            }
            _ => return None,
        });
    }
    let levels = f.allowed_levels();
    let mut g = Groups::new();
    for (env, services) in roll {
        if !f.envs().allows(env) {
            continue;
        }
        for (service, by_level) in services {
            if f.service.as_deref().is_some_and(|s| s != service) {
                continue;
            }
            for (level, &count) in by_level {
                if count == 0
                    || levels
                        .as_ref()
                        .is_some_and(|ls| !ls.iter().any(|l| l.as_str() == level))
                {
                    continue;
                }
                let key: Vec<Value> = parts
                    .iter()
                    .map(|p| match p {
                        Part::Level => Value::Str(level.clone()),
                        Part::Service => Value::Str(service.clone()),
                        Part::Env => Value::Str(env.clone()),
                        Part::Bucket(start) => Value::Int(*start),
                    })
                    .collect();
                let acc = g.entry(key).or_insert_with(|| Acc::new(spec));
                acc.count += count;
                if matches!(level.as_str(), "error" | "fatal") {
                    acc.errors += count;
                }
            }
        }
    }
    Some(g)
}

/// Whether the hour's rows are entirely outside the allowed environments.
fn meta_excluded(m: &HourMeta, f: &Filter) -> bool {
    match f.envs() {
        EnvRestriction::All => false,
        EnvRestriction::Only(list) => !m.dictionaries.env.iter().any(|e| list.contains(e)),
    }
}

fn minute_start(key: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(key, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|t| t.and_utc().timestamp_micros())
}

/// The groups of one hour from its `meta.json` (only called when [`meta_applicable`]).
fn meta_groups(m: &HourMeta, spec: &AggSpec) -> Option<Groups> {
    let mut g = Groups::new();
    let mut put = |key: Vec<Value>, count: u64, errors: u64| {
        if count == 0 {
            return;
        }
        let mut a = Acc::new(spec);
        a.count = count;
        a.errors = errors;
        match g.get_mut(&key) {
            Some(x) => x.merge(a),
            None => {
                g.insert(key, a);
            }
        }
    };
    let c = &m.counts;
    let lvl_err = |l: &str| matches!(l, "error" | "fatal");
    match spec.group_by.first() {
        None => {
            let errors = c
                .level
                .iter()
                .filter(|(l, _)| lvl_err(l))
                .map(|(_, n)| n)
                .sum();
            put(Vec::new(), m.rows, errors);
        }
        Some(GroupKey::Column(Col::Level)) => {
            for (l, n) in &c.level {
                put(
                    vec![Value::Str(l.clone())],
                    *n,
                    if lvl_err(l) { *n } else { 0 },
                );
            }
        }
        Some(GroupKey::Column(Col::Service)) => {
            for (s, n) in &c.service {
                let e = c.service_errors.get(s).copied().unwrap_or(0);
                put(vec![Value::Str(s.clone())], *n, e);
            }
        }
        Some(GroupKey::Column(Col::Env)) => {
            for (s, n) in &c.env {
                put(vec![Value::Str(s.clone())], *n, 0);
            }
        }
        Some(GroupKey::Column(Col::Status)) => {
            let mut sum = 0;
            for (s, n) in &c.status {
                put(vec![Value::Int(s.parse().ok()?)], *n, 0);
                sum += n;
            }
            put(vec![Value::Null], m.rows.checked_sub(sum)?, 0);
        }
        Some(GroupKey::Column(Col::ErrorFingerprint)) => {
            let mut sum = 0;
            for (s, n) in &c.fingerprint {
                put(vec![Value::Str(s.clone())], *n, 0);
                sum += n;
            }
            put(vec![Value::Null], m.rows.checked_sub(sum)?, 0);
        }
        Some(GroupKey::TimeBucket { width_us }) => {
            for (k, mc) in &m.minutes {
                let t = minute_start(k)?;
                put(
                    vec![Value::Int(t.div_euclid(*width_us) * width_us)],
                    mc.total,
                    mc.errors,
                );
            }
        }
        Some(_) => return None,
    }
    Some(g)
}

/// Computes `spec` over the rows matching `filter`.
pub fn aggregate(snap: &Snapshot, filter: &Filter, spec: &AggSpec, mode: AggMode) -> AggResult {
    let plan = Plan::new(filter);
    let mut stats = ScanStats::default();
    let mut groups = Groups::new();
    let mut from_meta = vec![false; snap.hours().len()];
    if mode == AggMode::Auto && filter.only_rollup_predicates() && !plan.is_empty() {
        let only_time = filter.only_time_range();
        for (i, h) in snap.hours().iter().enumerate() {
            let Some(m) = &h.meta else { continue };
            if meta_excluded(m, filter) {
                if let Some(slot) = from_meta.get_mut(i) {
                    *slot = true;
                }
                continue;
            }
            let g = if only_time && meta_applicable(m, filter, spec) {
                meta_groups(m, spec)
            } else {
                None
            };
            if let Some(g) = g.or_else(|| rollup_groups(m, filter, spec)) {
                merge_into(&mut groups, g);
                stats.hours_from_meta += 1;
                if let Some(slot) = from_meta.get_mut(i) {
                    *slot = true;
                }
            }
        }
    }
    let us = units(
        snap,
        &plan,
        &|i| from_meta.get(i).copied().unwrap_or(false),
        &mut stats,
    );
    let parts: Vec<_> = us.par_iter().map(|u| partial(*u, &plan, spec)).collect();
    for p in parts {
        stats.units_scanned += 1;
        match p {
            Ok((g, scanned, matched)) => {
                stats.rows_scanned += scanned;
                stats.rows_matched += matched;
                merge_into(&mut groups, g);
            }
            Err(e) => stats.errors.push(e),
        }
    }
    finish(groups, spec, stats)
}

fn finish(groups: Groups, spec: &AggSpec, stats: ScanStats) -> AggResult {
    let mut all: Vec<(Vec<Value>, Acc)> = groups.into_iter().collect();
    all.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| key_cmp(&a.0, &b.0)));
    let total_count = all.iter().map(|g| g.1.count).sum();
    let limit = if spec.limit_groups == 0 {
        all.len()
    } else {
        spec.limit_groups
    };
    let rest = all.split_off(limit.min(all.len()));
    let out = all
        .into_iter()
        .map(|(key, a)| Group {
            key,
            count: a.count,
            metrics: spec
                .metrics
                .iter()
                .zip(&a.m)
                .map(|(m, acc)| match (m, acc) {
                    (Metric::Count, _) => MetricValue::Count(a.count),
                    (Metric::CountErrors, _) => MetricValue::Count(a.errors),
                    (Metric::Sum(_), MAcc::Sum { sum, n }) => MetricValue::Int(
                        (*n > 0).then(|| (*sum).clamp(i64::MIN.into(), i64::MAX.into()) as i64),
                    ),
                    (Metric::Avg(_), MAcc::Sum { sum, n }) => {
                        MetricValue::Float((*n > 0).then(|| *sum as f64 / *n as f64))
                    }
                    (Metric::Max(_), MAcc::Max(x)) | (Metric::Min(_), MAcc::Min(x)) => {
                        MetricValue::Int(*x)
                    }
                    (Metric::Percentiles(_, ps), MAcc::Vals(vc)) => MetricValue::Percentiles(
                        ps.iter().copied().zip(vc.percentiles(ps)).collect(),
                    ),
                    (Metric::CountDistinct(_), MAcc::Distinct(s)) => {
                        MetricValue::Count(s.len() as u64)
                    }
                    _ => MetricValue::Int(None),
                })
                .collect(),
        })
        .collect();
    AggResult {
        groups: out,
        other_groups: rest.len() as u64,
        other_count: rest.iter().map(|g| g.1.count).sum(),
        total_count,
        stats,
    }
}

/// The order of group keys among groups of equal count: null, booleans, integers, strings,
/// each ascending (so equal counts list the same way in every response).
pub fn key_cmp(a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    fn rank(v: &Value) -> (i32, i64, &str) {
        match v {
            Value::Null => (0, 0, ""),
            Value::Bool(b) => (1, i64::from(*b), ""),
            Value::Int(x) => (2, *x, ""),
            Value::Str(s) => (3, 0, s.as_str()),
        }
    }
    a.iter().map(rank).cmp(b.iter().map(rank))
}

/// The most frequent non-null values of `col` among rows matching `filter`, with counts
/// (the `attributes` action).
pub fn distinct_values(
    snap: &Snapshot,
    filter: &Filter,
    col: Col,
    limit: usize,
) -> Vec<(String, u64)> {
    let spec = AggSpec {
        group_by: vec![GroupKey::Column(col)],
        metrics: vec![Metric::Count],
        limit_groups: 0,
    };
    let r = aggregate(snap, filter, &spec, AggMode::Auto);
    r.groups
        .into_iter()
        .filter_map(|g| {
            let s = match g.key.into_iter().next()? {
                Value::Null => return None,
                Value::Str(s) => s,
                Value::Int(x) => x.to_string(),
                Value::Bool(b) => b.to_string(),
            };
            Some((s, g.count))
        })
        .take(limit)
        .collect()
}
