//! The orchestration of a run: generate, ingest, flush, measure, query, compare.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use opentrace_queryd::catalog::{Catalog, CatalogOptions};
use opentrace_shared::datadir::DataDir;

use crate::loadgen::ts::{Micros, TsPrecision, format_rfc3339};

use super::dataset::generate;
use super::disk::usage;
use super::floor::zstd_size;
use super::freshness::probe;
use super::ingest::{IngestRun, Ingestd, Queryd, client_runtime, post_all, send_config};
use super::machine::describe;
use super::options::Options;
use super::peers::{PeersOutcome, run_peers};
use super::procfs::mem_of_self;
use super::queries::{query_set, time_queries};
use super::results::Results;

/// Longest a single load phase may take.
const PHASE_DEADLINE: Duration = Duration::from_secs(1800);

pub(crate) fn now_rfc3339() -> String {
    let us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    format_rfc3339(Micros(us), TsPrecision::Millis)
}

fn say(msg: &str) {
    eprintln!("[bench] {msg}");
}

/// WAL bytes per row over the WALs the catalog sees right now.
fn wal_bytes_per_row(dd: &DataDir, cat: &Catalog) -> f64 {
    cat.refresh_now();
    let snap = cat.snapshot();
    let (mut bytes, mut rows) = (0u64, 0u64);
    for h in snap.hours() {
        for w in &h.wals {
            if let Ok(md) = std::fs::metadata(dd.wal_path(w.hour(), w.chunk())) {
                bytes += md.len();
                rows += w.row_count() as u64;
            }
        }
    }
    if rows == 0 {
        0.0
    } else {
        bytes as f64 / rows as f64
    }
}

/// Runs the benchmark described by `opts` and returns (and writes) its results.
pub fn run(opts: &Options, command: &str) -> Result<(Results, PathBuf)> {
    let started = now_rfc3339();
    let stamp: String = started
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    std::fs::create_dir_all(&opts.out_dir)?;
    let scratch = opts.out_dir.join(format!("run-{stamp}"));
    std::fs::create_dir_all(&scratch)?;
    let machine = describe(&scratch);
    let ndjson = scratch.join("rows.ndjson");
    let main_batch = if opts.quick { 50 } else { 1000 };

    say(&format!(
        "generating {} rows (batch {main_batch})",
        opts.rows
    ));
    let ds = generate(
        opts.seed,
        opts.rows,
        main_batch,
        (!opts.quick).then_some(ndjson.as_path()),
    )?;
    let probes = ds.probes.clone();
    let raw_json_bytes = ds.raw_bytes;
    let rt = client_runtime()?;

    // Main data set: ingest at full speed, measure, flush.
    let dir_a = scratch.join("data-main");
    let ing = Ingestd::start(&dir_a, &scratch.join("ingestd-main.log"))?;
    say("ingest: main data set at full speed");
    let cfg = send_config(ing.daemon.url(), opts.concurrency, 0.0, PHASE_DEADLINE);
    let cpu0 = ing.cpu();
    let rep = rt.block_on(post_all(cfg, ds.batches))?;
    let mut ingest = vec![IngestRun {
        cpu: ing.cpu_since(cpu0.as_ref()),
        ..IngestRun::from_report(main_batch, opts.concurrency, 0.0, &rep)
    }];
    say(&format!("  {:.0} entries/s", rep.entries_per_s));
    let rows_stored = ing.rows_stored()?;
    let ingestd_mem = ing.mem();
    let catalog = Catalog::open(DataDir::new(&dir_a), CatalogOptions::default())?;
    let wal_bpr = wal_bytes_per_row(&DataDir::new(&dir_a), &catalog);
    say("freshness probes, idle");
    let idle_secs = if opts.quick { 2.0 } else { 5.0 };
    let freshness_idle = Some(rt.block_on(probe(
        &ing.daemon.url(),
        &catalog,
        Duration::from_secs_f64(idle_secs),
        Duration::from_millis(50),
    )));
    drop(catalog);
    let shutdown = ing.stop()?;
    let disk = usage(&dir_a.join("logs")).context("measuring the data directory")?;
    say(&format!(
        "  stored {rows_stored} rows, {} bytes on disk, shutdown {:.1}s",
        disk.total(),
        shutdown.as_secs_f64()
    ));

    // queryd's own footprint over that directory.
    let queryd_mem = match Queryd::start(&dir_a, &scratch.join("queryd.log")) {
        Ok(q) => {
            std::thread::sleep(Duration::from_secs(1));
            Some(q.mem())
        }
        Err(e) => {
            say(&format!("queryd did not start (memory not measured): {e}"));
            None
        }
    };

    // Queries in-process over the flushed directory.
    say("queries (in-process opentrace_queryd::query)");
    let catalog = Catalog::open(
        DataDir::new(&dir_a),
        CatalogOptions {
            watch: false,
            ..CatalogOptions::default()
        },
    )?;
    let snap = catalog.snapshot();
    let queries = time_queries(&snap, &query_set(&probes, opts.quick), opts.query_iters);
    let inprocess_query_mem = mem_of_self().unwrap_or_default();
    drop(snap);
    drop(catalog);

    let (mut fixed_rate, mut freshness) = (None, None);
    let mut zstd = Vec::new();
    let mut peers = PeersOutcome::Skipped;
    if !opts.quick {
        // Batch 50 at full speed on a second directory, then the fixed-rate phase.
        let ds50 = generate(opts.seed, opts.rows, 50, None)?;
        let dir_b = scratch.join("data-b50");
        let ing = Ingestd::start(&dir_b, &scratch.join("ingestd-b50.log"))?;
        say("ingest: batch 50 at full speed");
        let cfg = send_config(ing.daemon.url(), opts.concurrency, 0.0, PHASE_DEADLINE);
        let cpu0 = ing.cpu();
        let rep = rt.block_on(post_all(cfg, ds50.batches))?;
        let max50 = rep.entries_per_s;
        ingest.push(IngestRun {
            cpu: ing.cpu_since(cpu0.as_ref()),
            ..IngestRun::from_report(50, opts.concurrency, 0.0, &rep)
        });
        say(&format!("  {max50:.0} entries/s"));
        let rate = (max50 / 2.0).max(100.0);
        let n = (rate * opts.fixed_rate_secs) as u64;
        let dsf = generate(opts.seed + 1, n, 50, None)?;
        let catalog = Catalog::open(DataDir::new(&dir_b), CatalogOptions::default())?;
        say(&format!(
            "fixed rate {rate:.0}/s for {}s + freshness probes",
            opts.fixed_rate_secs
        ));
        let cfg = send_config(ing.daemon.url(), opts.concurrency, rate, PHASE_DEADLINE);
        let url = ing.daemon.url();
        let dur = Duration::from_secs_f64(opts.fixed_rate_secs);
        let (rep, fr) = rt.block_on(async {
            tokio::join!(
                post_all(cfg, dsf.batches),
                probe(&url, &catalog, dur, Duration::from_millis(50))
            )
        });
        let rep = rep?;
        fixed_rate = Some(IngestRun::from_report(50, opts.concurrency, rate, &rep));
        freshness = Some(fr);
        drop(catalog);
        drop(ing);

        say("zstd floor");
        for (level, cap) in [(3, u64::MAX), (19, 32 << 20)] {
            match zstd_size(&ndjson, level, cap) {
                Ok(z) => zstd.push(z),
                Err(e) => say(&format!("zstd -{level} failed: {e}")),
            }
        }
        if opts.peers {
            say("peers (tests/bench/peers/run_peers.py)");
            peers = run_peers(
                &opts.out_dir.join("venv"),
                &ndjson,
                &scratch.join("peers"),
                &probes,
                opts.query_iters,
            );
            if let PeersOutcome::Failed { reason } = &peers {
                eprintln!(
                    "\n{}\n!!! PEERS FAILED: {reason}\n!!! Our numbers are reported WITHOUT the comparison.\n{}\n",
                    "!".repeat(72),
                    "!".repeat(72)
                );
            }
        }
    }

    let results = Results {
        started,
        command: command.to_string(),
        machine,
        rows: ds.entries,
        raw_json_bytes,
        probes,
        ingest,
        fixed_rate,
        freshness,
        freshness_idle,
        rows_stored,
        wal_bytes_per_row: wal_bpr,
        disk,
        shutdown_s: shutdown.as_secs_f64(),
        ingestd_mem,
        queryd_mem,
        inprocess_query_mem,
        queries,
        zstd,
        peers,
    };
    let json_path = opts.out_dir.join(format!("results-{stamp}.json"));
    std::fs::write(&json_path, serde_json::to_vec_pretty(&results)?)?;
    std::fs::write(
        opts.out_dir.join(format!("results-{stamp}.md")),
        results.to_markdown(),
    )?;
    if !opts.keep_data {
        remove_data(&scratch);
    }
    Ok((results, json_path))
}

/// Deletes the bulky parts of a scratch directory (data dirs, NDJSON, peer files), keeping
/// the daemon logs.
fn remove_data(scratch: &Path) {
    for name in ["data-main", "data-b50", "peers", "rows.ndjson"] {
        let p = scratch.join(name);
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
    }
}
