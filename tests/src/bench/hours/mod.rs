//! `bench hours`: queryd over 24 hourly segments of 1M entries each (24M rows), the query
//! benchmark of the queryd issue.
//!
//! 1. [`synth`] lays out 24 past hours of WALs (load-generator entries through ingestd's own
//!    pipeline, contiguous seqs).
//! 2. The real `opentrace-ingestd` starts on the directory: its recovery builds every chunk
//!    and seals every hour (build time and ingestd's peak memory are reported), then SIGTERM.
//! 3. The real `opentrace-queryd` starts; the harness waits for its follower to have applied
//!    every row (error groups, deploys), drops the page cache when it may, and times the
//!    `logs` tool through the MCP endpoint with a real client ([`agent`]): cold (first call)
//!    and warm p50/p99.

pub mod agent;
pub mod results;
pub mod synth;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use opentrace_shared::datadir::{DataDir, scan};

use super::disk::usage;
use super::ingest::{Ingestd, Queryd, client_runtime, http_get, metric};
use super::machine::describe;
use super::procfs::{Mem, mem_of};
use crate::daemon::binary;
use crate::mcp::mcp_client;

pub use results::HoursResults;

/// Knobs of a `bench hours` run.
#[derive(Debug, Clone)]
pub struct HoursOptions {
    /// Hourly segments.
    pub hours: u32,
    /// Entries per hour.
    pub rows_per_hour: u64,
    /// Generator seed (hour `h` uses `seed + h`).
    pub seed: u64,
    /// Warm calls per query.
    pub iters: usize,
    /// Results and scratch data.
    pub out_dir: PathBuf,
    /// Keep the data directory.
    pub keep_data: bool,
}

fn say(msg: &str) {
    eprintln!("[bench hours] {msg}");
}

/// Polls until ingestd has built every WAL and sealed every hour; returns ingestd's peak
/// memory seen meanwhile.
fn wait_built(dd: &DataDir, ing: &Ingestd, hours: u32, deadline: Duration) -> Result<Mem> {
    let t = Instant::now();
    let mut peak = Mem::default();
    loop {
        if let Some(m) = mem_of(ing.daemon.child.id()) {
            peak.vm_hwm_kb = peak.vm_hwm_kb.max(m.vm_hwm_kb);
            peak.vm_rss_kb = peak.vm_rss_kb.max(m.vm_rss_kb);
            peak.rss_anon_kb = peak.rss_anon_kb.max(m.rss_anon_kb);
        }
        let s = scan(dd)?;
        let wals: usize = s.hours.iter().map(|h| h.wals.len()).sum();
        let sealed = s.hours.iter().filter(|h| h.meta.is_some()).count();
        if wals == 0 && sealed >= hours as usize {
            return Ok(peak);
        }
        if t.elapsed() > deadline {
            bail!(
                "ingestd did not build and seal in {deadline:?}: {wals} WALs left, {sealed} hours sealed"
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits until queryd's follower has committed `last_seq`.
fn wait_follower(q: &Queryd, last_seq: u64, deadline: Duration) -> Result<Duration> {
    let t = Instant::now();
    loop {
        let text = http_get(q.daemon.addr, "/metrics")?;
        let cursor = metric(&text, "opentrace_follower_cursor").unwrap_or(0.0) as u64;
        if cursor >= last_seq {
            return Ok(t.elapsed());
        }
        if t.elapsed() > deadline {
            bail!("queryd's follower reached seq {cursor} of {last_seq} in {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Drops the OS page cache (needs root); says whether it could.
fn drop_page_cache() -> bool {
    std::process::Command::new("sync").status().is_ok()
        && std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

fn admin_token(dd: &Path, email: &str) -> Result<String> {
    let out = std::process::Command::new(binary("opentrace-queryd")?)
        .args(["user", "create", "--email", email, "--admin"])
        .env("OPENTRACE_DATA_DIR", dd)
        .output()?;
    if !out.status.success() {
        bail!(
            "queryd user create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// Runs the 24-hour benchmark; returns the results and the JSON file they were written to.
pub fn run_hours(opts: &HoursOptions, command: &str) -> Result<(HoursResults, PathBuf)> {
    let started = super::run::now_rfc3339();
    let stamp: String = started
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let scratch = opts.out_dir.join(format!("hours-{stamp}"));
    std::fs::create_dir_all(&scratch)?;
    let machine = describe(&scratch);
    let data = scratch.join("data");
    let dd = DataDir::new(&data);

    say(&format!(
        "laying out {} hours x {} entries as WALs",
        opts.hours, opts.rows_per_hour
    ));
    let t = Instant::now();
    let syn = synth::synthesize(&dd, opts.hours, opts.rows_per_hour, opts.seed)?;
    let synth_s = t.elapsed().as_secs_f64();
    say(&format!(
        "  {} rows in {} WALs, {synth_s:.0}s",
        syn.rows, syn.wals
    ));

    say("ingestd: recovery builds every chunk and seals every hour");
    let t = Instant::now();
    let ing = Ingestd::start_waiting(
        &data,
        &scratch.join("ingestd.log"),
        Duration::from_secs(600),
    )?;
    let ingestd_start_s = t.elapsed().as_secs_f64();
    let ingestd_build_mem = wait_built(&dd, &ing, opts.hours, Duration::from_secs(3600))?;
    let build_s = t.elapsed().as_secs_f64();
    ing.stop()?;
    let disk = usage(&dd.logs_dir()).context("measuring the data directory")?;
    say(&format!(
        "  built in {build_s:.0}s, {} bytes on disk",
        disk.total()
    ));

    let token = admin_token(&data, "bench@example.com")?;
    let t = Instant::now();
    let q = Queryd::start(&data, &scratch.join("queryd.log"))?;
    let queryd_start_s = t.elapsed().as_secs_f64();
    say("queryd: waiting for the follower to apply every row");
    let follower = wait_follower(&q, syn.last_seq, Duration::from_secs(3600))?;
    say(&format!(
        "  follower caught up in {:.0}s",
        follower.as_secs_f64()
    ));
    let mem_before_queries = q.mem();
    let page_cache_dropped = drop_page_cache();
    let rt = client_runtime()?;
    let url = format!("{}/mcp", q.daemon.url());
    let qs = agent::query_set(&syn.probes);
    say(&format!(
        "queries through MCP ({} warm calls each)",
        opts.iters
    ));
    let timings = rt.block_on(async {
        let client = mcp_client(&url, &token).await;
        let r = agent::time_calls(&client, &qs, opts.iters).await;
        let _ = client.cancel().await;
        r
    })?;
    let queryd_mem = q.mem();
    drop(q);

    let results = HoursResults {
        started,
        command: command.to_string(),
        machine,
        synthesized: syn,
        synth_s,
        build_s,
        ingestd_start_s,
        ingestd_build_mem,
        disk,
        queryd_start_s,
        follower_catch_up_s: follower.as_secs_f64(),
        queryd_mem_before_queries: mem_before_queries,
        queryd_mem,
        page_cache_dropped,
        timings,
    };
    let json_path = opts.out_dir.join(format!("hours-{stamp}.json"));
    std::fs::write(&json_path, serde_json::to_vec_pretty(&results)?)?;
    std::fs::write(
        opts.out_dir.join(format!("hours-{stamp}.md")),
        results.to_markdown(),
    )?;
    if !opts.keep_data {
        let _ = std::fs::remove_dir_all(&data);
    }
    Ok((results, json_path))
}

/// Times the agent's queries again on the data of an earlier run kept with `--keep-data`
/// (`scratch` is its `hours-<stamp>` directory, beside which its JSON lies): no layout, no
/// build, and the follower resumes from its committed cursor. For comparing queryd changes
/// on the same 24 hours; returns the timing table.
pub fn rerun_queries(scratch: &Path, iters: usize) -> Result<String> {
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(scratch.with_extension("json"))
            .with_context(|| format!("reading the results of {}", scratch.display()))?,
    )?;
    let syn: synth::Synthesized = serde_json::from_value(json["synthesized"].clone())
        .context("the results have no synthesized probes")?;
    let data = scratch.join("data");
    let email = format!("bench-{}@example.com", opentrace_shared::time::now_micros());
    let token = admin_token(&data, &email)?;
    let q = Queryd::start(&data, &scratch.join("queryd-rerun.log"))?;
    let follower = wait_follower(&q, syn.last_seq, Duration::from_secs(3600))?;
    say(&format!(
        "follower at the end after {:.1}s",
        follower.as_secs_f64()
    ));
    let dropped = drop_page_cache();
    let rt = client_runtime()?;
    let url = format!("{}/mcp", q.daemon.url());
    let qs = agent::query_set(&syn.probes);
    let timings = rt.block_on(async {
        let client = mcp_client(&url, &token).await;
        let r = agent::time_calls(&client, &qs, iters).await;
        let _ = client.cancel().await;
        r
    })?;
    let mem = q.mem();
    drop(q);
    Ok(format!(
        "queryd on {} (page cache dropped: {dropped}); RSS {:.0} MiB, anonymous {:.0} MiB\n\n{}",
        scratch.display(),
        mem.vm_rss_kb as f64 / 1024.0,
        mem.rss_anon_kb as f64 / 1024.0,
        results::timings_table(syn.hours, &timings)
    ))
}
