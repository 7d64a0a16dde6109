//! `bench`: the reproducible benchmark of OpenTrace against the stores a user would pick
//! instead, on the same rows in the same run.
//!
//! ```text
//! cargo run --release -p opentrace-tests --bin bench -- all [--rows 1000000] [--quick]
//! cargo run --release -p opentrace-tests --bin bench -- hours [--hours 24] [--rows-per-hour 1000000]
//! ```
//!
//! See `tests/src/bench/mod.rs` and `BENCHMARKS.md`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use opentrace_tests::bench::hours::{HoursOptions, rerun_queries, run_hours};
use opentrace_tests::bench::{Options, run};
use opentrace_tests::daemon::bin_dir;

/// Benchmark harness: real daemons, the load generator, peers on the same rows.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Smoke mode: ~10K rows, one ingest run, bytes/row, one query, no peers.
    #[arg(long, global = true)]
    quick: bool,
    /// Rows in the data set (default 1000000, or 10000 with --quick).
    #[arg(long, global = true)]
    rows: Option<u64>,
    /// Generator seed.
    #[arg(long, global = true, default_value_t = 1)]
    seed: u64,
    /// Skip the Python peers.
    #[arg(long, global = true)]
    no_peers: bool,
    /// Output directory (default: <target>/bench).
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    /// Keep the data directories and the NDJSON.
    #[arg(long, global = true)]
    keep_data: bool,
    /// Seconds of the fixed-rate phase.
    #[arg(long, global = true, default_value_t = 20.0)]
    fixed_rate_secs: f64,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Everything: ingest, latency, freshness, size, memory, queries, peers.
    All,
    /// queryd over N hourly segments (default 24 x 1M entries), queried through MCP.
    Hours {
        /// Hourly segments.
        #[arg(long, default_value_t = 24)]
        hours: u32,
        /// Entries per hour.
        #[arg(long, default_value_t = 1_000_000)]
        rows_per_hour: u64,
        /// Warm calls per query.
        #[arg(long, default_value_t = 50)]
        iters: usize,
        /// Only time the queries again, on the `hours-<stamp>` directory an earlier run
        /// kept (`--keep-data`).
        #[arg(long)]
        reuse: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let out = match args.out {
        Some(o) => o,
        None => bin_dir()?
            .parent()
            .context("binary directory has no parent")?
            .join("bench"),
    };
    let command: Vec<String> = std::env::args().skip(1).collect();
    let command = format!(
        "cargo run --release -p opentrace-tests --bin bench -- {}",
        command.join(" ")
    );
    if let Some(Cmd::Hours {
        reuse: Some(scratch),
        iters,
        ..
    }) = &args.cmd
    {
        println!("{}", rerun_queries(scratch, *iters)?);
        return Ok(());
    }
    if let Some(Cmd::Hours {
        hours,
        rows_per_hour,
        iters,
        ..
    }) = args.cmd
    {
        let opts = HoursOptions {
            hours,
            rows_per_hour,
            seed: args.seed,
            iters,
            out_dir: out,
            keep_data: args.keep_data,
        };
        let (results, path) = run_hours(&opts, &command)?;
        println!("{}", results.to_markdown());
        eprintln!("results: {}", path.display());
        return Ok(());
    }
    let mut opts = if args.quick {
        Options::quick(args.rows.unwrap_or(10_000), out)
    } else {
        Options::all(args.rows.unwrap_or(1_000_000), out)
    };
    opts.seed = args.seed;
    opts.peers &= !args.no_peers;
    opts.keep_data = args.keep_data;
    opts.fixed_rate_secs = args.fixed_rate_secs;
    let (results, path) = run(&opts, &command)?;
    println!("{}", results.to_markdown());
    eprintln!("results: {}", path.display());
    Ok(())
}
