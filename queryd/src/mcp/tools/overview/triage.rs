//! `overview triage`: what needs attention now, at most 20 items, ranked. The look-back
//! window defaults to 24 h (any `since`, including `last_deploy`, works).
//!
//! Items:
//! - **new_error**: an unresolved group first seen in the window. When the latest deploy of
//!   the same service and environment at or before its first occurrence is at most 6 h
//!   older, and is a real change (an earlier version of that service exists), the item
//!   names it ("... since deploy v2 of checkout") and is **critical, tier 3** (tier 2 when
//!   the group has no exception class: a bare failing request, usually the symptom of a
//!   classed error in the same requests); otherwise warning, tier 1. Score: occurrences.
//! - **error_spike**: a group (not new, not ignored) whose error rows in the last hour of
//!   the window are at least 5 and at least 3× its hourly rate in the rest of the window
//!   (a group absent before counts as one occurrence there). Critical at 10× and 20 rows,
//!   else warning; tier 1. Score: the ratio.
//! - **deploy**: a deploy in the window that replaced an earlier version. Its error rate in
//!   `w = min(1 h, now − deploy)` after it is compared with the `w` before it (rate = error
//!   rows / rows of that service and environment). Critical when the rate at least doubled
//!   with 3+ errors after, warning at +25 %, else info; tier 2. Score: the ratio (999 when
//!   the rate was 0 before).
//!
//! Order: severity, then tier, then score, then newest first.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::measure::{Counts, approx, counts, window_groups};
use super::{attach_mentioned, scoped_filter, service_arg, window};
use crate::catalog::Snapshot;
use crate::mcp::args::{Window, fmt_ts};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::logs::rows::{cut, pct};
use crate::mcp::tools::platform_error;
use crate::platform::UnixMicros;
use crate::platform::deploys::{Deploy, DeployQuery};
use crate::platform::errors::{ErrorGroup, GroupQuery, GroupSort, GroupStatus};
use crate::query::{EnvRestriction, Filter};

const MAX_ITEMS: usize = 20;
const HOUR_US: i64 = 3_600_000_000;
/// A new group is attributed to a deploy at most this long after it.
const DEPLOY_ATTRIBUTION_US: i64 = 6 * HOUR_US;
/// A deploy younger than this is not compared yet.
const MIN_COMPARE_US: i64 = 60_000_000;
/// Groups and deploys examined.
const EXAMINE: u32 = 50;

/// How urgent an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One ranked item before rendering.
struct Item {
    kind: &'static str,
    severity: Severity,
    tier: u8,
    score: f64,
    time_us: i64,
    title: String,
    detail: String,
    ids: Value,
    numbers: Option<Value>,
}

impl Item {
    fn json(&self) -> Value {
        let mut v = json!({
            "type": self.kind,
            "severity": self.severity.as_str(),
            "title": self.title,
            "detail": self.detail,
            "time": fmt_ts(self.time_us),
            "ids": self.ids,
            "score": (self.score * 100.0).round() / 100.0,
        });
        if let Some(n) = &self.numbers {
            v["numbers"] = n.clone();
        }
        v
    }

    fn rank(a: &Item, b: &Item) -> Ordering {
        b.severity
            .cmp(&a.severity)
            .then(b.tier.cmp(&a.tier))
            .then(b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal))
            .then(b.time_us.cmp(&a.time_us))
    }
}

/// What every collector needs.
struct Ctx<'a, 'c> {
    call: &'a ToolCall<'c>,
    restriction: EnvRestriction,
    snap: &'a Snapshot,
    filter: &'a Filter,
    window: &'a Window,
    service: Option<&'a str>,
    now: i64,
}

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = window(call, "24h", now)?;
    let service = service_arg(call)?;
    let (filter, scope): (Filter, EnvScope) = scoped_filter(call, &window, service)?;
    let snap = call.catalog.snapshot();
    let ctx = Ctx {
        call,
        restriction: scope.restriction(),
        snap: &snap,
        filter: &filter,
        window: &window,
        service,
        now,
    };
    let mut items = Vec::new();
    let new_fps = new_errors(&ctx, &mut items)?;
    spikes(&ctx, &new_fps, &mut items)?;
    deploys(&ctx, &mut items)?;
    items.sort_by(Item::rank);
    let found = items.len();
    items.truncate(MAX_ITEMS);
    let by = |s: Severity| items.iter().filter(|i| i.severity == s).count();
    let rendered: Vec<Value> = items.iter().map(Item::json).collect();
    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "summary": {
            "critical": by(Severity::Critical),
            "warning": by(Severity::Warning),
            "info": by(Severity::Info),
            "found": found,
        },
        "items": rendered,
        "ranking": "severity, then new errors after a deploy, deploys, spikes and other new errors, then score (occurrences or spike/rate ratio)",
    });
    if rendered.is_empty() {
        body["message"] = json!("nothing needs attention in this window");
    }
    let mentioned: Vec<Value> = items.iter().map(|i| i.ids.clone()).collect();
    attach_mentioned(call, &mut body, service, &mentioned);
    let mut out = ToolOutput::new(body);
    if let Some(first) = items.first() {
        if let Some(fp) = first.ids.get("fingerprint").and_then(Value::as_str) {
            out = out.suggest(
                "logs",
                json!({"action": "search", "error_fingerprint": fp, "since": window.since}),
                "the rows of the top item's error group",
            );
        }
        if let Some(svc) = first.ids.get("service").and_then(Value::as_str) {
            out = out.suggest(
                "overview",
                json!({"action": "changes", "service": svc, "since": "last_deploy"}),
                "what changed in that service since its last deploy",
            );
        }
    }
    Ok(out)
}

/// Deploys of the caller's scope (optionally one service) first seen in `[since, until)`,
/// newest first, at most [`EXAMINE`].
fn list_deploys(
    ctx: &Ctx<'_, '_>,
    service: Option<&str>,
    since_us: Option<i64>,
    until_us: i64,
) -> Result<Vec<Deploy>, ToolError> {
    let q = DeployQuery {
        service: service.map(str::to_string),
        since: since_us.map(UnixMicros),
        until: Some(UnixMicros(until_us)),
        limit: EXAMINE,
    };
    ctx.call
        .platform
        .list_deploys(&ctx.restriction, &q)
        .map_err(platform_error)
}

/// Deploys of `service` in `env` first seen before `until_us`, newest first.
fn deploys_before(
    ctx: &Ctx<'_, '_>,
    service: &str,
    env: &str,
    until_us: i64,
) -> Result<Vec<Deploy>, ToolError> {
    let list = list_deploys(ctx, Some(service), None, until_us)?;
    Ok(list.into_iter().filter(|d| d.environment == env).collect())
}

fn class_of(g: &ErrorGroup) -> &str {
    if g.exception_class.is_empty() {
        "error"
    } else {
        &g.exception_class
    }
}

/// Unresolved groups first seen in the window; returns their (fingerprint, environment).
fn new_errors(
    ctx: &Ctx<'_, '_>,
    items: &mut Vec<Item>,
) -> Result<HashSet<(String, String)>, ToolError> {
    let page = ctx
        .call
        .platform
        .list_error_groups(
            &ctx.restriction,
            &GroupQuery {
                status: Some(GroupStatus::Unresolved),
                service: ctx.service.map(str::to_string),
                first_seen_since: Some(UnixMicros(ctx.window.from_us)),
                sort: GroupSort::FirstSeen,
                limit: EXAMINE,
                ..GroupQuery::default()
            },
        )
        .map_err(platform_error)?;
    let mut seen = HashSet::new();
    for g in page
        .groups
        .iter()
        .filter(|g| g.first_seen_at.0 < ctx.window.to_us)
    {
        seen.insert((g.fingerprint.clone(), g.environment.clone()));
        let first = g.first_seen_at.0;
        let before = deploys_before(ctx, &g.service, &g.environment, first.saturating_add(1))?;
        let deploy = match before.as_slice() {
            [d, prev, ..] if first - d.first_seen_at.0 <= DEPLOY_ATTRIBUTION_US => Some((d, prev)),
            _ => None,
        };
        let message = cut(&g.message, 200).0;
        let mut ids = json!({"fingerprint": g.fingerprint, "environment": g.environment, "service": g.service});
        let counts = format!(
            "{} occurrence(s), {} user(s), first seen {}",
            g.occurrence_count,
            g.unique_users,
            fmt_ts(first)
        );
        let item = match deploy {
            Some((d, prev)) => {
                ids["version"] = json!(d.version);
                ids["previous_version"] = json!(prev.version);
                Item {
                    kind: "new_error",
                    severity: Severity::Critical,
                    tier: if g.exception_class.is_empty() { 2 } else { 3 },
                    score: g.occurrence_count as f64,
                    time_us: first,
                    title: format!(
                        "New {} in {} since deploy {} of {}",
                        class_of(g),
                        g.service,
                        d.version,
                        d.service
                    ),
                    detail: format!(
                        "{message} — {counts}, {} after deploy {} (previous version {})",
                        approx(first - d.first_seen_at.0),
                        d.version,
                        prev.version
                    ),
                    ids,
                    numbers: None,
                }
            }
            None => Item {
                kind: "new_error",
                severity: Severity::Warning,
                tier: 1,
                score: g.occurrence_count as f64,
                time_us: first,
                title: format!("New {} in {}", class_of(g), g.service),
                detail: format!("{message} — {counts}"),
                ids,
                numbers: None,
            },
        };
        items.push(item);
    }
    Ok(seen)
}

/// Groups whose last hour of the window runs well above their earlier hourly rate.
fn spikes(
    ctx: &Ctx<'_, '_>,
    new_fps: &HashSet<(String, String)>,
    items: &mut Vec<Item>,
) -> Result<(), ToolError> {
    let w = ctx.window;
    let recent_from = w.from_us.max(w.to_us - HOUR_US);
    if recent_from - w.from_us < HOUR_US {
        return Ok(()); // no baseline of at least an hour
    }
    let mut recent_f = ctx.filter.clone();
    recent_f.ts_from = Some(recent_from);
    let mut base_f = ctx.filter.clone();
    base_f.ts_to = Some(recent_from);
    let recent = window_groups(ctx.snap, &recent_f, EXAMINE as usize);
    let base: HashMap<(String, String), u64> = window_groups(ctx.snap, &base_f, 0)
        .into_iter()
        .map(|g| ((g.fingerprint, g.environment), g.count))
        .collect();
    let base_hours = (recent_from - w.from_us) as f64 / HOUR_US as f64;
    let recent_hours = (w.to_us - recent_from) as f64 / HOUR_US as f64;
    for r in recent {
        let key = (r.fingerprint.clone(), r.environment.clone());
        if r.count < 5 || new_fps.contains(&key) {
            continue;
        }
        let before = base.get(&key).copied().unwrap_or(0);
        let base_rate = before.max(1) as f64 / base_hours;
        let ratio = (r.count as f64 / recent_hours) / base_rate;
        if ratio < 3.0 {
            continue;
        }
        let group = ctx
            .call
            .platform
            .get_error_group(&ctx.restriction, &r.fingerprint, Some(&r.environment))
            .map_err(platform_error)?;
        let Some(g) = group.filter(|g| g.status != GroupStatus::Ignored) else {
            continue;
        };
        let severity = if ratio >= 10.0 && r.count >= 20 {
            Severity::Critical
        } else {
            Severity::Warning
        };
        items.push(Item {
            kind: "error_spike",
            severity,
            tier: 1,
            score: ratio,
            time_us: r.last_us,
            title: format!(
                "{} in {} is spiking: {:.1}× its earlier rate",
                class_of(&g),
                g.service,
                ratio
            ),
            detail: format!(
                "{} — {} in the last {} vs {} in the {} before",
                cut(&g.message, 200).0,
                r.count,
                approx(w.to_us - recent_from),
                before,
                approx(recent_from - w.from_us)
            ),
            ids: json!({"fingerprint": g.fingerprint, "environment": g.environment, "service": g.service}),
            numbers: Some(json!({"last_hour": r.count, "before": before, "ratio": (ratio * 10.0).round() / 10.0})),
        });
    }
    Ok(())
}

/// Deploys in the window, each with its error rate just after vs just before.
fn deploys(ctx: &Ctx<'_, '_>, items: &mut Vec<Item>) -> Result<(), ToolError> {
    let list = list_deploys(ctx, ctx.service, Some(ctx.window.from_us), ctx.window.to_us)?;
    for d in &list {
        let at = d.first_seen_at.0;
        let before = deploys_before(ctx, &d.service, &d.environment, at)?;
        let Some(prev) = before.first() else {
            continue; // first sight of the service: nothing was replaced
        };
        let w = HOUR_US.min(ctx.now - at);
        let ids = json!({"service": d.service, "environment": d.environment, "version": d.version, "previous_version": prev.version});
        if w < MIN_COMPARE_US {
            items.push(Item {
                kind: "deploy",
                severity: Severity::Info,
                tier: 2,
                score: 0.0,
                time_us: at,
                title: format!("Deploy {} of {} just happened", d.version, d.service),
                detail: format!(
                    "replaced {}; too early to compare error rates",
                    prev.version
                ),
                ids,
                numbers: None,
            });
            continue;
        }
        let mut f = ctx.filter.clone();
        f.service = Some(d.service.clone());
        f.narrow_env(&d.environment);
        let measure = |from: i64, to: i64| -> Counts {
            let mut g = f.clone();
            g.ts_from = Some(from);
            g.ts_to = Some(to);
            counts(ctx.snap, &g)
        };
        let after = measure(at, at + w);
        let before = measure(at - w, at);
        if before.rows == 0 {
            continue; // no traffic before to compare with
        }
        let ratio = if before.errors == 0 {
            if after.errors > 0 { 999.0 } else { 1.0 }
        } else {
            (after.rate() / before.rate()).min(999.0)
        };
        let severity = match (after.errors >= 3, ratio) {
            (true, r) if r >= 2.0 => Severity::Critical,
            (true, r) if r >= 1.25 => Severity::Warning,
            _ => Severity::Info,
        };
        let verdict = if severity != Severity::Info {
            "error rate rose"
        } else if before.errors >= 3 && ratio <= 0.5 {
            "error rate fell"
        } else {
            "no significant change"
        };
        items.push(Item {
            kind: "deploy",
            severity,
            tier: 2,
            score: ratio,
            time_us: at,
            title: format!(
                "Deploy {} of {}: error rate {}% → {}%",
                d.version,
                d.service,
                pct(before.errors, before.rows),
                pct(after.errors, after.rows)
            ),
            detail: format!(
                "{verdict}: {} errors in {} rows in the {} after vs {} in {} rows in the {} before; replaced {}",
                after.errors,
                after.rows,
                approx(w),
                before.errors,
                before.rows,
                approx(w),
                prev.version
            ),
            ids,
            numbers: Some(json!({"window": approx(w), "after": after.json(), "before": before.json()})),
        });
    }
    Ok(())
}
