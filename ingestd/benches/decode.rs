//! Decode + pipeline throughput on SDK-shaped entries of about 400 bytes.
//!
//! Run: `cargo bench -p opentrace-ingestd --bench decode`. Prints entries/s on one core for
//! batches of 50 (the SDKs' batch size) and 5000 entries, with PII scrubbing on and off.

use std::time::Instant;

use opentrace_ingestd::pipeline::process_batch;
use opentrace_ingestd::pipeline::scrub::Scrubber;
use opentrace_ingestd::wire::{DecodeCtx, Dialect, split_batch};
use opentrace_shared::settings::PiiSettings;

fn entry(i: usize) -> String {
    match i % 10 {
        // A request row (Node 0.2.0 shape).
        0 => format!(
            r#"{{"ts":"2026-04-18T10:15:30.683Z","level":"info","service":"checkout-api","message":"GET /orders/{i} 200 4ms","env":"staging","version":"9f2c1e7","event_type":"http.request","method":"GET","path":"/orders/{i}","status":200,"duration_ms":3.9,"request_id":"req-{i}","trace_id":"4bf92f3577b34da6a3ce929d0e0e{:04x}","span_id":"e9990760b59cffec","db_ms":12.61,"db_count":3,"body":{{"context":{{"hostname":"web-1","pid":4879}}}}}}"#,
            i % 65536
        ),
        // An error row with a stack.
        1 => format!(
            r#"{{"ts":"2026-04-18T10:15:30.686Z","level":"error","service":"checkout-api","message":"Cannot read properties of undefined (reading 'total') order {i}","env":"staging","error_class":"TypeError","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","body":{{"exception":{{"class":"TypeError","stack":"TypeError: x\n    at file:///app/routes/orders.mjs:46:19"}},"context":{{"order_id":"ord_{i}"}}}}}}"#
        ),
        // Plain logs.
        _ => format!(
            r#"{{"ts":"2026-04-18T10:15:30.686Z","level":"info","service":"checkout-api","message":"loading orders for customer {i} page 2 of the listing with filters applied","env":"staging","version":"9f2c1e7","user_id":"{i}","request_id":"req-7f3a","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"e9990760b59cffec","body":{{"context":{{"page":2,"hostname":"web-1","pid":4879}}}}}}"#
        ),
    }
}

fn batch(n: usize) -> Vec<u8> {
    let entries: Vec<String> = (0..n).map(entry).collect();
    format!("[{}]", entries.join(",")).into_bytes()
}

fn bench(label: &str, body: &[u8], n: usize, pii: bool) {
    let (scrubber, _) = Scrubber::new(&PiiSettings {
        enabled: pii,
        ..PiiSettings::default()
    });
    let ctx = DecodeCtx {
        received_at: 1_776_507_330_000_000,
        default_env: "production",
        dialect: Dialect::V2,
    };
    let target_entries = 400_000;
    let iters = (target_entries / n).max(1);
    // Warm-up.
    for _ in 0..(iters / 10).max(1) {
        let e = split_batch(body, 5000).unwrap();
        std::hint::black_box(process_batch(&e, &ctx, &scrubber));
    }
    let start = Instant::now();
    let mut rows = 0;
    for _ in 0..iters {
        let e = split_batch(body, 5000).unwrap();
        rows += std::hint::black_box(process_batch(&e, &ctx, &scrubber))
            .rows
            .len();
    }
    let secs = start.elapsed().as_secs_f64();
    let entries = (iters * n) as f64;
    println!(
        "{label:<28} {:>9.0} entries/s  {:>6.1} MB/s  (avg {} B/entry, {rows} rows)",
        entries / secs,
        body.len() as f64 * iters as f64 / secs / 1e6,
        body.len() / n
    );
}

fn main() {
    for n in [50, 5000] {
        let body = batch(n);
        bench(&format!("batch {n}, PII on"), &body, n, true);
        bench(&format!("batch {n}, PII off"), &body, n, false);
    }
}
