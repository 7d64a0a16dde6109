//! What `bench hours` measured, as JSON and as the markdown pasted into `BENCHMARKS.md`.

use std::fmt::Write as _;

use serde::Serialize;

use super::agent::ToolTiming;
use super::synth::Synthesized;
use crate::bench::disk::DiskUsage;
use crate::bench::machine::Machine;
use crate::bench::procfs::Mem;

/// The result of one `bench hours` run.
#[derive(Debug, Clone, Serialize)]
pub struct HoursResults {
    /// When the run started (UTC).
    pub started: String,
    /// The command line.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// The data laid out.
    pub synthesized: Synthesized,
    /// Seconds to generate the entries and write the WALs.
    pub synth_s: f64,
    /// Seconds ingestd took to build every chunk and seal every hour.
    pub build_s: f64,
    /// Seconds from spawning ingestd to its port answering (start-up recovery reads every
    /// pending WAL's record heads first).
    pub ingestd_start_s: f64,
    /// ingestd's peak memory while building.
    pub ingestd_build_mem: Mem,
    /// The data directory afterwards.
    pub disk: DiskUsage,
    /// Seconds from spawning queryd to its port answering.
    pub queryd_start_s: f64,
    /// Seconds queryd's follower took to apply every row after start.
    pub follower_catch_up_s: f64,
    /// queryd memory after the follower caught up, before the queries.
    pub queryd_mem_before_queries: Mem,
    /// queryd memory after the queries.
    pub queryd_mem: Mem,
    /// Whether the page cache was dropped before the first (cold) calls.
    pub page_cache_dropped: bool,
    /// The `logs` calls.
    pub timings: Vec<ToolTiming>,
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

impl HoursResults {
    /// The markdown tables.
    pub fn to_markdown(&self) -> String {
        let s = &self.synthesized;
        let mut o = String::new();
        let _ = writeln!(o, "Run {} — `{}`\n", self.started, self.command);
        let m = &self.machine;
        let _ = writeln!(
            o,
            "Machine: {} cores ({}), {} MiB RAM, Linux {}\n",
            m.cores, m.cpu_model, m.mem_total_mib, m.kernel
        );
        let _ = writeln!(
            o,
            "Data: {} hourly segments × {} entries = {} entries, {} rows stored \
             ({:.0} B of JSON per entry). ingestd opened its port {:.1} s after start with {} WALs pending, built them into {} chunks in {:.0} s \
             ({:.0} rows/s; ingestd peak RSS {:.0} MiB, anonymous {:.0} MiB at its largest sample); on disk {:.1} B/row (`.col` {:.1}, `.idx` {:.1}, meta {:.2}).\n",
            s.hours,
            s.entries / u64::from(s.hours.max(1)),
            s.entries,
            s.rows,
            s.raw_json_bytes as f64 / s.entries.max(1) as f64,
            self.ingestd_start_s,
            s.wals,
            self.disk.chunks,
            self.build_s,
            s.rows as f64 / self.build_s.max(1e-9),
            mib(self.ingestd_build_mem.vm_hwm_kb),
            mib(self.ingestd_build_mem.rss_anon_kb),
            self.disk.total() as f64 / s.rows.max(1) as f64,
            self.disk.col as f64 / s.rows.max(1) as f64,
            self.disk.idx as f64 / s.rows.max(1) as f64,
            self.disk.meta as f64 / s.rows.max(1) as f64,
        );
        let _ = writeln!(
            o,
            "queryd: port open {:.1} s after spawn; follower applied all {} rows in {:.0} s; \
             RSS after catch-up {:.0} MiB (anonymous {:.0}, peak {:.0}), after the queries {:.0} MiB \
             (anonymous {:.0}, peak {:.0}); the rest of RSS is mmapped chunk files. \
             Page cache dropped before the cold calls: {}.\n",
            self.queryd_start_s,
            s.rows,
            self.follower_catch_up_s,
            mib(self.queryd_mem_before_queries.vm_rss_kb),
            mib(self.queryd_mem_before_queries.rss_anon_kb),
            mib(self.queryd_mem_before_queries.vm_hwm_kb),
            mib(self.queryd_mem.vm_rss_kb),
            mib(self.queryd_mem.rss_anon_kb),
            mib(self.queryd_mem.vm_hwm_kb),
            if self.page_cache_dropped {
                "yes"
            } else {
                "no (not root)"
            },
        );
        o.push_str(&timings_table(s.hours, &self.timings));
        o
    }
}

/// The table of `logs` call timings over `hours` hours.
pub fn timings_table(hours: u32, timings: &[ToolTiming]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "| `logs` call (over all {hours} hours) | matched | cold ms | warm p50 ms | warm p99 ms | response bytes |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
    for t in timings {
        let mut args = t.args.clone();
        if let Some(a) = args.as_object_mut() {
            a.remove("since");
            a.remove("until");
        }
        let _ = writeln!(
            o,
            "| {} `{}` | {} | {:.1} | {:.1} | {:.1} | {} |",
            t.key,
            args,
            t.matched.map_or("-".to_string(), |n| n.to_string()),
            t.cold_ms,
            t.p50_ms,
            t.p99_ms,
            t.response_bytes
        );
    }
    o
}
