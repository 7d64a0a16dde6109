//! Starting the real daemons on a data directory and posting pre-encoded batches to them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::daemon::{Daemon, binary, free_addr};
use crate::loadgen::report::Report;
use crate::loadgen::send::{SendConfig, send_batches};
use crate::loadgen::wire::EncodedBatch;

use super::cpu::{CpuByThread, cpu_of, cpu_when_builder_idle};
use super::procfs::{Mem, mem_of};

/// The API key the harness configures (loopback only, throw-away data directories).
pub const BENCH_KEY: &str = "ot_bench_key_not_secret";

/// SIGTERM.
const SIGTERM: i32 = 15;

/// A running `opentrace-ingestd` with fsync on (`--sync always`, the default).
pub struct Ingestd {
    /// The process.
    pub daemon: Daemon,
    /// Its data directory.
    pub data_dir: PathBuf,
}

impl Ingestd {
    /// Starts the release (or current-profile) binary on `data_dir`, logging to `log`.
    pub fn start(data_dir: &Path, log: &Path) -> Result<Ingestd> {
        Ingestd::start_waiting(data_dir, log, Duration::from_secs(20))
    }

    /// [`Ingestd::start`], allowing `wait` for start-up recovery before the port opens.
    pub fn start_waiting(data_dir: &Path, log: &Path, wait: Duration) -> Result<Ingestd> {
        std::fs::create_dir_all(data_dir)?;
        let bin = binary("opentrace-ingestd")?;
        let addr = free_addr()?;
        let dd = data_dir.to_string_lossy().to_string();
        let a = addr.to_string();
        let daemon = Daemon::spawn_waiting(
            &bin,
            &["--data-dir", &dd, "--addr", &a, "--sync", "always"],
            &[("OPENTRACE_API_KEY", BENCH_KEY), ("RUST_LOG", "warn")],
            addr,
            log,
            wait,
        )?;
        Ok(Ingestd {
            daemon,
            data_dir: data_dir.to_path_buf(),
        })
    }

    /// `VmHWM`/`VmRSS` of the daemon now.
    pub fn mem(&self) -> Mem {
        mem_of(self.daemon.child.id()).unwrap_or_default()
    }

    /// CPU by thread group now.
    pub fn cpu(&self) -> Option<CpuByThread> {
        cpu_of(self.daemon.child.id())
    }

    /// The CPU used since `before`, once the chunk builder has gone idle (at most 60 s),
    /// so that a load phase is charged for the chunks it queued.
    pub fn cpu_since(&self, before: Option<&CpuByThread>) -> Option<CpuByThread> {
        let before = before?;
        let now = cpu_when_builder_idle(self.daemon.child.id(), Duration::from_secs(60))?;
        Some(now.since(before))
    }

    /// `opentrace_ingest_rows_stored_total` from `/metrics` (rows stored, in-request
    /// children included).
    pub fn rows_stored(&self) -> Result<u64> {
        let text = http_get(self.daemon.addr, "/metrics")?;
        Ok(metric(&text, "opentrace_ingest_rows_stored_total").unwrap_or(0.0) as u64)
    }

    /// SIGTERM and wait for the flush (the daemon builds chunks from its WALs on the way out).
    pub fn stop(mut self) -> Result<Duration> {
        let t = std::time::Instant::now();
        let st = self
            .daemon
            .signal_and_wait(SIGTERM, Duration::from_secs(300))?;
        if !st.success() {
            anyhow::bail!("ingestd exited with {st}; log:\n{}", self.daemon.log());
        }
        Ok(t.elapsed())
    }
}

/// A running `opentrace-queryd`.
pub struct Queryd {
    /// The process.
    pub daemon: Daemon,
}

impl Queryd {
    /// Starts queryd on `data_dir`, logging to `log`.
    pub fn start(data_dir: &Path, log: &Path) -> Result<Queryd> {
        let bin = binary("opentrace-queryd")?;
        let addr = free_addr()?;
        let dd = data_dir.to_string_lossy().to_string();
        let a = addr.to_string();
        let daemon = Daemon::spawn(
            &bin,
            &["--data-dir", &dd, "--listen-addr", &a],
            &[("RUST_LOG", "warn")],
            addr,
            log,
        )?;
        Ok(Queryd { daemon })
    }

    /// `VmHWM`/`VmRSS` of the daemon now.
    pub fn mem(&self) -> Mem {
        mem_of(self.daemon.child.id()).unwrap_or_default()
    }
}

/// One load phase's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct IngestRun {
    /// Entries per request.
    pub batch: usize,
    /// Connections in flight.
    pub concurrency: usize,
    /// Offered rate in entries/s (0 = as fast as possible).
    pub offered_rate: f64,
    /// Entries acknowledged (2xx).
    pub entries_acked: u64,
    /// Entries not acknowledged (rejected, failed or unsent).
    pub entries_lost: u64,
    /// Wall time of the phase, s.
    pub elapsed_s: f64,
    /// Acknowledged entries per second.
    pub entries_per_s: f64,
    /// Uncompressed JSON MB (10^6 B) per second.
    pub raw_mb_per_s: f64,
    /// gzip body MB per second.
    pub wire_mb_per_s: f64,
    /// Ack latency p50, ms.
    pub ack_p50_ms: f64,
    /// Ack latency p99, ms.
    pub ack_p99_ms: f64,
    /// Ack latency max, ms.
    pub ack_max_ms: f64,
    /// Retries (503 back-pressure, timeouts).
    pub retries: u64,
    /// ingestd's CPU over the phase by thread group, the chunk builds it queued included
    /// (None if `/proc` could not be read).
    pub cpu: Option<CpuByThread>,
}

impl IngestRun {
    /// Summarises a send report.
    pub fn from_report(batch: usize, concurrency: usize, rate: f64, r: &Report) -> IngestRun {
        IngestRun {
            batch,
            concurrency,
            offered_rate: rate,
            entries_acked: r.entries_accepted + r.entries_deduplicated,
            entries_lost: r.entries_rejected + r.entries_failed + r.entries_unsent,
            elapsed_s: r.elapsed_s,
            entries_per_s: r.entries_per_s,
            raw_mb_per_s: r.raw_mb_per_s,
            wire_mb_per_s: r.wire_mb_per_s,
            ack_p50_ms: r.ack_latency.p50_ms,
            ack_p99_ms: r.ack_latency.p99_ms,
            ack_max_ms: r.ack_latency.max_ms,
            retries: r.retries,
            cpu: None,
        }
    }
}

/// The send configuration of the harness: real SDK retry rules, bench key, `concurrency`
/// connections, `rate` entries/s (0 = unpaced), at most `deadline`.
pub fn send_config(url: String, concurrency: usize, rate: f64, deadline: Duration) -> SendConfig {
    SendConfig {
        url,
        api_key: Some(BENCH_KEY.into()),
        concurrency,
        rate,
        deadline,
        request_timeout: Duration::from_secs(30),
        ..SendConfig::default()
    }
}

/// Posts `batches` with `cfg` from inside a tokio runtime and returns the report.
pub async fn post_all(cfg: SendConfig, batches: Vec<EncodedBatch>) -> Result<Report> {
    let (tx, rx) = tokio::sync::mpsc::channel(cfg.concurrency.max(1) * 4);
    let feeder = tokio::spawn(async move {
        for b in batches {
            if tx.send(b).await.is_err() {
                break;
            }
        }
    });
    let report = send_batches(cfg, rx).await?;
    let _ = feeder.await;
    Ok(report)
}

/// A tokio runtime for the client side (2 workers: the machine is small and the daemon needs
/// the rest).
pub fn client_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("building the client runtime")
}

/// A minimal HTTP/1.0 GET (for `/metrics`).
pub fn http_get(addr: SocketAddr, path: &str) -> Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default())
}

/// The value of an unlabelled Prometheus sample `name`.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_metric() {
        let t = "# HELP x\nfoo_total 12\nfoo_total_bar 3\nbar 1.5\n";
        assert_eq!(metric(t, "foo_total"), Some(12.0));
        assert_eq!(metric(t, "bar"), Some(1.5));
        assert_eq!(metric(t, "baz"), None);
    }
}
