//! Crash test: SDK-shaped load from several concurrent senders while the real
//! `opentrace-ingestd` is SIGKILLed at seeded random moments and restarted on the same data
//! directory and port. Every acknowledged entry must be stored exactly once, no entry twice
//! (even when its batch was retried across a kill), sequence numbers unique, and no `.tmp`
//! file may survive recovery.
//!
//! Seed: `OPENTRACE_CRASH_SEED` (default 7); the printed stats name it. Keep it short: the
//! marker `lg-<seed>-<i>` is a digit run split by a dash, and once seed and index together
//! reach 13 digits about one marker in ten is Luhn-valid and the default PII scrubber
//! rightly redacts it as `[CARD]` (the test checks the marker survives whole).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentrace_tests::ingestd::Ingestd;
use opentrace_tests::loadgen::send::{SendConfig, send_batches};
use opentrace_tests::loadgen::wire::{EncodedBatch, Encoder, GzipMode};
use opentrace_tests::loadgen::{Corpus, GenConfig, Generator};
use opentrace_tests::store_reader::read_store;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// SIGKILLs over the run.
const KILLS: usize = 22;
/// Range of the pause before each kill, in ms.
const KILL_GAP_MS: std::ops::Range<u64> = 200..1500;

fn seed() -> u64 {
    std::env::var("OPENTRACE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
}

/// The entry index of a generated row: its `body.lg_seq`, which must agree with the
/// `lg-<seed>-<i>` token at the end of its message. `None` for rows that are not generated
/// entries (the in-request log rows ingestd expands from Ruby requests).
fn marker(seed: u64, message: &str, body: Option<&str>) -> Option<u64> {
    if !body?.contains("\"lg_seq\"") {
        return None;
    }
    let body: serde_json::Value = serde_json::from_str(body?).ok()?;
    let i = body["lg_seq"].as_u64()?;
    let token = message.rsplit_once(' ').map_or(message, |(_, t)| t);
    assert_eq!(
        token,
        format!("lg-{seed}-{i}"),
        "the message marker agrees with body.lg_seq (a redacted `[CARD]` means the seed is too long)"
    );
    Some(i)
}

#[test]
fn acknowledged_entries_survive_sigkill_exactly_once() {
    let seed = seed();
    let t0 = Instant::now();
    let work = tempfile::tempdir().unwrap();
    // Small chunks so that kills also land during chunk builds and publishes.
    let mut d = Ingestd::start(
        work.path(),
        &["--chunk-max-rows", "3000", "--shutdown-grace-secs", "5"],
    )
    .unwrap();

    // Producer: seeded batches of 20..=200 entries, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = tokio::sync::mpsc::channel::<EncodedBatch>(8);
    let producer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let corpus = Arc::new(Corpus::load_default().unwrap());
            let mut g = Generator::new(
                GenConfig {
                    seed,
                    ..GenConfig::default()
                },
                corpus,
            );
            let mut enc = Encoder::new(GzipMode::Auto, seed);
            let mut sizes = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
            let mut generated = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let b = g.next_batch(sizes.random_range(20..=200));
                generated += b.entries.len() as u64;
                let Some(e) = enc.encode(&b) else { continue };
                if tx.blocking_send(e).is_err() {
                    break;
                }
            }
            generated
        })
    };

    // Senders: four keep-alive connections, retrying connection errors and 5xx with the
    // same body and X-Batch-ID for as long as a restart can take.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = SendConfig {
        url: d.url(),
        path: "/api/v2/logs".into(),
        api_key: Some(d.api_key.clone()),
        concurrency: 4,
        max_retries: 200,
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(300),
        request_timeout: Duration::from_secs(10),
        deadline: Duration::from_secs(110),
        ..SendConfig::default()
    };
    let sender = rt.spawn(send_batches(cfg, rx));

    // Killer: seeded pauses, SIGKILL, restart on the same directory and port. Any `.tmp`
    // left by a kill must be gone once the restarted daemon listens (recovery runs first).
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tmp_seen = 0usize;
    for k in 0..KILLS {
        std::thread::sleep(Duration::from_millis(rng.random_range(KILL_GAP_MS)));
        d.kill9().unwrap();
        let left = read_store(&d.data_dir)
            .map(|s| s.tmp_files())
            .unwrap_or_default();
        tmp_seen += left.len();
        d.restart()
            .unwrap_or_else(|e| panic!("restart {k} failed: {e}; log:\n{}", d.log()));
        for p in &left {
            assert!(!p.exists(), "recovery left {}", p.display());
        }
    }
    let kill_phase = t0.elapsed();

    stop.store(true, Ordering::Relaxed);
    let generated = producer.join().unwrap();
    let report = rt.block_on(sender).unwrap().unwrap();
    let st = d.sigterm(Duration::from_secs(60)).unwrap();
    assert_eq!(
        st.code(),
        Some(0),
        "clean exit; log tail:\n{}",
        tail(&d.log())
    );

    // Read every row back.
    let store = read_store(&d.data_dir).unwrap();
    assert_eq!(store.wals, 0, "SIGTERM built every WAL");
    assert!(store.tmp_files().is_empty(), "{:?}", store.tmp_files());
    assert!(store.problems.is_empty(), "{:?}", store.problems);

    let mut seqs: Vec<u64> = store.rows.iter().map(|r| r.row.seq.0).collect();
    seqs.sort_unstable();
    let n_rows = seqs.len();
    seqs.dedup();
    assert_eq!(seqs.len(), n_rows, "sequence numbers are unique");

    let mut seen: HashMap<u64, u32> = HashMap::new();
    for r in &store.rows {
        if let Some(i) = marker(seed, &r.row.message, r.row.body.as_deref()) {
            *seen.entry(i).or_default() += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "entries stored more than once: {twice:?}");

    let mut acked = 0u64;
    let mut missing = Vec::new();
    for b in &report.acked_batches {
        for i in b.first_entry_index.0..b.first_entry_index.0 + b.count {
            acked += 1;
            if seen.get(&i) != Some(&1) {
                missing.push(i);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged entries missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(acked, report.entries_accepted + report.entries_deduplicated);
    assert_eq!(store.rows.len(), n_rows);

    println!(
        "crash test (seed {seed}): {KILLS} SIGKILLs over {:.1} s ({} starts); generated {generated}, \
         sent {}, acked {acked} entries in {} batches ({} acked as deduplicated replays); \
         {} requests, {} retries, responses {:?}; unacked: {} failed, {} rejected, {} unsent; \
         rows stored {n_rows} ({} with markers, incl. {} unacked-but-stored); chunks {}; \
         .tmp files left by kills and removed by recovery: {tmp_seen}; total {:.1} s",
        kill_phase.as_secs_f64(),
        d.starts,
        report.entries_sent,
        report.batches_acked,
        report.entries_deduplicated,
        report.requests,
        report.retries,
        report.responses,
        report.entries_failed,
        report.entries_rejected,
        report.entries_unsent,
        seen.len(),
        seen.len() as u64 - acked,
        store.chunks,
        t0.elapsed().as_secs_f64(),
    );
    assert!(acked > 0);
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(4000);
    s.get(start..).unwrap_or(s)
}
