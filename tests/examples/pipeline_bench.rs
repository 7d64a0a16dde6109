//! What ingestd's HTTP threads spend per entry, stage by stage, on one core, over the rows
//! `bench all` sends (the same generator, seed and gzip).
//!
//! Run: `cargo run --release -p opentrace-tests --example pipeline_bench [-- ROWS [BATCH]]`
//! (default 200000 rows in batches of 1000). Each stage is timed over the whole data set,
//! three rounds, best round kept. The first four lines are the two-pass path (each line
//! includes the ones before it, so their differences are what each stage adds); the last
//! two are the one-pass path ingestd takes (`pipeline::process_body`). The chunk builder is measured by
//! `shared`'s `storage_bench`, the WAL codec by its `wal_throughput` test.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use opentrace_ingestd::http::body::{self, Encoding};
use opentrace_ingestd::pipeline::scrub::Scrubber;
use opentrace_ingestd::pipeline::{process_batch, process_body};
use opentrace_ingestd::wire::{DecodeCtx, Dialect, split_batch};
use opentrace_shared::settings::PiiSettings;
use opentrace_tests::bench::dataset;
use opentrace_tests::loadgen::wire::EncodedBatch;

const MAX_BODY: usize = 64 << 20;

/// A batch's JSON as ingestd's HTTP handler gets it: the body inflated when it is gzip.
fn json_of(eb: &EncodedBatch) -> Result<Bytes> {
    let enc = if eb.gzipped {
        Encoding::Gzip
    } else {
        Encoding::Identity
    };
    Ok(body::decode(eb.body.clone(), enc, MAX_BODY)?)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let rows: u64 = args.next().map_or(Ok(200_000), |s| s.parse())?;
    let batch: usize = args.next().map_or(Ok(1000), |s| s.parse())?;
    let data = dataset::generate(1, rows, batch, None).context("generating the data set")?;
    let entries = data.entries as f64;
    println!(
        "{} entries in {} batches of {batch}, {:.0} B of JSON and {:.0} B of gzip per entry",
        data.entries,
        data.batches.len(),
        data.raw_bytes as f64 / entries,
        data.wire_bytes as f64 / entries
    );
    let scrub_on = Scrubber::new(&PiiSettings::default()).0;
    let scrub_off = Scrubber::new(&PiiSettings {
        enabled: false,
        ..PiiSettings::default()
    })
    .0;
    let ctx = DecodeCtx {
        received_at: 1_776_507_330_000_000,
        default_env: "production",
        dialect: Dialect::V2,
    };
    let inflate = || -> Result<usize> {
        let mut n = 0;
        for eb in &data.batches {
            n += json_of(eb)?.len();
        }
        Ok(n)
    };
    let one_pass = |scrubber: &Scrubber| -> Result<usize> {
        let mut n = 0;
        for eb in &data.batches {
            let json = json_of(eb)?;
            let (out, _) = process_body(&json, 5000, &ctx, scrubber)?;
            n += std::hint::black_box(out).rows.len();
        }
        Ok(n)
    };
    let through = |scrubber: &Scrubber, pipeline: bool| -> Result<usize> {
        let mut n = 0;
        for eb in &data.batches {
            let json = json_of(eb)?;
            let raw = split_batch(&json, 5000)?;
            n += if pipeline {
                std::hint::black_box(process_batch(&raw, &ctx, scrubber))
                    .rows
                    .len()
            } else {
                raw.len()
            };
        }
        Ok(n)
    };
    let stages: [(&str, &dyn Fn() -> Result<usize>); 6] = [
        ("gunzip", &inflate),
        ("+ split into raw entries", &|| through(&scrub_off, false)),
        ("+ decode each and pipeline, PII scrubbing off", &|| {
            through(&scrub_off, true)
        }),
        ("+ decode each and pipeline, PII scrubbing on", &|| {
            through(&scrub_on, true)
        }),
        (
            "gunzip + one-pass decode and pipeline, PII scrubbing off",
            &|| one_pass(&scrub_off),
        ),
        (
            "gunzip + one-pass decode and pipeline, PII scrubbing on (ingestd)",
            &|| one_pass(&scrub_on),
        ),
    ];
    // How much of the data the scrubber changes (each change costs a parse of the body or
    // a rewrite of the text).
    let mut changed = [0usize; 3];
    for eb in &data.batches {
        let json = json_of(eb)?;
        let (out, _) = process_body(&json, 5000, &ctx, &scrub_on)?;
        for r in &out.rows {
            let hit = |t: &str| {
                ["[CARD]", "[EMAIL]", "[SSN]", "[PHONE]", "[FILTERED]"]
                    .iter()
                    .any(|m| t.contains(m))
            };
            changed[0] += 1;
            changed[1] += usize::from(hit(&r.message));
            changed[2] += usize::from(r.body.as_deref().is_some_and(hit));
        }
    }
    println!(
        "{} rows: scrubbing changed the message of {} and the body of {}",
        changed[0], changed[1], changed[2]
    );
    println!("\n| stage | µs per entry |\n|---|---:|");
    for (name, run) in stages {
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            std::hint::black_box(run()?);
            best = best.min(t.elapsed());
        }
        println!("| {name} | {:.2} |", best.as_secs_f64() * 1e6 / entries);
    }
    Ok(())
}
