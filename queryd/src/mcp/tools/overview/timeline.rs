//! `overview timeline`: what happened in the window, in time order (at most 200 events):
//! the first error row of every error group in the window, the deploys, and the error-group
//! lifecycle events (resolved, ignored, reopened). Window: since/until or start/end
//! (default the last 2 h), optionally one `service`.
//!
//! **probable_root_cause.** The *burst* is the error group with the most error rows in the
//! window among the groups first seen in it (or among all groups when none is new); it
//! starts at its first row in the window. The cause is, in order of preference: the latest
//! deploy of the burst's service and environment in the hour before the burst started; the
//! latest deploy of any service in that hour; else the earliest first-error event in the 15
//! minutes before the burst started (which may be the burst itself).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use super::measure::{WindowGroup, approx, errors_only, window_groups};
use super::{attach_mentioned, scoped_filter, service_arg, window};
use crate::mcp::args::fmt_ts;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::tools::logs::rows::cut;
use crate::mcp::tools::platform_error;
use crate::platform::UnixMicros;
use crate::platform::deploys::DeployQuery;
use crate::platform::errors::ErrorGroup;
use crate::query::{Order, SearchOpts, search};

const MAX_EVENTS: usize = 200;
/// Error groups placed on the timeline (most error rows first).
const MAX_GROUPS: usize = 50;
const HOUR_US: i64 = 3_600_000_000;
const QUIET_US: i64 = 15 * 60_000_000;

/// One timeline entry before rendering.
struct Event {
    time_us: i64,
    /// Order among events of the same instant: deploys, then lifecycle, then errors.
    order: u8,
    kind: String,
    service: String,
    environment: String,
    body: Value,
}

impl Event {
    fn json(&self) -> Value {
        let mut v = json!({
            "time": fmt_ts(self.time_us),
            "type": self.kind,
            "service": self.service,
            "environment": self.environment,
        });
        if let (Value::Object(m), Value::Object(extra)) = (&mut v, &self.body) {
            m.extend(extra.clone());
        }
        v
    }
}

/// The error events with their window counts, for the root-cause rule.
struct Burst<'a> {
    event: &'a Event,
    group: &'a WindowGroup,
    new: bool,
}

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = window(call, "2h", now)?;
    let service = service_arg(call)?;
    let (filter, scope) = scoped_filter(call, &window, service)?;
    let restriction = scope.restriction();
    let snap = call.catalog.snapshot();

    let mut groups: HashMap<(String, String), Option<ErrorGroup>> = HashMap::new();
    let mut lookup = |fp: &str, env: &str| -> Result<Option<ErrorGroup>, ToolError> {
        let key = (fp.to_string(), env.to_string());
        if let Some(g) = groups.get(&key) {
            return Ok(g.clone());
        }
        let g = call
            .platform
            .get_error_group(&restriction, fp, Some(env))
            .map_err(platform_error)?;
        groups.insert(key, g.clone());
        Ok(g)
    };

    // First error row of each group in the window.
    let wgs = window_groups(&snap, &filter, MAX_GROUPS);
    let mut errors: Vec<(Event, usize, bool)> = Vec::new();
    for (i, wg) in wgs.iter().enumerate() {
        let mut f = errors_only(&filter);
        f.fingerprint = Some(wg.fingerprint.clone());
        f.narrow_env(&wg.environment);
        let res = search(
            &snap,
            &f,
            SearchOpts {
                limit: 1,
                order: Order::OldestFirst,
                cursor: None,
            },
        );
        let Some(row) = res.rows.first() else {
            continue;
        };
        let group = lookup(&wg.fingerprint, &wg.environment)?;
        let new = group
            .as_ref()
            .is_some_and(|g| g.first_seen_at.0 >= window.from_us);
        let class = row
            .error_class
            .clone()
            .or_else(|| group.as_ref().map(|g| g.exception_class.clone()))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| String::from("error"));
        let message = row.error_message.as_deref().unwrap_or(&row.message);
        errors.push((
            Event {
                time_us: row.ts,
                order: 2,
                kind: String::from("error"),
                service: row.service.clone(),
                environment: row.env.clone(),
                body: json!({
                    "title": format!("first {class} in the window: {}", cut(message, 150).0),
                    "fingerprint": wg.fingerprint,
                    "log_id": row.seq.0,
                    "errors_in_window": wg.count,
                    "new_group": new,
                }),
            },
            i,
            new,
        ));
    }

    let deploys = call
        .platform
        .list_deploys(
            &restriction,
            &DeployQuery {
                service: service.map(str::to_string),
                since: Some(UnixMicros(window.from_us)),
                until: Some(UnixMicros(window.to_us)),
                limit: MAX_EVENTS as u32,
            },
        )
        .map_err(platform_error)?;
    let deploy_events: Vec<Event> = deploys
        .iter()
        .map(|d| Event {
            time_us: d.first_seen_at.0,
            order: 0,
            kind: String::from("deploy"),
            service: d.service.clone(),
            environment: d.environment.clone(),
            body: json!({"title": format!("deploy {} of {}", d.version, d.service), "version": d.version}),
        })
        .collect();

    let lifecycle = call
        .platform
        .error_events_between(
            &restriction,
            UnixMicros(window.from_us),
            UnixMicros(window.to_us),
            MAX_EVENTS as u32,
        )
        .map_err(platform_error)?;
    let mut lifecycle_events = Vec::new();
    for e in &lifecycle {
        let Some(g) = lookup(&e.fingerprint, &e.environment)? else {
            continue;
        };
        if service.is_some_and(|s| s != g.service) {
            continue;
        }
        let class = if g.exception_class.is_empty() {
            "error"
        } else {
            &g.exception_class
        };
        let mut body = json!({
            "title": format!("{class} group {}", e.action),
            "fingerprint": e.fingerprint,
        });
        if let Some(r) = &e.reason {
            body["reason"] = json!(cut(r, 200).0);
        }
        lifecycle_events.push(Event {
            time_us: e.created_at.0,
            order: 1,
            kind: format!("error_{}", e.action),
            service: g.service.clone(),
            environment: g.environment.clone(),
            body,
        });
    }

    let bursts: Vec<Burst<'_>> = errors
        .iter()
        .map(|(ev, i, new)| Burst {
            event: ev,
            group: &wgs[*i],
            new: *new,
        })
        .collect();
    let root = root_cause(&bursts, &deploy_events);
    let blast = blast_radius(&bursts);

    let mut all: Vec<&Event> = errors
        .iter()
        .map(|(e, _, _)| e)
        .chain(deploy_events.iter())
        .chain(lifecycle_events.iter())
        .collect();
    all.sort_by(|a, b| a.time_us.cmp(&b.time_us).then(a.order.cmp(&b.order)));
    let total = all.len();
    let timeline: Vec<Value> = all.iter().take(MAX_EVENTS).map(|e| e.json()).collect();

    let mut body = json!({
        "window": window.echo(),
        "environment": scope.describe(),
        "events_total": total,
        "event_types": {
            "error": errors.len(),
            "deploy": deploys.len(),
            "lifecycle": lifecycle_events.len(),
        },
        "blast_radius": blast,
        "probable_root_cause": root,
        "root_cause_rule": "burst = the error group with the most errors among groups new in the window (else among all); cause = the latest deploy of its service in the hour before it started, else the latest deploy of any service in that hour, else the earliest first error in the 15 minutes before it",
        "timeline": timeline,
        "coverage_notes": format!("errors: first row of each of the {MAX_GROUPS} groups with the most errors in the window; lifecycle events: at most {MAX_EVENTS}; timeline: at most {MAX_EVENTS} events, oldest first"),
    });
    if let Some(s) = service {
        body["service"] = json!(s);
    }
    if let Some(events) = body["timeline"].as_array().cloned() {
        attach_mentioned(call, &mut body, service, &events);
    }
    let mut out = ToolOutput::new(body);
    if let Some(fp) = root_fingerprint(&bursts) {
        out = out.suggest(
            "logs",
            json!({"action": "search", "error_fingerprint": fp, "since": window.since, "order": "asc"}),
            "the burst's error rows from its start",
        );
    }
    Ok(out)
}

/// The burst: most errors among new groups, else among all.
fn burst<'a, 'b>(bursts: &'b [Burst<'a>]) -> Option<&'b Burst<'a>> {
    let most = |a: &&Burst<'_>, b: &&Burst<'_>| {
        a.group
            .count
            .cmp(&b.group.count)
            .then(b.event.time_us.cmp(&a.event.time_us))
    };
    bursts
        .iter()
        .filter(|b| b.new)
        .max_by(most)
        .or_else(|| bursts.iter().max_by(most))
}

fn root_fingerprint(bursts: &[Burst<'_>]) -> Option<String> {
    burst(bursts).map(|b| b.group.fingerprint.clone())
}

/// The probable root cause by the rule of the module documentation.
fn root_cause(bursts: &[Burst<'_>], deploys: &[Event]) -> Value {
    let Some(b) = burst(bursts) else {
        return Value::Null;
    };
    let start = b.event.time_us;
    let in_hour = |d: &&Event| d.time_us <= start && start - d.time_us <= HOUR_US;
    let latest = |a: &&Event, c: &&Event| a.time_us.cmp(&c.time_us);
    let same = deploys
        .iter()
        .filter(in_hour)
        .filter(|d| d.service == b.event.service && d.environment == b.event.environment)
        .max_by(latest);
    let cause = same.or_else(|| deploys.iter().filter(in_hour).max_by(latest));
    let burst_desc = format!(
        "the burst of {} errors of group {} in {} that started {}",
        b.group.count,
        b.group.fingerprint,
        b.event.service,
        fmt_ts(start)
    );
    let (event, reason) = match cause {
        Some(d) => (
            d,
            format!(
                "{} happened {} before {burst_desc}",
                d.body["title"].as_str().unwrap_or("a deploy"),
                approx(start - d.time_us)
            ),
        ),
        None => {
            let earliest = bursts
                .iter()
                .map(|x| x.event)
                .filter(|e| e.time_us <= start && start - e.time_us <= QUIET_US)
                .min_by_key(|e| e.time_us)
                .unwrap_or(b.event);
            (
                earliest,
                format!(
                    "no deploy in the hour before {burst_desc}; this is the earliest error in the 15 minutes before it"
                ),
            )
        }
    };
    let mut v = event.json();
    v["reason"] = json!(reason);
    v
}

/// Services, environments, groups and error rows affected in the window.
fn blast_radius(bursts: &[Burst<'_>]) -> Value {
    let services: BTreeSet<&str> = bursts.iter().map(|b| b.event.service.as_str()).collect();
    let envs: BTreeSet<&str> = bursts
        .iter()
        .map(|b| b.event.environment.as_str())
        .collect();
    let rows: u64 = bursts.iter().map(|b| b.group.count).sum();
    json!({
        "services": services,
        "environments": envs,
        "error_groups": bursts.len(),
        "new_error_groups": bursts.iter().filter(|b| b.new).count(),
        "error_rows": rows,
    })
}
