//! Bad input over the real `opentrace-ingestd`: one bad entry does not cost its siblings,
//! and a gzip bomb is refused with 413 without the daemon's memory growing by the bomb's
//! decompressed size.

use std::time::Duration;

use opentrace_tests::ingest_client::{Sdk, post_as_sdk, post_raw};
use opentrace_tests::ingestd::{Ingestd, proc_status_kib};
use opentrace_tests::loadgen::wire::gzip;
use opentrace_tests::store_reader::read_store;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_entry_keeps_its_siblings() {
    let work = tempfile::tempdir().unwrap();
    let mut d = Ingestd::start(work.path(), &[]).unwrap();
    let entry = |m: &str| json!({"ts": "2026-04-18T10:15:30Z", "level": "info", "service": "svc", "message": m});
    let body = json!([
        entry("sibling one"),
        {"ts": "2026-04-18T10:15:30Z", "level": "info", "service": "svc", "message": {"text": "an object"}},
        entry("sibling two"),
        "not an object",
        {"ts": "2026-04-18T10:15:30Z", "level": "loud", "service": "svc", "message": "bad level"},
        entry("sibling three"),
    ]);
    let (a, _) = post_as_sdk(
        &d.url(),
        &d.api_key,
        Sdk::Node020,
        Some("bad-entry-batch"),
        &serde_json::to_vec(&body).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(a.status, 201, "{}", a.json);
    assert_eq!(a.json["count"], 3);
    let rejected = a.json["rejected"].as_array().unwrap();
    let indexes: Vec<u64> = rejected
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, vec![1, 3, 4]);
    assert!(
        rejected
            .iter()
            .all(|r| !r["error"].as_str().unwrap().is_empty())
    );
    assert!(rejected[0]["error"].as_str().unwrap().contains("message"));
    assert!(rejected[2]["error"].as_str().unwrap().contains("loud"));

    let st = d.sigterm(Duration::from_secs(30)).unwrap();
    assert_eq!(st.code(), Some(0));
    let stored = read_store(&d.data_dir).unwrap();
    let mut msgs: Vec<&str> = stored.rows.iter().map(|r| r.row.message.as_str()).collect();
    msgs.sort_unstable();
    assert_eq!(msgs, vec!["sibling one", "sibling three", "sibling two"]);
}

/// Posts `wire` as a gzip body and returns (status, VmHWM growth in KiB, VmRSS after in KiB).
async fn post_bomb(d: &Ingestd, wire: Vec<u8>) -> (u16, u64, u64) {
    let pid = d.pid().unwrap();
    let before = proc_status_kib(pid, "VmHWM").unwrap();
    let a = post_raw(
        &d.url(),
        "/api/v2/logs",
        &d.api_key,
        &[("content-encoding", "gzip".to_string())],
        wire,
    )
    .await
    .unwrap();
    let after = proc_status_kib(pid, "VmHWM").unwrap();
    let rss = proc_status_kib(pid, "VmRSS").unwrap();
    (a.status, after.saturating_sub(before), rss)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bomb_is_refused_without_inflating_it() {
    const BOMB: usize = 20 * 1024 * 1024;
    let work = tempfile::tempdir().unwrap();
    let mut d = Ingestd::start(work.path(), &[]).unwrap();
    // Valid JSON when inflated: one entry whose message is 20 MiB of 'x'.
    let mut json = br#"[{"level":"info","message":""#.to_vec();
    json.resize(json.len() + BOMB, b'x');
    json.extend_from_slice(br#""}]"#);
    let honest = gzip(&json);
    assert!(honest.len() < 200 * 1024, "{}", honest.len());
    drop(json);

    // Warm up the allocator and the connection path with one normal request.
    let (ok, _) = post_as_sdk(
        &d.url(),
        &d.api_key,
        Sdk::Node020,
        None,
        br#"[{"level":"info","message":"warm"}]"#,
    )
    .await
    .unwrap();
    assert_eq!(ok.status, 201);

    // An honest trailer declares 20 MiB: refused before inflating anything.
    let (status, grew_kib, rss) = post_bomb(&d, honest.clone()).await;
    println!("honest gzip bomb: status {status}, VmHWM +{grew_kib} KiB, VmRSS {rss} KiB");
    assert_eq!(status, 413);
    assert!(grew_kib < 4 * 1024, "VmHWM grew by {grew_kib} KiB");

    // A lying trailer (ISIZE says 64 bytes): inflation is cut off at the 10 MiB cap.
    let mut liar = honest;
    let n = liar.len();
    liar[n - 4..].copy_from_slice(&64u32.to_le_bytes());
    let (status, grew_kib, rss) = post_bomb(&d, liar).await;
    println!("lying gzip bomb: status {status}, VmHWM +{grew_kib} KiB, VmRSS {rss} KiB");
    assert_eq!(status, 413);
    assert!(
        grew_kib < 12 * 1024,
        "VmHWM grew by {grew_kib} KiB for a {BOMB}-byte bomb (cap 10 MiB)"
    );

    // Nothing from either bomb was stored, and the daemon is still healthy.
    let (ok, _) = post_as_sdk(
        &d.url(),
        &d.api_key,
        Sdk::Node020,
        None,
        br#"[{"level":"info","message":"after"}]"#,
    )
    .await
    .unwrap();
    assert_eq!(ok.status, 201);
    let st = d.sigterm(Duration::from_secs(30)).unwrap();
    assert_eq!(st.code(), Some(0));
    let stored = read_store(&d.data_dir).unwrap();
    let msgs: Vec<&str> = stored.rows.iter().map(|r| r.row.message.as_str()).collect();
    assert_eq!(msgs, vec!["warm", "after"]);
}
