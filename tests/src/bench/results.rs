//! Everything a run measured, as JSON and as the markdown tables of `BENCHMARKS.md`.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::cpu::CpuByThread;
use super::dataset::Probes;
use super::disk::DiskUsage;
use super::floor::ZstdSize;
use super::freshness::Freshness;
use super::ingest::IngestRun;
use super::machine::Machine;
use super::peers::PeersOutcome;
use super::procfs::Mem;
use super::queries::QueryTiming;

/// The result of one harness run.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// When the run started (UTC, RFC 3339).
    pub started: String,
    /// The command line that produced it.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// Rows in the main data set.
    pub rows: u64,
    /// Uncompressed NDJSON/JSON bytes of those rows (as the SDKs serialise them).
    pub raw_json_bytes: u64,
    /// What the queries looked for.
    pub probes: Probes,
    /// Ingest phases at full speed (batch 1000 on the main data set, batch 50 on a copy).
    pub ingest: Vec<IngestRun>,
    /// The fixed-rate phase (about half the batch-50 maximum), if run.
    pub fixed_rate: Option<IngestRun>,
    /// Ack → searchable during the fixed-rate phase, if run.
    pub freshness: Option<Freshness>,
    /// Ack → searchable with no other load (after the main ingest).
    pub freshness_idle: Option<Freshness>,
    /// Rows ingestd reports stored for the main data set.
    pub rows_stored: u64,
    /// WAL bytes per row of the WALs live at the end of the main ingest (before SIGTERM).
    pub wal_bytes_per_row: f64,
    /// The main data directory after SIGTERM (all chunks built).
    pub disk: DiskUsage,
    /// Time the SIGTERM flush took, s.
    pub shutdown_s: f64,
    /// ingestd memory at the end of the main ingest.
    pub ingestd_mem: Mem,
    /// queryd memory, idle over the main data directory (None if it did not start).
    pub queryd_mem: Option<Mem>,
    /// Memory of the harness process after running the queries in-process (catalog + query).
    pub inprocess_query_mem: Mem,
    /// Query timings (ours).
    pub queries: Vec<QueryTiming>,
    /// zstd sizes of the NDJSON.
    pub zstd: Vec<ZstdSize>,
    /// The peer stores.
    pub peers: PeersOutcome,
}

fn per_row(bytes: u64, rows: u64) -> f64 {
    bytes as f64 / rows.max(1) as f64
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Peer entries by name, in a fixed order.
fn peer_list(r: &Results) -> Vec<(String, Value)> {
    let PeersOutcome::Ran { report } = &r.peers else {
        return Vec::new();
    };
    let Some(map) = report.get("peers").and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn f(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

fn ratio(ours: f64, theirs: Option<f64>) -> String {
    match theirs {
        Some(t) if t > 0.0 => format!("{:.2}", ours / t),
        _ => "–".into(),
    }
}

impl Results {
    /// Total bytes on disk after the flush per entry sent (the unit the peers and the
    /// reference use; ingestd stores a few more rows than entries: Ruby in-request logs).
    pub fn bytes_per_row(&self) -> f64 {
        per_row(self.disk.total(), self.rows)
    }

    /// The markdown tables pasted into `BENCHMARKS.md`.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(
            s,
            "Run {} — `{}`\n\nMachine: {} cores ({}), {} MiB RAM, {}; disk: `{}`\n",
            self.started, self.command, m.cores, m.cpu_model, m.mem_total_mib, m.kernel, m.disk
        );
        let _ = writeln!(
            s,
            "Data: {} rows, {:.0} bytes of JSON per row as the SDKs send it (timestamps over 24 h).\n",
            self.rows,
            per_row(self.raw_json_bytes, self.rows)
        );
        self.ingest_md(&mut s);
        self.storage_md(&mut s);
        self.memory_md(&mut s);
        self.queries_md(&mut s);
        self.peers_md(&mut s);
        s
    }

    fn ingest_md(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "### Ingest over HTTP (fsync before ack, gzip like the SDKs)\n\n| phase | batch | conns | entries | s | entries/s | MB/s JSON | MB/s gzip | ack p50 ms | ack p99 ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let rows = self.ingest.iter().map(|r| ("max", r));
        for (name, r) in rows.chain(self.fixed_rate.iter().map(|r| ("fixed rate", r))) {
            let phase = if r.offered_rate > 0.0 {
                format!("{name} ({:.0}/s offered)", r.offered_rate)
            } else {
                name.to_string()
            };
            let _ = writeln!(
                s,
                "| {phase} | {} | {} | {} | {:.1} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} |",
                r.batch,
                r.concurrency,
                r.entries_acked,
                r.elapsed_s,
                r.entries_per_s,
                r.raw_mb_per_s,
                r.wire_mb_per_s,
                r.ack_p50_ms,
                r.ack_p99_ms
            );
        }
        self.cpu_md(s);
        let fresh = [
            ("idle", &self.freshness_idle),
            ("during the fixed-rate phase", &self.freshness),
        ];
        if fresh.iter().any(|(_, f)| f.is_some()) {
            let _ = writeln!(
                s,
                "\nAck → searchable (in-process `Catalog` with queryd's default options — WAL tails polled every 100 ms — and `query::search` for a marker entry):\n\n| when | probes | p50 ms | p99 ms | max ms | timeouts (5 s) |\n|---|---:|---:|---:|---:|---:|"
            );
            for (when, fr) in fresh {
                if let Some(fr) = fr {
                    let _ = writeln!(
                        s,
                        "| {when} | {} | {:.1} | {:.1} | {:.1} | {} |",
                        fr.samples, fr.p50_ms, fr.p99_ms, fr.max_ms, fr.timeouts
                    );
                }
            }
        }
        let _ = writeln!(s);
    }

    fn storage_md(&self, s: &mut String) {
        let rows = self.rows;
        let d = &self.disk;
        let _ = writeln!(
            s,
            "### Bytes per entry on disk\n\nOurs after SIGTERM, per entry sent ({} chunks; {} rows stored, Ruby in-request logs become rows of their own; WAL while ingesting: {:.0} B/stored row):\n\n| .col | .idx | meta.json | WAL left | total |\n|---:|---:|---:|---:|---:|\n| {:.1} | {:.1} | {:.2} | {:.1} | **{:.1}** |\n",
            d.chunks,
            self.rows_stored,
            self.wal_bytes_per_row,
            per_row(d.col, rows),
            per_row(d.idx, rows),
            per_row(d.meta, rows),
            per_row(d.wal, rows),
            self.bytes_per_row()
        );
        let ours = self.bytes_per_row();
        let _ = writeln!(
            s,
            "| store | B/entry | ours / theirs |\n|---|---:|---:|\n| raw JSON | {:.1} | {} |",
            per_row(self.raw_json_bytes, self.rows),
            ratio(ours, Some(per_row(self.raw_json_bytes, self.rows)))
        );
        for z in &self.zstd {
            let b = z.bytes_per_row();
            let _ = writeln!(
                s,
                "| NDJSON zstd -{} (first {} rows, {:.0} s) | {:.1} | {} |",
                z.level,
                z.input_rows,
                z.secs,
                b,
                ratio(ours, Some(b))
            );
        }
        for (name, p) in peer_list(self) {
            if let Some(b) = f(p.get("bytes_per_row")) {
                let _ = writeln!(s, "| {name} | {b:.1} | {} |", ratio(ours, Some(b)));
            }
        }
        let _ = writeln!(s, "| **OpenTrace** | **{ours:.1}** | 1.00 |\n");
    }

    /// ingestd's CPU per entry of each full-speed phase, by thread group.
    fn cpu_md(&self, s: &mut String) {
        let runs: Vec<(&IngestRun, &CpuByThread)> = self
            .ingest
            .iter()
            .filter_map(|r| r.cpu.as_ref().map(|c| (r, c)))
            .collect();
        if runs.is_empty() {
            return;
        }
        let _ = writeln!(
            s,
            "\ningestd CPU per entry acknowledged, µs (user + system, by thread; measured once the chunk builder has gone idle after the phase, so the chunks it queued are included; steadier than entries/s on a shared VM):\n\n| batch | HTTP + pipeline | WAL writer | chunk builder | other | total |\n|---:|---:|---:|---:|---:|---:|"
        );
        for (r, c) in runs {
            let us = |secs: f64| secs * 1e6 / r.entries_acked.max(1) as f64;
            let _ = writeln!(
                s,
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                r.batch,
                us(c.get("http")),
                us(c.get("wal")),
                us(c.get("builder")),
                us(c.get("other")),
                us(c.total())
            );
        }
    }

    fn memory_md(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "### Memory\n\n| process | VmHWM MiB | VmRSS MiB | of which RssAnon MiB |\n|---|---:|---:|---:|\n| ingestd (end of ingest) | {:.0} | {:.0} | {:.0} |",
            mib(self.ingestd_mem.vm_hwm_kb),
            mib(self.ingestd_mem.vm_rss_kb),
            mib(self.ingestd_mem.rss_anon_kb)
        );
        if let Some(q) = &self.queryd_mem {
            let _ = writeln!(
                s,
                "| queryd (idle on the data dir) | {:.0} | {:.0} | {:.0} |",
                mib(q.vm_hwm_kb),
                mib(q.vm_rss_kb),
                mib(q.rss_anon_kb)
            );
        }
        let _ = writeln!(
            s,
            "| harness after in-process queries (catalog + engine + generator data) | {:.0} | {:.0} | {:.0} |\n",
            mib(self.inprocess_query_mem.vm_hwm_kb),
            mib(self.inprocess_query_mem.vm_rss_kb),
            mib(self.inprocess_query_mem.rss_anon_kb)
        );
    }

    fn queries_md(&self, s: &mut String) {
        let peers = peer_list(self);
        let mut head =
            String::from("| query | ours cold ms | ours p50 ms | ours p99 ms | rows/groups |");
        let mut sep = String::from("|---|---:|---:|---:|---:|");
        for (name, _) in &peers {
            let _ = write!(head, " {name} p50 ms | ours/{name} |");
            sep.push_str("---:|---:|");
        }
        let _ = writeln!(
            s,
            "### Query latency (warm p50/p99 over repeated runs)\n\n{head}\n{sep}"
        );
        for q in &self.queries {
            let _ = write!(
                s,
                "| {} ({}) | {:.2} | {:.2} | {:.2} | {} |",
                q.key, q.description, q.cold_ms, q.p50_ms, q.p99_ms, q.result
            );
            for (_, p) in &peers {
                let pq = p.get("queries").and_then(|x| x.get(&q.key));
                let p50 = f(pq.and_then(|x| x.get("p50_ms")));
                match p50 {
                    Some(v) => {
                        let _ = write!(s, " {v:.2} | {} |", ratio(q.p50_ms, Some(v)));
                    }
                    None => s.push_str(" – | – |"),
                }
            }
            s.push('\n');
        }
        s.push('\n');
    }

    fn peers_md(&self, s: &mut String) {
        match &self.peers {
            PeersOutcome::Skipped => {
                let _ = writeln!(s, "Peers: skipped.\n");
            }
            PeersOutcome::Failed { reason } => {
                let _ = writeln!(s, "**Peers FAILED: {reason}**\n");
            }
            PeersOutcome::Ran { .. } => {
                let _ = writeln!(
                    s,
                    "### Peer load (same NDJSON)\n\n| store | version | load s | rows/s | B/row | status |\n|---|---|---:|---:|---:|---|"
                );
                for (name, p) in peer_list(self) {
                    let status = match p.get("error").and_then(Value::as_str) {
                        Some(e) => format!("FAILED: {e}"),
                        None => "ok".into(),
                    };
                    let _ = writeln!(
                        s,
                        "| {name} | {} | {:.1} | {:.0} | {:.1} | {status} |",
                        p.get("version").and_then(Value::as_str).unwrap_or("?"),
                        f(p.get("load_s")).unwrap_or(0.0),
                        f(p.get("rows_per_s")).unwrap_or(0.0),
                        f(p.get("bytes_per_row")).unwrap_or(0.0)
                    );
                }
                let _ = writeln!(s);
            }
        }
    }
}
