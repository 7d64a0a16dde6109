#![no_main]
//! Fuzzes ingestd's request-body decoding, the bytes a client sends: the gzip/deflate
//! decoder under its size cap, then the batch decoder both ways. The one-pass decoder
//! (`pipeline::process_body`) must give exactly what the two-pass reference
//! (`wire::split_batch` + `pipeline::process_batch`) gives, errors included, and nothing
//! may panic.
use std::sync::LazyLock;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use opentrace_ingestd::http::body::{Encoding, decode};
use opentrace_ingestd::pipeline::scrub::Scrubber;
use opentrace_ingestd::pipeline::{BatchOutcome, process_batch, process_body};
use opentrace_ingestd::wire::{DecodeCtx, Dialect, split_batch};
use opentrace_shared::settings::PiiSettings;

/// Compiling the scrubber's patterns takes milliseconds: once per process, not per input.
static SCRUBBER: LazyLock<Scrubber> = LazyLock::new(|| Scrubber::new(&PiiSettings::default()).0);

fn show(o: &BatchOutcome, entries: usize) -> String {
    format!(
        "entries {entries} rows {:?} accepted {} rejected {:?} warnings {:?}",
        o.rows, o.accepted_entries, o.rejected, o.warnings
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let cap = 1 << 20;
    for enc in [Encoding::Gzip, Encoding::Deflate] {
        if let Ok(out) = decode(Bytes::copy_from_slice(body), enc, cap) {
            assert!(out.len() <= cap);
        }
    }
    let dialect = if selector & 1 == 0 {
        Dialect::V2
    } else {
        Dialect::Legacy
    };
    let max = usize::from(selector >> 1) % 8;
    let ctx = DecodeCtx {
        received_at: 1_776_507_330_000_000,
        default_env: "production",
        dialect,
    };
    let scrubber = &*SCRUBBER;
    let one = match process_body(body, max, &ctx, scrubber) {
        Ok((o, n)) => show(&o, n),
        Err(e) => format!("error {e:?}"),
    };
    let two = match split_batch(body, max) {
        Ok(entries) => show(&process_batch(&entries, &ctx, scrubber), entries.len()),
        Err(e) => format!("error {e:?}"),
    };
    assert_eq!(one, two);
});
