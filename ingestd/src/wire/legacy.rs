//! The legacy nested shape accepted on `POST /api/logs` (Node SDK 0.1.0, Ruby gem ≤ 0.16).
//!
//! Mapping (sdk-wire-format §6), applied only where the flat key is absent:
//!
//! | legacy key | becomes |
//! |---|---|
//! | `timestamp` | `ts` |
//! | `environment` | `env` |
//! | `commit_hash` | `version` |
//! | `exception_class` / `exception_message` | `error_class` / `error_message` |
//! | `metadata` (object) | merged into `body.context` (existing keys win); its `method`, `path`, `route`, `status`, `duration_ms`, `controller`, `action`, `user_id`, `tenant_id`, `session_id`, `request_id`, `trace_id`, `span_id`, `exception_class`, `exception_message`, `git_sha`, `source_file`, `source_line` also fill the matching columns |
//! | `request_summary` (camelCase or snake_case) | request columns (table below); the object itself is kept as `body.performance` and its `timeline` as `body.timeline` |
//! | `backtrace` | `body.backtrace` |
//!
//! `request_summary` keys → columns: `sqlQueryCount`/`sql_count` → `db_count`,
//! `sqlTotalMs`/`sql_total_ms` → `db_ms`, `nPlusOneWarning`/`n_plus_one` → `n_plus_one`,
//! `duplicateQueries` → `dup_queries`, `sqlSlowestMs`/`sql_slowest_ms` > 100 → `slow_queries`
//! 1 (else 0, the Node 0.2.0 rule), `httpCount`/`http_external_count` → `ext_count`,
//! `httpTotalMs`/`http_external_total_ms` → `ext_ms`, `view_total_ms` → `render_ms`,
//! `cache_hits` → `cache_hits`, `cache_reads − cache_hits` → `cache_misses`,
//! `memory_delta_mb` → `mem_delta_mb`; `method`, `path`, `status`, `duration_ms`,
//! `controller`, `action` as named.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Body;
use super::flat::{WireEntry, fill, fill_num};
use super::lenient::{WBool, WNum, WStr};

fn vstr(v: Option<&Value>) -> WStr {
    v.and_then(|v| WStr::deserialize(v).ok())
        .unwrap_or_default()
}

fn vnum(v: Option<&Value>) -> WNum {
    v.and_then(|v| WNum::deserialize(v).ok())
        .unwrap_or_default()
}

fn vbool(v: Option<&Value>) -> WBool {
    v.and_then(|v| WBool::deserialize(v).ok())
        .unwrap_or_default()
}

fn first<'v>(m: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v Value> {
    keys.iter().find_map(|k| m.get(*k).filter(|v| !v.is_null()))
}

fn as_f64(v: WNum) -> Option<f64> {
    match v {
        WNum::Int(i) => Some(i as f64),
        WNum::Float(f) => Some(f),
        _ => None,
    }
}

/// Maps the legacy keys of `e` onto the flat ones, moving `metadata`, `request_summary` and
/// `backtrace` into `body`.
pub fn apply<'a>(e: &mut WireEntry<'a>, body: &mut Body<'a>) -> Result<(), String> {
    fill(&mut e.ts, &e.timestamp);
    fill(&mut e.env, &e.environment);
    fill(&mut e.version, &e.commit_hash);
    fill(&mut e.error_class, &e.exception_class);
    fill(&mut e.error_message, &e.exception_message);

    if let Some(raw) = e.metadata.filter(|r| r.get() != "null") {
        let meta: Value = serde_json::from_str(raw.get())
            .map_err(|err| format!("field `metadata` is not valid JSON: {err}"))?;
        match meta {
            Value::Object(m) => {
                promote_metadata(e, &m);
                let b = body.object_mut();
                match b.get_mut("context") {
                    Some(Value::Object(ctx)) => {
                        for (k, v) in m {
                            ctx.entry(k).or_insert(v);
                        }
                    }
                    _ => {
                        b.insert("context".to_string(), Value::Object(m));
                    }
                }
            }
            other => {
                body.object_mut().entry("metadata").or_insert(other);
            }
        }
    }

    if let Some(raw) = e.request_summary.filter(|r| r.get() != "null") {
        let summary: Value = serde_json::from_str(raw.get())
            .map_err(|err| format!("field `request_summary` is not valid JSON: {err}"))?;
        match summary {
            Value::Object(mut s) => {
                map_summary(e, &s);
                let b = body.object_mut();
                if let Some(tl) = s.remove("timeline") {
                    b.entry("timeline").or_insert(tl);
                }
                b.entry("performance").or_insert(Value::Object(s));
            }
            other => {
                body.object_mut().entry("request_summary").or_insert(other);
            }
        }
    }

    if let Some(raw) = e.backtrace.filter(|r| r.get() != "null") {
        let bt: Value = serde_json::from_str(raw.get())
            .map_err(|err| format!("field `backtrace` is not valid JSON: {err}"))?;
        body.object_mut().entry("backtrace").or_insert(bt);
    }
    Ok(())
}

fn promote_metadata(e: &mut WireEntry<'_>, m: &Map<String, Value>) {
    fill(&mut e.method, &vstr(m.get("method")));
    fill(&mut e.path, &vstr(m.get("path")));
    fill(&mut e.route, &vstr(m.get("route")));
    fill(&mut e.controller, &vstr(m.get("controller")));
    fill(&mut e.action, &vstr(m.get("action")));
    fill(&mut e.user_id, &vstr(m.get("user_id")));
    fill(&mut e.tenant_id, &vstr(m.get("tenant_id")));
    fill(&mut e.session_id, &vstr(m.get("session_id")));
    fill(&mut e.request_id, &vstr(m.get("request_id")));
    fill(&mut e.trace_id, &vstr(m.get("trace_id")));
    fill(&mut e.span_id, &vstr(m.get("span_id")));
    fill(&mut e.error_class, &vstr(m.get("exception_class")));
    fill(&mut e.error_message, &vstr(m.get("exception_message")));
    fill(&mut e.version, &vstr(m.get("git_sha")));
    fill(&mut e.source_file, &vstr(m.get("source_file")));
    fill_num(&mut e.status, vnum(m.get("status")));
    fill_num(&mut e.duration_ms, vnum(m.get("duration_ms")));
    fill_num(&mut e.source_line, vnum(m.get("source_line")));
}

fn map_summary(e: &mut WireEntry<'_>, s: &Map<String, Value>) {
    fill(&mut e.method, &vstr(s.get("method")));
    fill(&mut e.path, &vstr(s.get("path")));
    fill(&mut e.controller, &vstr(s.get("controller")));
    fill(&mut e.action, &vstr(s.get("action")));
    fill_num(&mut e.status, vnum(s.get("status")));
    fill_num(&mut e.duration_ms, vnum(s.get("duration_ms")));
    fill_num(
        &mut e.db_count,
        vnum(first(s, &["sqlQueryCount", "sql_count"])),
    );
    fill_num(
        &mut e.db_ms,
        vnum(first(s, &["sqlTotalMs", "sql_total_ms"])),
    );
    fill_num(
        &mut e.dup_queries,
        vnum(first(s, &["duplicateQueries", "duplicate_queries"])),
    );
    fill_num(
        &mut e.ext_count,
        vnum(first(s, &["httpCount", "http_external_count"])),
    );
    fill_num(
        &mut e.ext_ms,
        vnum(first(s, &["httpTotalMs", "http_external_total_ms"])),
    );
    fill_num(&mut e.render_ms, vnum(s.get("view_total_ms")));
    fill_num(&mut e.cache_hits, vnum(s.get("cache_hits")));
    fill_num(&mut e.mem_delta_mb, vnum(s.get("memory_delta_mb")));
    if matches!(e.n_plus_one, WBool::Absent) {
        e.n_plus_one = vbool(first(s, &["nPlusOneWarning", "n_plus_one"]));
    }
    if matches!(e.slow_queries, WNum::Absent)
        && let Some(slowest) = as_f64(vnum(first(s, &["sqlSlowestMs", "sql_slowest_ms"])))
    {
        e.slow_queries = WNum::Int(i64::from(slowest > 100.0));
    }
    if matches!(e.cache_misses, WNum::Absent)
        && let (Some(reads), Some(hits)) = (
            as_f64(vnum(s.get("cache_reads"))),
            as_f64(vnum(s.get("cache_hits"))),
        )
        && reads >= hits
    {
        e.cache_misses = WNum::Float(reads - hits);
    }
}
