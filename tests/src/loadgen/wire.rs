//! Request bodies as the SDKs put them on the wire: JSON array, gzip above 1 KiB, a UUID v4
//! `X-Batch-ID` per batch (kept across retries).

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::entry::EntryIndex;
use super::generator::Batch;
use super::ids::uuid_v4;

/// Body size above which both SDKs gzip (their `compressionThreshold` default).
pub const GZIP_THRESHOLD: usize = 1024;

/// When to gzip a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GzipMode {
    /// Only bodies longer than [`GZIP_THRESHOLD`] bytes, like the SDKs.
    Auto,
    /// Every body.
    Always,
    /// No body.
    Never,
}

impl GzipMode {
    /// Whether a JSON body of `len` bytes is compressed in this mode.
    pub fn applies(self, len: usize) -> bool {
        match self {
            GzipMode::Auto => len > GZIP_THRESHOLD,
            GzipMode::Always => true,
            GzipMode::Never => false,
        }
    }
}

/// One batch ready to post.
#[derive(Debug, Clone)]
pub struct EncodedBatch {
    /// The `X-Batch-ID` header value (UUID v4), the same on every attempt.
    pub batch_id: uuid::Uuid,
    /// Index of the first entry.
    pub first: EntryIndex,
    /// Number of entries.
    pub count: usize,
    /// Length of the uncompressed JSON.
    pub raw_len: usize,
    /// The body as sent (gzipped when `gzipped`).
    pub body: Bytes,
    /// Whether `Content-Encoding: gzip` applies.
    pub gzipped: bool,
}

/// Encodes batches and hands out batch ids from a seeded stream, so a run is reproducible
/// when the caller fixes the id seed (the CLI draws it at random unless told otherwise, so
/// that re-running a seed against the same server is not taken for a replay).
pub struct Encoder {
    mode: GzipMode,
    ids: ChaCha8Rng,
}

impl Encoder {
    /// An encoder with the given gzip mode and batch-id seed.
    pub fn new(mode: GzipMode, id_seed: u64) -> Encoder {
        Encoder {
            mode,
            ids: ChaCha8Rng::seed_from_u64(id_seed),
        }
    }

    /// Serialises, maybe compresses, and assigns a fresh batch id. Returns `None` for an
    /// empty batch.
    pub fn encode(&mut self, batch: &Batch) -> Option<EncodedBatch> {
        let first = batch.first_index()?;
        let json = batch.to_json();
        Some(self.encode_json(json, first, batch.entries.len()))
    }

    /// Like [`Encoder::encode`] for an already serialised JSON array.
    pub fn encode_json(&mut self, json: Vec<u8>, first: EntryIndex, count: usize) -> EncodedBatch {
        let raw_len = json.len();
        let (body, gzipped) = if self.mode.applies(raw_len) {
            (Bytes::from(gzip(&json)), true)
        } else {
            (Bytes::from(json), false)
        };
        EncodedBatch {
            batch_id: uuid_v4(&mut self.ids),
            first,
            count,
            raw_len,
            body,
            gzipped,
        }
    }
}

/// gzip at the fastest level (Ruby uses BEST_SPEED).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}
