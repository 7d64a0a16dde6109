//! Tailing a WAL that is being appended to: every record exactly once, in order.

mod wal_support;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentrace_shared::wal::{HEADER_LEN, WalError, WalHeader, WalRecord, WalTailer, WalWriter};
use opentrace_shared::{ChunkId, HourId};
use wal_support::{Rng, frame, sample_records};

const DEADLINE: Duration = Duration::from_secs(120);

/// Polls `path` until the writer says it is done and a final poll returns nothing new.
/// Returns the records and how many polls stopped at an incomplete or mid-write record.
fn tail_until_done(path: &Path, done: &AtomicBool) -> (Vec<WalRecord>, usize) {
    let mut t = WalTailer::open(path).unwrap();
    let mut got = Vec::new();
    let mut partial_polls = 0usize;
    let start = Instant::now();
    loop {
        let finished = done.load(Ordering::Acquire);
        let batch = t.poll().unwrap();
        if t.pending_bytes() > 0 {
            partial_polls += 1;
        }
        let empty = batch.is_empty();
        got.extend(batch);
        if finished && empty {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "tailer timed out");
        if empty {
            std::thread::yield_now();
        }
    }
    assert_eq!(t.pending_bytes(), 0);
    assert_eq!(t.offset(), std::fs::metadata(path).unwrap().len());
    eprintln!("{partial_polls} polls stopped at a partial record");
    (got, partial_polls)
}

#[test]
fn concurrent_wal_writer_and_tailer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_000.log");
    let recs = sample_records(31, 3000, 6);
    let mut w = WalWriter::create(&path, HourId(490_500), ChunkId(0)).unwrap();
    let done = Arc::new(AtomicBool::new(false));

    let writer = {
        let recs = recs.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut rng = Rng::new(5);
            let mut unsynced = 0;
            for r in &recs {
                w.append(r).unwrap();
                unsynced += 1;
                if unsynced > rng.below(40) {
                    w.sync().unwrap();
                    unsynced = 0;
                }
                if rng.chance(2) {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            w.sync().unwrap();
            done.store(true, Ordering::Release);
        })
    };
    let (got, _) = tail_until_done(&path, &done);
    writer.join().unwrap();
    assert_eq!(got.len(), recs.len());
    assert!(got == recs, "records differ from what was written");
}

#[test]
fn concurrent_split_writes_and_tailer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_001.log");
    let recs = sample_records(32, 2000, 8);
    drop(WalWriter::create(&path, HourId(490_501), ChunkId(1)).unwrap());
    let done = Arc::new(AtomicBool::new(false));

    let writer = {
        let recs = recs.clone();
        let done = done.clone();
        let path = path.clone();
        std::thread::spawn(move || {
            let mut f = OpenOptions::new().append(true).open(&path).unwrap();
            let mut rng = Rng::new(6);
            for r in &recs {
                // Each frame goes out in 1 to 4 write() calls, cut at random points,
                // so the reader regularly sees frame headers and payloads half written.
                let bytes = frame(r);
                let mut cuts: Vec<usize> = (0..rng.below(4))
                    .map(|_| rng.below(bytes.len() as u64) as usize)
                    .collect();
                cuts.push(0);
                cuts.push(bytes.len());
                cuts.sort_unstable();
                for w in cuts.windows(2) {
                    f.write_all(&bytes[w[0]..w[1]]).unwrap();
                    if rng.chance(30) {
                        std::thread::yield_now();
                    }
                    if rng.chance(1) {
                        std::thread::sleep(Duration::from_micros(300));
                    }
                }
            }
            f.sync_data().unwrap();
            done.store(true, Ordering::Release);
        })
    };
    let (got, _) = tail_until_done(&path, &done);
    writer.join().unwrap();
    assert_eq!(got.len(), recs.len());
    assert!(got == recs, "records differ from what was written");
}

#[test]
fn tailer_waits_on_partial_and_mid_write_records_and_rereads_rewritten_tails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_002.log");
    let recs = sample_records(33, 4, 3);
    let (a, b, c, d) = (
        frame(&recs[0]),
        frame(&recs[1]),
        frame(&recs[2]),
        frame(&recs[3]),
    );
    let header = WalHeader {
        hour: HourId(7),
        chunk: ChunkId(2),
    }
    .encode();

    // Header written in two pieces: the tailer waits for it.
    std::fs::write(&path, &header[..10]).unwrap();
    let mut t = WalTailer::open(&path).unwrap();
    assert!(t.poll().unwrap().is_empty());
    assert_eq!(t.header(), None);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    f.write_all_at(&header[10..], 10).unwrap();
    f.write_all_at(&a, HEADER_LEN as u64).unwrap();
    assert_eq!(t.poll().unwrap(), vec![recs[0].clone()]);
    assert_eq!(t.header().map(|h| h.chunk), Some(ChunkId(2)));
    let after_a = (HEADER_LEN + a.len()) as u64;
    assert_eq!(t.offset(), after_a);

    // Half of B: nothing yet.
    f.write_all_at(&b[..b.len() / 2], after_a).unwrap();
    assert!(t.poll().unwrap().is_empty());
    assert_eq!(t.pending_bytes(), b.len() / 2);

    // The writer's write failed: it cuts back and appends C instead.
    f.set_len(after_a).unwrap();
    f.write_all_at(&c, after_a).unwrap();
    assert_eq!(t.poll().unwrap(), vec![recs[2].clone()]);
    let after_c = after_a + c.len() as u64;

    // D arrives with a byte not yet right (as if mid-copy): CRC mismatch, no advance.
    let mut d_bad = d.clone();
    let mid = d_bad.len() - 3;
    d_bad[mid] ^= 0x55;
    f.write_all_at(&d_bad, after_c).unwrap();
    assert!(t.poll().unwrap().is_empty());
    assert_eq!(t.offset(), after_c);
    assert_eq!(t.pending_bytes(), d.len());
    f.write_all_at(&d[mid..mid + 1], after_c + mid as u64)
        .unwrap();
    assert_eq!(t.poll().unwrap(), vec![recs[3].clone()]);
    assert!(t.poll().unwrap().is_empty());
    assert_eq!(t.pending_bytes(), 0);
}

#[test]
fn vanished_is_typed_and_comes_after_the_last_records() {
    let dir = tempfile::tempdir().unwrap();

    // Missing at open.
    let missing = dir.path().join("wal_404.log");
    assert!(WalTailer::open(&missing).unwrap_err().is_vanished());

    // Deleted after the writer's last records: the records first, then Vanished.
    let path = dir.path().join("wal_003.log");
    let recs = sample_records(34, 5, 3);
    let mut w = WalWriter::create(&path, HourId(1), ChunkId(3)).unwrap();
    let mut t = WalTailer::open(&path).unwrap();
    w.append(&recs[0]).unwrap();
    assert_eq!(t.poll().unwrap(), vec![recs[0].clone()]);
    for r in &recs[1..] {
        w.append(r).unwrap();
    }
    w.sync().unwrap();
    drop(w);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(t.poll().unwrap(), &recs[1..]);
    let err = t.poll().unwrap_err();
    assert!(matches!(err, WalError::Vanished { .. }), "{err}");

    // Replaced by another file under the same name (a rename over it).
    let path = dir.path().join("wal_004.log");
    let mut w = WalWriter::create(&path, HourId(1), ChunkId(4)).unwrap();
    w.append(&recs[0]).unwrap();
    let mut t = WalTailer::open(&path).unwrap();
    assert_eq!(t.poll().unwrap().len(), 1);
    let other = dir.path().join("other.tmp");
    std::fs::write(&other, b"chunk bytes").unwrap();
    std::fs::rename(&other, &path).unwrap();
    assert!(t.poll().unwrap_err().is_vanished());
}
