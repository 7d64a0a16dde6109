//! Query engine benchmark over a generated data directory of sealed hours.
//!
//! ```text
//! cargo run --release -p opentrace-queryd --example query_bench -- --hours 24 --rows-per-hour 100000
//! ```
//!
//! Builds `--hours` hourly segments (chunks of `--chunk-rows` rows, `.idx`, `meta.json`)
//! with SDK-shaped rows (services, endpoints, users, trace ids, loghub messages from
//! `tests/data/loghub`), opens a catalog, and reports p50/p99 of each query: "cold" is the
//! first run after opening the catalog (the OS page cache is warm: the files were just
//! written), "warm" the following `--iters` runs. Also prints the process RSS.
//! `--dir PATH` reuses (or keeps) a data directory; `--frame-rows N` sets the rows per
//! string frame of the chunks it writes (a value above `--chunk-rows` writes unframed
//! strings, as `.col` version 1 did); `--only TEXT` runs only the queries whose name
//! contains TEXT (for profiling one of them).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use opentrace_queryd::catalog::{Catalog, CatalogOptions};
use opentrace_queryd::query::{
    AggMode, AggSpec, EnvRestriction, Filter, GroupKey, Metric, Order, SearchOpts, aggregate,
    search,
};
use opentrace_shared::chunk::{ChunkBuilder, ChunkOptions};
use opentrace_shared::datadir::{DataDir, publish_chunk, publish_file};
use opentrace_shared::fts::{IndexBuilder, Query};
use opentrace_shared::meta::{HourMetaBuilder, MetaRow, Range};
use opentrace_shared::{ChunkId, Col, HourId, Level, Row, Seq};
use rayon::prelude::*;

struct Args {
    hours: i64,
    rows_per_hour: u64,
    chunk_rows: u64,
    frame_rows: usize,
    only: Option<String>,
    iters: usize,
    dir: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        hours: 24,
        rows_per_hour: 20_000,
        chunk_rows: 65_536,
        frame_rows: ChunkOptions::default().text_frame_rows,
        only: None,
        iters: 20,
        dir: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < v.len() {
        let val = v[i + 1].clone();
        match v[i].as_str() {
            "--hours" => a.hours = val.parse().unwrap_or(a.hours),
            "--rows-per-hour" => a.rows_per_hour = val.parse().unwrap_or(a.rows_per_hour),
            "--chunk-rows" => a.chunk_rows = val.parse().unwrap_or(a.chunk_rows),
            "--frame-rows" => a.frame_rows = val.parse().unwrap_or(a.frame_rows),
            "--only" => a.only = Some(val),
            "--iters" => a.iters = val.parse().unwrap_or(a.iters),
            "--dir" => a.dir = Some(PathBuf::from(val)),
            other => eprintln!("ignoring unknown argument {other}"),
        }
        i += 2;
    }
    a
}

/// SplitMix64: a tiny deterministic generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const SERVICES: &[&str] = &["api", "web", "worker", "billing", "auth", "search"];
const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/users/:id", "UsersController#show"),
    ("GET", "/orders", "OrdersController#index"),
    ("POST", "/orders", "OrdersController#create"),
    ("POST", "/payments", "PaymentsController#create"),
    ("GET", "/search", "SearchController#index"),
    ("GET", "/health", "HealthController#show"),
    ("PUT", "/users/:id", "UsersController#update"),
    ("DELETE", "/sessions", "SessionsController#destroy"),
];
const NEEDLE: &str = "xyzzyplugh";

fn loghub_lines() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/loghub");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
        {
            if let Ok(s) = std::fs::read_to_string(p) {
                out.extend(s.lines().map(str::to_string));
            }
        }
    }
    if out.is_empty() {
        out.push("request completed".into());
    }
    out
}

fn gen_row(rng: &mut Rng, lines: &[String], hour: HourId, seq: u64, i: u64, n: u64) -> Row {
    let start = hour.start_micros();
    let ts = start + (i as i64) * (3_600_000_000 / n.max(1) as i64) + rng.below(1000) as i64;
    let r = rng.below(1000);
    let level = match r {
        0..=4 => Level::Error,
        5..=29 => Level::Warn,
        30..=129 => Level::Debug,
        _ => Level::Info,
    };
    let is_req = rng.below(3) == 0;
    let (method, route, handler) = *rng.pick(ROUTES);
    let mut message = rng.pick(lines).clone();
    if seq % 1_000_003 == 17 {
        message.push(' ');
        message.push_str(NEEDLE);
    }
    let trace = seq / 5;
    let err = level == Level::Error;
    let fp = rng.below(40);
    Row {
        seq: Seq(seq),
        ts,
        received_at: ts,
        level,
        service: (*rng.pick(SERVICES)).into(),
        message,
        env: if rng.below(10) == 0 {
            "staging"
        } else {
            "production"
        }
        .into(),
        version: Some(format!("{:07x}", 0xabc0000 + hour.0 % 3)),
        host: Some(format!("host-{}", rng.below(8))),
        kind: if is_req { "request" } else { "log" }.into(),
        event_type: None,
        trace_id: Some(format!(
            "{:032x}",
            trace.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        )),
        span_id: Some(format!("{:016x}", rng.next())),
        parent_span_id: None,
        request_id: Some(format!("req-{trace}")),
        user_id: Some(format!("user-{}", rng.below(5000))),
        tenant_id: None,
        session_id: None,
        method: is_req.then(|| method.into()),
        path: is_req.then(|| route.replace(":id", &rng.below(10_000).to_string())),
        route: is_req.then(|| route.into()),
        handler: is_req.then(|| handler.into()),
        status: is_req.then_some(if err { 500 } else { 200 }),
        duration_ms: is_req.then(|| (rng.below(200) + rng.below(50) * rng.below(20)) as i64),
        db_ms: is_req.then(|| rng.below(100) as i64),
        db_count: is_req.then(|| rng.below(20) as i64),
        cache_ms: None,
        cache_hits: None,
        cache_misses: None,
        ext_ms: None,
        ext_count: None,
        render_ms: None,
        alloc_count: None,
        mem_delta_mb: None,
        n_plus_one: is_req.then(|| rng.below(20) == 0),
        slow_queries: None,
        dup_queries: None,
        error_class: err.then(|| format!("Error{fp}")),
        error_message: err.then(|| format!("something failed #{fp}")),
        source_file: err.then(|| "app/models/order.rb".into()),
        source_line: err.then_some(42),
        error_fingerprint: err.then(|| format!("fp{fp:04}")),
        job_class: None,
        job_queue: None,
        job_id: None,
        queue_ms: None,
        body: None,
    }
}

fn build_hour(dd: &DataDir, lines: &[String], hour: HourId, k: i64, a: &Args) {
    let dir = dd.hour_dir(hour);
    if dd.meta_path(hour).exists() {
        return;
    }
    std::fs::create_dir_all(&dir).expect("create hour dir");
    let mut rng = Rng(k as u64 * 7919 + 1);
    let mut mb = HourMetaBuilder::new(hour);
    let first_seq = 1 + k as u64 * a.rows_per_hour;
    let mut i = 0;
    let mut cid = ChunkId(0);
    while i < a.rows_per_hour {
        let n = a.chunk_rows.min(a.rows_per_hour - i);
        let mut cb = ChunkBuilder::with_options(ChunkOptions {
            text_frame_rows: a.frame_rows,
            ..ChunkOptions::default()
        });
        let mut ib = IndexBuilder::new();
        for j in 0..n {
            let row = gen_row(
                &mut rng,
                lines,
                hour,
                first_seq + i + j,
                i + j,
                a.rows_per_hour,
            );
            ib.add_row(j as u32, &row);
            cb.push(&row);
            mb.add_row(&MetaRow {
                seq: row.seq,
                ts: row.ts,
                level: row.level,
                service: &row.service,
                env: &row.env,
                status: row.status,
                fingerprint: row.error_fingerprint.as_deref(),
                event_type: row.event_type.as_deref(),
                version: row.version.as_deref(),
            });
        }
        let col = cb.finish().expect("encode chunk");
        let idx = ib.finish().expect("encode index");
        let s = (first_seq + i) as i64;
        mb.add_chunk(
            cid,
            n,
            Range {
                min: s,
                max: s + n as i64 - 1,
            },
            Range {
                min: hour.start_micros(),
                max: hour.end_micros(),
            },
            (col.len() as u64, idx.len() as u64),
        );
        publish_chunk(&dir, cid, &idx, &col).expect("publish");
        cid = cid.next();
        i += n;
    }
    let meta = mb.finish(0);
    publish_file(&dir, "meta.json", &meta.to_json()).expect("seal");
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize - 1;
    v.get(i.min(v.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn main() {
    let a = parse_args();
    let tmp;
    let root = match &a.dir {
        Some(d) => d.clone(),
        None => {
            tmp = std::env::temp_dir().join(format!("query_bench_{}", std::process::id()));
            tmp
        }
    };
    let dd = DataDir::new(&root);
    let lines = loghub_lines();
    let first = HourId(490_000);
    let t = Instant::now();
    (0..a.hours)
        .into_par_iter()
        .for_each(|k| build_hour(&dd, &lines, HourId(first.0 + k), k, &a));
    let total = a.hours as u64 * a.rows_per_hour;
    println!(
        "data: {} hours x {} rows = {} rows in {} (built in {:.1}s)",
        a.hours,
        a.rows_per_hour,
        total,
        root.display(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let catalog = Catalog::open(
        dd.clone(),
        CatalogOptions {
            watch: false,
            ..CatalogOptions::default()
        },
    )
    .expect("open catalog");
    let snap = catalog.snapshot();
    println!(
        "catalog: {} chunks, {} rows, opened in {:.0} ms, RSS {:.0} MB",
        snap.chunk_count(),
        snap.row_count(),
        t.elapsed().as_secs_f64() * 1000.0,
        rss_mb()
    );
    let all = || Filter::new(EnvRestriction::All);
    let trace_of = format!(
        "{:032x}",
        (total / 2 / 5).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    );
    let day = (
        first.start_micros(),
        HourId(first.0 + a.hours).start_micros(),
    );
    type Q = Box<dyn Fn() -> u64>;
    let s2 = snap.clone();
    let needle: Q = Box::new(move || {
        let mut f = all();
        f.text = Query::parse(NEEDLE).ok();
        let r = search(
            &s2,
            &f,
            SearchOpts {
                limit: 50,
                order: Order::NewestFirst,
                cursor: None,
            },
        );
        r.rows.len() as u64
    });
    let s2 = snap.clone();
    let tr = trace_of.clone();
    let trace: Q = Box::new(move || {
        let mut f = all();
        f.trace_id = Some(tr.clone());
        let r = search(
            &s2,
            &f,
            SearchOpts {
                limit: 200,
                order: Order::OldestFirst,
                cursor: None,
            },
        );
        r.rows.len() as u64
    });
    let s2 = snap.clone();
    let level_service: Q = Box::new(move || {
        let mut f = all();
        f.ts_from = Some(day.0);
        f.ts_to = Some(day.1);
        f.levels = Some(vec![Level::Error]);
        f.service = Some("billing".into());
        let r = search(
            &s2,
            &f,
            SearchOpts {
                limit: 50,
                order: Order::NewestFirst,
                cursor: None,
            },
        );
        r.rows.len() as u64
    });
    let s2 = snap.clone();
    let by_fp_meta: Q = Box::new(move || {
        let spec = AggSpec {
            group_by: vec![GroupKey::Column(Col::ErrorFingerprint)],
            metrics: vec![Metric::Count],
            limit_groups: 20,
        };
        aggregate(&s2, &all(), &spec, AggMode::Auto).total_count
    });
    let s2 = snap.clone();
    let by_fp_scan: Q = Box::new(move || {
        let mut f = all();
        f.has_error = Some(true);
        let spec = AggSpec {
            group_by: vec![GroupKey::Column(Col::ErrorFingerprint)],
            metrics: vec![Metric::Count],
            limit_groups: 20,
        };
        aggregate(&s2, &f, &spec, AggMode::Auto).total_count
    });
    let s2 = snap.clone();
    let p95: Q = Box::new(move || {
        let mut f = all();
        f.kind = Some("request".into());
        let spec = AggSpec {
            group_by: vec![GroupKey::Column(Col::Route)],
            metrics: vec![
                Metric::Count,
                Metric::Percentiles(Col::DurationMs, vec![95.0]),
            ],
            limit_groups: 0,
        };
        aggregate(&s2, &f, &spec, AggMode::Auto).groups.len() as u64
    });
    let s2 = snap.clone();
    let by_minute: Q = Box::new(move || {
        let spec = AggSpec {
            group_by: vec![GroupKey::TimeBucket {
                width_us: 60_000_000,
            }],
            metrics: vec![Metric::Count, Metric::CountErrors],
            limit_groups: 0,
        };
        aggregate(&s2, &all(), &spec, AggMode::Auto).groups.len() as u64
    });
    let s2 = snap.clone();
    let by_minute_scan: Q = Box::new(move || {
        let spec = AggSpec {
            group_by: vec![GroupKey::TimeBucket {
                width_us: 60_000_000,
            }],
            metrics: vec![Metric::Count, Metric::CountErrors],
            limit_groups: 0,
        };
        aggregate(&s2, &all(), &spec, AggMode::ScanOnly)
            .groups
            .len() as u64
    });
    let queries: Vec<(&str, Q)> = vec![
        ("needle term search (limit 50)", needle),
        ("trace id lookup", trace),
        ("level=error+service, 24h, limit 50", level_service),
        ("error count by fingerprint (meta.json)", by_fp_meta),
        ("error count by fingerprint (scan, has_error)", by_fp_scan),
        ("p95 duration per endpoint", p95),
        ("count by minute (meta.json)", by_minute),
        ("count by minute (scan only)", by_minute_scan),
    ];
    println!(
        "{:<46} {:>9} {:>9} {:>9} {:>9}",
        "query", "cold ms", "p50 ms", "p99 ms", "result"
    );
    for (name, q) in &queries {
        if a.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let t = Instant::now();
        let res = q();
        let cold = t.elapsed().as_secs_f64() * 1000.0;
        let mut warm = Vec::new();
        for _ in 0..a.iters {
            let t = Instant::now();
            std::hint::black_box(q());
            warm.push(t.elapsed());
        }
        println!(
            "{name:<46} {cold:>9.1} {:>9.1} {:>9.1} {res:>9}",
            pct(&mut warm, 50.0),
            pct(&mut warm, 99.0)
        );
    }
    println!("RSS after queries: {:.0} MB", rss_mb());
    drop(catalog);
    if a.dir.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
}
