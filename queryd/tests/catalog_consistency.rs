//! A writer converting WALs to chunks continuously (ingestd's exact sequence) while a
//! reader takes snapshots: every snapshot must show seqs `1..=k` exactly once, and `k`
//! must never decrease.

mod datafix;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use datafix::{BASE_HOUR, Store, build_from_wal, visible_seqs};
use opentrace_queryd::catalog::{Catalog, CatalogOptions};
use opentrace_shared::{ChunkId, HourId};

#[test]
fn snapshots_are_prefix_closed_and_never_duplicate() {
    let mut store = Store::new(7);
    let dd = store.dd.clone();
    let catalog = Arc::new(
        Catalog::open(
            dd.clone(),
            CatalogOptions {
                poll_interval: Duration::from_millis(5),
                rescan_interval: Duration::from_millis(50),
                watch: true,
            },
        )
        .unwrap(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (catalog, done) = (catalog.clone(), done.clone());
        std::thread::spawn(move || {
            let mut last_max = 0u64;
            let mut snapshots = 0u64;
            let mut last_gen = 0;
            while !done.load(Ordering::Acquire) {
                let s = catalog.snapshot();
                if s.generation() == last_gen {
                    std::thread::yield_now();
                    continue;
                }
                last_gen = s.generation();
                let seqs = visible_seqs(&s);
                let set: HashSet<u64> = seqs.iter().copied().collect();
                assert_eq!(set.len(), seqs.len(), "a row is visible twice");
                let max = seqs.iter().copied().max().unwrap_or(0);
                assert_eq!(max as usize, seqs.len(), "visible seqs are not 1..=max");
                assert!(max >= last_max, "rows disappeared: {max} < {last_max}");
                last_max = max;
                snapshots += 1;
            }
            (snapshots, last_max)
        })
    };
    // Writer: 3 hours x 6 WALs of 4 appends each; rotate (create the next WAL), then build
    // the previous one, as ingestd's writer and builder threads do.
    let t = Instant::now();
    let mut hour: HourId = BASE_HOUR;
    let mut chunk = ChunkId(0);
    let mut w = store.add_wal(hour, chunk, 20);
    for step in 0..18 {
        for _ in 0..3 {
            store.append(&mut w, hour, 20);
            std::thread::sleep(Duration::from_millis(2));
        }
        let (old_hour, old_chunk) = (hour, chunk);
        if step % 6 == 5 {
            hour = hour.next();
            chunk = ChunkId(0);
        } else {
            chunk = chunk.next();
        }
        drop(w);
        w = store.add_wal(hour, chunk, 20);
        build_from_wal(&dd, old_hour, old_chunk);
    }
    drop(w);
    std::thread::sleep(Duration::from_millis(300));
    catalog.refresh_now();
    let s = catalog.snapshot();
    let mut seqs = visible_seqs(&s);
    seqs.sort();
    assert_eq!(seqs, (1..store.next_seq).collect::<Vec<_>>());
    done.store(true, Ordering::Release);
    let (snapshots, last_max) = reader.join().unwrap();
    eprintln!(
        "{snapshots} snapshots checked over {:?}, {} rows written, last max seq seen {last_max}",
        t.elapsed(),
        store.rows.len()
    );
    assert!(
        snapshots > 10,
        "the reader saw too few snapshots to mean anything"
    );
}
