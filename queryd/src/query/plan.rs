//! Planning: which hours and chunks can be skipped without decoding anything.
//!
//! * an hour is skipped when its `meta.json` (sealed hours) proves no row can match: the
//!   `ts`/`seq` ranges do not overlap, or a dictionary column (service, env, level,
//!   event type, version) is restricted to values absent from the hour's dictionary;
//! * a chunk is skipped when its zone map's `ts` or `seq` range does not overlap;
//! * a WAL view is skipped on its `ts`/`seq` ranges the same way.

use opentrace_shared::Col;
use opentrace_shared::chunk::ZoneMap;
use opentrace_shared::fts::Query;
use opentrace_shared::meta::HourMeta;

use super::filter::{Filter, Pred};
use crate::catalog::WalView;

/// A compiled filter plus what planning needs.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Predicates, cheapest first.
    pub preds: Vec<Pred>,
    /// Full-text query.
    pub text: Option<Query>,
    /// Inclusive `ts` bounds.
    pub ts: (i64, i64),
    /// Inclusive `seq` bounds.
    pub seq: (i64, i64),
}

impl Plan {
    pub(crate) fn new(f: &Filter) -> Plan {
        let preds = f.compile();
        let mut ts = (i64::MIN, i64::MAX);
        let mut seq = (i64::MIN, i64::MAX);
        for p in &preds {
            match p {
                Pred::Range(Col::Ts, lo, hi) => ts = (*lo, *hi),
                Pred::Range(Col::Seq, lo, hi) => seq = (*lo, *hi),
                _ => {}
            }
        }
        Plan {
            preds,
            text: f.text.clone(),
            ts,
            seq,
        }
    }

    /// Whether no row can match at all (an empty value set or an empty range).
    pub(crate) fn is_empty(&self) -> bool {
        self.ts.0 > self.ts.1
            || self.seq.0 > self.seq.1
            || self.preds.iter().any(|p| match p {
                Pred::AnyOf(_, v) => v.is_empty(),
                Pred::Range(_, lo, hi) => lo > hi,
                _ => false,
            })
    }

    /// Evaluates the whole plan on a row.
    pub(crate) fn matches_row(&self, row: &opentrace_shared::Row) -> bool {
        self.preds.iter().all(|p| p.matches_row(row))
            && self.text.as_ref().is_none_or(|q| q.matches_row(row))
    }

    fn ranges_overlap(&self, ts: Option<(i64, i64)>, seq: Option<(i64, i64)>) -> bool {
        let ok = |r: Option<(i64, i64)>, (lo, hi): (i64, i64)| {
            r.is_none_or(|(min, max)| lo <= max && min <= hi)
        };
        ok(ts, self.ts) && ok(seq, self.seq)
    }

    /// Whether a sealed hour may hold matching rows.
    pub(crate) fn hour_may_match(&self, meta: &HourMeta) -> bool {
        if meta.rows == 0 {
            return false;
        }
        let r = |x: Option<opentrace_shared::meta::Range>| x.map(|r| (r.min, r.max));
        if !self.ranges_overlap(r(meta.ts_us), r(meta.seq)) {
            return false;
        }
        let d = &meta.dictionaries;
        self.preds.iter().all(|p| {
            let Pred::AnyOf(col, vals) = p else {
                return true;
            };
            let set = match col {
                Col::Service => &d.service,
                Col::Env => &d.env,
                Col::Level => &d.level,
                Col::EventType => &d.event_type,
                Col::Version => &d.version,
                _ => return true,
            };
            vals.iter().any(|v| match v.as_ref().as_str() {
                Some(s) => set.contains(s),
                // Null event_type/version is not in the dictionary: cannot skip.
                None => true,
            })
        })
    }

    /// Whether a chunk may hold matching rows, judging by its zone map.
    pub(crate) fn chunk_may_match(&self, z: &ZoneMap) -> bool {
        if z.row_count == 0 {
            return false;
        }
        self.ranges_overlap(
            z.ts.map(|m| (m.min, m.max)),
            z.seq.map(|m| (m.min.0 as i64, m.max.0 as i64)),
        )
    }

    /// Whether a WAL view may hold matching rows.
    pub(crate) fn wal_may_match(&self, w: &WalView) -> bool {
        w.row_count() > 0
            && self.ranges_overlap(
                w.ts_range(),
                w.seq_range().map(|(a, b)| (a.0 as i64, b.0 as i64)),
            )
    }

    /// Whether the `Range` predicate on `col` is implied by a zone map range (every row of
    /// the chunk is inside it), so it need not be evaluated per row.
    pub(crate) fn range_implied(p: &Pred, z: &ZoneMap) -> bool {
        match p {
            Pred::Range(Col::Ts, lo, hi) => z.ts.is_some_and(|m| *lo <= m.min && m.max <= *hi),
            Pred::Range(Col::Seq, lo, hi) => z
                .seq
                .is_some_and(|m| *lo <= m.min.0 as i64 && m.max.0 as i64 <= *hi),
            _ => false,
        }
    }
}
