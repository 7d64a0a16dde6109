//! Measurements the overview actions share: row and error counts of a filter (an error is
//! a row of level `error` or `fatal`, the rows that get a fingerprint and form error
//! groups), error rows per group within a window, the top groups rendered with their
//! in-window counts, and the newest error rows.

use opentrace_shared::{Col, Level, Value as CellValue};
use serde_json::{Value, json};

use crate::catalog::Snapshot;
use crate::mcp::args::{fmt_duration, fmt_ts};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::ToolError;
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::groups::group_json;
use crate::mcp::tools::logs::rows::{Cuts, pct, row_json};
use crate::mcp::tools::platform_error;
use crate::query::{
    AggMode, AggSpec, Filter, GroupKey, Metric, MetricValue, Order, SearchOpts, aggregate, search,
};

/// How error rates are computed, stated in responses.
pub(super) const RATE_BASIS: &str =
    "error_rate_pct = rows of level error or fatal / all rows, same scope and window";

/// A duration for people: whole seconds under a minute, else whole minutes (`90m`, `2h`).
pub(super) fn approx(us: i64) -> String {
    let us = us.max(0);
    if us < 60_000_000 {
        fmt_duration((us / 1_000_000).max(1) * 1_000_000)
    } else {
        fmt_duration((us + 30_000_000) / 60_000_000 * 60_000_000)
    }
}

/// Rows and error rows of one filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Rows matched.
    pub rows: u64,
    /// Of which level error or fatal.
    pub errors: u64,
}

impl Counts {
    /// The error fraction (0 without rows).
    pub fn rate(&self) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            self.errors as f64 / self.rows as f64
        }
    }

    /// `{rows, errors, error_rate_pct}`.
    pub fn json(&self) -> Value {
        json!({"rows": self.rows, "errors": self.errors, "error_rate_pct": pct(self.errors, self.rows)})
    }
}

/// Counts rows and error rows of `f`.
pub(crate) fn counts(snap: &Snapshot, f: &Filter) -> Counts {
    let r = aggregate(
        snap,
        f,
        &AggSpec {
            group_by: vec![],
            metrics: vec![Metric::Count, Metric::CountErrors],
            limit_groups: 0,
        },
        AggMode::Auto,
    );
    let errors = match r.groups.first().and_then(|g| g.metrics.get(1)) {
        Some(MetricValue::Count(e)) => *e,
        _ => 0,
    };
    Counts {
        rows: r.total_count,
        errors,
    }
}

/// `f` narrowed to error rows (level error or fatal).
pub(super) fn errors_only(f: &Filter) -> Filter {
    let mut e = f.clone();
    e.levels = Some(vec![Level::Error, Level::Fatal]);
    e
}

/// Error rows of one group within a filter's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WindowGroup {
    /// Error fingerprint.
    pub fingerprint: String,
    /// Environment of the rows.
    pub environment: String,
    /// Error rows in the window.
    pub count: u64,
    /// First error row in the window (µs).
    pub first_us: i64,
    /// Last error row in the window (µs).
    pub last_us: i64,
}

impl WindowGroup {
    /// `{count, first, last}` of the window.
    pub fn json(&self) -> Value {
        json!({"count": self.count, "first": fmt_ts(self.first_us), "last": fmt_ts(self.last_us)})
    }
}

/// Error rows of `f` per (fingerprint, environment), most first, at most `limit` groups
/// (0: all).
pub(super) fn window_groups(snap: &Snapshot, f: &Filter, limit: usize) -> Vec<WindowGroup> {
    let r = aggregate(
        snap,
        &errors_only(f),
        &AggSpec {
            group_by: vec![
                GroupKey::Column(Col::ErrorFingerprint),
                GroupKey::Column(Col::Env),
            ],
            metrics: vec![Metric::Count, Metric::Min(Col::Ts), Metric::Max(Col::Ts)],
            limit_groups: limit,
        },
        AggMode::Auto,
    );
    let int = |m: Option<&MetricValue>| match m {
        Some(MetricValue::Int(Some(x))) => *x,
        _ => 0,
    };
    r.groups
        .iter()
        .filter_map(|g| match (g.key.first(), g.key.get(1)) {
            (Some(CellValue::Str(fp)), Some(CellValue::Str(env))) => Some(WindowGroup {
                fingerprint: fp.clone(),
                environment: env.clone(),
                count: g.count,
                first_us: int(g.metrics.get(1)),
                last_us: int(g.metrics.get(2)),
            }),
            _ => None,
        })
        .collect()
}

/// The `n` groups with the most error rows in `f`'s window, each as the group's JSON plus
/// `in_window` counts (a group the follower has not derived yet shows only its counts).
pub(super) fn top_errors(
    call: &ToolCall<'_>,
    scope: &EnvScope,
    snap: &Snapshot,
    f: &Filter,
    n: usize,
) -> Result<Vec<Value>, ToolError> {
    let restriction = scope.restriction();
    let mut out = Vec::new();
    for wg in window_groups(snap, f, n) {
        let group = call
            .platform
            .get_error_group(&restriction, &wg.fingerprint, Some(&wg.environment))
            .map_err(platform_error)?;
        let mut v = match group {
            Some(g) => group_json(&g),
            None => json!({
                "fingerprint": wg.fingerprint,
                "environment": wg.environment,
                "note": "error group not derived yet; it appears within seconds",
            }),
        };
        v["in_window"] = wg.json();
        out.push(v);
    }
    Ok(out)
}

/// The newest `n` error rows of `f`, and the note to add when messages were cut.
pub(super) fn recent_errors(snap: &Snapshot, f: &Filter, n: usize) -> (Vec<Value>, Option<Value>) {
    let res = search(
        snap,
        &errors_only(f),
        SearchOpts {
            limit: n,
            order: Order::NewestFirst,
            cursor: None,
        },
    );
    let mut cuts = Cuts::default();
    let rows = res.rows.iter().map(|r| row_json(r, &mut cuts)).collect();
    (rows, cuts.note())
}
