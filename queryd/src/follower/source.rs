//! Reading the next rows after the cursor from a catalog [`Snapshot`], in seq order, and
//! deciding when a gap in the seqs is final (see the module documentation of
//! [`crate::follower`] for the rule).

use std::time::{Duration, Instant};

use opentrace_shared::{Col, Row, Seq};

use crate::catalog::Snapshot;
use crate::query::{EnvRestriction, Filter, Order, SearchOpts, search_columns};

/// The columns the follower's state is derived from (`apply.rs`): decoding only these keeps
/// it from decompressing bodies and other large columns for every page.
const FOLLOWED_COLUMNS: &[Col] = &[
    Col::Seq,
    Col::Ts,
    Col::Env,
    Col::Service,
    Col::Version,
    Col::ErrorFingerprint,
    Col::ErrorClass,
    Col::ErrorMessage,
    Col::Message,
    Col::SourceFile,
    Col::SourceLine,
    Col::UserId,
];

/// What the source found after the cursor.
#[derive(Debug)]
pub(crate) enum Next {
    /// Nothing visible after the cursor.
    Idle,
    /// Rows exist after a gap that is not final yet: wait.
    Gap {
        /// First missing seq.
        from: Seq,
        /// Last missing seq.
        to: Seq,
    },
    /// Rows to apply, contiguous in seq, in seq order; `skipped` is the final gap before
    /// them (if any).
    Rows {
        /// The rows.
        rows: Vec<Row>,
        /// A gap `(from, to)` declared final and skipped before the rows.
        skipped: Option<(Seq, Seq)>,
    },
}

/// How long a gap has been seen, to apply the grace period.
#[derive(Debug, Default)]
pub(crate) struct GapClock {
    /// The gap's first missing seq and since when it has been seen.
    seen: Option<(Seq, Instant)>,
    /// Since when scans have been reporting errors (a missing row may be an unreadable one).
    errors_since: Option<Instant>,
}

/// Rows in `[lo, hi]` (seq), at most `limit`, plus whether the scan hit unreadable units.
fn rows_in(snap: &Snapshot, lo: u64, hi: u64, limit: usize) -> (Vec<Row>, bool) {
    let mut f = Filter::new(EnvRestriction::All);
    f.seq_min = Some(Seq(lo));
    f.seq_max = Some(Seq(hi));
    let r = search_columns(
        snap,
        &f,
        SearchOpts {
            limit,
            order: Order::OldestFirst,
            cursor: None,
        },
        Some(FOLLOWED_COLUMNS),
    );
    (r.rows, !r.stats.errors.is_empty())
}

/// The smallest visible seq in `(after, after + window]`-style search: the smallest seq
/// greater than `after`, or `None` if no row after it is visible. Grows the probed range
/// exponentially, then bisects with existence probes.
fn smallest_after(snap: &Snapshot, after: u64, page: u64) -> Option<u64> {
    let exists = |lo: u64, hi: u64| !rows_in(snap, lo, hi, 1).0.is_empty();
    if !exists(after.saturating_add(1), u64::MAX >> 1) {
        return None;
    }
    let mut lo = after.saturating_add(1);
    let mut width = page.max(1);
    // Find a range [lo, hi] holding a row, with [after+1, lo-1] empty.
    loop {
        let hi = lo.saturating_add(width - 1);
        if exists(lo, hi) {
            // Bisect inside [lo, hi] for the smallest seq.
            let (mut a, mut b) = (lo, hi);
            while a < b {
                let mid = a + (b - a) / 2;
                if exists(a, mid) {
                    b = mid;
                } else {
                    a = mid + 1;
                }
            }
            return Some(a);
        }
        if hi >= (u64::MAX >> 1) {
            return None;
        }
        lo = hi + 1;
        width = width.saturating_mul(2);
    }
}

/// Whether the hour holding `seq` (a chunk or WAL whose seq range contains it) is sealed.
fn hour_of_seq_sealed(snap: &Snapshot, seq: Seq) -> bool {
    snap.hours().iter().any(|h| {
        h.is_sealed()
            && (h.chunks.iter().any(|c| {
                c.zone()
                    .seq
                    .as_ref()
                    .is_some_and(|r| r.min <= seq && seq <= r.max)
            }) || h
                .wals
                .iter()
                .any(|w| w.seq_range().is_some_and(|(a, b)| a <= seq && seq <= b)))
    })
}

/// Reads what comes after `cursor`: up to `page` rows, contiguous in seq.
pub(crate) fn next(
    snap: &Snapshot,
    cursor: Seq,
    page: usize,
    grace: Duration,
    clock: &mut GapClock,
) -> Next {
    let page = page.max(1);
    let c = cursor.0;
    let (mut rows, mut errors) = rows_in(snap, c + 1, c + page as u64, page);
    rows.sort_by_key(|r| r.seq);
    let starts_at_next = rows.first().is_some_and(|r| r.seq.0 == c + 1);
    if !starts_at_next {
        // Either nothing, or a gap right after the cursor.
        let first = match rows.first() {
            Some(r) => r.seq.0,
            None => match smallest_after(snap, c, page as u64) {
                Some(s) => {
                    let (r, e) = rows_in(snap, s, s + page as u64 - 1, page);
                    rows = r;
                    errors |= e;
                    rows.sort_by_key(|r| r.seq);
                    s
                }
                None => {
                    clock.seen = None;
                    note_errors(clock, errors);
                    return Next::Idle;
                }
            },
        };
        let gap = (Seq(c + 1), Seq(first - 1));
        note_errors(clock, errors);
        let since = match clock.seen {
            Some((from, t)) if from == gap.0 => t,
            _ => {
                let now = Instant::now();
                clock.seen = Some((gap.0, now));
                now
            }
        };
        // A missing row may be an unreadable one: with scan errors, wait ten graces.
        let errors_ok = clock
            .errors_since
            .is_none_or(|t| t.elapsed() >= grace.saturating_mul(10));
        let final_gap =
            errors_ok && (hour_of_seq_sealed(snap, Seq(first)) || since.elapsed() >= grace);
        if !final_gap {
            return Next::Gap {
                from: gap.0,
                to: gap.1,
            };
        }
        clock.seen = None;
        let rows = contiguous_prefix(rows);
        return Next::Rows {
            rows,
            skipped: Some(gap),
        };
    }
    clock.seen = None;
    note_errors(clock, errors);
    Next::Rows {
        rows: contiguous_prefix(rows),
        skipped: None,
    }
}

fn note_errors(clock: &mut GapClock, errors: bool) {
    if errors {
        clock.errors_since.get_or_insert_with(Instant::now);
    } else {
        clock.errors_since = None;
    }
}

/// The rows up to the first discontinuity in seq (rows must be sorted by seq). Duplicated
/// seqs (never produced by the catalog) are dropped.
fn contiguous_prefix(rows: Vec<Row>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::with_capacity(rows.len());
    for r in rows {
        match out.last() {
            None => out.push(r),
            Some(p) if r.seq.0 == p.seq.0 + 1 => out.push(r),
            Some(p) if r.seq == p.seq => {}
            Some(_) => break,
        }
    }
    out
}
