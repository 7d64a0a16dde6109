//! Ingest counters and their Prometheus text rendering (`GET /metrics`).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::{HistogramSnapshot, StoreStats};

/// Status codes counted individually; anything else is counted as `other`.
const STATUSES: [u16; 11] = [200, 201, 400, 401, 404, 405, 413, 415, 500, 503, 0];

/// Ingest counters, updated lock-free on the hot path.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Entries accepted (children not counted).
    pub entries_accepted: AtomicU64,
    /// Entries rejected individually.
    pub entries_rejected: AtomicU64,
    /// Rows handed to and stored by the store (children included).
    pub rows_stored: AtomicU64,
    /// Request body bytes as received on the wire.
    pub bytes_received: AtomicU64,
    /// Request body bytes after decompression.
    pub bytes_decompressed: AtomicU64,
    /// Batches answered as duplicates.
    pub batches_deduplicated: AtomicU64,
    /// Responses by status, indexed like `STATUSES`.
    requests: [AtomicU64; STATUSES.len()],
}

impl Metrics {
    /// Counts one response.
    pub fn count_status(&self, status: u16) {
        let i = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len() - 1);
        if let Some(c) = self.requests.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, store: &StoreStats) -> String {
        let mut out = String::with_capacity(4096);
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let counters: [(&str, &str, u64); 6] = [
            (
                "opentrace_ingest_entries_accepted_total",
                "Entries accepted.",
                get(&self.entries_accepted),
            ),
            (
                "opentrace_ingest_entries_rejected_total",
                "Entries rejected individually (bad entry in a batch).",
                get(&self.entries_rejected),
            ),
            (
                "opentrace_ingest_rows_stored_total",
                "Rows stored, in-request children included.",
                get(&self.rows_stored),
            ),
            (
                "opentrace_ingest_bytes_received_total",
                "Request body bytes received on the wire.",
                get(&self.bytes_received),
            ),
            (
                "opentrace_ingest_bytes_decompressed_total",
                "Request body bytes after decompression.",
                get(&self.bytes_decompressed),
            ),
            (
                "opentrace_ingest_batches_deduplicated_total",
                "Batches answered as duplicates of an X-Batch-ID already stored.",
                get(&self.batches_deduplicated),
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP opentrace_ingest_requests_total HTTP responses by status code.\n# TYPE opentrace_ingest_requests_total counter"
        );
        for (s, c) in STATUSES.iter().zip(&self.requests) {
            let label = if *s == 0 {
                "other".to_string()
            } else {
                s.to_string()
            };
            let _ = writeln!(
                out,
                "opentrace_ingest_requests_total{{status=\"{label}\"}} {}",
                get(c)
            );
        }
        let store_counters: [(&str, &str, &str, u64); 3] = [
            (
                "opentrace_store_rows_durable_total",
                "Rows made durable by the store.",
                "counter",
                store.rows_durable,
            ),
            (
                "opentrace_store_wal_bytes",
                "Bytes currently held in WAL files.",
                "gauge",
                store.wal_bytes,
            ),
            (
                "opentrace_store_chunks_built_total",
                "Chunks built from WAL files.",
                "counter",
                store.chunks_built,
            ),
        ];
        for (name, help, ty, v) in store_counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {ty}\n{name} {v}");
        }
        histogram(
            &mut out,
            "opentrace_store_fsync_seconds",
            "WAL fsync latency.",
            &store.fsync_seconds,
        );
        histogram(
            &mut out,
            "opentrace_store_seal_seconds",
            "Time to seal an hour.",
            &store.seal_seconds,
        );
        out
    }
}

fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (b, c) in h.bounds.iter().zip(&h.cumulative) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum {}", h.sum);
    let _ = writeln!(out, "{name}_count {}", h.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        Metrics::add(&m.entries_accepted, 3);
        m.count_status(201);
        m.count_status(418);
        let stats = StoreStats {
            fsync_seconds: HistogramSnapshot {
                bounds: vec![0.001, 0.01],
                cumulative: vec![1, 2],
                count: 3,
                sum: 0.5,
            },
            ..StoreStats::default()
        };
        let text = m.render(&stats);
        assert!(text.contains("opentrace_ingest_entries_accepted_total 3\n"));
        assert!(text.contains("opentrace_ingest_requests_total{status=\"201\"} 1\n"));
        assert!(text.contains("opentrace_ingest_requests_total{status=\"other\"} 1\n"));
        assert!(text.contains("opentrace_store_fsync_seconds_bucket{le=\"0.01\"} 2\n"));
        assert!(text.contains("opentrace_store_fsync_seconds_bucket{le=\"+Inf\"} 3\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
        }
    }
}
