//! The entry stream: draws kinds from the mix and renders each one as its SDK would.

use std::collections::VecDeque;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::app::{Sdk, Service, build_fleet};
use super::corpus::{Corpus, CorpusLevel};
use super::entry::{Entry, EntryIndex, EntryKind, Num};
use super::ids::{hex_id, uuid_v4};
use super::scenario::{InjectedFailure, RequestView, Scenario};
use super::ts::{Micros, TsPrecision, format_rfc3339};
use super::{GenConfig, Mix};

/// A run of consecutive entries, posted as one request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The entries, in index order.
    pub entries: Vec<Entry>,
}

impl Batch {
    /// Index of the first entry, `None` for an empty batch.
    pub fn first_index(&self) -> Option<EntryIndex> {
        self.entries.first().map(|e| e.index)
    }

    /// The body as the SDKs send it: a compact JSON array.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() * 512);
        out.push(b'[');
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            e.write_json(&mut out);
        }
        out.push(b']');
        out
    }
}

/// A request recently served by a Node service; later log and error rows of that service may
/// belong to it and then share its trace, span, request and user ids.
#[derive(Debug, Clone)]
struct RecentRequest {
    service: usize,
    trace_id: String,
    span_id: String,
    parent_span_id: Option<String>,
    request_id: String,
    user: u32,
    env: &'static str,
    host: usize,
}

/// How many recent requests are remembered.
const RECENT: usize = 64;

/// Generic failures per SDK: (class, message, file, line, function).
const RUBY_FAILURES: &[(&str, &str, &str, u32, &str)] = &[
    (
        "ActiveRecord::RecordNotFound",
        "Couldn't find record with 'id'",
        "app/controllers/application_controller.rb",
        42,
        "find_record",
    ),
    (
        "Stripe::CardError",
        "Your card was declined",
        "app/services/charge.rb",
        27,
        "call",
    ),
    (
        "Redis::TimeoutError",
        "Connection timed out",
        "app/services/cache_store.rb",
        44,
        "fetch",
    ),
    (
        "Net::ReadTimeout",
        "Net::ReadTimeout with #<TCPSocket:(closed)>",
        "app/clients/shipping_client.rb",
        61,
        "quote",
    ),
    (
        "NoMethodError",
        "undefined method `total' for nil:NilClass",
        "app/models/order.rb",
        88,
        "grand_total",
    ),
];
const NODE_FAILURES: &[(&str, &str, &str, u32, &str)] = &[
    (
        "TypeError",
        "Cannot read properties of undefined (reading 'total')",
        "routes/orders.mjs",
        46,
        "handleOrder",
    ),
    (
        "Error",
        "upstream 502",
        "lib/http.mjs",
        120,
        "fetchUpstream",
    ),
    (
        "RangeError",
        "Invalid array length",
        "lib/paginate.mjs",
        17,
        "paginate",
    ),
    (
        "SequelizeConnectionError",
        "connect ECONNREFUSED 10.0.0.5:5432",
        "db/pool.mjs",
        33,
        "acquire",
    ),
    (
        "ValidationError",
        "\"email\" must be a valid email",
        "routes/users.mjs",
        71,
        "validateBody",
    ),
];
/// Custom events: (event_type, message).
const EVENTS: &[(&str, &str)] = &[
    ("payment.completed", "payment completed"),
    ("user.signup", "user signed up"),
    ("cart.abandoned", "cart abandoned"),
    ("email.sent", "email sent"),
];
const PLANS: &[&str] = &["free", "pro", "team", "enterprise"];

/// Reproducible stream of SDK-shaped entries. Implements `Iterator<Item = Entry>` (endless).
pub struct Generator {
    cfg: GenConfig,
    rng: ChaCha8Rng,
    corpus: Arc<Corpus>,
    fleet: Vec<Service>,
    versions: Vec<String>,
    service_cum: Vec<u32>,
    endpoint_cum: Vec<Vec<u32>>,
    next: u64,
    pending: VecDeque<(Entry, TsPrecision)>,
    recent: VecDeque<RecentRequest>,
    scenarios: Vec<Box<dyn Scenario>>,
    step_us: i64,
}

fn cumulative(weights: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut acc = 0u32;
    weights
        .map(|w| {
            acc = acc.saturating_add(w.max(1));
            acc
        })
        .collect()
}

fn pick_cum(rng: &mut ChaCha8Rng, cum: &[u32]) -> usize {
    let total = cum.last().copied().unwrap_or(1).max(1);
    let x = rng.random_range(0..total);
    cum.partition_point(|&c| c <= x)
        .min(cum.len().saturating_sub(1))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Generator {
    /// A generator for `cfg` drawing log text from `corpus`.
    pub fn new(cfg: GenConfig, corpus: Arc<Corpus>) -> Generator {
        let mut fleet_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let fleet = build_fleet(&mut fleet_rng, cfg.services, cfg.endpoints);
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(1);
        let service_cum = cumulative(fleet.iter().map(|_| fleet_rng.random_range(2..=6)));
        let endpoint_cum = fleet
            .iter()
            .map(|s| cumulative(s.endpoints.iter().map(|e| e.weight)))
            .collect();
        let step_us = if cfg.sim_rate > 0.0 {
            (1e6 / cfg.sim_rate).max(1.0) as i64
        } else {
            1000
        };
        Generator {
            versions: fleet.iter().map(|s| s.initial_version.clone()).collect(),
            cfg,
            rng,
            corpus,
            fleet,
            service_cum,
            endpoint_cum,
            next: 0,
            pending: VecDeque::new(),
            recent: VecDeque::with_capacity(RECENT),
            scenarios: Vec::new(),
            step_us,
        }
    }

    /// Adds a scenario hook consulted for every request row.
    pub fn with_scenario(mut self, s: Box<dyn Scenario>) -> Generator {
        self.scenarios.push(s);
        self
    }

    /// The simulated fleet (services, routes, hosts).
    pub fn fleet(&self) -> &[Service] {
        &self.fleet
    }

    /// The config this generator was built from.
    pub fn config(&self) -> &GenConfig {
        &self.cfg
    }

    /// The next `n` entries as a batch.
    pub fn next_batch(&mut self, n: usize) -> Batch {
        Batch {
            entries: self.by_ref().take(n).collect(),
        }
    }

    fn apply_deploys(&mut self, idx: EntryIndex) {
        for d in self.cfg.deploys.iter().filter(|d| d.at == idx) {
            if let Some(i) = self.fleet.iter().position(|s| s.name == d.service) {
                self.versions[i] = d.version.clone();
            }
        }
    }

    /// Stamps an entry with its index, timestamp and marker.
    fn finish(&mut self, mut e: Entry, precision: TsPrecision) -> Entry {
        let idx = EntryIndex(self.next);
        self.next += 1;
        let jitter = self.rng.random_range(0..self.step_us.max(1));
        let t = self.cfg.start.0 + (idx.0 as i64) * self.step_us + jitter;
        e.index = idx;
        e.ts = format_rfc3339(Micros(t), precision);
        e.message.push(' ');
        e.message.push_str(&Entry::marker(self.cfg.seed, idx));
        if let Value::Object(m) = &mut e.body {
            m.insert("lg_seq".into(), Value::from(idx.0));
        }
        e
    }

    fn pick_kind(&mut self) -> EntryKind {
        let Mix {
            request,
            log,
            error,
            event,
        } = self.cfg.mix;
        let total = self.cfg.mix.total().max(1);
        let x = self.rng.random_range(0..total);
        if x < request {
            EntryKind::Request
        } else if x < request + log {
            EntryKind::Log
        } else if x < request + log + error {
            EntryKind::Error
        } else if x < request + log + error + event || total == 1 {
            EntryKind::Event
        } else {
            EntryKind::Log
        }
    }

    fn pick_user(&mut self) -> u32 {
        let u: f64 = self.rng.random();
        1 + ((u * u) * f64::from(self.cfg.users.max(1))) as u32 % self.cfg.users.max(1)
    }

    fn pick_env(&mut self) -> &'static str {
        if self.rng.random_bool(self.cfg.staging_share.clamp(0.0, 1.0)) {
            "staging"
        } else {
            "production"
        }
    }

    fn base(&self, svc: usize, kind: EntryKind, level: &'static str, message: String) -> Entry {
        Entry {
            index: EntryIndex(0),
            kind,
            follow_up: false,
            ts: String::new(),
            level,
            service: self.fleet[svc].name.clone(),
            message,
            env: None,
            version: Some(self.versions[svc].clone()),
            event_type: None,
            method: None,
            path: None,
            status: None,
            duration_ms: None,
            controller: None,
            handler: None,
            request_id: None,
            trace_id: None,
            span_id: None,
            parent_span_id: None,
            user_id: None,
            db_ms: None,
            db_count: None,
            n_plus_one: None,
            dup_queries: None,
            slow_queries: None,
            error_class: None,
            body: Value::Null,
        }
    }

    fn context(&self, svc: usize, host: usize) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some((h, pid)) = self.fleet[svc].hosts.get(host) {
            m.insert("hostname".into(), Value::from(h.as_str()));
            m.insert("pid".into(), Value::from(*pid));
        }
        m
    }

    fn precision(&self, svc: usize) -> TsPrecision {
        match self.fleet[svc].sdk {
            Sdk::Node => TsPrecision::Millis,
            Sdk::Ruby => TsPrecision::Micros,
        }
    }

    fn ruby_env(&mut self, env: &'static str) -> Option<Option<&'static str>> {
        if self.rng.random_bool(0.03) {
            Some(None)
        } else {
            Some(Some(env))
        }
    }

    fn gen_request(&mut self) -> Entry {
        let svc = pick_cum(&mut self.rng, &self.service_cum);
        let ep_i = pick_cum(&mut self.rng, &self.endpoint_cum[svc]);
        let user = self.pick_user();
        let env = self.pick_env();
        let host = self.rng.random_range(0..self.fleet[svc].hosts.len().max(1));
        let sdk = self.fleet[svc].sdk;
        let ep = self.fleet[svc].endpoints[ep_i].clone();
        let index = EntryIndex(self.next);
        let view = RequestView {
            index,
            service: &self.fleet[svc].name,
            version: &self.versions[svc],
            method: ep.method,
            route: &ep.route,
            user,
            env,
        };
        let mut injected = None;
        for s in &mut self.scenarios {
            if let Some(f) = s.request_failure(&view) {
                injected = Some(f);
                break;
            }
        }
        let failure = injected.or_else(|| {
            self.rng
                .random_bool(self.cfg.error_rate.clamp(0.0, 1.0))
                .then(|| {
                    let table = match sdk {
                        Sdk::Node => NODE_FAILURES,
                        Sdk::Ruby => RUBY_FAILURES,
                    };
                    let (class, msg, file, line, function) =
                        table[self.rng.random_range(0..table.len())];
                    let status = if self.rng.random_bool(0.8) { 500 } else { 502 };
                    InjectedFailure {
                        status,
                        error_class: class.into(),
                        message: msg.into(),
                        file: file.into(),
                        line,
                        function: function.into(),
                    }
                })
        });
        let status = match &failure {
            Some(f) => f.status,
            None if self
                .rng
                .random_bool(self.cfg.client_error_rate.clamp(0.0, 1.0)) =>
            {
                [404, 422, 401, 403][self.rng.random_range(0..4)]
            }
            None => match ep.method {
                "POST" => 201,
                "DELETE" => 204,
                _ => 200,
            },
        };
        let path = ep
            .route
            .replace(":id", &self.rng.random_range(1..100_000u32).to_string());
        let n: f64 = {
            // Box-Muller: a standard normal for a log-normal duration.
            let u1: f64 = self.rng.random_range(f64::EPSILON..1.0);
            let u2: f64 = self.rng.random();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let mut duration = ep.base_ms * (0.6 * n).exp();
        // SQL calls.
        let n_plus_one = self.rng.random_bool(0.01);
        let mut queries: Vec<(usize, f64, f64)> = Vec::new(); // (template, ms, at)
        let mut at = self.rng.random_range(0.5..3.0);
        let count = if n_plus_one {
            self.rng.random_range(21..26)
        } else {
            ep.sql.len()
        };
        for q in 0..count {
            let t = if n_plus_one { ep.sql.len() - 1 } else { q };
            let slow = self.rng.random_bool(0.03);
            let ms = round2(if slow {
                self.rng.random_range(100.0..400.0)
            } else {
                self.rng.random_range(0.2..8.0)
            });
            queries.push((t, ms, round2(at)));
            at += ms + self.rng.random_range(0.1..2.0);
        }
        let db_ms = round2(queries.iter().map(|q| q.1).sum());
        duration = duration.max(at);
        let dup = if n_plus_one {
            1
        } else {
            u32::from(self.rng.random_bool(0.1))
        };
        let slowest = queries
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|q| (q.0, q.1))
            .unwrap_or((0, 0.0));
        let level = match status {
            500.. => "error",
            400..500 => "warn",
            _ => "info",
        };
        let message = format!(
            "{} {} {} {}ms",
            ep.method,
            path,
            status,
            duration.round() as u64
        );
        let mut e = self.base(svc, EntryKind::Request, level, message);
        e.event_type = Some("http.request".into());
        e.method = Some(ep.method);
        e.path = Some(path);
        e.status = Some(status);
        let trace_id = hex_id(&mut self.rng, 32);
        let span_id = hex_id(&mut self.rng, 16);
        let parent = self.rng.random_bool(0.7).then(|| hex_id(&mut self.rng, 16));
        let request_id = uuid_v4(&mut self.rng).to_string();
        e.trace_id = Some(trace_id.clone());
        e.span_id = Some(span_id.clone());
        e.parent_span_id = parent.clone();
        e.request_id = Some(request_id.clone());
        e.user_id = Some(user.to_string());
        let mut ctx = self.context(svc, host);
        match sdk {
            Sdk::Node => {
                e.env = Some(Some(env));
                e.duration_ms = Some(Num::Float(round2(duration)));
                if self.fleet[svc].sets_handler {
                    e.handler = Some(ep.handler.clone());
                }
                e.db_ms = Some(db_ms);
                e.db_count = Some(queries.len() as u32);
                e.n_plus_one = Some(n_plus_one);
                e.dup_queries = Some(dup);
                e.slow_queries = Some(u32::from(slowest.1 > 100.0));
                let mut body = Map::new();
                body.insert("context".into(), Value::Object(ctx));
                body.insert(
                    "performance".into(),
                    json!({
                        "sql_query_count": queries.len(), "sql_total_ms": db_ms,
                        "sql_slowest_ms": slowest.1,
                        "sql_slowest_name": ep.sql.get(slowest.0).map_or("", |s| s.name.as_str()),
                        "n_plus_one_warning": n_plus_one, "duplicate_queries": dup,
                        "worst_duplicate_count": if n_plus_one { queries.len() } else { (dup as usize) * 2 },
                        "http_count": 0, "http_total_ms": 0, "http_slowest_ms": 0, "http_slowest_host": ""
                    }),
                );
                if self.fleet[svc].timeline {
                    let tl: Vec<Value> = queries
                        .iter()
                        .take(5)
                        .map(|(t, ms, at)| {
                            json!({"t": "sql", "n": ep.sql.get(*t).map_or("", |s| s.name.as_str()), "ms": ms, "at": at})
                        })
                        .collect();
                    body.insert("timeline".into(), Value::Array(tl));
                }
                e.body = Value::Object(body);
                if let Some(f) = &failure {
                    let follow = self.node_error_row(svc, host, f, Some(&e), env);
                    self.pending.push_back((follow, TsPrecision::Millis));
                }
                if self.recent.len() == RECENT {
                    self.recent.pop_front();
                }
                self.recent.push_back(RecentRequest {
                    service: svc,
                    trace_id,
                    span_id,
                    parent_span_id: parent,
                    request_id,
                    user,
                    env,
                    host,
                });
            }
            Sdk::Ruby => {
                e.env = self.ruby_env(env);
                e.duration_ms = Some(Num::Int(duration.round() as u64));
                e.controller = Some(if self.rng.random_bool(0.02) {
                    None
                } else {
                    Some(ep.controller.clone())
                });
                let mut body = Map::new();
                if failure.is_some() {
                    body.insert(
                        "request_params".into(),
                        json!({"id": self.rng.random_range(1..100_000u32).to_string(), "format": "json"}),
                    );
                }
                let sql: Vec<Value> = queries
                    .iter()
                    .filter_map(|(t, ms, _)| ep.sql.get(*t).map(|s| (s, ms)))
                    .map(|(s, ms)| {
                        json!({"normalized_sql": null, "duration_ms": ms, "name": s.name,
                               "cached": false, "row_count": 1, "in_transaction": false,
                               "fingerprint": s.fingerprint, "table": s.table,
                               "caller_location": s.caller_location})
                    })
                    .collect();
                body.insert("sql".into(), Value::Array(sql));
                let mut logs = Vec::new();
                if self.rng.random_bool(0.3) {
                    let line = self.corpus.pick(self.rng.random_range(0..usize::MAX));
                    logs.push(json!({"level": "INFO", "message": line.text, "metadata": {}}));
                }
                if let Some(f) = &failure {
                    logs.push(json!({
                        "level": "ERROR",
                        "message": format!("{}: {}", f.error_class, f.message),
                        "metadata": {
                            "exception_class": f.error_class,
                            "exception_message": f.message,
                            "backtrace": [
                                format!("{}:{}:in `{}'", f.file, f.line, f.function),
                                format!("{}:{}:in `{}'", ep.source_file, 12, ep.handler.rsplit('#').next().unwrap_or("call")),
                            ]
                        }
                    }));
                }
                if !logs.is_empty() {
                    body.insert("logs".into(), Value::Array(logs));
                }
                ctx.clear();
                ctx.insert(
                    "plan".into(),
                    Value::from(PLANS[(user as usize) % PLANS.len()]),
                );
                body.insert("context".into(), Value::Object(ctx));
                e.body = Value::Object(body);
            }
        }
        e
    }

    fn node_error_row(
        &mut self,
        svc: usize,
        host: usize,
        f: &InjectedFailure,
        req: Option<&Entry>,
        env: &'static str,
    ) -> Entry {
        let mut e = self.base(svc, EntryKind::Error, "error", f.message.clone());
        e.follow_up = req.is_some();
        e.env = Some(Some(env));
        e.error_class = Some(f.error_class.clone());
        if let Some(r) = req {
            e.request_id = r.request_id.clone();
            e.trace_id = r.trace_id.clone();
            e.span_id = r.span_id.clone();
            e.parent_span_id = r.parent_span_id.clone();
            e.user_id = r.user_id.clone();
        }
        let col = self.rng.random_range(5..40);
        let mut exception = json!({
            "class": f.error_class,
            "stack": format!("{}: {}\n    at {} (file:///app/{}:{}:{})\n    at opentraceMiddleware (...)",
                f.error_class, f.message, f.function, f.file, f.line, col),
        });
        if self.rng.random_bool(0.3) {
            exception["causes"] = json!([{"className": "Error", "message": "upstream 502",
                "stack": format!("Error: upstream 502\n    at file:///app/{}:{}:99", f.file, f.line)}]);
        }
        let mut ctx = self.context(svc, host);
        if self.rng.random_bool(0.5) {
            ctx.insert(
                "order_id".into(),
                Value::from(format!("ord_{}", self.rng.random_range(1..1_000_000u32))),
            );
        }
        e.body = json!({"exception": exception, "context": ctx});
        e
    }

    fn recent_for(&mut self, svc: usize) -> Option<RecentRequest> {
        if !self.rng.random_bool(0.6) {
            return None;
        }
        self.recent.iter().rev().find(|r| r.service == svc).cloned()
    }

    fn gen_log(&mut self) -> Entry {
        let svc = pick_cum(&mut self.rng, &self.service_cum);
        let line = self
            .corpus
            .pick(self.rng.random_range(0..usize::MAX))
            .clone();
        let level = match line.level {
            CorpusLevel::Debug => "debug",
            CorpusLevel::Info => "info",
            CorpusLevel::Warn => "warn",
            CorpusLevel::Error => "error",
        };
        let mut e = self.base(svc, EntryKind::Log, level, line.text);
        match self.fleet[svc].sdk {
            Sdk::Node => {
                let (env, host) = match self.recent_for(svc) {
                    Some(r) => {
                        e.user_id = Some(r.user.to_string());
                        e.request_id = Some(r.request_id);
                        e.trace_id = Some(r.trace_id);
                        e.span_id = Some(r.span_id);
                        e.parent_span_id = r.parent_span_id;
                        (r.env, r.host)
                    }
                    None => {
                        let env = self.pick_env();
                        (
                            env,
                            self.rng.random_range(0..self.fleet[svc].hosts.len().max(1)),
                        )
                    }
                };
                e.env = Some(Some(env));
                let mut ctx = self.context(svc, host);
                if self.rng.random_bool(0.4) {
                    ctx.insert("page".into(), Value::from(self.rng.random_range(1..20u32)));
                }
                e.body = json!({ "context": ctx });
            }
            Sdk::Ruby => {
                let env = self.pick_env();
                e.env = self.ruby_env(env);
                e.event_type = Some("log".into());
                let host = self.rng.random_range(0..self.fleet[svc].hosts.len().max(1));
                let mut ctx = self.context(svc, host);
                if self.rng.random_bool(0.3) {
                    let user = self.pick_user();
                    ctx.insert("user_id".into(), Value::from(user));
                }
                e.body = json!({ "context": ctx });
            }
        }
        e
    }

    fn gen_error(&mut self) -> Entry {
        let svc = pick_cum(&mut self.rng, &self.service_cum);
        let host = self.rng.random_range(0..self.fleet[svc].hosts.len().max(1));
        let table = match self.fleet[svc].sdk {
            Sdk::Node => NODE_FAILURES,
            Sdk::Ruby => RUBY_FAILURES,
        };
        let (class, msg, file, line, function) = table[self.rng.random_range(0..table.len())];
        let f = InjectedFailure {
            status: 500,
            error_class: class.into(),
            message: msg.into(),
            file: file.into(),
            line,
            function: function.into(),
        };
        match self.fleet[svc].sdk {
            Sdk::Node => {
                let recent = self.recent_for(svc);
                let env = recent.as_ref().map_or_else(|| self.pick_env(), |r| r.env);
                let mut e = self.node_error_row(svc, host, &f, None, env);
                if let Some(r) = recent {
                    e.user_id = Some(r.user.to_string());
                    e.request_id = Some(r.request_id);
                    e.trace_id = Some(r.trace_id);
                    e.span_id = Some(r.span_id);
                    e.parent_span_id = r.parent_span_id;
                }
                e
            }
            Sdk::Ruby => {
                let env = self.pick_env();
                let mut e = self.base(svc, EntryKind::Error, "error", format!("{class}: {msg}"));
                e.env = self.ruby_env(env);
                e.event_type = Some("error".into());
                let mut ctx = self.context(svc, host);
                ctx.insert("exception_class".into(), Value::from(class));
                ctx.insert("exception_message".into(), Value::from(msg));
                ctx.insert(
                    "backtrace".into(),
                    json!([
                        format!("{file}:{line}:in `{function}'"),
                        "app/jobs/application_job.rb:9:in `perform'"
                    ]),
                );
                e.body = json!({ "context": ctx });
                e
            }
        }
    }

    fn gen_event(&mut self) -> Entry {
        let svc = pick_cum(&mut self.rng, &self.service_cum);
        let host = self.rng.random_range(0..self.fleet[svc].hosts.len().max(1));
        let env = self.pick_env();
        let mut ctx = self.context(svc, host);
        let ruby = self.fleet[svc].sdk == Sdk::Ruby;
        let (event_type, message) = if ruby && self.rng.random_bool(0.5) {
            let gc: u32 = self.rng.random_range(50..5000);
            for (k, v) in [
                ("gc_count", Value::from(gc)),
                ("gc_major_count", Value::from(gc / 15)),
                ("thread_count", Value::from(self.rng.random_range(4..40u32))),
                (
                    "process_rss_mb",
                    Value::from(round2(self.rng.random_range(150.0..900.0))),
                ),
            ] {
                ctx.insert(k.into(), v);
            }
            ("runtime.metrics", "Runtime metrics snapshot")
        } else {
            let (t, m) = EVENTS[self.rng.random_range(0..EVENTS.len())];
            ctx.insert(
                "order_id".into(),
                Value::from(format!("ord_{}", self.rng.random_range(1..1_000_000u32))),
            );
            ctx.insert(
                "amount".into(),
                Value::from(round2(self.rng.random_range(1.0..500.0))),
            );
            (t, m)
        };
        let mut e = self.base(svc, EntryKind::Event, "info", message.into());
        e.env = if ruby {
            self.ruby_env(env)
        } else {
            Some(Some(env))
        };
        e.event_type = Some(event_type.into());
        e.body = json!({ "context": ctx });
        e
    }
}

impl Iterator for Generator {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        self.apply_deploys(EntryIndex(self.next));
        if let Some((e, p)) = self.pending.pop_front() {
            return Some(self.finish(e, p));
        }
        let e = match self.pick_kind() {
            EntryKind::Request => self.gen_request(),
            EntryKind::Log => self.gen_log(),
            EntryKind::Error => self.gen_error(),
            EntryKind::Event => self.gen_event(),
        };
        let svc = self
            .fleet
            .iter()
            .position(|s| s.name == e.service)
            .unwrap_or(0);
        let p = self.precision(svc);
        Some(self.finish(e, p))
    }
}
