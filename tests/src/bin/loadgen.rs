//! `loadgen`: deterministic SDK-shaped load for a loopback OpenTrace ingest server.
//!
//! Generates entries with the seeded generator, optionally writes them as NDJSON, posts them in
//! batches (gzip above 1 KiB, `X-Batch-ID`, SDK-like retries), and prints a report. See
//! `docs/LOADGEN.md`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use opentrace_tests::loadgen::send::{SendConfig, send_batches, target_uri};
use opentrace_tests::loadgen::wire::{Encoder, GzipMode};
use opentrace_tests::loadgen::{
    Corpus, Deploy, EntryIndex, GenConfig, Generator, Micros, Mix, report::Report,
};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Gzip {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ReportFormat {
    Json,
    Text,
}

/// Deterministic load generator for opentrace-ingestd (loopback targets only).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Base URL of the ingest server; must be loopback.
    #[arg(long, default_value = "http://127.0.0.1:8081")]
    url: String,
    /// Bearer API key.
    #[arg(long, env = "OPENTRACE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Request path: /api/v2/logs (Node) or /api/logs (Ruby, adds X-API-Version: 2).
    #[arg(long, default_value = "/api/v2/logs")]
    path: String,
    /// Generator seed; same seed and knobs give byte-identical entries.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many entries (default 10000 when --duration is not given).
    #[arg(long)]
    entries: Option<u64>,
    /// Stop generating after this long (e.g. 30s, 500ms, 2m).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Entries per request (the SDKs use 50).
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Offered load in entries/s; 0 = as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// gzip bodies: auto = above 1 KiB like the SDKs.
    #[arg(long, value_enum, default_value_t = Gzip::Auto)]
    gzip: Gzip,
    /// Also write every generated entry to FILE, one JSON object per line.
    #[arg(long)]
    ndjson: Option<PathBuf>,
    /// Do not send (only generate, e.g. with --ndjson).
    #[arg(long)]
    no_send: bool,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    report: ReportFormat,
    /// Append `batch_id count first_entry_index` per acknowledged batch to FILE, as acked.
    #[arg(long)]
    ack_log: Option<PathBuf>,
    /// Retries per batch after the first attempt (SDKs: 2).
    #[arg(long, default_value_t = 2)]
    max_retries: u32,
    /// Per-attempt timeout.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    request_timeout: Duration,
    /// Hard limit on the whole run.
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    max_wall: Duration,
    /// Seed for X-Batch-IDs (default: random, so re-running a seed is not a replay).
    #[arg(long)]
    batch_id_seed: Option<u64>,
    /// Share of requests answered 5xx.
    #[arg(long, default_value_t = 0.02)]
    error_rate: f64,
    /// Mix weights request,log,error,event.
    #[arg(long, default_value = "20,70,4,6", value_parser = parse_mix)]
    mix: Mix,
    /// Number of services.
    #[arg(long, default_value_t = 8)]
    services: usize,
    /// Number of routes over all services.
    #[arg(long, default_value_t = 60)]
    endpoints: usize,
    /// Number of users.
    #[arg(long, default_value_t = 5000)]
    users: u32,
    /// Timestamp of entry 0 in µs since the epoch (default: now, rounded to the second).
    #[arg(long)]
    start_us: Option<i64>,
    /// Simulated entries per second of timestamps.
    #[arg(long, default_value_t = 1000.0)]
    sim_rate: f64,
    /// Deploy: SERVICE@ENTRY=VERSION, e.g. checkout-api@5000=deadbee (repeatable).
    #[arg(long, value_parser = parse_deploy)]
    deploy: Vec<Deploy>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mul) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("bad duration {s:?}"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("bad duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(v * mul))
}

fn parse_mix(s: &str) -> Result<Mix, String> {
    let v: Vec<u32> = s
        .split(',')
        .map(|p| p.trim().parse().map_err(|_| format!("bad mix {s:?}")))
        .collect::<Result<_, _>>()?;
    match v[..] {
        [request, log, error, event] if request + log + error + event > 0 => Ok(Mix {
            request,
            log,
            error,
            event,
        }),
        _ => Err(format!(
            "mix needs 4 weights request,log,error,event: {s:?}"
        )),
    }
}

fn parse_deploy(s: &str) -> Result<Deploy, String> {
    let (svc, rest) = s.split_once('@').ok_or("expected SERVICE@ENTRY=VERSION")?;
    let (at, version) = rest
        .split_once('=')
        .ok_or("expected SERVICE@ENTRY=VERSION")?;
    Ok(Deploy {
        at: EntryIndex(at.parse().map_err(|_| format!("bad entry index {at:?}"))?),
        service: svc.into(),
        version: version.into(),
    })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let send = !args.no_send;
    if send {
        // Fail before generating anything if the target is not allowed.
        target_uri(&args.url, &args.path)?;
    } else if args.ndjson.is_none() {
        bail!("--no-send without --ndjson would do nothing");
    }
    let limit = match (args.entries, args.duration) {
        (Some(n), _) => n,
        (None, Some(_)) => u64::MAX,
        (None, None) => 10_000,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let cfg = GenConfig {
        seed: args.seed,
        mix: args.mix,
        error_rate: args.error_rate,
        services: args.services,
        endpoints: args.endpoints,
        users: args.users,
        start: Micros(args.start_us.unwrap_or(now.as_secs() as i64 * 1_000_000)),
        sim_rate: args.sim_rate,
        deploys: args.deploy.clone(),
        ..GenConfig::default()
    };
    let corpus = Arc::new(Corpus::load_default().context("loading the loghub corpus")?);
    let mode = match args.gzip {
        Gzip::Auto => GzipMode::Auto,
        Gzip::Always => GzipMode::Always,
        Gzip::Never => GzipMode::Never,
    };
    let id_seed = args.batch_id_seed.unwrap_or(now.as_nanos() as u64);
    let (tx, rx) = tokio::sync::mpsc::channel(args.concurrency.max(1) * 2);
    let ndjson = match &args.ndjson {
        Some(p) => Some(BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let started = Instant::now();
    let max_wall = args.max_wall;
    let duration = args.duration;
    let batch_size = args.batch;
    let producer = std::thread::spawn(move || -> anyhow::Result<u64> {
        let mut generator = Generator::new(cfg, corpus);
        let mut encoder = Encoder::new(mode, id_seed);
        let mut ndjson = ndjson;
        let mut produced = 0u64;
        let mut line = Vec::with_capacity(2048);
        while produced < limit && started.elapsed() < duration.unwrap_or(max_wall).min(max_wall) {
            let n = (limit - produced).min(batch_size as u64) as usize;
            let batch = generator.next_batch(n);
            produced += n as u64;
            if let Some(w) = ndjson.as_mut() {
                for e in &batch.entries {
                    line.clear();
                    e.write_json(&mut line);
                    line.push(b'\n');
                    w.write_all(&line).context("writing ndjson")?;
                }
            }
            if send {
                let Some(enc) = encoder.encode(&batch) else {
                    break;
                };
                if tx.blocking_send(enc).is_err() {
                    // The sender stopped (deadline or 401); this batch was never posted.
                    produced -= n as u64;
                    break;
                }
            }
        }
        if let Some(mut w) = ndjson {
            w.flush().context("writing ndjson")?;
        }
        Ok(produced)
    });
    let mut report = if send {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let send_cfg = SendConfig {
            url: args.url.clone(),
            api_version_header: args.path.trim_end_matches('/') == "/api/logs",
            path: args.path.clone(),
            api_key: args.api_key.clone(),
            concurrency: args.concurrency,
            rate: args.rate,
            max_retries: args.max_retries,
            request_timeout: args.request_timeout,
            deadline: max_wall,
            ack_log: args.ack_log.clone(),
            ..SendConfig::default()
        };
        rt.block_on(send_batches(send_cfg, rx))?
    } else {
        drop(rx);
        Report::default()
    };
    let produced = producer
        .join()
        .map_err(|_| anyhow::anyhow!("generator thread panicked"))??;
    report.entries_generated = produced;
    if !send {
        report.finish(started.elapsed());
    }
    report.generated_per_s = produced as f64 / started.elapsed().as_secs_f64().max(1e-9);
    match args.report {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Text => print!("{}", report.to_text()),
    }
    if report.auth_failed {
        bail!("the server answered 401: check --api-key / OPENTRACE_API_KEY");
    }
    Ok(())
}
