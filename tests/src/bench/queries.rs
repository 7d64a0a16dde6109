//! The agent-style query set, run in-process with `opentrace_queryd::query` (the code queryd
//! runs) over a catalog of the data directory ingestd wrote.
//!
//! "cold" is the first run after opening the catalog (the OS page cache is warm: the files
//! were just written); "warm" are the following runs.

use std::time::{Duration, Instant};

use opentrace_queryd::catalog::Snapshot;
use opentrace_queryd::query::{
    AggMode, AggSpec, EnvRestriction, Filter, GroupKey, Metric, Order, SearchOpts, aggregate,
    search,
};
use opentrace_shared::fts::Query;
use opentrace_shared::{Col, Level};
use serde::Serialize;

use crate::loadgen::report::LatencySummary;

use super::dataset::Probes;

/// Seven days in µs.
///
/// "Per endpoint" groups by `path`: ingestd stores `route` only when the SDK sends one, and
/// the load generator (like the SDKs' default payloads) sends none, so every store groups by
/// the raw path here.
const WEEK_US: i64 = 7 * 86_400_000_000;

/// One query's timings.
#[derive(Debug, Clone, Serialize)]
pub struct QueryTiming {
    /// Stable key shared with the peers (`needle`, `trace_id`, ...).
    pub key: String,
    /// What it asks.
    pub description: String,
    /// First run, ms.
    pub cold_ms: f64,
    /// Warm runs: median, ms.
    pub p50_ms: f64,
    /// Warm runs: 99th percentile, ms.
    pub p99_ms: f64,
    /// Size of the answer (rows returned, or groups, or matched count).
    pub result: u64,
}

/// A query: key, description, and the function running it against a snapshot.
pub type NamedQuery = (&'static str, &'static str, Box<dyn Fn(&Snapshot) -> u64>);

fn all() -> Filter {
    Filter::new(EnvRestriction::All)
}

fn page(limit: usize, order: Order) -> SearchOpts {
    SearchOpts {
        limit,
        order,
        cursor: None,
    }
}

/// The query set over `p`; `quick` keeps only the needle search.
pub fn query_set(p: &Probes, quick: bool) -> Vec<NamedQuery> {
    let needle = p.needle.clone();
    let mut qs: Vec<NamedQuery> = vec![(
        "needle",
        "needle term in message, newest 50",
        Box::new(move |s| {
            let mut f = all();
            f.text = Query::parse(&needle).ok();
            search(s, &f, page(50, Order::NewestFirst)).rows.len() as u64
        }),
    )];
    if quick {
        return qs;
    }
    let trace = p.trace_id.clone();
    qs.push((
        "trace_id",
        "all rows of one trace id",
        Box::new(move |s| {
            let mut f = all();
            f.trace_id = Some(trace.clone());
            search(s, &f, page(1000, Order::OldestFirst)).rows.len() as u64
        }),
    ));
    let (from, to, service) = (p.ts_from_us, p.ts_to_us, p.service.clone());
    qs.push((
        "level_service_24h",
        "level=error AND service=S over 24 h, newest 50",
        Box::new(move |s| {
            let mut f = all();
            f.ts_from = Some(from);
            f.ts_to = Some(to);
            f.levels = Some(vec![Level::Error]);
            f.service = Some(service.clone());
            search(s, &f, page(50, Order::NewestFirst)).rows.len() as u64
        }),
    ));
    qs.push((
        "error_groups_7d",
        "error rows counted by fingerprint over 7 d, top 20",
        Box::new(move |s| {
            let mut f = all();
            f.ts_from = Some(to - WEEK_US);
            f.ts_to = Some(to);
            f.has_error = Some(true);
            let spec = AggSpec {
                group_by: vec![GroupKey::Column(Col::ErrorFingerprint)],
                metrics: vec![Metric::Count],
                limit_groups: 20,
            };
            aggregate(s, &f, &spec, AggMode::Auto).total_count
        }),
    ));
    qs.push((
        "p95_per_endpoint",
        "request rows: count and p95 duration_ms per path",
        Box::new(move |s| {
            let mut f = all();
            f.kind = Some("request".into());
            let spec = AggSpec {
                group_by: vec![GroupKey::Column(Col::Path)],
                metrics: vec![
                    Metric::Count,
                    Metric::Percentiles(Col::DurationMs, vec![95.0]),
                ],
                limit_groups: 0,
            };
            aggregate(s, &f, &spec, AggMode::Auto).groups.len() as u64
        }),
    ));
    qs.push((
        "count_by_minute",
        "rows and errors per minute over 24 h",
        Box::new(move |s| {
            let mut f = all();
            f.ts_from = Some(from);
            f.ts_to = Some(to);
            let spec = AggSpec {
                group_by: vec![GroupKey::TimeBucket {
                    width_us: 60_000_000,
                }],
                metrics: vec![Metric::Count, Metric::CountErrors],
                limit_groups: 0,
            };
            aggregate(s, &f, &spec, AggMode::Auto).groups.len() as u64
        }),
    ));
    qs
}

/// Runs every query once cold and `iters` times warm.
pub fn time_queries(snap: &Snapshot, qs: &[NamedQuery], iters: usize) -> Vec<QueryTiming> {
    qs.iter()
        .map(|(key, description, q)| {
            let t = Instant::now();
            let result = q(snap);
            let cold_ms = t.elapsed().as_secs_f64() * 1000.0;
            let mut warm: Vec<Duration> = (0..iters.max(1))
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(q(snap));
                    t.elapsed()
                })
                .collect();
            let s = LatencySummary::from_samples(&mut warm);
            QueryTiming {
                key: (*key).into(),
                description: (*description).into(),
                cold_ms,
                p50_ms: s.p50_ms,
                p99_ms: s.p99_ms,
                result,
            }
        })
        .collect()
}
