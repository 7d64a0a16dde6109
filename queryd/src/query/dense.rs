//! Dense counting over one chunk.
//!
//! When every group-key part maps to a small integer range within a chunk (a dictionary id,
//! a time bucket within the chunk's `ts` range, an integer column with a small range) and only
//! counts are asked ([`Metric::Count`], [`Metric::CountErrors`]), the matching rows are counted
//! in a flat array indexed by the mixed-radix code of their key: no hashing, no allocation per
//! row, and no string is touched until the few non-empty slots are turned into keys at the end.
//! Anything else returns `None` and the caller takes the general path (same results; the
//! query-engine tests compare both against brute force).

use opentrace_shared::chunk::{Column, ColumnValues, Nulls};
use opentrace_shared::{Col, LogicalType, Value};

use super::aggregate::{GroupKey, Metric};

/// Largest flat array (slots) the dense path allocates for one chunk.
const MAX_SLOTS: usize = 1 << 16;

/// Largest span of values an integer key part may cover.
const MAX_INT_SPAN: i64 = 4096;

/// One key part, as a code in `0..radix` per row (0 is null).
enum Part<'c> {
    /// Dictionary ids: code `id + 1`.
    Dict {
        col: &'c Column,
        dict: &'c [String],
        ids: &'c [u32],
    },
    /// Integers divided by `width` (1 for a plain column): code `v / width - lo + 1`.
    Int {
        col: &'c Column,
        vals: &'c [i64],
        width: i64,
        lo: i64,
        radix: usize,
        bool_type: bool,
    },
    /// A column with no values: always code 0.
    Null,
}

impl Part<'_> {
    fn radix(&self) -> usize {
        match self {
            Part::Dict { dict, .. } => dict.len() + 1,
            Part::Int { radix, .. } => *radix,
            Part::Null => 1,
        }
    }

    #[inline]
    fn code(&self, i: usize) -> usize {
        match self {
            Part::Dict { col, dict, ids } => match ids.get(i) {
                Some(&id) if (id as usize) < dict.len() && !col.is_null(i) => id as usize + 1,
                _ => 0,
            },
            Part::Int {
                col,
                vals,
                width,
                lo,
                radix,
                ..
            } => match vals.get(i) {
                Some(&v) if !col.is_null(i) => {
                    let c = v.div_euclid(*width) - lo + 1;
                    if c > 0 && (c as usize) < *radix {
                        c as usize
                    } else {
                        0
                    }
                }
                _ => 0,
            },
            Part::Null => 0,
        }
    }

    fn key(&self, code: usize) -> Value {
        if code == 0 {
            return Value::Null;
        }
        match self {
            Part::Dict { dict, .. } => dict
                .get(code - 1)
                .map_or(Value::Null, |s| Value::Str(s.clone())),
            Part::Int {
                width,
                lo,
                bool_type,
                ..
            } => {
                let v = (lo + code as i64 - 1) * width;
                if *bool_type {
                    Value::Bool(v != 0)
                } else {
                    Value::Int(v)
                }
            }
            Part::Null => Value::Null,
        }
    }
}

/// Builds the key part for `col` divided by `width` over the rows `set`, if it is dense.
fn part<'c>(col: &'c Column, width: i64, set: &[u32]) -> Option<Part<'c>> {
    match col.values() {
        ColumnValues::Null => Some(Part::Null),
        _ if matches!(col.nulls(), Nulls::All) => Some(Part::Null),
        ColumnValues::Dict { dict, ids } => Some(Part::Dict { col, dict, ids }),
        ColumnValues::Int(vals) => {
            let (mut lo, mut hi) = (i64::MAX, i64::MIN);
            for &i in set {
                let i = i as usize;
                if let Some(&v) = vals.get(i)
                    && !col.is_null(i)
                {
                    let b = v.div_euclid(width);
                    lo = lo.min(b);
                    hi = hi.max(b);
                }
            }
            if lo > hi {
                return Some(Part::Null);
            }
            let span = hi.checked_sub(lo)?;
            if span >= MAX_INT_SPAN {
                return None;
            }
            Some(Part::Int {
                col,
                vals,
                width,
                lo,
                radix: span as usize + 2,
                bool_type: col.col().def().ty == LogicalType::Bool,
            })
        }
        ColumnValues::Str(_) => None,
    }
}

/// Per row, whether the level is error or fatal; `None` if the level column is not
/// dictionary encoded (the general path then decides).
fn error_flags(level: Option<&Column>) -> Option<Vec<bool>> {
    match level.map(Column::values) {
        None | Some(ColumnValues::Null) => Some(Vec::new()),
        Some(ColumnValues::Dict { dict, .. }) => Some(
            dict.iter()
                .map(|l| matches!(l.as_str(), "error" | "fatal"))
                .collect(),
        ),
        Some(_) => None,
    }
}

/// Counts the rows `set` of a chunk by `group_by`, with `cols` the decoded columns the spec
/// needs. Returns `(key, count, errors)` per non-empty group, or `None` when the dense path
/// does not apply.
pub(crate) fn count(
    cols: &[Column],
    set: &[u32],
    group_by: &[GroupKey],
    metrics: &[Metric],
) -> Option<Vec<(Vec<Value>, u64, u64)>> {
    if !metrics
        .iter()
        .all(|m| matches!(m, Metric::Count | Metric::CountErrors))
    {
        return None;
    }
    let by_col = |c: Col| cols.iter().find(|x| x.col() == c);
    let mut parts = Vec::with_capacity(group_by.len());
    for k in group_by {
        let p = match k {
            GroupKey::Column(c) => match by_col(*c) {
                Some(col) => part(col, 1, set)?,
                None => Part::Null,
            },
            GroupKey::TimeBucket { width_us } if *width_us > 0 => match by_col(Col::Ts) {
                Some(col) => part(col, *width_us, set)?,
                None => Part::Null,
            },
            GroupKey::TimeBucket { .. } => Part::Null,
        };
        parts.push(p);
    }
    let mut slots = 1usize;
    for p in &parts {
        slots = slots.checked_mul(p.radix())?;
        if slots > MAX_SLOTS {
            return None;
        }
    }
    let level = by_col(Col::Level);
    let err_by_id = error_flags(level)?;
    let level_ids = level.and_then(|col| match col.values() {
        ColumnValues::Dict { ids, .. } => Some((col, ids.as_slice())),
        _ => None,
    });
    let mut counts = vec![[0u32; 2]; slots];
    for &i in set {
        let i = i as usize;
        let mut code = 0usize;
        for p in &parts {
            code = code * p.radix() + p.code(i);
        }
        let is_err = match level_ids {
            Some((col, ids)) => {
                !col.is_null(i)
                    && ids
                        .get(i)
                        .and_then(|&id| err_by_id.get(id as usize))
                        .copied()
                        .unwrap_or(false)
            }
            _ => false,
        };
        if let Some(slot) = counts.get_mut(code) {
            slot[0] += 1;
            slot[1] += u32::from(is_err);
        }
    }
    let mut out = Vec::new();
    for (code, c) in counts.iter().enumerate() {
        if c[0] == 0 {
            continue;
        }
        let mut key = vec![Value::Null; parts.len()];
        let mut rest = code;
        for (slot, p) in key.iter_mut().zip(&parts).rev() {
            *slot = p.key(rest % p.radix());
            rest /= p.radix();
        }
        out.push((key, u64::from(c[0]), u64::from(c[1])));
    }
    Some(out)
}
