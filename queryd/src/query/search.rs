//! Top-N search by `(ts, seq)`, point lookup by seq, and the neighbours of a row.
//!
//! Units (chunks and WAL views) that survive planning are ordered by how early they can
//! contribute (newest `ts` first for [`Order::NewestFirst`]) and scanned in parallel waves.
//! Each unit keeps only its best `limit + 1` matches (decoding just `ts` and `seq` for
//! them); before each wave, units whose whole `ts` range ranks behind the current
//! `limit + 1`-th best row are skipped. Only the final rows are materialised, decoding each
//! needed chunk's columns once.

use std::cmp::Ordering;

use opentrace_shared::chunk::{ChunkError, ChunkReader};
use opentrace_shared::{Col, Row, Seq};
use rayon::prelude::*;

use super::ScanStats;
use super::cursor::Cursor;
use super::filter::Filter;
use super::plan::Plan;
use super::scan::{Unit, materialize, scan_chunk, scan_wal, units};
use crate::catalog::Snapshot;

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Descending `(ts, seq)`.
    #[default]
    NewestFirst,
    /// Ascending `(ts, seq)`.
    OldestFirst,
}

/// Options of [`search`].
#[derive(Debug, Clone, Default)]
pub struct SearchOpts {
    /// Most rows to return.
    pub limit: usize,
    /// Order of the rows.
    pub order: Order,
    /// Continue strictly after this position (from a previous page's `next_cursor`).
    pub cursor: Option<Cursor>,
}

impl SearchOpts {
    /// The first `limit` rows in `order` (no cursor).
    pub fn top(limit: usize, order: Order) -> SearchOpts {
        SearchOpts {
            limit,
            order,
            cursor: None,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// The rows, in the requested order.
    pub rows: Vec<Row>,
    /// Present when more rows match after the last one returned.
    pub next_cursor: Option<Cursor>,
    /// What the scan did.
    pub stats: ScanStats,
}

enum Src {
    Chunk(u32),
    Wal(Box<Row>),
}

struct Cand {
    key: (i64, Seq),
    unit: usize,
    src: Src,
}

/// `Less` means `a` comes first in `order`.
fn cmp(order: Order, a: (i64, Seq), b: (i64, Seq)) -> Ordering {
    match order {
        Order::NewestFirst => b.cmp(&a),
        Order::OldestFirst => a.cmp(&b),
    }
}

fn after_cursor(order: Order, cursor: Option<Cursor>, key: (i64, Seq)) -> bool {
    cursor.is_none_or(|c| cmp(order, (c.ts, c.seq), key) == Ordering::Less)
}

fn keep_best(order: Order, v: &mut Vec<Cand>, n: usize) {
    v.sort_unstable_by(|a, b| cmp(order, a.key, b.key));
    v.truncate(n);
}

fn scan_unit(
    u: Unit<'_>,
    idx: usize,
    plan: &Plan,
    opts: &SearchOpts,
    want: usize,
) -> (Vec<Cand>, u64, u64, Option<String>) {
    match u {
        Unit::Wal(w) => {
            let rows = scan_wal(w, plan);
            let matched = rows.len() as u64;
            let mut c: Vec<Cand> = rows
                .into_iter()
                .filter(|r| after_cursor(opts.order, opts.cursor, (r.ts, r.seq)))
                .map(|r| Cand {
                    key: (r.ts, r.seq),
                    unit: idx,
                    src: Src::Wal(Box::new(r.clone())),
                })
                .collect();
            keep_best(opts.order, &mut c, want);
            (c, w.row_count() as u64, matched, None)
        }
        Unit::Chunk(h) => {
            let n = u64::from(h.row_count());
            let (r, set) = match scan_chunk(h, plan) {
                Ok(x) => x,
                Err(e) => return (Vec::new(), n, 0, Some(e)),
            };
            if set.is_empty() {
                return (Vec::new(), n, 0, None);
            }
            let keys = match sort_keys(&r, set.as_slice()) {
                Ok(k) => k,
                Err(e) => {
                    return (
                        Vec::new(),
                        n,
                        0,
                        Some(format!("{}: {e}", h.col_path().display())),
                    );
                }
            };
            let mut c: Vec<Cand> = set
                .iter()
                .zip(keys)
                .filter_map(|(i, k)| {
                    let k = k?;
                    after_cursor(opts.order, opts.cursor, k).then_some(Cand {
                        key: k,
                        unit: idx,
                        src: Src::Chunk(i),
                    })
                })
                .collect();
            keep_best(opts.order, &mut c, want);
            (c, n, set.len() as u64, None)
        }
    }
}

/// Up to this many matches of a chunk have their sort keys read point by point; more decode
/// the `ts` and `seq` columns whole.
const POINT_ROWS: usize = 256;

/// The `(ts, seq)` sort key of each of `rows` (`None` where either is null).
fn sort_keys(r: &ChunkReader<'_>, rows: &[u32]) -> Result<Vec<Option<(i64, Seq)>>, ChunkError> {
    let key = |t: Option<i64>, s: Option<i64>| Some((t?, Seq(s? as u64)));
    if rows.len() <= POINT_ROWS {
        let ts = r.values_at(Col::Ts, rows)?;
        let seq = r.values_at(Col::Seq, rows)?;
        return Ok(ts
            .iter()
            .zip(&seq)
            .map(|(t, s)| key(t.as_ref().as_int(), s.as_ref().as_int()))
            .collect());
    }
    let ts = r.column(Col::Ts)?;
    let seq = r.column(Col::Seq)?;
    Ok(rows
        .iter()
        .map(|&i| key(ts.get(i as usize).as_int(), seq.get(i as usize).as_int()))
        .collect())
}

/// Returns up to `opts.limit` rows matching `filter`, in `opts.order`, after `opts.cursor`.
pub fn search(snap: &Snapshot, filter: &Filter, opts: SearchOpts) -> SearchResult {
    search_columns(snap, filter, opts, None)
}

/// [`search`], materialising only `columns` of the rows found in chunks (the others are
/// left at their defaults; rows from WAL tails are whole). For readers that need a few
/// fields of many rows, like the follower: decoding the large text and body columns of a
/// chunk for every page is what [`search`] would spend its time on.
pub fn search_columns(
    snap: &Snapshot,
    filter: &Filter,
    opts: SearchOpts,
    columns: Option<&[Col]>,
) -> SearchResult {
    let plan = Plan::new(filter);
    let mut stats = ScanStats::default();
    let mut us = units(snap, &plan, &|_| false, &mut stats);
    let order = opts.order;
    match order {
        Order::NewestFirst => us.sort_by_key(|u| std::cmp::Reverse(u.ts_max())),
        Order::OldestFirst => us.sort_by_key(|u| u.ts_min()),
    }
    // Units entirely on the wrong side of the cursor.
    if let Some(c) = opts.cursor {
        us.retain(|u| match order {
            Order::NewestFirst => u.ts_min() <= c.ts,
            Order::OldestFirst => u.ts_max() >= c.ts,
        });
    }
    let want = opts.limit.saturating_add(1);
    let wave = (rayon::current_num_threads() * 2).max(4);
    let mut best: Vec<Cand> = Vec::new();
    let mut i = 0;
    while i < us.len() {
        let end = (i + wave).min(us.len());
        let threshold = (best.len() >= want)
            .then(|| best.last().map(|c| c.key))
            .flatten();
        let batch: Vec<(usize, Unit<'_>)> = (i..end)
            .filter_map(|k| us.get(k).map(|u| (k, *u)))
            .filter(|(_, u)| match (threshold, order) {
                (Some((t, _)), Order::NewestFirst) => u.ts_max() >= t,
                (Some((t, _)), Order::OldestFirst) => u.ts_min() <= t,
                (None, _) => true,
            })
            .collect();
        stats.chunks_skipped += (end - i) - batch.len();
        let parts: Vec<_> = batch
            .par_iter()
            .map(|(k, u)| scan_unit(*u, *k, &plan, &opts, want))
            .collect();
        for (c, scanned, matched, err) in parts {
            stats.rows_scanned += scanned;
            stats.rows_matched += matched;
            stats.units_scanned += 1;
            stats.errors.extend(err);
            best.extend(c);
        }
        keep_best(order, &mut best, want);
        i = end;
    }
    let more = best.len() > opts.limit;
    best.truncate(opts.limit);
    let next_cursor = if more {
        best.last().map(|c| Cursor {
            ts: c.key.0,
            seq: c.key.1,
        })
    } else {
        None
    };
    let rows = materialize_all(&us, best, columns, &mut stats);
    SearchResult {
        rows,
        next_cursor,
        stats,
    }
}

fn materialize_all(
    us: &[Unit<'_>],
    best: Vec<Cand>,
    columns: Option<&[Col]>,
    stats: &mut ScanStats,
) -> Vec<Row> {
    let mut slots: Vec<Option<Row>> = Vec::with_capacity(best.len());
    let mut by_unit: std::collections::BTreeMap<usize, Vec<(usize, u32)>> = Default::default();
    for (pos, c) in best.into_iter().enumerate() {
        match c.src {
            Src::Wal(r) => slots.push(Some(*r)),
            Src::Chunk(i) => {
                slots.push(None);
                by_unit.entry(c.unit).or_default().push((pos, i));
            }
        }
    }
    let jobs: Vec<_> = by_unit.into_iter().collect();
    let done: Vec<Result<Vec<(usize, Row)>, String>> = jobs
        .par_iter()
        .map(|(unit, wanted)| {
            let Some(Unit::Chunk(h)) = us.get(*unit) else {
                return Ok(Vec::new());
            };
            let r = h.reader().map_err(|e| e.to_string())?;
            let idx: Vec<u32> = wanted.iter().map(|w| w.1).collect();
            let rows = materialize(&r, &idx, columns)
                .map_err(|e| format!("{}: {e}", h.col_path().display()))?;
            Ok(wanted.iter().map(|w| w.0).zip(rows).collect())
        })
        .collect();
    for d in done {
        match d {
            Ok(v) => {
                for (pos, row) in v {
                    if let Some(s) = slots.get_mut(pos) {
                        *s = Some(row);
                    }
                }
            }
            Err(e) => stats.errors.push(e),
        }
    }
    slots.into_iter().flatten().collect()
}

/// The row with sequence number `seq`, if it exists and matches `filter` (pass at least
/// the caller's environment restriction: a lookup by id must not bypass scoping).
pub fn get_by_seq(snap: &Snapshot, filter: &Filter, seq: Seq) -> Option<Row> {
    let mut f = filter.clone();
    f.seq_min = Some(f.seq_min.map_or(seq, |s| s.max(seq)));
    f.seq_max = Some(f.seq_max.map_or(seq, |s| s.min(seq)));
    newest(snap, &f)
}

/// The newest row matching `filter` (no time bound needed: the search reads newest first
/// and prunes older hours).
pub fn newest(snap: &Snapshot, filter: &Filter) -> Option<Row> {
    search(snap, filter, SearchOpts::top(1, Order::NewestFirst))
        .rows
        .into_iter()
        .next()
}

/// A row and its neighbours by `(ts, seq)` (the `context` action).
#[derive(Debug, Clone)]
pub struct Context {
    /// The anchor row.
    pub anchor: Row,
    /// Up to `before` rows just before the anchor, oldest first.
    pub before: Vec<Row>,
    /// Up to `after` rows just after the anchor, oldest first.
    pub after: Vec<Row>,
}

/// The anchor row (looked up under `filter`'s environment restriction only) and its
/// nearest neighbours matching `filter` (e.g. the same service).
pub fn around(
    snap: &Snapshot,
    anchor: Seq,
    before: usize,
    after: usize,
    filter: &Filter,
) -> Option<Context> {
    let row = get_by_seq(snap, &Filter::new(filter.envs().clone()), anchor)?;
    let cursor = Some(Cursor {
        ts: row.ts,
        seq: row.seq,
    });
    let mut b = search(
        snap,
        filter,
        SearchOpts {
            limit: before,
            order: Order::NewestFirst,
            cursor,
        },
    )
    .rows;
    b.reverse();
    let a = search(
        snap,
        filter,
        SearchOpts {
            limit: after,
            order: Order::OldestFirst,
            cursor,
        },
    )
    .rows;
    Some(Context {
        anchor: row,
        before: b,
        after: a,
    })
}
