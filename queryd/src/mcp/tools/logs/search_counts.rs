//! The aggregates `logs search` shows above its rows (total, counts by level and by service,
//! time histogram), computed in one pass over the matching rows.
//!
//! A filter with nothing but a time range is answered per aggregate, because each of them
//! alone can come from `meta.json` for sealed hours; any other filter has to touch the rows,
//! so one aggregate grouped by (level, service, time bucket) gives all four at once.

use std::collections::HashMap;

use opentrace_shared::{Col, Value as CellValue};
use serde_json::{Map, Value, json};

use super::rows::{by_level, counts_by, histogram, histogram_json, key_text};
use crate::catalog::Snapshot;
use crate::mcp::args::Window;
use crate::query::{AggMode, AggSpec, Filter, GroupKey, Metric, MetricValue, aggregate, key_cmp};

/// What `logs search` shows above the rows.
pub struct SearchCounts {
    /// Rows matched.
    pub total: u64,
    /// `{level: count}`.
    pub by_level: Value,
    /// `[{service, count}]`, top `n`, then `(k others)`.
    pub by_service: Value,
    /// The time histogram of the window.
    pub histogram: Value,
}

/// Computes [`SearchCounts`] of `filter` over `window`, with `width_us` buckets and the top
/// `n` services.
pub fn search_counts(
    snap: &Snapshot,
    filter: &Filter,
    window: &Window,
    width_us: i64,
    n: usize,
) -> SearchCounts {
    if filter.only_time_range() {
        let (total, services) = counts_by(snap, filter, Col::Service, n);
        return SearchCounts {
            total,
            by_level: by_level(snap, filter),
            by_service: json!(services),
            histogram: histogram(snap, filter, window, width_us),
        };
    }
    let r = aggregate(
        snap,
        filter,
        &AggSpec {
            group_by: vec![
                GroupKey::Column(Col::Level),
                GroupKey::Column(Col::Service),
                GroupKey::TimeBucket { width_us },
            ],
            metrics: vec![Metric::Count, Metric::CountErrors],
            limit_groups: 0,
        },
        AggMode::Auto,
    );
    let mut levels: HashMap<String, u64> = HashMap::new();
    let mut services: HashMap<CellValue, u64> = HashMap::new();
    let mut buckets: HashMap<i64, (u64, u64)> = HashMap::new();
    for g in &r.groups {
        if let Some(CellValue::Str(l)) = g.key.first() {
            *levels.entry(l.clone()).or_default() += g.count;
        }
        *services
            .entry(g.key.get(1).cloned().unwrap_or_default())
            .or_default() += g.count;
        if let Some(CellValue::Int(start)) = g.key.get(2) {
            let errors = match g.metrics.get(1) {
                Some(MetricValue::Count(e)) => *e,
                _ => 0,
            };
            let b = buckets.entry(*start).or_default();
            b.0 += g.count;
            b.1 += errors;
        }
    }
    let mut level_list: Vec<(String, u64)> = levels.into_iter().collect();
    level_list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut by_level = Map::new();
    for (l, c) in level_list {
        by_level.insert(l, json!(c));
    }
    let mut service_list: Vec<(CellValue, u64)> = services.into_iter().collect();
    service_list.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| key_cmp(std::slice::from_ref(&a.0), std::slice::from_ref(&b.0)))
    });
    let rest = service_list.split_off(n.min(service_list.len()));
    let mut by_service: Vec<Value> = service_list
        .iter()
        .map(|(s, c)| json!({"service": key_text(Some(s)), "count": c}))
        .collect();
    if !rest.is_empty() {
        let others: u64 = rest.iter().map(|x| x.1).sum();
        by_service.push(json!({"service": format!("({} others)", rest.len()), "count": others}));
    }
    SearchCounts {
        total: r.total_count,
        by_level: Value::Object(by_level),
        by_service: json!(by_service),
        histogram: histogram_json(&buckets, window, width_us),
    }
}
