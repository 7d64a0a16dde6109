//! Deterministic, SDK-shaped test rows for benchmarks and tests (feature `testdata`).
//!
//! [`generate`] produces a realistic mix of request rows (method, path, status, timings), log
//! rows (messages drawn from real log lines), error rows (stack traces in the `body` JSON)
//! and job rows, with realistic cardinalities: 8 services, 60 endpoints, 5000 users, random
//! trace ids shared by a request and its logs. The same seed always gives the same rows, so
//! the chunk, full-text and combined benchmarks measure the same data.

use std::path::{Path, PathBuf};

use crate::ids::Seq;
use crate::row::{Level, Row, ValueRef};
use crate::schema::{COLUMNS, LogicalType};

/// SplitMix64: a tiny, fast, deterministic generator (no dependency needed).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A skewed positive duration: mostly near `typical`, with a long tail.
    pub fn duration(&mut self, typical: u64) -> i64 {
        let base = typical / 2 + self.below(typical + 1);
        let tail = if self.chance(0.05) {
            self.below(typical * 20 + 1)
        } else {
            0
        };
        (base + tail) as i64
    }

    /// `n` random lowercase hex characters.
    pub fn hex(&mut self, n: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        (0..n)
            .map(|_| HEX[self.below(16) as usize] as char)
            .collect()
    }

    /// A random version-4 UUID string.
    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

/// The directory of the repository's real log samples (`tests/data/loghub`).
pub fn default_loghub_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/loghub")
}

/// Every non-empty line of the `*.log` files in `dir`, files in name order. Falls back to a
/// few built-in lines if the directory cannot be read.
pub fn load_messages(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| {
            t.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    if out.is_empty() {
        out = vec![
            "connection pool exhausted, waiting for a free connection".into(),
            "cache miss for key session:42".into(),
            "user signed in".into(),
        ];
    }
    out
}

const SERVICES: [&str; 8] = [
    "checkout-api",
    "billing-api",
    "auth-service",
    "search-api",
    "inventory-svc",
    "notifier",
    "web-frontend",
    "reports-worker",
];
const RESOURCES: [&str; 12] = [
    "orders",
    "invoices",
    "users",
    "products",
    "carts",
    "payments",
    "sessions",
    "reports",
    "webhooks",
    "coupons",
    "shipments",
    "reviews",
];
const ERROR_CLASSES: [&str; 12] = [
    "ActiveRecord::RecordNotFound",
    "TypeError",
    "Stripe::CardError",
    "Net::ReadTimeout",
    "NoMethodError",
    "ActiveRecord::StatementInvalid",
    "Redis::TimeoutError",
    "ArgumentError",
    "PG::ConnectionBad",
    "JSON::ParserError",
    "RangeError",
    "Errno::ECONNREFUSED",
];
const JOBS: [&str; 10] = [
    "SendEmailJob",
    "ChargeCardJob",
    "SyncInventoryJob",
    "GenerateReportJob",
    "WebhookDeliveryJob",
    "CleanupSessionsJob",
    "IndexProductJob",
    "ExportCsvJob",
    "RefreshTokenJob",
    "AuditLogJob",
];
const QUEUES: [&str; 4] = ["default", "mailers", "critical", "low"];

/// One of the 60 endpoints: method, route template, controller action.
struct Endpoint {
    method: &'static str,
    route: String,
    handler: String,
    has_id: bool,
}

fn endpoints() -> Vec<Endpoint> {
    let mut out = Vec::new();
    for r in RESOURCES {
        let ctrl = format!("{}{}Controller", r[..1].to_uppercase(), &r[1..]);
        for (method, suffix, action, has_id) in [
            ("GET", "", "index", false),
            ("POST", "", "create", false),
            ("GET", "/:id", "show", true),
            ("PATCH", "/:id", "update", true),
            ("DELETE", "/:id", "destroy", true),
        ] {
            out.push(Endpoint {
                method,
                route: format!("/api/v1/{r}{suffix}"),
                handler: format!("{ctrl}#{action}"),
                has_id,
            });
        }
    }
    out
}

/// The rows the storage examples (`storage_bench`, `chunk_bench`, `build_bench`,
/// `idx_anatomy`) measure: `n` rows of seed 42 with the repository's loghub messages, so
/// their numbers describe the same data.
pub fn bench_rows(n: usize) -> Vec<Row> {
    generate(n, 42, &load_messages(&default_loghub_dir()))
}

/// `n` deterministic rows from `seed`, with log messages drawn from `messages`.
pub fn generate(n: usize, seed: u64, messages: &[String]) -> Vec<Row> {
    let mut rng = Rng::new(seed);
    let eps = endpoints();
    let versions: Vec<String> = (0..16).map(|_| rng.hex(7)).collect();
    let hosts: Vec<String> = (0..24)
        .map(|i| format!("ip-10-0-{}-{}", i / 8, 10 + i))
        .collect();
    let frames: Vec<String> = (0..80)
        .map(|i| {
            format!(
                "app/{}/{}_{}.rb:{}:in `{}'",
                rng.pick(&["models", "controllers", "services", "jobs", "lib"]),
                rng.pick(&RESOURCES),
                i % 7,
                1 + rng.below(400),
                rng.pick(&[
                    "call",
                    "perform",
                    "create",
                    "show",
                    "update",
                    "process",
                    "validate!"
                ])
            )
        })
        .collect();
    let fallback = vec!["log line".to_string()];
    let messages = if messages.is_empty() {
        &fallback
    } else {
        messages
    };

    let mut rows = Vec::with_capacity(n);
    let mut seq = 1_000_000u64;
    let mut recv: i64 = 1_776_506_400_000_000; // 2026-04-18T10:00:00Z in µs
    // The request currently "in flight": its logs share its ids.
    let mut ctx: Option<(usize, String, String, String, Option<String>)> = None;
    while rows.len() < n {
        // One ingest batch: rows received together.
        let batch = 1 + rng.below(40) as usize;
        recv += 500 + rng.below(200_000) as i64;
        for _ in 0..batch.min(n - rows.len()) {
            recv += rng.below(50) as i64;
            let svc_i = ctx.as_ref().map_or_else(|| rng.below(8) as usize, |c| c.0);
            let service = SERVICES[svc_i];
            let mut r = Row {
                seq: Seq(seq),
                received_at: recv,
                ts: recv - 2_000 - rng.below(1_500_000) as i64,
                service: service.to_string(),
                env: if svc_i % 4 == 3 && rng.chance(0.3) {
                    "staging"
                } else {
                    "production"
                }
                .into(),
                version: Some(versions[svc_i * 2 + usize::from(rng.chance(0.2))].clone()),
                host: Some(hosts[svc_i * 3 + rng.below(3) as usize].clone()),
                ..Row::default()
            };
            seq += 1;
            let dice = rng.below(100);
            if dice < 38 {
                request_row(&mut rng, &mut r, &eps, &frames);
                ctx = Some((
                    svc_i,
                    r.trace_id.clone().unwrap_or_default(),
                    r.request_id.clone().unwrap_or_default(),
                    r.span_id.clone().unwrap_or_default(),
                    r.user_id.clone(),
                ));
            } else if dice < 88 {
                r.kind = "log".into();
                r.level = *rng.pick(&[
                    Level::Info,
                    Level::Info,
                    Level::Info,
                    Level::Debug,
                    Level::Warn,
                ]);
                r.message = rng.pick(messages).clone();
                if let Some((_, trace, req, span, user)) = &ctx
                    && rng.chance(0.7)
                {
                    r.trace_id = Some(trace.clone());
                    r.request_id = Some(req.clone());
                    r.span_id = Some(span.clone());
                    r.user_id = user.clone();
                }
                if rng.chance(0.1) {
                    r.body = Some(format!(
                        "{{\"context\":{{\"pid\":{},\"thread\":\"worker-{}\"}}}}",
                        1000 + rng.below(64),
                        rng.below(16)
                    ));
                }
                if rng.chance(0.3) {
                    ctx = None;
                }
            } else if dice < 95 {
                error_row(
                    &mut rng,
                    &mut r,
                    &frames,
                    ctx.as_ref().map(|c| (c.1.as_str(), c.2.as_str())),
                );
            } else {
                job_row(&mut rng, &mut r);
            }
            rows.push(r);
        }
    }
    rows
}

fn request_row(rng: &mut Rng, r: &mut Row, eps: &[Endpoint], frames: &[String]) {
    let ep = rng.pick(eps);
    let path = if ep.has_id {
        ep.route
            .replace(":id", &(1 + rng.below(100_000)).to_string())
    } else {
        ep.route.clone()
    };
    let status = match rng.below(100) {
        0..=1 => *rng.pick(&[500i64, 502, 503]),
        2..=7 => *rng.pick(&[400i64, 401, 403, 404, 404, 422]),
        8..=10 => *rng.pick(&[301i64, 302, 304]),
        _ => {
            if ep.method == "POST" {
                201
            } else {
                200
            }
        }
    };
    let dur = rng.duration(40);
    r.kind = "request".into();
    r.event_type = Some("http.request".into());
    r.level = if status >= 500 {
        Level::Error
    } else if status >= 400 {
        Level::Warn
    } else {
        Level::Info
    };
    r.message = format!("{} {} {} {}ms", ep.method, path, status, dur);
    r.method = Some(ep.method.into());
    r.path = Some(path);
    r.route = Some(ep.route.clone());
    r.handler = Some(ep.handler.clone());
    r.status = Some(status);
    r.duration_ms = Some(dur);
    r.trace_id = Some(rng.hex(32));
    r.span_id = Some(rng.hex(16));
    if rng.chance(0.4) {
        r.parent_span_id = Some(rng.hex(16));
    }
    r.request_id = Some(rng.uuid());
    if rng.chance(0.7) {
        r.user_id = Some(format!("user_{}", rng.below(5000)));
        r.tenant_id = Some(format!("tenant_{}", rng.below(50)));
    }
    if rng.chance(0.5) {
        r.session_id = Some(rng.hex(24));
    }
    let db_count = rng.below(12) as i64;
    r.db_count = Some(db_count);
    r.db_ms = Some(if db_count == 0 { 0 } else { rng.duration(8) });
    r.render_ms = Some(rng.duration(10));
    if rng.chance(0.6) {
        r.cache_hits = Some(rng.below(20) as i64);
        r.cache_misses = Some(rng.below(4) as i64);
        r.cache_ms = Some(rng.below(5) as i64);
    }
    if rng.chance(0.2) {
        r.ext_count = Some(1 + rng.below(3) as i64);
        r.ext_ms = Some(rng.duration(120));
    }
    r.alloc_count = Some(10_000 + rng.below(200_000) as i64);
    r.mem_delta_mb = Some(rng.below(800) as i64 - 100);
    r.n_plus_one = Some(rng.chance(0.05));
    r.slow_queries = Some(i64::from(rng.chance(0.03)));
    r.dup_queries = Some(rng.below(3) as i64);
    if rng.chance(0.3) {
        let sql: Vec<String> = (0..db_count.min(4))
            .map(|_| {
                format!(
                    "{{\"name\":\"{} Load\",\"duration_ms\":{}.{},\"table\":\"{}\",\"caller_location\":\"{}\"}}",
                    rng.pick(&RESOURCES),
                    rng.below(30),
                    rng.below(100),
                    rng.pick(&RESOURCES),
                    rng.pick(frames).split(":in").next().unwrap_or("")
                )
            })
            .collect();
        r.body = Some(format!(
            "{{\"request_params\":{{\"page\":{},\"per_page\":25}},\"sql\":[{}]}}",
            rng.below(20),
            sql.join(",")
        ));
    }
}

fn error_row(rng: &mut Rng, r: &mut Row, frames: &[String], ctx: Option<(&str, &str)>) {
    let class_i = rng.below(ERROR_CLASSES.len() as u64) as usize;
    let class = ERROR_CLASSES[class_i];
    let detail = rng.below(1000);
    let msg = match class_i % 4 {
        0 => format!("Couldn't find record with 'id'={detail}"),
        1 => format!("undefined method `total' for nil (order {detail})"),
        2 => "Your card was declined".to_string(),
        _ => format!("timeout after {}ms talking to upstream", 1000 + detail),
    };
    // A class has a stable stack: frames drawn from a class-specific slice of the pool.
    let depth = 6 + class_i % 8;
    let stack: Vec<&str> = (0..depth)
        .map(|k| frames[(class_i * 5 + k * 3) % frames.len()].as_str())
        .collect();
    let top = stack.first().copied().unwrap_or("app.rb:1");
    let mut parts = top.split(':');
    let file = parts.next().unwrap_or("app.rb").to_string();
    let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(1);
    r.kind = "log".into();
    r.level = if rng.chance(0.05) {
        Level::Fatal
    } else {
        Level::Error
    };
    r.message = format!("{class}: {msg}");
    r.error_class = Some(class.into());
    r.error_message = Some(msg.clone());
    r.source_file = Some(file);
    r.source_line = Some(line);
    r.error_fingerprint = Some(format!(
        "{:016x}",
        (class_i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    ));
    if let Some((trace, req)) = ctx {
        r.trace_id = Some(trace.into());
        r.request_id = Some(req.into());
    }
    let backtrace: Vec<String> = stack.iter().map(|f| format!("\"{f}\"")).collect();
    r.body = Some(format!(
        "{{\"exception\":{{\"class\":\"{class}\",\"message\":\"{msg}\",\"backtrace\":[{}]}},\"handled\":{},\"context\":{{\"request_id\":\"{}\"}}}}",
        backtrace.join(","),
        rng.chance(0.3),
        ctx.map_or("", |c| c.1)
    ));
}

fn job_row(rng: &mut Rng, r: &mut Row) {
    let job = *rng.pick(&JOBS);
    let queue = *rng.pick(&QUEUES);
    let dur = rng.duration(300);
    r.kind = "job".into();
    r.level = if rng.chance(0.03) {
        Level::Error
    } else {
        Level::Info
    };
    r.message = format!("Performed {job} from {queue} in {dur}ms");
    r.job_class = Some(job.into());
    r.job_queue = Some(queue.into());
    r.job_id = Some(rng.uuid());
    r.queue_ms = Some(rng.duration(50));
    r.duration_ms = Some(dur);
}

/// The row as one NDJSON line (no newline): non-null columns by name, `body` embedded as a
/// JSON object. This is the "NDJSON-equivalent" size benchmarks compare against.
pub fn to_ndjson(row: &Row) -> String {
    let mut map = serde_json::Map::new();
    for def in COLUMNS {
        let v = match row.get(def.col) {
            ValueRef::Null => continue,
            ValueRef::Int(i) => serde_json::Value::from(i),
            ValueRef::Bool(b) => serde_json::Value::from(b),
            ValueRef::Str(s) if def.ty == LogicalType::Json => {
                serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::from(s))
            }
            ValueRef::Str(s) => serde_json::Value::from(s),
        };
        map.insert(def.name.to_string(), v);
    }
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_varied() {
        let msgs = load_messages(&default_loghub_dir());
        assert!(msgs.len() > 1000);
        let a = generate(2000, 7, &msgs);
        let b = generate(2000, 7, &msgs);
        assert_eq!(a, b);
        assert_eq!(a.len(), 2000);
        let kinds: std::collections::HashSet<&str> = a.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds.len(), 3);
        assert!(a.windows(2).all(|w| w[1].seq.0 == w[0].seq.0 + 1));
        assert!(
            a.iter()
                .any(|r| r.body.as_deref().is_some_and(|b| b.contains("backtrace")))
        );
        for r in &a {
            if let Some(b) = &r.body {
                serde_json::from_str::<serde_json::Value>(b).unwrap();
            }
        }
    }
}
