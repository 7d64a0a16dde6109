//! Decoding and pipeline rules on hand-written entries.

use opentrace_ingestd::pipeline::scrub::Scrubber;
use opentrace_ingestd::pipeline::{BatchOutcome, expand, process_batch};
use opentrace_ingestd::wire::{DecodeCtx, Dialect, split_batch};
use opentrace_shared::Level;
use opentrace_shared::settings::PiiSettings;
use serde_json::{Value, json};

const BASE: i64 = 1_776_507_330_000_000; // 2026-04-18T10:15:30Z
const RECEIVED: i64 = BASE + 1_000_000_000;

fn run_with(v: &Value, dialect: Dialect, pii: &PiiSettings) -> BatchOutcome {
    let text = v.to_string();
    let entries = split_batch(text.as_bytes(), 5000).unwrap();
    let ctx = DecodeCtx {
        received_at: RECEIVED,
        default_env: "production",
        dialect,
    };
    process_batch(&entries, &ctx, &Scrubber::new(pii).0)
}

fn run(v: Value) -> BatchOutcome {
    run_with(&v, Dialect::V2, &PiiSettings::default())
}

#[test]
fn one_bad_entry_keeps_its_siblings() {
    let out = run(json!([
        {"level": "info", "message": "first"},
        {"level": "info"},
        {"level": "loud", "message": "x"},
        {"level": "info", "message": "bad status", "status": "five hundred"},
        {"level": "info", "message": {"nested": 1}},
        "not an object",
        {"level": "info", "message": "last"}
    ]));
    let msgs: Vec<&str> = out.rows.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(msgs, ["first", "last"]);
    let idx: Vec<usize> = out.rejected.iter().map(|r| r.index).collect();
    assert_eq!(idx, [1, 2, 3, 4, 5]);
    assert!(out.rejected[0].error.contains("`message` is required"));
    assert!(out.rejected[1].error.contains("invalid level \"loud\""));
    assert!(out.rejected[2].error.contains("`status` must be a number"));
    assert!(out.rejected[3].error.contains("`message` must be a string"));
    assert!(out.rejected[4].error.contains("JSON object"));
}

#[test]
fn floats_are_rounded_and_mem_delta_is_hundredths() {
    let out = run(
        json!({"level": "info", "message": "m", "duration_ms": 3.9, "db_ms": 128.61,
        "cache_ms": 0.5, "queue_ms": -1.5, "mem_delta_mb": 1.234, "status": 200.0, "source_line": "12"}),
    );
    let r = &out.rows[0];
    assert_eq!(r.duration_ms, Some(4));
    assert_eq!(r.db_ms, Some(129));
    assert_eq!(r.cache_ms, Some(1));
    assert_eq!(r.queue_ms, Some(-2));
    assert_eq!(r.mem_delta_mb, Some(123));
    assert_eq!(r.status, Some(200));
    assert_eq!(r.source_line, Some(12));
}

#[test]
fn levels_case_insensitive_and_warning_is_warn() {
    let out = run(json!([
        {"level": "warning", "message": "a"},
        {"level": "WARN", "message": "b"},
        {"level": "Error", "message": "c"},
        {"level": "FATAL", "message": "d"},
        {"level": "debug", "message": "e"}
    ]));
    let levels: Vec<Level> = out.rows.iter().map(|r| r.level).collect();
    assert_eq!(
        levels,
        [
            Level::Warn,
            Level::Warn,
            Level::Error,
            Level::Fatal,
            Level::Debug
        ]
    );
}

#[test]
fn null_strings_are_accepted() {
    let out = run(
        json!({"level": "info", "message": "m", "env": null, "controller": null,
        "version": null, "trace_id": null, "user_id": 42, "body": null}),
    );
    assert!(out.rejected.is_empty());
    let r = &out.rows[0];
    assert_eq!(r.env, "production");
    assert_eq!(r.handler, None);
    assert_eq!(r.version, None);
    assert_eq!(r.user_id.as_deref(), Some("42"));
    assert_eq!(r.body, None);
}

#[test]
fn timestamps_to_microseconds_and_fallback() {
    let out = run(json!([
        {"level": "info", "message": "ms", "ts": "2026-04-18T10:15:30.686Z"},
        {"level": "info", "message": "us", "ts": "2026-04-18T10:15:30.123456Z"},
        {"level": "info", "message": "ns", "ts": "2026-04-18T10:15:30.123456789Z"},
        {"level": "info", "message": "offset", "ts": "2026-04-18T12:15:30+02:00"},
        {"level": "info", "message": "bad", "ts": "yesterday"},
        {"level": "info", "message": "missing"}
    ]));
    let ts: Vec<i64> = out.rows.iter().map(|r| r.ts).collect();
    assert_eq!(
        ts,
        [
            BASE + 686_000,
            BASE + 123_456,
            BASE + 123_456,
            BASE,
            RECEIVED,
            RECEIVED
        ]
    );
    let warned: Vec<usize> = out.warnings.iter().map(|w| w.index).collect();
    assert_eq!(warned, [4, 5]);
    assert!(out.warnings[0].warnings[0].contains("receive time"));
}

#[test]
fn unknown_keys_are_ignored_and_controller_action_join() {
    let out = run_with(
        &json!({"level": "info", "message": "m", "whatever": {"deep": [1]}, "controller": "OrdersController", "action": "show"}),
        Dialect::Legacy,
        &PiiSettings::default(),
    );
    assert_eq!(
        out.rows[0].handler.as_deref(),
        Some("OrdersController#show")
    );
}

#[test]
fn ruby_016_snake_case_summary() {
    let out = run_with(
        &json!([{"timestamp": "2026-04-18T10:15:30Z", "level": "INFO", "service": "s", "message": "m",
            "request_summary": {"controller": "A", "action": "b", "method": "GET", "path": "/x", "status": 200,
              "duration_ms": 10.4, "sql_count": 4, "sql_total_ms": 7.5, "sql_slowest_ms": 3, "n_plus_one": true,
              "view_total_ms": 2.2, "cache_reads": 5, "cache_hits": 3, "http_external_count": 1,
              "http_external_total_ms": 40.1, "memory_delta_mb": 0.75}}]),
        Dialect::Legacy,
        &PiiSettings::default(),
    );
    let r = &out.rows[0];
    assert_eq!(r.ts, BASE);
    assert_eq!(r.handler.as_deref(), Some("A#b"));
    assert_eq!(
        (r.status, r.duration_ms, r.db_count, r.db_ms),
        (Some(200), Some(10), Some(4), Some(8))
    );
    assert_eq!(
        (r.slow_queries, r.n_plus_one, r.render_ms),
        (Some(0), Some(true), Some(2))
    );
    assert_eq!((r.cache_hits, r.cache_misses), (Some(3), Some(2)));
    assert_eq!(
        (r.ext_count, r.ext_ms, r.mem_delta_mb),
        (Some(1), Some(40), Some(75))
    );
}

#[test]
fn pii_is_scrubbed_in_message_error_message_and_body() {
    let out = run(
        json!({"level": "error", "message": "charge 4111 1111 1111 1111 for bob@example.com",
        "error_message": "call 555-123-4567",
        "body": {"context": {"password": "hunter2", "nested": {"Authorization": "Bearer abc", "ssn": 1,
            "list": ["ssn 123-45-6789", "order 4111111111111112"]}}}}),
    );
    let r = &out.rows[0];
    assert_eq!(r.message, "charge [CARD] for [EMAIL]");
    assert_eq!(r.error_message.as_deref(), Some("call [PHONE]"));
    let b: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
    assert_eq!(b["context"]["password"], "[FILTERED]");
    assert_eq!(b["context"]["nested"]["Authorization"], "[FILTERED]");
    assert_eq!(b["context"]["nested"]["ssn"], "[FILTERED]");
    assert_eq!(b["context"]["nested"]["list"][0], "ssn [SSN]");
    assert_eq!(
        b["context"]["nested"]["list"][1], "order 4111111111111112",
        "no Luhn, no card"
    );
}

#[test]
fn pii_disabled_leaves_everything() {
    let off = PiiSettings {
        enabled: false,
        ..PiiSettings::default()
    };
    let out = run_with(
        &json!({"level": "info", "message": "bob@example.com", "body": {"password": "x"}}),
        Dialect::V2,
        &off,
    );
    assert_eq!(out.rows[0].message, "bob@example.com");
    assert_eq!(out.rows[0].body.as_deref(), Some(r#"{"password":"x"}"#));
}

#[test]
fn fingerprints_group_by_class_and_location() {
    let err = |class: &str, msg: &str, file: &str| {
        json!({"level": "error", "service": "api", "message": msg, "error_class": class,
               "body": {"exception": {"stack": format!("{class}: {msg}\n    at handler ({file}:10:5)")}}})
    };
    let out = run(json!([
        err("TypeError", "order 1234 missing", "/app/a.js"),
        err("TypeError", "order 98765 missing", "/app/a.js"),
        err("RangeError", "order 1234 missing", "/app/a.js"),
        err("TypeError", "order 1234 missing", "/app/b.js"),
        {"level": "error", "service": "api", "message": "timeout after 3000ms on 10.0.0.1"},
        {"level": "error", "service": "api", "message": "timeout after 5000ms on 10.0.0.2"},
        {"level": "info", "service": "api", "message": "fine"}
    ]));
    let fp: Vec<Option<&str>> = out
        .rows
        .iter()
        .map(|r| r.error_fingerprint.as_deref())
        .collect();
    assert_eq!(fp[0], fp[1], "same error, different ids");
    assert_ne!(fp[0], fp[2], "different class");
    assert_ne!(fp[0], fp[3], "different file");
    assert_eq!(fp[4], fp[5], "message-only errors normalised");
    assert_eq!(fp[6], None);
    assert_eq!(out.rows[0].source_file.as_deref(), Some("/app/a.js"));
}

#[test]
fn in_request_logs_expand_with_offsets_and_caps() {
    let logs: Vec<Value> = (0..1005)
        .map(|i| json!({"level": "info", "message": format!("step {i}"), "at": 1.5}))
        .collect();
    let out = run(
        json!({"ts": "2026-04-18T10:15:30Z", "level": "info", "service": "s", "message": "GET /",
        "trace_id": "t1", "tenant_id": "acme", "body": {"logs": logs}}),
    );
    assert_eq!(out.rows.len(), 1 + expand::MAX_PER_PARENT);
    let child = &out.rows[1];
    assert_eq!(child.ts, BASE + 1_500);
    assert_eq!(child.trace_id.as_deref(), Some("t1"));
    assert_eq!(child.tenant_id.as_deref(), Some("acme"));
    assert_eq!(child.event_type.as_deref(), Some("in_request_log"));
    assert!(
        out.warnings[0]
            .warnings
            .iter()
            .any(|w| w.contains("5 in-request"))
    );
}

#[test]
fn batch_wide_expansion_cap() {
    let parent = |n: usize| {
        let logs: Vec<Value> = (0..n)
            .map(|_| json!({"level": "info", "message": "x"}))
            .collect();
        json!({"level": "info", "message": "p", "body": {"logs": logs}})
    };
    let batch: Vec<Value> = (0..11).map(|_| parent(1000)).collect();
    let out = run(Value::Array(batch));
    assert_eq!(out.accepted_entries, 11);
    assert_eq!(out.rows.len(), 11 + expand::MAX_PER_BATCH);
}

#[test]
fn field_caps_apply() {
    let out =
        run(json!({"level": "info", "message": "é".repeat(10_000), "trace_id": "a".repeat(1000)}));
    let r = &out.rows[0];
    assert!(r.message.len() <= 16 * 1024 && r.message.ends_with("…[truncated]"));
    assert!(r.trace_id.as_deref().unwrap().len() <= 512);
}
