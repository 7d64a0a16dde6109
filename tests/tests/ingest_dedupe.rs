//! `X-Batch-ID` dedupe over the real `opentrace-ingestd`: a replay is answered
//! `200 {"count": n, "deduplicated": true}` and stored nothing, in the same process, after a
//! SIGKILL (the ids come back from the WAL) and after a SIGTERM (from the chunk files, the
//! WAL being gone).

use std::time::Duration;

use opentrace_shared::Row;
use opentrace_tests::ingest_client::{Sdk, post_as_sdk};
use opentrace_tests::ingestd::Ingestd;
use opentrace_tests::store_reader::{Source, read_store};
use serde_json::json;

/// A Node-shaped batch whose messages carry `tag`.
fn batch(tag: &str, n: usize) -> Vec<u8> {
    let entries: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "ts": "2026-04-18T10:15:30.686Z", "level": "info", "service": "checkout-api",
                "message": format!("dedupe probe {tag}-{i}"), "env": "staging",
                "body": {"context": {"i": i}}
            })
        })
        .collect();
    serde_json::to_vec(&entries).unwrap()
}

fn count_tagged(rows: &[&Row], tag: &str) -> usize {
    let needle = format!("dedupe probe {tag}-");
    rows.iter()
        .filter(|r| r.message.starts_with(&needle))
        .count()
}

fn ruby_request_fixture() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/sdk/ruby-0.17-request.json"),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_are_deduplicated_across_kill_and_clean_restart() {
    let work = tempfile::tempdir().unwrap();
    let mut d = Ingestd::start(work.path(), &[]).unwrap();
    let node = batch("A", 30);
    let ruby = ruby_request_fixture();

    let (a, gz) = post_as_sdk(&d.url(), &d.api_key, Sdk::Node020, Some("batch-A"), &node)
        .await
        .unwrap();
    assert!(gz);
    assert_eq!((a.status, a.json.clone()), (201, json!({"count": 30})));
    let (r, _) = post_as_sdk(&d.url(), &d.api_key, Sdk::Ruby017, Some("batch-R"), &ruby)
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.json);
    let ruby_rows = r.json["count"].as_u64().unwrap();
    assert!(ruby_rows >= 2, "request row + in-request error row");

    let replayed = |count: u64| json!({"count": count, "deduplicated": true});
    let check_replays = |url: String, key: String, phase: &'static str| {
        let node = node.clone();
        let ruby = ruby.clone();
        async move {
            let (a, _) = post_as_sdk(&url, &key, Sdk::Node020, Some("batch-A"), &node)
                .await
                .unwrap();
            assert_eq!((a.status, a.json), (200, replayed(30)), "{phase}: node");
            let (r, _) = post_as_sdk(&url, &key, Sdk::Ruby017, Some("batch-R"), &ruby)
                .await
                .unwrap();
            assert_eq!(
                (r.status, r.json),
                (200, replayed(ruby_rows)),
                "{phase}: ruby"
            );
        }
    };
    check_replays(d.url(), d.api_key.clone(), "same process").await;

    // SIGKILL: the ids are only in the WAL.
    d.kill9().unwrap();
    let after_kill = read_store(&d.data_dir).unwrap();
    assert!(after_kill.rows.iter().all(|r| r.source == Source::Wal));
    d.restart().unwrap();
    check_replays(d.url(), d.api_key.clone(), "after SIGKILL").await;
    let rows = read_store(&d.data_dir).unwrap();
    let plain = rows.plain_rows();
    assert_eq!(count_tagged(&plain, "A"), 30);
    assert_eq!(plain.len() as u64, 30 + ruby_rows, "nothing stored twice");

    // SIGTERM: WALs become chunks, so the ids now come from the chunks' batch tables.
    let st = d.sigterm(Duration::from_secs(30)).unwrap();
    assert_eq!(st.code(), Some(0), "{}", d.log());
    let sealed = read_store(&d.data_dir).unwrap();
    assert_eq!(sealed.wals, 0);
    assert!(sealed.chunks >= 1);
    d.restart().unwrap();
    check_replays(d.url(), d.api_key.clone(), "after SIGTERM").await;

    // A new id with the same body is not a replay.
    let (b, _) = post_as_sdk(
        &d.url(),
        &d.api_key,
        Sdk::Node020,
        Some("batch-B"),
        &batch("B", 5),
    )
    .await
    .unwrap();
    assert_eq!((b.status, b.json), (201, json!({"count": 5})));

    let st = d.sigterm(Duration::from_secs(30)).unwrap();
    assert_eq!(st.code(), Some(0), "{}", d.log());
    let end = read_store(&d.data_dir).unwrap();
    let plain = end.plain_rows();
    assert_eq!(count_tagged(&plain, "A"), 30, "batch A stored once");
    assert_eq!(count_tagged(&plain, "B"), 5);
    assert_eq!(plain.len() as u64, 35 + ruby_rows, "nothing stored twice");
    let mut seqs: Vec<u64> = plain.iter().map(|r| r.seq.0).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), plain.len(), "sequence numbers are unique");
}
