//! Lays out a data directory of N past hours, each holding `rows_per_hour` SDK-shaped entries,
//! as ingestd would have left it had it been receiving that traffic for N hours and then been
//! stopped before building: one WAL per 65,536 stored rows, in `logs/<hour>/`.
//!
//! The entries come from the load generator, encoded as the SDKs send them, and go through
//! ingestd's own decoding and pipeline ([`opentrace_ingestd::wire`],
//! [`opentrace_ingestd::pipeline`]); sequence numbers are contiguous across hours and
//! `received_at` follows the simulated clock. The real ingestd then turns the WALs into chunks
//! and seals every hour on start-up (its crash recovery path), so the chunks, indexes and
//! `meta.json` files are exactly what ingestd builds.
//!
//! Two threads: one generates and encodes batches, the other decodes them, runs the pipeline
//! and appends WAL records.

use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use anyhow::{Context, Result, anyhow};
use opentrace_ingestd::pipeline::process_batch;
use opentrace_ingestd::pipeline::scrub::Scrubber;
use opentrace_ingestd::wire::{DecodeCtx, Dialect, split_batch};
use opentrace_shared::datadir::DataDir;
use opentrace_shared::settings::PiiSettings;
use opentrace_shared::wal::{WalRecord, WalWriter};
use opentrace_shared::{BatchId, ChunkId, HourId, Seq};
use serde::Serialize;

use crate::loadgen::wire::{EncodedBatch, Encoder, GzipMode};
use crate::loadgen::{Corpus, Entry, GenConfig, Generator, Micros};

/// Stored rows per WAL (ingestd's default `--chunk-target-rows`).
const ROWS_PER_WAL: u64 = 65_536;

/// Entries per generated request.
const BATCH: usize = 1000;

/// Values the agent queries look for, taken from the middle hour.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct HourProbes {
    /// A token that occurs in exactly one message (the marker of one entry).
    pub needle: String,
    /// A trace id of that hour.
    pub trace_id: String,
    /// A service name.
    pub service: String,
    /// Start of the first hour, µs.
    pub from_us: i64,
    /// End of the last hour, µs.
    pub to_us: i64,
}

/// What was laid out.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Synthesized {
    /// Hours written.
    pub hours: u32,
    /// Entries generated (per hour × hours).
    pub entries: u64,
    /// Rows stored (entries plus expanded in-request logs).
    pub rows: u64,
    /// The last sequence number used.
    pub last_seq: u64,
    /// Uncompressed JSON bytes of all requests.
    pub raw_json_bytes: u64,
    /// WAL files written.
    pub wals: u32,
    /// Query probes.
    pub probes: HourProbes,
}

/// Writes `hours` hours of `rows_per_hour` entries each, ending with the last complete hour
/// before now, into `dd`.
pub fn synthesize(dd: &DataDir, hours: u32, rows_per_hour: u64, seed: u64) -> Result<Synthesized> {
    let corpus = Arc::new(Corpus::load_default()?);
    let now_hour = HourId::from_micros(opentrace_shared::time::now_micros());
    let first = HourId(now_hour.0 - i64::from(hours));
    let middle = HourId(first.0 + i64::from(hours / 2));
    let (tx, rx) = sync_channel::<(HourId, EncodedBatch, u64)>(16);
    let probe_slot = std::sync::Mutex::new(None::<(String, String, String)>);

    std::thread::scope(|s| {
        let producer = s.spawn(|| -> Result<u64> {
            let tx = tx;
            let mut raw = 0u64;
            for h in 0..hours {
                let hour = HourId(first.0 + i64::from(h));
                let hseed = seed + u64::from(h);
                let cfg = GenConfig {
                    seed: hseed,
                    start: Micros(hour.start_micros()),
                    // Spread the hour's entries over 3590 s so none spills into the next.
                    sim_rate: rows_per_hour.max(1) as f64 / 3590.0,
                    ..GenConfig::default()
                };
                let mut generator = Generator::new(cfg, corpus.clone());
                let mut encoder = Encoder::new(GzipMode::Never, hseed ^ 0x0ba7_c4ed);
                let mut done = 0u64;
                while done < rows_per_hour {
                    let n = (rows_per_hour - done).min(BATCH as u64) as usize;
                    let b = generator.next_batch(n);
                    if hour == middle
                        && done <= rows_per_hour / 2
                        && done + n as u64 > rows_per_hour / 2
                    {
                        let mid = b.entries.iter().find(|e| e.trace_id.is_some());
                        if let (Some(e), Ok(mut slot)) = (mid, probe_slot.lock()) {
                            *slot = Some((
                                Entry::marker(hseed, e.index),
                                e.trace_id.clone().unwrap_or_default(),
                                e.service.clone(),
                            ));
                        }
                    }
                    done += n as u64;
                    // Received a few ms after the last entry's timestamp.
                    let received = hour.start_micros()
                        + ((done as f64 / rows_per_hour.max(1) as f64) * 3_590e6) as i64
                        + 5_000;
                    if let Some(enc) = encoder.encode(&b) {
                        raw += enc.raw_len as u64;
                        if tx.send((hour, enc, received as u64)).is_err() {
                            return Err(anyhow!("WAL writer stopped"));
                        }
                    }
                }
            }
            Ok(raw)
        });

        let writer = s.spawn(move || -> Result<(u64, u64, u32)> {
            let (scrubber, _) = Scrubber::new(&PiiSettings::default());
            let mut next = Seq(1);
            let mut rows_total = 0u64;
            let mut wals = 0u32;
            let mut cur: Option<(HourId, ChunkId, WalWriter, u64)> = None;
            for (hour, enc, received) in rx {
                let entries = split_batch(&enc.body, 5000).map_err(|e| anyhow!("{e}"))?;
                let ctx = DecodeCtx {
                    received_at: received as i64,
                    default_env: "production",
                    dialect: Dialect::V2,
                };
                let mut out = process_batch(&entries, &ctx, &scrubber);
                if !out.rejected.is_empty() {
                    return Err(anyhow!("pipeline rejected entries: {:?}", out.rejected));
                }
                for r in &mut out.rows {
                    r.seq = next;
                    next = next.next();
                    r.received_at = received as i64;
                }
                let n = out.rows.len() as u64;
                let roll = match &cur {
                    None => true,
                    Some((h, _, _, rows)) => *h != hour || *rows >= ROWS_PER_WAL,
                };
                if roll {
                    let chunk = match cur.take() {
                        Some((h, c, mut w, _)) => {
                            w.sync()?;
                            if h == hour { c.next() } else { ChunkId(0) }
                        }
                        None => ChunkId(0),
                    };
                    std::fs::create_dir_all(dd.hour_dir(hour))?;
                    let w = WalWriter::create(&dd.wal_path(hour, chunk), hour, chunk)
                        .context("creating a WAL")?;
                    wals += 1;
                    cur = Some((hour, chunk, w, 0));
                }
                if let Some((_, _, w, rows)) = cur.as_mut() {
                    w.append(&WalRecord {
                        batch_id: Some(BatchId(enc.batch_id.to_string())),
                        rows: out.rows,
                    })?;
                    *rows += n;
                }
                rows_total += n;
            }
            if let Some((_, _, mut w, _)) = cur {
                w.sync()?;
            }
            Ok((rows_total, next.0 - 1, wals))
        });

        let raw = producer
            .join()
            .map_err(|_| anyhow!("generator panicked"))??;
        let (rows, last_seq, wals) = writer
            .join()
            .map_err(|_| anyhow!("WAL writer panicked"))??;
        let (needle, trace_id, service) = probe_slot
            .lock()
            .map_err(|_| anyhow!("probe lock"))?
            .clone()
            .context("no probe entry generated")?;
        Ok(Synthesized {
            hours,
            entries: rows_per_hour * u64::from(hours),
            rows,
            last_seq,
            raw_json_bytes: raw,
            wals,
            probes: HourProbes {
                needle,
                trace_id,
                service,
                from_us: first.start_micros(),
                to_us: now_hour.start_micros(),
            },
        })
    })
}
