#![no_main]
//! Opens arbitrary bytes as a chunk file and decodes everything: every column, point reads
//! (`values_at`, framed strings), dictionaries, equality filters, batches and rows. The reader must return errors, never panic.
use libfuzzer_sys::fuzz_target;
use opentrace_shared::chunk::ChunkReader;
use opentrace_shared::{Col, ValueRef};

fuzz_target!(|data: &[u8]| {
    let Ok(r) = ChunkReader::open(data) else {
        return;
    };
    let _ = r.zone_map();
    let _ = r.batches();
    for c in Col::all() {
        if let Ok(col) = r.column(c) {
            for i in 0..col.len().min(64) {
                let _ = col.get(i);
            }
        }
        let _ = r.dictionary(c);
        let n = r.row_count();
        let _ = r.values_at(c, &[0, n / 2, n.saturating_sub(1), n]);
        let _ = r.filter_eq(c, ValueRef::Str("error"));
        let _ = r.filter_eq(c, ValueRef::Int(200));
        let _ = r.filter_eq(c, ValueRef::Null);
    }
    let _ = r.row(0);
    let _ = r.rows_at(&[0, 3, 1], &[Col::Message, Col::TraceId, Col::DurationMs]);
    let _ = r.rows();
});
