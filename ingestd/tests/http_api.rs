//! The HTTP API over a real loopback hyper server, with the in-memory test double store.

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use opentrace_shared::settings::{PiiSettings, SETTINGS_FILE, Settings};
use serde_json::json;
use support::{Harness, KEY, fixture, gzip};

/// Sends a fixture the way its SDK does: Bearer, X-Batch-ID, gzip over 1024 bytes, Ruby's
/// X-API-Version and User-Agent.
async fn send_like_sdk(h: &Harness, name: &str, batch: &str) -> support::Reply {
    let raw = fixture(name);
    let (path, ua) = if name.starts_with("node-0.2.0") {
        ("/api/v2/logs", "@opentrace-sdk/node 0.1.0")
    } else if name.starts_with("node-0.1.0") {
        ("/api/logs", "@opentrace-sdk/node 0.1.0")
    } else {
        ("/api/logs", "opentrace-ruby/0.17.4")
    };
    let mut req = h
        .post(path)
        .header("x-batch-id", batch)
        .header("user-agent", ua);
    if name.starts_with("ruby") {
        req = req.header("x-api-version", "2");
    }
    let body = if raw.len() > 1024 {
        req = req.header("content-encoding", "gzip");
        gzip(&raw)
    } else {
        raw
    };
    h.send(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
}

#[tokio::test]
async fn every_fixture_is_accepted_as_its_sdk_sends_it() {
    let h = Harness::start().await;
    let cases = [
        ("node-0.2.0-log.json", 1),
        ("node-0.2.0-request-and-error.json", 2),
        ("node-0.2.0-after-429-wrapped.json", 1),
        ("node-0.1.0-legacy-request.json", 1),
        ("ruby-0.17-log.json", 1),
        ("ruby-0.17-request.json", 2),
        ("ruby-0.17-runtime-metrics.json", 1),
    ];
    let mut total = 0;
    for (i, (name, rows)) in cases.iter().enumerate() {
        let r = send_like_sdk(&h, name, &format!("6f1c2d3e-0000-4000-8000-00000000000{i}")).await;
        assert_eq!(r.status, 201, "{name}: {:?}", r.body);
        assert_eq!(r.json(), json!({"count": rows}), "{name}");
        total += rows;
    }
    let stored = h.store.rows();
    assert_eq!(stored.len(), total);
    assert!(stored.iter().any(|r| r.message == "during rate limit"));
    assert!(
        stored
            .iter()
            .any(|r| r.error_class.as_deref() == Some("Stripe::CardError"))
    );
    h.stop().await.unwrap();
}

#[tokio::test]
async fn auth_is_required_on_ingest_only() {
    let h = Harness::start().await;
    let body = r#"[{"level":"info","message":"x"}]"#;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some(KEY),
        Some("Basic dGVzdA=="),
    ] {
        let mut req = hyper::Request::post(format!("http://{}/api/v2/logs", h.addr));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = h
            .send(req.body(Full::new(Bytes::from(body))).unwrap())
            .await;
        assert_eq!(r.status, 401, "{auth:?}");
        assert!(r.json()["error"].as_str().unwrap().contains("API key"));
    }
    assert!(h.store.rows().is_empty());
    assert_eq!(h.get("/healthz").await.status, 200);
    assert_eq!(h.get("/api/version").await.status, 200);
    h.stop().await.unwrap();
}

#[tokio::test]
async fn gzip_body_and_single_object() {
    let h = Harness::start().await;
    let one = r#"{"level":"info","message":"single","service":"s"}"#;
    let req = h
        .post("/api/v2/logs")
        .header("content-encoding", "gzip")
        .body(Full::new(Bytes::from(gzip(one.as_bytes()))))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, 201);
    assert_eq!(h.store.rows()[0].message, "single");
    h.stop().await.unwrap();
}

#[tokio::test]
async fn gzip_bomb_is_rejected_with_413() {
    let h = Harness::start().await;
    let mut payload = b"[{\"level\":\"info\",\"message\":\"".to_vec();
    payload.extend(std::iter::repeat_n(b'a', 20 * 1024 * 1024));
    payload.extend(b"\"}]");
    let bomb = gzip(&payload);
    assert!(bomb.len() < 200 * 1024, "bomb is {} bytes", bomb.len());
    let req = h
        .post("/api/v2/logs")
        .header("content-encoding", "gzip")
        .body(Full::new(Bytes::from(bomb)))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, 413);
    assert!(r.json()["error"].as_str().unwrap().contains("decompressed"));
    assert!(h.store.rows().is_empty());
    h.stop().await.unwrap();
}

#[tokio::test]
async fn oversized_wire_body_and_too_many_entries_are_413() {
    let h = Harness::start_with(|c| {
        c.max_body_bytes = 1024;
        c.max_entries = 3;
    })
    .await;
    let big = format!(r#"[{{"level":"info","message":"{}"}}]"#, "x".repeat(2000));
    assert_eq!(h.post_json("/api/v2/logs", &big).await.status, 413);
    let four = r#"[{"level":"info","message":"a"},{"level":"info","message":"b"},{"level":"info","message":"c"},{"level":"info","message":"d"}]"#;
    let r = h.post_json("/api/v2/logs", four).await;
    assert_eq!(r.status, 413);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("too many entries")
    );
    assert!(h.store.rows().is_empty());
    h.stop().await.unwrap();
}

#[tokio::test]
async fn replayed_batch_id_is_deduplicated() {
    let h = Harness::start().await;
    let body = r#"[{"level":"info","message":"a"},{"level":"info","message":"b"}]"#;
    let send = || {
        h.post("/api/v2/logs")
            .header("x-batch-id", "0b6a8f6e-3f5d-4c5e-9a57-3f2d1c0b9a88")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    let first = h.send(send()).await;
    assert_eq!((first.status, first.json()), (201, json!({"count": 2})));
    let again = h.send(send()).await;
    assert_eq!(
        (again.status, again.json()),
        (200, json!({"count": 2, "deduplicated": true}))
    );
    assert_eq!(h.store.rows().len(), 2);
    h.stop().await.unwrap();
}

#[tokio::test]
async fn backpressure_is_503_with_retry_after_never_429() {
    let h = Harness::start().await;
    h.store.backpressure.store(true, Ordering::SeqCst);
    let r = post_one(&h).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.headers.get("retry-after").unwrap(), "2"); // 1.5 s rounded up
    h.store.backpressure.store(false, Ordering::SeqCst);
    assert_eq!(post_one(&h).await.status, 201);
    h.stop().await.unwrap();
}

/// Posts one valid entry.
async fn post_one(h: &Harness) -> support::Reply {
    h.post_json("/api/v2/logs", r#"[{"level":"info","message":"a"}]"#)
        .await
}

#[tokio::test]
async fn an_overloaded_store_is_answered_before_the_body_is_read() {
    let h = Harness::start().await;
    h.store.overloaded.store(true, Ordering::SeqCst);
    // A body that is not gzip at all: had it been read and inflated, this would be 400.
    let req = h
        .post("/api/v2/logs")
        .header("content-encoding", "gzip")
        .body(Full::new(Bytes::from_static(b"not gzip, not json")))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert_eq!(r.headers.get("retry-after").unwrap(), "2");
    let m = h.get("/metrics").await;
    let metrics = String::from_utf8_lossy(&m.body);
    assert!(
        metrics.contains("opentrace_ingest_bytes_received_total 0"),
        "the refused body was not read: {metrics}"
    );
    // A replay of a batch that is already durable still gets its answer, and a dry run
    // (which stores nothing) is still validated.
    h.store
        .batches
        .lock()
        .unwrap()
        .insert(opentrace_shared::BatchId("b-1".into()), 3);
    let replay = h
        .post("/api/v2/logs")
        .header("x-batch-id", "b-1")
        .body(Full::new(Bytes::from_static(b"[]")))
        .unwrap();
    let replayed = h.send(replay).await;
    assert_eq!(
        (replayed.status, replayed.json()),
        (200, json!({"count": 3, "deduplicated": true}))
    );
    let dry = h
        .post_json(
            "/api/v2/logs?validate=1",
            r#"[{"level":"info","message":"a"}]"#,
        )
        .await;
    assert_eq!(dry.status, 200, "{:?}", dry.body);
    h.store.overloaded.store(false, Ordering::SeqCst);
    assert_eq!(post_one(&h).await.status, 201);
    assert_eq!(h.store.rows().len(), 1);
    h.stop().await.unwrap();
}

#[tokio::test]
async fn bad_bodies_are_400_bad_entries_are_reported() {
    let h = Harness::start().await;
    for body in ["not json", "", "42", "[{\"level\":"] {
        let r = h.post_json("/api/v2/logs", body).await;
        assert_eq!(r.status, 400, "{body:?}");
        assert!(r.json()["error"].is_string());
    }
    let r = h
        .post_json(
            "/api/v2/logs",
            r#"[{"level":"info","message":"ok"},{"message":"no level"},{"level":"info","message":"ok2"}]"#,
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.json(),
        json!({"count": 2, "rejected": [{"index": 1, "error": "field `level` is required"}]})
    );
    let r = h
        .post_json("/api/v2/logs", r#"[{"message":"no level"}]"#)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["count"], 0);
    assert_eq!(h.store.rows().len(), 2);
    h.stop().await.unwrap();
}

#[tokio::test]
async fn validate_is_a_dry_run() {
    let h = Harness::start().await;
    let r = h
        .post_json(
            "/api/v2/logs?validate=1",
            r#"[{"level":"info","message":"ok"},{"level":"nope","message":"x"}]"#,
        )
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["valid"], false);
    assert_eq!(
        v["results"][0]["warnings"][0],
        "`ts` is missing; the receive time was used"
    );
    assert!(
        v["results"][1]["errors"][0]
            .as_str()
            .unwrap()
            .contains("invalid level")
    );
    assert!(h.store.rows().is_empty());
    h.stop().await.unwrap();
}

#[tokio::test]
async fn version_health_metrics_and_routing() {
    let h = Harness::start().await;
    let v = h.get("/api/version").await.json();
    assert_eq!(v["api_version"], 2);
    assert_eq!(v["min_client_api_version"], 1);
    assert_eq!(v["status"], "ok");
    let caps: Vec<&str> = v["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "batch_ingest",
        "gzip_request",
        "batch_dedup",
        "request_summaries",
    ] {
        assert!(caps.contains(&c), "{c}");
    }
    assert_eq!(h.get("/readyz").await.json(), json!({"status": "ready"}));
    assert_eq!(h.get("/nope").await.status, 404);
    assert_eq!(h.get("/api/v2/logs").await.status, 405);

    h.post_json(
        "/api/v2/logs",
        r#"[{"level":"info","message":"a"},{"level":"x","message":"b"}]"#,
    )
    .await;
    let m = h.get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(
        m.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(m.body.to_vec()).unwrap();
    assert!(
        text.contains("opentrace_ingest_entries_accepted_total 1\n"),
        "{text}"
    );
    assert!(text.contains("opentrace_ingest_entries_rejected_total 1\n"));
    assert!(text.contains("opentrace_ingest_requests_total{status=\"201\"} 1\n"));
    assert!(text.contains("opentrace_ingest_requests_total{status=\"404\"} 1\n"));
    assert!(text.contains("opentrace_store_rows_durable_total 1\n"));
    assert!(text.contains("# TYPE opentrace_store_fsync_seconds histogram"));
    h.stop().await.unwrap();
}

#[tokio::test]
async fn settings_changes_apply_within_5_seconds() {
    let h = Harness::start().await;
    let body = r#"[{"level":"info","message":"m","body":{"context":{"order_id":"ord_1"}}}]"#;
    assert_eq!(h.post_json("/api/v2/logs", body).await.status, 201);
    assert!(h.store.rows()[0].body.as_deref().unwrap().contains("ord_1"));

    let settings = Settings {
        pii: PiiSettings {
            extra_keys: vec!["order_id".into()],
            ..PiiSettings::default()
        },
        ..Settings::default()
    };
    settings.store(&h.dir.path().join(SETTINGS_FILE)).unwrap(); // atomic rename, like queryd
    let start = Instant::now();
    loop {
        assert_eq!(h.post_json("/api/v2/logs", body).await.status, 201);
        let last = h.store.rows().pop().unwrap();
        if last.body.as_deref() == Some(r#"{"context":{"order_id":"[FILTERED]"}}"#) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "settings not applied within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A malformed file keeps the previous settings.
    std::fs::write(h.dir.path().join(SETTINGS_FILE), "{ broken").unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    h.post_json("/api/v2/logs", body).await;
    assert!(
        h.store
            .rows()
            .pop()
            .unwrap()
            .body
            .unwrap()
            .contains("[FILTERED]")
    );
    h.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_drains_and_closes_the_store() {
    let h = Harness::start().await;
    assert_eq!(
        h.post_json("/api/v2/logs", r#"{"level":"info","message":"a"}"#)
            .await
            .status,
        201
    );
    let store = h.store.clone();
    h.stop().await.unwrap();
    assert!(store.shutdown_called.load(Ordering::SeqCst));
    assert_eq!(store.rows().len(), 1);
}

#[tokio::test]
async fn generated_key_file_is_used_when_no_key_is_configured() {
    let h = Harness::start_with(|c| c.api_key = None).await;
    let key = std::fs::read_to_string(h.dir.path().join("ingest.key")).unwrap();
    let key = key.trim();
    let req = hyper::Request::post(format!("http://{}/api/v2/logs", h.addr))
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(Bytes::from(r#"{"level":"info","message":"a"}"#)))
        .unwrap();
    assert_eq!(h.send(req).await.status, 201);
    h.stop().await.unwrap();
}
