//! Freshness: how long after a WAL append is fsynced the row is in a snapshot, with the
//! default options (100 ms WAL poll). Reports the distribution; asserts a generous 1 s.

mod datafix;

use std::time::{Duration, Instant};

use datafix::{BASE_HOUR, Store};
use opentrace_queryd::catalog::{Catalog, CatalogOptions};
use opentrace_shared::ChunkId;

#[test]
fn fsynced_rows_become_visible_quickly() {
    let mut store = Store::new(3);
    let mut w = store.add_wal(BASE_HOUR, ChunkId(0), 1);
    let catalog = Catalog::open(store.dd.clone(), CatalogOptions::default()).unwrap();
    let mut lat = Vec::new();
    for i in 0..25 {
        store.append(&mut w, BASE_HOUR, 1);
        let t = Instant::now();
        let want = store.next_seq - 1;
        loop {
            let s = catalog.snapshot();
            let seen = s
                .hours()
                .iter()
                .flat_map(|h| &h.wals)
                .any(|v| v.seq_range().is_some_and(|(_, hi)| hi.0 >= want));
            if seen {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(1),
                "row {want} not visible after 1 s"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        lat.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(13 * (i % 5) + 7));
    }
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "freshness over {} appends: min {:.1} ms, p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        lat.len(),
        ms(lat[0]),
        ms(lat[lat.len() / 2]),
        ms(lat[lat.len() * 9 / 10]),
        ms(lat[lat.len() - 1])
    );
}
