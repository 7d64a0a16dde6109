//! The final run report: what was sent, what the server acknowledged, throughput, latency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::entry::EntryIndex;

/// One batch the server acknowledged with a 2xx.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckedBatch {
    /// The `X-Batch-ID` that was acknowledged.
    pub batch_id: String,
    /// Entries in the batch.
    pub count: u64,
    /// Index (`lg_seq`) of its first entry; the batch holds `first..first+count`.
    pub first_entry_index: EntryIndex,
    /// Whether the server answered `"deduplicated": true` (a replay of an id it had stored).
    pub deduplicated: bool,
}

/// Exact percentiles (nearest rank) of the recorded acknowledgement latencies, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LatencySummary {
    /// Number of latencies recorded (one per 2xx response).
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl LatencySummary {
    /// Summarises `samples` (any order; sorted in place).
    pub fn from_samples(samples: &mut [Duration]) -> LatencySummary {
        samples.sort_unstable();
        let n = samples.len();
        let at = |p: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
            samples
                .get(rank - 1)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        LatencySummary {
            count: n as u64,
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// Everything a run measured. Entry counters partition the generated entries:
/// `entries_generated = accepted + deduplicated + rejected + failed + unsent`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Report {
    /// Entries produced by the generator.
    pub entries_generated: u64,
    /// Entries in batches posted at least once.
    pub entries_sent: u64,
    /// Entries in batches answered 2xx without `deduplicated`.
    pub entries_accepted: u64,
    /// Entries in batches answered 2xx with `"deduplicated": true`.
    pub entries_deduplicated: u64,
    /// Entries in batches whose last answer was a non-2xx status.
    pub entries_rejected: u64,
    /// Entries in batches whose last attempt got no answer (connection error or timeout).
    pub entries_failed: u64,
    /// Entries never posted (the run stopped first: deadline or 401).
    pub entries_unsent: u64,
    /// Batches posted at least once.
    pub batches_sent: u64,
    /// Batches answered 2xx.
    pub batches_acked: u64,
    /// HTTP attempts (first tries plus retries).
    pub requests: u64,
    /// Attempts that were retries of a batch.
    pub retries: u64,
    /// Answers per status code, plus `"connect_error"` and `"timeout"` for attempts with none.
    pub responses: BTreeMap<String, u64>,
    /// 2xx answers whose `count` differed from the batch size.
    pub server_count_mismatches: u64,
    /// True when the server answered 401 (the run stops at once, like the SDKs).
    pub auth_failed: bool,
    /// Wall time of the run, in seconds.
    pub elapsed_s: f64,
    /// Acknowledged entries (accepted + deduplicated) per second.
    pub entries_per_s: f64,
    /// Entries generated (and serialised) per second of the run's wall time.
    pub generated_per_s: f64,
    /// Uncompressed JSON bytes of the batches posted (each batch once).
    pub raw_bytes: u64,
    /// Body bytes put on the wire over all attempts (after gzip, retries included).
    pub wire_bytes: u64,
    /// `raw_bytes` per second, in MB (10^6 bytes).
    pub raw_mb_per_s: f64,
    /// `wire_bytes` per second, in MB.
    pub wire_mb_per_s: f64,
    /// Time from the start of an attempt to the end of its 2xx answer.
    pub ack_latency: LatencySummary,
    /// Every acknowledged batch, in acknowledgement order.
    pub acked_batches: Vec<AckedBatch>,
}

impl Report {
    /// Fills the rate fields from the counters and `elapsed`.
    pub fn finish(&mut self, elapsed: Duration) {
        let s = elapsed.as_secs_f64().max(1e-9);
        self.elapsed_s = elapsed.as_secs_f64();
        self.entries_per_s = (self.entries_accepted + self.entries_deduplicated) as f64 / s;
        self.raw_mb_per_s = self.raw_bytes as f64 / 1e6 / s;
        self.wire_mb_per_s = self.wire_bytes as f64 / 1e6 / s;
    }

    /// A human-readable summary (without the batch list).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "entries: generated {} sent {} accepted {} deduplicated {} rejected {} failed {} unsent {}",
            self.entries_generated,
            self.entries_sent,
            self.entries_accepted,
            self.entries_deduplicated,
            self.entries_rejected,
            self.entries_failed,
            self.entries_unsent
        );
        let _ = writeln!(
            s,
            "batches: sent {} acked {}; requests {} retries {}; auth_failed {}",
            self.batches_sent, self.batches_acked, self.requests, self.retries, self.auth_failed
        );
        let codes: Vec<String> = self
            .responses
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(s, "responses: {}", codes.join(" "));
        let _ = writeln!(
            s,
            "throughput: {:.0} acked entries/s ({:.0} generated/s), raw {:.2} MB/s, wire {:.2} MB/s over {:.2}s",
            self.entries_per_s,
            self.generated_per_s,
            self.raw_mb_per_s,
            self.wire_mb_per_s,
            self.elapsed_s
        );
        let l = &self.ack_latency;
        let _ = writeln!(
            s,
            "ack latency ms: p50 {:.2} p90 {:.2} p99 {:.2} max {:.2} (n={})",
            l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.count
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let l = LatencySummary::from_samples(&mut v);
        assert_eq!(l.count, 100);
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p90_ms, 90.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
        assert_eq!(
            LatencySummary::from_samples(&mut []),
            LatencySummary::default()
        );
    }
}
