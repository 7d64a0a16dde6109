//! Start-up recovery of the real `opentrace-ingestd` on prepared data directories: a WAL
//! of an hour that ended is built into a chunk and the hour sealed (`meta.json` with the
//! right counts); a stray `.tmp` and an orphan `.idx` are removed; a WAL whose chunk is
//! already committed is deleted without duplicating its rows; a WAL cut short while it was
//! being created (no complete header) is removed.
//!
//! Waiting for a real hour to end is not possible in a test, so the past hours' files are
//! written with the shared writers exactly as ingestd would have left them.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use opentrace_shared::chunk::ChunkBuilder;
use opentrace_shared::datadir::{DataDir, publish_chunk};
use opentrace_shared::fts::IndexBuilder;
use opentrace_shared::meta::HourMeta;
use opentrace_shared::time::now_micros;
use opentrace_shared::wal::{WalRecord, WalWriter};
use opentrace_shared::{BatchId, ChunkId, HourId, Level, Row, Seq};
use opentrace_tests::ingest_client::{Sdk, post_as_sdk};
use opentrace_tests::ingestd::Ingestd;
use opentrace_tests::store_reader::{Source, read_store};
use serde_json::json;

/// `n` rows of `hour` starting at `first_seq`; every third is an error of `svc-b`.
fn rows(hour: HourId, first_seq: u64, n: u64, tag: &str) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let err = i % 3 == 2;
            Row {
                seq: Seq(first_seq + i),
                ts: hour.start_micros() + 60_000_000 * i as i64 + 1234,
                received_at: hour.start_micros() + 60_000_000 * i as i64 + 5678,
                level: if err { Level::Error } else { Level::Info },
                service: if err { "svc-b" } else { "svc-a" }.into(),
                message: format!("recovery probe {tag}-{i}"),
                env: "production".into(),
                kind: "log".into(),
                error_class: err.then(|| "Probe::Failed".to_string()),
                error_fingerprint: err.then(|| "00112233aabbccdd".to_string()),
                ..Row::default()
            }
        })
        .collect()
}

fn write_wal(dd: &DataDir, hour: HourId, chunk: ChunkId, records: &[WalRecord]) {
    std::fs::create_dir_all(dd.hour_dir(hour)).unwrap();
    let mut w = WalWriter::create(&dd.wal_path(hour, chunk), hour, chunk).unwrap();
    for r in records {
        w.append(r).unwrap();
    }
    w.sync().unwrap();
}

fn write_chunk(dd: &DataDir, hour: HourId, chunk: ChunkId, records: &[WalRecord]) {
    std::fs::create_dir_all(dd.hour_dir(hour)).unwrap();
    let mut cb = ChunkBuilder::new();
    let mut ib = IndexBuilder::new();
    let mut n = 0u32;
    for rec in records {
        if let (Some(id), Some(first)) = (&rec.batch_id, rec.rows.first()) {
            cb.push_batch(id, first.seq, rec.rows.len() as u32);
        }
        for r in &rec.rows {
            ib.add_row(n, r);
            cb.push(r);
            n += 1;
        }
    }
    publish_chunk(
        &dd.hour_dir(hour),
        chunk,
        &ib.finish().unwrap(),
        &cb.finish().unwrap(),
    )
    .unwrap();
}

fn wait_for(path: &Path, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn counts<'a>(rows: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r.to_string()).or_default() += 1;
    }
    m
}

/// Posts one entry with `message` twice: under the recovered batch id `replayed` (which
/// must answer 200, deduplicated, with the `count` rows stored before the restart), then
/// under a fresh batch id (which must be stored: 201).
async fn replay_then_fresh(d: &Ingestd, replayed: &str, count: u64, message: &str) {
    let body = serde_json::to_vec(&json!([{"level": "info", "message": message}])).unwrap();
    let (a, _) = post_as_sdk(&d.url(), &d.api_key, Sdk::Node020, Some(replayed), &body)
        .await
        .unwrap();
    assert_eq!(
        (a.status, a.json),
        (200, json!({"count": count, "deduplicated": true})),
        "{}",
        d.log()
    );
    let (a, _) = post_as_sdk(&d.url(), &d.api_key, Sdk::Node020, Some("fresh"), &body)
        .await
        .unwrap();
    assert_eq!(a.status, 201, "{}", d.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_hours_are_built_sealed_and_cleaned_at_start_up() {
    let work = tempfile::tempdir().unwrap();
    let dd = DataDir::new(work.path().join("data"));
    let now = HourId::from_micros(now_micros());
    let past = HourId(now.0 - 3);
    let built = HourId(now.0 - 2);

    // Hour now-3: one WAL never built (the daemon died before the hour ended), a stray
    // `.tmp` of an interrupted publish and an orphan `.idx`.
    let past_records = vec![
        WalRecord {
            batch_id: Some(BatchId("past-1".into())),
            rows: rows(past, 1, 4, "past"),
        },
        WalRecord {
            batch_id: None,
            rows: rows(past, 5, 3, "past-nobatch"),
        },
    ];
    write_wal(&dd, past, ChunkId(0), &past_records);
    let tmp = dd.hour_dir(past).join("chunk_001.col.tmp");
    std::fs::write(&tmp, b"half a chunk").unwrap();
    let orphan = dd.idx_path(past, ChunkId(2));
    std::fs::write(&orphan, b"an index whose chunk never committed").unwrap();

    // Hour now-2: chunk 000 committed but its WAL not yet deleted (crash between the two).
    let built_records = vec![WalRecord {
        batch_id: Some(BatchId("built-1".into())),
        rows: rows(built, 100, 6, "built"),
    }];
    write_chunk(&dd, built, ChunkId(0), &built_records);
    write_wal(&dd, built, ChunkId(0), &built_records);
    let before = read_store(dd.root()).unwrap();
    assert_eq!(before.wals_shadowed, 1);
    assert_eq!(before.tmp_files(), vec![tmp.clone()]);

    let mut d = Ingestd::start(work.path(), &[]).unwrap();
    // Clean-up happens before the port opens.
    assert!(!tmp.exists(), "stray .tmp removed");
    assert!(!orphan.exists(), "orphan .idx removed");
    assert!(
        !dd.wal_path(built, ChunkId(0)).exists(),
        "WAL of a committed chunk removed"
    );
    // Building and sealing run on the builder thread: wait for the seal.
    assert!(
        wait_for(&dd.meta_path(past), Duration::from_secs(30)),
        "{}",
        d.log()
    );
    assert!(
        wait_for(&dd.meta_path(built), Duration::from_secs(30)),
        "{}",
        d.log()
    );
    assert!(
        !dd.wal_path(past, ChunkId(0)).exists(),
        "past WAL built and removed"
    );
    assert!(dd.col_path(past, ChunkId(0)).exists());

    let all_past: Vec<&Row> = past_records.iter().flat_map(|r| &r.rows).collect();
    let meta = HourMeta::from_json(&std::fs::read(dd.meta_path(past)).unwrap()).unwrap();
    assert_eq!(meta.hour, past.dir_name());
    assert_eq!(meta.rows, all_past.len() as u64);
    let seq = meta.seq.unwrap();
    assert_eq!(
        (seq.min, seq.max),
        (
            all_past[0].seq.0 as i64,
            all_past.last().unwrap().seq.0 as i64
        )
    );
    let ts = meta.ts_us.unwrap();
    assert_eq!(ts.min, all_past.iter().map(|r| r.ts).min().unwrap());
    assert_eq!(ts.max, all_past.iter().map(|r| r.ts).max().unwrap());
    assert_eq!(meta.chunks.len(), 1);
    assert_eq!(meta.chunks[0].id, 0);
    assert_eq!(meta.chunks[0].rows, all_past.len() as u64);
    assert_eq!(
        meta.counts.level,
        counts(all_past.iter().map(|r| r.level.as_str()))
    );
    assert_eq!(
        meta.counts.service,
        counts(all_past.iter().map(|r| r.service.as_str()))
    );
    assert_eq!(
        meta.counts.env,
        counts(all_past.iter().map(|r| r.env.as_str()))
    );
    let errors: u64 = all_past.iter().filter(|r| r.level.is_error()).count() as u64;
    assert_eq!(meta.minutes.values().map(|m| m.errors).sum::<u64>(), errors);
    assert_eq!(
        meta.minutes.values().map(|m| m.total).sum::<u64>(),
        all_past.len() as u64
    );
    let built_meta = HourMeta::from_json(&std::fs::read(dd.meta_path(built)).unwrap()).unwrap();
    assert_eq!(built_meta.rows, built_records[0].rows.len() as u64);

    // The batch ids of recent hours were recovered: a replay of `built-1` is deduplicated.
    // New rows continue after the highest recovered sequence number.
    replay_then_fresh(&d, "built-1", 6, "replay?").await;

    let st = d.sigterm(Duration::from_secs(30)).unwrap();
    assert_eq!(st.code(), Some(0), "{}", d.log());
    let after = read_store(dd.root()).unwrap();
    assert!(after.problems.is_empty(), "{:?}", after.problems);
    assert!(after.rows.iter().all(|r| r.source == Source::Chunk));
    let expect_total = all_past.len() + built_records[0].rows.len() + 1;
    assert_eq!(after.rows.len(), expect_total, "no row lost or duplicated");
    let mut msgs: Vec<&str> = after.rows.iter().map(|r| r.row.message.as_str()).collect();
    msgs.sort_unstable();
    msgs.dedup();
    assert_eq!(msgs.len(), expect_total, "every message once");
    let fresh = after
        .rows
        .iter()
        .find(|r| r.row.message == "replay?")
        .unwrap();
    let max_recovered = built_records[0].rows.last().unwrap().seq;
    assert!(fresh.row.seq > max_recovered, "{:?}", fresh.row.seq);
    assert_eq!(
        fresh.hour,
        now.max(HourId::from_micros(fresh.row.received_at))
    );
    assert!(after.sealed_hours.contains(&past) && after.sealed_hours.contains(&built));
}

/// A SIGKILL between `WalWriter::create` making the file and writing its header leaves a
/// WAL shorter than its header (the crash test hit it once in CI: "wal file is 0 bytes,
/// shorter than its header", and ingestd refused to start). Such a file holds no row:
/// start-up removes it and carries on, in the current hour (where it is the newest WAL,
/// the one the writer would have appended to) and in a past one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wals_cut_short_while_being_created_are_removed_at_start_up() {
    let work = tempfile::tempdir().unwrap();
    let dd = DataDir::new(work.path().join("data"));
    let now = HourId::from_micros(now_micros());
    let past = HourId(now.0 - 1);

    // Current hour: WAL 000 holds acknowledged rows, WAL 001 was being created (0 bytes).
    let kept = vec![WalRecord {
        batch_id: Some(BatchId("kept-1".into())),
        rows: rows(now, 1, 5, "kept"),
    }];
    write_wal(&dd, now, ChunkId(0), &kept);
    let empty = dd.wal_path(now, ChunkId(1));
    std::fs::write(&empty, b"").unwrap();
    // Past hour: a WAL with only the first bytes of its header.
    std::fs::create_dir_all(dd.hour_dir(past)).unwrap();
    let partial = dd.wal_path(past, ChunkId(0));
    std::fs::write(&partial, opentrace_shared::wal::WAL_MAGIC).unwrap();

    let mut d = Ingestd::start(work.path(), &[]).unwrap();
    assert!(!empty.exists(), "0-byte WAL removed\n{}", d.log());
    assert!(!partial.exists(), "WAL with a partial header removed");
    assert!(
        d.log().contains("its header was never written"),
        "{}",
        d.log()
    );

    // The acknowledged rows before the crash are kept, and ingest goes on after them.
    replay_then_fresh(&d, "kept-1", 5, "after restart").await;

    let st = d.sigterm(Duration::from_secs(30)).unwrap();
    assert_eq!(st.code(), Some(0), "{}", d.log());
    let after = read_store(dd.root()).unwrap();
    assert!(after.problems.is_empty(), "{:?}", after.problems);
    let mut msgs: Vec<&str> = after.rows.iter().map(|r| r.row.message.as_str()).collect();
    msgs.sort_unstable();
    let mut want: Vec<String> = kept[0].rows.iter().map(|r| r.message.clone()).collect();
    want.push("after restart".into());
    want.sort_unstable();
    assert_eq!(msgs, want, "every acknowledged row once");
    let fresh = after
        .rows
        .iter()
        .find(|r| r.row.message == "after restart")
        .unwrap();
    assert!(fresh.row.seq > Seq(5), "{:?}", fresh.row.seq);
}
