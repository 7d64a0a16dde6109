//! Evaluating a [`Plan`] on one chunk (column by column) or one WAL view (row by row).
//!
//! Chunk evaluation order:
//! 0. an id predicate (trace, span, request, user id) the `.idx` bloom filters rule out ends
//!    the chunk at once;
//! 1. the full-text query's candidates from the `.idx` postings (no column decoded; none
//!    ends the chunk);
//! 2. `AnyOf` predicates through `ChunkReader::filter_eq` (dictionary columns look the value
//!    up once and scan packed ids; an absent value returns an empty set at once), cheapest
//!    first, intersected, stopping as soon as the candidate set is empty; when the postings
//!    are not exact (phrases, very long terms) the remaining candidates are then verified
//!    with `Query::matches_row` on rows built from just the decoded text columns;
//! 3. every other predicate on its decoded column, only over the remaining candidates; a
//!    `ts`/`seq` range the zone map proves true for the whole chunk is not evaluated.

use opentrace_shared::chunk::{ChunkReader, RowSet};
use opentrace_shared::fts::BLOOM_COLUMNS;
use opentrace_shared::{COLUMNS, Col, Row, Value};

use super::ScanStats;
use super::filter::Pred;
use super::plan::Plan;
use crate::catalog::{ChunkHandle, Snapshot, WalView};

/// A unit of scanning.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unit<'a> {
    /// A published chunk.
    Chunk(&'a ChunkHandle),
    /// A live WAL view.
    Wal(&'a WalView),
}

impl Unit<'_> {
    /// Largest `ts` the unit may hold (for ordering newest-first scans).
    pub(crate) fn ts_max(&self) -> i64 {
        match self {
            Unit::Chunk(c) => c.zone().ts.map_or(i64::MIN, |m| m.max),
            Unit::Wal(w) => w.ts_range().map_or(i64::MIN, |r| r.1),
        }
    }

    /// Smallest `ts` the unit may hold.
    pub(crate) fn ts_min(&self) -> i64 {
        match self {
            Unit::Chunk(c) => c.zone().ts.map_or(i64::MAX, |m| m.min),
            Unit::Wal(w) => w.ts_range().map_or(i64::MAX, |r| r.0),
        }
    }
}

/// Every unit of the snapshot that planning cannot rule out; counts the skipped ones.
/// Units of hours in `exclude` (answered from `meta.json`) are left out.
pub(crate) fn units<'a>(
    snap: &'a Snapshot,
    plan: &Plan,
    exclude: &dyn Fn(usize) -> bool,
    stats: &mut ScanStats,
) -> Vec<Unit<'a>> {
    let mut out = Vec::new();
    if plan.is_empty() {
        return out;
    }
    for (i, h) in snap.hours().iter().enumerate() {
        stats.chunks_total += h.chunks.len();
        stats.wals_total += h.wals.len();
        if exclude(i) {
            continue;
        }
        if let Some(m) = &h.meta
            && !plan.hour_may_match(m)
        {
            stats.hours_skipped += 1;
            stats.chunks_skipped += h.chunks.len();
            continue;
        }
        for c in &h.chunks {
            if plan.chunk_may_match(c.zone()) {
                out.push(Unit::Chunk(c));
            } else {
                stats.chunks_skipped += 1;
            }
        }
        for w in &h.wals {
            if plan.wal_may_match(w) {
                out.push(Unit::Wal(w));
            }
        }
    }
    out
}

fn union(a: RowSet, b: RowSet) -> RowSet {
    if a.is_empty() {
        return b;
    }
    let mut v = a.into_vec();
    v.extend(b.iter());
    RowSet::from_unsorted(v)
}

fn narrow(acc: Option<RowSet>, s: RowSet) -> RowSet {
    match acc {
        Some(a) => a.intersect(&s),
        None => s,
    }
}

/// Rows of a chunk matching the plan. Errors (a column or the index failing to decode)
/// are returned as text for [`ScanStats::errors`].
pub(crate) fn scan_chunk<'a>(
    h: &'a ChunkHandle,
    plan: &Plan,
) -> Result<(ChunkReader<'a>, RowSet), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", h.col_path().display());
    let r = h.reader().map_err(|e| fail(&e))?;
    let n = r.row_count();
    if bloom_rules_out(h, plan) {
        return Ok((r, RowSet::new()));
    }
    let mut acc: Option<RowSet> = None;
    // The index's candidates first: a lookup in the `.idx` costs microseconds, where an
    // equality predicate decodes a whole column, and a rare term usually ends the chunk.
    if let Some(q) = &plan.text {
        let idx = h.index().map_err(|e| fail(&e))?;
        let cands = RowSet::from_unsorted(q.candidates(&idx).map_err(|e| fail(&e))?);
        if cands.is_empty() {
            return Ok((r, cands));
        }
        acc = Some(cands);
    }
    for p in &plan.preds {
        if let Pred::AnyOf(col, vals) = p {
            let mut u = RowSet::new();
            for v in vals {
                u = union(u, r.filter_eq(*col, v.as_ref()).map_err(|e| fail(&e))?);
            }
            let s = narrow(acc, u);
            if s.is_empty() {
                return Ok((r, s));
            }
            acc = Some(s);
        }
    }
    // Candidates that are not exact (phrases, very long terms) are verified on the decoded
    // text columns, after the equality predicates have narrowed them.
    if let Some(q) = &plan.text
        && !q.is_exact_from_index()
        && let Some(s) = acc.take()
    {
        let cols: Vec<_> = COLUMNS
            .iter()
            .filter(|d| d.full_text)
            .map(|d| r.column(d.col))
            .collect::<Result<_, _>>()
            .map_err(|e| fail(&e))?;
        let keep: Vec<u32> = s
            .iter()
            .filter(|&i| {
                let mut row = Row::default();
                for c in &cols {
                    let _ = row.set(c.col(), c.get_owned(i as usize));
                }
                q.matches_row(&row)
            })
            .collect();
        let s = RowSet::from_unsorted(keep);
        if s.is_empty() {
            return Ok((r, s));
        }
        acc = Some(s);
    }
    for p in &plan.preds {
        if matches!(p, Pred::AnyOf(..)) || Plan::range_implied(p, r.zone_map()) {
            continue;
        }
        let cur = acc.unwrap_or_else(|| RowSet::all(n));
        let keep: Vec<u32> = match p {
            Pred::HasError(want) => {
                let level = r.column(Col::Level).map_err(|e| fail(&e))?;
                let class = r.column(Col::ErrorClass).map_err(|e| fail(&e))?;
                cur.iter()
                    .filter(|&i| {
                        let i = i as usize;
                        Pred::is_error(level.get(i), class.get(i)) == *want
                    })
                    .collect()
            }
            Pred::AnyOf(c, _) | Pred::Range(c, _, _) | Pred::Prefix(c, _) => {
                let col = r.column(*c).map_err(|e| fail(&e))?;
                cur.iter()
                    .filter(|&i| p.matches_value(col.get(i as usize)))
                    .collect()
            }
        };
        let s = RowSet::from_unsorted(keep);
        if s.is_empty() {
            return Ok((r, s));
        }
        acc = Some(s);
    }
    Ok((r, acc.unwrap_or_else(|| RowSet::all(n))))
}

/// Whether the chunk's `.idx` bloom filters prove that an id predicate (trace, span,
/// request or user id) matches no row, so the chunk ends before any column is decoded.
/// A file without filters, an unreadable index or an empty value never rule anything out.
fn bloom_rules_out(h: &ChunkHandle, plan: &Plan) -> bool {
    let ids = |p: &&Pred| matches!(p, Pred::AnyOf(c, _) if BLOOM_COLUMNS.contains(c));
    if !plan.preds.iter().any(|p| ids(&p)) {
        return false;
    }
    let Ok(idx) = h.index() else {
        return false;
    };
    plan.preds.iter().filter(ids).any(|p| match p {
        Pred::AnyOf(col, vals) => {
            !vals.is_empty()
                && vals.iter().all(|v| match v {
                    Value::Str(s) if !s.is_empty() => idx.may_contain(*col, s) == Some(false),
                    _ => false,
                })
        }
        _ => false,
    })
}

/// Rows of a WAL view matching the plan, in seq order.
pub(crate) fn scan_wal<'a>(w: &'a WalView, plan: &Plan) -> Vec<&'a Row> {
    w.rows().filter(|r| plan.matches_row(r)).collect()
}

/// Builds rows `rows` of a chunk with every column, or only `columns` (the others keep
/// their defaults): a few rows are read point by point, many decode each column once
/// (`ChunkReader::rows_at`).
pub(crate) fn materialize(
    r: &ChunkReader<'_>,
    rows: &[u32],
    columns: Option<&[Col]>,
) -> Result<Vec<Row>, String> {
    let all: Vec<Col>;
    let cols = match columns {
        Some(c) => c,
        None => {
            all = COLUMNS.iter().map(|d| d.col).collect();
            &all
        }
    };
    r.rows_at(rows, cols).map_err(|e| e.to_string())
}
