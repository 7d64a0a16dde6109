//! Every SDK fixture in `tests/fixtures/sdk/` posted to the real `opentrace-ingestd` with
//! its SDK's real headers and path, read back from the data directory (WAL while running,
//! chunks after SIGTERM), and checked column by column against the fixture's own values.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use md5::{Digest, Md5};
use opentrace_shared::{Col, Level, Row, ValueRef};
use opentrace_tests::ingest_client::{Sdk, post_as_sdk};
use opentrace_tests::ingestd::Ingestd;
use opentrace_tests::store_reader::{Source, read_store};
use serde_json::{Map, Value};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sdk")
}

/// Fixture file names in name order, with their parsed JSON arrays.
fn fixtures() -> Vec<(String, Vec<u8>, Vec<Value>)> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    for n in names {
        let bytes = std::fs::read(fixtures_dir().join(&n)).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        out.push((n, bytes, v.as_array().unwrap().clone()));
    }
    out
}

fn micros(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_micros()
}

fn body_of(row: &Row) -> Value {
    serde_json::from_str(row.body.as_deref().expect("row has a body")).unwrap()
}

/// Asserts that the stored column holds the wire value (numbers rounded to integers, as
/// the schema stores them).
fn assert_col(row: &Row, col: Col, wire: &Value, what: &str) {
    let got = row.get(col);
    match wire {
        Value::String(s) if col == Col::Ts => {
            assert_eq!(got, ValueRef::Int(micros(s)), "{what}: {}", col.name())
        }
        Value::String(s) if col == Col::Level => {
            assert_eq!(
                got,
                ValueRef::Str(s.parse::<Level>().unwrap().as_str()),
                "{what}: level"
            )
        }
        Value::String(s) => assert_eq!(got, ValueRef::Str(s), "{what}: {}", col.name()),
        Value::Number(n) => {
            let expect = n
                .as_i64()
                .unwrap_or_else(|| n.as_f64().unwrap().round() as i64);
            assert_eq!(got, ValueRef::Int(expect), "{what}: {}", col.name())
        }
        Value::Bool(b) => assert_eq!(got, ValueRef::Bool(*b), "{what}: {}", col.name()),
        other => panic!("{what}: unexpected wire value {other} for {}", col.name()),
    }
}

/// Checks every non-null top-level key of a flat entry that has a column: the column holds
/// it. `controller` is Ruby's `handler`; `body` is compared as JSON.
fn assert_flat(row: &Row, entry: &Map<String, Value>, what: &str) -> usize {
    let mut checked = 0;
    for (k, v) in entry {
        if v.is_null() {
            continue;
        }
        if k == "body" {
            assert_eq!(&body_of(row), v, "{what}: body");
            checked += 1;
            continue;
        }
        let name = if k == "controller" { "handler" } else { k };
        let Some(col) = Col::from_name(name) else {
            continue;
        };
        assert_col(row, col, v, what);
        checked += 1;
    }
    checked
}

/// The error fingerprint as documented in ingestd's `pipeline/fingerprint.rs`: the first 8
/// bytes of MD5(service ␀ error_class ␀ location), hex.
fn fingerprint(service: &str, class: &str, location: &str) -> String {
    let mut h = Md5::new();
    h.update(service.as_bytes());
    h.update([0u8]);
    h.update(class.as_bytes());
    h.update([0u8]);
    h.update(location.as_bytes());
    hex::encode(&h.finalize()[..8])
}

fn is_hex16(s: Option<&str>) -> bool {
    s.is_some_and(|s| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks the rows one fixture produced, against the fixture's values.
fn check_fixture(name: &str, entries: &[Value], rows: &[&Row]) {
    let what = name;
    let e0 = entries[0].as_object().unwrap();
    match name {
        "node-0.2.0-log.json" | "ruby-0.17-log.json" | "ruby-0.17-runtime-metrics.json" => {
            assert_eq!(rows.len(), 1, "{what}");
            let r = rows[0];
            assert!(assert_flat(r, e0, what) >= 8);
            let expect_kind = match e0.get("event_type").and_then(Value::as_str) {
                Some("runtime.metrics") => "event",
                _ => "log",
            };
            assert_eq!(r.kind, expect_kind, "{what}: kind");
            assert_eq!(
                r.error_fingerprint, None,
                "{what}: info rows have no fingerprint"
            );
        }
        "node-0.2.0-request-and-error.json" => {
            assert_eq!(rows.len(), 2, "{what}");
            let (req, err) = (rows[0], rows[1]);
            assert!(assert_flat(req, e0, what) >= 20);
            assert_eq!(req.kind, "request");
            // Level error: grouped by its message.
            assert!(is_hex16(req.error_fingerprint.as_deref()), "{what}");

            let e1 = entries[1].as_object().unwrap();
            assert!(assert_flat(err, e1, what) >= 10);
            assert_eq!(err.kind, "log");
            // The top frame of body.exception.stack: `at file:///app/routes/orders.mjs:46:19`.
            let stack = e1["body"]["exception"]["stack"].as_str().unwrap();
            let frame = stack
                .lines()
                .find_map(|l| l.trim().strip_prefix("at file://"))
                .unwrap();
            let mut parts = frame.rsplitn(3, ':');
            let _col = parts.next().unwrap();
            let line: i64 = parts.next().unwrap().parse().unwrap();
            let file = parts.next().unwrap();
            assert_eq!(
                err.source_file.as_deref(),
                Some(file),
                "{what}: source_file"
            );
            assert_eq!(err.source_line, Some(line), "{what}: source_line");
            let class = e1["error_class"].as_str().unwrap();
            assert_eq!(
                err.error_fingerprint.as_deref(),
                Some(fingerprint(&err.service, class, &format!("F:{file}:")).as_str()),
                "{what}: fingerprint"
            );
        }
        "node-0.2.0-after-429-wrapped.json" => {
            assert_eq!(rows.len(), 1, "{what}");
            let r = rows[0];
            let inner = e0["body"]["context"].as_object().unwrap();
            // The unwrapped row is the original entry, not the wrapper.
            assert!(assert_flat(r, inner, what) >= 7);
            assert_ne!(r.ts, micros(e0["ts"].as_str().unwrap()), "{what}: inner ts");
            // Identity the inner entry lacks comes from the wrapper.
            assert_col(r, Col::TenantId, &e0["tenant_id"], what);
            assert_eq!(r.kind, "log");
        }
        "node-0.1.0-legacy-request.json" => {
            assert_eq!(rows.len(), 1, "{what}");
            let r = rows[0];
            let legacy = |k: &str| e0[k].clone();
            let meta = e0["metadata"].as_object().unwrap();
            let summary = e0["request_summary"].as_object().unwrap();
            for (col, v) in [
                (Col::Ts, legacy("timestamp")),
                (Col::Level, legacy("level")),
                (Col::Service, legacy("service")),
                (Col::Message, legacy("message")),
                (Col::Env, legacy("environment")),
                (Col::Version, legacy("commit_hash")),
                (Col::RequestId, legacy("request_id")),
                (Col::TraceId, legacy("trace_id")),
                (Col::SpanId, legacy("span_id")),
                (Col::ParentSpanId, legacy("parent_span_id")),
                (Col::Method, meta["method"].clone()),
                (Col::Path, meta["path"].clone()),
                (Col::Status, meta["status"].clone()),
                (Col::DurationMs, meta["duration_ms"].clone()),
                (Col::DbCount, summary["sqlQueryCount"].clone()),
                (Col::DbMs, summary["sqlTotalMs"].clone()),
                (Col::NPlusOne, summary["nPlusOneWarning"].clone()),
                (Col::DupQueries, summary["duplicateQueries"].clone()),
                (Col::ExtCount, summary["httpCount"].clone()),
                (Col::ExtMs, summary["httpTotalMs"].clone()),
            ] {
                assert_col(r, col, &v, what);
            }
            let slowest = summary["sqlSlowestMs"].as_f64().unwrap();
            assert_eq!(r.slow_queries, Some(i64::from(slowest > 100.0)), "{what}");
            assert_eq!(r.kind, "request");
            let body = body_of(r);
            assert_eq!(
                body["context"],
                Value::Object(meta.clone()),
                "{what}: metadata"
            );
            assert_eq!(body["timeline"], summary["timeline"], "{what}: timeline");
            let mut perf = summary.clone();
            perf.remove("timeline");
            assert_eq!(body["performance"], Value::Object(perf), "{what}: summary");
        }
        "ruby-0.17-request.json" => {
            let logs = e0["body"]["logs"].as_array().unwrap();
            assert_eq!(
                rows.len(),
                1 + logs.len(),
                "{what}: parent + in-request logs"
            );
            let (parent, child) = (rows[0], rows[1]);
            assert!(assert_flat(parent, e0, what) >= 15);
            assert_eq!(parent.kind, "request");
            assert_eq!(
                parent.handler.as_deref(),
                e0["controller"].as_str(),
                "{what}: controller → handler"
            );

            let item = logs[0].as_object().unwrap();
            let md = item["metadata"].as_object().unwrap();
            assert_col(child, Col::Level, &item["level"], what);
            assert_col(child, Col::Message, &item["message"], what);
            assert_col(child, Col::ErrorClass, &md["exception_class"], what);
            assert_col(child, Col::ErrorMessage, &md["exception_message"], what);
            assert_eq!(child.event_type.as_deref(), Some("in_request_log"));
            assert_eq!(child.kind, "log");
            assert_eq!(child.ts, parent.ts, "{what}: no offset → parent ts");
            for col in [
                Col::Service,
                Col::Env,
                Col::TraceId,
                Col::SpanId,
                Col::RequestId,
                Col::UserId,
                Col::ReceivedAt,
            ] {
                assert_eq!(
                    child.get(col),
                    parent.get(col),
                    "{what}: child {}",
                    col.name()
                );
                assert!(!child.get(col).is_null());
            }
            // `app/services/charge.rb:27:in `call'` → file, line, method.
            let top = md["backtrace"][0].as_str().unwrap();
            let (loc, method) = top.split_once(":in ").unwrap();
            let (file, line) = loc.rsplit_once(':').unwrap();
            let method = method.trim_matches(|c| c == '`' || c == '\'');
            assert_eq!(child.source_file.as_deref(), Some(file), "{what}");
            assert_eq!(child.source_line, Some(line.parse().unwrap()), "{what}");
            let class = md["exception_class"].as_str().unwrap();
            assert_eq!(
                child.error_fingerprint.as_deref(),
                Some(fingerprint(&parent.service, class, &format!("F:{file}:{method}")).as_str()),
                "{what}: fingerprint"
            );
            assert_eq!(
                body_of(child),
                serde_json::json!({ "context": md }),
                "{what}: child body"
            );
        }
        other => panic!("no expectations written for fixture {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_lands_in_the_right_columns() {
    let work = tempfile::tempdir().unwrap();
    let mut d = Ingestd::start(work.path(), &[]).unwrap();
    let started = chrono::Utc::now().timestamp_micros();
    let fx = fixtures();
    assert_eq!(fx.len(), 7, "every fixture in the README is present");

    // name → rows it stored, in post order.
    let mut posted: Vec<(String, usize)> = Vec::new();
    let mut gzipped = 0;
    for (name, bytes, _) in &fx {
        let sdk = Sdk::for_fixture(name).unwrap();
        let id = format!("fixture-{name}");
        let (a, gz) = post_as_sdk(&d.url(), &d.api_key, sdk, Some(&id), bytes)
            .await
            .unwrap();
        assert_eq!(a.status, 201, "{name}: {}", a.json);
        assert!(a.json.get("rejected").is_none(), "{name}: {}", a.json);
        let n = a.json["count"].as_u64().unwrap() as usize;
        gzipped += usize::from(gz);
        posted.push((name.clone(), n));
    }
    assert!(gzipped >= 2, "bodies over 1 KiB went gzipped");
    let total: usize = posted.iter().map(|(_, n)| n).sum();

    // While running: everything is visible in the WAL.
    let live = read_store(&d.data_dir).unwrap();
    assert_eq!(live.rows.len(), total, "rows visible while running");
    assert!(live.rows.iter().all(|r| r.source == Source::Wal));
    let live_rows: Vec<Row> = live.rows.iter().map(|r| r.row.clone()).collect();

    let st = d.sigterm(Duration::from_secs(30)).unwrap();
    assert_eq!(st.code(), Some(0), "clean exit; log:\n{}", d.log());
    let done = read_store(&d.data_dir).unwrap();
    assert_eq!(done.wals, 0, "SIGTERM turned every WAL into a chunk");
    assert!(done.chunks >= 1);
    assert!(done.problems.is_empty(), "{:?}", done.problems);
    let mut rows: Vec<Row> = done.rows.iter().map(|r| r.row.clone()).collect();
    rows.sort_by_key(|r| r.seq);
    let mut live_sorted = live_rows;
    live_sorted.sort_by_key(|r| r.seq);
    assert_eq!(rows, live_sorted, "chunks hold exactly what the WAL held");

    // Sequence numbers: unique, consecutive, assigned in post order.
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq.0).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let now = chrono::Utc::now().timestamp_micros();
    assert!(
        rows.iter()
            .all(|r| r.received_at >= started && r.received_at <= now)
    );

    let mut by_fixture: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    let mut it = rows.iter();
    for (name, n) in &posted {
        by_fixture.insert(name, it.by_ref().take(*n).collect());
    }
    for (name, _, entries) in &fx {
        check_fixture(name, entries, &by_fixture[name.as_str()]);
    }
}
