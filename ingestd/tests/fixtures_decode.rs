//! Every captured/derived SDK payload in `tests/fixtures/sdk` through the decoder and the
//! pipeline, with the columns each field must land in.

use opentrace_ingestd::pipeline::scrub::Scrubber;
use opentrace_ingestd::pipeline::{BatchOutcome, process_batch};
use opentrace_ingestd::wire::{DecodeCtx, Dialect, split_batch};
use opentrace_shared::settings::PiiSettings;
use opentrace_shared::{Level, Row};
use serde_json::{Value, json};

/// 2026-04-18T10:15:30Z in µs.
const BASE: i64 = 1_776_507_330_000_000;
const RECEIVED: i64 = BASE + 3_600_000_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/sdk/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run(bytes: &[u8], dialect: Dialect) -> BatchOutcome {
    let entries = split_batch(bytes, 5000).unwrap();
    let ctx = DecodeCtx {
        received_at: RECEIVED,
        default_env: "production",
        dialect,
    };
    let (scrubber, _) = Scrubber::new(&PiiSettings::default());
    process_batch(&entries, &ctx, &scrubber)
}

fn body(row: &Row) -> Value {
    serde_json::from_str(row.body.as_deref().expect("row has a body")).unwrap()
}

#[test]
fn node_020_log() {
    let out = run(&fixture("node-0.2.0-log.json"), Dialect::V2);
    assert!(out.rejected.is_empty());
    assert_eq!(out.rows.len(), 1);
    let r = &out.rows[0];
    assert_eq!(r.ts, BASE + 686_000);
    assert_eq!(r.received_at, RECEIVED);
    assert_eq!(r.level, Level::Info);
    assert_eq!(r.service, "checkout-api");
    assert_eq!(r.message, "loading orders");
    assert_eq!(r.env, "staging");
    assert_eq!(r.version.as_deref(), Some("9f2c1e7"));
    assert_eq!(r.user_id.as_deref(), Some("42"));
    assert_eq!(r.request_id.as_deref(), Some("req-7f3a"));
    assert_eq!(
        r.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(r.span_id.as_deref(), Some("e9990760b59cffec"));
    assert_eq!(r.parent_span_id.as_deref(), Some("00f067aa0ba902b7"));
    assert_eq!(r.kind, "log");
    assert_eq!(r.error_fingerprint, None);
    assert_eq!(r.seq.0, 0);
    // The SDKs put the hostname in body.context; it fills the host column.
    assert_eq!(r.host.as_deref(), Some("web-1"));
    // Stored compact, content unchanged.
    assert_eq!(
        r.body.as_deref(),
        Some(r#"{"context":{"page":2,"hostname":"web-1","pid":4879}}"#)
    );
}

#[test]
fn node_020_request_and_error() {
    let out = run(&fixture("node-0.2.0-request-and-error.json"), Dialect::V2);
    assert!(out.rejected.is_empty());
    assert_eq!(out.rows.len(), 2);
    let req = &out.rows[0];
    assert_eq!(req.ts, BASE + 683_000);
    assert_eq!(req.level, Level::Error);
    assert_eq!(req.event_type.as_deref(), Some("http.request"));
    assert_eq!(req.kind, "request");
    assert_eq!(req.method.as_deref(), Some("GET"));
    assert_eq!(req.path.as_deref(), Some("/orders/42"));
    assert_eq!(req.status, Some(500));
    assert_eq!(req.duration_ms, Some(4)); // 3.9 rounded
    assert_eq!(req.db_ms, Some(129)); // 128.61 rounded
    assert_eq!(req.db_count, Some(3));
    assert_eq!(req.n_plus_one, Some(false));
    assert_eq!(req.dup_queries, Some(1));
    assert_eq!(req.slow_queries, Some(1));
    assert_eq!(
        body(req)["performance"]["sql_slowest_name"],
        "LineItem Load"
    );
    assert_eq!(body(req)["timeline"][2]["ms"], 120.5);

    let err = &out.rows[1];
    assert_eq!(
        err.message,
        "Cannot read properties of undefined (reading 'total')"
    );
    assert_eq!(err.error_class.as_deref(), Some("TypeError"));
    assert_eq!(err.source_file.as_deref(), Some("/app/routes/orders.mjs"));
    assert_eq!(err.source_line, Some(46));
    assert_eq!(err.kind, "log");
    let fp = err.error_fingerprint.as_deref().unwrap();
    assert_eq!(fp.len(), 16);
    assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(body(err)["exception"]["causes"][0]["className"], "Error");
    assert_eq!(body(err)["context"]["order_id"], "ord_123");
}

#[test]
fn node_010_legacy_request_is_mapped() {
    let out = run(&fixture("node-0.1.0-legacy-request.json"), Dialect::Legacy);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let r = &out.rows[0];
    assert_eq!(r.ts, BASE + 347_000);
    assert_eq!(r.level, Level::Error); // "ERROR"
    assert_eq!(r.env, "staging"); // environment
    assert_eq!(r.version.as_deref(), Some("9f2c1e7")); // commit_hash
    assert_eq!(r.method.as_deref(), Some("GET")); // metadata.method
    assert_eq!(r.path.as_deref(), Some("/orders/42"));
    assert_eq!(r.status, Some(500));
    assert_eq!(r.duration_ms, Some(4)); // 4.36
    assert_eq!(r.db_count, Some(3)); // sqlQueryCount
    assert_eq!(r.db_ms, Some(129)); // sqlTotalMs 128.61
    assert_eq!(r.n_plus_one, Some(false)); // nPlusOneWarning
    assert_eq!(r.dup_queries, Some(1)); // duplicateQueries
    assert_eq!(r.slow_queries, Some(1)); // sqlSlowestMs 120.5 > 100
    assert_eq!(r.ext_count, Some(0)); // httpCount
    assert_eq!(r.span_id.as_deref(), Some("291e7327720c6c3c"));
    assert_eq!(r.kind, "request");
    let b = body(r);
    assert_eq!(b["context"]["hostname"], "web-1");
    assert_eq!(b["context"]["pid"], 5360);
    assert_eq!(b["performance"]["sqlSlowestName"], "LineItem Load");
    assert_eq!(b["timeline"][0]["n"], "Order Load");
    assert!(b["performance"].get("timeline").is_none());
}

#[test]
fn legacy_keys_are_ignored_on_v2() {
    let out = run(&fixture("node-0.1.0-legacy-request.json"), Dialect::V2);
    let r = &out.rows[0];
    assert_eq!(r.ts, RECEIVED, "`timestamp` is not a v2 key");
    assert_eq!(r.env, "production");
    assert_eq!(r.method, None);
}

#[test]
fn node_after_429_wrapper_is_unwrapped() {
    let out = run(&fixture("node-0.2.0-after-429-wrapped.json"), Dialect::V2);
    assert!(out.rejected.is_empty());
    assert_eq!(out.rows.len(), 1);
    let r = &out.rows[0];
    assert_eq!(r.message, "during rate limit");
    assert_eq!(r.ts, BASE + 9_900_000); // the original 10:15:39.900, not the wrapper's
    assert_eq!(r.service, "checkout-api");
    assert_eq!(r.env, "staging");
    assert_eq!(r.version.as_deref(), Some("9f2c1e7"));
    assert_eq!(r.tenant_id.as_deref(), Some("acme")); // from the wrapper
    assert_eq!(
        body(r),
        json!({"context": {"region": "eu-west-1", "k": 1, "hostname": "web-1", "pid": 5164}})
    );
    assert!(out.warnings[0].warnings[0].contains("429"));
}

#[test]
fn ruby_017_log() {
    let out = run(&fixture("ruby-0.17-log.json"), Dialect::Legacy);
    let r = &out.rows[0];
    assert_eq!(r.ts, BASE + 123_456);
    assert_eq!(r.service, "billing-api");
    assert_eq!(r.env, "production");
    assert_eq!(r.message, "User signed in");
    assert_eq!(r.event_type.as_deref(), Some("log"));
    assert_eq!(r.kind, "log");
    assert_eq!(r.version.as_deref(), Some("9f2c1e7"));
    assert_eq!(body(r)["context"]["user_id"], 42);
}

#[test]
fn ruby_017_request_with_in_request_error() {
    let out = run(&fixture("ruby-0.17-request.json"), Dialect::Legacy);
    assert!(out.rejected.is_empty());
    assert_eq!(out.accepted_entries, 1);
    assert_eq!(out.rows.len(), 2, "parent + one in-request error child");
    let p = &out.rows[0];
    assert_eq!(p.ts, BASE + 1_402_518);
    assert_eq!(p.handler.as_deref(), Some("InvoicesController")); // controller
    assert_eq!(p.method.as_deref(), Some("POST"));
    assert_eq!(p.path.as_deref(), Some("/invoices"));
    assert_eq!(p.status, Some(500));
    assert_eq!(p.duration_ms, Some(87));
    assert_eq!(p.user_id.as_deref(), Some("42"));
    assert_eq!(
        p.request_id.as_deref(),
        Some("9c1e0a52-6b0e-4f57-9d1e-3c2f1b7a8e11")
    );
    assert_eq!(p.kind, "request");
    assert_eq!(
        body(p)["sql"][1]["caller_location"],
        "app/models/invoice.rb:41"
    );
    assert_eq!(
        body(p)["logs"][0]["level"],
        "ERROR",
        "parent body keeps its logs"
    );

    let c = &out.rows[1];
    assert_eq!(c.event_type.as_deref(), Some("in_request_log"));
    assert_eq!(c.kind, "log");
    assert_eq!(c.level, Level::Error);
    assert_eq!(c.message, "Stripe::CardError: Your card was declined");
    assert_eq!(c.error_class.as_deref(), Some("Stripe::CardError"));
    assert_eq!(c.error_message.as_deref(), Some("Your card was declined"));
    assert_eq!(c.source_file.as_deref(), Some("app/services/charge.rb"));
    assert_eq!(c.source_line, Some(27));
    assert_eq!(c.error_fingerprint.as_deref().map(str::len), Some(16));
    assert_eq!(c.ts, p.ts);
    for (a, b) in [
        (&c.trace_id, &p.trace_id),
        (&c.request_id, &p.request_id),
        (&c.user_id, &p.user_id),
        (&c.version, &p.version),
    ] {
        assert_eq!(a, b);
    }
    assert_eq!(c.service, "billing-api");
    assert_eq!(c.env, "production");
    assert_eq!(c.received_at, RECEIVED);
    assert_eq!(
        body(c)["context"]["backtrace"][1],
        "app/controllers/invoices_controller.rb:12:in `create'"
    );
}

#[test]
fn ruby_017_runtime_metrics() {
    let out = run(&fixture("ruby-0.17-runtime-metrics.json"), Dialect::Legacy);
    let r = &out.rows[0];
    assert_eq!(r.ts, BASE + 30_000_412);
    assert_eq!(r.event_type.as_deref(), Some("runtime.metrics"));
    assert_eq!(r.kind, "event");
    assert_eq!(body(r)["context"]["process_rss_mb"], 412.5);
    assert_eq!(body(r)["context"]["gc_heap_live_slots"], 1_523_400);
}

#[test]
fn every_fixture_decodes_on_its_endpoint() {
    let dir = format!("{}/../tests/fixtures/sdk", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let dialect = if name.starts_with("node-0.2.0") {
            Dialect::V2
        } else {
            Dialect::Legacy
        };
        let out = run(&std::fs::read(&p).unwrap(), dialect);
        assert!(out.rejected.is_empty(), "{name}: {:?}", out.rejected);
        assert!(!out.rows.is_empty(), "{name}");
        for r in &out.rows {
            assert!(!r.message.is_empty(), "{name}");
            assert!(!r.kind.is_empty(), "{name}");
            assert_ne!(r.ts, RECEIVED, "{name}: every fixture carries a ts");
        }
        seen += 1;
    }
    assert_eq!(seen, 7);
}
