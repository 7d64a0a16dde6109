//! The rows of a run, generated and encoded before any timing starts.
//!
//! Pre-encoding (JSON + gzip, as the SDKs send it) keeps the generator's CPU out of the
//! ingest measurement: on a 2-core machine the client would otherwise compete with the daemon.
//! The same seed gives the same entries whatever the batch size, so every phase and every peer
//! sees the same rows. Timestamps span [`SPAN_US`] (24 h) from [`DEFAULT_START`].

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::loadgen::wire::{EncodedBatch, Encoder, GzipMode};
use crate::loadgen::{Corpus, DEFAULT_START, Entry, EntryIndex, GenConfig, Generator};

/// Simulated time covered by a data set: 24 hours, in µs.
pub const SPAN_US: i64 = 86_400_000_000;

/// Values the queries look for, chosen from the generated rows (the same for every store).
#[derive(Debug, Clone, Serialize)]
pub struct Probes {
    /// A term that occurs in exactly one message: the marker token of the middle entry.
    pub needle: String,
    /// The trace id of the first entry at or after the middle that has one.
    pub trace_id: String,
    /// A service name (of that entry).
    pub service: String,
    /// Start of the data's timestamps, µs.
    pub ts_from_us: i64,
    /// End of the data's timestamps (exclusive bound used by range queries), µs.
    pub ts_to_us: i64,
}

/// Encoded request bodies plus what was put in them.
#[derive(Debug)]
pub struct Dataset {
    /// The batches, in order.
    pub batches: Vec<EncodedBatch>,
    /// Entries generated.
    pub entries: u64,
    /// Uncompressed JSON bytes over all batches.
    pub raw_bytes: u64,
    /// Body bytes (after gzip) over all batches.
    pub wire_bytes: u64,
    /// Probe values for the queries.
    pub probes: Probes,
}

/// Errors while generating.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The loghub corpus could not be loaded.
    #[error("loading the loghub corpus: {0}")]
    Corpus(#[from] crate::loadgen::CorpusError),
    /// The NDJSON file could not be written.
    #[error("writing {path}: {source}")]
    Ndjson {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Generates `rows` entries of `seed` in batches of `batch`, gzip as the SDKs do, with
/// timestamps spread over 24 h. If `ndjson` is given, every entry is also written there, one
/// JSON object per line (the input of the peers).
pub fn generate(
    seed: u64,
    rows: u64,
    batch: usize,
    ndjson: Option<&Path>,
) -> Result<Dataset, DatasetError> {
    let corpus = Arc::new(Corpus::load_default()?);
    let cfg = GenConfig {
        seed,
        start: DEFAULT_START,
        sim_rate: rows.max(1) as f64 / (SPAN_US as f64 / 1e6),
        ..GenConfig::default()
    };
    let mut generator = Generator::new(cfg, corpus);
    let mut encoder = Encoder::new(GzipMode::Auto, seed ^ 0x5eed_ba7c);
    let io_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| DatasetError::Ndjson {
            path: path.clone(),
            source,
        }
    };
    let mut out = match ndjson {
        Some(p) => Some(BufWriter::new(std::fs::File::create(p).map_err(io_err(p))?)),
        None => None,
    };
    let middle = rows / 2;
    let mut probe: Option<(String, String)> = None;
    let mut batches = Vec::with_capacity((rows as usize).div_ceil(batch.max(1)));
    let (mut entries, mut raw_bytes, mut wire_bytes) = (0u64, 0u64, 0u64);
    let mut line = Vec::with_capacity(2048);
    while entries < rows {
        let n = (rows - entries).min(batch.max(1) as u64) as usize;
        let b = generator.next_batch(n);
        entries += n as u64;
        for e in &b.entries {
            if probe.is_none()
                && e.index.0 >= middle
                && let Some(t) = &e.trace_id
            {
                probe = Some((t.clone(), e.service.clone()));
            }
            if let (Some(w), Some(p)) = (out.as_mut(), ndjson) {
                line.clear();
                e.write_json(&mut line);
                line.push(b'\n');
                w.write_all(&line).map_err(io_err(p))?;
            }
        }
        if let Some(enc) = encoder.encode(&b) {
            raw_bytes += enc.raw_len as u64;
            wire_bytes += enc.body.len() as u64;
            batches.push(enc);
        }
    }
    if let (Some(mut w), Some(p)) = (out, ndjson) {
        w.flush().map_err(io_err(p))?;
    }
    let (trace_id, service) = probe.unwrap_or_else(|| (String::new(), "checkout-api".into()));
    Ok(Dataset {
        batches,
        entries,
        raw_bytes,
        wire_bytes,
        probes: Probes {
            needle: Entry::marker(seed, EntryIndex(middle)),
            trace_id,
            service,
            ts_from_us: DEFAULT_START.0,
            ts_to_us: DEFAULT_START.0 + SPAN_US + 1_000_000,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_the_requested_rows_and_probes() {
        let t = tempfile::tempdir().unwrap();
        let nd = t.path().join("rows.ndjson");
        let d = generate(3, 500, 50, Some(&nd)).unwrap();
        assert_eq!(d.entries, 500);
        assert_eq!(d.batches.len(), 10);
        assert_eq!(d.probes.needle, "lg-3-250");
        assert_eq!(d.probes.trace_id.len(), 32);
        let text = std::fs::read_to_string(&nd).unwrap();
        assert_eq!(text.lines().count(), 500);
        assert!(text.contains("lg-3-250\""));
        assert!(d.wire_bytes > 0 && d.wire_bytes < d.raw_bytes);
    }
}
